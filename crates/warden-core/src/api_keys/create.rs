//! Minting keys: the low-level [`insert`] (also used to seed keys in tests and
//! by operators) and the CreateApiKey use case.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

use super::{ApiKey, ApiKeys, CreateApiKey, db_time, find_model, scopes_json};
use crate::{
    audit::{self, Event},
    auth::prefixed_secret::PrefixedSecret,
    context::Context,
    entity::api_keys,
    error::{DomainError, DomainResult},
    idempotency::{self, RequestKey},
    scope::ScopeSet,
    secret::{SecretString, digest},
    unique::map_write_error,
    values::ApiKeyId,
};

/// The idempotency operation name for CreateApiKey's `request_id`.
const OPERATION: &str = "CreateApiKey";

/// What to store for a new key (already validated).
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub description: String,
    pub scopes: ScopeSet,
    pub expires_at: Option<DateTime<Utc>>,
    /// `(actor kind, id)`; `None` records the system as creator.
    pub created_by: Option<(&'static str, Uuid)>,
}

/// Stores a new key and returns it with its raw value (shown once). Writes no
/// audit row: [`ApiKeys::create`] does, in the same transaction.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    new: NewApiKey,
    now: DateTime<Utc>,
) -> DomainResult<(ApiKey, PrefixedSecret)> {
    let now = db_time(now);
    let key = PrefixedSecret::generate();
    let (created_by_type, created_by_id) = match new.created_by {
        Some((kind, id)) => (kind.to_owned(), Some(id)),
        None => ("system".to_owned(), None),
    };
    let model = api_keys::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(new.name),
        description: Set(new.description),
        prefix: Set(key.prefix.clone()),
        secret_digest: Set(digest(key.raw.expose().as_bytes())),
        scopes: Set(scopes_json(&new.scopes)),
        created_by_type: Set(created_by_type),
        created_by_id: Set(created_by_id),
        created_at: Set(now),
        updated_at: Set(now),
        expires_at: Set(new.expires_at.map(db_time)),
        revoked_at: Set(None),
        last_used_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(map_write_error)?;
    Ok((ApiKey::from_model(model, now), key))
}

impl CreateApiKey {
    /// What an idempotent retry must repeat exactly.
    fn fingerprint(&self) -> String {
        let expires_at = self.expires_at.map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true));
        let (name, description) = (self.name.as_str(), self.description.as_str());
        serde_json::json!([name, description, scopes_json(&self.scopes), expires_at]).to_string()
    }
}

/// The answer to CreateApiKey.
#[derive(Debug)]
pub struct Created {
    pub api_key: ApiKey,
    /// `None` on an idempotent retry: only the digest was kept, so the raw key
    /// cannot be shown again.
    pub raw_key: Option<SecretString>,
}

impl ApiKeys {
    /// Checks the caller may grant the scopes, then mints the key with its
    /// audit row in one transaction. A retry with the same `request_id`
    /// returns the first key (without its raw value) and creates nothing.
    pub async fn create(&self, ctx: &Context, input: CreateApiKey) -> DomainResult<Created> {
        ctx.ensure_holds(&input.scopes)?;
        let request_key = RequestKey::of(OPERATION, input.request_id, &input.fingerprint());
        if let Some(key) = &request_key
            && let Some(id) = idempotency::find(&self.db, ctx, key).await?
        {
            return self.replay(id.into()).await;
        }

        let now = self.now();
        let new = NewApiKey {
            name: input.name.as_str().to_owned(),
            description: input.description.as_str().to_owned(),
            scopes: input.scopes,
            expires_at: input.expires_at,
            created_by: ctx.actor.id().map(|id| (ctx.actor.kind(), id)),
        };
        let txn = crate::db::begin_write(&self.db).await?;
        let (key, raw) = insert(&txn, new, now).await?;
        if let Some(request_key) = &request_key {
            match idempotency::remember(&txn, ctx, request_key, key.id.uuid(), now).await {
                Ok(()) => {}
                // A concurrent retry with the same id committed first: answer as it did.
                Err(DomainError::AlreadyExists(_)) => {
                    txn.rollback().await?;
                    return match idempotency::find(&self.db, ctx, request_key).await? {
                        Some(id) => self.replay(id.into()).await,
                        None => Err(DomainError::validation("request_id", "is already in use")),
                    };
                }
                Err(err) => return Err(err),
            }
        }
        let event = Event::new("api_key.create")
            .target("api_key", key.id.uuid())
            .meta("name", key.name.clone())
            .meta("prefix", key.prefix.clone())
            .meta("scopes", key.scopes.clone())
            .meta("expires_at", key.expires_at.map(|t| t.to_rfc3339()));
        audit::record(&txn, ctx, event, now).await?;
        txn.commit().await?;
        Ok(Created { api_key: key, raw_key: Some(raw.raw) })
    }

    async fn replay(&self, id: ApiKeyId) -> DomainResult<Created> {
        let model = find_model(&self.db, id).await?;
        Ok(Created { api_key: ApiKey::from_model(model, self.now()), raw_key: None })
    }
}
