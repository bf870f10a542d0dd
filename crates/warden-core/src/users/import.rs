//! Bringing users in from elsewhere: one social-provider user
//! (ImportSocialUser), a stream of rows written in batches (ImportUsers), and
//! the linked identities both can create (ListIdentities, UnlinkIdentity).

mod bulk;
mod identities;
mod social;
mod write;

use std::collections::HashSet;

use chrono::{DateTime, Utc};

pub use bulk::{
    BATCH_SIZE, ImportRow, ImportSummary, ImportedPassword, Importer, InvalidRow, OnConflict,
    RowFailure,
};
pub use identities::Unlinked;
pub use social::{SocialImport, SocialImported};

use super::fields::Metadata;
use crate::{
    error::FieldViolation,
    values::{Invalid, all, each},
};

pub const MAX_PROVIDER_CHARS: usize = 64;
pub const MAX_PROVIDER_USER_ID_CHARS: usize = 255;
pub const MAX_IDENTITIES_PER_USER: usize = 20;

/// A linked identity as a caller sends it (empty string = absent), for
/// [`NewIdentity::parse`].
#[derive(Debug, Clone, Default)]
pub struct IdentityInput {
    pub provider: String,
    pub provider_user_id: String,
    pub provider_email: String,
    /// The provider's raw profile; a JSON object or null.
    pub profile: serde_json::Value,
}

/// An identity to link, every field valid; `provider` is lower-cased.
#[derive(Debug, Clone, PartialEq)]
pub struct NewIdentity {
    pub provider: String,
    pub provider_user_id: String,
    pub provider_email: Option<String>,
    pub profile: serde_json::Value,
}

impl NewIdentity {
    /// Checks one identity, naming violations `<prefix><field>`.
    pub fn parse(
        prefix: &str,
        input: &IdentityInput,
        max_profile_bytes: usize,
    ) -> Result<Self, Invalid> {
        let field = |name: &str| format!("{prefix}{name}");
        let provider = input.provider.trim().to_lowercase();
        let provider_ok = !provider.is_empty()
            && provider.len() <= MAX_PROVIDER_CHARS
            && provider
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        let provider = match provider_ok {
            true => Ok(provider),
            false => Err(FieldViolation::new(
                field("provider"),
                "must be 1-64 of a-z, 0-9, '.', '_', '-' (e.g. \"google\")",
            )),
        };
        let subject = input.provider_user_id.trim();
        let subject = if subject.is_empty() {
            Err(FieldViolation::new(field("provider_user_id"), "is required"))
        } else if subject.chars().count() > MAX_PROVIDER_USER_ID_CHARS
            || subject.chars().any(char::is_control)
        {
            Err(FieldViolation::new(
                field("provider_user_id"),
                "must be at most 255 characters without control characters",
            ))
        } else {
            Ok(subject.to_owned())
        };
        let email = input.provider_email.trim();
        let email = if email.chars().count() > crate::values::MAX_EMAIL_CHARS
            || email.chars().any(char::is_control)
        {
            Err(FieldViolation::new(
                field("provider_email"),
                "must be at most 254 characters without control characters",
            ))
        } else {
            Ok((!email.is_empty()).then(|| email.to_owned()))
        };
        let profile = Metadata::parse(&field("social_metadata"), &input.profile, max_profile_bytes);
        let (provider, provider_user_id, provider_email, profile) =
            all((provider, subject, email, profile))?;
        Ok(Self { provider, provider_user_id, provider_email, profile: profile.as_json().clone() })
    }

    /// What the unique index `(provider, provider_user_id)` compares.
    pub fn key(&self) -> (String, String) {
        (self.provider.clone(), self.provider_user_id.clone())
    }
}

/// A user's identities: each one valid, at most 20, no two alike.
pub fn identities(
    field: &str,
    inputs: &[IdentityInput],
    max_profile_bytes: usize,
) -> Result<Vec<NewIdentity>, Invalid> {
    if inputs.len() > MAX_IDENTITIES_PER_USER {
        return Err(FieldViolation::new(field, "at most 20 identities").into());
    }
    let mut seen = HashSet::new();
    each(inputs.iter().enumerate().map(|(i, input)| {
        let prefix = format!("{field}[{i}].");
        let identity = NewIdentity::parse(&prefix, input, max_profile_bytes)?;
        if !seen.insert(identity.key()) {
            let twice = FieldViolation::new(
                format!("{prefix}provider_user_id"),
                "is listed twice for this provider",
            );
            return Err(Invalid::from(twice));
        }
        Ok(identity)
    }))
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
        let ok = NewIdentity::parse("", &input(" Google ", "123"), 1024).unwrap();
        assert_eq!(ok.provider, "google");
        assert!(NewIdentity::parse("", &input("bad provider", "1"), 1024).is_err());
        assert!(NewIdentity::parse("", &input("google", " "), 1024).is_err());
    }

    #[test]
    fn duplicate_identities_in_one_user_are_refused() {
        let list = [input("github", "1"), input("GitHub", "1")];
        let invalid = identities("identities", &list, 1024).unwrap_err();
        assert_eq!(invalid.violations()[0].field, "identities[1].provider_user_id");
    }
}
