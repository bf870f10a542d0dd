//! The delivery worker: claims due outbox rows, sends them, records the outcome.
//!
//! Claiming is a compare-and-set on `available_at` (no `FOR UPDATE SKIP
//! LOCKED`, so it works on SQLite and PostgreSQL alike): the row is pushed a
//! lease into the future and its attempt counted in one UPDATE, and only the
//! replica whose UPDATE matched sends it.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use tokio::sync::watch;

use super::{Email, LOG_TARGET, NotifierSettings, Template, Transport, TransportError, db_time};
use crate::{
    auth::tokens::refresh,
    clock::Clock,
    entity::{
        outbox_messages::{self, Column, Entity as Outbox},
        verification_tokens,
    },
    metrics::DomainCounters,
};

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Sent and marked delivered.
    pub delivered: u64,
    /// Failed and scheduled for another attempt.
    pub retried: u64,
    /// Failed for good: attempts exhausted or the message is unsendable.
    pub failed: u64,
}

/// Runs [`deliver_due`] until `shutdown` turns true (or its sender is dropped).
/// Polls every `poll_interval_ms`, immediately again while batches come back
/// full. Shutdown may interrupt a send; the claimed row is retried after its
/// lease, so nothing is lost (at worst sent twice).
pub async fn run_worker(
    db: DatabaseConnection,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    settings: NotifierSettings,
    mut shutdown: watch::Receiver<bool>,
    counters: DomainCounters,
) {
    let idle = Duration::from_millis(settings.poll_interval_ms.max(10));
    tracing::info!(target: LOG_TARGET, transport = ?transport, "notifier worker started");
    loop {
        let pass = tokio::select! {
            pass = deliver_pass(&db, transport.as_ref(), clock.as_ref(), &settings) => pass,
            () = stopped(&mut shutdown) => break,
        };
        let full = match pass {
            Ok((report, selected)) => {
                counters.deliveries(&report);
                if report != DeliveryReport::default() {
                    tracing::debug!(target: LOG_TARGET, ?report, "notifier pass");
                }
                selected >= settings.batch_size.max(1)
            }
            Err(err) => {
                tracing::warn!(target: LOG_TARGET, error = %err, "notifier pass failed");
                false
            }
        };
        if full {
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(idle) => {}
            () = stopped(&mut shutdown) => break,
        }
    }
    tracing::info!(target: LOG_TARGET, "notifier worker stopped");
}

async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // An error means the sender is gone: treat that as shutdown too.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// One pass: claims up to `batch_size` due messages and tries each once.
pub async fn deliver_due(
    db: &DatabaseConnection,
    transport: &dyn Transport,
    clock: &dyn Clock,
    settings: &NotifierSettings,
) -> Result<DeliveryReport, DbErr> {
    deliver_pass(db, transport, clock, settings).await.map(|(report, _)| report)
}

/// The pass plus how many rows were due, so the loop knows to go again.
async fn deliver_pass(
    db: &DatabaseConnection,
    transport: &dyn Transport,
    clock: &dyn Clock,
    settings: &NotifierSettings,
) -> Result<(DeliveryReport, u64), DbErr> {
    let now = db_time(clock.now());
    let due = Outbox::find()
        .filter(Column::Channel.eq(super::CHANNEL_EMAIL))
        .filter(Column::DeliveredAt.is_null())
        .filter(Column::FailedAt.is_null())
        .filter(Column::AvailableAt.lte(now))
        .order_by_asc(Column::AvailableAt)
        .order_by_asc(Column::Id)
        .limit(settings.batch_size.max(1))
        .all(db)
        .await?;
    let selected = u64::try_from(due.len()).unwrap_or(u64::MAX);
    let mut report = DeliveryReport::default();
    for row in due {
        deliver_one(db, transport, clock, settings, row, &mut report).await?;
    }
    Ok((report, selected))
}

async fn deliver_one(
    db: &DatabaseConnection,
    transport: &dyn Transport,
    clock: &dyn Clock,
    settings: &NotifierSettings,
    row: outbox_messages::Model,
    report: &mut DeliveryReport,
) -> Result<(), DbErr> {
    let max_attempts = i64::from(settings.max_attempts.max(1));
    let now = db_time(clock.now());
    // Attempts are counted at claim time, so a sender that died mid-attempt
    // still used one up; such a row may come back already exhausted.
    if i64::from(row.attempts) >= max_attempts {
        if mark_failed_if_unchanged(db, &row, now).await? {
            report.failed += 1;
            spend_token(db, row.token_id, now).await?;
        }
        return Ok(());
    }
    let lease_until = db_time(now + settings.lease());
    let claimed = Outbox::update_many()
        .col_expr(Column::AvailableAt, Expr::value(lease_until))
        .col_expr(Column::Attempts, attempts_plus_one())
        .filter(Column::Id.eq(row.id))
        .filter(Column::AvailableAt.eq(row.available_at))
        .filter(Column::DeliveredAt.is_null())
        .filter(Column::FailedAt.is_null())
        .exec(db)
        .await?
        .rows_affected
        == 1;
    if !claimed {
        return Ok(()); // another replica has it
    }
    let attempt = row.attempts.saturating_add(1);
    let ours = Column::AvailableAt.eq(lease_until);
    let email = match compose(db, &row, now).await? {
        Composed::Ready(email) => email,
        Composed::Dead(why) => {
            tracing::info!(target: LOG_TARGET, message_id = %row.id, why, "message dropped");
            let updated = purged(Outbox::update_many())
                .col_expr(Column::FailedAt, Expr::value(Some(now)))
                .col_expr(Column::LastError, Expr::value(Some(why.to_owned())))
                .filter(Column::Id.eq(row.id))
                .filter(ours)
                .exec(db)
                .await?;
            report.failed += updated.rows_affected;
            return Ok(());
        }
    };
    let outcome = transport.send(&email).await;
    let done_at = db_time(clock.now());
    match outcome {
        Ok(()) => {
            // Not conditional on the lease: the mail left, whoever holds it now.
            purged(Outbox::update_many())
                .col_expr(Column::DeliveredAt, Expr::value(Some(done_at)))
                .filter(Column::Id.eq(row.id))
                .filter(Column::DeliveredAt.is_null())
                .exec(db)
                .await?;
            report.delivered += 1;
        }
        Err(err) if err.is_permanent() || i64::from(attempt) >= max_attempts => {
            warn_failure(&row.id, &email.to, attempt, &err, "email delivery failed for good");
            let updated = purged(Outbox::update_many())
                .col_expr(Column::FailedAt, Expr::value(Some(done_at)))
                .col_expr(Column::LastError, Expr::value(Some(err.to_string())))
                .filter(Column::Id.eq(row.id))
                .filter(ours)
                .filter(Column::DeliveredAt.is_null())
                .exec(db)
                .await?;
            report.failed += updated.rows_affected;
            // A half-sent link must not outlive the message that failed.
            spend_token(db, row.token_id, done_at).await?;
        }
        Err(err) => {
            let retry_at = db_time(done_at + settings.retry_delay(attempt.unsigned_abs()));
            warn_failure(&row.id, &email.to, attempt, &err, "email delivery failed; will retry");
            let updated = Outbox::update_many()
                .col_expr(Column::AvailableAt, Expr::value(retry_at))
                .col_expr(Column::LastError, Expr::value(Some(err.to_string())))
                .filter(Column::Id.eq(row.id))
                .filter(ours)
                .filter(Column::DeliveredAt.is_null())
                .exec(db)
                .await?;
            report.retried += updated.rows_affected;
        }
    }
    Ok(())
}

/// What a claimed row sends, if anything.
enum Composed {
    Ready(Email),
    /// Nothing worth sending (the link's token was used, superseded or has
    /// expired; the template is unknown): the row fails without an attempt.
    Dead(&'static str),
}

/// A plain row as stored; a templated one rendered around a token minted now
/// (its digest replaces the placeholder, so only this message can carry it).
async fn compose(
    db: &DatabaseConnection,
    row: &outbox_messages::Model,
    now: DateTime<Utc>,
) -> Result<Composed, DbErr> {
    let Some(params) = &row.params else {
        let email = Email {
            to: row.recipient.clone(),
            subject: row.subject.clone(),
            body_text: row.body_text.clone(),
        };
        return Ok(Composed::Ready(email));
    };
    let (Ok(template), Some(token_id)) =
        (serde_json::from_value::<Template>(params.clone()), row.token_id)
    else {
        return Ok(Composed::Dead("unknown template"));
    };
    let (token, digest) = refresh::generate();
    let minted = verification_tokens::Entity::update_many()
        .col_expr(verification_tokens::Column::TokenDigest, Expr::value(digest))
        .filter(verification_tokens::Column::Id.eq(token_id))
        .filter(verification_tokens::Column::ConsumedAt.is_null())
        .filter(verification_tokens::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    if minted.rows_affected != 1 {
        return Ok(Composed::Dead("the link is no longer valid"));
    }
    Ok(Composed::Ready(template.render(&row.recipient, &token)))
}

/// Clears what a finished row no longer needs: its body and parameters.
fn purged(update: sea_orm::UpdateMany<Outbox>) -> sea_orm::UpdateMany<Outbox> {
    update
        .col_expr(Column::BodyText, Expr::value(""))
        .col_expr(Column::Params, Expr::value(Option::<serde_json::Value>::None))
}

async fn spend_token(
    db: &DatabaseConnection,
    token_id: Option<uuid::Uuid>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let Some(token_id) = token_id else { return Ok(()) };
    verification_tokens::Entity::update_many()
        .col_expr(verification_tokens::Column::ConsumedAt, Expr::value(Some(now)))
        .filter(verification_tokens::Column::Id.eq(token_id))
        .filter(verification_tokens::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

fn attempts_plus_one() -> Expr {
    // Scoped: ExprTrait's `max` would shadow `Ord::max` in the whole module.
    use sea_orm::sea_query::ExprTrait;
    Expr::col(Column::Attempts).add(1)
}

/// Marks an exhausted row failed, unless another replica touched it first.
async fn mark_failed_if_unchanged(
    db: &DatabaseConnection,
    row: &outbox_messages::Model,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let updated = purged(Outbox::update_many())
        .col_expr(Column::FailedAt, Expr::value(Some(now)))
        .filter(Column::Id.eq(row.id))
        .filter(Column::AvailableAt.eq(row.available_at))
        .filter(Column::DeliveredAt.is_null())
        .filter(Column::FailedAt.is_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

// The recipient is fine to log; the error is the transport's own message,
// which never includes credentials.
fn warn_failure(id: &uuid::Uuid, to: &str, attempt: i32, err: &TransportError, what: &str) {
    tracing::warn!(
        target: LOG_TARGET,
        message_id = %id,
        recipient = %to,
        attempt,
        error = %err,
        "{what}"
    );
}
