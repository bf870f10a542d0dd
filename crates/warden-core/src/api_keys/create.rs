//! Minting keys: the low-level [`insert`] (also used to seed keys in tests and
//! by operators) and the [`create`] use case behind CreateApiKey.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, Set};
use uuid::Uuid;

use super::{ApiKey, db_time, find_model, scopes_json, validate};
use crate::{
    audit::{self, Event},
    auth::prefixed_secret::PrefixedSecret,
    context::Context,
    entity::api_keys,
    error::{DomainError, DomainResult, FieldViolation},
    idempotency::{self, RequestKey},
    scope::ScopeSet,
    secret::{SecretString, digest},
    unique::map_write_error,
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
/// audit row: [`create`] does, in the same transaction.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    new: NewApiKey,
    now: DateTime<Utc>,
) -> DomainResult<(api_keys::Model, PrefixedSecret)> {
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
    Ok((model, key))
}

/// CreateApiKey's input, as the caller sent it.
#[derive(Debug, Clone, Default)]
pub struct CreateApiKey {
    pub name: String,
    pub description: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Optional UUID for idempotent retries; empty when not sent.
    pub request_id: String,
}

impl CreateApiKey {
    /// Every rule the input breaks, named by its proto field.
    pub fn violations(&self, now: DateTime<Utc>) -> Vec<FieldViolation> {
        let mut out = Vec::new();
        validate::check_name("name", &self.name, &mut out);
        validate::check_description("description", &self.description, &mut out);
        validate::parse_scopes("scopes", &self.scopes, &mut out);
        if self.expires_at.is_some_and(|expires_at| expires_at <= now) {
            out.push(FieldViolation::new("expires_at", "must be in the future"));
        }
        if !self.request_id.is_empty() && Uuid::parse_str(&self.request_id).is_err() {
            out.push(FieldViolation::new("request_id", "must be a UUID"));
        }
        out
    }

    /// What an idempotent retry must repeat exactly.
    fn fingerprint(&self, scopes: &ScopeSet) -> String {
        let expires_at = self.expires_at.map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true));
        serde_json::json!([self.name, self.description, scopes_json(scopes), expires_at])
            .to_string()
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

/// Validates, checks the caller may grant the scopes, and mints the key with
/// its audit row in one transaction. A retry with the same `request_id`
/// returns the first key (without its raw value) and creates nothing.
pub async fn create(
    db: &DatabaseConnection,
    ctx: &Context,
    input: CreateApiKey,
    now: DateTime<Utc>,
) -> DomainResult<Created> {
    let violations = input.violations(now);
    if !violations.is_empty() {
        return Err(DomainError::Validation(violations));
    }
    let scopes = ScopeSet::parse(input.scopes.iter().map(String::as_str))
        .map_err(|_| DomainError::validation("scopes", "names an unknown scope"))?;
    ctx.ensure_holds(&scopes)?;

    let request_key = RequestKey::parse(OPERATION, &input.request_id, &input.fingerprint(&scopes))?;
    if let Some(key) = &request_key
        && let Some(id) = idempotency::find(db, ctx, key).await?
    {
        return replay(db, id, now).await;
    }

    let new = NewApiKey {
        name: input.name,
        description: input.description,
        scopes,
        expires_at: input.expires_at,
        created_by: ctx.actor.id().map(|id| (ctx.actor.kind(), id)),
    };
    let txn = crate::db::begin_write(db).await?;
    let (model, raw) = insert(&txn, new, now).await?;
    if let Some(key) = &request_key {
        match idempotency::remember(&txn, ctx, key, model.id, now).await {
            Ok(()) => {}
            // A concurrent retry with the same id committed first: answer as it did.
            Err(DomainError::AlreadyExists(_)) => {
                txn.rollback().await?;
                return match idempotency::find(db, ctx, key).await? {
                    Some(id) => replay(db, id, now).await,
                    None => Err(DomainError::validation("request_id", "is already in use")),
                };
            }
            Err(err) => return Err(err),
        }
    }
    let event = Event::new("api_key.create")
        .target("api_key", model.id)
        .meta("name", model.name.clone())
        .meta("prefix", format!("{}{}", crate::auth::prefixed_secret::MARKER, model.prefix))
        .meta("scopes", model.scopes.clone())
        .meta("expires_at", model.expires_at.map(|t| t.to_rfc3339()));
    audit::record(&txn, ctx, event, now).await?;
    txn.commit().await?;
    Ok(Created { api_key: ApiKey::from_model(model, now), raw_key: Some(raw.raw) })
}

async fn replay(db: &DatabaseConnection, id: Uuid, now: DateTime<Utc>) -> DomainResult<Created> {
    let model = find_model(db, id).await?;
    Ok(Created { api_key: ApiKey::from_model(model, now), raw_key: None })
}
