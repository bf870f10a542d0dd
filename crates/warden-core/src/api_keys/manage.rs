//! GetApiKey, UpdateApiKey and RevokeApiKey.
//!
//! Writes go first inside their transaction (`UPDATE ... WHERE revoked_at IS
//! NULL`), then the row is read back: on SQLite the transaction takes the
//! write lock at once instead of failing to upgrade a read snapshot, and on
//! both backends two racing revokes affect the row once, so one audit row.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

use super::{ApiKey, ApiKeys, UpdateApiKey, db_time, find_model, scopes_json};
use crate::{
    audit::{self, Event},
    context::Context,
    entity::api_keys,
    error::{DomainError, DomainResult, Precondition},
    values::ApiKeyId,
};

impl ApiKeys {
    /// GetApiKey: one key, never its secret or digest.
    pub async fn get(&self, id: ApiKeyId) -> DomainResult<ApiKey> {
        Ok(ApiKey::from_model(find_model(&self.db, id).await?, self.now()))
    }

    /// Changes the given fields of a live key, within the caller's own scopes.
    /// A revoked key is final: FAILED_PRECONDITION / TOKEN_REVOKED.
    pub async fn update(&self, ctx: &Context, input: UpdateApiKey) -> DomainResult<ApiKey> {
        if let Some(scopes) = &input.scopes {
            ctx.ensure_holds(scopes)?;
        }
        let now = self.now();
        let id = input.id;
        let mut change = api_keys::Entity::update_many()
            .col_expr(api_keys::Column::UpdatedAt, Expr::value(db_time(now)))
            .filter(api_keys::Column::Id.eq(id.uuid()))
            .filter(api_keys::Column::RevokedAt.is_null());
        let mut event =
            Event::new("api_key.update").target("api_key", id).meta("fields", input.fields());
        if let Some(name) = &input.name {
            change = change.col_expr(api_keys::Column::Name, Expr::value(name.as_str()));
            event = event.meta("name", name.as_str());
        }
        if let Some(description) = &input.description {
            let description = Expr::value(description.as_str());
            change = change.col_expr(api_keys::Column::Description, description);
        }
        if let Some(scopes) = &input.scopes {
            change = change.col_expr(api_keys::Column::Scopes, Expr::value(scopes_json(scopes)));
            event = event.meta("scopes", scopes_json(scopes));
        }

        let txn = crate::db::begin_write(&self.db).await?;
        let changed = change.exec(&txn).await?.rows_affected;
        let model = find_model(&txn, id).await?;
        if changed == 0 {
            // The row exists (find succeeded), so it was filtered out as revoked.
            return Err(DomainError::Precondition(Precondition::AlreadyRevoked, Vec::new()));
        }
        audit::record(&txn, ctx, event.meta("prefix", prefix_of(&model)), now).await?;
        txn.commit().await?;
        Ok(ApiKey::from_model(model, now))
    }

    /// Revokes a key; its next call fails with TOKEN_REVOKED. Revoking a
    /// revoked key answers it unchanged and records nothing. `validate_only`
    /// answers what the key would look like and writes nothing.
    pub async fn revoke(
        &self,
        ctx: &Context,
        id: ApiKeyId,
        validate_only: bool,
    ) -> DomainResult<ApiKey> {
        let now = self.now();
        let stamp = db_time(now);
        if validate_only {
            let mut model = find_model(&self.db, id).await?;
            if model.revoked_at.is_none() {
                model.revoked_at = Some(stamp);
                model.updated_at = stamp;
            }
            return Ok(ApiKey::from_model(model, now));
        }

        let txn = crate::db::begin_write(&self.db).await?;
        let changed = api_keys::Entity::update_many()
            .col_expr(api_keys::Column::RevokedAt, Expr::value(stamp))
            .col_expr(api_keys::Column::UpdatedAt, Expr::value(stamp))
            .filter(api_keys::Column::Id.eq(id.uuid()))
            .filter(api_keys::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
        let model = find_model(&txn, id).await?;
        if changed > 0 {
            let event = Event::new("api_key.revoke")
                .target("api_key", id)
                .meta("name", model.name.clone())
                .meta("prefix", prefix_of(&model));
            audit::record(&txn, ctx, event, now).await?;
        }
        txn.commit().await?;
        Ok(ApiKey::from_model(model, now))
    }
}

fn prefix_of(model: &api_keys::Model) -> String {
    format!("{}{}", crate::auth::prefixed_secret::MARKER, model.prefix)
}
