//! Values read when Prometheus scrapes, not counted as they happen: the
//! connection pool's state and the outbox's backlog.

use sea_orm::{
    ColumnTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
};

use crate::entity::outbox_messages::{Column, Entity as Outbox};

/// Connections of this replica's pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    pub in_use: u64,
    pub idle: u64,
    pub max: u64,
}

/// The pool's state right now; `None` for a connection that is not a sqlx
/// pool (never the case for a server).
pub fn pool_state(db: &DatabaseConnection, max: u32) -> Option<PoolState> {
    let (size, idle) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => return None,
    };
    let idle = u64::try_from(idle).unwrap_or(u64::MAX);
    Some(PoolState { in_use: u64::from(size).saturating_sub(idle), idle, max: u64::from(max) })
}

/// Messages waiting to be sent (not delivered, not failed for good), across
/// every replica: the outbox is shared.
pub async fn outbox_depth(db: &DatabaseConnection) -> Result<u64, DbErr> {
    Outbox::find()
        .filter(Column::DeliveredAt.is_null())
        .filter(Column::FailedAt.is_null())
        .count(db)
        .await
}
