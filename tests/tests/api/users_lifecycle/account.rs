//! DisableUser (sessions revoked at once, `until` lifting itself),
//! EnableUser, SetPassword and ForcePasswordChange.

use std::sync::Arc;

use chrono::{Duration, Utc};
use prost_types::Timestamp;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use warden_core::{
    DomainError,
    auth::sessions,
    clock::ManualClock,
    context::CallInfo,
    entity::{refresh_tokens, sessions as session_rows},
};
use warden_proto::v1::set_password_request::PasswordSource as NewPassword;
use warden_tests::Backend;

use super::*;

/// A live session with a refresh token, as a user sign-in would leave it.
async fn sign_in(app: &TestApp, user_id: &str) -> (session_rows::Model, String) {
    let id = Uuid::parse_str(user_id).unwrap();
    let now = Utc::now();
    let session =
        sessions::open(&app.db, sessions::USER, id, &CallInfo::default(), now, Duration::days(1))
            .await
            .unwrap();
    let refresh = sessions::mint_refresh(&app.db, &session, now).await.unwrap();
    (session, refresh.expose().to_owned())
}

/// The session and its refresh tokens are revoked, and the token no longer rotates.
async fn assert_revoked(app: &TestApp, session: &session_rows::Model, refresh: &str) {
    let stored = session_rows::Entity::find_by_id(session.id).one(&app.db).await.unwrap().unwrap();
    assert!(stored.revoked_at.is_some(), "{stored:?}");
    let tokens = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::SessionId.eq(session.id))
        .all(&app.db)
        .await
        .unwrap();
    assert!(!tokens.is_empty() && tokens.iter().all(|t| t.revoked_at.is_some()), "{tokens:?}");
    let rotated = sessions::rotate(&app.db, refresh, Utc::now(), chrono::Duration::days(1)).await;
    assert!(matches!(rotated, Err(DomainError::TokenRevoked)), "{rotated:?}");
}

async fn assert_live(app: &TestApp, session: &session_rows::Model) {
    let stored = session_rows::Entity::find_by_id(session.id).one(&app.db).await.unwrap().unwrap();
    assert!(stored.revoked_at.is_none(), "{stored:?}");
}

fn at(time: chrono::DateTime<Utc>) -> Timestamp {
    Timestamp { seconds: time.timestamp(), nanos: 0 }
}

impl Caller {
    async fn disable(
        &mut self,
        id: &str,
        reason: &str,
        until: Option<Timestamp>,
    ) -> Result<pb::DisableUserResponse, Status> {
        let request =
            pb::DisableUserRequest { id: id.to_owned(), reason: reason.to_owned(), until };
        self.client.disable_user(authorized(request, &self.key)).await.map(|r| r.into_inner())
    }

    async fn enable(&mut self, id: &str) -> Result<pb::User, Status> {
        let request = pb::EnableUserRequest { id: id.to_owned() };
        self.client
            .enable_user(authorized(request, &self.key))
            .await
            .map(|r| r.into_inner().user.unwrap())
    }

    async fn set_password(
        &mut self,
        request: pb::SetPasswordRequest,
    ) -> Result<pb::SetPasswordResponse, Status> {
        self.client.set_password(authorized(request, &self.key)).await.map(|r| r.into_inner())
    }

    async fn force(&mut self, id: &str) -> Result<pb::User, Status> {
        let request = pb::ForcePasswordChangeRequest { id: id.to_owned() };
        self.client
            .force_password_change(authorized(request, &self.key))
            .await
            .map(|r| r.into_inner().user.unwrap())
    }
}

db_test! {
    async fn disable_revokes_every_session_at_once(app) {
        let mut caller = Caller::new(&app).await;
        let user = caller.user("disabled@example.com").await;
        let first = sign_in(&app, &user.id).await;
        let second = sign_in(&app, &user.id).await;
        let other = caller.user("other@example.com").await;
        let bystander = sign_in(&app, &other.id).await;
        assert_eq!(caller.get_id(&user.id).await.unwrap().session_count, 2);
        let before = row(&app, &user.id).await.unwrap();

        let response = caller.disable(&user.id, "chargeback", None).await.unwrap();
        assert_eq!(response.revoked_sessions, 2);
        let disabled = response.user.unwrap();
        assert!(!disabled.is_active);
        assert_eq!((disabled.disabled_reason.as_str(), disabled.disabled_until, disabled.session_count), ("chargeback", None, 0));
        assert_revoked(&app, &first.0, &first.1).await;
        assert_revoked(&app, &second.0, &second.1).await;
        assert_live(&app, &bystander.0).await;
        let after = row(&app, &user.id).await.unwrap();
        assert!(after.tokens_valid_after > before.tokens_valid_after, "older tokens stop working");
        assert_eq!(caller.get_id(&user.id).await.unwrap(), disabled);

        let rows = app.audit_rows("user.disable").await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].metadata["reason"], "chargeback");
        assert_eq!(rows[0].metadata["revoked_sessions"], 2);

        // Again: reason and until are replaced.
        let until = Utc::now() + Duration::days(3);
        let again = caller.disable(&user.id, "still investigating", Some(at(until))).await.unwrap();
        assert_eq!(again.revoked_sessions, 0);
        let again = again.user.unwrap();
        assert_eq!(again.disabled_reason, "still investigating");
        assert_eq!(again.disabled_until.map(|t| t.seconds), Some(until.timestamp()));
    }
}

db_test! {
    async fn disable_validates_and_changes_nothing_on_bad_input(app) {
        let mut caller = Caller::new(&app).await;
        let user = caller.user("valid@example.com").await;
        let session = sign_in(&app, &user.id).await;
        let audit_before = app.count_audit().await;
        let past = at(Utc::now() - Duration::minutes(1));
        let status = caller.disable(&user.id, &"r".repeat(501), Some(past)).await.unwrap_err();
        assert_invalid(&status, &["reason", "until"]);
        let status = caller.disable("bad-id", "", Some(Timestamp { seconds: 0, nanos: -1 })).await.unwrap_err();
        assert_invalid(&status, &["id", "until"]);
        assert_status(&caller.disable(&Uuid::now_v7().to_string(), "", None).await.unwrap_err(), Code::NotFound, "NOT_FOUND");
        assert!(caller.get_id(&user.id).await.unwrap().is_active);
        assert_live(&app, &session.0).await;
        assert_eq!(app.count_audit().await, audit_before);
        // Exactly 500 characters (not bytes) is fine.
        assert!(caller.disable(&user.id, &"é".repeat(500), None).await.is_ok());
    }
}

db_test! {
    async fn enable_clears_a_disable_and_a_lock(app) {
        let mut caller = Caller::new(&app).await;
        let user = caller.user("enable@example.com").await;
        caller.disable(&user.id, "holiday", Some(at(Utc::now() + Duration::days(1)))).await.unwrap();
        let enabled = caller.enable(&user.id).await.unwrap();
        assert!(enabled.is_active && enabled.disabled_reason.is_empty() && enabled.disabled_until.is_none());
        let stored = row(&app, &user.id).await.unwrap();
        assert_eq!((stored.is_active, stored.disabled_reason, stored.disabled_until), (true, None, None));
        assert_eq!(app.audit_rows("user.enable").await.len(), 1);

        // Enabling an active user changes nothing and records nothing.
        assert_eq!(caller.enable(&user.id).await.unwrap(), enabled);
        assert_eq!(app.audit_rows("user.enable").await.len(), 1);

        // A failed-login lock is cleared too.
        let mut locked: warden_core::entity::users::ActiveModel = row(&app, &user.id).await.unwrap().into();
        locked.failed_login_count = Set(5);
        locked.locked_until = Set(Some(Utc::now() + Duration::hours(1)));
        locked.update(&app.db).await.unwrap();
        assert!(caller.get_id(&user.id).await.unwrap().is_locked);
        let unlocked = caller.enable(&user.id).await.unwrap();
        assert!(!unlocked.is_locked && unlocked.locked_until.is_none());
        let stored = row(&app, &user.id).await.unwrap();
        assert_eq!((stored.failed_login_count, stored.locked_until), (0, None));
        assert_eq!(app.audit_rows("user.enable").await.len(), 2);

        assert_status(&caller.enable(&Uuid::now_v7().to_string()).await.unwrap_err(), Code::NotFound, "NOT_FOUND");
        assert_invalid(&caller.enable("x").await.unwrap_err(), &["id"]);
    }
}

/// A disable with `until` lifts itself once the (manual) clock passes it.
async fn a_timed_disable_lifts_itself(backend: Backend) {
    let clock = ManualClock::new(Utc::now());
    let Some(app) = TestApp::spawn_with_clock(backend, Arc::new(clock.clone()), |_| {}).await
    else {
        return;
    };
    let mut caller = Caller::new(&app).await;
    let user = caller.user("timed@example.com").await;
    let until = clock_now(&clock) + Duration::hours(1);
    let disabled =
        caller.disable(&user.id, "cool-off", Some(at(until))).await.unwrap().user.unwrap();
    assert!(!disabled.is_active);
    assert_eq!(disabled.disabled_until.map(|t| t.seconds), Some(until.timestamp()));

    clock.advance(Duration::minutes(59));
    assert!(!caller.get_id(&user.id).await.unwrap().is_active);
    clock.advance(Duration::minutes(2));
    let lifted = caller.get_id(&user.id).await.unwrap();
    assert!(lifted.is_active, "{lifted:?}");
    assert!(lifted.disabled_reason.is_empty() && lifted.disabled_until.is_none());

    // "In the future" is judged by the server's clock.
    let status = caller.disable(&user.id, "", Some(at(until))).await.unwrap_err();
    assert_invalid(&status, &["until"]);
}

fn clock_now(clock: &ManualClock) -> chrono::DateTime<Utc> {
    use warden_core::clock::Clock;
    clock.now()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_disable_lifts_itself_sqlite() {
    a_timed_disable_lifts_itself(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_disable_lifts_itself_postgres() {
    a_timed_disable_lifts_itself(Backend::Postgres).await;
}

db_test! {
    async fn set_password_replaces_the_hash_and_may_revoke_sessions(app) {
        let mut caller = Caller::new(&app).await;
        let user = caller.user("password@example.com").await;
        let kept = sign_in(&app, &user.id).await;
        let new_password = "a brand new passphrase";
        let request = pb::SetPasswordRequest {
            id: user.id.clone(),
            password_source: Some(NewPassword::NewPassword(new_password.into())),
            must_change_password: true,
            revoke_sessions: false,
        };
        let set = caller.set_password(request).await.unwrap();
        assert_eq!((set.sessions_revoked, set.must_change_password, set.generated_password.as_str()), (0, true, ""));
        let stored = row(&app, &user.id).await.unwrap();
        let hash = stored.password_hash.clone().unwrap();
        assert!(hash.starts_with("$argon2id$") && verifies(&hash, new_password).await && !verifies(&hash, PASSWORD).await);
        assert!(stored.must_change_password);
        assert_live(&app, &kept.0).await;

        let request = pb::SetPasswordRequest {
            id: user.id.clone(),
            password_source: Some(NewPassword::GeneratePassword(true)),
            must_change_password: false,
            revoke_sessions: true,
        };
        let set = caller.set_password(request).await.unwrap();
        assert_eq!((set.sessions_revoked, set.must_change_password), (1, false));
        let generated = set.generated_password;
        assert!(generated.chars().count() >= 16);
        let stored = row(&app, &user.id).await.unwrap();
        assert!(verifies(stored.password_hash.as_deref().unwrap(), &generated).await);
        assert!(!stored.must_change_password);
        assert_revoked(&app, &kept.0, &kept.1).await;
        assert_not_in_audit(&app, &generated).await;
        assert_not_in_audit(&app, new_password).await;
        let rows = app.audit_rows("user.set_password").await;
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].metadata["revoked_sessions"], 1);
    }
}

db_test! {
    async fn set_password_refuses_weak_missing_and_unknown(app) {
        let mut caller = Caller::new(&app).await;
        let user = caller.user("refuse@example.com").await;
        let hash = row(&app, &user.id).await.unwrap().password_hash;
        let audit_before = app.count_audit().await;
        let weak = pb::SetPasswordRequest { id: user.id.clone(), password_source: Some(NewPassword::NewPassword("short".into())), ..Default::default() };
        let status = caller.set_password(weak).await.unwrap_err();
        assert_invalid_with(&status, "WEAK_PASSWORD", &["new_password"]);
        let missing = pb::SetPasswordRequest { id: user.id.clone(), ..Default::default() };
        assert_invalid(&caller.set_password(missing).await.unwrap_err(), &["new_password"]);
        let not_generated = pb::SetPasswordRequest { id: user.id.clone(), password_source: Some(NewPassword::GeneratePassword(false)), ..Default::default() };
        assert_invalid(&caller.set_password(not_generated).await.unwrap_err(), &["new_password"]);
        let malformed = pb::SetPasswordRequest { id: "zzz".into(), password_source: Some(NewPassword::NewPassword("short".into())), ..Default::default() };
        assert_invalid(&caller.set_password(malformed).await.unwrap_err(), &["id", "new_password"]);
        let unknown = pb::SetPasswordRequest { id: Uuid::now_v7().to_string(), password_source: Some(NewPassword::GeneratePassword(true)), ..Default::default() };
        assert_status(&caller.set_password(unknown).await.unwrap_err(), Code::NotFound, "NOT_FOUND");
        assert_eq!(row(&app, &user.id).await.unwrap().password_hash, hash);
        assert_eq!(app.count_audit().await, audit_before);
    }
}

db_test! {
    async fn force_password_change_sets_the_flag(app) {
        let mut caller = Caller::new(&app).await;
        let user = caller.user("force@example.com").await;
        assert!(!user.must_change_password);
        let forced = caller.force(&user.id).await.unwrap();
        assert!(forced.must_change_password);
        assert!(row(&app, &user.id).await.unwrap().must_change_password);
        let rows = app.audit_rows("user.force_password_change").await;
        assert_eq!((rows.len(), rows[0].target_id.as_deref()), (1, Some(user.id.as_str())));
        assert_status(&caller.force(&Uuid::now_v7().to_string()).await.unwrap_err(), Code::NotFound, "NOT_FOUND");
        assert_invalid(&caller.force("").await.unwrap_err(), &["id"]);
        assert_eq!(app.audit_rows("user.force_password_change").await.len(), 1);
    }
}
