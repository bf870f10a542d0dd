//! A b-tree for email STARTS_WITH on PostgreSQL. The trigram index from
//! migration 3 serves a prefix too, but every address shares trigrams with
//! thousands of others ("exa", "com"): at 100,000 users a `load0123%` page
//! read 641 index pages in 8.6 ms. `varchar_pattern_ops` turns the LIKE into
//! an index range whatever the collation (0.1 ms, BENCHMARKS.md).
//!
//! SQLite gets the same effect from its unique index on `email_normalized`,
//! because ListUsers spells the prefix there as a range.

use sea_orm_migration::prelude::*;

use crate::helpers::{create_postgres_indexes, drop_postgres_indexes};

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_INDEXES: &[(&str, &str)] = &[(
    "idx_users_email_prefix",
    "CREATE INDEX IF NOT EXISTS idx_users_email_prefix ON users \
     (email_normalized varchar_pattern_ops)",
)];

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
