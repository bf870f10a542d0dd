//! Lockout after failed sign-ins, shared by admins and end users.
//!
//! A counter belongs to whatever the caller named: an account (its own row's
//! `failed_login_count`, `locked_until`, `last_failed_at`) or, when no account
//! has that identifier, the identifier itself (a `sign_in_throttle` row keyed
//! by a digest of account kind + normalized identifier). Both run the same
//! statements with the same rules, so lockout answers never tell an existing
//! account from a missing one. Unknown-identifier rows expire with their
//! counter ([`purge_expired`]); no account is ever created for them.
//!
//! Lockout is decided before the password is checked, by one atomic UPDATE
//! that claims the attempt: of any number of concurrent guesses, at most
//! `max_failures + 1` are ever evaluated before the counter locks. After a
//! wrong password the lock lasts `base * 2^(failures - limit)`, capped. A
//! counter quiet for `reset_after_seconds` starts again from zero.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
    sea_query::{Expr, OnConflict, SimpleExpr},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    entity::{admins, sign_in_throttle, users},
    error::{DomainError, DomainResult},
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockoutSettings {
    /// Wrong passwords in a row before the counter locks.
    pub max_failures: u32,
    /// First lock length; each further failure doubles it.
    pub base_seconds: u64,
    pub max_seconds: u64,
    /// A counter with no failure for this long starts again from zero.
    pub reset_after_seconds: u64,
}

impl Default for LockoutSettings {
    fn default() -> Self {
        Self {
            max_failures: 5,
            base_seconds: 30,
            max_seconds: 3600,
            reset_after_seconds: 12 * 3600,
        }
    }
}

impl LockoutSettings {
    fn reset_after(&self) -> Duration {
        Duration::seconds(i64::try_from(self.reset_after_seconds).unwrap_or(i64::MAX / 2))
    }
}

/// Which table an account kind keeps its counters in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    Admin,
    User,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::User => "user",
        }
    }
}

impl From<AccountKind> for crate::metrics::Account {
    fn from(kind: AccountKind) -> Self {
        match kind {
            AccountKind::Admin => Self::Admin,
            AccountKind::User => Self::User,
        }
    }
}

/// The counter an attempt charges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    Account(AccountKind, Uuid),
    /// An identifier no account has (key: [`unknown_key`]).
    Unknown(Uuid),
}

impl Counter {
    /// The counter of `account`, or of the identifier when there is none.
    pub fn of(kind: AccountKind, account: Option<Uuid>, normalized_identifier: &str) -> Self {
        match account {
            Some(id) => Self::Account(kind, id),
            None => Self::Unknown(unknown_key(kind, normalized_identifier)),
        }
    }
}

/// A stable key for an identifier without an account; the identifier itself
/// is never stored.
fn unknown_key(kind: AccountKind, normalized_identifier: &str) -> Uuid {
    let digest = Sha256::new()
        .chain_update(kind.as_str())
        .chain_update([0])
        .chain_update(normalized_identifier)
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

/// The lockout policy, applied to any [`Counter`].
#[derive(Debug, Clone, Copy)]
pub struct Lockout<'a> {
    pub settings: &'a LockoutSettings,
}

impl<'a> Lockout<'a> {
    pub fn new(settings: &'a LockoutSettings) -> Self {
        Self { settings }
    }

    /// Claims one attempt: counts it unless locked. Past the limit the claim
    /// itself locks the counter (provisionally, for the maximum), so only this
    /// one attempt is evaluated until it is decided.
    pub async fn claim<C: ConnectionTrait>(
        &self,
        conn: &C,
        counter: Counter,
        now: DateTime<Utc>,
    ) -> DomainResult<()> {
        if let Counter::Unknown(id) = counter {
            ensure_throttle_row(conn, id).await?;
        }
        let claimed = match counter {
            Counter::Account(AccountKind::Admin, id) => {
                self.claim_in::<admins::Entity, _>(conn, COLUMNS_ADMINS, id, now).await?
            }
            Counter::Account(AccountKind::User, id) => {
                self.claim_in::<users::Entity, _>(conn, COLUMNS_USERS, id, now).await?
            }
            Counter::Unknown(id) => {
                self.claim_in::<sign_in_throttle::Entity, _>(conn, COLUMNS_THROTTLE, id, now)
                    .await?
            }
        };
        if claimed {
            return Ok(());
        }
        let (_, until) = state(conn, counter).await?;
        Err(locked(until.unwrap_or(now), now))
    }

    /// After a wrong password: INVALID_CREDENTIALS, or ACCOUNT_LOCKED once the
    /// limit is reached (the lock is then stored).
    pub async fn record_failure<C: ConnectionTrait>(
        &self,
        conn: &C,
        counter: Counter,
        now: DateTime<Utc>,
    ) -> DomainResult<DomainError> {
        let (failures, _) = state(conn, counter).await?;
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
        match counter {
            Counter::Account(AccountKind::Admin, id) => {
                store_lock::<admins::Entity, _>(conn, COLUMNS_ADMINS, id, until).await?
            }
            Counter::Account(AccountKind::User, id) => {
                store_lock::<users::Entity, _>(conn, COLUMNS_USERS, id, until).await?
            }
            Counter::Unknown(id) => {
                store_lock::<sign_in_throttle::Entity, _>(conn, COLUMNS_THROTTLE, id, until).await?
            }
        }
        Ok(locked(until, now))
    }

    async fn claim_in<E: EntityTrait, C: ConnectionTrait>(
        &self,
        conn: &C,
        columns: Columns<E::Column>,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> DomainResult<bool> {
        // Scoped: ExprTrait's `min`/`max` would shadow `Ord`'s in the module.
        use sea_orm::sea_query::ExprTrait as _;
        let Columns { id: id_col, failed_count, locked_until, last_failed_at } = columns;
        let max = self.settings.max_failures as i32;
        let provisional = now + Duration::seconds(self.settings.max_seconds as i64);
        // Failures older than the reset window no longer count.
        let stale = Expr::col(last_failed_at)
            .is_null()
            .or(Expr::col(last_failed_at).lte(now - self.settings.reset_after()));
        let counted: SimpleExpr =
            Expr::case(stale, Expr::value(0)).finally(Expr::col(failed_count)).into();
        let claimed = E::update_many()
            .col_expr(failed_count, counted.clone().add(1))
            .col_expr(
                locked_until,
                Expr::case(counted.gte(max), Expr::value(provisional))
                    .finally(Expr::col(locked_until))
                    .into(),
            )
            .col_expr(last_failed_at, Expr::value(now))
            .filter(id_col.eq(id))
            .filter(locked_until.is_null().or(locked_until.lte(now)))
            .exec(conn)
            .await?;
        Ok(claimed.rows_affected == 1)
    }
}

/// The columns lockout works on, for one table.
#[derive(Debug, Clone, Copy)]
struct Columns<C> {
    id: C,
    failed_count: C,
    locked_until: C,
    last_failed_at: C,
}

const COLUMNS_ADMINS: Columns<admins::Column> = Columns {
    id: admins::Column::Id,
    failed_count: admins::Column::FailedLoginCount,
    locked_until: admins::Column::LockedUntil,
    last_failed_at: admins::Column::LastFailedAt,
};

const COLUMNS_USERS: Columns<users::Column> = Columns {
    id: users::Column::Id,
    failed_count: users::Column::FailedLoginCount,
    locked_until: users::Column::LockedUntil,
    last_failed_at: users::Column::LastFailedAt,
};

const COLUMNS_THROTTLE: Columns<sign_in_throttle::Column> = Columns {
    id: sign_in_throttle::Column::Id,
    failed_count: sign_in_throttle::Column::FailedLoginCount,
    locked_until: sign_in_throttle::Column::LockedUntil,
    last_failed_at: sign_in_throttle::Column::LastFailedAt,
};

/// The counter row of an unknown identifier exists before it is claimed.
async fn ensure_throttle_row<C: ConnectionTrait>(conn: &C, id: Uuid) -> DomainResult<()> {
    let row = sign_in_throttle::ActiveModel {
        id: Set(id),
        failed_login_count: Set(0),
        locked_until: Set(None),
        last_failed_at: Set(None),
    };
    sign_in_throttle::Entity::insert(row)
        .on_conflict(OnConflict::column(sign_in_throttle::Column::Id).do_nothing().to_owned())
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

async fn store_lock<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    columns: Columns<E::Column>,
    id: Uuid,
    until: DateTime<Utc>,
) -> DomainResult<()> {
    E::update_many()
        .col_expr(columns.locked_until, Expr::value(until))
        .filter(columns.id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

async fn state<C: ConnectionTrait>(
    conn: &C,
    counter: Counter,
) -> DomainResult<(i32, Option<DateTime<Utc>>)> {
    let found = match counter {
        Counter::Account(AccountKind::Admin, id) => {
            read::<admins::Entity, _>(conn, COLUMNS_ADMINS, id).await?
        }
        Counter::Account(AccountKind::User, id) => {
            read::<users::Entity, _>(conn, COLUMNS_USERS, id).await?
        }
        Counter::Unknown(id) => {
            read::<sign_in_throttle::Entity, _>(conn, COLUMNS_THROTTLE, id).await?
        }
    };
    found.ok_or(DomainError::InvalidCredentials)
}

async fn read<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    columns: Columns<E::Column>,
    id: Uuid,
) -> DomainResult<Option<(i32, Option<DateTime<Utc>>)>> {
    Ok(E::find()
        .select_only()
        .column(columns.failed_count)
        .column(columns.locked_until)
        .filter(columns.id.eq(id))
        .into_tuple::<(i32, Option<DateTime<Utc>>)>()
        .one(conn)
        .await?)
}

fn locked(until: DateTime<Utc>, now: DateTime<Utc>) -> DomainError {
    let seconds = (until - now).num_seconds().max(1) as u64;
    DomainError::AccountLocked { retry_after: std::time::Duration::from_secs(seconds) }
}

/// Deletes unknown-identifier counters that no longer lock and whose failures
/// no longer count; returns how many. Run periodically: it keeps the table
/// bounded by what the per-peer rate limit lets through in one reset window.
pub async fn purge_expired<C: ConnectionTrait>(
    conn: &C,
    settings: &LockoutSettings,
    now: DateTime<Utc>,
) -> DomainResult<u64> {
    use sea_orm::sea_query::ExprTrait as _;
    use sign_in_throttle::Column;
    let deleted = sign_in_throttle::Entity::delete_many()
        .filter(Column::LockedUntil.is_null().or(Column::LockedUntil.lte(now)))
        .filter(
            Column::LastFailedAt
                .is_null()
                .or(Column::LastFailedAt.lte(now - settings.reset_after())),
        )
        .exec(conn)
        .await?;
    Ok(deleted.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_depend_on_kind_and_identifier_only() {
        let a = unknown_key(AccountKind::Admin, "x@example.com");
        assert_eq!(a, unknown_key(AccountKind::Admin, "x@example.com"));
        assert_ne!(a, unknown_key(AccountKind::User, "x@example.com"));
        assert_ne!(a, unknown_key(AccountKind::Admin, "y@example.com"));
    }
}
