//! An admin's own values and the typed input of the admin use cases. The
//! gRPC adapter (and `warden bootstrap-admin`) build these; a use case never
//! sees a field that broke a rule.

use crate::{
    auth::password::{NewPassword, PasswordPolicy},
    error::FieldViolation,
    scope::AdminRole,
    secret::SecretString,
    values::{Email, Invalid, RequestId, all},
};

pub const MAX_ADMIN_NAME_CHARS: usize = 200;

/// An admin's display name: 1 to 200 characters once trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminName(String);

impl AdminName {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        let name = raw.trim();
        match name.chars().count() {
            0 => Err(FieldViolation::new(field, "is required")),
            n if n > MAX_ADMIN_NAME_CHARS => {
                Err(FieldViolation::new(field, "must be at most 200 characters"))
            }
            _ => Ok(Self(name.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `dashboard_admin` or `dashboard_viewer`.
pub fn parse_role(field: &str, raw: &str) -> Result<AdminRole, FieldViolation> {
    raw.parse()
        .map_err(|()| FieldViolation::new(field, "must be dashboard_admin or dashboard_viewer"))
}

/// The first admin, from Setup or `warden bootstrap-admin`; always a
/// dashboard_admin.
#[derive(Debug, Clone)]
pub struct FirstAdmin {
    pub email: Email,
    pub name: AdminName,
    pub password: NewPassword,
}

impl FirstAdmin {
    /// Every problem with a first admin's details, reported together. The
    /// password may not be built from the email or the name.
    pub fn parse(
        policy: &PasswordPolicy<'_>,
        email: &str,
        password: SecretString,
        name: &str,
    ) -> Result<Self, Invalid> {
        let (email, name, password) = all((
            Email::parse("email", email),
            AdminName::parse("name", name),
            policy.parse("password", password, &[email, name]),
        ))?;
        Ok(Self { email, name, password })
    }
}

/// CreateAdmin's input.
#[derive(Debug, Clone)]
pub struct NewAdmin {
    pub email: Email,
    pub name: AdminName,
    pub role: AdminRole,
    pub password: NewPassword,
    pub request_id: Option<RequestId>,
}

/// UpdateAdmin's input: only the fields named in the update mask are `Some`.
#[derive(Debug, Clone, Default)]
pub struct AdminUpdate {
    pub email: Option<Email>,
    pub name: Option<AdminName>,
    pub role: Option<AdminRole>,
    pub is_active: Option<bool>,
    pub password: Option<NewPassword>,
}

/// ChangePassword's input.
#[derive(Debug, Clone)]
pub struct PasswordChange {
    /// Checked against the stored hash by the use case.
    pub current: SecretString,
    pub new: NewPassword,
}

/// ConfirmPasswordReset's input.
#[derive(Debug, Clone)]
pub struct ResetConfirmation {
    /// The mailed token; never empty.
    pub token: SecretString,
    pub password: NewPassword,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_required_and_bounded() {
        assert_eq!(AdminName::parse("name", "  Root ").unwrap().as_str(), "Root");
        assert!(AdminName::parse("name", "   ").is_err());
        assert!(AdminName::parse("name", &"x".repeat(201)).is_err());
        assert!(parse_role("role", "dashboard_viewer").is_ok());
        assert!(parse_role("role", "owner").is_err());
    }
}
