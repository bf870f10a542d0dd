//! The notifier: a transactional outbox plus a delivery worker.
//!
//! Use cases call [`enqueue`] with their own transaction, so an email exists
//! exactly when the mutation that caused it commits. The worker
//! ([`run_worker`], one pass: [`deliver_due`]) later sends due rows through a
//! [`Transport`] (`log` for development, `smtp` via lettre) and retries
//! failures with exponential backoff. Delivery is at-least-once: a replica
//! claims a row with a lease before sending, so replicas never send the same
//! row concurrently, but a crash between "sent" and "marked delivered" resends
//! it once the lease expires.
//!
//! Messages that carry a single-use link are templated ([`templates`]): the
//! token is minted at delivery, and every body is purged once the message is
//! delivered or has failed for good, so the outbox never keeps a usable link.

mod settings;
pub mod templates;
mod transport;
mod worker;

/// An in-process SMTP sink for tests (this crate's and, with the
/// `test-support` feature, the black-box suite's).
#[cfg(any(test, feature = "test-support"))]
#[allow(clippy::unwrap_used)]
pub mod smtp_sink;
#[cfg(test)]
mod tests;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};
use uuid::Uuid;

use crate::entity::outbox_messages;

pub use settings::{NotifierSettings, SmtpPassword, SmtpSettings, SmtpTls, TransportKind};
pub use templates::Template;
pub use transport::{
    LogTransport, SmtpTransport, Transport, TransportConfigError, TransportError, transport_from,
};
pub use worker::{DeliveryReport, deliver_due, run_worker};

/// The only channel today; the column leaves room for others (e.g. sms).
pub const CHANNEL_EMAIL: &str = "email";

/// Log target for everything the notifier logs.
pub const LOG_TARGET: &str = "warden::notify";

/// A plain-text email.
#[derive(Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body_text: String,
}

// Bodies carry reset and invite links: Debug shows only their size.
impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("body_text", &format_args!("<{} bytes>", self.body_text.len()))
            .finish()
    }
}

/// Writes `email` to the outbox, due at `now`. Pass the transaction of the
/// mutation that causes it, so the two commit or roll back together.
pub async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    email: Email,
    now: DateTime<Utc>,
) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    let now = db_time(now);
    let row = outbox_messages::ActiveModel {
        id: Set(id),
        channel: Set(CHANNEL_EMAIL.to_owned()),
        recipient: Set(email.to),
        subject: Set(email.subject),
        body_text: Set(email.body_text),
        created_at: Set(now),
        available_at: Set(now),
        attempts: Set(0),
        last_error: Set(None),
        delivered_at: Set(None),
        failed_at: Set(None),
        template: Set(None),
        params: Set(None),
        token_id: Set(None),
    };
    outbox_messages::Entity::insert(row).exec_without_returning(conn).await?;
    Ok(id)
}

/// Writes a message whose link carries the verification token `token_id`,
/// which the worker mints when it sends it. Pass the mutation's transaction.
/// The token row must exist, with an unknowable placeholder digest
/// ([`crate::auth::tokens::refresh::placeholder_digest`]).
pub async fn enqueue_with_token<C: ConnectionTrait>(
    conn: &C,
    to: &str,
    template: Template,
    token_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    let now = db_time(now);
    let params = serde_json::to_value(&template).map_err(|err| DbErr::Json(err.to_string()))?;
    let row = outbox_messages::ActiveModel {
        id: Set(id),
        channel: Set(CHANNEL_EMAIL.to_owned()),
        recipient: Set(to.to_owned()),
        subject: Set(template.subject().to_owned()),
        body_text: Set(String::new()),
        created_at: Set(now),
        available_at: Set(now),
        attempts: Set(0),
        last_error: Set(None),
        delivered_at: Set(None),
        failed_at: Set(None),
        template: Set(Some(template.name().to_owned())),
        params: Set(Some(params)),
        token_id: Set(Some(token_id)),
    };
    outbox_messages::Entity::insert(row).exec_without_returning(conn).await?;
    Ok(id)
}

/// PostgreSQL keeps microseconds; truncating first makes the value written
/// equal to the value read back on both backends, which the claim's
/// compare-and-set on `available_at` relies on.
fn db_time(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}
