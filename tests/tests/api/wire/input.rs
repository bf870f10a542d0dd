//! Input the database cannot take or the client should not send: NUL
//! characters (PostgreSQL refuses them in text and jsonb), metadata nested 40
//! deep, and huge values that errors would echo back.

use prost_types::{Struct, Value, value::Kind};
use tonic::Code;
use warden_core::scope::ScopeSet;
use warden_proto::v1::{
    self as pb, admin_auth_service_client::AdminAuthServiceClient,
    api_keys_service_client::ApiKeysServiceClient, users_service_client::UsersServiceClient,
};
use warden_tests::{authorized, db_test};

use super::invalid_details;

fn string_value(text: &str) -> Value {
    Value { kind: Some(Kind::StringValue(text.into())) }
}

fn metadata(entries: &[(&str, Value)]) -> Struct {
    Struct { fields: entries.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect() }
}

/// `{"a": {"a": … {} …}}`, `levels` objects deep.
fn nested(levels: usize) -> Struct {
    let mut inner = Struct::default();
    for _ in 1..levels {
        inner = metadata(&[("a", Value { kind: Some(Kind::StructValue(inner)) })]);
    }
    inner
}

fn filter(value: &str) -> Option<pb::StringFilter> {
    Some(pb::StringFilter { value: value.into(), mode: pb::MatchMode::Contains as i32 })
}

db_test! {
    async fn nul_characters_are_invalid_argument_naming_the_field(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let mut users = UsersServiceClient::new(app.channel.clone());
        let lists = [
            (pb::ListUsersRequest { email: filter("a\0b"), ..Default::default() }, "email.value"),
            (pb::ListUsersRequest { search: "smith\0".into(), ..Default::default() }, "search"),
            (pb::ListUsersRequest { role: "\0".into(), ..Default::default() }, "role"),
            (
                pb::ListUsersRequest {
                    metadata: [("plan".to_owned(), "pro\0".to_owned())].into(),
                    ..Default::default()
                },
                "metadata[\"plan\"]",
            ),
        ];
        for (request, field) in lists {
            let status = users.list_users(authorized(request, &key)).await.unwrap_err();
            let found = invalid_details(&status);
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].0, field);
            assert!(found[0].1.contains("NUL"), "{found:?}");
        }

        let create = |metadata: Struct| pb::CreateUserRequest {
            email: "nul@example.com".into(),
            password_source: Some(pb::create_user_request::PasswordSource::GeneratePassword(true)),
            metadata: Some(metadata),
            ..Default::default()
        };
        let status = users
            .create_user(authorized(create(metadata(&[("plan", string_value("a\0"))])), &key))
            .await
            .unwrap_err();
        assert_eq!(invalid_details(&status)[0].0, "metadata.fields[\"plan\"].string_value");
        let status = users
            .create_user(authorized(create(metadata(&[("k\0", string_value("v"))])), &key))
            .await
            .unwrap_err();
        assert!(invalid_details(&status)[0].0.starts_with("metadata.fields[\"k\\0\"]"));

        // Public RPCs too: before any credential is checked.
        let status = AdminAuthServiceClient::new(app.channel.clone())
            .login(pb::LoginRequest { email: "root\0@example.com".into(), password: "x".into() })
            .await
            .unwrap_err();
        assert_eq!(invalid_details(&status)[0].0, "email");

        // Nothing was written.
        let all = users.list_users(authorized(pb::ListUsersRequest::default(), &key)).await;
        assert!(all.unwrap().into_inner().users.is_empty());
    }
}

db_test! {
    async fn deeply_nested_metadata_is_invalid_argument(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let mut users = UsersServiceClient::new(app.channel.clone());
        let create = |email: &str, levels: usize| {
            let request = pb::CreateUserRequest {
                email: email.into(),
                password_source: Some(pb::create_user_request::PasswordSource::GeneratePassword(true)),
                metadata: Some(nested(levels)),
                ..Default::default()
            };
            authorized(request, &key)
        };
        let status = users.create_user(create("deep@example.com", 40)).await.unwrap_err();
        let found = invalid_details(&status);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].0.starts_with("metadata.fields[\"a\"]"), "{found:?}");
        assert!(found[0].1.contains("nested too deeply"), "{found:?}");

        // Twenty levels are fine, and come back as they went in.
        let created = users.create_user(create("twenty@example.com", 20)).await.unwrap();
        let user = created.into_inner().user.unwrap();
        assert_eq!(user.metadata, Some(nested(20)));
        let request = pb::GetUserRequest { lookup: Some(pb::get_user_request::Lookup::Id(user.id)) };
        let fetched = users.get_user(authorized(request, &key)).await.unwrap().into_inner();
        assert_eq!(fetched.user.unwrap().metadata, Some(nested(20)));
    }
}

db_test! {
    async fn echoed_input_is_cut_short_and_details_stay_small(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let mut keys = ApiKeysServiceClient::new(app.channel.clone());
        let huge = format!("users:{}", "x".repeat(10 * 1024));
        let request = pb::CreateApiKeyRequest {
            name: "echo".into(),
            scopes: vec![huge.clone()],
            ..Default::default()
        };
        let status = keys.create_api_key(authorized(request, &key)).await.unwrap_err();
        let found = invalid_details(&status);
        assert!(found.iter().all(|(field, description)| field.len() + description.len() < 300));
        assert!(found.iter().any(|(_, description)| description.contains("users:xxx")), "{found:?}");
        // grpc-status-details-bin is base64 of these bytes.
        assert!(status.details().len() * 4 / 3 < 4096, "{} bytes", status.details().len());

        // A thousand long bad scopes: the first few are listed, the rest counted.
        let request = pb::CreateApiKeyRequest {
            name: "many".into(),
            scopes: (0..1000).map(|i| format!("bad:{i}{}", "y".repeat(100))).collect(),
            ..Default::default()
        };
        let status = keys.create_api_key(authorized(request, &key)).await.unwrap_err();
        let found = invalid_details(&status);
        assert!(found.len() < 30, "{} violations", found.len());
        assert!(found.last().unwrap().1.contains("more"), "{found:?}");
        assert!(status.details().len() * 4 / 3 < 4096, "{} bytes", status.details().len());
        assert_eq!(status.code(), Code::InvalidArgument);
    }
}
