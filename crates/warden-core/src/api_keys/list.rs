//! ListApiKeys: keyset pages over `(created_at, id)`, newest first by default.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Func, LikeExpr},
};

use uuid::Uuid;

use super::ApiKey;
use crate::{
    entity::api_keys,
    error::{DomainError, DomainResult, FieldViolation},
    pagination::{Cursor, PageKey, PageRequest, after, finish},
    scope::Scope,
    text_filter::escape,
};

/// How a text filter compares; always case-insensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatchMode {
    #[default]
    Equals,
    StartsWith,
    Contains,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameFilter {
    pub value: String,
    pub mode: MatchMode,
}

/// ListApiKeys' input: raw paging fields plus typed filters.
#[derive(Debug, Clone, Default)]
pub struct ListApiKeys {
    pub page_size: i32,
    pub page_token: String,
    pub offset: i32,
    pub include_total: bool,
    /// Leave out revoked keys and keys expired at `now`.
    pub active_only: bool,
    /// `None` (or an empty value) filters nothing.
    pub name: Option<NameFilter>,
    /// Keys holding this scope; empty matches any.
    pub scope: String,
    /// Newest first unless `false`.
    pub descending: bool,
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

impl ListApiKeys {
    /// What a page token is bound to: every filter and the order.
    fn query_fingerprint(&self) -> String {
        let name = self.name.as_ref().filter(|f| !f.value.is_empty());
        let name = name.map(|f| format!("{:?}:{}", f.mode, f.value)).unwrap_or_default();
        format!(
            "api_keys;active_only={};name={name};scope={};desc={}",
            self.active_only, self.scope, self.descending
        )
    }

    fn filter(&self, now: DateTime<Utc>) -> Condition {
        let mut cond = Condition::all();
        if self.active_only {
            cond = cond.add(api_keys::Column::RevokedAt.is_null()).add(
                Condition::any()
                    .add(api_keys::Column::ExpiresAt.is_null())
                    .add(api_keys::Column::ExpiresAt.gt(now)),
            );
        }
        if let Some(filter) = self.name.as_ref().filter(|f| !f.value.is_empty()) {
            let name = Expr::expr(Func::lower(Expr::col(api_keys::Column::Name)));
            let value = filter.value.to_lowercase();
            cond = cond.add(match filter.mode {
                MatchMode::Equals => name.eq(value),
                MatchMode::StartsWith => name.like(like(format!("{}%", escape(&value)))),
                MatchMode::Contains => name.like(like(format!("%{}%", escape(&value)))),
            });
        }
        if !self.scope.is_empty() {
            // Scopes are a JSON array of known names (no LIKE wildcards in them);
            // its text form contains `"name"` on both backends.
            let text = Expr::expr(Func::cast_as(Expr::col(api_keys::Column::Scopes), "TEXT"));
            cond = cond.add(text.like(like(format!("%\"{}\"%", self.scope))));
        }
        cond
    }
}

fn like(pattern: String) -> LikeExpr {
    LikeExpr::new(pattern).escape('\\')
}

/// A validated list request: the page, and where the previous page ended.
type Parsed = (PageRequest, Option<(DateTime<Utc>, Uuid)>);

impl ListApiKeys {
    /// Every rule the input breaks (paging, unknown scope), named by proto field.
    pub fn violations(&self, key: &PageKey) -> Vec<FieldViolation> {
        self.parse(key).err().unwrap_or_default()
    }

    fn parse(&self, key: &PageKey) -> Result<Parsed, Vec<FieldViolation>> {
        let mut violations = Vec::new();
        let fingerprint = self.query_fingerprint();
        let page = PageRequest::parse(
            key,
            self.page_size,
            &self.page_token,
            self.offset,
            self.include_total,
            &fingerprint,
        );
        let page = match page {
            Ok(page) => Some(page),
            Err(DomainError::Validation(found)) => {
                violations.extend(found);
                None
            }
            // `parse` only ever reports violations; keep any other error visible.
            Err(other) => {
                violations.push(FieldViolation::new("page_token", other.to_string()));
                None
            }
        };
        if !self.scope.is_empty() && self.scope.parse::<Scope>().is_err() {
            violations
                .push(FieldViolation::new("scope", format!("unknown scope {:?}", self.scope)));
        }
        let mut after_key = None;
        if let Some(cursor) = page.as_ref().and_then(|p| p.cursor.as_ref()) {
            match cursor.key.as_deref().and_then(|k| DateTime::parse_from_rfc3339(k).ok()) {
                Some(key) => after_key = Some((key.with_timezone(&Utc), cursor.id)),
                None => {
                    violations.push(FieldViolation::new("page_token", "is not a valid page token"))
                }
            }
        }
        match page {
            Some(page) if violations.is_empty() => Ok((page, after_key)),
            _ => Err(violations),
        }
    }
}

/// Lists keys; the total is counted only when asked.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    key: &PageKey,
    input: ListApiKeys,
    now: DateTime<Utc>,
) -> DomainResult<ListedApiKeys> {
    let (page, after_key) = input.parse(key).map_err(DomainError::Validation)?;
    let filtered = api_keys::Entity::find().filter(input.filter(now));
    let total_size = match page.include_total {
        true => Some(filtered.clone().count(db).await?),
        false => None,
    };
    let order = if input.descending { Order::Desc } else { Order::Asc };
    let mut query = filtered
        .order_by(api_keys::Column::CreatedAt, order.clone())
        .order_by(api_keys::Column::Id, order);
    if let Some((created_at, id)) = after_key {
        let sort = Expr::col(api_keys::Column::CreatedAt);
        let id_col = api_keys::Column::Id;
        query = query.filter(after(sort, id_col, created_at.into(), id, input.descending));
    }
    let rows = query.offset(page.effective_offset()).limit(page.fetch_limit()).all(db).await?;
    let (rows, next_page_token) = finish(&page, rows, |row| Cursor {
        key: Some(row.created_at.to_rfc3339_opts(SecondsFormat::Micros, true)),
        id: row.id,
    });
    let api_keys = rows.into_iter().map(|row| ApiKey::from_model(row, now)).collect();
    Ok(ListedApiKeys { api_keys, next_page_token, total_size })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(escape("50%_off\\"), "50\\%\\_off\\\\");
        assert_eq!(escape("plain"), "plain");
    }

    #[test]
    fn tokens_are_bound_to_every_filter_and_the_order() {
        let base = ListApiKeys { descending: true, ..Default::default() };
        let variants = [
            ListApiKeys { active_only: true, ..base.clone() },
            ListApiKeys { descending: false, ..base.clone() },
            ListApiKeys { scope: "users:read".into(), ..base.clone() },
            ListApiKeys {
                name: Some(NameFilter { value: "a".into(), mode: MatchMode::Contains }),
                ..base.clone()
            },
        ];
        for variant in &variants {
            assert_ne!(variant.query_fingerprint(), base.query_fingerprint(), "{variant:?}");
        }
        // An empty name filter is no filter.
        let empty = ListApiKeys {
            name: Some(NameFilter { value: String::new(), ..Default::default() }),
            ..base.clone()
        };
        assert_eq!(empty.query_fingerprint(), base.query_fingerprint());
    }
}
