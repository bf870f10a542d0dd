//! Messages that carry a single-use link. The outbox keeps only the template,
//! its non-secret parameters and the id of the verification token; the raw
//! token is minted when the message is sent (its digest replacing the row's
//! unknowable placeholder) and exists nowhere but in the message itself. So a
//! copy of the database never holds a usable link.

use serde::{Deserialize, Serialize};

use super::Email;
use crate::secret::SecretString;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "template", rename_all = "snake_case")]
pub enum Template {
    /// `link_template` holds `{token}` where the token goes.
    AdminPasswordReset { link_template: String, ttl_seconds: i64 },
    /// `page` handles the token (`?token=` is appended).
    UserInvite { page: String, ttl_seconds: i64 },
    /// Without a page the token itself is the code the user types.
    UserPasswordReset { page: Option<String>, ttl_seconds: i64 },
}

impl Template {
    /// The stable name stored in `outbox_messages.template`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::AdminPasswordReset { .. } => "admin_password_reset",
            Self::UserInvite { .. } => "user_invite",
            Self::UserPasswordReset { .. } => "user_password_reset",
        }
    }

    pub fn subject(&self) -> &'static str {
        match self {
            Self::AdminPasswordReset { .. } => "Reset your Warden password",
            Self::UserInvite { .. } => "You have been invited",
            Self::UserPasswordReset { .. } => "Reset your password",
        }
    }

    /// The message for `to`, with `token` in its link.
    pub fn render(&self, to: &str, token: &SecretString) -> Email {
        let body_text = match self {
            Self::AdminPasswordReset { link_template, ttl_seconds } => format!(
                "A password reset was requested for your Warden admin account.\n\n\
                 Open this link within {} to choose a new password:\n{}\n\n\
                 If you did not ask for this, ignore this message.",
                human_duration(*ttl_seconds),
                link_template.replace("{token}", token.expose()),
            ),
            Self::UserInvite { page, ttl_seconds } => format!(
                "You have been invited to create an account for {to}.\n\n\
                 Open this link within {} to choose your password:\n{}\n\n\
                 If you did not expect this invitation, ignore this message.",
                human_duration(*ttl_seconds),
                with_token(page, token.expose()),
            ),
            Self::UserPasswordReset { page, ttl_seconds } => {
                let within = human_duration(*ttl_seconds);
                let how = match page {
                    Some(page) => format!(
                        "Open this link within {within} to choose a new password:\n{}",
                        with_token(page, token.expose())
                    ),
                    None => format!(
                        "Enter this code within {within} to choose a new password:\n{}",
                        token.expose()
                    ),
                };
                format!(
                    "A password reset was started for your account by an administrator.\n\n{how}\n\n\
                     If you did not expect this, contact your administrator."
                )
            }
        };
        Email { to: to.to_owned(), subject: self.subject().to_owned(), body_text }
    }
}

/// `page` with the token appended as the `token` query parameter.
pub fn with_token(page: &str, token: &str) -> String {
    let separator = match page.split_once('?') {
        None => "?",
        Some((_, "")) => "",
        Some((_, query)) if query.ends_with('&') => "",
        Some(_) => "&",
    };
    format!("{page}{separator}token={token}")
}

/// `3600` -> `1 hour`, for message bodies.
pub fn human_duration(seconds: i64) -> String {
    let (n, unit) = if seconds >= 86_400 && seconds % 86_400 == 0 {
        (seconds / 86_400, "day")
    } else if seconds >= 3600 && seconds % 3600 == 0 {
        (seconds / 3600, "hour")
    } else {
        ((seconds + 59) / 60, "minute")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_round_trip_and_hold_no_token() {
        let template =
            Template::UserInvite { page: "https://a.io/invite".into(), ttl_seconds: 3600 };
        let stored = serde_json::to_value(&template).unwrap();
        assert_eq!(stored["template"], "user_invite");
        assert_eq!(serde_json::from_value::<Template>(stored).unwrap(), template);
        let email = template.render("x@a.io", &SecretString::new("TOKEN".into()));
        assert!(email.body_text.contains("https://a.io/invite?token=TOKEN"));
        assert!(email.body_text.contains("within 1 hour"));
    }
}
