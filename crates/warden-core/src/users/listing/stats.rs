//! GetUserStats: two aggregate queries (one pass over `users`, one GROUP BY
//! over `user_roles`); no row is loaded.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QuerySelect,
    sea_query::{Expr, ExprTrait, Func},
};

use super::filter::{active_at, locked_at};
use crate::{
    entity::{user_roles, users},
    error::DomainResult,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserStats {
    pub total: i64,
    pub active: i64,
    pub disabled: i64,
    pub locked: i64,
    pub email_verified: i64,
    pub mfa_enabled: i64,
    /// Users per role; a user with several roles counts in each.
    pub counts_by_role: BTreeMap<String, i64>,
    pub created_last_24h: i64,
    pub created_last_7d: i64,
    pub created_last_30d: i64,
    pub generated_at: DateTime<Utc>,
}

/// `COALESCE(SUM(CASE WHEN cond THEN 1 ELSE 0 END), 0)`: a count that is a
/// 64-bit integer on both backends (and 0, not NULL, on an empty table).
fn count_where(cond: impl Into<Condition>) -> Expr {
    let case = Expr::case(cond.into(), Expr::val(1i32)).finally(Expr::val(0i32));
    Expr::expr(Func::coalesce([Expr::expr(Func::sum(case)), Expr::val(0i32)]))
}

type Counts = (i64, i64, i64, i64, i64, i64, i64, i64);

pub(super) async fn collect<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> DomainResult<UserStats> {
    let created_since = |days: i64| users::Column::CreatedAt.gte(now - Duration::days(days));
    let counts: Option<Counts> = users::Entity::find()
        .select_only()
        .column_as(Expr::col(users::Column::Id).count(), "total")
        .column_as(count_where(active_at(now)), "active")
        .column_as(count_where(locked_at(now)), "locked")
        .column_as(count_where(users::Column::EmailVerified.eq(true)), "ev")
        .column_as(count_where(users::Column::MfaEnabled.eq(true)), "mfa")
        .column_as(count_where(created_since(1)), "d1")
        .column_as(count_where(created_since(7)), "d7")
        .column_as(count_where(created_since(30)), "d30")
        .into_tuple()
        .one(db)
        .await?;
    let (total, active, locked, email_verified, mfa_enabled, day, week, month) =
        counts.unwrap_or_default();
    let by_role: Vec<(String, i64)> = user_roles::Entity::find()
        .select_only()
        .column(user_roles::Column::Role)
        .column_as(Expr::col(user_roles::Column::UserId).count(), "count")
        .group_by(user_roles::Column::Role)
        .into_tuple()
        .all(db)
        .await?;
    Ok(UserStats {
        total,
        active,
        disabled: total - active,
        locked,
        email_verified,
        mfa_enabled,
        counts_by_role: by_role.into_iter().collect(),
        created_last_24h: day,
        created_last_7d: week,
        created_last_30d: month,
        generated_at: now,
    })
}
