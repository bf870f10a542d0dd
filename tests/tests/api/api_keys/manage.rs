//! UpdateApiKey, RevokeApiKey, `last_used_at`, and the audit trail of every
//! mutation.

use prost_types::FieldMask;
use warden_proto::v1::{RevokeApiKeyRequest, UpdateApiKeyRequest};

use super::*;

fn update_request(id: &str, paths: &[&str], change: ApiKey) -> UpdateApiKeyRequest {
    UpdateApiKeyRequest {
        api_key: Some(ApiKey { id: id.to_owned(), ..change }),
        update_mask: Some(FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() }),
    }
}

fn revoke_request(id: &str, validate_only: bool) -> RevokeApiKeyRequest {
    RevokeApiKeyRequest { id: id.to_owned(), validate_only }
}

async fn get(client: &mut Client, caller: &str, id: &str) -> ApiKey {
    let request = authorized(GetApiKeyRequest { id: id.to_owned() }, caller);
    client.get_api_key(request).await.unwrap().into_inner().api_key.unwrap()
}

async fn can_list(client: &mut Client, key: &str) -> Result<(), Status> {
    client.list_api_keys(authorized(ListApiKeysRequest::default(), key)).await.map(|_| ())
}

db_test! {
    async fn update_follows_the_mask_and_the_callers_scopes(app) {
        let caller = app.api_key(scopes(&[Scope::ApiKeysRead, Scope::ApiKeysWrite, Scope::ApiKeysDelete, Scope::UsersRead])).await;
        let mut client = client(&app);
        let (key, _) = create(&mut client, &caller, "before", &["users:read"]).await;
        let change = ApiKey {
            name: "after".into(),
            description: "outside the mask".into(),
            ..Default::default()
        };
        let updated = client
            .update_api_key(authorized(update_request(&key.id, &["name"], change), &caller))
            .await
            .unwrap()
            .into_inner()
            .api_key
            .unwrap();
        assert_eq!((updated.name.as_str(), updated.description.as_str()), ("after", ""));
        assert_eq!((&updated.prefix, &updated.scopes, &updated.created_at), (&key.prefix, &key.scopes, &key.created_at));

        let bad_masks: [&[&str]; 4] = [&[], &["prefix"], &["expires_at"], &["name", "secret_digest"]];
        for paths in bad_masks {
            let request = update_request(&key.id, paths, ApiKey { name: "x".into(), ..Default::default() });
            let status = client.update_api_key(authorized(request, &caller)).await.unwrap_err();
            assert_invalid(&status, &["update_mask"]);
        }
        let blank = update_request(&key.id, &["name", "scopes"], ApiKey { scopes: vec!["nope".into()], ..Default::default() });
        let status = client.update_api_key(authorized(blank, &caller)).await.unwrap_err();
        assert_invalid(&status, &["api_key.name"]);
        assert_invalid(&status, &["api_key.scopes[0]"]);

        let wider = ApiKey { scopes: vec!["users:read".into(), "users:write".into()], ..Default::default() };
        let status = client
            .update_api_key(authorized(update_request(&key.id, &["scopes"], wider), &caller))
            .await
            .unwrap_err();
        assert_status(&status, Code::PermissionDenied, "SCOPE_MISSING");
        let within = ApiKey { scopes: vec!["api-keys:read".into()], ..Default::default() };
        let updated = client
            .update_api_key(authorized(update_request(&key.id, &["scopes"], within), &caller))
            .await
            .unwrap()
            .into_inner()
            .api_key
            .unwrap();
        assert_eq!(updated.scopes, ["api-keys:read"]);
        assert_eq!(get(&mut client, &caller, &key.id).await, updated);

        let missing = update_request(&Uuid::now_v7().to_string(), &["name"], ApiKey { name: "x".into(), ..Default::default() });
        let status = client.update_api_key(authorized(missing, &caller)).await.unwrap_err();
        assert_status(&status, Code::NotFound, "NOT_FOUND");

        client.revoke_api_key(authorized(revoke_request(&key.id, false), &caller)).await.unwrap();
        let late = update_request(&key.id, &["name"], ApiKey { name: "too late".into(), ..Default::default() });
        let status = client.update_api_key(authorized(late, &caller)).await.unwrap_err();
        assert_status(&status, Code::FailedPrecondition, "ALREADY_REVOKED");
        assert_eq!(get(&mut client, &caller, &key.id).await.name, "after");
        assert_eq!(audit_rows(&app, "api_key.update").await.len(), 2, "only the successful updates");
    }
}

db_test! {
    async fn revoke_takes_effect_on_the_next_call(app) {
        let admin = app.api_key(ScopeSet::all()).await;
        let mut client = client(&app);
        let (key, raw) = create(&mut client, &admin, "service", &["api-keys:read"]).await;
        can_list(&mut client, &raw).await.unwrap();

        let dry = client.revoke_api_key(authorized(revoke_request(&key.id, true), &admin)).await;
        let dry = dry.unwrap().into_inner().api_key.unwrap();
        assert!(dry.revoked_at.is_some() && !dry.is_active, "says what would happen");
        can_list(&mut client, &raw).await.expect("validate_only changed nothing");
        assert!(row_of(&app, &raw).await.revoked_at.is_none());
        assert!(audit_rows(&app, "api_key.revoke").await.is_empty());

        let revoked = client.revoke_api_key(authorized(revoke_request(&key.id, false), &admin)).await;
        let revoked = revoked.unwrap().into_inner().api_key.unwrap();
        assert!(revoked.revoked_at.is_some() && !revoked.is_active);
        let status = can_list(&mut client, &raw).await.unwrap_err();
        assert_status(&status, Code::Unauthenticated, "TOKEN_REVOKED");

        let again = client.revoke_api_key(authorized(revoke_request(&key.id, false), &admin)).await;
        let again = again.unwrap().into_inner().api_key.unwrap();
        assert_eq!(again.revoked_at, revoked.revoked_at, "revoking twice is a no-op");
        assert_eq!(audit_rows(&app, "api_key.revoke").await.len(), 1);

        let unknown = revoke_request(&Uuid::now_v7().to_string(), false);
        let status = client.revoke_api_key(authorized(unknown, &admin)).await.unwrap_err();
        assert_eq!(status.code(), Code::NotFound);
        let malformed = client.revoke_api_key(authorized(revoke_request("42", false), &admin)).await;
        assert_invalid(&malformed.unwrap_err(), &["id"]);
    }
}

db_test! {
    async fn last_used_at_is_recorded_without_a_write_per_call(app) {
        let admin = app.api_key(ScopeSet::all()).await;
        let mut client = client(&app);
        let (key, raw) = create(&mut client, &admin, "busy", &["api-keys:read"]).await;
        assert_eq!(get(&mut client, &admin, &key.id).await.last_used_at, None);

        can_list(&mut client, &raw).await.unwrap();
        let first = get(&mut client, &admin, &key.id).await.last_used_at;
        assert!(first.is_some(), "the first use is recorded");
        can_list(&mut client, &raw).await.unwrap();
        can_list(&mut client, &raw).await.unwrap();
        // Within the minute the stored value stays the first use's.
        assert_eq!(get(&mut client, &admin, &key.id).await.last_used_at, first);
        let stored = row_of(&app, &raw).await.last_used_at.map(|t| t.timestamp_micros());
        let shown = first.map(|t| t.seconds * 1_000_000 + i64::from(t.nanos) / 1000);
        assert_eq!(stored, shown);
    }
}

/// Adds the metadata the audit row records about the call.
fn traced<T>(message: T, caller: &str, request_id: &str) -> tonic::Request<T> {
    let mut request = authorized(message, caller);
    request.metadata_mut().insert("x-request-id", request_id.parse().unwrap());
    request
}

/// The one row written since `before` rows existed; fails if not exactly one.
async fn the_new_row(app: &TestApp, before: u64) -> audit_events::Model {
    let rows = audit_events::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(rows.len() as u64, before + 1, "exactly one audit row: {rows:#?}");
    let mut rows = rows;
    rows.sort_by_key(|row| row.id);
    rows.pop().unwrap()
}

db_test! {
    async fn each_mutation_writes_exactly_one_audit_row(app) {
        let caller = app.api_key(ScopeSet::all()).await;
        let caller_id = row_of(&app, &caller).await.id.to_string();
        let mut client = client(&app);

        let before = app.count_audit().await;
        let request = traced(create_request("audited", &["users:read"]), &caller, "req-create");
        let created = client.create_api_key(request).await.unwrap().into_inner();
        let key = created.api_key.unwrap();
        let create_row = the_new_row(&app, before).await;

        let before = app.count_audit().await;
        let change = ApiKey { name: "audited again".into(), ..Default::default() };
        let request = traced(update_request(&key.id, &["name"], change), &caller, "req-update");
        client.update_api_key(request).await.unwrap();
        let update_row = the_new_row(&app, before).await;

        let before = app.count_audit().await;
        let request = traced(revoke_request(&key.id, false), &caller, "req-revoke");
        client.revoke_api_key(request).await.unwrap();
        let revoke_row = the_new_row(&app, before).await;

        let expected = [
            (create_row, "api_key.create", "req-create"),
            (update_row, "api_key.update", "req-update"),
            (revoke_row, "api_key.revoke", "req-revoke"),
        ];
        for (row, action, request_id) in expected {
            assert_eq!(row.action, action);
            assert_eq!((row.actor_type.as_str(), row.actor_id.as_ref()), ("api_key", Some(&caller_id)), "{action}");
            assert_eq!((row.target_type.as_deref(), row.target_id.as_ref()), (Some("api_key"), Some(&key.id)), "{action}");
            assert_eq!((row.outcome.as_str(), row.reason.as_ref()), ("success", None), "{action}");
            assert_eq!(row.request_id.as_deref(), Some(request_id));
            assert!(row.peer_ip.is_some(), "{action}");
            assert!(!format!("{row:?}").contains(secret_of(&created.raw_key)), "{action} leaked the key");
        }

        // Failed or no-op mutations leave no row.
        let before = app.count_audit().await;
        let failures = [
            client.create_api_key(authorized(create_request("", &["users:read"]), &caller)).await.map(|_| ()),
            client.update_api_key(authorized(update_request(&key.id, &["id"], ApiKey::default()), &caller)).await.map(|_| ()),
            client.update_api_key(authorized(update_request(&key.id, &["name"], ApiKey { name: "x".into(), ..Default::default() }), &caller)).await.map(|_| ()),
            client.revoke_api_key(authorized(revoke_request(&Uuid::now_v7().to_string(), false), &caller)).await.map(|_| ()),
        ];
        assert!(failures.iter().all(Result::is_err), "{failures:?}");
        client.revoke_api_key(authorized(revoke_request(&key.id, true), &caller)).await.unwrap();
        client.revoke_api_key(authorized(revoke_request(&key.id, false), &caller)).await.unwrap();
        assert_eq!(app.count_audit().await, before);
    }
}
