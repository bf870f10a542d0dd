//! Creates that carry a `request_id` (a UUID) are idempotent: the first create
//! remembers which resource it made, in its own transaction; a retry with the
//! same id finds it and returns that resource instead of creating another.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use crate::{
    context::Context,
    entity::idempotency_keys,
    error::{Conflict, DomainError, DomainResult},
    secret::{constant_time_eq, digest},
    values::RequestId,
};

/// A parsed `request_id` plus a digest of the request it came with.
#[derive(Debug, Clone)]
pub struct RequestKey {
    pub operation: &'static str,
    pub request_id: Uuid,
    pub request_digest: Vec<u8>,
}

impl RequestKey {
    /// `None` when the caller sent no request_id. `request` is a stable
    /// rendering of the request's fields (e.g. their Debug text, secrets removed).
    pub fn of(
        operation: &'static str,
        request_id: Option<RequestId>,
        request: &str,
    ) -> Option<Self> {
        Some(Self {
            operation,
            request_id: request_id?.uuid(),
            request_digest: digest(request.as_bytes()),
        })
    }
}

/// The resource an earlier call with the same key created, if any. The same id
/// with a different request, or from another actor, is ALREADY_EXISTS: the id
/// is taken, and nothing is created or replayed.
pub async fn find<C: ConnectionTrait>(
    conn: &C,
    ctx: &Context,
    key: &RequestKey,
) -> DomainResult<Option<Uuid>> {
    let Some(row) = idempotency_keys::Entity::find_by_id((
        key.operation.to_owned(),
        key.request_id.to_string(),
    ))
    .one(conn)
    .await?
    else {
        return Ok(None);
    };
    let same_actor = row.actor_type == ctx.actor.kind()
        && row.actor_id == ctx.actor.id().map(|id| id.to_string());
    if !same_actor || !constant_time_eq(&row.request_digest, &key.request_digest) {
        return Err(DomainError::AlreadyExists(Conflict::RequestId));
    }
    Ok(Some(row.resource_id))
}

/// Remembers that this key created `resource_id`. Call inside the create's
/// transaction: a concurrent duplicate then fails on the primary key.
pub async fn remember<C: ConnectionTrait>(
    conn: &C,
    ctx: &Context,
    key: &RequestKey,
    resource_id: Uuid,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    idempotency_keys::ActiveModel {
        operation: Set(key.operation.to_owned()),
        request_id: Set(key.request_id.to_string()),
        actor_type: Set(ctx.actor.kind().to_owned()),
        actor_id: Set(ctx.actor.id().map(|id| id.to_string())),
        request_digest: Set(key.request_digest.clone()),
        resource_id: Set(resource_id),
        created_at: Set(now),
    }
    .insert(conn)
    .await
    .map_err(crate::unique::map_write_error)?;
    Ok(())
}
