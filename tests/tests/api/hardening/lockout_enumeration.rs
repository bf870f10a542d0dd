//! Lockout never tells an existing account from a missing one: an unknown
//! identifier is counted, locks and unlocks exactly like a real account, for
//! admin Login and end-user CreateSession alike, and no account is created
//! for it. Its counter expires.

use std::sync::Arc;

use chrono::{Duration, Utc};
use sea_orm::{EntityTrait, PaginatorTrait};
use tonic::transport::Channel;
use warden_core::{
    auth::lockout::{LockoutSettings, purge_expired},
    clock::{Clock, ManualClock},
    entity::{admins, sign_in_throttle, users},
    scope::ScopeSet,
};
use warden_proto::v1::{
    self as pb, sessions_service_client::SessionsServiceClient,
    users_service_client::UsersServiceClient,
};
use warden_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TestApp, authorized, backend_test};

use super::*;

/// What an answer shows a caller: code, reason and the RetryInfo delay.
fn seen(result: Result<(), Status>) -> (Code, String, Option<u64>) {
    match result {
        Ok(()) => (Code::Ok, String::new(), None),
        Err(status) => {
            let retry = status
                .get_error_details()
                .retry_info()
                .and_then(|r| r.retry_delay)
                .map(|d| d.as_secs());
            (status.code(), reason_of(&status), retry)
        }
    }
}

async fn spawn(backend: Backend, clock: &ManualClock) -> Option<TestApp> {
    TestApp::spawn_with_clock(backend, Arc::new(clock.clone()), |config| {
        config.auth.lockout.max_failures = 3;
        config.auth.lockout.base_seconds = 60;
    })
    .await
}

async fn login(app: &TestApp, email: &str, password: &str) -> Result<(), Status> {
    app.login(email, password).await.map(|_| ())
}

backend_test! {
    async fn unknown_admin_emails_lock_exactly_like_real_ones(backend) {
        let clock = ManualClock::new(Utc::now());
        let Some(app) = spawn(backend, &clock).await else { return };
        app.setup_admin().await;
        let mut real = Vec::new();
        let mut unknown = Vec::new();
        for _ in 0..6 {
            real.push(seen(login(&app, ADMIN_EMAIL, "not the right passphrase").await));
            unknown.push(seen(login(&app, "nobody@example.com", "not the right passphrase").await));
        }
        assert_eq!(real, unknown, "the same answers, lock included");
        assert_eq!(real[0].1, "INVALID_CREDENTIALS");
        assert!(real.iter().any(|r| r.1 == "ACCOUNT_LOCKED"), "{real:?}");
        // Locked, the right password changes nothing; the unknown one answers alike.
        assert_eq!(
            seen(login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await),
            seen(login(&app, "nobody@example.com", ADMIN_PASSWORD).await),
        );
        assert_eq!(admins::Entity::find().count(&app.db).await.unwrap(), 1, "no admin made for the unknown email");

        // Once the lock passes, both are counted from where they stood.
        clock.advance(Duration::hours(2));
        login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await.expect("the lock has passed");
        assert_eq!(seen(login(&app, "nobody@example.com", "x").await).1, "ACCOUNT_LOCKED",
            "an unknown email stays at the limit, like an account that kept failing");
    }
}

async fn create_session(app: &TestApp, identifier: &str, password: &str) -> Result<(), Status> {
    let mut client = SessionsServiceClient::<Channel>::new(app.channel.clone());
    let request = pb::CreateSessionRequest {
        identifier: identifier.into(),
        password: password.into(),
        ..Default::default()
    };
    client.create_session(request).await.map(|_| ())
}

backend_test! {
    async fn unknown_end_user_identifiers_lock_exactly_like_real_ones(backend) {
        let clock = ManualClock::new(Utc::now());
        let Some(app) = spawn(backend, &clock).await else { return };
        let key = app.api_key(ScopeSet::all()).await;
        let create = pb::CreateUserRequest {
            email: "real@example.com".into(),
            username: "realuser".into(),
            password_source: Some(pb::create_user_request::PasswordSource::Password("seven quiet orchards".into())),
            ..Default::default()
        };
        UsersServiceClient::new(app.channel.clone()).create_user(authorized(create, &key)).await.unwrap();
        for (known, missing) in [("real@example.com", "ghost@example.com"), ("realuser", "ghostuser")] {
            let mut real = Vec::new();
            let mut unknown = Vec::new();
            for _ in 0..5 {
                real.push(seen(create_session(&app, known, "wrong guess here").await));
                unknown.push(seen(create_session(&app, missing, "wrong guess here").await));
            }
            assert_eq!(real, unknown, "{known} vs {missing}");
            assert_eq!(real.last().unwrap().1, "ACCOUNT_LOCKED");
            clock.advance(Duration::hours(2));
            // Reset the real account's counter for the next identifier kind.
            create_session(&app, known, "seven quiet orchards").await.expect("right password after the lock");
        }
        assert_eq!(users::Entity::find().count(&app.db).await.unwrap(), 1);

        // Unknown counters are rows of their own, keyed by a digest, and expire.
        let counters = sign_in_throttle::Entity::find().all(&app.db).await.unwrap();
        assert_eq!(counters.len(), 2);
        let settings = LockoutSettings { max_failures: 3, base_seconds: 60, ..LockoutSettings::default() };
        assert_eq!(purge_expired(&app.db, &settings, clock.now()).await.unwrap(), 0, "still counting");
        clock.advance(Duration::hours(13));
        assert_eq!(purge_expired(&app.db, &settings, clock.now()).await.unwrap(), 2);
    }
}
