//! ListUsers' sort keys and keyset cursors. Nullable keys (username, phone,
//! last_login_at) sort through a COALESCE to a sentinel so `(key, id)` is
//! total and keyset paging never skips or repeats a row; on PostgreSQL the
//! same expressions are indexed (migration 4), so no order sorts the table.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{
    Condition, DbBackend, Value,
    sea_query::{Expr, ExprTrait, Func},
};
use uuid::Uuid;

use crate::{entity::users, pagination::Cursor};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserOrder {
    Email,
    #[default]
    CreatedAt,
    UpdatedAt,
    Username,
    Phone,
    LastLoginAt,
}

/// Users without a username or phone sort as the empty string.
const USERNAME_KEY: &str = "COALESCE(username_normalized, '')";
const PHONE_KEY: &str = "COALESCE(phone, '')";
/// Never signed in sorts as the epoch. A literal (not a bound value) so the
/// expression index matches under generic plans too.
const PG_LAST_LOGIN_KEY: &str = "COALESCE(last_login_at, '1970-01-01 00:00:00+00'::timestamptz)";

fn epoch() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH
}

pub(super) fn sort_expr(order: UserOrder, backend: DbBackend) -> Expr {
    match order {
        UserOrder::Email => Expr::col((users::Entity, users::Column::EmailNormalized)),
        UserOrder::CreatedAt => Expr::col((users::Entity, users::Column::CreatedAt)),
        UserOrder::UpdatedAt => Expr::col((users::Entity, users::Column::UpdatedAt)),
        UserOrder::Username => Expr::cust(USERNAME_KEY),
        UserOrder::Phone => Expr::cust(PHONE_KEY),
        UserOrder::LastLoginAt => match backend {
            DbBackend::Postgres => Expr::cust(PG_LAST_LOGIN_KEY),
            // SQLite keeps times as text: the sentinel is bound so it is
            // encoded exactly as the cursor's key is.
            _ => Expr::expr(Func::coalesce([
                Expr::col((users::Entity, users::Column::LastLoginAt)),
                Expr::val(epoch()),
            ])),
        },
    }
}

/// Rows after `(key, id)` in the order, as one row-value comparison
/// `(sort, id) > (key, id)` (`<` descending). PostgreSQL turns it into an
/// index range on `(sort, id)`, so a page deep inside a run of equal keys
/// (every user without a username, say) starts at the cursor instead of
/// filtering the run from its beginning.
pub(super) fn after(sort: Expr, key: Value, id: Uuid, descending: bool) -> Condition {
    let row = Expr::tuple([sort, Expr::col((users::Entity, users::Column::Id))]);
    let cursor = Expr::tuple([Expr::val(key), Expr::val(id)]);
    Condition::all().add(if descending { row.lt(cursor) } else { row.gt(cursor) })
}

fn time_key(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(super) fn cursor_of(order: UserOrder, user: &users::Model) -> Cursor {
    let key = match order {
        UserOrder::Email => user.email_normalized.clone(),
        UserOrder::CreatedAt => time_key(user.created_at),
        UserOrder::UpdatedAt => time_key(user.updated_at),
        UserOrder::Username => user.username_normalized.clone().unwrap_or_default(),
        UserOrder::Phone => user.phone.clone().unwrap_or_default(),
        UserOrder::LastLoginAt => time_key(user.last_login_at.unwrap_or_else(epoch)),
    };
    Cursor { key: Some(key), id: user.id }
}

/// The cursor's key as a bindable value of the sort key's type.
pub(super) fn cursor_value(order: UserOrder, cursor: &Cursor) -> Option<Value> {
    let key = cursor.key.clone()?;
    Some(match order {
        UserOrder::Email | UserOrder::Username | UserOrder::Phone => key.into(),
        UserOrder::CreatedAt | UserOrder::UpdatedAt | UserOrder::LastLoginAt => {
            DateTime::parse_from_rfc3339(&key).ok()?.with_timezone(&Utc).into()
        }
    })
}
