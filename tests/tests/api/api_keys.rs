//! ApiKeysService over gRPC: keys are shown once and stored as digests, grant
//! only what their creator holds, page, update by mask, revoke at once, and
//! every mutation leaves exactly one audit row.

mod list;
mod manage;

use prost_types::Timestamp;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tonic::{Code, Status, transport::Channel};
use tonic_types::StatusExt;
use uuid::Uuid;
use warden_core::{
    entity::{api_keys, audit_events},
    scope::{Scope, ScopeSet},
};
use warden_proto::v1::{
    ApiKey, CreateApiKeyRequest, GetApiKeyRequest, ListApiKeysRequest,
    api_keys_service_client::ApiKeysServiceClient,
};
use warden_tests::{TestApp, assert_invalid, assert_status, authorized, db_test, reason_of};

type Client = ApiKeysServiceClient<Channel>;

fn client(app: &TestApp) -> Client {
    ApiKeysServiceClient::new(app.channel.clone())
}

fn scopes(list: &[Scope]) -> ScopeSet {
    list.iter().copied().collect()
}

fn create_request(name: &str, scopes: &[&str]) -> CreateApiKeyRequest {
    CreateApiKeyRequest {
        name: name.into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        ..Default::default()
    }
}

/// Creates a key as `caller` and returns it with its raw value.
async fn create(
    client: &mut Client,
    caller: &str,
    name: &str,
    scopes: &[&str],
) -> (ApiKey, String) {
    let response =
        client.create_api_key(authorized(create_request(name, scopes), caller)).await.unwrap();
    let response = response.into_inner();
    (response.api_key.unwrap(), response.raw_key)
}

/// The stored row of a raw key (found by its prefix).
async fn row_of(app: &TestApp, raw: &str) -> api_keys::Model {
    let prefix = &raw[4..20];
    api_keys::Entity::find()
        .filter(api_keys::Column::Prefix.eq(prefix))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

async fn audit_rows(app: &TestApp, action: &str) -> Vec<audit_events::Model> {
    audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq(action))
        .all(&app.db)
        .await
        .unwrap()
}

async fn count_keys(app: &TestApp) -> u64 {
    api_keys::Entity::find().count(&app.db).await.unwrap()
}

fn in_seconds(seconds: i64) -> Timestamp {
    let now = chrono::Utc::now() + chrono::Duration::seconds(seconds);
    Timestamp { seconds: now.timestamp(), nanos: 0 }
}

/// The secret half of a raw key: what must never be stored or shown again.
fn secret_of(raw: &str) -> &str {
    &raw[21..]
}

db_test! {
    async fn create_shows_the_raw_key_once_and_stores_only_a_digest(app) {
        let admin = app.api_key(ScopeSet::all()).await;
        let mut client = client(&app);
        let mut request = create_request("billing sync", &["users:read", "api-keys:read"]);
        request.description = "reads users for billing".into();
        let expires_at = in_seconds(3600);
        request.expires_at = Some(expires_at);
        let response = client.create_api_key(authorized(request, &admin)).await.unwrap();
        let created = response.into_inner();
        let key = created.api_key.unwrap();
        let raw = created.raw_key;
        assert!(raw.starts_with(&format!("{}_", key.prefix)), "{raw:?} starts with {}", key.prefix);
        assert!(key.prefix.starts_with("wdn_") && key.prefix.len() == 20);
        assert_eq!(key.name, "billing sync");
        assert_eq!(key.description, "reads users for billing");
        let mut shown_scopes = key.scopes.clone();
        shown_scopes.sort();
        assert_eq!(shown_scopes, ["api-keys:read", "users:read"]);
        assert!(key.is_active && key.revoked_at.is_none() && key.last_used_at.is_none());
        assert_eq!(key.expires_at.map(|t| t.seconds), Some(expires_at.seconds));

        // Stored: the prefix and a 32-byte SHA-256 digest, never the raw key.
        let row = row_of(&app, &raw).await;
        assert_eq!(row.secret_digest.len(), 32);
        assert_eq!(format!("wdn_{}", row.prefix), key.prefix);
        let stored = format!("{row:?}");
        assert!(!stored.contains(secret_of(&raw)), "the secret is stored");
        let creator = row_of(&app, &admin).await;
        assert_eq!((row.created_by_type.as_str(), row.created_by_id), ("api_key", Some(creator.id)));

        // Get and List never show it again.
        let got = client
            .get_api_key(authorized(GetApiKeyRequest { id: key.id.clone() }, &admin))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(got.api_key.as_ref(), Some(&key));
        let listed =
            client.list_api_keys(authorized(ListApiKeysRequest::default(), &admin)).await.unwrap();
        let shown = format!("{got:?}{listed:?}");
        assert!(!shown.contains(secret_of(&raw)));
        assert!(listed.get_ref().api_keys.iter().any(|k| k.id == key.id));

        // The new key works, with exactly its scopes.
        let own = client.list_api_keys(authorized(ListApiKeysRequest::default(), &raw)).await;
        assert!(own.is_ok(), "{own:?}");
        let denied = client.create_api_key(authorized(create_request("x", &["users:read"]), &raw));
        let status = denied.await.unwrap_err();
        assert_status(&status, Code::PermissionDenied, "SCOPE_MISSING");

        // The audit row names the key but holds neither the secret nor the digest.
        let rows = audit_rows(&app, "api_key.create").await;
        assert_eq!(rows.len(), 1);
        let audit = format!("{:?}", rows[0]);
        assert!(!audit.contains(secret_of(&raw)));
        assert!(!audit.contains(&data_encoding_hex(&row.secret_digest)));
        assert_eq!(rows[0].actor_type, "api_key");
        assert_eq!(rows[0].actor_id, Some(creator.id.to_string()));
        assert_eq!(rows[0].target_type.as_deref(), Some("api_key"));
        assert_eq!(rows[0].target_id, Some(key.id.clone()));
        assert_eq!(rows[0].outcome, "success");
        assert_eq!(rows[0].metadata["prefix"], key.prefix.as_str());
    }
}

fn data_encoding_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

db_test! {
    async fn invalid_input_lists_every_violation_and_stores_nothing(app) {
        let admin = app.api_key(ScopeSet::all()).await;
        let mut client = client(&app);
        let (keys, audits) = (count_keys(&app).await, app.count_audit().await);
        let request = CreateApiKeyRequest {
            name: String::new(),
            description: "d".repeat(1001),
            scopes: vec!["users:read".into(), "users:admin".into()],
            expires_at: Some(in_seconds(-60)),
            request_id: "not-a-uuid".into(),
        };
        let status = client.create_api_key(authorized(request, &admin)).await.unwrap_err();
        for field in ["name", "description", "scopes[1]", "expires_at", "request_id"] {
            assert_invalid(&status, &[field]);
        }
        let status = client
            .create_api_key(authorized(create_request("no scopes", &[]), &admin))
            .await
            .unwrap_err();
        assert_invalid(&status, &["scopes"]);
        let long_name = "n".repeat(101);
        let status = client
            .create_api_key(authorized(create_request(&long_name, &["users:read"]), &admin))
            .await
            .unwrap_err();
        assert_invalid(&status, &["name"]);
        assert_eq!(count_keys(&app).await, keys, "nothing stored");
        assert_eq!(app.count_audit().await, audits, "nothing audited");
    }
}

db_test! {
    async fn a_caller_grants_only_scopes_it_holds(app) {
        let caller = app.api_key(scopes(&[Scope::ApiKeysWrite, Scope::UsersRead])).await;
        let mut client = client(&app);
        let keys = count_keys(&app).await;
        let request = create_request("escalate", &["users:read", "users:delete"]);
        let status = client.create_api_key(authorized(request, &caller)).await.unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied);
        assert_eq!(reason_of(&status), "SCOPE_MISSING");
        let info = status.get_error_details().error_info().cloned().unwrap();
        assert_eq!(info.metadata.get("required_scope").map(String::as_str), Some("users:delete"));
        assert_eq!(count_keys(&app).await, keys);
        assert!(audit_rows(&app, "api_key.create").await.is_empty());

        let (key, _) = create(&mut client, &caller, "within", &["users:read"]).await;
        assert_eq!(key.scopes, ["users:read"]);
    }
}

db_test! {
    async fn a_retry_with_the_same_request_id_returns_the_first_key(app) {
        let admin = app.api_key(ScopeSet::all()).await;
        let mut client = client(&app);
        let mut request = create_request("idempotent", &["users:read"]);
        request.request_id = Uuid::new_v4().to_string();
        let first = client.create_api_key(authorized(request.clone(), &admin)).await.unwrap();
        let retry = client.create_api_key(authorized(request.clone(), &admin)).await.unwrap();
        let (first, retry) = (first.into_inner(), retry.into_inner());
        assert!(!first.raw_key.is_empty());
        assert_eq!(retry.raw_key, "", "the secret cannot be shown twice");
        assert_eq!(retry.api_key.as_ref().map(|k| &k.id), first.api_key.as_ref().map(|k| &k.id));
        let named = api_keys::Entity::find()
            .filter(api_keys::Column::Name.eq("idempotent"))
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(named, 1);
        assert_eq!(audit_rows(&app, "api_key.create").await.len(), 1);

        // The same id with another request is refused, not silently merged.
        request.name = "something else".into();
        let status = client.create_api_key(authorized(request, &admin)).await.unwrap_err();
        warden_tests::assert_request_id_taken(&status);
    }
}
