//! ImportUsers: every hash family, bad rows among good ones, batching, and
//! what a row can carry besides its fields.

use argon2::password_hash::PasswordHasher as _;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use tonic::Code;
use warden_core::entity::user_identities;
use warden_tests::{db_test, reason_of};

use super::*;

/// `(family, hash of PASSWORD)` for every family ImportUsers accepts, made
/// with the same crates at their cheapest costs.
pub(super) fn legacy_hashes() -> Vec<(&'static str, String)> {
    let password = PASSWORD.as_bytes();
    let salt = *b"0123456789abcdef";
    let argon2i = argon2::Argon2::new(
        argon2::Algorithm::Argon2i,
        argon2::Version::V0x13,
        argon2::Params::new(256, 1, 1, None).unwrap(),
    );
    // argon2id, but not today's parameters (the test server uses m=1024).
    let argon2id_old = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(512, 1, 1, None).unwrap(),
    );
    let scrypt = scrypt::Scrypt::new_with_params(scrypt::Params::new(4, 8, 1).unwrap());
    let pbkdf2 =
        pbkdf2::Pbkdf2::new(pbkdf2::Algorithm::Pbkdf2Sha256, pbkdf2::Params::new(1_000).unwrap());
    let mut django = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<pbkdf2::sha2::Sha256>(password, b"djangosalt", 1_000, &mut django);
    vec![
        ("bcrypt", bcrypt::hash(password, 4).unwrap()),
        ("scrypt", scrypt.hash_password_with_salt(password, &salt).unwrap().to_string()),
        ("pbkdf2-sha256", pbkdf2.hash_password_with_salt(password, &salt).unwrap().to_string()),
        ("argon2i", argon2i.hash_password_with_salt(password, &salt).unwrap().to_string()),
        ("argon2id", argon2id_old.hash_password_with_salt(password, &salt).unwrap().to_string()),
        (
            "django-pbkdf2-sha256",
            format!("pbkdf2_sha256$1000$djangosalt${}", data_encoding::BASE64.encode(&django)),
        ),
    ]
}

db_test! {
    async fn every_hash_family_verifies_at_sign_in_and_is_upgraded(app) {
        let mut caller = Caller::new(&app).await;
        let hashes = legacy_hashes();
        let rows = hashes
            .iter()
            .enumerate()
            .map(|(i, (_, hash))| row(&format!("legacy{i}@example.com"), hash))
            .collect();
        let summary = caller.import_ok(rows).await;
        assert_eq!((summary.received_count, summary.created_count, summary.failed_count), (6, 6, 0), "{summary:?}");

        for (i, (family, hash)) in hashes.iter().enumerate() {
            let email = format!("legacy{i}@example.com");
            assert_eq!(stored(&app, &email).await.password_hash.as_deref(), Some(hash.as_str()), "{family}");
            let wrong = caller.sign_in(&email, "not the password").await.unwrap_err();
            assert_eq!((wrong.code(), reason_of(&wrong).as_str()), (Code::Unauthenticated, "INVALID_CREDENTIALS"), "{family}");
            assert_eq!(stored(&app, &email).await.password_hash.as_deref(), Some(hash.as_str()), "{family}: kept after a wrong password");

            let tokens = caller.tokens(&email, PASSWORD).await;
            assert!(!tokens.access_token.is_empty() && !tokens.refresh_token.is_empty());
            let upgraded = stored(&app, &email).await.password_hash.unwrap();
            assert!(upgraded.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{family}: {upgraded}");
            // The upgraded hash works, and is not upgraded again.
            caller.tokens(&email, PASSWORD).await;
            assert_eq!(stored(&app, &email).await.password_hash.unwrap(), upgraded, "{family}");
        }
        let sign_ins = app.audit_rows("user.sign_in").await;
        let upgrades: Vec<&str> = sign_ins
            .iter()
            .filter_map(|r| r.metadata.get("password_upgraded_from").and_then(|v| v.as_str()))
            .collect();
        assert_eq!(upgrades, hashes.iter().map(|(f, _)| *f).collect::<Vec<_>>());
        for row in &sign_ins {
            assert!(!row.metadata.to_string().contains('$'), "no hash in audit metadata: {}", row.metadata);
        }
    }
}

db_test! {
    async fn bad_rows_are_reported_and_good_rows_imported(app) {
        let mut caller = Caller::new(&app).await;
        let bcrypt = bcrypt::hash(PASSWORD, 4).unwrap();
        let mut both = row("both@example.com", &bcrypt);
        both.password = PASSWORD.into();
        let mut weak = row("weak@example.com", "");
        weak.password = "short".into();
        let mut future = row("future@example.com", "");
        future.created_at = Some(prost_types::Timestamp { seconds: 4_102_444_800, nanos: 0 });
        let mut bad_identity = row("identity@example.com", "");
        bad_identity.identities = vec![pb::Identity { provider: "Bad Provider".into(), ..Default::default() }];
        let rows = vec![
            row("good0@example.com", &bcrypt),
            row("not-an-email", &bcrypt),
            row("garbled@example.com", "$2b$04$garbled"),
            row("GOOD0@Example.com", ""),
            row("good4@example.com", "$md5$unknown$family"),
            both,
            weak,
            future,
            bad_identity,
            row("good9@example.com", ""),
        ];
        let summary = caller.import_ok(rows).await;
        assert_eq!(summary.received_count, 10);
        assert_eq!((summary.created_count, summary.failed_count, summary.skipped_count), (2, 8, 0), "{summary:?}");
        let failed: Vec<(i64, &str, Vec<&str>)> = summary
            .failed_rows
            .iter()
            .map(|f| (f.row_index, f.reason.as_str(), f.field_violations.iter().map(|v| v.field.as_str()).collect()))
            .collect();
        assert_eq!(
            failed,
            vec![
                (1, "VALIDATION_FAILED", vec!["email"]),
                (2, "VALIDATION_FAILED", vec!["password_hash"]),
                (3, "EMAIL_EXISTS", vec![]),
                (4, "VALIDATION_FAILED", vec!["password_hash"]),
                (5, "VALIDATION_FAILED", vec!["password"]),
                (6, "WEAK_PASSWORD", vec!["password"]),
                (7, "VALIDATION_FAILED", vec!["created_at"]),
                (8, "VALIDATION_FAILED", vec!["identities[0].provider", "identities[0].provider_user_id"]),
            ]
        );
        assert_eq!(summary.failed_rows[2].email, "GOOD0@Example.com");
        assert!(summary.failed_rows[2].message.contains("earlier row"), "{}", summary.failed_rows[2].message);
        for failure in &summary.failed_rows {
            assert!(!failure.message.contains("$2b$"), "no hash in messages");
        }
        assert_eq!(user_count(&app).await, 2);
        caller.tokens("good0@example.com", PASSWORD).await;
        assert!(!caller.get("good9@example.com").await.has_password);
    }
}

db_test! {
    async fn rows_are_written_in_batches_with_one_audit_row_each(app) {
        let mut caller = Caller::new(&app).await;
        let hash = legacy_hashes().remove(4).1;
        let mut rows: Vec<pb::ImportUsersRequest> =
            (0..1_199).map(|i| row(&format!("bulk{i:04}@example.com"), &hash)).collect();
        // A plain password is hashed (argon2id) on import.
        let mut plain = row("plain@example.com", "");
        plain.password = PASSWORD.into();
        rows.push(plain);
        let summary = caller.import_ok(rows).await;
        assert_eq!((summary.received_count, summary.created_count, summary.failed_count), (1_200, 1_200, 0));
        assert_eq!(user_count(&app).await, 1_200);
        assert!(stored(&app, "plain@example.com").await.password_hash.unwrap().starts_with("$argon2id$"));
        caller.tokens("plain@example.com", PASSWORD).await;

        if app.postgres().is_some() {
            // A big import refreshes the planner's statistics (autovacuum is
            // off on the test server): ANALYZE counted every new row.
            let row = app
                .db
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    "SELECT reltuples::int8 AS rows FROM pg_class WHERE relname = 'users'",
                ))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.try_get::<i64>("", "rows").unwrap(), 1_200);
        }

        let batches = app.audit_rows("user.import").await;
        assert_eq!(batches.len(), 3, "500 rows per batch");
        let created: i64 = batches.iter().map(|b| b.metadata["created"].as_i64().unwrap()).sum();
        assert_eq!(created, 1_200);
        assert_eq!(batches[0].metadata["first_row"], 0);
        assert_eq!(batches[2].metadata["last_row"], 1_199);
        for batch in &batches {
            assert_eq!(batch.actor_type, "api_key");
            assert!(!batch.metadata.to_string().contains("argon2"), "counts only: {}", batch.metadata);
        }
    }
}

db_test! {
    async fn identities_roles_and_activity_are_imported(app) {
        let mut caller = Caller::new(&app).await;
        let created_at = prost_types::Timestamp { seconds: 1_500_000_000, nanos: 123_456_000 };
        let mut metadata = prost_types::Struct::default();
        metadata.fields.insert(
            "plan".into(),
            prost_types::Value { kind: Some(prost_types::value::Kind::StringValue("pro".into())) },
        );
        let rich = pb::ImportUsersRequest {
            email: "rich@example.com".into(),
            username: "rich_user".into(),
            given_name: "Rich".into(),
            family_name: "User".into(),
            phone: "+14155550100".into(),
            email_verified: true,
            phone_verified: true,
            roles: vec!["member".into(), "admin".into()],
            metadata: Some(metadata),
            identities: vec![
                pb::Identity {
                    provider: "google".into(),
                    provider_user_id: "g-1".into(),
                    provider_email: "rich@gmail.com".into(),
                    ..Default::default()
                },
                pb::Identity { provider: "GitHub".into(), provider_user_id: "42".into(), ..Default::default() },
            ],
            created_at: Some(created_at),
            ..Default::default()
        };
        let mut inactive = row("inactive@example.com", &bcrypt::hash(PASSWORD, 4).unwrap());
        inactive.is_active = Some(false);
        let mut taken = row("taken@example.com", "");
        taken.identities = vec![pb::Identity { provider: "google".into(), provider_user_id: "g-1".into(), ..Default::default() }];
        let summary = caller.import_ok(vec![rich, inactive, taken]).await;
        assert_eq!((summary.created_count, summary.failed_count), (2, 1), "{summary:?}");
        assert_eq!(summary.failed_rows[0].reason, "SOCIAL_ACCOUNT_EXISTS");

        let user = caller.get("rich@example.com").await;
        assert_eq!((user.username.as_str(), user.phone.as_str()), ("rich_user", "+14155550100"));
        assert!(user.email_verified && user.phone_verified && user.is_active && user.has_social_auth);
        assert_eq!(user.roles, ["admin", "member"]);
        assert_eq!(user.social_providers, ["github", "google"]);
        assert_eq!(user.created_at, Some(created_at));
        assert_eq!(user.metadata.unwrap().fields["plan"].kind, Some(prost_types::value::Kind::StringValue("pro".into())));
        let listed = caller
            .users
            .list_identities(authorized(pb::ListIdentitiesRequest { user_id: user.id.clone() }, &caller.key))
            .await
            .unwrap()
            .into_inner()
            .identities;
        let mut linked: Vec<(String, String, String)> = listed
            .iter()
            .map(|i| (i.provider.clone(), i.provider_user_id.clone(), i.provider_email.clone()))
            .collect();
        linked.sort();
        assert_eq!(
            linked,
            [("github".into(), "42".into(), String::new()), ("google".into(), "g-1".into(), "rich@gmail.com".into())]
        );
        assert!(listed.iter().all(|i| i.user_id == user.id && i.created_at.is_some()));
        let rows = user_identities::Entity::find()
            .filter(user_identities::Column::Provider.eq("google"))
            .all(&app.db)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);

        let inactive = caller.get("inactive@example.com").await;
        assert!(!inactive.is_active);
        let refused = caller.sign_in("inactive@example.com", PASSWORD).await.unwrap_err();
        assert_status(&refused, Code::PermissionDenied, "ACCOUNT_DISABLED");
        assert!(matches!(caller.sign_in("rich_user", "wrong password").await, Err(e) if reason_of(&e) == "INVALID_CREDENTIALS"));
        assert!(matches!(caller.sign_in("+14155550100", "wrong password").await, Err(e) if reason_of(&e) == "INVALID_CREDENTIALS"));
    }
}

db_test! {
    async fn concurrent_imports_of_the_same_rows_create_each_user_once(app) {
        let hash = legacy_hashes().remove(4).1;
        let rows: Vec<pb::ImportUsersRequest> = (0..600)
            .map(|i| {
                let mut r = row(&format!("race{i:03}@example.com"), &hash);
                r.username = format!("race{i:03}");
                r.identities = vec![pb::Identity {
                    provider: "google".into(),
                    provider_user_id: format!("race-{i}"),
                    ..Default::default()
                }];
                r
            })
            .collect();
        let mut first = Caller::new(&app).await;
        let mut second = Caller::new(&app).await;
        let (a, b) = tokio::join!(first.import(rows.clone()), second.import(rows));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.created_count + b.created_count, 600, "{a:?} / {b:?}");
        assert_eq!(a.failed_count + b.failed_count, 600);
        assert!(a.failed_rows.iter().chain(&b.failed_rows).all(|f| f.reason == "EMAIL_EXISTS"));
        assert_eq!(user_count(&app).await, 600);
        let links = user_identities::Entity::find().all(&app.db).await.unwrap();
        assert_eq!(links.len(), 600);
    }
}
