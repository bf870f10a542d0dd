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

pub use reset::{InitiateReset, ResetDelivery, ResetInitiated, reset_page, reset_ttl};

use super::{
    User, UserSettings, Users,
    fields::{self, NewUser},
    view,
};
use crate::{
    audit::{self, Event},
    auth::sessions,
    auth::tokens::refresh,
    context::Context,
    entity::{users, verification_tokens},
    error::{Conflict, DomainError, DomainResult, FieldViolation},
    idempotency::{self, RequestKey},
    notify,
    secret::SecretString,
    values::RequestId,
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

/// InviteUser's input.
#[derive(Debug, Clone)]
pub struct InviteUser {
    /// Email, names, metadata and roles; nothing verified, no password.
    pub user: NewUser,
    pub delivery: InviteDelivery,
    /// The page the link points at, before the token is appended.
    pub page: String,
    /// How long the invitation lives, in seconds.
    pub ttl_seconds: i64,
    pub request_id: Option<RequestId>,
}

/// `expires_in`: 0 is the configured default, else 300 to 2592000 seconds.
pub fn invite_ttl(field: &str, raw: i64, settings: &UserSettings) -> Result<i64, FieldViolation> {
    let default = i64::try_from(settings.invite_ttl_seconds).unwrap_or(i64::MAX);
    link::lifetime(field, raw, default, INVITE_TTL_SECONDS)
}

/// The page an invitation link points at: `base_url`, or the configured
/// default; one of them is required.
pub fn invite_page(
    field: &str,
    base_url: &str,
    settings: &UserSettings,
) -> Result<String, FieldViolation> {
    link::parse_page(field, base_url, &settings.default_base_url, "invite")?
        .ok_or_else(|| FieldViolation::new(field, "is required: no default base URL is configured"))
}

/// The answer to InviteUser.
#[derive(Debug)]
pub struct Invited {
    pub user: User,
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
        let request_key = RequestKey::of(OPERATION, input.request_id, &fingerprint(&input));
        let (valid, page, ttl) = (&input.user, input.page.clone(), input.ttl_seconds);

        if let Some(key) = &request_key
            && let Some(id) = idempotency::find(&self.db, ctx, key).await?
        {
            return replay(&self.db, id, self.now()).await;
        }

        let now = self.now();
        let expires_at = now + Duration::seconds(ttl);
        let txn = crate::db::begin_write(&self.db).await?;
        let user = match fields::insert(&txn, valid, None, now).await {
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
            .meta("roles", valid.roles.as_slice())
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
fn fingerprint(input: &InviteUser) -> String {
    let user = &input.user;
    let name = |name: &Option<fields::PersonName>| name.as_ref().map(|n| n.as_str().to_owned());
    serde_json::json!([
        user.email.normalized(),
        user.roles.as_slice(),
        input.delivery.as_str(),
        input.page,
        input.ttl_seconds,
        name(&user.given_name),
        name(&user.family_name),
        user.metadata.as_json(),
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
#[cfg_attr(not(test), expect(dead_code, reason = "the accept-invite and reset-confirm flows"))]
pub(crate) async fn find_live<C: ConnectionTrait>(
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
