//! What the hardening pass needs:
//! - `sign_in_throttle`: failure counters for sign-in identifiers that belong
//!   to no account, so an unknown email locks exactly like a real one and
//!   lockout never tells which accounts exist. Rows expire with the counter.
//! - `last_failed_at` on admins and users: a failure counter resets after a
//!   quiet period, on accounts and unknown identifiers alike.
//! - `server_secrets`: secrets every replica shares (the page-token HMAC key).
//! - outbox rows that carry a link are rendered at delivery: `template` and
//!   its non-secret `params`, and the `token_id` whose raw value is minted
//!   only then. Bodies of rows written before hold live links in clear: they
//!   are purged, and the undelivered ones failed (their links stay unknown).

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
                    .table(SignInThrottle::Table)
                    .col(pk_uuid(SignInThrottle::Id))
                    .col(integer(SignInThrottle::FailedLoginCount).default(0))
                    .col(ts_null(SignInThrottle::LockedUntil))
                    .col(ts_null(SignInThrottle::LastFailedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_sign_in_throttle_last_failed_at",
            SignInThrottle::Table,
            [SignInThrottle::LastFailedAt],
        )
        .await?;
        for table in [Accounts::Admins, Accounts::Users] {
            let add =
                Table::alter().table(table).add_column(ts_null(Accounts::LastFailedAt)).to_owned();
            manager.alter_table(add).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ServerSecrets::Table)
                    .col(string(ServerSecrets::Name).primary_key())
                    .col(blob(ServerSecrets::Secret))
                    .col(ts(ServerSecrets::CreatedAt))
                    .to_owned(),
            )
            .await?;
        for column in [
            string_null(OutboxMessages::Template),
            json_binary_null(OutboxMessages::Params),
            uuid_null(OutboxMessages::TokenId),
        ] {
            let add = Table::alter().table(OutboxMessages::Table).add_column(column).to_owned();
            manager.alter_table(add).await?;
        }
        purge_legacy_outbox(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [OutboxMessages::TokenId, OutboxMessages::Params, OutboxMessages::Template] {
            let drop = Table::alter().table(OutboxMessages::Table).drop_column(column).to_owned();
            manager.alter_table(drop).await?;
        }
        drop_table(manager, ServerSecrets::Table).await?;
        for table in [Accounts::Users, Accounts::Admins] {
            let drop = Table::alter().table(table).drop_column(Accounts::LastFailedAt).to_owned();
            manager.alter_table(drop).await?;
        }
        drop_table(manager, SignInThrottle::Table).await
    }
}

/// Rows from before carry reset and invitation links in their body.
async fn purge_legacy_outbox(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let fail_pending = Query::update()
        .table(OutboxMessages::Table)
        .value(OutboxMessages::FailedAt, Expr::current_timestamp())
        .value(OutboxMessages::LastError, "purged: written before links were minted at delivery")
        .and_where(Expr::col(OutboxMessages::DeliveredAt).is_null())
        .and_where(Expr::col(OutboxMessages::FailedAt).is_null())
        .to_owned();
    manager.exec_stmt(fail_pending).await?;
    let purge =
        Query::update().table(OutboxMessages::Table).value(OutboxMessages::BodyText, "").to_owned();
    manager.exec_stmt(purge).await
}

#[derive(DeriveIden)]
enum SignInThrottle {
    Table,
    Id,
    FailedLoginCount,
    LockedUntil,
    LastFailedAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Admins,
    Users,
    LastFailedAt,
}

#[derive(DeriveIden)]
enum ServerSecrets {
    Table,
    Name,
    Secret,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OutboxMessages {
    Table,
    Template,
    Params,
    TokenId,
    BodyText,
    DeliveredAt,
    FailedAt,
    LastError,
}
