//! GetApiKey, UpdateApiKey and RevokeApiKey.
//!
//! Writes go first inside their transaction (`UPDATE ... WHERE revoked_at IS
//! NULL`), then the row is read back: on SQLite the transaction takes the
//! write lock at once instead of failing to upgrade a read snapshot, and on
//! both backends two racing revokes affect the row once, so one audit row.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr,
};
use uuid::Uuid;

use super::{ApiKey, db_time, find_model, scopes_json, validate};
use crate::{
    audit::{self, Event},
    context::Context,
    entity::api_keys,
    error::{DomainError, DomainResult, FieldViolation},
    scope::ScopeSet,
};

/// GetApiKey: one key, never its secret or digest.
pub async fn get<C: ConnectionTrait>(db: &C, id: Uuid, now: DateTime<Utc>) -> DomainResult<ApiKey> {
    Ok(ApiKey::from_model(find_model(db, id).await?, now))
}

/// Update mask paths a caller may set.
const UPDATABLE: &[&str] = &["name", "description", "scopes"];
/// Fields of `ApiKey` only the server sets.
const OUTPUT_ONLY: &[&str] = &[
    "id",
    "prefix",
    "created_at",
    "updated_at",
    "revoked_at",
    "last_used_at",
    "created_by",
    "is_active",
];

/// UpdateApiKey's input: the mask paths and the new values they select.
#[derive(Debug, Clone, Default)]
pub struct UpdateApiKey {
    pub id: Uuid,
    pub paths: Vec<String>,
    pub name: String,
    pub description: String,
    pub scopes: Vec<String>,
}

impl UpdateApiKey {
    fn has(&self, path: &str) -> bool {
        self.paths.iter().any(|p| p == path)
    }

    /// Every rule the input breaks: mask problems on `update_mask`, values on
    /// `api_key.<field>`. Values outside the mask are ignored, as AIP-134 says.
    pub fn violations(&self) -> Vec<FieldViolation> {
        let mut out = Vec::new();
        if self.paths.is_empty() {
            out.push(FieldViolation::new("update_mask", "must name at least one path"));
        }
        for path in &self.paths {
            let problem = if UPDATABLE.contains(&path.as_str()) {
                continue;
            } else if OUTPUT_ONLY.contains(&path.as_str()) {
                "is output only"
            } else if path == "expires_at" {
                "is set at creation only"
            } else {
                "is not a field of ApiKey"
            };
            out.push(FieldViolation::new("update_mask", format!("path {path:?} {problem}")));
        }
        if self.has("name") {
            validate::check_name("api_key.name", &self.name, &mut out);
        }
        if self.has("description") {
            validate::check_description("api_key.description", &self.description, &mut out);
        }
        if self.has("scopes") {
            validate::parse_scopes("api_key.scopes", &self.scopes, &mut out);
        }
        out
    }
}

/// Changes the masked fields of a live key, within the caller's own scopes.
/// A revoked key is final: FAILED_PRECONDITION / TOKEN_REVOKED.
pub async fn update(
    db: &DatabaseConnection,
    ctx: &Context,
    input: UpdateApiKey,
    now: DateTime<Utc>,
) -> DomainResult<ApiKey> {
    let violations = input.violations();
    if !violations.is_empty() {
        return Err(DomainError::Validation(violations));
    }
    let scopes = if input.has("scopes") {
        let scopes = ScopeSet::parse(input.scopes.iter().map(String::as_str))
            .map_err(|_| DomainError::validation("api_key.scopes", "names an unknown scope"))?;
        ctx.ensure_holds(&scopes)?;
        Some(scopes)
    } else {
        None
    };

    let stamp = db_time(now);
    let mut change = api_keys::Entity::update_many()
        .col_expr(api_keys::Column::UpdatedAt, Expr::value(stamp))
        .filter(api_keys::Column::Id.eq(input.id))
        .filter(api_keys::Column::RevokedAt.is_null());
    let mut event = Event::new("api_key.update").target("api_key", input.id);
    let mut fields = Vec::new();
    if input.has("name") {
        change = change.col_expr(api_keys::Column::Name, Expr::value(input.name.clone()));
        event = event.meta("name", input.name.clone());
        fields.push("name");
    }
    if input.has("description") {
        change =
            change.col_expr(api_keys::Column::Description, Expr::value(input.description.clone()));
        fields.push("description");
    }
    if let Some(scopes) = &scopes {
        change = change.col_expr(api_keys::Column::Scopes, Expr::value(scopes_json(scopes)));
        event = event.meta("scopes", scopes_json(scopes));
        fields.push("scopes");
    }
    event = event.meta("fields", fields);

    let txn = crate::db::begin_write(db).await?;
    let changed = change.exec(&txn).await?.rows_affected;
    let model = find_model(&txn, input.id).await?;
    if changed == 0 {
        // The row exists (find succeeded), so it was filtered out as revoked.
        return Err(DomainError::Revoked { resource: "api_key" });
    }
    audit::record(&txn, ctx, event.meta("prefix", prefix_of(&model)), now).await?;
    txn.commit().await?;
    Ok(ApiKey::from_model(model, now))
}

/// Revokes a key; its next call fails with TOKEN_REVOKED. Revoking a revoked
/// key answers it unchanged and records nothing. `validate_only` answers what
/// the key would look like and writes nothing.
pub async fn revoke(
    db: &DatabaseConnection,
    ctx: &Context,
    id: Uuid,
    validate_only: bool,
    now: DateTime<Utc>,
) -> DomainResult<ApiKey> {
    let stamp = db_time(now);
    if validate_only {
        let mut model = find_model(db, id).await?;
        if model.revoked_at.is_none() {
            model.revoked_at = Some(stamp);
            model.updated_at = stamp;
        }
        return Ok(ApiKey::from_model(model, now));
    }

    let txn = crate::db::begin_write(db).await?;
    let changed = api_keys::Entity::update_many()
        .col_expr(api_keys::Column::RevokedAt, Expr::value(stamp))
        .col_expr(api_keys::Column::UpdatedAt, Expr::value(stamp))
        .filter(api_keys::Column::Id.eq(id))
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

fn prefix_of(model: &api_keys::Model) -> String {
    format!("{}{}", crate::auth::prefixed_secret::MARKER, model.prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(input: &UpdateApiKey) -> Vec<String> {
        input.violations().into_iter().map(|v| v.field).collect()
    }

    fn with_paths(paths: &[&str]) -> UpdateApiKey {
        UpdateApiKey {
            id: Uuid::now_v7(),
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            name: "renamed".into(),
            description: String::new(),
            scopes: vec!["users:read".into()],
        }
    }

    #[test]
    fn the_mask_names_only_updatable_fields() {
        assert!(fields(&with_paths(&["name", "description", "scopes"])).is_empty());
        assert_eq!(fields(&with_paths(&[])), ["update_mask"]);
        for path in ["id", "prefix", "expires_at", "revoked_at", "secret", "name.x"] {
            assert_eq!(fields(&with_paths(&["name", path])), ["update_mask"], "{path}");
        }
    }

    #[test]
    fn only_masked_values_are_validated() {
        let mut input = with_paths(&["description"]);
        input.name = String::new();
        input.scopes = vec!["nope".into()];
        assert!(fields(&input).is_empty());
        input.paths = vec!["name".into(), "scopes".into()];
        assert_eq!(fields(&input), ["api_key.name", "api_key.scopes[0]"]);
    }
}
