//! What admin sign-in, idempotent creates and the notifier need:
//! - `instance`: one row. Setup stamps it, and every admin-set mutation locks
//!   it first, so "exactly one Setup wins" and "never remove the last admin"
//!   hold under concurrency on SQLite and PostgreSQL alike;
//! - `idempotency_keys`: the first answer to a create carrying a request_id;
//! - `outbox_messages`: notifications written in the mutation's transaction and
//!   delivered (with retries) by a worker.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{drop_table, index, ts, ts_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Instance::Table)
                    .col(integer(Instance::Id).primary_key())
                    .col(ts_null(Instance::SetupCompletedAt))
                    .col(big_integer(Instance::AdminGuard).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(Instance::Table)
                    .columns([Instance::Id, Instance::AdminGuard])
                    .values_panic([1.into(), 0.into()])
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(string(IdempotencyKeys::Operation))
                    .col(string(IdempotencyKeys::RequestId))
                    .col(string(IdempotencyKeys::ActorType))
                    .col(string_null(IdempotencyKeys::ActorId))
                    .col(blob(IdempotencyKeys::RequestDigest))
                    .col(uuid(IdempotencyKeys::ResourceId))
                    .col(ts(IdempotencyKeys::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::Operation)
                            .col(IdempotencyKeys::RequestId),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OutboxMessages::Table)
                    .col(pk_uuid(OutboxMessages::Id))
                    .col(string(OutboxMessages::Channel))
                    .col(string(OutboxMessages::Recipient))
                    .col(string(OutboxMessages::Subject))
                    .col(text(OutboxMessages::BodyText))
                    .col(ts(OutboxMessages::CreatedAt))
                    .col(ts(OutboxMessages::AvailableAt))
                    .col(integer(OutboxMessages::Attempts).default(0))
                    .col(text_null(OutboxMessages::LastError))
                    .col(ts_null(OutboxMessages::DeliveredAt))
                    .col(ts_null(OutboxMessages::FailedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_outbox_messages_delivered_at_available_at",
            OutboxMessages::Table,
            [OutboxMessages::DeliveredAt, OutboxMessages::AvailableAt],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_table(manager, OutboxMessages::Table).await?;
        drop_table(manager, IdempotencyKeys::Table).await?;
        drop_table(manager, Instance::Table).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum Instance {
    Table,
    Id,
    SetupCompletedAt,
    AdminGuard,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Operation,
    RequestId,
    ActorType,
    ActorId,
    RequestDigest,
    ResourceId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OutboxMessages {
    Table,
    Id,
    Channel,
    Recipient,
    Subject,
    BodyText,
    CreatedAt,
    AvailableAt,
    Attempts,
    LastError,
    DeliveredAt,
    FailedAt,
}
