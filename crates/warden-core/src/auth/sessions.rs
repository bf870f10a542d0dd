//! Sessions and their refresh-token families, for any principal kind. A
//! session is one sign-in; its refresh tokens rotate on every use, and a
//! rotated token presented again revokes the session (the whole family).
//! A session dies at its absolute expiry, or once unused (not refreshed) for
//! the idle timeout.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    audit::{self, Event, Outcome},
    auth::tokens::refresh,
    context::{Actor, CallInfo, Context},
    entity::{refresh_tokens, sessions},
    error::{DomainError, DomainResult},
    metrics::{Account, DomainCounters},
    secret::SecretString,
};

pub const ADMIN: &str = "admin";
pub const USER: &str = "user";

/// Opens a session for `principal_id` lasting `ttl`.
pub async fn open<C: ConnectionTrait>(
    conn: &C,
    principal_type: &str,
    principal_id: Uuid,
    call: &CallInfo,
    now: DateTime<Utc>,
    ttl: Duration,
) -> DomainResult<sessions::Model> {
    Ok(sessions::ActiveModel {
        id: Set(Uuid::now_v7()),
        principal_type: Set(principal_type.to_owned()),
        principal_id: Set(principal_id),
        user_agent: Set(call.user_agent.clone()),
        ip: Set(call.peer_ip.clone()),
        mfa_verified: Set(false),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + ttl),
        revoked_at: Set(None),
        revoked_reason: Set(None),
    }
    .insert(conn)
    .await?)
}

/// Mints the next refresh token of the session's family.
pub async fn mint_refresh<C: ConnectionTrait>(
    conn: &C,
    session: &sessions::Model,
    now: DateTime<Utc>,
) -> DomainResult<SecretString> {
    let (raw, stored) = refresh::generate();
    refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session.id),
        family_id: Set(session.id),
        token_digest: Set(stored),
        created_at: Set(now),
        expires_at: Set(session.expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(raw)
}

/// What presenting a refresh token found.
#[derive(Debug)]
pub enum Rotation {
    /// The token was current; it is now used. Mint the next one.
    Rotated(sessions::Model),
    /// The token had already been used: the family is now revoked.
    Reused(sessions::Model),
}

/// Consumes a presented refresh token atomically: of any number of concurrent
/// uses of the same token exactly one rotates; the others wait on the session
/// row's lock (PostgreSQL `FOR UPDATE`; SQLite's `BEGIN IMMEDIATE` write lock),
/// then see the token spent and are treated as reuse. Locking the session
/// first, before any refresh-token row, is what keeps PostgreSQL free of
/// deadlocks between the winner's insert and a loser's revocation.
pub async fn rotate<C: ConnectionTrait>(
    conn: &C,
    presented: &str,
    now: DateTime<Utc>,
    idle: Duration,
) -> DomainResult<Rotation> {
    let digest = refresh::lookup_digest(presented);
    let session_id = refresh_tokens::Entity::find()
        .select_only()
        .column(refresh_tokens::Column::SessionId)
        .filter(refresh_tokens::Column::TokenDigest.eq(digest.clone()))
        .into_tuple::<Uuid>()
        .one(conn)
        .await?
        .ok_or(DomainError::InvalidCredentials)?;
    let session = sessions::Entity::find_by_id(session_id)
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or(DomainError::InvalidCredentials)?;
    // Read after the lock, so a concurrent winner's commit is visible.
    let token = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenDigest.eq(digest))
        .one(conn)
        .await?
        .ok_or(DomainError::InvalidCredentials)?;
    if session.revoked_at.is_some() || token.revoked_at.is_some() {
        return Err(DomainError::TokenRevoked);
    }
    if token.expires_at <= now || session.expires_at <= now || session.last_seen_at + idle <= now {
        return Err(DomainError::TokenExpired);
    }
    if token.used_at.is_some() {
        revoke(conn, session.id, "refresh_token_reuse", now).await?;
        return Ok(Rotation::Reused(session));
    }
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::UsedAt, Expr::value(now))
        .filter(refresh_tokens::Column::Id.eq(token.id))
        .exec(conn)
        .await?;
    sessions::Entity::update_many()
        .col_expr(sessions::Column::LastSeenAt, Expr::value(now))
        .filter(sessions::Column::Id.eq(session.id))
        .exec(conn)
        .await?;
    Ok(Rotation::Rotated(session))
}

/// Starts a refresh: opens the transaction and rotates `presented`, which
/// must belong to a session of `principal_type`. A reused token revokes its
/// family; that and its audit row are committed before the refusal, so the
/// revocation outlives the failed call. The caller mints the next token in
/// the returned transaction and commits.
pub async fn begin_refresh(
    db: &DatabaseConnection,
    ctx: &Context,
    presented: &str,
    principal_type: &str,
    now: DateTime<Utc>,
    idle: Duration,
    counters: &DomainCounters,
) -> DomainResult<(DatabaseTransaction, sessions::Model)> {
    if presented.is_empty() {
        return Err(DomainError::validation("refresh_token", "is required"));
    }
    let txn = crate::db::begin_write(db).await?;
    match rotate(&txn, presented, now, idle).await? {
        Rotation::Rotated(session) if session.principal_type == principal_type => {
            Ok((txn, session))
        }
        Rotation::Rotated(_) => Err(DomainError::InvalidCredentials),
        Rotation::Reused(session) => {
            counters.refresh_reuse(Account::of_session(&session.principal_type));
            let (actor, action) = match session.principal_type.as_str() {
                ADMIN => (Actor::Admin(session.principal_id), "admin.refresh_token_reuse"),
                _ => (Actor::User(session.principal_id), "user.refresh_token_reuse"),
            };
            let ctx = Context { actor, ..ctx.clone() };
            let event = Event::new(action)
                .target("session", session.id)
                .outcome(Outcome::Failure, "TOKEN_REVOKED");
            audit::record(&txn, &ctx, event, now).await?;
            txn.commit().await?;
            Err(DomainError::TokenRevoked)
        }
    }
}

/// Revokes one session and its refresh tokens. True when it was live.
pub async fn revoke<C: ConnectionTrait>(
    conn: &C,
    session_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> DomainResult<bool> {
    let revoked = sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(now))
        .col_expr(sessions::Column::RevokedReason, Expr::value(reason))
        .filter(sessions::Column::Id.eq(session_id))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::SessionId.eq(session_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(revoked.rows_affected == 1)
}

/// Revokes every live session of a principal except `keep`; returns how many.
pub async fn revoke_all<C: ConnectionTrait>(
    conn: &C,
    principal_type: &str,
    principal_id: Uuid,
    keep: Option<Uuid>,
    reason: &str,
    now: DateTime<Utc>,
) -> DomainResult<u64> {
    let mut live = sessions::Entity::find()
        .filter(sessions::Column::PrincipalType.eq(principal_type))
        .filter(sessions::Column::PrincipalId.eq(principal_id))
        .filter(sessions::Column::RevokedAt.is_null())
        .filter(sessions::Column::ExpiresAt.gt(now));
    if let Some(keep) = keep {
        live = live.filter(sessions::Column::Id.ne(keep));
    }
    let mut count = 0;
    for session in live.all(conn).await? {
        if revoke(conn, session.id, reason, now).await? {
            count += 1;
        }
    }
    Ok(count)
}

/// Live sessions of a principal (what `revoke_all` would revoke).
pub async fn count_live<C: ConnectionTrait>(
    conn: &C,
    principal_type: &str,
    principal_id: Uuid,
    now: DateTime<Utc>,
) -> DomainResult<u64> {
    Ok(sessions::Entity::find()
        .filter(sessions::Column::PrincipalType.eq(principal_type))
        .filter(sessions::Column::PrincipalId.eq(principal_id))
        .filter(sessions::Column::RevokedAt.is_null())
        .filter(sessions::Column::ExpiresAt.gt(now))
        .count(conn)
        .await?)
}

/// A session usable for authentication right now, or why not.
pub async fn live<C: ConnectionTrait>(
    conn: &C,
    session_id: Uuid,
    principal_type: &str,
    principal_id: Uuid,
    now: DateTime<Utc>,
) -> DomainResult<sessions::Model> {
    let session = sessions::Entity::find_by_id(session_id)
        .one(conn)
        .await?
        .filter(|s| s.principal_type == principal_type && s.principal_id == principal_id)
        .ok_or(DomainError::InvalidCredentials)?;
    if session.revoked_at.is_some() {
        return Err(DomainError::TokenRevoked);
    }
    if session.expires_at <= now {
        return Err(DomainError::TokenExpired);
    }
    Ok(session)
}
