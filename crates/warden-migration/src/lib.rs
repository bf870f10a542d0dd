//! Warden's schema, as an append-only list of SeaORM migrations.
//!
//! Never edit a migration once it has landed: add a new
//! `mYYYYMMDD_NNNNNN_<name>.rs` file and append it to [`Migrator::migrations`].
//! Every migration must run (up and down) on SQLite and on PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod helpers;
mod m20261122_000001_initial;
mod m20261122_000002_auth_support;
mod m20261122_000003_users_support;
mod m20261122_000004_users_listing_indexes;
mod m20261122_000005_users_email_prefix_index;
mod m20261202_000006_hardening;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;

/// Applies Warden's migrations in order (`Migrator::up(&db, None)`).
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_initial::Migration),
            Box::new(m20261122_000002_auth_support::Migration),
            Box::new(m20261122_000003_users_support::Migration),
            Box::new(m20261122_000004_users_listing_indexes::Migration),
            Box::new(m20261122_000005_users_email_prefix_index::Migration),
            Box::new(m20261202_000006_hardening::Migration),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm_migration::sea_orm::{Database, DatabaseConnection};

    const TABLES: [&str; 16] = [
        "admins",
        "users",
        "user_roles",
        "user_identities",
        "sessions",
        "refresh_tokens",
        "api_keys",
        "signing_keys",
        "audit_events",
        "verification_tokens",
        "instance",
        "idempotency_keys",
        "outbox_messages",
        "mfa_devices",
        "sign_in_throttle",
        "server_secrets",
    ];

    const INDEXES: &[(&str, &str)] = &[
        ("mfa_devices", "idx_mfa_devices_user_id"),
        ("users", "idx_users_email_verified"),
        ("outbox_messages", "idx_outbox_messages_delivered_at_available_at"),
        ("admins", "uq_admins_email_normalized"),
        ("admins", "idx_admins_created_at_id"),
        ("users", "uq_users_email_normalized"),
        ("users", "uq_users_username_normalized"),
        ("users", "uq_users_phone"),
        ("users", "idx_users_created_at_id"),
        ("users", "idx_users_updated_at_id"),
        ("users", "idx_users_last_login_at_id"),
        ("user_roles", "idx_user_roles_role"),
        ("user_identities", "uq_user_identities_provider_provider_user_id"),
        ("user_identities", "idx_user_identities_user_id"),
        ("sessions", "idx_sessions_principal_type_principal_id"),
        ("refresh_tokens", "uq_refresh_tokens_token_digest"),
        ("refresh_tokens", "idx_refresh_tokens_family_id"),
        ("refresh_tokens", "idx_refresh_tokens_session_id"),
        ("api_keys", "uq_api_keys_prefix"),
        ("api_keys", "idx_api_keys_created_at_id"),
        ("audit_events", "idx_audit_events_occurred_at_id"),
        ("audit_events", "idx_audit_events_actor_type_actor_id"),
        ("audit_events", "idx_audit_events_target_type_target_id"),
        ("audit_events", "idx_audit_events_action"),
        ("verification_tokens", "uq_verification_tokens_token_digest"),
        ("verification_tokens", "idx_verification_tokens_principal_type_principal_id"),
        ("sign_in_throttle", "idx_sign_in_throttle_last_failed_at"),
    ];

    fn unique_suffix() -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        format!("{:x}_{:x}", std::process::id(), nanos)
    }

    async fn assert_schema(db: &DatabaseConnection, present: bool) {
        let manager = SchemaManager::new(db);
        for table in TABLES {
            let has = manager.has_table(table).await.expect("has_table");
            assert_eq!(has, present, "table {table} present={has}, expected {present}");
        }
        if present {
            for &(table, index) in INDEXES {
                let has = manager.has_index(table, index).await.expect("has_index");
                assert!(has, "index {index} on {table} missing");
            }
        }
    }

    async fn up_down_up(db: &DatabaseConnection) {
        Migrator::up(db, None).await.expect("first up");
        assert_schema(db, true).await;
        assert!(Migrator::get_pending_migrations(db).await.expect("pending").is_empty());
        // Idempotent: nothing left to apply.
        Migrator::up(db, None).await.expect("second up is a no-op");

        Migrator::down(db, None).await.expect("down");
        assert_schema(db, false).await;

        Migrator::up(db, None).await.expect("up after down");
        assert_schema(db, true).await;
    }

    #[tokio::test]
    async fn up_down_up_on_sqlite() {
        let path = std::env::temp_dir().join(format!("warden_mig_{}.db", unique_suffix()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = Database::connect(&url).await.expect("connect sqlite");
        up_down_up(&db).await;
        db.close().await.expect("close");
        for ext in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
        }
    }

    #[tokio::test]
    async fn up_down_up_on_sqlite_memory() {
        let db = Database::connect("sqlite::memory:").await.expect("connect sqlite memory");
        up_down_up(&db).await;
    }

    #[tokio::test]
    async fn up_down_up_on_postgres() {
        let Some(pg) = crate::test_support::PostgresDatabase::create().await else { return };
        let db = Database::connect(&pg.url).await.expect("connect to the fresh database");
        up_down_up(&db).await;
        db.close().await.expect("close");
    }
}
