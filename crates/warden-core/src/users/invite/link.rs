//! Links that carry a single-use token, and masked destinations.
//!
//! Link format: the request's `base_url` is the page that handles the token;
//! the token is appended as the query parameter `token` (`?token=` or, when
//! the URL already has a query, `&token=`). Without a `base_url` the
//! configured `default_base_url` is the site root and a fixed page is added:
//! `<root>/invite?token=…` or `<root>/reset-password?token=…`. Tokens are
//! base64url, so they need no escaping.

use crate::error::FieldViolation;
pub use crate::notify::templates::{human_duration, with_token};

pub const MAX_BASE_URL_CHARS: usize = 2048;

/// Checks a caller-supplied base URL: absolute `https://` (plain `http://`
/// only for loopback hosts, for development), a host, no credentials, no
/// fragment (a token after `#` never reaches the page's query) and nothing
/// that would need escaping.
pub fn check_base_url(field: &str, value: &str) -> Result<(), FieldViolation> {
    let bad = |why: &str| Err(FieldViolation::new(field, why));
    if value.chars().count() > MAX_BASE_URL_CHARS {
        return bad("must be at most 2048 characters");
    }
    let (scheme, rest) = match value.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => return bad("must be an absolute https URL"),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if !value.bytes().all(|b| b.is_ascii_graphic() && !b"\"<>\\^`{|}".contains(&b)) {
        return bad("must not contain spaces, quotes or characters that need escaping");
    }
    if authority.contains('@') {
        return bad("must not contain credentials");
    }
    let Some(host) = host_of(authority) else {
        return bad("must name a valid host");
    };
    match scheme.as_str() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        _ => return bad("must be an https URL (http only for localhost)"),
    }
    if tail.contains('#') {
        return bad("must not contain a fragment");
    }
    Ok(())
}

/// The host of `host[:port]` or `[v6][:port]`, lower-cased; `None` if malformed.
fn host_of(authority: &str) -> Option<String> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inner, after) = v6.split_once(']')?;
        if inner.is_empty() || !inner.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            return None;
        }
        (format!("[{inner}]"), after.strip_prefix(':'))
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        let labels_ok = host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
        if host.is_empty() || host.len() > 253 || !labels_ok {
            return None;
        }
        (host.to_ascii_lowercase(), port)
    };
    if let Some(port) = port
        && port.parse::<u16>().ok().filter(|p| *p > 0).is_none()
    {
        return None;
    }
    Some(host)
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host == "[::1]" || host.starts_with("127.")
}

/// The page a token link points at: the caller's `base_url` as is, else the
/// configured root plus `default_page`; `None` when neither is set.
pub fn page(base_url: &str, default_root: &str, default_page: &str) -> Option<String> {
    if !base_url.is_empty() {
        return Some(base_url.to_owned());
    }
    let root = default_root.trim().trim_end_matches('/');
    (!root.is_empty()).then(|| format!("{root}/{default_page}"))
}

/// A token's lifetime in seconds: 0 is `default`, anything else must lie
/// within `allowed`.
pub fn lifetime(
    field: &str,
    raw: i64,
    default: i64,
    allowed: std::ops::RangeInclusive<i64>,
) -> Result<i64, FieldViolation> {
    match raw {
        0 => Ok(default),
        n if allowed.contains(&n) => Ok(n),
        _ => Err(FieldViolation::new(
            field,
            format!("must be 0 (the default) or {} to {} seconds", allowed.start(), allowed.end()),
        )),
    }
}

/// Where a token link points, from a request's `base_url` (checked when
/// given) or else the configured root; `None` when neither is set.
pub fn parse_page(
    field: &str,
    base_url: &str,
    default_root: &str,
    default_page: &str,
) -> Result<Option<String>, FieldViolation> {
    if !base_url.is_empty() {
        check_base_url(field, base_url)?;
    }
    Ok(page(base_url, default_root, default_page))
}

/// `jane@example.com` -> `j***@example.com`: enough for the admin to tell
/// where the message went, not enough to harvest the address.
pub fn mask_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

/// `+14155550123` -> `+1******0123`: the first digit (country code hint)
/// and the last four stay, the rest is starred.
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    let keep_tail = if digits.len() > 6 { 4 } else { 0 };
    let masked: String = digits
        .iter()
        .enumerate()
        .map(|(i, d)| if i == 0 || i + keep_tail >= digits.len() { *d } else { '*' })
        .collect();
    format!("+{masked}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_must_be_https_hosts_without_fragment_or_credentials() {
        for good in [
            "https://app.example.com/accept",
            "https://app.example.com:8443/a/b?lang=en",
            "http://localhost:3000/invite",
            "http://127.0.0.1:8080",
            "https://[2001:db8::1]/x",
        ] {
            assert!(check_base_url("base_url", good).is_ok(), "{good}");
        }
        for bad in [
            "app.example.com/accept",
            "ftp://example.com",
            "http://example.com/accept",
            "https:///path",
            "https://user:pw@example.com/",
            "https://example.com/#frag",
            "https://exa mple.com/",
            "https://example.com/a b",
            "https://example.com:99999/",
            "https://-bad-.example.com/",
            "javascript://alert(1)",
        ] {
            assert!(check_base_url("base_url", bad).is_err(), "{bad}");
        }
        assert!(check_base_url("b", &format!("https://e.com/{}", "a".repeat(2048))).is_err());
    }

    #[test]
    fn links_append_the_token_as_a_query_parameter() {
        assert_eq!(with_token("https://a.io/accept", "T"), "https://a.io/accept?token=T");
        assert_eq!(with_token("https://a.io/x?lang=en", "T"), "https://a.io/x?lang=en&token=T");
        assert_eq!(with_token("https://a.io/x?", "T"), "https://a.io/x?token=T");
        assert_eq!(
            page("", "http://localhost:3000/", "invite").as_deref(),
            Some("http://localhost:3000/invite")
        );
        assert_eq!(
            page("https://a.io/go", "http://x", "invite").as_deref(),
            Some("https://a.io/go")
        );
        assert_eq!(page("", " ", "invite"), None);
    }

    #[test]
    fn lifetimes_default_at_zero_and_stay_in_bounds() {
        assert_eq!(lifetime("t", 0, 3600, 300..=86_400), Ok(3600));
        assert_eq!(lifetime("t", 300, 3600, 300..=86_400), Ok(300));
        for bad in [299, 86_401, -1] {
            assert!(lifetime("t", bad, 3600, 300..=86_400).is_err(), "{bad}");
        }
    }

    #[test]
    fn destinations_are_masked() {
        assert_eq!(mask_email("jane.doe@example.com"), "j***@example.com");
        assert_eq!(mask_email("j@example.com"), "j***@example.com");
        assert_eq!(mask_phone("+14155550123"), "+1******0123");
        assert_eq!(mask_phone("+4930123456"), "+4*****3456");
        assert_eq!(mask_phone("+123456"), "+1*****");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(3600), "1 hour");
        assert_eq!(human_duration(7 * 86_400), "7 days");
        assert_eq!(human_duration(300), "5 minutes");
        assert_eq!(human_duration(5400), "90 minutes");
    }
}
