//! InviteUser and InitiatePasswordReset: both hand a user a single-use,
//! expiring token, by email (the transactional outbox) or back to the caller.
//!
//! Tokens are 256 random bits (base64url), stored only as SHA-256 digests in
//! `verification_tokens` with a purpose ([`INVITE_PURPOSE`],
//! [`RESET_PURPOSE`]), `principal_type = "user"` and an expiry; a later
//! confirm flow finds them with [`find_live`]. Link format: see [`link`].

pub mod link;
mod reset;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

pub use reset::{InitiateReset, ResetDelivery, ResetInitiated};

use super::{
    UserSettings, Users,
    fields::{self, UserFields, ValidUser},
    view::{self, UserView},
};
use crate::{
    audit::{self, Event},
    auth::sessions,
    auth::tokens::refresh,
    context::Context,
    entity::{users, verification_tokens},
    error::{Conflict, DomainError, DomainResult, FieldViolation, Violations},
    idempotency::{self, RequestKey},
    notify,
    secret::SecretString,
};

pub const INVITE_PURPOSE: &str = "user_invite";
pub const RESET_PURPOSE: &str = "user_password_reset";
/// Bounds of InviteUser's `expires_in`, in seconds (0 = the configured default).
pub const INVITE_TTL_SECONDS: std::ops::RangeInclusive<i64> = 300..=2_592_000;
/// The idempotency operation name for InviteUser's `request_id`.
const OPERATION: &str = "InviteUser";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InviteDelivery {
    /// Mail the link through the outbox; the answer carries no link.
    #[default]
    SendEmail,
    /// Answer with the link; nothing is sent.
    ReturnLink,
}

impl InviteDelivery {
    fn as_str(self) -> &'static str {
        match self {
            Self::SendEmail => "send_email",
            Self::ReturnLink => "return_link",
        }
    }
}

/// InviteUser's input, as the caller sent it.
#[derive(Debug, Clone, Default)]
pub struct InviteUser {
    pub email: String,
    pub roles: Vec<String>,
    pub delivery: InviteDelivery,
    /// Empty: the configured default.
    pub base_url: String,
    /// Seconds; 0: the configured default.
    pub expires_in: i64,
    pub given_name: String,
    pub family_name: String,
    pub metadata: serde_json::Value,
    /// Optional UUID; empty when not sent.
    pub request_id: String,
}

/// An invitation that passed every rule.
struct Checked {
    valid: ValidUser,
    /// The page the link points at, before the token is appended.
    page: String,
    ttl: i64,
}

impl InviteUser {
    /// Every rule the input breaks, named by its proto field.
    pub fn violations(&self, settings: &UserSettings) -> Vec<FieldViolation> {
        let mut violations = Violations::new();
        self.check(settings, &mut violations);
        match violations.finish() {
            Err(DomainError::Validation(found) | DomainError::WeakPassword(found)) => found,
            _ => Vec::new(),
        }
    }

    fn check(&self, settings: &UserSettings, violations: &mut Violations) -> Option<Checked> {
        let user_fields = UserFields {
            email: self.email.clone(),
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            metadata: self.metadata.clone(),
            roles: self.roles.clone(),
            ..UserFields::default()
        };
        let valid = fields::validate(violations, "", &user_fields, settings.max_metadata_bytes);
        let ttl = match self.expires_in {
            0 => Some(i64::try_from(settings.invite_ttl_seconds).unwrap_or(i64::MAX)),
            n if INVITE_TTL_SECONDS.contains(&n) => Some(n),
            _ => {
                violations.push("expires_in", "must be 0 (the default) or 300 to 2592000 seconds");
                None
            }
        };
        if !self.base_url.is_empty() {
            violations.check(link::check_base_url("base_url", &self.base_url));
        }
        let page = link::page(&self.base_url, &settings.default_base_url, "invite");
        if page.is_none() {
            violations.push("base_url", "is required: no default base URL is configured");
        }
        if !self.request_id.is_empty() && Uuid::parse_str(&self.request_id).is_err() {
            violations.push("request_id", "must be a UUID");
        }
        Some(Checked { valid: valid?, page: page?, ttl: ttl? })
    }
}

/// The answer to InviteUser.
#[derive(Debug)]
pub struct Invited {
    pub user: UserView,
    /// Only for RETURN_LINK on the first call. A retry with the same
    /// `request_id` gets `None`: only the token's digest was kept, and
    /// minting a second token would leave two live invitations.
    pub invitation_link: Option<SecretString>,
    /// When the invitation token expires.
    pub expires_at: Option<DateTime<Utc>>,
}

impl Users {
    /// Creates a user without a password plus a single-use invite token, and
    /// mails or returns the link; user, token, email and audit row commit
    /// together. A retry with the same `request_id` returns the first user.
    pub async fn invite(&self, ctx: &Context, input: InviteUser) -> DomainResult<Invited> {
        let mut violations = Violations::new();
        let checked = input.check(&self.settings, &mut violations);
        violations.finish()?;
        let Some(Checked { valid, page, ttl }) = checked else {
            // `check` yields `None` only alongside a violation.
            return Err(DomainError::internal(std::io::Error::other("unchecked invite")));
        };
        let fingerprint = fingerprint(&input, &valid.email.normalized);
        let request_key = RequestKey::parse(OPERATION, &input.request_id, &fingerprint)?;

        if let Some(key) = &request_key
            && let Some(id) = idempotency::find(&self.db, ctx, key).await?
        {
            return replay(&self.db, id, self.now()).await;
        }

        let now = self.now();
        let expires_at = now + Duration::seconds(ttl);
        let txn = crate::db::begin_write(&self.db).await?;
        let user = match fields::insert(&txn, &valid, None, now).await {
            Ok(user) => user,
            // A concurrent call with the same request_id took the email first.
            Err(DomainError::AlreadyExists(Conflict::Email)) if request_key.is_some() => {
                txn.rollback().await?;
                return self.replay_key(ctx, request_key.as_ref()).await;
            }
            Err(err) => return Err(err),
        };
        if let Some(key) = &request_key {
            match idempotency::remember(&txn, ctx, key, user.id, now).await {
                Ok(()) => {}
                Err(DomainError::AlreadyExists(_)) => {
                    txn.rollback().await?;
                    return self.replay_key(ctx, Some(key)).await;
                }
                Err(err) => return Err(err),
            }
        }
        let (invitation_link, token_id) = match input.delivery {
            InviteDelivery::ReturnLink => {
                let (token, id) = issue(&txn, INVITE_PURPOSE, user.id, now, expires_at).await?;
                (Some(SecretString::new(link::with_token(&page, token.expose()))), id)
            }
            // Minted when the mail is sent: the outbox never holds the token.
            InviteDelivery::SendEmail => {
                let id = reserve(&txn, INVITE_PURPOSE, user.id, now, expires_at).await?;
                let template = notify::Template::UserInvite { page, ttl_seconds: ttl };
                notify::enqueue_with_token(&txn, &user.email, template, id, now).await?;
                (None, id)
            }
        };
        let event = Event::new("user.invite")
            .target("user", user.id)
            .meta("email", user.email.clone())
            .meta("roles", valid.roles.clone())
            .meta("delivery", input.delivery.as_str())
            .meta("token_id", token_id.to_string())
            .meta("expires_at", expires_at.to_rfc3339_opts(SecondsFormat::Micros, true));
        audit::record(&txn, ctx, event, now).await?;
        let user = view::load_one(&txn, user, now).await?;
        txn.commit().await?;
        Ok(Invited { user, invitation_link, expires_at: Some(expires_at) })
    }

    async fn replay_key(&self, ctx: &Context, key: Option<&RequestKey>) -> DomainResult<Invited> {
        let found = match key {
            Some(key) => idempotency::find(&self.db, ctx, key).await?,
            None => None,
        };
        match found {
            Some(id) => replay(&self.db, id, self.now()).await,
            // The email belongs to someone else: a real conflict.
            None => Err(DomainError::AlreadyExists(Conflict::Email)),
        }
    }
}

/// What a retry must repeat exactly (the email by its normalized key).
fn fingerprint(input: &InviteUser, normalized_email: &str) -> String {
    let mut roles = input.roles.clone();
    roles.sort();
    serde_json::json!([
        normalized_email,
        roles,
        input.delivery.as_str(),
        input.base_url,
        input.expires_in,
        input.given_name,
        input.family_name,
        input.metadata,
    ])
    .to_string()
}

/// The first call's user and invitation expiry; never a new token.
async fn replay(
    db: &DatabaseConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> DomainResult<Invited> {
    let user = users::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound { resource: "user" })?;
    let token = verification_tokens::Entity::find()
        .filter(verification_tokens::Column::Purpose.eq(INVITE_PURPOSE))
        .filter(verification_tokens::Column::PrincipalType.eq(sessions::USER))
        .filter(verification_tokens::Column::PrincipalId.eq(user_id))
        .order_by_asc(verification_tokens::Column::CreatedAt)
        .one(db)
        .await?;
    let user = view::load_one(db, user, now).await?;
    Ok(Invited { user, invitation_link: None, expires_at: token.map(|t| t.expires_at) })
}

/// Stores a new single-use token for a user and returns its raw value (for
/// the link, never stored) and its row id.
pub(crate) async fn issue<C: ConnectionTrait>(
    conn: &C,
    purpose: &str,
    user_id: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> DomainResult<(SecretString, Uuid)> {
    let (raw, digest) = refresh::generate();
    let id = insert_token(conn, purpose, user_id, digest, now, expires_at).await?;
    Ok((raw, id))
}

/// Stores a token row whose raw value does not exist yet: the notifier mints
/// it when it sends the message (see `notify::templates`).
pub(crate) async fn reserve<C: ConnectionTrait>(
    conn: &C,
    purpose: &str,
    user_id: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> DomainResult<Uuid> {
    insert_token(conn, purpose, user_id, refresh::placeholder_digest(), now, expires_at).await
}

async fn insert_token<C: ConnectionTrait>(
    conn: &C,
    purpose: &str,
    user_id: Uuid,
    digest: Vec<u8>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> DomainResult<Uuid> {
    let id = Uuid::now_v7();
    verification_tokens::ActiveModel {
        id: Set(id),
        purpose: Set(purpose.to_owned()),
        principal_type: Set(sessions::USER.to_owned()),
        principal_id: Set(user_id),
        token_digest: Set(digest),
        created_at: Set(now),
        expires_at: Set(expires_at),
        consumed_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(id)
}

/// The unconsumed, unexpired user token of `purpose` matching `presented`
/// (for the confirm flows): INVALID_CREDENTIALS when unknown, TOKEN_REVOKED
/// when already used or superseded, TOKEN_EXPIRED when past its expiry.
pub async fn find_live<C: ConnectionTrait>(
    conn: &C,
    purpose: &str,
    presented: &str,
    now: DateTime<Utc>,
) -> DomainResult<verification_tokens::Model> {
    let token = verification_tokens::Entity::find()
        .filter(verification_tokens::Column::TokenDigest.eq(refresh::lookup_digest(presented)))
        .filter(verification_tokens::Column::Purpose.eq(purpose))
        .filter(verification_tokens::Column::PrincipalType.eq(sessions::USER))
        .one(conn)
        .await?
        .ok_or(DomainError::InvalidCredentials)?;
    if token.consumed_at.is_some() {
        return Err(DomainError::TokenRevoked);
    }
    if token.expires_at <= now {
        return Err(DomainError::TokenExpired);
    }
    Ok(token)
}

#[cfg(test)]
mod tests;
