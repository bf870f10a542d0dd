//! Indexes ListUsers needs on PostgreSQL beyond migration 3, found by
//! EXPLAIN at 100,000 users (BENCHMARKS.md):
//! - the sort keys of the nullable orders, exactly as the query spells them
//!   (`COALESCE(col, sentinel), id`), so ordering by last_login_at, username
//!   or phone reads an index instead of sorting the whole table;
//! - trigram indexes for the phone filter and for given + family name joined
//!   by a space, which the `name` and `search` CONTAINS filters read (one
//!   index instead of an OR over both names).
//!
//! SQLite, the embedded single-node default, keeps its b-tree indexes only.

use sea_orm_migration::prelude::*;

use crate::helpers::{create_postgres_indexes, drop_postgres_indexes};

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_INDEXES: &[(&str, &str)] = &[
    (
        "idx_users_last_login_sort",
        "CREATE INDEX IF NOT EXISTS idx_users_last_login_sort ON users \
         ((COALESCE(last_login_at, '1970-01-01 00:00:00+00'::timestamptz)), id)",
    ),
    (
        "idx_users_username_sort",
        "CREATE INDEX IF NOT EXISTS idx_users_username_sort ON users \
         ((COALESCE(username_normalized, '')), id)",
    ),
    (
        "idx_users_phone_sort",
        "CREATE INDEX IF NOT EXISTS idx_users_phone_sort ON users ((COALESCE(phone, '')), id)",
    ),
    (
        "idx_users_phone_trgm",
        "CREATE INDEX IF NOT EXISTS idx_users_phone_trgm ON users USING gin (phone gin_trgm_ops)",
    ),
    (
        "idx_users_full_name_trgm",
        "CREATE INDEX IF NOT EXISTS idx_users_full_name_trgm ON users USING gin \
         (lower(COALESCE(given_name, '') || ' ' || COALESCE(family_name, '')) gin_trgm_ops)",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_postgres_indexes(manager, POSTGRES_INDEXES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_postgres_indexes(manager, POSTGRES_INDEXES).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
