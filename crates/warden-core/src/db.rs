//! Opening the database and keeping its schema current.

use std::{path::Path, time::Duration};

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteConnectOptions, SqliteError, SqliteJournalMode, SqliteSynchronous},
};
use warden_migration::{Migrator, MigratorTrait};

/// The SQLite URL for a data directory: the embedded default.
pub fn sqlite_url_in(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("warden.db").display())
}

/// How the connection pool is sized and how long callers wait for it.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self { max_connections: 16, acquire_timeout: Duration::from_secs(5) }
    }
}

/// Opens a pool on `postgres://…` or `sqlite://…`. SQLite runs in WAL mode
/// with a busy timeout, so readers never block the single writer.
pub async fn connect(url: &str, pool: &PoolSettings) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(pool.max_connections)
        .min_connections(1)
        .acquire_timeout(pool.acquire_timeout)
        .connect_timeout(pool.acquire_timeout)
        // sqlx logs every statement with its parameters; those can hold digests.
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts: SqliteConnectOptions| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
        });
    Database::connect(options).await
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// The names of the migrations not applied yet, oldest first.
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    let pending = Migrator::get_pending_migrations(db).await?;
    Ok(pending.iter().map(|migration| migration.name().to_owned()).collect())
}

/// A cheap round trip, for health checks.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// Refreshes PostgreSQL's planner statistics for the users tables after a
/// bulk write. Until autovacuum catches up (or forever, where it is off),
/// the planner would estimate from stale counts: at 100,000 users it then
/// sorted a 10% role's 10,000 rows per ListUsers page instead of walking
/// the created_at index (BENCHMARKS.md). SQLite plans without statistics.
pub async fn analyze_users_tables(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    db.execute_unprepared("ANALYZE users, user_roles, user_identities").await.map(|_| ())
}

/// What a database error means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The database cannot be reached or is restarting: UNAVAILABLE, retry later.
    Unreachable,
    /// A concurrent transaction won (deadlock, serialization failure, busy
    /// SQLite): ABORTED, retry now.
    Contention,
    /// Anything else is a bug or a broken invariant: INTERNAL.
    Other,
}

/// Classifies `err` by what went wrong, never by its message text.
pub fn fault_of(err: &DbErr) -> Fault {
    use sea_orm::{RuntimeErr, sqlx::Error as Sqlx};
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return Fault::Unreachable,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return Fault::Other,
    };
    match sqlx.as_ref() {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::Protocol(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed => Fault::Unreachable,
        Sqlx::Database(db) => match (db.try_downcast_ref::<SqliteError>(), db.code()) {
            (Some(_), Some(code)) => sqlite_fault(&code),
            (None, Some(code)) => postgres_fault(&code),
            _ => Fault::Other,
        },
        _ => Fault::Other,
    }
}

/// A PostgreSQL SQLSTATE.
fn postgres_fault(code: &str) -> Fault {
    match code {
        // serialization_failure, deadlock_detected, lock_not_available
        "40001" | "40P01" | "55P03" => Fault::Contention,
        // connection_exception (08xxx); admin or crash shutdown, cannot connect
        // now (restarting); too many connections; database dropped under us.
        c if c.starts_with("08") => Fault::Unreachable,
        "57P01" | "57P02" | "57P03" | "53300" | "3D000" => Fault::Unreachable,
        _ => Fault::Other,
    }
}

/// An SQLite extended result code; the primary code is its low byte.
fn sqlite_fault(code: &str) -> Fault {
    match code.parse::<u32>().map(|n| n & 0xff) {
        // SQLITE_BUSY, SQLITE_LOCKED (once the busy timeout has run out)
        Ok(5 | 6) => Fault::Contention,
        // SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN
        Ok(10 | 13 | 14) => Fault::Unreachable,
        _ => Fault::Other,
    }
}

/// Opens a transaction that will write. On SQLite it takes the write lock at
/// `BEGIN IMMEDIATE`, so concurrent writers queue on the busy timeout instead
/// of failing with "database is locked" when a read turns into a write.
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified_by_kind() {
        assert_eq!(postgres_fault("40P01"), Fault::Contention);
        assert_eq!(postgres_fault("40001"), Fault::Contention);
        assert_eq!(postgres_fault("57P01"), Fault::Unreachable);
        assert_eq!(postgres_fault("08006"), Fault::Unreachable);
        assert_eq!(postgres_fault("23505"), Fault::Other);
        assert_eq!(sqlite_fault("5"), Fault::Contention);
        assert_eq!(sqlite_fault("517"), Fault::Contention); // SQLITE_BUSY_SNAPSHOT
        assert_eq!(sqlite_fault("2067"), Fault::Other); // SQLITE_CONSTRAINT_UNIQUE
    }
}
