//! An enum value this server does not know (a newer client's, or garbage)
//! is INVALID_ARGUMENT naming the field, in every list and every request
//! that carries an enum: never silently the default, and nothing is written.

use tonic::{Code, Status, transport::Channel};
use uuid::Uuid;
use warden_core::scope::ScopeSet;
use warden_proto::v1::{
    self as pb, StringFilter, api_keys_service_client::ApiKeysServiceClient,
    users_service_client::UsersServiceClient,
};
use warden_tests::{TestApp, authorized, db_test, reason_of, violations};

/// A StringFilter whose mode is no MatchMode.
fn unknown_mode() -> Option<StringFilter> {
    Some(StringFilter { value: "a".into(), mode: 42 })
}

fn assert_refused(status: &Status, fields: &[&str]) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(reason_of(status), "VALIDATION_FAILED", "{status:?}");
    let mut named = violations(status);
    named.sort();
    assert_eq!(named, fields, "{status:?}");
}

async fn users_client(app: &TestApp) -> (UsersServiceClient<Channel>, String) {
    (UsersServiceClient::new(app.channel.clone()), app.api_key(ScopeSet::all()).await)
}

db_test! {
    async fn list_admins_refuses_unknown_enum_values(app) {
        // ListAdmins used to take the default order for any unknown value.
        let root = app.setup_admin().await;
        let cases = [
            ("order_by", pb::ListAdminsRequest { order_by: 99, ..Default::default() }),
            ("order_direction", pb::ListAdminsRequest { order_direction: 7, ..Default::default() }),
            ("email.mode", pb::ListAdminsRequest { email: unknown_mode(), ..Default::default() }),
            ("name.mode", pb::ListAdminsRequest { name: unknown_mode(), ..Default::default() }),
        ];
        for (field, request) in cases {
            let request = authorized(request, &root.access_token);
            let status = app.admin_auth().list_admins(request).await.unwrap_err();
            assert_refused(&status, &[field]);
        }
        // One answer names every problem, the page's included.
        let all = pb::ListAdminsRequest {
            order_by: 99,
            order_direction: 7,
            email: unknown_mode(),
            page_size: -1,
            ..Default::default()
        };
        let status = app.admin_auth().list_admins(authorized(all, &root.access_token)).await;
        assert_refused(
            &status.unwrap_err(),
            &["email.mode", "order_by", "order_direction", "page_size"],
        );
    }
}

db_test! {
    async fn list_users_refuses_unknown_enum_values(app) {
        let (mut client, key) = users_client(&app).await;
        let cases = [
            ("order_by", pb::ListUsersRequest { order_by: 99, ..Default::default() }),
            ("order_direction", pb::ListUsersRequest { order_direction: 7, ..Default::default() }),
            ("email.mode", pb::ListUsersRequest { email: unknown_mode(), ..Default::default() }),
            ("username.mode", pb::ListUsersRequest { username: unknown_mode(), ..Default::default() }),
            ("name.mode", pb::ListUsersRequest { name: unknown_mode(), ..Default::default() }),
            ("phone.mode", pb::ListUsersRequest { phone: unknown_mode(), ..Default::default() }),
        ];
        for (field, request) in cases {
            let status = client.list_users(authorized(request, &key)).await.unwrap_err();
            assert_refused(&status, &[field]);
        }
    }
}

db_test! {
    async fn list_api_keys_refuses_unknown_enum_values(app) {
        let mut client = ApiKeysServiceClient::new(app.channel.clone());
        let key = app.api_key(ScopeSet::all()).await;
        let cases = [
            ("order_direction", pb::ListApiKeysRequest { order_direction: 7, ..Default::default() }),
            ("name.mode", pb::ListApiKeysRequest { name: unknown_mode(), ..Default::default() }),
        ];
        for (field, request) in cases {
            let status = client.list_api_keys(authorized(request, &key)).await.unwrap_err();
            assert_refused(&status, &[field]);
        }
    }
}

db_test! {
    async fn invite_user_refuses_an_unknown_delivery(app) {
        let (mut client, key) = users_client(&app).await;
        let request = pb::InviteUserRequest {
            email: "invitee@example.com".into(),
            delivery: 99,
            ..Default::default()
        };
        let status = client.invite_user(authorized(request, &key)).await.unwrap_err();
        assert_refused(&status, &["delivery"]);
        assert!(app.all_audit_rows().await.is_empty(), "nothing was written");
    }
}

db_test! {
    async fn initiate_password_reset_refuses_an_unknown_delivery(app) {
        let (mut client, key) = users_client(&app).await;
        let create = pb::CreateUserRequest {
            email: "reset.me@example.com".into(),
            password_source: Some(pb::create_user_request::PasswordSource::GeneratePassword(true)),
            ..Default::default()
        };
        let user = client.create_user(authorized(create, &key)).await.unwrap().into_inner();
        let id = user.user.expect("user").id;
        let audit_before = app.all_audit_rows().await.len();
        let request = pb::InitiatePasswordResetRequest { id, delivery: 99, ..Default::default() };
        let status = client.initiate_password_reset(authorized(request, &key)).await.unwrap_err();
        assert_refused(&status, &["delivery"]);
        assert_eq!(app.all_audit_rows().await.len(), audit_before, "nothing was written");
        // Checked with the other fields, before the user is looked up.
        let unknown_user = pb::InitiatePasswordResetRequest {
            id: Uuid::now_v7().to_string(),
            delivery: 99,
            code_expires_in: 1,
            ..Default::default()
        };
        let status = client.initiate_password_reset(authorized(unknown_user, &key)).await;
        assert_refused(&status.unwrap_err(), &["code_expires_in", "delivery"]);
    }
}

db_test! {
    async fn import_users_refuses_an_unknown_on_conflict(app) {
        let (mut client, key) = users_client(&app).await;
        let row = |email: &str, on_conflict: i32| pb::ImportUsersRequest {
            email: email.into(),
            on_conflict,
            ..Default::default()
        };
        // On the first message, the stream is refused before any row.
        let stream = tokio_stream::iter(vec![row("first@example.com", 9)]);
        let status = client.import_users(authorized(stream, &key)).await.unwrap_err();
        assert_refused(&status, &["on_conflict"]);
        // On a later one, from that message on.
        let skip = pb::ImportUsersOnConflict::Skip as i32;
        let stream = tokio_stream::iter(vec![row("one@example.com", skip), row("two@example.com", 9)]);
        let status = client.import_users(authorized(stream, &key)).await.unwrap_err();
        assert_refused(&status, &["on_conflict"]);
        let listed = client
            .list_users(authorized(pb::ListUsersRequest::default(), &key))
            .await
            .unwrap()
            .into_inner();
        let emails: Vec<&str> = listed.users.iter().map(|u| u.email.as_str()).collect();
        assert!(!emails.contains(&"first@example.com"), "{emails:?}");
        assert!(!emails.contains(&"two@example.com"), "{emails:?}");
    }
}
