//! ListAdmins: filters, a sort key and keyset pages over `(key, id)`.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, Func, Order},
};

use super::{Admin, AdminAuth};
use crate::{
    entity::admins,
    error::{DomainError, DomainResult},
    pagination::{self, Cursor, PageRequest},
    text_filter::TextFilter,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AdminOrder {
    Email,
    Name,
    #[default]
    CreatedAt,
    UpdatedAt,
    LastLoginAt,
}

/// `None` filters nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminFilter {
    pub email: Option<TextFilter>,
    pub name: Option<TextFilter>,
    /// Exact role name.
    pub role: Option<String>,
    pub is_active: Option<bool>,
}

/// Which admins, in which order: what a page token is bound to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminQuery {
    pub filter: AdminFilter,
    pub order: AdminOrder,
    pub descending: bool,
}

impl AdminQuery {
    /// Debug text of plain data: stable for equal queries.
    pub fn fingerprint(&self) -> String {
        format!("admins;{self:?}")
    }
}

#[derive(Debug, Clone)]
pub struct AdminPage {
    pub admins: Vec<Admin>,
    /// Empty on the last page.
    pub next_page_token: String,
    /// Only when `include_total` was asked.
    pub total_size: Option<u64>,
}

impl AdminAuth {
    pub async fn list_admins(
        &self,
        query: &AdminQuery,
        page: &PageRequest,
    ) -> DomainResult<AdminPage> {
        let filter = &query.filter;
        let mut condition = Condition::all();
        if let Some(email) = &filter.email {
            condition = condition.add(email.condition(Expr::col(admins::Column::EmailNormalized)));
        }
        if let Some(name) = &filter.name {
            condition = condition.add(name.condition(Expr::col(admins::Column::Name)));
        }
        if let Some(role) = &filter.role {
            condition = condition.add(admins::Column::Role.eq(role.clone()));
        }
        if let Some(active) = filter.is_active {
            condition = condition.add(admins::Column::IsActive.eq(active));
        }
        let total_size = match page.include_total {
            true => Some(admins::Entity::find().filter(condition.clone()).count(&self.db).await?),
            false => None,
        };
        let sort = sort_expr(query.order);
        let mut select = admins::Entity::find().filter(condition);
        if let Some(cursor) = &page.cursor {
            let key = cursor_value(query.order, cursor)?;
            select = select.filter(pagination::after(
                sort.clone(),
                admins::Column::Id,
                key,
                cursor.id,
                query.descending,
            ));
        }
        let order = if query.descending { Order::Desc } else { Order::Asc };
        let rows = select
            .order_by(sort, order.clone())
            .order_by(admins::Column::Id, order)
            .offset(page.effective_offset())
            .limit(page.fetch_limit())
            .all(&self.db)
            .await?;
        let (rows, next_page_token) = pagination::finish(page, rows, |a| cursor_of(query.order, a));
        let admins = rows.into_iter().map(Admin::from).collect();
        Ok(AdminPage { admins, next_page_token, total_size })
    }
}

fn sort_expr(order: AdminOrder) -> Expr {
    match order {
        AdminOrder::Email => Expr::col(admins::Column::EmailNormalized),
        AdminOrder::Name => Expr::col(admins::Column::Name),
        AdminOrder::CreatedAt => Expr::col(admins::Column::CreatedAt),
        AdminOrder::UpdatedAt => Expr::col(admins::Column::UpdatedAt),
        // Never-signed-in admins sort as if at the epoch, so keyset paging holds.
        AdminOrder::LastLoginAt => Expr::expr(Func::coalesce([
            Expr::col(admins::Column::LastLoginAt),
            Expr::value(epoch()),
        ])),
    }
}

fn epoch() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH
}

fn cursor_of(order: AdminOrder, admin: &admins::Model) -> Cursor {
    let key = match order {
        AdminOrder::Email => admin.email_normalized.clone(),
        AdminOrder::Name => admin.name.clone(),
        AdminOrder::CreatedAt => admin.created_at.to_rfc3339(),
        AdminOrder::UpdatedAt => admin.updated_at.to_rfc3339(),
        AdminOrder::LastLoginAt => admin.last_login_at.unwrap_or_else(epoch).to_rfc3339(),
    };
    Cursor { key: Some(key), id: admin.id }
}

/// The cursor's key as a value of the sort key's type. The token is signed
/// and bound to the order, so only a token of another server version fails.
fn cursor_value(order: AdminOrder, cursor: &Cursor) -> DomainResult<sea_orm::Value> {
    let bad = || DomainError::validation("page_token", "is not a valid page token");
    let key = cursor.key.clone().ok_or_else(bad)?;
    Ok(match order {
        AdminOrder::Email | AdminOrder::Name => key.into(),
        _ => DateTime::parse_from_rfc3339(&key).map_err(|_| bad())?.with_timezone(&Utc).into(),
    })
}
