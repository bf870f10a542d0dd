//! The use cases against a real migrated SQLite file, with time under test
//! control (the black-box suite covers the rest over gRPC on both backends).

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use sea_orm::{EntityTrait, PaginatorTrait};
use uuid::Uuid;

use super::*;
use crate::auth::api_key_credential::authenticate;
use crate::{
    clock::ManualClock,
    context::{CallInfo, Context},
    entity::audit_events,
    pagination::{PageKey, PageRequest},
    principal::{Principal, PrincipalKind},
    scope::Scope,
};

/// The use cases over a migrated SQLite file, on a clock the test moves.
async fn keys_at(start: DateTime<Utc>) -> (tempfile::TempDir, ApiKeys, ManualClock) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = crate::db::connect(&crate::db::sqlite_url_in(dir.path()), &Default::default())
        .await
        .expect("connect");
    crate::db::migrate(&db).await.expect("migrate");
    let clock = ManualClock::new(start);
    let fast = crate::auth::password::PasswordSettings {
        memory_kib: 256,
        iterations: 1,
        ..Default::default()
    };
    let defaults = (Default::default(), Default::default(), Default::default());
    let auth = Auth::open(db, Arc::new(clock.clone()), &fast, defaults.0, defaults.1, defaults.2)
        .await
        .expect("auth");
    (dir, ApiKeys::new(auth), clock)
}

fn admin() -> Context {
    let principal = Principal {
        kind: PrincipalKind::Admin { admin_id: Uuid::now_v7(), session_id: Uuid::now_v7() },
        scopes: ScopeSet::all(),
    };
    Context::of(principal, CallInfo::default())
}

fn request(name: &str) -> CreateApiKey {
    CreateApiKey {
        name: KeyName::parse("name", name).expect("name"),
        description: KeyDescription::parse("description", "").expect("description"),
        scopes: [Scope::UsersRead].into_iter().collect(),
        expires_at: None,
        request_id: None,
    }
}

#[tokio::test]
async fn last_used_at_is_written_at_most_once_a_minute() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).single().expect("time");
    let (_dir, keys, _clock) = keys_at(t0).await;
    let db = keys.db.clone();
    let created = keys.create(&admin(), request("probe")).await.expect("create");
    let raw = created.raw_key.expect("raw key");
    let id = created.api_key.id;
    let last_used = || async { keys.get(id).await.expect("get").last_used_at };
    assert_eq!(last_used().await, None);

    authenticate(&db, raw.expose(), t0).await.expect("first use");
    assert_eq!(last_used().await, Some(t0));
    authenticate(&db, raw.expose(), t0 + Duration::seconds(59)).await.expect("second use");
    assert_eq!(last_used().await, Some(t0), "no write within the minute");
    let later = t0 + Duration::seconds(61);
    authenticate(&db, raw.expose(), later).await.expect("third use");
    assert_eq!(last_used().await, Some(later));
}

#[tokio::test]
async fn expiry_follows_the_clock() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).single().expect("time");
    let (_dir, keys, clock) = keys_at(t0).await;
    let input = CreateApiKey { expires_at: Some(t0 + Duration::hours(1)), ..request("short") };
    let created = keys.create(&admin(), input).await.expect("create");
    let raw = created.raw_key.expect("raw key");
    assert!(created.api_key.is_active);
    let expired_at = t0 + Duration::hours(1);
    let err = authenticate(&keys.db, raw.expose(), expired_at).await.expect_err("expired");
    assert!(matches!(err, DomainError::TokenExpired));
    let query = ApiKeyQuery { active_only: true, descending: true, ..Default::default() };
    let page = PageRequest::parse(&PageKey::ephemeral(), 0, "", 0, false, None).expect("page");
    let listed = || async { keys.list(&query, &page).await.expect("list").api_keys.len() };
    assert_eq!(listed().await, 1);
    clock.advance(Duration::hours(1));
    assert_eq!(listed().await, 0);
}

#[tokio::test]
async fn revoke_is_recorded_once() {
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).single().expect("time");
    let (_dir, keys, clock) = keys_at(now).await;
    let ctx = admin();
    let created = keys.create(&ctx, request("to revoke")).await.expect("create");
    let id = created.api_key.id;
    let dry = keys.revoke(&ctx, id, true).await.expect("validate only");
    assert!(!dry.is_active && dry.revoked_at.is_some());
    assert!(keys.get(id).await.expect("get").is_active, "validate_only changed nothing");

    let first = keys.revoke(&ctx, id, false).await.expect("revoke");
    clock.advance(Duration::seconds(5));
    let second = keys.revoke(&ctx, id, false).await.expect("again");
    assert_eq!(first.revoked_at, second.revoked_at, "the first revocation stands");
    let rows = audit_events::Entity::find().count(&keys.db).await.expect("count");
    assert_eq!(rows, 2, "one create and one revoke");
    let raw = created.raw_key.expect("raw");
    let err = authenticate(&keys.db, raw.expose(), now).await.unwrap_err();
    assert!(matches!(err, DomainError::TokenRevoked));
}
