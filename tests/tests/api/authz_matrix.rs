//! Deny by default, over every method in the descriptor: anonymous calls,
//! callers holding each single scope, bad and dead credentials.

use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use tonic::Code;
use warden_core::{
    entity::api_keys,
    scope::{Scope, ScopeSet},
};
use warden_proto::{Access, METHODS};
use warden_tests::{assert_status, db_test, raw::call_empty, reason_of};

/// Whether the authorization layer let the call through to a handler. Until
/// a service is implemented its handlers answer UNIMPLEMENTED; an empty
/// request that reaches an implemented handler fails validation instead.
fn passed_authorization(result: &Result<(), tonic::Status>) -> bool {
    match result {
        Ok(()) => true,
        Err(status) => {
            !matches!(status.code(), Code::Unauthenticated | Code::PermissionDenied)
                || !matches!(
                    reason_of(status).as_str(),
                    "UNAUTHENTICATED"
                        | "INVALID_CREDENTIALS"
                        | "SCOPE_MISSING"
                        | "TOKEN_EXPIRED"
                        | "TOKEN_REVOKED"
                )
        }
    }
}

db_test! {
    async fn anonymous_calls_reach_only_public_methods(app) {
        let mut public = 0;
        for method in METHODS {
            let result = call_empty(&app.channel, method, None).await;
            if method.access == Access::Public {
                public += 1;
                assert!(passed_authorization(&result), "{}: {result:?}", method.path);
            } else {
                let status = result.expect_err(method.path);
                assert_eq!(status.code(), Code::Unauthenticated, "{}", method.path);
                assert_eq!(reason_of(&status), "UNAUTHENTICATED", "{}", method.path);
            }
        }
        assert!(public > 0 && public < METHODS.len());
    }
}

db_test! {
    async fn each_scope_opens_exactly_its_methods(app) {
        for scope in Scope::ALL {
            let key = app.api_key([*scope].into_iter().collect()).await;
            for method in METHODS {
                let result = call_empty(&app.channel, method, Some(&key)).await;
                let allowed = match method.access {
                    Access::Public | Access::Authenticated => true,
                    Access::Scope(required) => required == scope.as_str(),
                };
                if allowed {
                    assert!(passed_authorization(&result), "{scope} -> {}: {result:?}", method.path);
                } else {
                    let status = result.expect_err(method.path);
                    assert_eq!(status.code(), Code::PermissionDenied, "{scope} -> {}", method.path);
                    assert_eq!(reason_of(&status), "SCOPE_MISSING");
                }
            }
        }
    }
}

db_test! {
    async fn scope_missing_names_the_required_scope(app) {
        use tonic_types::StatusExt;
        let key = app.api_key(ScopeSet::default()).await;
        let method = METHODS.iter().find(|m| m.path == "/warden.v1.UsersService/GetUser").unwrap();
        let status = call_empty(&app.channel, method, Some(&key)).await.unwrap_err();
        let info = status.get_error_details().error_info().cloned().expect("error info");
        assert_eq!(info.domain, "warden");
        assert_eq!(info.metadata.get("required_scope").map(String::as_str), Some("users:read"));
    }
}

db_test! {
    async fn bad_revoked_and_expired_keys_are_unauthenticated(app) {
        let method = METHODS.iter().find(|m| m.path == "/warden.v1.UsersService/ListUsers").unwrap();
        let all = ScopeSet::all();

        let garbage = ["not-a-token", "wdn_0123456789abcdef_wrongsecret", "eyJhbGciOiJub25lIn0.e30."];
        for credential in garbage {
            let status = call_empty(&app.channel, method, Some(credential)).await.unwrap_err();
            assert_eq!(status.code(), Code::Unauthenticated, "{credential}");
            assert_eq!(reason_of(&status), "INVALID_CREDENTIALS", "{credential}");
            assert!(!status.message().contains(credential));
        }

        // A real key with one character changed is refused like any other.
        let key = app.api_key(all.clone()).await;
        let mut tampered = key.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        let status = call_empty(&app.channel, method, Some(&tampered)).await.unwrap_err();
        assert_eq!(reason_of(&status), "INVALID_CREDENTIALS");

        let revoked = app.api_key(all.clone()).await;
        set_key_times(&app.db, &revoked, Some(Utc::now()), None).await;
        let status = call_empty(&app.channel, method, Some(&revoked)).await.unwrap_err();
        assert_status(&status, Code::Unauthenticated, "TOKEN_REVOKED");

        let expired = app.api_key(all).await;
        set_key_times(&app.db, &expired, None, Some(Utc::now() - Duration::seconds(1))).await;
        let status = call_empty(&app.channel, method, Some(&expired)).await.unwrap_err();
        assert_status(&status, Code::Unauthenticated, "TOKEN_EXPIRED");

        // The intact key still passes.
        assert!(passed_authorization(&call_empty(&app.channel, method, Some(&key)).await));
    }
}

db_test! {
    async fn paths_outside_the_contract_are_refused(app) {
        let key = app.api_key(ScopeSet::all()).await;
        for path in ["/warden.v1.UsersService/NoSuchMethod", "/other.v1.Hidden/Call"] {
            let fake = warden_proto::MethodAccess {
                path: Box::leak(path.to_owned().into_boxed_str()),
                access: Access::Public,
                client_streaming: false,
                server_streaming: false,
            };
            for credential in [None, Some(key.as_str())] {
                let status = call_empty(&app.channel, &fake, credential).await.unwrap_err();
                assert_eq!(status.code(), Code::Unimplemented, "{path}");
                assert_eq!(reason_of(&status), "UNIMPLEMENTED", "{path}");
            }
        }
    }
}

async fn set_key_times(
    db: &sea_orm::DatabaseConnection,
    raw: &str,
    revoked_at: Option<chrono::DateTime<Utc>>,
    expires_at: Option<chrono::DateTime<Utc>>,
) {
    let prefix = &raw["wdn_".len().."wdn_".len() + 16];
    let key = api_keys::Entity::find()
        .filter(api_keys::Column::Prefix.eq(prefix))
        .one(db)
        .await
        .unwrap()
        .expect("key stored");
    let mut key: api_keys::ActiveModel = key.into();
    key.revoked_at = Set(revoked_at);
    key.expires_at = Set(expires_at);
    key.update(db).await.unwrap();
}
