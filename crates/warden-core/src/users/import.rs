//! Bringing users in from elsewhere: one social-provider user
//! (ImportSocialUser), a stream of rows written in batches (ImportUsers), and
//! the linked identities both can create (ListIdentities, UnlinkIdentity).

mod bulk;
mod identities;
mod social;
mod write;

use chrono::{DateTime, Utc};

pub use bulk::{BATCH_SIZE, ImportRow, ImportSummary, Importer, OnConflict, RowFailure};
pub use identities::Unlinked;
pub use social::{SocialImport, SocialImported};

use super::fields;
use crate::error::Violations;

pub const MAX_PROVIDER_CHARS: usize = 64;
pub const MAX_PROVIDER_USER_ID_CHARS: usize = 255;
pub const MAX_IDENTITIES_PER_USER: usize = 20;

/// A linked identity as a caller sends it (empty string = absent).
#[derive(Debug, Clone, Default)]
pub struct IdentityInput {
    pub provider: String,
    pub provider_user_id: String,
    pub provider_email: String,
    /// The provider's raw profile; a JSON object or null.
    pub profile: serde_json::Value,
}

/// An identity that passed every rule; `provider` is lower-cased.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidIdentity {
    pub provider: String,
    pub provider_user_id: String,
    pub provider_email: Option<String>,
    pub profile: serde_json::Value,
}

impl ValidIdentity {
    /// What the unique index `(provider, provider_user_id)` compares.
    pub fn key(&self) -> (String, String) {
        (self.provider.clone(), self.provider_user_id.clone())
    }
}

/// Checks one identity, naming violations `<prefix><field>`.
pub fn identity(
    violations: &mut Violations,
    prefix: &str,
    input: &IdentityInput,
    max_profile_bytes: usize,
) -> Option<ValidIdentity> {
    let field = |name: &str| format!("{prefix}{name}");
    let provider = input.provider.trim().to_lowercase();
    let provider_ok = !provider.is_empty()
        && provider.len() <= MAX_PROVIDER_CHARS
        && provider
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !provider_ok {
        violations
            .push(field("provider"), "must be 1-64 of a-z, 0-9, '.', '_', '-' (e.g. \"google\")");
    }
    let subject = input.provider_user_id.trim();
    if subject.is_empty() {
        violations.push(field("provider_user_id"), "is required");
    } else if subject.chars().count() > MAX_PROVIDER_USER_ID_CHARS
        || subject.chars().any(char::is_control)
    {
        violations.push(
            field("provider_user_id"),
            "must be at most 255 characters without control characters",
        );
    }
    let email = input.provider_email.trim();
    if email.chars().count() > crate::email::MAX_EMAIL_CHARS || email.chars().any(char::is_control)
    {
        violations.push(
            field("provider_email"),
            "must be at most 254 characters without control characters",
        );
    }
    let profile = violations.check(fields::metadata(
        &field("social_metadata"),
        &input.profile,
        max_profile_bytes,
    ));
    if !provider_ok || subject.is_empty() {
        return None;
    }
    Some(ValidIdentity {
        provider,
        provider_user_id: subject.to_owned(),
        provider_email: (!email.is_empty()).then(|| email.to_owned()),
        profile: profile?,
    })
}

/// Checks a user's identities: each one, at most 20, no two alike.
pub fn identities(
    violations: &mut Violations,
    field: &str,
    inputs: &[IdentityInput],
    max_profile_bytes: usize,
) -> Vec<ValidIdentity> {
    if inputs.len() > MAX_IDENTITIES_PER_USER {
        violations.push(field, "at most 20 identities");
        return Vec::new();
    }
    let mut valid: Vec<ValidIdentity> = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let prefix = format!("{field}[{i}].");
        if let Some(identity) = identity(violations, &prefix, input, max_profile_bytes) {
            if valid.iter().any(|v| v.key() == identity.key()) {
                violations
                    .push(format!("{prefix}provider_user_id"), "is listed twice for this provider");
            } else {
                valid.push(identity);
            }
        }
    }
    valid
}

/// Microseconds, as stored (see `Users::now`).
fn to_micros(time: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    time.trunc_subsecs(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(provider: &str, subject: &str) -> IdentityInput {
        IdentityInput {
            provider: provider.into(),
            provider_user_id: subject.into(),
            ..Default::default()
        }
    }

    #[test]
    fn providers_are_lower_cased_and_checked() {
        let mut v = Violations::new();
        let ok = identity(&mut v, "", &input(" Google ", "123"), 1024).unwrap();
        assert_eq!(ok.provider, "google");
        assert!(v.is_empty());
        assert!(identity(&mut v, "", &input("bad provider", "1"), 1024).is_none());
        assert!(identity(&mut v, "", &input("google", " "), 1024).is_none());
        assert!(!v.is_empty());
    }

    #[test]
    fn duplicate_identities_in_one_user_are_refused() {
        let mut v = Violations::new();
        let list =
            identities(&mut v, "identities", &[input("github", "1"), input("GitHub", "1")], 1024);
        assert_eq!(list.len(), 1);
        assert!(v.finish().is_err());
    }
}
