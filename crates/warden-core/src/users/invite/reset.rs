//! InitiatePasswordReset: an admin starts a user's password reset. The code
//! is the single-use token itself (256 bits, so it cannot be guessed and its
//! digest can be unique); the reset link carries it as `?token=`. Issuing a
//! new code supersedes every older unused one of the user.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait, sea_query::Expr};
use uuid::Uuid;

use super::{RESET_PURPOSE, issue, link};
use crate::{
    audit::{self, Event},
    context::Context,
    entity::{users, verification_tokens},
    error::{DomainError, DomainResult, FieldViolation},
    notify,
    secret::SecretString,
    sessions,
    users::Users,
};

/// Bounds of `code_expires_in`, in seconds (0 = [`DEFAULT_RESET_TTL_SECONDS`]).
pub const RESET_TTL_SECONDS: std::ops::RangeInclusive<i64> = 300..=86_400;
pub const DEFAULT_RESET_TTL_SECONDS: i64 = 3600;
pub const MAX_REASON_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResetDelivery {
    /// Mail the link (or code) through the outbox.
    #[default]
    Email,
    /// Text the code. No SMS transport exists, so this is always refused.
    Sms,
    /// Answer with the code and link, for admin tooling; nothing is sent.
    Return,
}

impl ResetDelivery {
    fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
            Self::Return => "return",
        }
    }
}

/// InitiatePasswordReset's input, as the caller sent it.
#[derive(Debug, Clone, Default)]
pub struct InitiateReset {
    pub user_id: Uuid,
    pub delivery: ResetDelivery,
    /// Empty: the configured default.
    pub base_url: String,
    /// Seconds; 0: [`DEFAULT_RESET_TTL_SECONDS`].
    pub code_expires_in: i64,
    pub revoke_sessions: bool,
    /// For the audit trail.
    pub reason: String,
}

impl InitiateReset {
    /// Every rule the input breaks, named by its proto field.
    pub fn violations(&self) -> Vec<FieldViolation> {
        let mut out = Vec::new();
        if self.code_expires_in != 0 && !RESET_TTL_SECONDS.contains(&self.code_expires_in) {
            out.push(FieldViolation::new(
                "code_expires_in",
                "must be 0 (one hour) or 300 to 86400 seconds",
            ));
        }
        if self.reason.chars().count() > MAX_REASON_CHARS {
            out.push(FieldViolation::new("reason", "must be at most 500 characters"));
        }
        if !self.base_url.is_empty()
            && let Err(violation) = link::check_base_url("base_url", &self.base_url)
        {
            out.push(violation);
        }
        out
    }

    fn ttl(&self) -> i64 {
        if self.code_expires_in == 0 { DEFAULT_RESET_TTL_SECONDS } else { self.code_expires_in }
    }
}

/// The answer to InitiatePasswordReset.
#[derive(Debug)]
pub struct ResetInitiated {
    /// Masked address the code went to; empty for RETURN.
    pub destination: String,
    pub delivery: ResetDelivery,
    pub expires_in: i64,
    pub expires_at: DateTime<Utc>,
    pub sessions_revoked: u64,
    /// Only for RETURN.
    pub code: Option<SecretString>,
    /// Only for RETURN, when a base URL (given or configured) exists.
    pub reset_link: Option<SecretString>,
}

impl Users {
    /// Issues a reset code for the user and delivers it; optionally revokes
    /// every session. Code, message, revocations and audit row commit together.
    pub async fn initiate_password_reset(
        &self,
        ctx: &Context,
        input: InitiateReset,
    ) -> DomainResult<ResetInitiated> {
        let found = input.violations();
        if !found.is_empty() {
            return Err(DomainError::Validation(found));
        }
        let now = self.now();
        let ttl = input.ttl();
        let expires_at = now + Duration::seconds(ttl);
        let txn = self.db.begin().await?;
        let user = users::Entity::find_by_id(input.user_id)
            .one(&txn)
            .await?
            .ok_or(DomainError::NotFound { resource: "user" })?;
        if input.delivery == ResetDelivery::Sms {
            return Err(sms_unavailable(&user));
        }

        // Only the newest code works: older unused ones are retired.
        verification_tokens::Entity::update_many()
            .col_expr(verification_tokens::Column::ConsumedAt, Expr::value(now))
            .filter(verification_tokens::Column::Purpose.eq(RESET_PURPOSE))
            .filter(verification_tokens::Column::PrincipalType.eq(sessions::USER))
            .filter(verification_tokens::Column::PrincipalId.eq(user.id))
            .filter(verification_tokens::Column::ConsumedAt.is_null())
            .exec(&txn)
            .await?;
        let (code, token_id) = issue(&txn, RESET_PURPOSE, user.id, now, expires_at).await?;
        let reset_link =
            link::page(&input.base_url, &self.settings.default_base_url, "reset-password")
                .map(|page| SecretString::new(link::with_token(&page, code.expose())));

        let sessions_revoked = if input.revoke_sessions {
            // Access tokens minted before now die with the sessions.
            users::Entity::update_many()
                .col_expr(users::Column::TokensValidAfter, Expr::value(now))
                .filter(users::Column::Id.eq(user.id))
                .exec(&txn)
                .await?;
            sessions::revoke_all(&txn, sessions::USER, user.id, None, "password_reset", now).await?
        } else {
            0
        };

        let destination = match input.delivery {
            ResetDelivery::Email => {
                let message = reset_email(&user.email, &code, reset_link.as_ref(), ttl);
                notify::enqueue(&txn, message, now).await?;
                link::mask_email(&user.email)
            }
            _ => String::new(),
        };
        let event = Event::new("user.password_reset_initiated")
            .target("user", user.id)
            .meta("delivery", input.delivery.as_str())
            .meta("reason", input.reason.clone())
            .meta("revoke_sessions", input.revoke_sessions)
            .meta("sessions_revoked", sessions_revoked)
            .meta("token_id", token_id.to_string())
            .meta("expires_at", expires_at.to_rfc3339_opts(SecondsFormat::Micros, true));
        audit::record(&txn, ctx, event, now).await?;
        txn.commit().await?;

        let returned = input.delivery == ResetDelivery::Return;
        Ok(ResetInitiated {
            destination,
            delivery: input.delivery,
            expires_in: ttl,
            expires_at,
            sessions_revoked,
            code: returned.then_some(code),
            reset_link: if returned { reset_link } else { None },
        })
    }
}

/// SMS cannot be sent: there is no SMS transport. Refused rather than faked,
/// naming every reason, so the caller can pick EMAIL or RETURN instead.
fn sms_unavailable(user: &users::Model) -> DomainError {
    let mut found = vec![];
    let verified_phone = user.phone.as_deref().filter(|_| user.phone_verified);
    if verified_phone.is_none() {
        found.push(FieldViolation::new("delivery", "the user has no verified phone number"));
    }
    let to = verified_phone.map(|p| format!(" (to {})", link::mask_phone(p))).unwrap_or_default();
    found.push(FieldViolation::new(
        "delivery",
        format!("SMS delivery is not configured on this server{to}; use EMAIL or RETURN"),
    ));
    DomainError::Precondition(found)
}

fn reset_email(
    to: &str,
    code: &SecretString,
    url: Option<&SecretString>,
    ttl_seconds: i64,
) -> notify::Email {
    let within = link::human_duration(ttl_seconds);
    let how = match url {
        Some(url) => {
            format!("Open this link within {within} to choose a new password:\n{}", url.expose())
        }
        None => {
            format!("Enter this code within {within} to choose a new password:\n{}", code.expose())
        }
    };
    let body_text = format!(
        "A password reset was started for your account by an administrator.\n\n{how}\n\n\
         If you did not expect this, contact your administrator."
    );
    notify::Email { to: to.to_owned(), subject: "Reset your password".to_owned(), body_text }
}
