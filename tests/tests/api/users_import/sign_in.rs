//! End-user sign-in (SessionsService.CreateSession): unknown user and wrong
//! password answer alike, disabled accounts are told only after a correct
//! password, must_change_password answers a challenge, lockout, and the
//! session and tokens a successful sign-in opens.

use std::sync::Arc;

use chrono::{Duration, Utc};
use pb::create_session_response::Result as Signed;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tonic::Code;
use tonic_types::StatusExt;
use warden_core::{clock::ManualClock, entity::sessions};
use warden_tests::{Backend, db_test, reason_of};

use super::*;

async fn seed(caller: &mut Caller, rows: Vec<pb::ImportUsersRequest>) {
    let count = rows.len() as i64;
    let summary = caller.import_ok(rows).await;
    assert_eq!(summary.created_count, count, "{summary:?}");
}

fn with_password(email: &str) -> pb::ImportUsersRequest {
    let mut row = row(email, "");
    row.password = PASSWORD.into();
    row
}

db_test! {
    async fn wrong_password_and_unknown_user_answer_alike(app) {
        let mut caller = Caller::new(&app).await;
        seed(&mut caller, vec![with_password("known@example.com")]).await;
        let wrong = caller.sign_in("known@example.com", "not the password").await.unwrap_err();
        let unknown = caller.sign_in("nobody@example.com", "not the password").await.unwrap_err();
        let malformed = caller.sign_in("no such user name!", "not the password").await.unwrap_err();
        for err in [&wrong, &unknown, &malformed] {
            assert_status(err, Code::Unauthenticated, "INVALID_CREDENTIALS");
            assert_eq!(err.message(), wrong.message());
        }
        let failures = app.audit_rows("user.sign_in").await;
        assert_eq!(failures.len(), 3);
        assert!(failures.iter().all(|r| r.outcome == "failure" && r.reason.as_deref() == Some("INVALID_CREDENTIALS")));
        assert!(failures[0].target_id.is_some() && failures[1].target_id.is_none());

        let err = caller.sign_in("", "").await.unwrap_err();
        assert_status(&err, Code::InvalidArgument, "VALIDATION_FAILED");
    }
}

db_test! {
    async fn a_successful_sign_in_opens_a_session(app) {
        let mut caller = Caller::new(&app).await;
        let mut row = with_password("Person@Example.com");
        row.username = "person".into();
        row.phone = "+14155550123".into();
        seed(&mut caller, vec![row]).await;
        let user = caller.get("person@example.com").await;
        for identifier in ["PERSON@example.com", "Person", "+14155550123"] {
            let tokens = caller.tokens(identifier, PASSWORD).await;
            assert_eq!(tokens.user_id, user.id);
            assert_eq!(tokens.expires_in, 900);
            let claims = claims(&tokens.access_token);
            assert_eq!(claims["sub"], user.id.as_str());
            assert_eq!(claims["sid"], tokens.session_id.as_str());
            assert_eq!((claims["aud"].as_str(), claims["pty"].as_str()), (Some("warden"), Some("user")));
        }
        let user = caller.get("person@example.com").await;
        assert_eq!(user.session_count, 3);
        assert!(user.last_login_at.is_some());
        let session = sessions::Entity::find()
            .filter(sessions::Column::PrincipalId.eq(uuid::Uuid::parse_str(&user.id).unwrap()))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((session.principal_type.as_str(), session.ip.as_deref()), ("user", Some("203.0.113.7")));
        assert_eq!(session.user_agent.as_deref(), Some("test-browser/1.0"));
        let audit = app.audit_rows("user.sign_in").await;
        assert_eq!(audit.len(), 3);
        assert!(audit.iter().all(|r| r.outcome == "success" && r.actor_type == "user"));
    }
}

db_test! {
    async fn must_change_password_answers_a_challenge(app) {
        let mut caller = Caller::new(&app).await;
        let mut row = row("change@example.com", &bcrypt::hash(PASSWORD, 4).unwrap());
        row.must_change_password = true;
        seed(&mut caller, vec![row]).await;
        let Signed::Challenge(challenge) = caller.sign_in("change@example.com", PASSWORD).await.unwrap() else {
            panic!("a challenge, not tokens");
        };
        assert_eq!(challenge.challenge_type(), pb::ChallengeType::PasswordChangeRequired);
        assert!(challenge.challenge_token.len() >= 32);
        assert!(challenge.expires_at.unwrap().seconds > Utc::now().timestamp());
        assert_eq!(sessions::Entity::find().count(&app.db).await.unwrap(), 0, "no session yet");
        let stored = stored(&app, "change@example.com").await;
        assert!(stored.password_hash.unwrap().starts_with("$argon2id$"), "upgraded at the first correct password");
        assert!(stored.last_login_at.is_none());
        let audit = app.audit_rows("user.sign_in_challenge").await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].metadata["challenge"], "PASSWORD_CHANGE_REQUIRED");
        assert_eq!(audit[0].metadata["password_upgraded_from"], "bcrypt");
        // A wrong password still gets no challenge.
        let err = caller.sign_in("change@example.com", "wrong password").await.unwrap_err();
        assert_eq!(reason_of(&err), "INVALID_CREDENTIALS");
    }
}

db_test! {
    async fn a_disabled_account_is_told_only_after_a_correct_password(app) {
        let mut caller = Caller::new(&app).await;
        let mut row = with_password("disabled@example.com");
        row.is_active = Some(false);
        seed(&mut caller, vec![row]).await;
        let wrong = caller.sign_in("disabled@example.com", "wrong password").await.unwrap_err();
        assert_status(&wrong, Code::Unauthenticated, "INVALID_CREDENTIALS");
        let right = caller.sign_in("disabled@example.com", PASSWORD).await.unwrap_err();
        assert_status(&right, Code::PermissionDenied, "ACCOUNT_DISABLED");
        assert_eq!(sessions::Entity::find().count(&app.db).await.unwrap(), 0);
        let audit = app.audit_rows("user.sign_in").await;
        assert_eq!(audit.last().unwrap().reason.as_deref(), Some("ACCOUNT_DISABLED"));
    }
}

/// Repeated wrong passwords lock the account (RESOURCE_EXHAUSTED with
/// RetryInfo, even for the right password) until the lock passes.
async fn lockout(backend: Backend) {
    let clock = ManualClock::new(Utc::now());
    let Some(app) = TestApp::spawn_with_clock(backend, Arc::new(clock.clone()), |config| {
        config.auth.lockout.max_failures = 3;
        config.auth.lockout.base_seconds = 60;
    })
    .await
    else {
        return;
    };
    let mut caller = Caller::new(&app).await;
    seed(&mut caller, vec![with_password("locked@example.com")]).await;
    let mut reasons = Vec::new();
    for _ in 0..4 {
        reasons.push(reason_of(
            &caller.sign_in("locked@example.com", "wrong password").await.unwrap_err(),
        ));
    }
    assert_eq!(
        reasons,
        ["INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "ACCOUNT_LOCKED", "ACCOUNT_LOCKED"]
    );
    let err = caller.sign_in("locked@example.com", PASSWORD).await.unwrap_err();
    assert_status(&err, Code::ResourceExhausted, "ACCOUNT_LOCKED");
    assert!(err.get_error_details().retry_info().and_then(|r| r.retry_delay).is_some());
    assert!(caller.get("locked@example.com").await.is_locked);

    clock.advance(Duration::hours(2));
    caller.tokens("locked@example.com", PASSWORD).await;
    let stored = stored(&app, "locked@example.com").await;
    assert_eq!((stored.failed_login_count, stored.locked_until), (0, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_applies_to_users_sqlite() {
    lockout(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_applies_to_users_postgres() {
    lockout(Backend::Postgres).await;
}
