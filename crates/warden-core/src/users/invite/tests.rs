//! Token life cycle against a migrated SQLite file with a manual clock: what a
//! later confirm flow relies on (purpose, digest, expiry, single newest code).
//! The black-box suite covers the RPCs on both backends.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::{
    auth::{Auth, password::PasswordSettings},
    clock::ManualClock,
    users::{UserSettings, fields::UserFields},
};

async fn users() -> (tempfile::TempDir, Users, ManualClock) {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::db::connect(&crate::db::sqlite_url_in(dir.path()), &Default::default())
        .await
        .unwrap();
    crate::db::migrate(&db).await.unwrap();
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).single().unwrap());
    let fast = PasswordSettings { memory_kib: 256, iterations: 1, ..Default::default() };
    let clock_arc = Arc::new(clock.clone());
    let defaults = (Default::default(), Default::default(), Default::default());
    let auth = Auth::open(db, clock_arc, &fast, defaults.0, defaults.1, defaults.2).await.unwrap();
    let users = Users::new(auth, UserSettings::default());
    (dir, users, clock)
}

fn invitation(email: &str, delivery: InviteDelivery, ttl_seconds: i64) -> InviteUser {
    let fields = UserFields { email: email.into(), ..Default::default() };
    InviteUser {
        user: NewUser::parse("", &fields, 1024).unwrap(),
        delivery,
        page: invite_page("base_url", "", &UserSettings::default()).unwrap(),
        ttl_seconds,
        request_id: None,
    }
}

fn token_of(link: &str) -> &str {
    link.split_once("token=").unwrap().1
}

#[tokio::test]
async fn invite_token_is_found_by_digest_until_it_expires() {
    let (_dir, users, clock) = users().await;
    let input = invitation("Jane@Example.com", InviteDelivery::ReturnLink, 600);
    let invited = users.invite(&Context::system(), input).await.unwrap();
    let link = invited.invitation_link.unwrap();
    assert!(link.expose().starts_with("http://localhost:3000/invite?token="));
    let token = token_of(link.expose());

    let found = find_live(&users.db, INVITE_PURPOSE, token, users.now()).await.unwrap();
    assert_eq!(found.principal_id, invited.user.id.uuid());
    assert_eq!(Some(found.expires_at), invited.expires_at);
    assert!(matches!(
        find_live(&users.db, RESET_PURPOSE, token, users.now()).await,
        Err(DomainError::InvalidCredentials)
    ));
    clock.advance(Duration::seconds(600));
    assert!(matches!(
        find_live(&users.db, INVITE_PURPOSE, token, users.now()).await,
        Err(DomainError::TokenExpired)
    ));
}

#[tokio::test]
async fn a_new_reset_code_supersedes_the_previous_one() {
    let (_dir, users, _clock) = users().await;
    let input = invitation("sam@example.com", InviteDelivery::SendEmail, 3600);
    let user_id = users.invite(&Context::system(), input).await.unwrap().user.id;
    let reset = || InitiateReset {
        user_id,
        delivery: ResetDelivery::Return,
        page: reset_page("base_url", "", &UserSettings::default()).unwrap(),
        ttl_seconds: 300,
        revoke_sessions: false,
        reason: String::new(),
    };
    let first = users.initiate_password_reset(&Context::system(), reset()).await.unwrap();
    let second = users.initiate_password_reset(&Context::system(), reset()).await.unwrap();
    assert_eq!(second.expires_in, 300);
    let (first, second) = (first.code.unwrap(), second.code.unwrap());
    assert_ne!(first.expose(), second.expose());
    assert!(matches!(
        find_live(&users.db, RESET_PURPOSE, first.expose(), users.now()).await,
        Err(DomainError::TokenRevoked)
    ));
    let live = find_live(&users.db, RESET_PURPOSE, second.expose(), users.now()).await.unwrap();
    assert_eq!(live.principal_id, user_id.uuid());
}
