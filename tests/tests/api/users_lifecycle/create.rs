//! CreateUser and GetUser.

use std::collections::HashMap;

use pb::get_user_request::Lookup;

use super::*;

fn full_request(email: &str) -> pb::CreateUserRequest {
    let metadata = prost_types::Struct {
        fields: [
            (
                "plan".to_owned(),
                prost_types::Value {
                    kind: Some(prost_types::value::Kind::StringValue("pro".into())),
                },
            ),
            (
                "seats".to_owned(),
                prost_types::Value { kind: Some(prost_types::value::Kind::NumberValue(3.0)) },
            ),
        ]
        .into_iter()
        .collect(),
    };
    pb::CreateUserRequest {
        username: "Ada_L".into(),
        given_name: "Ada".into(),
        family_name: "Lovelace".into(),
        phone: "+14155550123".into(),
        metadata: Some(metadata),
        roles: vec!["staff".into(), "admin".into(), "staff".into()],
        email_verified: true,
        phone_verified: true,
        must_change_password: true,
        ..create_request(email)
    }
}

db_test! {
    async fn create_stores_every_field_and_get_finds_it_three_ways(app) {
        let mut caller = Caller::new(&app).await;
        let created = caller.create(full_request("Ada@Example.com")).await.unwrap();
        assert!(created.generated_password.is_empty());
        let user = created.user.unwrap();
        assert_eq!(user.email, "Ada@Example.com");
        assert_eq!((user.username.as_str(), user.given_name.as_str(), user.family_name.as_str()), ("Ada_L", "Ada", "Lovelace"));
        assert_eq!(user.phone, "+14155550123");
        assert!(user.email_verified && user.phone_verified && user.must_change_password);
        assert_eq!(user.roles, ["admin", "staff"]);
        assert!(user.is_active && !user.is_locked && user.has_password && !user.mfa_enabled && !user.has_social_auth);
        assert_eq!(user.metadata.as_ref().unwrap().fields.len(), 2);
        assert_eq!(user.session_count, 0);
        assert!(user.created_at.is_some() && user.created_at == user.updated_at && user.last_login_at.is_none());
        Uuid::parse_str(&user.id).unwrap();

        assert_eq!(caller.get_id(&user.id).await.unwrap(), user);
        for email in ["ada@example.com", "ＡＤＡ@ｅｘａｍｐｌｅ.ｃｏｍ"] {
            assert_eq!(caller.get(Lookup::Email(email.into())).await.unwrap(), user, "{email}");
        }
        assert_eq!(caller.get(Lookup::Username("ada_l".into())).await.unwrap(), user);

        let stored = row(&app, &user.id).await.unwrap();
        let hash = stored.password_hash.clone().unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verifies(&hash, PASSWORD).await);
        assert_eq!(stored.email_normalized, "ada@example.com");

        let rows = app.audit_rows("user.create").await;
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].target_type.as_deref(), rows[0].target_id.as_deref()), (Some("user"), Some(user.id.as_str())));
        assert_not_in_audit(&app, PASSWORD).await;
    }
}

db_test! {
    async fn create_reports_every_violation_at_once_and_stores_nothing(app) {
        let mut caller = Caller::new(&app).await;
        let audit_before = app.count_audit().await;
        let huge = prost_types::Struct {
            fields: [("blob".to_owned(), prost_types::Value { kind: Some(prost_types::value::Kind::StringValue("x".repeat(20_000))) })]
                .into_iter()
                .collect(),
        };
        let everything_wrong = pb::CreateUserRequest {
            email: "not-an-email".into(),
            password_source: Some(PasswordSource::Password("short".into())),
            username: "x".into(),
            given_name: "a\u{7}b".into(),
            phone: "555-0100".into(),
            metadata: Some(huge),
            roles: vec!["Not A Role".into()],
            request_id: "not-a-uuid".into(),
            ..Default::default()
        };
        let status = caller.create(everything_wrong).await.unwrap_err();
        assert_invalid(&status, &[
            "email", "password", "username", "given_name", "phone", "metadata", "roles[0]", "request_id",
        ]);

        // No password source at all, or generate_password: false, is refused.
        let none = pb::CreateUserRequest { email: "".into(), password_source: None, ..Default::default() };
        let status = caller.create(none).await.unwrap_err();
        assert_invalid(&status, &["email", "password"]);
        let no = pb::CreateUserRequest { password_source: Some(PasswordSource::GeneratePassword(false)), ..create_request("no@example.com") };
        assert_invalid(&caller.create(no).await.unwrap_err(), &["password"]);
        let unverifiable = pb::CreateUserRequest { phone_verified: true, ..create_request("phone@example.com") };
        assert_invalid(&caller.create(unverifiable).await.unwrap_err(), &["phone_verified"]);

        // A weak password alone is WEAK_PASSWORD.
        let weak = pb::CreateUserRequest { password_source: Some(PasswordSource::Password("1234567".into())), ..create_request("weak@example.com") };
        let status = caller.create(weak).await.unwrap_err();
        assert_invalid_with(&status, "WEAK_PASSWORD", &["password"]);
        assert_eq!(violations(&status), ["password"]);

        assert_eq!(count_users(&app).await, 0);
        assert_eq!(app.count_audit().await, audit_before);
    }
}

db_test! {
    async fn duplicates_fail_on_the_unique_indexes(app) {
        let mut caller = Caller::new(&app).await;
        let first = pb::CreateUserRequest { username: "taken".into(), phone: "+442071838750".into(), ..create_request("first@example.com") };
        let first = caller.create(first).await.unwrap().user.unwrap();
        let audit_before = app.count_audit().await;
        let cases = [
            ("EMAIL_EXISTS", pb::CreateUserRequest { ..create_request("FIRST@example.COM") }),
            ("EMAIL_EXISTS", pb::CreateUserRequest { ..create_request("ｆｉｒｓｔ@example.com") }),
            ("USERNAME_EXISTS", pb::CreateUserRequest { username: "TAKEN".into(), ..create_request("second@example.com") }),
            ("PHONE_EXISTS", pb::CreateUserRequest { phone: "+442071838750".into(), ..create_request("third@example.com") }),
        ];
        for (reason, request) in cases {
            let status = caller.create(request).await.unwrap_err();
            assert_status(&status, Code::AlreadyExists, reason);
        }
        assert_eq!(count_users(&app).await, 1);
        assert_eq!(app.count_audit().await, audit_before);
        assert_eq!(caller.get_id(&first.id).await.unwrap(), first);
    }
}

/// "user", each letter lower-case, upper-case, full-width or full-width
/// upper-case by the base-4 digits of `n`: 256 spellings of one address.
fn variant(n: u32) -> String {
    let mut digits = n;
    let local: String = "user"
        .chars()
        .map(|c| {
            let form = digits % 4;
            digits /= 4;
            let offset = c as u32 - 'a' as u32;
            match form {
                0 => c,
                1 => c.to_ascii_uppercase(),
                2 => char::from_u32(0xFF41 + offset).unwrap(),
                _ => char::from_u32(0xFF21 + offset).unwrap(),
            }
        })
        .collect();
    format!("{local}@example.com")
}

db_test! {
    async fn twenty_parallel_creates_of_one_normalized_email_make_one_user(app) {
        let caller = Caller::new(&app).await;
        // 13 is coprime with 256, so these are 20 different spellings.
        let emails: Vec<String> = (0..20).map(|i| variant(i * 13)).collect();
        assert_eq!(emails.iter().collect::<std::collections::HashSet<_>>().len(), 20);
        assert!(emails.iter().any(|e| e.contains('ｕ')) && emails.iter().any(|e| e.contains('Ｕ')), "{emails:?}");
        let calls = emails.iter().map(|email| {
            let mut client = caller.client.clone();
            let request = authorized(create_request(email), &caller.key);
            async move { client.create_user(request).await }
        });
        let results = futures_util::future::join_all(calls).await;
        let created = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(created, 1, "{results:?}");
        for status in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_status(status, Code::AlreadyExists, "EMAIL_EXISTS");
        }
        assert_eq!(count_users(&app).await, 1);
        assert_eq!(app.audit_rows("user.create").await.len(), 1);
    }
}

db_test! {
    async fn a_generated_password_is_shown_once_and_stored_only_hashed(app) {
        let mut caller = Caller::new(&app).await;
        let request = pb::CreateUserRequest {
            password_source: Some(PasswordSource::GeneratePassword(true)),
            request_id: Uuid::new_v4().to_string(),
            ..create_request("generated@example.com")
        };
        let created = caller.create(request.clone()).await.unwrap();
        let password = created.generated_password;
        assert!(password.chars().count() >= 16, "{} chars", password.len());
        let user = created.user.unwrap();
        assert!(user.has_password);
        let stored = row(&app, &user.id).await.unwrap();
        let hash = stored.password_hash.clone().unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verifies(&hash, &password).await);
        assert!(!format!("{stored:?}").contains(&password));
        assert_not_in_audit(&app, &password).await;

        // The retry answers with the same user but cannot show the password again.
        let again = caller.create(request).await.unwrap();
        assert_eq!(again.user.unwrap().id, user.id);
        assert!(again.generated_password.is_empty());

        // Two generated passwords differ.
        let other = pb::CreateUserRequest { password_source: Some(PasswordSource::GeneratePassword(true)), ..create_request("other@example.com") };
        assert_ne!(caller.create(other).await.unwrap().generated_password, password);
    }
}

db_test! {
    async fn a_retry_with_the_same_request_id_creates_nothing(app) {
        let mut caller = Caller::new(&app).await;
        let request_id = Uuid::new_v4().to_string();
        let request = pb::CreateUserRequest { request_id: request_id.clone(), ..full_request("retry@example.com") };
        let first = caller.create(request.clone()).await.unwrap().user.unwrap();
        let second = caller.create(request.clone()).await.unwrap().user.unwrap();
        assert_eq!(first, second);
        assert_eq!(count_users(&app).await, 1);
        assert_eq!(app.audit_rows("user.create").await.len(), 1);

        // Concurrent retries: still one user, all answering it.
        let calls = (0..5).map(|_| {
            let mut client = caller.client.clone();
            let request = authorized(request.clone(), &caller.key);
            async move { client.create_user(request).await }
        });
        for result in futures_util::future::join_all(calls).await {
            assert_eq!(result.unwrap().into_inner().user.unwrap().id, first.id);
        }

        // The same id with another request is refused; another id is a new create.
        let changed = pb::CreateUserRequest { given_name: "Someone else".into(), ..request.clone() };
        warden_tests::assert_request_id_taken(&caller.create(changed).await.unwrap_err());
        let fresh = pb::CreateUserRequest { request_id: Uuid::new_v4().to_string(), ..request };
        // Email, username and phone all clash; which index reports first is the database's choice.
        let status = caller.create(fresh).await.unwrap_err();
        assert_eq!(status.code(), Code::AlreadyExists);
        assert!(["EMAIL_EXISTS", "USERNAME_EXISTS", "PHONE_EXISTS"].contains(&reason_of(&status).as_str()));
        assert_eq!(count_users(&app).await, 1);
    }
}

db_test! {
    async fn get_answers_not_found_invalid_argument_and_permission_denied(app) {
        let mut caller = Caller::new(&app).await;
        caller.user("known@example.com").await;
        let unknown = Uuid::now_v7().to_string();
        let cases: HashMap<&str, Lookup> = [
            ("unknown id", Lookup::Id(unknown.clone())),
            ("unknown email", Lookup::Email("nobody@example.com".into())),
            ("unknown username", Lookup::Username("nobody".into())),
        ]
        .into_iter()
        .collect();
        for (what, lookup) in cases {
            let status = caller.get(lookup).await.unwrap_err();
            assert_status(&status, Code::NotFound, "NOT_FOUND");
            assert!(!status.message().is_empty(), "{what}");
        }
        assert_invalid(&caller.get(Lookup::Id("not-a-uuid".into())).await.unwrap_err(), &["id"]);
        assert_invalid(&caller.get(Lookup::Id(String::new())).await.unwrap_err(), &["id"]);
        assert_invalid(&caller.get(Lookup::Email("nope".into())).await.unwrap_err(), &["email"]);
        let none = pb::GetUserRequest { lookup: None };
        let status = caller.client.get_user(authorized(none, &caller.key)).await.unwrap_err();
        assert_invalid(&status, &["lookup"]);

        // Without users:read the answer is PERMISSION_DENIED, whether or not the user exists.
        let writer = app.api_key([warden_core::scope::Scope::UsersWrite].into_iter().collect()).await;
        let request = pb::GetUserRequest { lookup: Some(Lookup::Id(unknown)) };
        let status = caller.client.get_user(authorized(request, &writer)).await.unwrap_err();
        assert_status(&status, Code::PermissionDenied, "SCOPE_MISSING");
    }
}
