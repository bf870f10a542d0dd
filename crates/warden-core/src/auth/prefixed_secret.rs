//! The format of Warden's long-lived secrets (API keys, and client secrets),
//! `wdn_<prefix>_<secret>`: generating one and finding its prefix again. The
//! prefix is public and looks the record up; only a digest of the whole value
//! is stored. The raw value exists only here, once, at creation.

use data_encoding::{BASE64URL_NOPAD, HEXLOWER};

use crate::secret::{SecretString, random_bytes};

pub const MARKER: &str = "wdn_";

/// A freshly minted secret: the raw value exists only in this struct, once.
#[derive(Debug)]
pub struct PrefixedSecret {
    pub prefix: String,
    pub raw: SecretString,
}

impl PrefixedSecret {
    /// 64 bits of prefix (public, for lookup) and 256 bits of secret.
    pub fn generate() -> Self {
        let prefix = HEXLOWER.encode(&random_bytes::<8>());
        let secret = BASE64URL_NOPAD.encode(&random_bytes::<32>());
        let raw = SecretString::new(format!("{MARKER}{prefix}_{secret}"));
        Self { prefix, raw }
    }
}

/// Whether a bearer credential is shaped like one (as opposed to a JWT).
pub fn looks_like(credential: &str) -> bool {
    credential.starts_with(MARKER)
}

/// Splits `wdn_<prefix>_<secret>` and returns the prefix; the secret may itself
/// contain `_`, the hex prefix never does.
pub fn prefix_of(raw: &str) -> Option<&str> {
    let (prefix, secret) = raw.strip_prefix(MARKER)?.split_once('_')?;
    let well_formed =
        prefix.len() == 16 && prefix.bytes().all(|b| b.is_ascii_hexdigit()) && !secret.is_empty();
    well_formed.then_some(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_back_to_their_prefix() {
        let key = PrefixedSecret::generate();
        assert!(looks_like(key.raw.expose()));
        assert_eq!(prefix_of(key.raw.expose()), Some(key.prefix.as_str()));
        // 4 + 16 + 1 + 43 characters: 64 bits of prefix, 256 bits of secret.
        assert_eq!(key.raw.expose().len(), 64);
    }

    #[test]
    fn malformed_keys_have_no_prefix() {
        for raw in ["", "wdn_", "wdn_abc_def", "wdn_0123456789abcdef_", "xyz_0123456789abcdef_s"] {
            assert_eq!(prefix_of(raw), None, "{raw}");
        }
    }
}
