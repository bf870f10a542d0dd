//! InitiatePasswordReset: an admin starts a user's password reset. The code
//! is the single-use token itself (256 bits, so it cannot be guessed and its
//! digest can be unique); the reset link carries it as `?token=`. Issuing a
//! new code supersedes every older unused one of the user.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

use super::{RESET_PURPOSE, issue, link, reserve};
use crate::{
    audit::{self, Event},
    auth::sessions,
    context::Context,
    entity::{users, verification_tokens},
    error::{DomainError, DomainResult, FieldViolation, Precondition},
    notify,
    secret::SecretString,
    users::{UserSettings, Users},
    values::UserId,
};

/// Bounds of `code_expires_in`, in seconds (0 = [`DEFAULT_RESET_TTL_SECONDS`]).
pub const RESET_TTL_SECONDS: std::ops::RangeInclusive<i64> = 300..=86_400;
pub const DEFAULT_RESET_TTL_SECONDS: i64 = 3600;

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

/// InitiatePasswordReset's input.
#[derive(Debug, Clone)]
pub struct InitiateReset {
    pub user_id: UserId,
    pub delivery: ResetDelivery,
    /// The page a reset link points at; `None` when no base URL was given
    /// and none is configured (the mail then carries the code alone).
    pub page: Option<String>,
    /// How long the code lives, in seconds.
    pub ttl_seconds: i64,
    pub revoke_sessions: bool,
    /// For the audit trail; at most 500 characters.
    pub reason: String,
}

/// `code_expires_in`: 0 is one hour, else 300 to 86400 seconds.
pub fn reset_ttl(field: &str, raw: i64) -> Result<i64, FieldViolation> {
    link::lifetime(field, raw, DEFAULT_RESET_TTL_SECONDS, RESET_TTL_SECONDS)
}

/// The page a reset link points at: `base_url`, or the configured default.
pub fn reset_page(
    field: &str,
    base_url: &str,
    settings: &UserSettings,
) -> Result<Option<String>, FieldViolation> {
    link::parse_page(field, base_url, &settings.default_base_url, "reset-password")
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
        let now = self.now();
        let ttl = input.ttl_seconds;
        let expires_at = now + Duration::seconds(ttl);
        let txn = crate::db::begin_write(&self.db).await?;
        let user = users::Entity::find_by_id(input.user_id.uuid())
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
        let page = input.page.clone();
        let (returned, token_id) = match input.delivery {
            ResetDelivery::Return => {
                let (code, id) = issue(&txn, RESET_PURPOSE, user.id, now, expires_at).await?;
                let link =
                    page.map(|page| SecretString::new(link::with_token(&page, code.expose())));
                (Some((code, link)), id)
            }
            // Minted when the mail is sent: the outbox never holds the code.
            _ => {
                let id = reserve(&txn, RESET_PURPOSE, user.id, now, expires_at).await?;
                let template = notify::Template::UserPasswordReset { page, ttl_seconds: ttl };
                notify::enqueue_with_token(&txn, &user.email, template, id, now).await?;
                (None, id)
            }
        };

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
            ResetDelivery::Email => link::mask_email(&user.email),
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

        let (code, reset_link) = match returned {
            Some((code, link)) => (Some(code), link),
            None => (None, None),
        };
        Ok(ResetInitiated {
            destination,
            delivery: input.delivery,
            expires_in: ttl,
            expires_at,
            sessions_revoked,
            code,
            reset_link,
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
    DomainError::Precondition(Precondition::DeliveryUnavailable, found)
}
