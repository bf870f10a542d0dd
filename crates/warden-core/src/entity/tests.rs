//! The entities against the real migrated schema, on SQLite and (when
//! `WARDEN_TEST_POSTGRES_URL` is set) on a fresh PostgreSQL database: every
//! column round-trips, defaults apply, foreign keys cascade and unique
//! violations name the column.

use super::*;
use chrono::{DateTime, Duration, TimeZone, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, Database, DatabaseConnection, DbErr,
    EntityTrait, IntoActiveModel, ModelTrait, PaginatorTrait, QueryFilter, QueryOrder, Set, SqlErr,
};
use serde_json::json;
use uuid::Uuid;
use warden_migration::{Migrator, MigratorTrait};

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{:x}_{:x}", std::process::id(), nanos)
}

/// A fixed instant with microsecond precision (PostgreSQL keeps micros).
fn t(offset_secs: i64, micros: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).single().expect("valid time")
        + Duration::seconds(offset_secs)
        + Duration::microseconds(micros)
}

fn user(email: &str) -> users::Model {
    users::Model {
        id: Uuid::now_v7(),
        email: email.to_owned(),
        email_normalized: email.to_lowercase(),
        username: Some(format!("User_{email}")),
        username_normalized: Some(format!("user_{}", email.to_lowercase())),
        given_name: Some("Ada".into()),
        family_name: Some("Lovelace".into()),
        phone: None,
        email_verified: true,
        phone_verified: false,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        must_change_password: false,
        metadata: json!({"plan": "pro", "n": 3}),
        is_active: true,
        disabled_reason: None,
        disabled_until: None,
        failed_login_count: 0,
        locked_until: None,
        last_failed_at: None,
        mfa_enabled: false,
        tokens_valid_after: t(0, 0),
        last_login_at: Some(t(5, 123_456)),
        created_at: t(0, 1),
        updated_at: t(0, 2),
    }
}

async fn insert<A>(db: &DatabaseConnection, am: A) -> <A::Entity as EntityTrait>::Model
where
    A: ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
{
    am.insert(db).await.expect("insert")
}

fn unique_violation(err: DbErr) -> String {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(msg)) => msg,
        other => panic!("expected a unique violation, got {other:?} from {err}"),
    }
}

async fn exercise(db: &DatabaseConnection) {
    Migrator::up(db, None).await.expect("migrate");

    // admins: full round trip.
    let admin = admins::Model {
        id: Uuid::now_v7(),
        email: "Root@Example.com".into(),
        email_normalized: "root@example.com".into(),
        name: "Root".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        role: "dashboard_admin".into(),
        is_active: true,
        failed_login_count: 2,
        locked_until: Some(t(60, 999_999)),
        last_failed_at: None,
        tokens_valid_after: t(0, 0),
        last_login_at: None,
        created_at: t(0, 0),
        updated_at: t(0, 0),
    };
    let got = insert(db, admin.clone().into_active_model().reset_all()).await;
    assert_eq!(got, admin);
    let found = prelude::Admins::find_by_id(admin.id).one(db).await.expect("find");
    assert_eq!(found.as_ref(), Some(&admin));
    let mut dup = admin.clone();
    dup.id = Uuid::now_v7();
    let err = dup.into_active_model().reset_all().insert(db).await.expect_err("dup");
    assert!(unique_violation(err).contains("email_normalized"));

    // users: full round trip, then defaults.
    let u = user("Ada@Example.com");
    let got = insert(db, u.clone().into_active_model().reset_all()).await;
    assert_eq!(got, u);
    let found = prelude::Users::find_by_id(u.id).one(db).await.expect("find");
    assert_eq!(found.as_ref(), Some(&u));

    let minimal = insert(
        db,
        users::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set("min@example.com".into()),
            email_normalized: Set("min@example.com".into()),
            tokens_valid_after: Set(t(0, 0)),
            created_at: Set(t(1, 500_000)),
            updated_at: Set(t(1, 500_000)),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(minimal.metadata, json!({}));
    assert!(minimal.is_active);
    assert!(!minimal.email_verified && !minimal.phone_verified && !minimal.mfa_enabled);
    assert!(!minimal.must_change_password);
    assert_eq!(minimal.failed_login_count, 0);
    assert_eq!(minimal.username_normalized, None);

    // Unique columns: nullable ones allow many NULLs, but not equal values.
    let mut dup = user("ADA@example.com");
    dup.username_normalized = None;
    let err = dup.into_active_model().reset_all().insert(db).await.expect_err("dup email");
    assert!(unique_violation(err).contains("email_normalized"));

    let mut dup = user("other@example.com");
    dup.username_normalized = u.username_normalized.clone();
    let err = dup.into_active_model().reset_all().insert(db).await.expect_err("dup username");
    assert!(unique_violation(err).contains("username_normalized"));

    let mut with_phone = user("phone@example.com");
    with_phone.phone = Some("+14155550100".into());
    insert(db, with_phone.into_active_model().reset_all()).await;
    let mut dup = user("phone2@example.com");
    dup.phone = Some("+14155550100".into());
    let err = dup.into_active_model().reset_all().insert(db).await.expect_err("dup phone");
    assert!(unique_violation(err).contains("phone"));

    // Keyset order on (created_at, id): times with different fractional
    // digits must sort chronologically on both backends.
    let order: Vec<Uuid> = prelude::Users::find()
        .filter(users::Column::CreatedAt.lt(t(1, 500_001)))
        .order_by_asc(users::Column::CreatedAt)
        .order_by_asc(users::Column::Id)
        .all(db)
        .await
        .expect("list")
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(order.first(), Some(&u.id));
    assert_eq!(order.last(), Some(&minimal.id));

    // user_roles + user_identities, cascading with the user.
    for role in ["support", "billing"] {
        insert(db, user_roles::ActiveModel { user_id: Set(u.id), role: Set(role.into()) }).await;
    }
    let err = user_roles::ActiveModel { user_id: Set(u.id), role: Set("support".into()) }
        .insert(db)
        .await
        .expect_err("dup role");
    assert!(matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))));
    let err = user_roles::ActiveModel { user_id: Set(Uuid::now_v7()), role: Set("orphan".into()) }
        .insert(db)
        .await
        .expect_err("orphan role");
    assert!(
        matches!(err.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))),
        "foreign keys must be enforced (SQLite: PRAGMA foreign_keys=ON): {err}"
    );

    let identity = user_identities::Model {
        id: Uuid::now_v7(),
        user_id: u.id,
        provider: "google".into(),
        provider_user_id: "1234567890".into(),
        provider_email: Some("ada@gmail.com".into()),
        profile: json!({"sub": "1234567890", "name": "Ada"}),
        created_at: t(2, 0),
        updated_at: t(2, 0),
    };
    assert_eq!(insert(db, identity.clone().into_active_model().reset_all()).await, identity);
    let mut dup = identity.clone();
    dup.id = Uuid::now_v7();
    dup.user_id = minimal.id;
    let err = dup.into_active_model().reset_all().insert(db).await.expect_err("dup identity");
    assert!(unique_violation(err).contains("provider_user_id"));

    let roles = u.find_related(prelude::UserRoles).all(db).await.expect("related roles");
    assert_eq!(roles.len(), 2);
    assert_eq!(
        u.find_related(prelude::UserIdentities).count(db).await.expect("count identities"),
        1
    );
    prelude::Users::delete_by_id(u.id).exec(db).await.expect("delete user");
    assert_eq!(prelude::UserRoles::find().count(db).await.expect("count"), 0);
    assert_eq!(prelude::UserIdentities::find().count(db).await.expect("count"), 0);

    // sessions + refresh_tokens, cascading with the session.
    let session = sessions::Model {
        id: Uuid::now_v7(),
        principal_type: "admin".into(),
        principal_id: admin.id,
        user_agent: Some("grpcurl/1.9".into()),
        ip: Some("127.0.0.1".into()),
        mfa_verified: false,
        created_at: t(3, 0),
        last_seen_at: t(3, 10),
        expires_at: t(3600, 0),
        revoked_at: None,
        revoked_reason: None,
    };
    assert_eq!(insert(db, session.clone().into_active_model().reset_all()).await, session);
    let token = refresh_tokens::Model {
        id: Uuid::now_v7(),
        session_id: session.id,
        family_id: Uuid::now_v7(),
        token_digest: vec![0xab; 32],
        created_at: t(3, 0),
        expires_at: t(86_400, 0),
        used_at: None,
        revoked_at: None,
    };
    assert_eq!(insert(db, token.clone().into_active_model().reset_all()).await, token);
    let by_digest = prelude::RefreshTokens::find()
        .filter(refresh_tokens::Column::TokenDigest.eq(vec![0xab_u8; 32]))
        .one(db)
        .await
        .expect("by digest");
    assert_eq!(by_digest.as_ref(), Some(&token));
    let mut dup = token.clone();
    dup.id = Uuid::now_v7();
    let err = dup.into_active_model().reset_all().insert(db).await.expect_err("dup digest");
    assert!(unique_violation(err).contains("token_digest"));
    prelude::Sessions::delete_by_id(session.id).exec(db).await.expect("delete session");
    assert_eq!(prelude::RefreshTokens::find().count(db).await.expect("count"), 0);

    // api_keys.
    let key = api_keys::Model {
        id: Uuid::now_v7(),
        name: "billing".into(),
        description: String::new(),
        prefix: "abcd1234".into(),
        secret_digest: vec![1; 32],
        scopes: json!(["users:read", "tokens:verify"]),
        created_by_type: "admin".into(),
        created_by_id: Some(admin.id),
        created_at: t(4, 0),
        updated_at: t(4, 0),
        expires_at: None,
        revoked_at: None,
        last_used_at: Some(t(5, 0)),
    };
    assert_eq!(insert(db, key.clone().into_active_model().reset_all()).await, key);
    let mut dup = key.clone();
    dup.id = Uuid::now_v7();
    let err = dup.into_active_model().reset_all().insert(db).await.expect_err("dup prefix");
    assert!(unique_violation(err).contains("prefix"));

    // signing_keys.
    let signing = signing_keys::Model {
        id: Uuid::now_v7(),
        algorithm: "EdDSA".into(),
        private_key_der: vec![0x30, 0x2e, 0x02, 0x01, 0x00],
        public_key: vec![7; 32],
        created_at: t(0, 0),
        activates_at: t(0, 0),
        retires_at: None,
        expires_at: Some(t(7200, 0)),
    };
    assert_eq!(insert(db, signing.clone().into_active_model().reset_all()).await, signing);

    // audit_events: no foreign keys, ids are free-form strings.
    let event = audit_events::Model {
        id: Uuid::now_v7(),
        occurred_at: t(6, 42),
        actor_type: "anonymous".into(),
        actor_id: None,
        action: "admin.login".into(),
        target_type: Some("admin".into()),
        target_id: Some(Uuid::now_v7().to_string()),
        outcome: "failure".into(),
        reason: Some("INVALID_CREDENTIALS".into()),
        request_id: Some("req-1".into()),
        peer_ip: Some("10.0.0.1".into()),
        user_agent: None,
        metadata: json!({"email": "nobody@example.com"}),
    };
    assert_eq!(insert(db, event.clone().into_active_model().reset_all()).await, event);

    // verification_tokens.
    let vt = verification_tokens::Model {
        id: Uuid::now_v7(),
        purpose: "password_reset".into(),
        principal_type: "admin".into(),
        principal_id: admin.id,
        token_digest: vec![9; 32],
        created_at: t(7, 0),
        expires_at: t(907, 0),
        consumed_at: None,
    };
    assert_eq!(insert(db, vt.clone().into_active_model().reset_all()).await, vt);
    let mut dup = vt.clone();
    dup.id = Uuid::now_v7();
    let err = dup.into_active_model().reset_all().insert(db).await.expect_err("dup digest");
    assert!(unique_violation(err).contains("token_digest"));

    // Updating a single column through an ActiveModel.
    let mut am = vt.clone().into_active_model();
    am.consumed_at = Set(Some(t(8, 0)));
    let updated = am.update(db).await.expect("update");
    assert_eq!(updated.consumed_at, Some(t(8, 0)));

    let _ = db.execute_unprepared("SELECT 1").await.expect("still healthy");
}

#[tokio::test]
async fn entities_match_the_schema_on_sqlite() {
    let path = std::env::temp_dir().join(format!("warden_entity_{}.db", unique_suffix()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let db = Database::connect(&url).await.expect("connect sqlite");
    exercise(&db).await;
    db.close().await.expect("close");
    for ext in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
}

#[tokio::test]
async fn entities_match_the_schema_on_postgres() {
    let Some(pg) = warden_migration::test_support::PostgresDatabase::create().await else { return };
    let db = Database::connect(&pg.url).await.expect("connect to the fresh database");
    exercise(&db).await;
    db.close().await.expect("close");
}
