//! ListUsers and GetUserStats. A page is one SELECT on `users` (filters as
//! indexable expressions, keyset after the previous page's last row), then
//! one batch load of the page's views; the total is counted only when asked.

mod filter;
mod order;
mod stats;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, DbBackend, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select, Statement, TransactionTrait, Value,
};
use uuid::Uuid;

pub use order::UserOrder;
pub use stats::UserStats;

use super::{Users, view};
use crate::{
    entity::users,
    error::{DomainError, DomainResult, FieldViolation},
    pagination::{self, PageKey, PageRequest},
    text_filter::TextFilter,
};

/// Longest text accepted in a text filter or `search` (an email is at most 254).
pub const MAX_FILTER_CHARS: usize = 256;
/// Most metadata key = value pairs in one request.
pub const MAX_METADATA_FILTERS: usize = 16;

/// A half-open range `[after, before)`; either bound may be absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeRange {
    pub after: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
}

/// ListUsers' filters; `None` (and an empty `search`) filters nothing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserFilter {
    pub email: Option<TextFilter>,
    pub username: Option<TextFilter>,
    /// Given name, family name, or both joined by a space.
    pub name: Option<TextFilter>,
    pub phone: Option<TextFilter>,
    /// CONTAINS over email and names.
    pub search: String,
    pub role: Option<String>,
    pub is_active: Option<bool>,
    pub is_locked: Option<bool>,
    pub email_verified: Option<bool>,
    pub phone_verified: Option<bool>,
    pub has_social_auth: Option<bool>,
    pub mfa_enabled: Option<bool>,
    pub created_at: TimeRange,
    pub updated_at: TimeRange,
    pub last_login_at: TimeRange,
    /// Top-level key = value; a BTreeMap so the token fingerprint is stable.
    pub metadata: BTreeMap<String, String>,
}

/// ListUsers' input: filters, order and the raw paging fields.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListUsers {
    pub filter: UserFilter,
    pub order: UserOrder,
    pub descending: bool,
    pub page_size: i32,
    pub page_token: String,
    pub offset: i32,
    pub include_total: bool,
}

/// One page of users.
#[derive(Debug)]
pub struct UserPage {
    pub users: Vec<view::UserView>,
    /// Empty on the last page.
    pub next_page_token: String,
    /// Only when `include_total` was asked.
    pub total_size: Option<u64>,
}

/// A validated request: the page, and the previous page's last (key, id).
type Parsed = (PageRequest, Option<(Value, Uuid)>);

impl ListUsers {
    /// Every rule the input breaks, named by proto field.
    pub fn violations(&self, key: &PageKey) -> Vec<FieldViolation> {
        self.parse(key).err().unwrap_or_default()
    }

    /// What a page token is bound to: every filter and the order. Debug text
    /// of plain data (maps are BTreeMaps), so it is stable for equal input.
    fn fingerprint(&self) -> String {
        format!("users;{:?};{:?};desc={}", self.filter, self.order, self.descending)
    }

    fn parse(&self, key: &PageKey) -> Result<Parsed, Vec<FieldViolation>> {
        let mut violations = Vec::new();
        let filter = &self.filter;
        let texts = [
            ("email.value", filter.email.as_ref().map(|f| f.value.as_str())),
            ("username.value", filter.username.as_ref().map(|f| f.value.as_str())),
            ("name.value", filter.name.as_ref().map(|f| f.value.as_str())),
            ("phone.value", filter.phone.as_ref().map(|f| f.value.as_str())),
            ("search", Some(filter.search.as_str())),
            ("role", filter.role.as_deref()),
        ];
        for (field, text) in texts {
            if text.is_some_and(|t| t.chars().count() > MAX_FILTER_CHARS) {
                violations.push(FieldViolation::new(
                    field,
                    format!("must be at most {MAX_FILTER_CHARS} characters"),
                ));
            }
        }
        let ranges = [
            ("created_at", filter.created_at),
            ("updated_at", filter.updated_at),
            ("last_login_at", filter.last_login_at),
        ];
        for (field, range) in ranges {
            if let (Some(after), Some(before)) = (range.after, range.before)
                && after >= before
            {
                violations.push(FieldViolation::new(field, "after must be earlier than before"));
            }
        }
        if filter.metadata.len() > MAX_METADATA_FILTERS {
            violations.push(FieldViolation::new(
                "metadata",
                format!("at most {MAX_METADATA_FILTERS} entries"),
            ));
        }
        let fingerprint = self.fingerprint();
        let page = match PageRequest::parse(
            key,
            self.page_size,
            &self.page_token,
            self.offset,
            self.include_total,
            &fingerprint,
        ) {
            Ok(page) => Some(page),
            Err(DomainError::Validation(found)) => {
                violations.extend(found);
                None
            }
            Err(other) => {
                violations.push(FieldViolation::new("page_token", other.to_string()));
                None
            }
        };
        let mut after = None;
        if let Some(cursor) = page.as_ref().and_then(|p| p.cursor.as_ref()) {
            match order::cursor_value(self.order, cursor) {
                Some(key) => after = Some((key, cursor.id)),
                None => {
                    violations.push(FieldViolation::new("page_token", "is not a valid page token"))
                }
            }
        }
        match page {
            Some(page) if violations.is_empty() => Ok((page, after)),
            _ => Err(violations),
        }
    }
}

/// The SELECT for one page: filter, keyset, order, offset, limit.
fn page_query(
    backend: DbBackend,
    input: &ListUsers,
    page: &PageRequest,
    after: Option<(Value, Uuid)>,
    now: DateTime<Utc>,
) -> Select<users::Entity> {
    let sort = order::sort_expr(input.order, backend);
    let mut query = users::Entity::find().filter(filter::condition(backend, &input.filter, now));
    if let Some((key, id)) = after {
        query = query.filter(order::after(sort.clone(), key, id, input.descending));
    }
    let direction = if input.descending { Order::Desc } else { Order::Asc };
    query
        .order_by(sort, direction.clone())
        .order_by(users::Column::Id, direction)
        .offset(page.effective_offset())
        .limit(page.fetch_limit())
}

/// The exact page SELECT ListUsers runs for `input` at `now`, for
/// measurements (EXPLAIN) of what the server issues.
pub fn page_statement(
    backend: DbBackend,
    key: &PageKey,
    input: &ListUsers,
    now: DateTime<Utc>,
) -> DomainResult<Statement> {
    let (page, after) = input.parse(key).map_err(DomainError::Validation)?;
    Ok(page_query(backend, input, &page, after, now).build(backend))
}

impl Users {
    pub async fn list_users(&self, input: &ListUsers) -> DomainResult<UserPage> {
        let (page, after) = input.parse(&self.page_key).map_err(DomainError::Validation)?;
        let now = self.now();
        let backend = self.db.get_database_backend();
        // Read-only; a transaction so the setting below holds one connection.
        let txn = self.db.begin().await?;
        if backend == DbBackend::Postgres {
            // How selective a filter is depends on its value ('%smith12%' vs
            // '%a%', a rare role vs a common one). A generic plan cached for
            // the prepared statement cannot know, and at 100,000 users it
            // walks the whole table (BENCHMARKS.md): plan each page afresh.
            txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan").await?;
        }
        let total_size = match page.include_total {
            true => Some(
                users::Entity::find()
                    .filter(filter::condition(backend, &input.filter, now))
                    .count(&txn)
                    .await?,
            ),
            false => None,
        };
        let rows = page_query(backend, input, &page, after, now).all(&txn).await?;
        let (rows, next_page_token) =
            pagination::finish(&page, rows, |user| order::cursor_of(input.order, user));
        let users = view::load(&txn, rows, now).await?;
        txn.commit().await?;
        Ok(UserPage { users, next_page_token, total_size })
    }

    pub async fn user_stats(&self) -> DomainResult<UserStats> {
        stats::collect(&self.db, self.now()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text_filter::MatchMode;

    fn contains(value: &str) -> Option<TextFilter> {
        TextFilter::new(value, MatchMode::Contains)
    }

    #[test]
    fn tokens_are_bound_to_the_filter_and_the_order() {
        let base = ListUsers { descending: true, ..Default::default() };
        let mut metadata = BTreeMap::new();
        metadata.insert("plan".to_owned(), "pro".to_owned());
        let variants = [
            ListUsers { descending: false, ..base.clone() },
            ListUsers { order: UserOrder::Email, ..base.clone() },
            ListUsers {
                filter: UserFilter { email: contains("a"), ..Default::default() },
                ..base.clone()
            },
            ListUsers {
                filter: UserFilter { is_active: Some(true), ..Default::default() },
                ..base.clone()
            },
            ListUsers { filter: UserFilter { metadata, ..Default::default() }, ..base.clone() },
        ];
        for variant in &variants {
            assert_ne!(variant.fingerprint(), base.fingerprint(), "{variant:?}");
        }
        // Paging fields are not part of the query.
        let paged = ListUsers { page_size: 7, offset: 3, include_total: true, ..base.clone() };
        assert_eq!(paged.fingerprint(), base.fingerprint());
    }

    #[test]
    fn ranges_must_not_be_empty_and_texts_are_bounded() {
        let now = Utc::now();
        let input = ListUsers {
            filter: UserFilter {
                created_at: TimeRange { after: Some(now), before: Some(now) },
                search: "x".repeat(MAX_FILTER_CHARS + 1),
                ..Default::default()
            },
            ..Default::default()
        };
        let fields: Vec<String> =
            input.violations(&PageKey::ephemeral()).into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["search", "created_at"]);
    }

    #[test]
    fn statements_bind_user_text_instead_of_inlining_it() {
        let mut metadata = BTreeMap::new();
        metadata.insert("it's".to_owned(), "'; DROP TABLE users; --".to_owned());
        let input = ListUsers {
            filter: UserFilter {
                email: contains("o'brien"),
                search: "x' OR 1=1".into(),
                metadata,
                ..Default::default()
            },
            ..Default::default()
        };
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            let statement =
                page_statement(backend, &PageKey::ephemeral(), &input, Utc::now()).unwrap();
            assert!(!statement.sql.contains("DROP"), "{}", statement.sql);
            assert!(!statement.sql.contains("brien"), "{}", statement.sql);
            assert!(!statement.sql.contains("1=1"), "{}", statement.sql);
        }
    }
}
