//! ListApiKeys: keyset pages over `(created_at, id)`, newest first by default.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait, Func, LikeExpr},
};

use super::{ApiKey, ApiKeys};
use crate::{
    entity::api_keys,
    error::{DomainError, DomainResult},
    pagination::{Cursor, PageRequest, after, finish},
    scope::Scope,
    text_filter::TextFilter,
};

/// Which keys, in which order: what a page token is bound to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApiKeyQuery {
    /// Leave out revoked keys and keys expired now.
    pub active_only: bool,
    /// Case-insensitive match on the name.
    pub name: Option<TextFilter>,
    /// Keys holding this scope.
    pub scope: Option<Scope>,
    /// Newest first unless `false`.
    pub descending: bool,
}

impl ApiKeyQuery {
    /// Debug text of plain data: stable for equal queries.
    pub fn fingerprint(&self) -> String {
        format!("api_keys;{self:?}")
    }

    fn condition(&self, now: DateTime<Utc>) -> Condition {
        let mut cond = Condition::all();
        if self.active_only {
            cond = cond.add(api_keys::Column::RevokedAt.is_null()).add(
                Condition::any()
                    .add(api_keys::Column::ExpiresAt.is_null())
                    .add(api_keys::Column::ExpiresAt.gt(now)),
            );
        }
        if let Some(name) = &self.name {
            cond = cond.add(name.condition(Expr::col(api_keys::Column::Name)));
        }
        if let Some(scope) = self.scope {
            // Scopes are a JSON array of known names (no LIKE wildcards in them);
            // its text form contains `"name"` on both backends.
            let text = Expr::expr(Func::cast_as(Expr::col(api_keys::Column::Scopes), "TEXT"));
            let pattern = LikeExpr::new(format!("%\"{}\"%", scope.as_str())).escape('\\');
            cond = cond.add(text.like(pattern));
        }
        cond
    }
}

/// One page of keys.
#[derive(Debug)]
pub struct ListedApiKeys {
    pub api_keys: Vec<ApiKey>,
    /// Empty on the last page.
    pub next_page_token: String,
    /// Only when `include_total` was asked.
    pub total_size: Option<u64>,
}

impl ApiKeys {
    /// Lists keys; the total is counted only when asked.
    pub async fn list(
        &self,
        query: &ApiKeyQuery,
        page: &PageRequest,
    ) -> DomainResult<ListedApiKeys> {
        let now = self.now();
        let filtered = api_keys::Entity::find().filter(query.condition(now));
        let total_size = match page.include_total {
            true => Some(filtered.clone().count(&self.db).await?),
            false => None,
        };
        let order = if query.descending { Order::Desc } else { Order::Asc };
        let mut select = filtered
            .order_by(api_keys::Column::CreatedAt, order.clone())
            .order_by(api_keys::Column::Id, order);
        if let Some(cursor) = &page.cursor {
            let created_at = cursor_time(cursor)?;
            let sort = Expr::col(api_keys::Column::CreatedAt);
            let id_col = api_keys::Column::Id;
            select =
                select.filter(after(sort, id_col, created_at.into(), cursor.id, query.descending));
        }
        let rows =
            select.offset(page.effective_offset()).limit(page.fetch_limit()).all(&self.db).await?;
        let (rows, next_page_token) = finish(page, rows, |row| Cursor {
            key: Some(row.created_at.to_rfc3339_opts(SecondsFormat::Micros, true)),
            id: row.id,
        });
        let api_keys = rows.into_iter().map(|row| ApiKey::from_model(row, now)).collect();
        Ok(ListedApiKeys { api_keys, next_page_token, total_size })
    }
}

/// The previous page's last `created_at`. The token is signed and bound to
/// this list, so only a token of another server version fails.
fn cursor_time(cursor: &Cursor) -> DomainResult<DateTime<Utc>> {
    cursor
        .key
        .as_deref()
        .and_then(|key| DateTime::parse_from_rfc3339(key).ok())
        .map(|key| key.with_timezone(&Utc))
        .ok_or_else(|| DomainError::validation("page_token", "is not a valid page token"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text_filter::MatchMode;

    #[test]
    fn tokens_are_bound_to_every_filter_and_the_order() {
        let base = ApiKeyQuery { descending: true, ..Default::default() };
        let variants = [
            ApiKeyQuery { active_only: true, ..base.clone() },
            ApiKeyQuery { descending: false, ..base.clone() },
            ApiKeyQuery { scope: Some(Scope::UsersRead), ..base.clone() },
            ApiKeyQuery { name: TextFilter::new("a", MatchMode::Contains), ..base.clone() },
        ];
        for variant in &variants {
            assert_ne!(variant.fingerprint(), base.fingerprint(), "{variant:?}");
        }
    }
}
