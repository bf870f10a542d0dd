//! Per-account lockout after failed sign-ins, shared by admins and end users
//! (any table with a failure counter and a `locked_until` column).
//!
//! Lockout is decided before the password is checked, by one atomic UPDATE
//! that claims the attempt: of any number of concurrent guesses, at most
//! `max_failures + 1` are ever evaluated before the account locks. After a
//! wrong password the lock lasts `base * 2^(failures - limit)`, capped.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    admin_auth::LockoutSettings,
    error::{DomainError, DomainResult},
};

/// The three columns lockout works on, for one entity.
#[derive(Debug, Clone, Copy)]
pub struct Columns<E: EntityTrait> {
    pub id: E::Column,
    pub failed_count: E::Column,
    pub locked_until: E::Column,
}

#[derive(Debug, Clone, Copy)]
pub struct Lockout<'a, E: EntityTrait> {
    pub settings: &'a LockoutSettings,
    pub columns: Columns<E>,
}

impl<'a, E: EntityTrait> Lockout<'a, E> {
    pub fn new(settings: &'a LockoutSettings, columns: Columns<E>) -> Self {
        Self { settings, columns }
    }

    /// Claims one attempt: `failed_count += 1` unless locked. Past the limit,
    /// the claim itself locks the account (provisionally, for the maximum) so
    /// only this one attempt is evaluated until it is decided.
    pub async fn claim<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> DomainResult<()> {
        use sea_orm::sea_query::ExprTrait as _;
        let Columns { id: id_col, failed_count, locked_until } = self.columns;
        let max = self.settings.max_failures as i32;
        let provisional = now + Duration::seconds(self.settings.max_seconds as i64);
        let claimed = E::update_many()
            .col_expr(failed_count, Expr::col(failed_count).add(1))
            .col_expr(
                locked_until,
                Expr::case(Expr::col(failed_count).gte(max), Expr::value(provisional))
                    .finally(Expr::col(locked_until))
                    .into(),
            )
            .filter(id_col.eq(id))
            .filter(locked_until.is_null().or(locked_until.lte(now)))
            .exec(conn)
            .await?;
        if claimed.rows_affected == 1 {
            return Ok(());
        }
        let (_, until) = self.state(conn, id).await?;
        Err(locked(until.unwrap_or(now), now))
    }

    /// After a wrong password: INVALID_CREDENTIALS, or ACCOUNT_LOCKED once the
    /// limit is reached (the lock is then stored).
    pub async fn record_failure<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> DomainResult<DomainError> {
        let (failures, _) = self.state(conn, id).await?;
        let over = failures - self.settings.max_failures as i32;
        if over < 0 {
            return Ok(DomainError::InvalidCredentials);
        }
        let seconds = self
            .settings
            .base_seconds
            .saturating_mul(1u64 << over.min(20))
            .min(self.settings.max_seconds);
        let until = now + Duration::seconds(seconds as i64);
        E::update_many()
            .col_expr(self.columns.locked_until, Expr::value(until))
            .filter(self.columns.id.eq(id))
            .exec(conn)
            .await?;
        Ok(locked(until, now))
    }

    async fn state<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: Uuid,
    ) -> DomainResult<(i32, Option<DateTime<Utc>>)> {
        E::find()
            .select_only()
            .column(self.columns.failed_count)
            .column(self.columns.locked_until)
            .filter(self.columns.id.eq(id))
            .into_tuple::<(i32, Option<DateTime<Utc>>)>()
            .one(conn)
            .await?
            .ok_or(DomainError::InvalidCredentials)
    }
}

fn locked(until: DateTime<Utc>, now: DateTime<Utc>) -> DomainError {
    let seconds = (until - now).num_seconds().max(1) as u64;
    DomainError::AccountLocked { retry_after: std::time::Duration::from_secs(seconds) }
}
