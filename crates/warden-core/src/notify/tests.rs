//! The outbox and worker against a real migrated database (SQLite, and
//! PostgreSQL when `WARDEN_TEST_POSTGRES_URL` is set) and a real SMTP listener.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait, TransactionTrait};
use tempfile::TempDir;
use uuid::Uuid;

use super::smtp_sink::SmtpSink;
use super::*;
use crate::{
    clock::{Clock, ManualClock},
    db::{PoolSettings, connect, migrate},
};

/// A start time with nanoseconds, so the microsecond truncation is exercised.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).single().unwrap()
        + Duration::nanoseconds(123_456_789)
}

async fn sqlite() -> (TempDir, DatabaseConnection) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("notify.db").display());
    let db = connect(&url, &PoolSettings::default()).await.unwrap();
    migrate(&db).await.unwrap();
    (dir, db)
}

fn email(to: &str, n: u32) -> Email {
    Email {
        to: to.to_owned(),
        subject: format!("Reset your password ({n})"),
        body_text: format!("Hello,\r\nreset here: https://warden.test/reset?token=abc{n}\r\n"),
    }
}

fn smtp_settings(port: u16) -> NotifierSettings {
    NotifierSettings {
        transport: TransportKind::Smtp,
        smtp: SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            username: Some("mailer".into()),
            password: Some(SmtpPassword::new("s3cret-smtp-pass")),
            from: "Warden Test <warden@example.test>".into(),
            tls: SmtpTls::None,
            timeout_seconds: 5,
        },
        max_attempts: 3,
        ..NotifierSettings::default()
    }
}

async fn enqueue_committed(db: &DatabaseConnection, email: Email, now: DateTime<Utc>) -> Uuid {
    let txn = db.begin().await.unwrap();
    let id = enqueue(&txn, email, now).await.unwrap();
    txn.commit().await.unwrap();
    id
}

async fn row(db: &DatabaseConnection, id: Uuid) -> outbox_messages::Model {
    outbox_messages::Entity::find_by_id(id).one(db).await.unwrap().unwrap()
}

/// A port nothing listens on: bound, then released.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// Records what it was asked to send.
#[derive(Debug, Default)]
struct Recording(Mutex<Vec<Email>>);

#[async_trait::async_trait]
impl Transport for Recording {
    async fn send(&self, email: &Email) -> Result<(), TransportError> {
        self.0.lock().unwrap().push(email.clone());
        Ok(())
    }
}

async fn check_smtp_delivery(db: &DatabaseConnection) {
    let sink = SmtpSink::start().await;
    let clock = ManualClock::new(t0());
    let settings = smtp_settings(sink.addr.port());
    let transport = transport_from(&settings).unwrap();
    let a = enqueue_committed(db, email("alice@example.test", 1), clock.now()).await;
    let b = enqueue_committed(db, email("Bob <bob@example.test>", 2), clock.now()).await;

    let report = deliver_due(db, transport.as_ref(), &clock, &settings).await.unwrap();
    assert_eq!(report, DeliveryReport { delivered: 2, retried: 0, failed: 0 });

    let received = sink.received();
    assert_eq!(received.len(), 2);
    for (rcpt, n) in [("alice@example.test", 1), ("bob@example.test", 2)] {
        let msg = received
            .iter()
            .find(|m| m.rcpt_to == [rcpt])
            .unwrap_or_else(|| panic!("nothing sent to {rcpt}"));
        assert_eq!(msg.mail_from, "warden@example.test");
        assert_eq!(msg.auth, Some(("mailer".into(), "s3cret-smtp-pass".into())));
        let from = msg.header("From").unwrap();
        assert!(from.contains("Warden Test") && from.contains("<warden@example.test>"), "{from}");
        assert!(msg.header("To").unwrap().contains(rcpt));
        assert_eq!(msg.header("Subject"), Some(format!("Reset your password ({n})").as_str()));
        assert!(msg.body().contains(&format!("https://warden.test/reset?token=abc{n}")));
    }
    for id in [a, b] {
        let row = row(db, id).await;
        assert_eq!(row.delivered_at, Some(db_time(t0())));
        assert_eq!((row.attempts, row.failed_at, row.last_error), (1, None, None));
    }

    clock.advance(Duration::hours(2));
    let again = deliver_due(db, transport.as_ref(), &clock, &settings).await.unwrap();
    assert_eq!(again, DeliveryReport::default());
    assert_eq!(sink.received().len(), 2);
}

async fn check_retries(db: &DatabaseConnection) {
    let clock = ManualClock::new(t0());
    let settings = smtp_settings(closed_port().await);
    let transport = transport_from(&settings).unwrap();
    let id = enqueue_committed(db, email("carol@example.test", 3), clock.now()).await;
    let pass = || deliver_due(db, transport.as_ref(), &clock, &settings);
    let retried = DeliveryReport { retried: 1, ..DeliveryReport::default() };

    assert_eq!(pass().await.unwrap(), retried);
    let first = row(db, id).await;
    assert_eq!(first.attempts, 1);
    assert_eq!(first.available_at, db_time(t0() + Duration::seconds(5)));
    let error = first.last_error.unwrap();
    assert!(!error.is_empty() && !error.contains("s3cret"), "{error}");
    assert_eq!((first.delivered_at, first.failed_at), (None, None));

    // Not due before the backoff has passed.
    assert_eq!(pass().await.unwrap(), DeliveryReport::default());
    clock.advance(Duration::seconds(4));
    assert_eq!(pass().await.unwrap(), DeliveryReport::default());

    clock.advance(Duration::seconds(1));
    assert_eq!(pass().await.unwrap(), retried);
    let second = row(db, id).await;
    assert_eq!(second.attempts, 2);
    assert_eq!(second.available_at, db_time(clock.now() + Duration::seconds(10)));

    clock.advance(Duration::seconds(10));
    assert_eq!(pass().await.unwrap(), DeliveryReport { failed: 1, ..DeliveryReport::default() });
    let last = row(db, id).await;
    assert_eq!((last.attempts, last.failed_at), (3, Some(db_time(clock.now()))));
    assert!(last.last_error.is_some());

    clock.advance(Duration::days(1));
    assert_eq!(pass().await.unwrap(), DeliveryReport::default());
    assert_eq!(row(db, id).await.attempts, 3);
}

#[tokio::test]
async fn smtp_delivers_each_message_once_on_sqlite() {
    let (_dir, db) = sqlite().await;
    check_smtp_delivery(&db).await;
}

#[tokio::test]
async fn failed_sends_back_off_then_fail_on_sqlite() {
    let (_dir, db) = sqlite().await;
    check_retries(&db).await;
}

#[tokio::test]
async fn rolled_back_enqueue_is_never_delivered() {
    let (_dir, db) = sqlite().await;
    let clock = ManualClock::new(t0());
    let txn = db.begin().await.unwrap();
    enqueue(&txn, email("dave@example.test", 4), clock.now()).await.unwrap();
    txn.rollback().await.unwrap();

    let transport = Recording::default();
    let settings = NotifierSettings::default();
    clock.advance(Duration::hours(1));
    let report = deliver_due(&db, &transport, &clock, &settings).await.unwrap();
    assert_eq!(report, DeliveryReport::default());
    assert!(transport.0.lock().unwrap().is_empty());
    assert_eq!(outbox_messages::Entity::find().count(&db).await.unwrap(), 0);
}

#[tokio::test]
async fn log_transport_delivers() {
    let (_dir, db) = sqlite().await;
    let clock = ManualClock::new(t0());
    let settings = NotifierSettings::default();
    assert_eq!(settings.transport, TransportKind::Log);
    let transport = transport_from(&settings).unwrap();
    let id = enqueue_committed(&db, email("erin@example.test", 5), clock.now()).await;
    let report = deliver_due(&db, transport.as_ref(), &clock, &settings).await.unwrap();
    assert_eq!(report.delivered, 1);
    assert_eq!(row(&db, id).await.delivered_at, Some(db_time(t0())));
}

#[tokio::test]
async fn unsendable_recipient_fails_without_retrying() {
    let (_dir, db) = sqlite().await;
    let sink = SmtpSink::start().await;
    let clock = ManualClock::new(t0());
    let settings = smtp_settings(sink.addr.port());
    let transport = transport_from(&settings).unwrap();
    let id = enqueue_committed(&db, email("not an address", 6), clock.now()).await;
    let report = deliver_due(&db, transport.as_ref(), &clock, &settings).await.unwrap();
    assert_eq!(report, DeliveryReport { failed: 1, ..DeliveryReport::default() });
    let row = row(&db, id).await;
    assert_eq!((row.attempts, row.failed_at.is_some()), (1, true));
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn concurrent_passes_send_each_message_once() {
    let (_dir, db) = sqlite().await;
    let sink = SmtpSink::start().await;
    let clock = ManualClock::new(t0());
    let settings = smtp_settings(sink.addr.port());
    let (one, two) = (transport_from(&settings).unwrap(), transport_from(&settings).unwrap());
    for n in 0..10 {
        enqueue_committed(&db, email(&format!("user{n}@example.test"), n), clock.now()).await;
    }
    let (a, b) = tokio::join!(
        deliver_due(&db, one.as_ref(), &clock, &settings),
        deliver_due(&db, two.as_ref(), &clock, &settings),
    );
    assert_eq!(a.unwrap().delivered + b.unwrap().delivered, 10);
    let mut recipients: Vec<_> = sink.received().into_iter().flat_map(|m| m.rcpt_to).collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), 10);
    assert_eq!(sink.received().len(), 10);
}

#[tokio::test]
async fn worker_delivers_and_stops_on_shutdown() {
    let (_dir, db) = sqlite().await;
    let clock = ManualClock::new(t0());
    let transport = Arc::new(Recording::default());
    let settings = NotifierSettings { poll_interval_ms: 10, ..NotifierSettings::default() };
    let id = enqueue_committed(&db, email("frank@example.test", 7), clock.now()).await;
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(run_worker(
        db.clone(),
        transport.clone(),
        Arc::new(clock.clone()),
        settings,
        shutdown,
        Default::default(),
    ));
    // A bound on waiting, not a timing assertion.
    for _ in 0..500 {
        if row(&db, id).await.delivered_at.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(row(&db, id).await.delivered_at.is_some());
    assert_eq!(transport.0.lock().unwrap().len(), 1);
    stop.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), worker).await.unwrap().unwrap();
}

#[test]
fn debug_output_never_shows_secrets() {
    let settings = smtp_settings(25);
    assert!(!format!("{settings:?}").contains("s3cret"));
    assert!(!format!("{settings:#?}").contains("s3cret"));
    let transport = SmtpTransport::new(&settings.smtp).unwrap();
    assert!(!format!("{transport:?}").contains("s3cret"));
    let email = email("gina@example.test", 8);
    assert!(!format!("{email:?}").contains("token=abc8"));
}

#[test]
fn settings_deserialize_with_defaults_and_reject_unknown_keys() {
    let parsed: NotifierSettings = serde_json::from_str(
        r#"{"transport":"smtp","smtp":{"host":"mail.test","tls":"tls","username":"u","password":"p"}}"#,
    )
    .unwrap();
    assert_eq!(parsed.transport, TransportKind::Smtp);
    assert_eq!((parsed.smtp.port, parsed.smtp.tls), (587, SmtpTls::Tls));
    assert_eq!(parsed.smtp.password.as_ref().map(SmtpPassword::expose), Some("p"));
    assert_eq!(parsed.max_attempts, 8);
    let round: NotifierSettings =
        serde_json::from_value(serde_json::to_value(&parsed).unwrap()).unwrap();
    assert_eq!(round, parsed);

    let err = serde_json::from_str::<NotifierSettings>(r#"{"smtp":{"hots":"x"}}"#).unwrap_err();
    assert!(err.to_string().contains("hots"), "{err}");
    assert!(serde_json::from_str::<NotifierSettings>(r#"{"transport":"SMTP"}"#).is_err());
}

#[test]
fn smtp_settings_are_checked_up_front() {
    let mut settings = smtp_settings(25);
    settings.smtp.password = None;
    assert!(matches!(
        SmtpTransport::new(&settings.smtp),
        Err(TransportConfigError::IncompleteCredentials)
    ));
    settings.smtp.username = None;
    settings.smtp.from = "not a mailbox".into();
    assert!(matches!(
        SmtpTransport::new(&settings.smtp),
        Err(TransportConfigError::InvalidFrom(_))
    ));
    // The defaults (STARTTLS to localhost) build without a runtime or network.
    assert!(
        transport_from(&NotifierSettings { transport: TransportKind::Smtp, ..Default::default() })
            .is_ok()
    );
}

#[test]
fn retry_delay_doubles_up_to_the_cap() {
    let s = NotifierSettings::default();
    let secs = |attempt| s.retry_delay(attempt).num_seconds();
    assert_eq!([secs(1), secs(2), secs(3), secs(4)], [5, 10, 20, 40]);
    assert_eq!((secs(10), secs(11), secs(64), secs(u32::MAX)), (2560, 3600, 3600, 3600));
}

#[tokio::test]
async fn postgres_delivery_and_retries() {
    let Some(pg) = warden_migration::test_support::PostgresDatabase::create().await else { return };
    let db = connect(&pg.url, &PoolSettings::default()).await.unwrap();
    migrate(&db).await.unwrap();
    check_smtp_delivery(&db).await;
    check_retries(&db).await;
    db.close().await.unwrap();
}
