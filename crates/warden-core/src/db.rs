//! Opening the database and keeping its schema current.

use std::{path::Path, time::Duration};

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
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
