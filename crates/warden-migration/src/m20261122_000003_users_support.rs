//! What user management needs beyond the first schema:
//! - `mfa_devices`, so deleting a user can cascade over (and count) them and
//!   `mfa_enabled` has something to stand for;
//! - on PostgreSQL, trigram indexes (pg_trgm) for case-insensitive substring
//!   search on email, username and names, and a GIN index for metadata
//!   key = value filters, so a filtered page never scans the users table.
//!   SQLite, the embedded single-node default, uses its b-tree indexes only.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DatabaseBackend};

use crate::helpers::{drop_table, index, ts, ts_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_SEARCH_INDEXES: &[&str] = &[
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS idx_users_email_trgm ON users USING gin (email_normalized gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS idx_users_username_trgm ON users USING gin (lower(username) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS idx_users_given_name_trgm ON users USING gin (lower(given_name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS idx_users_family_name_trgm ON users USING gin (lower(family_name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS idx_users_metadata ON users USING gin (metadata jsonb_path_ops)",
];

const POSTGRES_SEARCH_INDEX_NAMES: &[&str] = &[
    "idx_users_email_trgm",
    "idx_users_username_trgm",
    "idx_users_given_name_trgm",
    "idx_users_family_name_trgm",
    "idx_users_metadata",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MfaDevices::Table)
                    .col(pk_uuid(MfaDevices::Id))
                    .col(uuid(MfaDevices::UserId))
                    .col(string(MfaDevices::Kind))
                    .col(string(MfaDevices::Name))
                    .col(blob_null(MfaDevices::Secret))
                    .col(boolean(MfaDevices::IsPreferred).default(false))
                    .col(ts_null(MfaDevices::ConfirmedAt))
                    .col(ts_null(MfaDevices::LastUsedAt))
                    .col(ts(MfaDevices::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_mfa_devices_user_id")
                            .from(MfaDevices::Table, MfaDevices::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_mfa_devices_user_id", MfaDevices::Table, [MfaDevices::UserId]).await?;
        index(manager, "idx_users_email_verified", Users::Table, [Users::EmailVerified]).await?;
        index(manager, "idx_users_disabled_until", Users::Table, [Users::DisabledUntil]).await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            let db = manager.get_connection();
            for statement in POSTGRES_SEARCH_INDEXES {
                db.execute_unprepared(statement).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            let db = manager.get_connection();
            for name in POSTGRES_SEARCH_INDEX_NAMES {
                db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}")).await?;
            }
        }
        manager
            .drop_index(
                Index::drop().name("idx_users_disabled_until").table(Users::Table).to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop().name("idx_users_email_verified").table(Users::Table).to_owned(),
            )
            .await?;
        drop_table(manager, MfaDevices::Table).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum MfaDevices {
    Table,
    Id,
    UserId,
    Kind,
    Name,
    Secret,
    IsPreferred,
    ConfirmedAt,
    LastUsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    EmailVerified,
    DisabledUntil,
}
