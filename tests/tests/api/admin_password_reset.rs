//! Admin password reset over gRPC: RequestPasswordReset never tells whether
//! the email exists, the token travels through the outbox (and, with the smtp
//! transport, over real SMTP), is single use and expires, and a confirmed
//! reset kills every token the admin held. No password ever lands in the
//! audit trail or the outbox.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use sea_orm::{EntityTrait, QueryOrder};
use tonic::{Code, Status};
use warden_core::{
    clock::ManualClock,
    entity::{admins, audit_events, outbox_messages},
    notify::{SmtpTls, TransportKind, smtp_sink::SmtpSink},
};
use warden_proto::v1 as pb;
use warden_tests::{
    ADMIN_EMAIL, ADMIN_PASSWORD, AdminSession, Backend, TestApp, assert_status, authorized,
    db_test, token_in, violations,
};

const NEW_PASSWORD: &str = "an entirely new passphrase";

async fn outbox(app: &TestApp) -> Vec<outbox_messages::Model> {
    outbox_messages::Entity::find()
        .order_by_asc(outbox_messages::Column::CreatedAt)
        .order_by_asc(outbox_messages::Column::Id)
        .all(&app.db)
        .await
        .expect("read outbox")
}

async fn request_reset(
    app: &TestApp,
    email: &str,
) -> Result<pb::RequestPasswordResetResponse, Status> {
    let request = pb::RequestPasswordResetRequest { email: email.into() };
    Ok(app.admin_auth().request_password_reset(request).await?.into_inner())
}

/// Requests a reset for the suite's admin and returns the token from the
/// message it is mailed (the outbox never holds it).
async fn reset_token(app: &TestApp) -> String {
    let sent = outbox(app).await.len();
    request_reset(app, ADMIN_EMAIL).await.expect("request reset");
    app.token_mailed_to(ADMIN_EMAIL, sent + 1).await
}

async fn confirm(app: &TestApp, token: &str, password: &str, confirm: &str) -> Result<(), Status> {
    let request = pb::ConfirmPasswordResetRequest {
        token: token.into(),
        password: password.into(),
        password_confirm: confirm.into(),
    };
    app.admin_auth().confirm_password_reset(request).await.map(|_| ())
}

async fn current_admin(app: &TestApp, token: &str) -> Result<pb::Admin, Status> {
    let request = authorized(pb::GetCurrentAdminRequest {}, token);
    Ok(app.admin_auth().get_current_admin(request).await?.into_inner().admin.expect("admin"))
}

// --------------------------------------------------------- RequestPasswordReset

db_test! {
    async fn request_answers_alike_for_unknown_and_known_emails(app) {
        app.setup_admin().await;
        let unknown = request_reset(&app, "nobody@example.com").await.expect("unknown email is OK");
        assert!(outbox(&app).await.is_empty(), "no message for an unknown email");
        let known = request_reset(&app, &ADMIN_EMAIL.to_uppercase()).await.expect("known email is OK");
        assert_eq!(known, unknown, "the same (empty) answer");
        assert_eq!(known, pb::RequestPasswordResetResponse {});

        let rows = outbox(&app).await;
        assert_eq!(rows.len(), 1, "exactly one message: {rows:?}");
        let message = &rows[0];
        assert_eq!(message.recipient, ADMIN_EMAIL);
        assert_eq!(message.channel, "email");
        let mailed = &app.mail_to(ADMIN_EMAIL, 1).await[0];
        assert!(mailed.contains("reset-password?token="), "{mailed:?}");
        token_in(mailed);

        // Both requests are audited; only the known one names a target.
        let rows = app.audit_rows("admin.password_reset_request").await;
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].target_id, None);
        assert!(rows[1].target_id.is_some());
    }
}

db_test! {
    async fn request_with_a_malformed_email_is_invalid(app) {
        app.setup_admin().await;
        for bad in ["not-an-email", "", "a@b"] {
            let status = request_reset(&app, bad).await.expect_err("malformed");
            assert_status(&status, Code::InvalidArgument, "VALIDATION_FAILED");
            assert_eq!(violations(&status), ["email"]);
        }
        assert!(outbox(&app).await.is_empty());
        assert!(app.audit_rows("admin.password_reset_request").await.is_empty());
    }
}

// --------------------------------------------------------- ConfirmPasswordReset

db_test! {
    async fn confirm_checks_the_new_password_before_spending_the_token(app) {
        app.setup_admin().await;
        let token = reset_token(&app).await;
        let status = confirm(&app, &token, NEW_PASSWORD, "something different").await.expect_err("mismatch");
        assert_status(&status, Code::InvalidArgument, "VALIDATION_FAILED");
        assert_eq!(violations(&status), ["password_confirm"]);
        let status = confirm(&app, &token, "short", "short").await.expect_err("weak");
        assert_status(&status, Code::InvalidArgument, "WEAK_PASSWORD");
        assert_eq!(violations(&status), ["password"]);
        let status = confirm(&app, "", NEW_PASSWORD, NEW_PASSWORD).await.expect_err("no token");
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        let status = confirm(&app, "no-such-token-at-all", NEW_PASSWORD, NEW_PASSWORD).await;
        assert_eq!(status.expect_err("unknown token").code(), Code::Unauthenticated);
        assert!(app.audit_rows("admin.password_reset").await.is_empty());
        app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.expect("password unchanged");
        confirm(&app, &token, NEW_PASSWORD, NEW_PASSWORD).await.expect("the token still works");
    }
}

db_test! {
    async fn confirm_sets_the_password_and_kills_every_older_token(app) {
        let setup = app.setup_admin().await;
        let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.expect("login");
        current_admin(&app, &login.access_token).await.expect("token works before");
        let token = reset_token(&app).await;

        confirm(&app, &token, NEW_PASSWORD, NEW_PASSWORD).await.expect("reset");

        for old in [&setup, &login] {
            let status = current_admin(&app, &old.access_token).await.expect_err("old access token");
            assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
            let refresh = pb::RefreshTokenRequest { refresh_token: old.refresh_token.clone() };
            let status = app.admin_auth().refresh_token(refresh).await.expect_err("old refresh token");
            assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
        }
        let status = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.expect_err("old password");
        assert_status(&status, Code::Unauthenticated, "INVALID_CREDENTIALS");
        let fresh: AdminSession = app.login(ADMIN_EMAIL, NEW_PASSWORD).await.expect("new password");
        let me = current_admin(&app, &fresh.access_token).await.expect("new token works");
        assert_eq!(me.id, setup.admin_id);

        // Single use.
        let status = confirm(&app, &token, "yet another long password", "yet another long password")
            .await
            .expect_err("token reused");
        assert_status(&status, Code::Unauthenticated, "TOKEN_REVOKED");
        app.login(ADMIN_EMAIL, NEW_PASSWORD).await.expect("the reuse changed nothing");

        let rows = app.audit_rows("admin.password_reset").await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].actor_id.as_deref(), Some(setup.admin_id.as_str()));
        assert_eq!(rows[0].target_id.as_deref(), Some(setup.admin_id.as_str()));
    }
}

db_test! {
    async fn a_confirmed_reset_also_spends_other_outstanding_reset_tokens(app) {
        app.setup_admin().await;
        let first = reset_token(&app).await;
        let second = reset_token(&app).await;
        assert_ne!(first, second);
        confirm(&app, &second, NEW_PASSWORD, NEW_PASSWORD).await.expect("reset with the newer token");
        let status = confirm(&app, &first, "an attacker's password", "an attacker's password")
            .await
            .expect_err("a token issued before the reset must not work after it");
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
        app.login(ADMIN_EMAIL, NEW_PASSWORD).await.expect("the reset password stands");
    }
}

db_test! {
    async fn a_disabled_admin_gets_no_reset_message(app) {
        let root = app.setup_admin().await;
        let request = pb::CreateAdminRequest {
            email: "second@example.com".into(),
            password: "second admin password".into(),
            name: "Second".into(),
            role: "dashboard_viewer".into(),
            ..Default::default()
        };
        let second = app.admin_auth().create_admin(authorized(request, &root.access_token)).await;
        let second = second.expect("create").into_inner().admin.expect("admin");
        let disable = pb::UpdateAdminRequest {
            admin: Some(pb::Admin { id: second.id, is_active: false, ..Default::default() }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["is_active".into()] }),
            ..Default::default()
        };
        app.admin_auth().update_admin(authorized(disable, &root.access_token)).await.expect("disable");
        request_reset(&app, "second@example.com").await.expect("OK all the same");
        assert!(outbox(&app).await.is_empty());
    }
}

db_test! {
    async fn a_token_of_a_deleted_admin_is_refused(app) {
        let root = app.setup_admin().await;
        let request = pb::CreateAdminRequest {
            email: "leaving@example.com".into(),
            password: "the leaving admin's password".into(),
            name: "Leaving".into(),
            role: "dashboard_viewer".into(),
            ..Default::default()
        };
        let leaving = app.admin_auth().create_admin(authorized(request, &root.access_token)).await;
        let leaving = leaving.expect("create").into_inner().admin.expect("admin");
        request_reset(&app, "leaving@example.com").await.expect("request");
        let token = app.token_mailed_to("leaving@example.com", 1).await;
        let delete = pb::DeleteAdminRequest { id: leaving.id, validate_only: false };
        app.admin_auth().delete_admin(authorized(delete, &root.access_token)).await.expect("delete");
        let status = confirm(&app, &token, NEW_PASSWORD, NEW_PASSWORD).await.expect_err("deleted");
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    }
}

async fn expired_token_is_refused(backend: Backend) {
    let clock = ManualClock::new(Utc::now());
    let Some(app) = TestApp::spawn_with_clock(backend, Arc::new(clock.clone()), |config| {
        config.auth.password_reset.token_ttl_seconds = 600;
    })
    .await
    else {
        return;
    };
    app.setup_admin().await;
    let token = reset_token(&app).await;
    clock.advance(chrono::Duration::seconds(599));
    let fresh_token = reset_token(&app).await;
    clock.advance(chrono::Duration::seconds(2));
    let status = confirm(&app, &token, NEW_PASSWORD, NEW_PASSWORD).await.expect_err("expired");
    assert_status(&status, Code::Unauthenticated, "TOKEN_EXPIRED");
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.expect("password unchanged");
    confirm(&app, &fresh_token, NEW_PASSWORD, NEW_PASSWORD)
        .await
        .expect("a token within its ttl works");
    app.login(ADMIN_EMAIL, NEW_PASSWORD).await.expect("new password");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_is_refused_sqlite() {
    expired_token_is_refused(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_is_refused_postgres() {
    expired_token_is_refused(Backend::Postgres).await;
}

// --------------------------------------------------------------- SMTP delivery

async fn smtp_delivery_end_to_end(backend: Backend) {
    let sink = SmtpSink::start().await;
    let port = sink.addr.port();
    let Some(app) = TestApp::spawn_with(backend, |config| {
        config.notifier.transport = TransportKind::Smtp;
        config.notifier.smtp.host = "127.0.0.1".into();
        config.notifier.smtp.port = port;
        config.notifier.smtp.tls = SmtpTls::None;
        config.notifier.smtp.from = "Warden <warden@example.com>".into();
    })
    .await
    else {
        return;
    };
    app.setup_admin().await;
    request_reset(&app, "nobody@example.com").await.expect("unknown email");
    request_reset(&app, ADMIN_EMAIL).await.expect("request reset");

    let mut received = Vec::new();
    for _ in 0..100 {
        received = sink.received();
        if !received.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(received.len(), 1, "one message within 10 s: {received:?}");
    let message = &received[0];
    assert_eq!(message.rcpt_to, [ADMIN_EMAIL]);
    assert_eq!(message.mail_from, "warden@example.com");
    assert_eq!(message.header("Subject"), Some("Reset your Warden password"));
    let body = message.text();
    let mailed = token_in(&body);
    let stored = outbox(&app).await;
    assert_eq!(stored.len(), 1);
    assert!(!format!("{:?}", stored[0]).contains(&mailed), "the outbox never holds the link");

    // The worker marks the row delivered right after the send.
    let mut row = stored[0].clone();
    for _ in 0..100 {
        if row.delivered_at.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        row = outbox(&app).await.remove(0);
    }
    assert!(row.delivered_at.is_some(), "delivered_at set: {row:?}");
    assert!(row.attempts >= 1 && row.failed_at.is_none() && row.last_error.is_none(), "{row:?}");

    // The link from the mail resets the password.
    confirm(&app, &mailed, NEW_PASSWORD, NEW_PASSWORD).await.expect("mailed token works");
    app.login(ADMIN_EMAIL, NEW_PASSWORD).await.expect("new password");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_delivery_end_to_end_sqlite() {
    smtp_delivery_end_to_end(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_delivery_end_to_end_postgres() {
    smtp_delivery_end_to_end(Backend::Postgres).await;
}

/// The SMTP server is down when the reset is requested: the worker records
/// the failure, backs off, and delivers once the server is up.
async fn smtp_delivery_is_retried(backend: Backend) {
    let port = {
        let reserved = std::net::TcpListener::bind("127.0.0.1:0").expect("reserve a port");
        reserved.local_addr().expect("addr").port()
    };
    let Some(app) = TestApp::spawn_with(backend, |config| {
        config.notifier.transport = TransportKind::Smtp;
        config.notifier.smtp.host = "127.0.0.1".into();
        config.notifier.smtp.port = port;
        config.notifier.smtp.tls = SmtpTls::None;
        config.notifier.smtp.timeout_seconds = 2;
        config.notifier.retry_base_seconds = 1;
        config.notifier.retry_max_seconds = 1;
    })
    .await
    else {
        return;
    };
    app.setup_admin().await;
    request_reset(&app, ADMIN_EMAIL).await.expect("request reset");
    let mut row = None;
    for _ in 0..100 {
        let rows = outbox(&app).await;
        if rows.first().is_some_and(|r| r.last_error.is_some()) {
            row = rows.into_iter().next();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let failed = row.expect("a failed attempt recorded within 10 s");
    assert!(failed.attempts >= 1 && failed.delivered_at.is_none() && failed.failed_at.is_none());

    let sink = SmtpSink::start_on(port).await;
    let mut delivered = None;
    for _ in 0..100 {
        let rows = outbox(&app).await;
        if rows[0].delivered_at.is_some() {
            delivered = Some(rows[0].clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let delivered = delivered.expect("delivered within 10 s of the server coming up");
    assert!(delivered.attempts >= 2, "{delivered:?}");
    assert!(delivered.failed_at.is_none());
    let received = sink.received();
    assert_eq!(received.len(), 1, "sent once: {received:?}");
    assert_eq!(received[0].rcpt_to, [ADMIN_EMAIL]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_delivery_is_retried_sqlite() {
    smtp_delivery_is_retried(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_delivery_is_retried_postgres() {
    smtp_delivery_is_retried(Backend::Postgres).await;
}

// ------------------------------------------------------------ no stored secrets

db_test! {
    async fn passwords_never_reach_the_audit_trail_or_the_outbox(app) {
        let setup = app.setup_admin().await;
        let mut client = app.admin_auth();
        let changed = "a changed password value";
        let created = "a created admin's password";
        let updated = "an updated admin's password";

        app.login(ADMIN_EMAIL, "a wrong password guess").await.expect_err("wrong password");
        let change = pb::ChangePasswordRequest {
            current_password: ADMIN_PASSWORD.into(),
            new_password: changed.into(),
        };
        client.change_password(authorized(change, &setup.access_token)).await.expect("change");
        let token = reset_token(&app).await;
        confirm(&app, &token, NEW_PASSWORD, NEW_PASSWORD).await.expect("reset");
        let root = app.login(ADMIN_EMAIL, NEW_PASSWORD).await.expect("login");
        let create = pb::CreateAdminRequest {
            email: "other@example.com".into(),
            password: created.into(),
            password_confirm: created.into(),
            name: "Other".into(),
            role: "dashboard_admin".into(),
            ..Default::default()
        };
        let other = client.create_admin(authorized(create, &root.access_token)).await.expect("create");
        let other = other.into_inner().admin.expect("admin");
        let update = pb::UpdateAdminRequest {
            admin: Some(pb::Admin { id: other.id, ..Default::default() }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["password".into()] }),
            password: updated.into(),
            password_confirm: updated.into(),
        };
        client.update_admin(authorized(update, &root.access_token)).await.expect("update");
        // Refused attempts must not leak what they were given either.
        let bad = pb::ConfirmPasswordResetRequest {
            token: token.clone(),
            password: "a refused password one".into(),
            password_confirm: "a refused password two".into(),
        };
        client.confirm_password_reset(bad).await.expect_err("mismatch");

        let secrets = [
            ADMIN_PASSWORD,
            NEW_PASSWORD,
            changed,
            created,
            updated,
            "a wrong password guess",
            "a refused password one",
            "a refused password two",
        ];
        let audit = audit_events::Entity::find().all(&app.db).await.expect("audit rows");
        assert!(audit.len() >= 7, "{audit:?}");
        for row in &audit {
            let text = format!("{row:?}");
            for secret in secrets {
                assert!(!text.contains(secret), "{secret:?} in audit row {text}");
            }
            assert!(!text.contains(&token), "the reset token in audit row {text}");
        }
        let messages = outbox(&app).await;
        assert!(!messages.is_empty());
        for row in &messages {
            let text = format!("{row:?}");
            for secret in secrets {
                assert!(!text.contains(secret), "{secret:?} in outbox row {text}");
            }
        }
        for admin in admins::Entity::find().all(&app.db).await.expect("admins") {
            let text = format!("{admin:?}");
            for secret in secrets {
                assert!(!text.contains(secret), "{secret:?} in admin row {text}");
            }
            assert!(admin.password_hash.starts_with("$argon2id$"), "{}", admin.password_hash);
        }
    }
}
