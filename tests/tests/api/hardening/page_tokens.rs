//! Page tokens are authenticated: any edit, or a token from another
//! installation, is INVALID_ARGUMENT; every replica of one installation
//! accepts every other's tokens (the key lives in the database).

use data_encoding::BASE64URL_NOPAD;
use warden_core::scope::ScopeSet;
use warden_proto::v1::{
    self as pb, admin_auth_service_client::AdminAuthServiceClient,
    api_keys_service_client::ApiKeysServiceClient, users_service_client::UsersServiceClient,
};
use warden_tests::{TestApp, authorized, db_test};

use super::*;

/// The token with its cursor id replaced, re-encoded, the old tag kept.
fn with_other_id(token: &str) -> String {
    let (payload, tag) = token.split_once('.').expect("payload.tag");
    let mut json: serde_json::Value =
        serde_json::from_slice(&BASE64URL_NOPAD.decode(payload.as_bytes()).unwrap()).unwrap();
    json["id"] = serde_json::json!(uuid::Uuid::now_v7());
    format!("{}.{tag}", BASE64URL_NOPAD.encode(&serde_json::to_vec(&json).unwrap()))
}

fn edits(token: &str) -> Vec<(&'static str, String)> {
    let (payload, tag) = token.split_once('.').unwrap();
    let mut flipped = tag.as_bytes().to_vec();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    vec![
        ("another id", with_other_id(token)),
        ("no tag", payload.to_owned()),
        ("a flipped tag", format!("{payload}.{}", String::from_utf8(flipped).unwrap())),
        ("truncated", token[..token.len() - 2].to_owned()),
        ("garbage", "bm90IGEgdG9rZW4".into()),
    ]
}

async fn list_users(
    app: &TestApp,
    channel: &tonic::transport::Channel,
    key: &str,
    token: &str,
) -> Result<pb::ListUsersResponse, Status> {
    let request =
        pb::ListUsersRequest { page_size: 1, page_token: token.into(), ..Default::default() };
    let _ = app;
    Ok(UsersServiceClient::new(channel.clone())
        .list_users(authorized(request, key))
        .await?
        .into_inner())
}

db_test! {
    async fn edited_page_tokens_are_refused_on_every_list(app) {
        let root = app.setup_admin().await;
        let key = app.api_key(ScopeSet::all()).await;
        app.api_key(ScopeSet::all()).await;
        let mut users = UsersServiceClient::new(app.channel.clone());
        for n in 0..3 {
            let create = pb::CreateUserRequest {
                email: format!("u{n}@example.com"),
                password_source: Some(pb::create_user_request::PasswordSource::GeneratePassword(true)),
                ..Default::default()
            };
            users.create_user(authorized(create, &key)).await.unwrap();
        }
        app.admin_auth()
            .create_admin(authorized(pb::CreateAdminRequest {
                email: "second@example.com".into(),
                password: "windmill over the fen".into(),
                name: "Second".into(),
                ..Default::default()
            }, &root.access_token))
            .await.unwrap();

        let first = list_users(&app, &app.channel, &key, "").await.unwrap();
        assert!(!first.next_page_token.is_empty());
        list_users(&app, &app.channel, &key, &first.next_page_token).await.expect("the genuine token works");
        for (name, token) in edits(&first.next_page_token) {
            let err = list_users(&app, &app.channel, &key, &token).await.expect_err(name);
            assert_status(&err, Code::InvalidArgument, "VALIDATION_FAILED");
            assert_eq!(invalid_fields(&err), ["page_token"], "{name}");
        }

        let mut admins = AdminAuthServiceClient::new(app.channel.clone());
        let page = |token: String| authorized(pb::ListAdminsRequest { page_size: 1, page_token: token, ..Default::default() }, &root.access_token);
        let token = admins.list_admins(page(String::new())).await.unwrap().into_inner().next_page_token;
        admins.list_admins(page(token.clone())).await.expect("genuine");
        for (name, edited) in edits(&token) {
            let err = admins.list_admins(page(edited)).await.expect_err(name);
            assert_status(&err, Code::InvalidArgument, "VALIDATION_FAILED");
        }

        let mut keys = ApiKeysServiceClient::new(app.channel.clone());
        let page = |token: String| authorized(pb::ListApiKeysRequest { page_size: 1, page_token: token, ..Default::default() }, &key);
        let token = keys.list_api_keys(page(String::new())).await.unwrap().into_inner().next_page_token;
        keys.list_api_keys(page(token.clone())).await.expect("genuine");
        for (name, edited) in edits(&token) {
            let err = keys.list_api_keys(page(edited)).await.expect_err(name);
            assert_status(&err, Code::InvalidArgument, "VALIDATION_FAILED");
        }

        // A second replica of this installation accepts the first one's token...
        let replica = app.replica().await;
        list_users(&app, &replica.channel, &key, &first.next_page_token).await.expect("replicas share the key");
        // ...another installation does not, even for the same query.
        let Some(other) = TestApp::spawn(app.backend).await else { return };
        let other_key = other.api_key(ScopeSet::all()).await;
        let err = list_users(&other, &other.channel, &other_key, &first.next_page_token).await.unwrap_err();
        assert_status(&err, Code::InvalidArgument, "VALIDATION_FAILED");
    }
}
