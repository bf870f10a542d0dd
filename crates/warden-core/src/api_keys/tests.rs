//! The use cases against a real migrated SQLite file, with time under test
//! control (the black-box suite covers the rest over gRPC on both backends).

use chrono::{Duration, TimeZone, Utc};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

use super::*;
use crate::auth::api_key_credential::authenticate;
use crate::{
    context::{CallInfo, Context},
    entity::audit_events,
    principal::{Principal, PrincipalKind},
    scope::Scope,
};

async fn database() -> (tempfile::TempDir, DatabaseConnection) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = crate::db::connect(&crate::db::sqlite_url_in(dir.path()), &Default::default())
        .await
        .expect("connect");
    crate::db::migrate(&db).await.expect("migrate");
    (dir, db)
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
        name: name.into(),
        scopes: vec![Scope::UsersRead.as_str().into()],
        ..Default::default()
    }
}

#[tokio::test]
async fn last_used_at_is_written_at_most_once_a_minute() {
    let (_dir, db) = database().await;
    let t0 = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).single().expect("time");
    let created = create(&db, &admin(), request("probe"), t0).await.expect("create");
    let raw = created.raw_key.expect("raw key");
    let last_used = |db: &DatabaseConnection, id| {
        let db = db.clone();
        async move { get(&db, id, t0).await.expect("get").last_used_at }
    };
    let id = created.api_key.id;
    assert_eq!(last_used(&db, id).await, None);

    authenticate(&db, raw.expose(), t0).await.expect("first use");
    assert_eq!(last_used(&db, id).await, Some(t0));
    authenticate(&db, raw.expose(), t0 + Duration::seconds(59)).await.expect("second use");
    assert_eq!(last_used(&db, id).await, Some(t0), "no write within the minute");
    let later = t0 + Duration::seconds(61);
    authenticate(&db, raw.expose(), later).await.expect("third use");
    assert_eq!(last_used(&db, id).await, Some(later));
}

#[tokio::test]
async fn expiry_follows_the_clock() {
    let (_dir, db) = database().await;
    let t0 = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).single().expect("time");
    let input = CreateApiKey { expires_at: Some(t0 + Duration::hours(1)), ..request("short") };
    let created = create(&db, &admin(), input, t0).await.expect("create");
    let raw = created.raw_key.expect("raw key");
    assert!(created.api_key.is_active);
    let expired_at = t0 + Duration::hours(1);
    let err = authenticate(&db, raw.expose(), expired_at).await.expect_err("expired");
    assert!(matches!(err, DomainError::TokenExpired));
    let listed = |now| {
        let db = db.clone();
        async move {
            let input = ListApiKeys { active_only: true, descending: true, ..Default::default() };
            list(&db, &crate::pagination::PageKey::ephemeral(), input, now)
                .await
                .expect("list")
                .api_keys
                .len()
        }
    };
    assert_eq!(listed(t0).await, 1);
    assert_eq!(listed(expired_at).await, 0);
}

#[tokio::test]
async fn revoke_is_recorded_once() {
    let (_dir, db) = database().await;
    let now = Utc::now();
    let ctx = admin();
    let created = create(&db, &ctx, request("to revoke"), now).await.expect("create");
    let id = created.api_key.id;
    let dry = revoke(&db, &ctx, id, true, now).await.expect("validate only");
    assert!(!dry.is_active && dry.revoked_at.is_some());
    assert!(get(&db, id, now).await.expect("get").is_active, "validate_only changed nothing");

    let first = revoke(&db, &ctx, id, false, now).await.expect("revoke");
    let second = revoke(&db, &ctx, id, false, now + Duration::seconds(5)).await.expect("again");
    assert_eq!(first.revoked_at, second.revoked_at, "the first revocation stands");
    let rows = audit_events::Entity::find().count(&db).await.expect("count");
    assert_eq!(rows, 2, "one create and one revoke");
    let err = authenticate(&db, created.raw_key.expect("raw").expose(), now).await.unwrap_err();
    assert!(matches!(err, DomainError::TokenRevoked));
}
