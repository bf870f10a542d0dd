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
    pagination::{self, PageRequest},
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

impl TimeRange {
    /// A range that can hold something: `after` earlier than `before`.
    pub fn new(
        field: &str,
        after: Option<DateTime<Utc>>,
        before: Option<DateTime<Utc>>,
    ) -> Result<Self, FieldViolation> {
        if let (Some(after), Some(before)) = (after, before)
            && after >= before
        {
            return Err(FieldViolation::new(field, "after must be earlier than before"));
        }
        Ok(Self { after, before })
    }
}

/// A text to filter by (a text filter's value, `search`, `role`): at most
/// [`MAX_FILTER_CHARS`] characters.
pub fn filter_text(field: &str, value: &str) -> Result<(), FieldViolation> {
    if value.chars().count() > MAX_FILTER_CHARS {
        let too_long = format!("must be at most {MAX_FILTER_CHARS} characters");
        return Err(FieldViolation::new(field, too_long));
    }
    Ok(())
}

/// Metadata `key = value` pairs: at most [`MAX_METADATA_FILTERS`].
pub fn metadata_filters(
    field: &str,
    pairs: impl IntoIterator<Item = (String, String)>,
) -> Result<BTreeMap<String, String>, FieldViolation> {
    let pairs: BTreeMap<String, String> = pairs.into_iter().collect();
    if pairs.len() > MAX_METADATA_FILTERS {
        let too_many = format!("at most {MAX_METADATA_FILTERS} entries");
        return Err(FieldViolation::new(field, too_many));
    }
    Ok(pairs)
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

/// Which users, in which order: what a page token is bound to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserQuery {
    pub filter: UserFilter,
    pub order: UserOrder,
    pub descending: bool,
}

impl UserQuery {
    /// Debug text of plain data (maps are BTreeMaps): stable for equal queries.
    pub fn fingerprint(&self) -> String {
        format!("users;{:?};{:?};desc={}", self.filter, self.order, self.descending)
    }

    /// The previous page's last (key, id). The token is signed and bound to
    /// this query, so only a token of another server version fails.
    fn after(&self, page: &PageRequest) -> DomainResult<Option<(Value, Uuid)>> {
        let Some(cursor) = &page.cursor else { return Ok(None) };
        match order::cursor_value(self.order, cursor) {
            Some(key) => Ok(Some((key, cursor.id))),
            None => Err(DomainError::validation("page_token", "is not a valid page token")),
        }
    }
}

/// One page of users.
#[derive(Debug)]
pub struct UserPage {
    pub users: Vec<view::User>,
    /// Empty on the last page.
    pub next_page_token: String,
    /// Only when `include_total` was asked.
    pub total_size: Option<u64>,
}

/// The SELECT for one page: filter, keyset, order, offset, limit.
fn page_query(
    backend: DbBackend,
    query: &UserQuery,
    page: &PageRequest,
    after: Option<(Value, Uuid)>,
    now: DateTime<Utc>,
) -> Select<users::Entity> {
    let sort = order::sort_expr(query.order, backend);
    let mut select = users::Entity::find().filter(filter::condition(backend, &query.filter, now));
    if let Some((key, id)) = after {
        select = select.filter(order::after(sort.clone(), key, id, query.descending));
    }
    let direction = if query.descending { Order::Desc } else { Order::Asc };
    select
        .order_by(sort, direction.clone())
        .order_by(users::Column::Id, direction)
        .offset(page.effective_offset())
        .limit(page.fetch_limit())
}

/// The exact page SELECT ListUsers runs for `query` at `now`, for
/// measurements (EXPLAIN) of what the server issues.
pub fn page_statement(
    backend: DbBackend,
    query: &UserQuery,
    page: &PageRequest,
    now: DateTime<Utc>,
) -> DomainResult<Statement> {
    let after = query.after(page)?;
    Ok(page_query(backend, query, page, after, now).build(backend))
}

impl Users {
    pub async fn list_users(
        &self,
        query: &UserQuery,
        page: &PageRequest,
    ) -> DomainResult<UserPage> {
        let after = query.after(page)?;
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
                    .filter(filter::condition(backend, &query.filter, now))
                    .count(&txn)
                    .await?,
            ),
            false => None,
        };
        let rows = page_query(backend, query, page, after, now).all(&txn).await?;
        let (rows, next_page_token) =
            pagination::finish(page, rows, |user| order::cursor_of(query.order, user));
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
    use crate::{pagination::PageKey, text_filter::MatchMode};

    fn contains(value: &str) -> Option<TextFilter> {
        TextFilter::new(value, MatchMode::Contains)
    }

    #[test]
    fn tokens_are_bound_to_the_filter_and_the_order() {
        let base = UserQuery { descending: true, ..Default::default() };
        let mut metadata = BTreeMap::new();
        metadata.insert("plan".to_owned(), "pro".to_owned());
        let variants = [
            UserQuery { descending: false, ..base.clone() },
            UserQuery { order: UserOrder::Email, ..base.clone() },
            UserQuery {
                filter: UserFilter { email: contains("a"), ..Default::default() },
                ..base.clone()
            },
            UserQuery {
                filter: UserFilter { is_active: Some(true), ..Default::default() },
                ..base.clone()
            },
            UserQuery { filter: UserFilter { metadata, ..Default::default() }, ..base.clone() },
        ];
        for variant in &variants {
            assert_ne!(variant.fingerprint(), base.fingerprint(), "{variant:?}");
        }
    }

    #[test]
    fn ranges_must_not_be_empty_and_texts_are_bounded() {
        let now = Utc::now();
        assert!(TimeRange::new("created_at", Some(now), Some(now)).is_err());
        assert!(TimeRange::new("created_at", Some(now), None).is_ok());
        assert!(filter_text("search", &"x".repeat(MAX_FILTER_CHARS + 1)).is_err());
        assert!(filter_text("search", &"x".repeat(MAX_FILTER_CHARS)).is_ok());
        let pairs = (0..=MAX_METADATA_FILTERS).map(|i| (i.to_string(), String::new()));
        assert!(metadata_filters("metadata", pairs).is_err());
    }

    #[test]
    fn statements_bind_user_text_instead_of_inlining_it() {
        let mut metadata = BTreeMap::new();
        metadata.insert("it's".to_owned(), "'; DROP TABLE users; --".to_owned());
        let query = UserQuery {
            filter: UserFilter {
                email: contains("o'brien"),
                search: "x' OR 1=1".into(),
                metadata,
                ..Default::default()
            },
            ..Default::default()
        };
        let page = PageRequest::parse(&PageKey::ephemeral(), 0, "", 0, false, None).unwrap();
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            let statement = page_statement(backend, &query, &page, Utc::now()).unwrap();
            assert!(!statement.sql.contains("DROP"), "{}", statement.sql);
            assert!(!statement.sql.contains("brien"), "{}", statement.sql);
            assert!(!statement.sql.contains("1=1"), "{}", statement.sql);
        }
    }
}
