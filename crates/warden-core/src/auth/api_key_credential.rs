//! An API key presented as a credential -> its principal.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

use super::prefixed_secret::prefix_of;
use crate::{
    entity::api_keys,
    error::{DomainError, DomainResult},
    principal::{Principal, PrincipalKind},
    secret::{constant_time_eq, digest},
};

/// `last_used_at` is refreshed at most this often per key, so a busy key costs
/// one write a minute rather than one per request.
pub const LAST_USED_INTERVAL: Duration = Duration::seconds(60);

/// Resolves a presented key to its principal. A malformed, unknown or wrong
/// key is the same INVALID_CREDENTIALS so a caller cannot probe which prefixes
/// exist; revoked and expired keys say so (their holder had a valid key).
pub async fn authenticate<C: ConnectionTrait>(
    db: &C,
    presented: &str,
    now: DateTime<Utc>,
) -> DomainResult<Principal> {
    let Some(prefix) = prefix_of(presented) else {
        return Err(DomainError::InvalidCredentials);
    };
    let found =
        api_keys::Entity::find().filter(api_keys::Column::Prefix.eq(prefix)).one(db).await?;
    let presented_digest = digest(presented.as_bytes());
    let Some(key) = found else {
        // Compare against a dummy so a miss costs the same as a mismatch.
        let _ = constant_time_eq(&presented_digest, &[0u8; 32]);
        return Err(DomainError::InvalidCredentials);
    };
    if !constant_time_eq(&presented_digest, &key.secret_digest) {
        return Err(DomainError::InvalidCredentials);
    }
    if key.revoked_at.is_some() {
        return Err(DomainError::TokenRevoked);
    }
    if key.expires_at.is_some_and(|expires_at| expires_at <= now) {
        return Err(DomainError::TokenExpired);
    }
    let names: Vec<String> = serde_json::from_value(key.scopes).map_err(DomainError::internal)?;
    // A scope removed from the catalogue simply stops granting anything.
    let scopes = names.iter().filter_map(|name| name.parse().ok()).collect();
    if is_stale(key.last_used_at, now) {
        touch(db, key.id, now).await;
    }
    Ok(Principal { kind: PrincipalKind::ApiKey { key_id: key.id }, scopes })
}

/// Microseconds, as PostgreSQL keeps them, so a compare-and-set matches.
fn db_time(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
}

fn is_stale(last_used_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_used_at.is_none_or(|last| last < now - LAST_USED_INTERVAL)
}

/// Records use. Conditional on the stored value, so replicas racing on the
/// same key write once; best effort, because bookkeeping must never fail a call.
async fn touch<C: ConnectionTrait>(db: &C, id: Uuid, now: DateTime<Utc>) {
    let now = db_time(now);
    let stale = Condition::any()
        .add(api_keys::Column::LastUsedAt.is_null())
        .add(api_keys::Column::LastUsedAt.lt(now - LAST_USED_INTERVAL));
    let result = api_keys::Entity::update_many()
        .col_expr(api_keys::Column::LastUsedAt, Expr::value(now))
        .filter(api_keys::Column::Id.eq(id))
        .filter(stale)
        .exec(db)
        .await;
    if let Err(err) = result {
        tracing::warn!(api_key_id = %id, error = %err, "could not record API key use");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn use_is_recorded_at_most_once_a_minute() {
        let now = Utc::now();
        assert!(is_stale(None, now));
        assert!(!is_stale(Some(now), now));
        assert!(!is_stale(Some(now - Duration::seconds(59)), now));
        assert!(!is_stale(Some(now - LAST_USED_INTERVAL), now));
        assert!(is_stale(Some(now - Duration::seconds(61)), now));
    }
}
