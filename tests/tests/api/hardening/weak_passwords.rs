//! Common and trivially guessable passwords are refused wherever a password
//! is set (admins, users, resets), with WEAK_PASSWORD and a violation that
//! says why; imported hashes are not second-guessed.

use warden_core::scope::ScopeSet;
use warden_proto::v1::{self as pb, users_service_client::UsersServiceClient};
use warden_tests::{authorized, db_test};

use super::*;

const WEAK: [&str; 5] =
    ["password123", "Password123!", "passwordpassword", "123456789012", "qwertyuiop123"];

fn assert_weak(status: &Status, field: &str) {
    assert_status(status, Code::InvalidArgument, "WEAK_PASSWORD");
    let details = status.get_error_details();
    let violation = &details.bad_request().expect("field violations").field_violations[0];
    assert_eq!(violation.field, field);
    assert!(violation.description.contains("too easy to guess"), "{violation:?}");
}

fn user_with(email: &str, password: &str) -> pb::CreateUserRequest {
    pb::CreateUserRequest {
        email: email.into(),
        password_source: Some(pb::create_user_request::PasswordSource::Password(password.into())),
        ..Default::default()
    }
}

db_test! {
    async fn common_passwords_are_refused_everywhere(app) {
        let mut admin_auth = app.admin_auth();
        // Admin passwords need 12 characters first; these all have them.
        let long_enough = || WEAK.into_iter().filter(|p| p.chars().count() >= 12);
        for weak in long_enough() {
            let setup = pb::SetupRequest { email: "root@example.com".into(), password: weak.into(), name: "Root".into() };
            assert_weak(&admin_auth.setup(setup).await.unwrap_err(), "password");
        }
        let root = app.setup_admin().await;
        let key = app.api_key(ScopeSet::all()).await;
        let mut users = UsersServiceClient::new(app.channel.clone());
        for weak in WEAK {
            assert_weak(&users.create_user(authorized(user_with("u@example.com", weak), &key)).await.unwrap_err(), "password");
        }
        for weak in long_enough() {
            let admin = pb::CreateAdminRequest {
                email: "second@example.com".into(),
                password: weak.into(),
                name: "Second".into(),
                ..Default::default()
            };
            assert_weak(&admin_auth.create_admin(authorized(admin, &root.access_token)).await.unwrap_err(), "password");
            let change = pb::ChangePasswordRequest {
                current_password: warden_tests::ADMIN_PASSWORD.into(),
                new_password: weak.into(),
            };
            assert_weak(&admin_auth.change_password(authorized(change, &root.access_token)).await.unwrap_err(), "new_password");
        }
        // Built from the account's own email: guessable too.
        let own = users.create_user(authorized(user_with("marmalade.fox@example.com", "marmalade.fox"), &key)).await.unwrap_err();
        assert_weak(&own, "password");

        let user = users
            .create_user(authorized(user_with("u@example.com", "lantern moss and rain"), &key))
            .await.expect("a passphrase is fine").into_inner().user.unwrap();
        let set = pb::SetPasswordRequest {
            id: user.id,
            password_source: Some(pb::set_password_request::PasswordSource::NewPassword("Password123!".into())),
            ..Default::default()
        };
        assert_weak(&users.set_password(authorized(set, &key)).await.unwrap_err(), "new_password");
        // Nothing weak was stored: still just the one admin and one user.
        assert_eq!(app.audit_rows("admin.create").await.len(), 0);
        assert_eq!(app.audit_rows("user.create").await.len(), 1);
    }
}

db_test! {
    async fn imported_hashes_are_exempt(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let mut users = UsersServiceClient::new(app.channel.clone());
        // A bcrypt hash of a weak password, as another system stored it.
        let hash = bcrypt::hash("password123", 4).unwrap();
        let row = pb::ImportUsersRequest {
            email: "legacy@example.com".into(),
            password_hash: hash,
            ..Default::default()
        };
        let answer = users
            .import_users(authorized(tokio_stream::iter(vec![row]), &key))
            .await.unwrap().into_inner();
        assert_eq!((answer.created_count, answer.failed_count), (1, 0), "{answer:?}");
        // A plaintext password in an import is a new password: the policy applies.
        let plain = pb::ImportUsersRequest {
            email: "plain@example.com".into(),
            password: "password123".into(),
            ..Default::default()
        };
        let answer = users
            .import_users(authorized(tokio_stream::iter(vec![plain]), &key))
            .await.unwrap().into_inner();
        assert_eq!(answer.failed_count, 1, "{answer:?}");
        assert_eq!(answer.failed_rows[0].reason, "WEAK_PASSWORD", "{answer:?}");
    }
}
