//! API keys for internal services: `wdn_<prefix>_<secret>`. Only the prefix
//! (for lookup) and a SHA-256 digest of the whole key are stored; the raw key
//! is shown once, when it is created.
//!
//! Use cases on [`ApiKeys`]: create, get, list, update, revoke; the
//! authorization layer checks keys through `auth::credentials`. They take the
//! typed input of [`fields`]; every mutation writes its one audit event in
//! the same transaction; no view ever carries the digest.

mod create;
pub mod fields;
mod list;
mod manage;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};

pub use create::{Created, NewApiKey, insert};
pub use fields::{CreateApiKey, KeyDescription, KeyName, UpdateApiKey};
pub use list::{ApiKeyQuery, ListedApiKeys};

use crate::{
    auth::{Auth, prefixed_secret::MARKER},
    context::Actor,
    entity::api_keys,
    error::{DomainError, DomainResult},
    scope::ScopeSet,
    values::ApiKeyId,
};

/// ApiKeysService's use cases.
#[derive(Clone, Debug)]
pub struct ApiKeys {
    db: DatabaseConnection,
    auth: Auth,
}

impl ApiKeys {
    pub fn new(auth: Auth) -> Self {
        Self { db: auth.db().clone(), auth }
    }

    /// Now, by the server's clock (an `expires_at` must be after it).
    pub fn now(&self) -> DateTime<Utc> {
        self.auth.now()
    }
}

/// An API key as callers see it: never the secret, never its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub description: String,
    /// The public part of the raw key, `wdn_<hex>`.
    pub prefix: String,
    /// As stored; a name later dropped from the catalogue still shows here.
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_by: Actor,
    /// Neither revoked nor expired at the time the view was made.
    pub is_active: bool,
}

impl ApiKey {
    pub(crate) fn from_model(model: api_keys::Model, now: DateTime<Utc>) -> Self {
        let created_by = match (model.created_by_type.as_str(), model.created_by_id) {
            ("admin", Some(id)) => Actor::Admin(id),
            ("api_key", Some(id)) => Actor::ApiKey(id),
            ("user", Some(id)) => Actor::User(id),
            _ => Actor::System,
        };
        let is_active = is_active(model.revoked_at, model.expires_at, now);
        Self {
            id: model.id.into(),
            name: model.name,
            description: model.description,
            prefix: format!("{MARKER}{}", model.prefix),
            scopes: scope_names(&model.scopes),
            created_at: model.created_at,
            updated_at: model.updated_at,
            expires_at: model.expires_at,
            revoked_at: model.revoked_at,
            last_used_at: model.last_used_at,
            created_by,
            is_active,
        }
    }
}

fn is_active(
    revoked_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    revoked_at.is_none() && expires_at.is_none_or(|expires_at| expires_at > now)
}

/// The stored JSON array of scope names (always written by this module).
fn scope_names(json: &serde_json::Value) -> Vec<String> {
    json.as_array()
        .map(|names| names.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

fn scopes_json(scopes: &ScopeSet) -> serde_json::Value {
    serde_json::Value::from(scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>())
}

/// PostgreSQL keeps microseconds; truncating first makes what is written equal
/// to what is read back on both backends (keyset cursors compare them).
fn db_time(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

async fn find_model<C: ConnectionTrait>(conn: &C, id: ApiKeyId) -> DomainResult<api_keys::Model> {
    api_keys::Entity::find_by_id(id.uuid())
        .one(conn)
        .await?
        .ok_or(DomainError::NotFound { resource: "api_key" })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod unit_tests {
    use chrono::Duration;
    use uuid::Uuid;

    use super::*;
    use crate::{
        context::{CallInfo, Context},
        principal::{Principal, PrincipalKind},
        scope::Scope,
    };

    #[test]
    fn active_means_neither_revoked_nor_expired() {
        let now = Utc::now();
        assert!(is_active(None, None, now));
        assert!(is_active(None, Some(now + Duration::seconds(1)), now));
        assert!(!is_active(None, Some(now), now));
        assert!(!is_active(Some(now), None, now));
    }

    #[test]
    fn a_caller_grants_only_scopes_it_holds() {
        let held: ScopeSet = [Scope::UsersRead, Scope::ApiKeysWrite].into_iter().collect();
        let principal =
            Principal { kind: PrincipalKind::ApiKey { key_id: Uuid::now_v7() }, scopes: held };
        let ctx = Context::of(principal, CallInfo::default());
        let within: ScopeSet = [Scope::UsersRead].into_iter().collect();
        assert!(ctx.ensure_holds(&within).is_ok());
        let beyond: ScopeSet = [Scope::UsersRead, Scope::UsersDelete].into_iter().collect();
        let err = ctx.ensure_holds(&beyond).unwrap_err();
        assert!(matches!(err, DomainError::ScopeMissing { scope } if scope == "users:delete"));
        assert!(Context::system().ensure_holds(&ScopeSet::all()).is_ok());
        let anonymous = Context::anonymous(CallInfo::default());
        assert!(matches!(anonymous.ensure_holds(&within), Err(DomainError::Unauthenticated)));
    }
}
