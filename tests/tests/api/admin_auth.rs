//! AdminAuthService sign-in: setup once, login with lockout, refresh
//! rotation with reuse detection, logout, change password, rate limiting.

use std::sync::Arc;

use chrono::{Duration, Utc};
use sea_orm::{EntityTrait, PaginatorTrait};
use tonic::Code;
use tonic_types::StatusExt;
use warden_core::{clock::ManualClock, entity::admins};
use warden_proto::v1 as pb;
use warden_tests::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TestApp, assert_status, authorized, db_test, reason_of,
};

fn setup_request(email: &str, password: &str) -> pb::SetupRequest {
    pb::SetupRequest { email: email.into(), password: password.into(), name: "Root".into() }
}

db_test! {
    async fn setup_runs_once_and_signs_the_first_admin_in(app) {
        let mut client = app.admin_auth();
        let status = client.get_setup_status(pb::GetSetupStatusRequest {}).await.unwrap().into_inner();
        assert!(status.needs_setup && !status.has_admin);

        // Bad input: every problem reported, nothing stored.
        let err = client.setup(setup_request("not-an-email", "short")).await.unwrap_err();
        assert_status(&err, Code::InvalidArgument, "VALIDATION_FAILED");
        let fields: Vec<String> = err.get_error_details().bad_request().unwrap()
            .field_violations.iter().map(|v| v.field.clone()).collect();
        assert_eq!(fields, ["email", "password"]);
        let err = client.setup(setup_request(ADMIN_EMAIL, "elevenchars")).await.unwrap_err();
        assert_eq!(reason_of(&err), "WEAK_PASSWORD");
        assert_eq!(admins::Entity::find().count(&app.db).await.unwrap(), 0);
        assert!(app.all_audit_rows().await.is_empty());

        let session = app.setup_admin().await;
        let me = client
            .get_current_admin(authorized(pb::GetCurrentAdminRequest {}, &session.access_token))
            .await
            .unwrap()
            .into_inner()
            .admin
            .unwrap();
        assert_eq!((me.email.as_str(), me.role.as_str()), (ADMIN_EMAIL, "dashboard_admin"));
        assert!(me.scopes.contains(&"admins:write".to_owned()));

        let status = client.get_setup_status(pb::GetSetupStatusRequest {}).await.unwrap().into_inner();
        assert!(!status.needs_setup && status.has_admin);
        let err = client.setup(setup_request("other@example.com", ADMIN_PASSWORD)).await.unwrap_err();
        assert_status(&err, Code::FailedPrecondition, "SETUP_ALREADY_DONE");
    }
}

db_test! {
    async fn fifty_concurrent_setups_make_exactly_one_admin(app) {
        let calls = (0..50).map(|i| {
            let mut client = app.admin_auth();
            async move { client.setup(setup_request(&format!("admin{i}@example.com"), ADMIN_PASSWORD)).await }
        });
        let results = futures_util::future::join_all(calls).await;
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "exactly one Setup wins");
        for err in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_eq!((err.code(), reason_of(err).as_str()), (Code::FailedPrecondition, "SETUP_ALREADY_DONE"), "{err:?}");
        }
        assert_eq!(admins::Entity::find().count(&app.db).await.unwrap(), 1);
    }
}

db_test! {
    async fn unknown_email_and_wrong_password_are_indistinguishable(app) {
        app.setup_admin().await;
        let unknown = app.login("nobody@example.com", ADMIN_PASSWORD).await.unwrap_err();
        let wrong = app.login(ADMIN_EMAIL, "wrong password entirely").await.unwrap_err();
        let malformed = app.login("not an email", ADMIN_PASSWORD).await.unwrap_err();
        for err in [&unknown, &wrong, &malformed] {
            assert_status(err, Code::Unauthenticated, "INVALID_CREDENTIALS");
            assert_eq!(err.message(), unknown.message());
        }
        // Case and width variants of the email sign in.
        app.login("ROOT@example.COM", ADMIN_PASSWORD).await.expect("case-insensitive email");
        let failures = app.audit_rows("admin.login").await;
        assert_eq!(failures.iter().filter(|r| r.outcome == "failure").count(), 3);
    }
}

/// 50 parallel wrong passwords: the atomic claim lets at most
/// `max_failures + 1` be evaluated; then the account answers
/// RESOURCE_EXHAUSTED with RetryInfo, even to the right password, until the
/// lock passes.
async fn lockout_holds_under_concurrency(backend: Backend) {
    let clock = ManualClock::new(Utc::now());
    let Some(app) = TestApp::spawn_with_clock(backend, Arc::new(clock.clone()), |config| {
        config.auth.lockout.max_failures = 3;
        config.auth.lockout.base_seconds = 60;
    })
    .await
    else {
        return;
    };
    app.setup_admin().await;
    let calls = (0..50).map(|_| app.login(ADMIN_EMAIL, "wrong password entirely"));
    let results = futures_util::future::join_all(calls).await;
    let locked =
        results.iter().filter(|r| matches!(r, Err(e) if reason_of(e) == "ACCOUNT_LOCKED")).count();
    assert!(locked >= 46, "most guesses were refused unevaluated: {locked}");
    let admin = admins::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert!(admin.failed_login_count <= 4, "evaluated {} guesses", admin.failed_login_count);

    let err = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.unwrap_err();
    assert_status(&err, Code::ResourceExhausted, "ACCOUNT_LOCKED");
    let retry =
        err.get_error_details().retry_info().and_then(|r| r.retry_delay).expect("RetryInfo");
    assert!(retry.as_secs() >= 1);

    clock.advance(Duration::hours(2));
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.expect("lock has passed");
    let admin = admins::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!((admin.failed_login_count, admin.locked_until), (0, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_holds_under_concurrency_sqlite() {
    lockout_holds_under_concurrency(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_holds_under_concurrency_postgres() {
    lockout_holds_under_concurrency(Backend::Postgres).await;
}

async fn lockout_backoff(backend: Backend) {
    let clock = ManualClock::new(Utc::now());
    let Some(app) = TestApp::spawn_with_clock(backend, Arc::new(clock.clone()), |config| {
        config.auth.lockout.max_failures = 2;
        config.auth.lockout.base_seconds = 30;
        config.auth.lockout.max_seconds = 3600;
    })
    .await
    else {
        return;
    };
    app.setup_admin().await;
    let mut waits = Vec::new();
    for _ in 0..3 {
        let mut last = None;
        for _ in 0..3 {
            last = app.login(ADMIN_EMAIL, "wrong password entirely").await.err();
            if last.as_ref().is_some_and(|e| reason_of(e) == "ACCOUNT_LOCKED") {
                break;
            }
        }
        let err = last.expect("a failure");
        let wait = err
            .get_error_details()
            .retry_info()
            .and_then(|r| r.retry_delay)
            .expect("locked")
            .as_secs();
        waits.push(wait);
        clock.advance(Duration::seconds(wait as i64 + 1));
    }
    assert_eq!(waits, [30, 60, 120], "each failure after a lock doubles it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_backoff_sqlite() {
    lockout_backoff(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_backoff_postgres() {
    lockout_backoff(Backend::Postgres).await;
}

db_test! {
    async fn refresh_rotates_and_reuse_revokes_the_family(app) {
        let first = app.setup_admin().await;
        let mut client = app.admin_auth();
        let second = client
            .refresh_token(pb::RefreshTokenRequest { refresh_token: first.refresh_token.clone() })
            .await
            .unwrap()
            .into_inner();
        assert_ne!(second.refresh_token, first.refresh_token);
        client.get_current_admin(authorized(pb::GetCurrentAdminRequest {}, &second.access_token)).await.unwrap();

        // The rotated token again: theft. The whole family dies, audited.
        let err = client
            .refresh_token(pb::RefreshTokenRequest { refresh_token: first.refresh_token.clone() })
            .await
            .unwrap_err();
        assert_status(&err, Code::Unauthenticated, "TOKEN_REVOKED");
        let err = client
            .refresh_token(pb::RefreshTokenRequest { refresh_token: second.refresh_token.clone() })
            .await
            .unwrap_err();
        assert_eq!(reason_of(&err), "TOKEN_REVOKED");
        let err = client
            .get_current_admin(authorized(pb::GetCurrentAdminRequest {}, &second.access_token))
            .await
            .unwrap_err();
        assert_eq!(reason_of(&err), "TOKEN_REVOKED");
        assert_eq!(app.audit_rows("admin.refresh_token_reuse").await.len(), 1);

        let err = client.refresh_token(pb::RefreshTokenRequest { refresh_token: "made-up".into() }).await.unwrap_err();
        assert_eq!(reason_of(&err), "INVALID_CREDENTIALS");
        let err = client.refresh_token(pb::RefreshTokenRequest::default()).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
    }
}

db_test! {
    async fn logout_ends_only_that_session(app) {
        let first = app.setup_admin().await;
        let other = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.unwrap();
        let mut client = app.admin_auth();
        client.logout(authorized(pb::LogoutRequest {}, &first.access_token)).await.unwrap();
        let err = client
            .get_current_admin(authorized(pb::GetCurrentAdminRequest {}, &first.access_token))
            .await
            .unwrap_err();
        assert_status(&err, Code::Unauthenticated, "TOKEN_REVOKED");
        let err = client
            .refresh_token(pb::RefreshTokenRequest { refresh_token: first.refresh_token })
            .await
            .unwrap_err();
        assert_eq!(reason_of(&err), "TOKEN_REVOKED");
        client.get_current_admin(authorized(pb::GetCurrentAdminRequest {}, &other.access_token)).await.unwrap();
    }
}

db_test! {
    async fn change_password_needs_the_current_one_and_revokes_other_sessions(app) {
        let mine = app.setup_admin().await;
        let other = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.unwrap();
        let mut client = app.admin_auth();
        let change = |current: &str, new: &str| {
            authorized(
                pb::ChangePasswordRequest { current_password: current.into(), new_password: new.into() },
                &mine.access_token,
            )
        };
        let err = client.change_password(change("not it at all", "a brand new password")).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        let err = client.change_password(change(ADMIN_PASSWORD, "short")).await.unwrap_err();
        assert_eq!(reason_of(&err), "WEAK_PASSWORD");

        let answer = client.change_password(change(ADMIN_PASSWORD, "a brand new password")).await.unwrap().into_inner();
        assert_eq!(answer.revoked_sessions, 1);
        client.get_current_admin(authorized(pb::GetCurrentAdminRequest {}, &mine.access_token)).await.unwrap();
        let err = client
            .get_current_admin(authorized(pb::GetCurrentAdminRequest {}, &other.access_token))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated);
        assert!(app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.is_err());
        app.login(ADMIN_EMAIL, "a brand new password").await.unwrap();
    }
}

db_test! {
    async fn api_keys_cannot_act_as_an_admin_session(app) {
        let key = app.api_key(warden_core::scope::ScopeSet::all()).await;
        let err = app.admin_auth().logout(authorized(pb::LogoutRequest {}, &key)).await.unwrap_err();
        assert_status(&err, Code::PermissionDenied, "PERMISSION_DENIED");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_is_rate_limited_per_peer() {
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.auth.rate_limit.per_minute = 1;
        config.auth.rate_limit.burst = 2;
    })
    .await
    .unwrap();
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        outcomes.push(app.login("nobody@example.com", ADMIN_PASSWORD).await.unwrap_err());
    }
    assert_eq!(reason_of(&outcomes[0]), "INVALID_CREDENTIALS");
    let limited = &outcomes[2];
    assert_status(limited, Code::ResourceExhausted, "RATE_LIMITED");
    assert!(limited.get_error_details().retry_info().and_then(|r| r.retry_delay).is_some());
    // Authenticated RPCs are not spent from the sign-in budget.
    app.admin_auth().get_setup_status(pb::GetSetupStatusRequest {}).await.unwrap();
}
