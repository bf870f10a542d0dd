//! The audit write path, table-driven: every mutating RPC
//! writes exactly one row with its action, actor, target, outcome and the
//! call's request id, peer IP and user agent; a failed mutation writes none;
//! a call the authorization layer refuses writes one `authz.denied` row; and
//! no row ever holds a password, a token or a raw API key.

use std::collections::HashSet;

use prost_types::FieldMask;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tonic::{
    Code, Request, Status,
    metadata::MetadataValue,
    transport::{Channel, Endpoint},
};
use uuid::Uuid;
use warden_core::{
    entity::{api_keys, audit_events, sessions},
    scope::{Scope, ScopeSet},
};
use warden_proto::v1::{
    self as pb, admin_auth_service_client::AdminAuthServiceClient,
    api_keys_service_client::ApiKeysServiceClient,
};
use warden_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, assert_status, db_test};

const USER_AGENT: &str = "warden-audit-trail/1";

/// A channel of our own, so every call carries a known user agent.
async fn channel(app: &TestApp) -> Channel {
    Endpoint::from_shared(format!("http://{}", app.addr))
        .expect("endpoint")
        .user_agent(USER_AGENT)
        .expect("user agent")
        .connect()
        .await
        .expect("connect")
}

/// `message` with `x-request-id` and, when given, a bearer credential.
fn call<T>(message: T, credential: Option<&str>, request_id: &str) -> Request<T> {
    let mut request = Request::new(message);
    let id: MetadataValue<_> = request_id.parse().expect("ascii request id");
    request.metadata_mut().insert("x-request-id", id);
    if let Some(credential) = credential {
        let value: MetadataValue<_> = format!("Bearer {credential}").parse().expect("ascii");
        request.metadata_mut().insert("authorization", value);
    }
    request
}

fn new_request_id(label: &str) -> String {
    format!("audit-{label}-{}", Uuid::new_v4())
}

async fn audit_ids(app: &TestApp) -> HashSet<Uuid> {
    app.all_audit_rows().await.into_iter().map(|row| row.id).collect()
}

/// Rows written since `before` was taken.
async fn new_rows(app: &TestApp, before: &HashSet<Uuid>) -> Vec<audit_events::Model> {
    app.all_audit_rows().await.into_iter().filter(|row| !before.contains(&row.id)).collect()
}

/// The mutating RPCs of the users, admins and API keys services, in the order the table drives them (later
/// rows build on what earlier ones created).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rpc {
    Setup,
    LoginSuccess,
    LoginFailure,
    RefreshToken,
    RefreshTokenReuse,
    Logout,
    ChangePassword,
    RequestPasswordReset,
    ConfirmPasswordReset,
    CreateAdmin,
    UpdateAdmin,
    DeleteAdmin,
    CreateApiKey,
    UpdateApiKey,
    RevokeApiKey,
}

/// RPC, action, outcome, reason.
const TABLE: &[(Rpc, &str, &str, Option<&str>)] = &[
    (Rpc::Setup, "admin.setup", "success", None),
    (Rpc::LoginSuccess, "admin.login", "success", None),
    (Rpc::LoginFailure, "admin.login", "failure", Some("INVALID_CREDENTIALS")),
    (Rpc::RefreshToken, "admin.token_refresh", "success", None),
    (Rpc::RefreshTokenReuse, "admin.refresh_token_reuse", "failure", Some("TOKEN_REVOKED")),
    (Rpc::Logout, "admin.logout", "success", None),
    (Rpc::ChangePassword, "admin.password_change", "success", None),
    (Rpc::RequestPasswordReset, "admin.password_reset_request", "success", None),
    (Rpc::ConfirmPasswordReset, "admin.password_reset", "success", None),
    (Rpc::CreateAdmin, "admin.create", "success", None),
    (Rpc::UpdateAdmin, "admin.update", "success", None),
    (Rpc::DeleteAdmin, "admin.delete", "success", None),
    (Rpc::CreateApiKey, "api_key.create", "success", None),
    (Rpc::UpdateApiKey, "api_key.update", "success", None),
    (Rpc::RevokeApiKey, "api_key.revoke", "success", None),
];

/// Who the row must name as actor and target.
#[derive(Debug)]
struct Expected {
    actor_type: &'static str,
    actor_id: Option<String>,
    target: Target,
}

#[derive(Debug)]
enum Target {
    Exact(&'static str, String),
    /// A session of this admin (its id is not visible to the client).
    SessionOf(String),
}

/// What the driver knows as it goes: the first admin's current credentials,
/// what earlier rows created, and every secret it has seen.
struct Trail<'a> {
    app: &'a TestApp,
    channel: Channel,
    root_id: String,
    password: String,
    access: String,
    refresh: String,
    spent_refresh: String,
    other_admin: String,
    api_key: String,
    secrets: Vec<String>,
}

impl<'a> Trail<'a> {
    async fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            channel: channel(app).await,
            root_id: String::new(),
            password: ADMIN_PASSWORD.to_owned(),
            access: String::new(),
            refresh: String::new(),
            spent_refresh: String::new(),
            other_admin: String::new(),
            api_key: String::new(),
            secrets: vec![ADMIN_PASSWORD.to_owned()],
        }
    }

    fn admin_auth(&self) -> AdminAuthServiceClient<Channel> {
        AdminAuthServiceClient::new(self.channel.clone())
    }

    fn api_keys(&self) -> ApiKeysServiceClient<Channel> {
        ApiKeysServiceClient::new(self.channel.clone())
    }

    fn as_root(&self) -> Expected {
        Expected {
            actor_type: "admin",
            actor_id: Some(self.root_id.clone()),
            target: Target::Exact("admin", self.root_id.clone()),
        }
    }

    fn by_root_on(&self, kind: &'static str, id: &str) -> Expected {
        Expected {
            actor_type: "admin",
            actor_id: Some(self.root_id.clone()),
            target: Target::Exact(kind, id.to_owned()),
        }
    }

    /// Signs the first admin in again (not part of any measured step).
    async fn sign_in(&mut self) {
        let session = self.app.login(ADMIN_EMAIL, &self.password).await.expect("sign in");
        self.access = session.access_token;
        self.refresh = session.refresh_token;
        self.secrets.extend([self.access.clone(), self.refresh.clone()]);
    }

    fn keep_tokens(&mut self, access: String, refresh: String) {
        self.secrets.extend([access.clone(), refresh.clone()]);
        self.access = access;
        self.refresh = refresh;
    }

    /// Prepares `rpc`, snapshots the audit table, then calls it once.
    /// `Ok(None)` means the RPC is not implemented yet.
    async fn drive(
        &mut self,
        rpc: Rpc,
        request_id: &str,
    ) -> Result<Option<(HashSet<Uuid>, Expected)>, Status> {
        let app = self.app;
        let rid = request_id;
        let expected = match rpc {
            Rpc::Setup => {
                let before = audit_ids(app).await;
                let request = pb::SetupRequest {
                    email: ADMIN_EMAIL.into(),
                    password: self.password.clone(),
                    name: "Root".into(),
                };
                let answer = self.admin_auth().setup(call(request, None, rid)).await?.into_inner();
                self.root_id = answer.admin.expect("admin").id;
                self.keep_tokens(answer.access_token, answer.refresh_token);
                (before, self.as_root())
            }
            Rpc::LoginSuccess => {
                let before = audit_ids(app).await;
                let request =
                    pb::LoginRequest { email: ADMIN_EMAIL.into(), password: self.password.clone() };
                let answer = self.admin_auth().login(call(request, None, rid)).await?.into_inner();
                self.keep_tokens(answer.access_token, answer.refresh_token);
                (before, self.as_root())
            }
            Rpc::LoginFailure => {
                let before = audit_ids(app).await;
                let wrong = "not the password at all";
                self.secrets.push(wrong.to_owned());
                let request =
                    pb::LoginRequest { email: ADMIN_EMAIL.into(), password: wrong.into() };
                let status =
                    self.admin_auth().login(call(request, None, rid)).await.expect_err("wrong");
                assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
                let mut expected = self.as_root();
                (expected.actor_type, expected.actor_id) = ("anonymous", None);
                (before, expected)
            }
            Rpc::RefreshToken => {
                let before = audit_ids(app).await;
                let request = pb::RefreshTokenRequest { refresh_token: self.refresh.clone() };
                let answer =
                    self.admin_auth().refresh_token(call(request, None, rid)).await?.into_inner();
                self.spent_refresh = std::mem::take(&mut self.refresh);
                self.keep_tokens(answer.access_token, answer.refresh_token);
                let mut expected = self.as_root();
                expected.target = Target::SessionOf(self.root_id.clone());
                (before, expected)
            }
            Rpc::RefreshTokenReuse => {
                // A rotated token presented again: the family is revoked, audited.
                let before = audit_ids(app).await;
                let request = pb::RefreshTokenRequest { refresh_token: self.spent_refresh.clone() };
                let status = self
                    .admin_auth()
                    .refresh_token(call(request, None, rid))
                    .await
                    .expect_err("reuse");
                assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
                let mut expected = self.as_root();
                expected.target = Target::SessionOf(self.root_id.clone());
                (before, expected)
            }
            Rpc::Logout => {
                // A session of its own, so the one the trail uses lives on.
                let session = app.login(ADMIN_EMAIL, &self.password).await.expect("login");
                self.secrets.extend([session.access_token.clone(), session.refresh_token]);
                let before = audit_ids(app).await;
                let request = call(pb::LogoutRequest {}, Some(&session.access_token), rid);
                self.admin_auth().logout(request).await?;
                (before, self.as_root())
            }
            Rpc::ChangePassword => {
                // The reuse above revoked the trail's session.
                self.sign_in().await;
                let before = audit_ids(app).await;
                let new_password = "the second password of the trail".to_owned();
                self.secrets.push(new_password.clone());
                let request = pb::ChangePasswordRequest {
                    current_password: self.password.clone(),
                    new_password: new_password.clone(),
                };
                self.admin_auth().change_password(call(request, Some(&self.access), rid)).await?;
                self.password = new_password;
                (before, self.as_root())
            }
            Rpc::RequestPasswordReset => {
                let before = audit_ids(app).await;
                let request = pb::RequestPasswordResetRequest { email: ADMIN_EMAIL.into() };
                self.admin_auth().request_password_reset(call(request, None, rid)).await?;
                let mut expected = self.as_root();
                (expected.actor_type, expected.actor_id) = ("anonymous", None);
                (before, expected)
            }
            Rpc::ConfirmPasswordReset => {
                let token = app.token_mailed_to(ADMIN_EMAIL, 1).await;
                let new_password = "the third password of the trail".to_owned();
                self.secrets.extend([token.clone(), new_password.clone()]);
                let before = audit_ids(app).await;
                let request = pb::ConfirmPasswordResetRequest {
                    token,
                    password: new_password.clone(),
                    password_confirm: new_password.clone(),
                };
                self.admin_auth().confirm_password_reset(call(request, None, rid)).await?;
                self.password = new_password;
                (before, self.as_root())
            }
            Rpc::CreateAdmin => {
                // The reset revoked every session: sign in again first.
                self.sign_in().await;
                let before = audit_ids(app).await;
                let password = "the audited admin's password".to_owned();
                self.secrets.push(password.clone());
                let request = pb::CreateAdminRequest {
                    email: "audited@example.com".into(),
                    password,
                    name: "Audited".into(),
                    role: "dashboard_admin".into(),
                    request_id: Uuid::new_v4().to_string(),
                    ..Default::default()
                };
                let answer = self
                    .admin_auth()
                    .create_admin(call(request, Some(&self.access), rid))
                    .await?
                    .into_inner();
                self.other_admin = answer.admin.expect("admin").id;
                (before, self.by_root_on("admin", &self.other_admin))
            }
            Rpc::UpdateAdmin => {
                let before = audit_ids(app).await;
                let request = pb::UpdateAdminRequest {
                    admin: Some(pb::Admin {
                        id: self.other_admin.clone(),
                        name: "Audited, renamed".into(),
                        ..Default::default()
                    }),
                    update_mask: Some(FieldMask { paths: vec!["name".into()] }),
                    ..Default::default()
                };
                self.admin_auth().update_admin(call(request, Some(&self.access), rid)).await?;
                (before, self.by_root_on("admin", &self.other_admin))
            }
            Rpc::DeleteAdmin => {
                let before = audit_ids(app).await;
                let request =
                    pb::DeleteAdminRequest { id: self.other_admin.clone(), validate_only: false };
                self.admin_auth().delete_admin(call(request, Some(&self.access), rid)).await?;
                (before, self.by_root_on("admin", &self.other_admin))
            }
            Rpc::CreateApiKey => {
                let before = audit_ids(app).await;
                let request = pb::CreateApiKeyRequest {
                    name: "audited key".into(),
                    scopes: vec!["users:read".into()],
                    ..Default::default()
                };
                let answer =
                    self.api_keys().create_api_key(call(request, Some(&self.access), rid)).await;
                let answer = match answer {
                    Err(status) if status.code() == Code::Unimplemented => return Ok(None),
                    other => other?.into_inner(),
                };
                self.secrets.push(answer.raw_key);
                self.api_key = answer.api_key.expect("api key").id;
                (before, self.by_root_on("api_key", &self.api_key))
            }
            Rpc::UpdateApiKey => {
                if self.api_key.is_empty() {
                    return Ok(None);
                }
                let before = audit_ids(app).await;
                let request = pb::UpdateApiKeyRequest {
                    api_key: Some(pb::ApiKey {
                        id: self.api_key.clone(),
                        name: "audited key, renamed".into(),
                        ..Default::default()
                    }),
                    update_mask: Some(FieldMask { paths: vec!["name".into()] }),
                };
                match self.api_keys().update_api_key(call(request, Some(&self.access), rid)).await {
                    Err(status) if status.code() == Code::Unimplemented => return Ok(None),
                    other => other?,
                };
                (before, self.by_root_on("api_key", &self.api_key))
            }
            Rpc::RevokeApiKey => {
                if self.api_key.is_empty() {
                    return Ok(None);
                }
                let before = audit_ids(app).await;
                let request =
                    pb::RevokeApiKeyRequest { id: self.api_key.clone(), validate_only: false };
                match self.api_keys().revoke_api_key(call(request, Some(&self.access), rid)).await {
                    Err(status) if status.code() == Code::Unimplemented => return Ok(None),
                    other => other?,
                };
                (before, self.by_root_on("api_key", &self.api_key))
            }
        };
        Ok(Some(expected))
    }
}

/// The facts every row of a call must carry.
fn assert_call_facts(row: &audit_events::Model, request_id: &str, what: &str) {
    assert_eq!(row.request_id.as_deref(), Some(request_id), "{what}: request_id in {row:?}");
    assert_eq!(row.peer_ip.as_deref(), Some("127.0.0.1"), "{what}: peer_ip in {row:?}");
    let agent = row.user_agent.as_deref().unwrap_or_default();
    assert!(agent.contains(USER_AGENT), "{what}: user_agent in {row:?}");
    assert!(row.metadata.is_object(), "{what}: metadata is an object: {row:?}");
}

/// Every audit row, rendered, must hold none of `secrets`.
async fn assert_no_secrets(app: &TestApp, secrets: &[String]) {
    let rows = app.all_audit_rows().await;
    assert!(!rows.is_empty());
    for row in rows {
        let text = format!("{row:?}");
        for secret in secrets {
            assert!(!text.contains(secret.as_str()), "a secret ({} chars) in {text}", secret.len());
        }
    }
}

db_test! {
    async fn every_mutation_writes_exactly_one_audit_row(app) {
        let mut trail = Trail::new(&app).await;
        let mut skipped = Vec::new();
        for &(rpc, action, outcome, reason) in TABLE {
            let request_id = new_request_id(action);
            let what = format!("{rpc:?}");
            let Some((before, expected)) = trail
                .drive(rpc, &request_id)
                .await
                .unwrap_or_else(|status| panic!("{what} failed: {status:?}"))
            else {
                eprintln!("SKIPPED {what}: the RPC answers UNIMPLEMENTED (not written yet)");
                skipped.push(rpc);
                continue;
            };
            let rows = new_rows(&app, &before).await;
            assert_eq!(rows.len(), 1, "{what} wrote exactly one row: {rows:#?}");
            let row = &rows[0];
            assert_eq!(row.action, action, "{what}");
            assert_eq!(row.outcome, outcome, "{what}");
            assert_eq!(row.reason.as_deref(), reason, "{what}");
            assert_eq!(row.actor_type, expected.actor_type, "{what}: actor type in {row:?}");
            assert_eq!(row.actor_id, expected.actor_id, "{what}: actor id in {row:?}");
            match &expected.target {
                Target::Exact(kind, id) => {
                    assert_eq!(row.target_type.as_deref(), Some(*kind), "{what}: {row:?}");
                    assert_eq!(row.target_id.as_deref(), Some(id.as_str()), "{what}: {row:?}");
                }
                Target::SessionOf(admin_id) => {
                    assert_eq!(row.target_type.as_deref(), Some("session"), "{what}: {row:?}");
                    let id: Uuid = row.target_id.as_deref().expect("target id").parse().expect("uuid");
                    let session = sessions::Entity::find_by_id(id).one(&app.db).await.expect("read");
                    let session = session.expect("the target session exists");
                    assert_eq!(session.principal_id.to_string(), *admin_id, "{what}");
                }
            }
            assert_call_facts(row, &request_id, &what);
            let age = chrono::Utc::now() - row.occurred_at;
            assert!(age < chrono::Duration::minutes(5) && age > chrono::Duration::seconds(-5), "{what}: occurred_at");
        }
        if !skipped.is_empty() {
            eprintln!("audit table: skipped {skipped:?}");
        }
        assert_no_secrets(&app, &trail.secrets).await;
    }
}

db_test! {
    async fn failed_mutations_write_no_audit_row(app) {
        let mut trail = Trail::new(&app).await;
        trail.drive(Rpc::Setup, "setup").await.expect("setup");
        let token = trail.access.clone();
        let key = {
            let request = pb::CreateApiKeyRequest {
                name: "a key to fail on".into(),
                scopes: vec!["users:read".into()],
                ..Default::default()
            };
            let answer = trail.api_keys().create_api_key(call(request, Some(&token), "k")).await;
            answer.expect("create key").into_inner().api_key.expect("key").id
        };
        let mut auth = trail.admin_auth();
        let mut keys = trail.api_keys();
        let bearer = Some(token.as_str());
        let mut failures: Vec<(&str, Status)> = Vec::new();
        let before = app.count_audit().await;

        let again = pb::SetupRequest { email: "x@example.com".into(), password: "long enough password".into(), name: "X".into() };
        failures.push(("Setup already done", auth.setup(call(again, None, "f0")).await.unwrap_err()));
        let weak = pb::SetupRequest { email: "x@example.com".into(), password: "short".into(), name: "X".into() };
        failures.push(("Setup again", auth.setup(call(weak, None, "f1")).await.unwrap_err()));
        let request = pb::CreateAdminRequest { email: "bad".into(), password: "long enough password".into(), name: "N".into(), ..Default::default() };
        failures.push(("CreateAdmin bad email", auth.create_admin(call(request, bearer, "f2")).await.unwrap_err()));
        let request = pb::UpdateAdminRequest { admin: Some(pb::Admin { id: trail.root_id.clone(), ..Default::default() }), ..Default::default() };
        failures.push(("UpdateAdmin empty mask", auth.update_admin(call(request, bearer, "f3")).await.unwrap_err()));
        let request = pb::UpdateAdminRequest {
            admin: Some(pb::Admin { id: trail.root_id.clone(), role: "dashboard_viewer".into(), ..Default::default() }),
            update_mask: Some(FieldMask { paths: vec!["role".into()] }),
            ..Default::default()
        };
        failures.push(("UpdateAdmin LAST_ADMIN", auth.update_admin(call(request, bearer, "f4")).await.unwrap_err()));
        let request = pb::DeleteAdminRequest { id: "not-a-uuid".into(), validate_only: false };
        failures.push(("DeleteAdmin malformed", auth.delete_admin(call(request, bearer, "f5")).await.unwrap_err()));
        let request = pb::DeleteAdminRequest { id: trail.root_id.clone(), validate_only: false };
        failures.push(("DeleteAdmin LAST_ADMIN", auth.delete_admin(call(request, bearer, "f6")).await.unwrap_err()));
        let request = pb::ChangePasswordRequest { current_password: ADMIN_PASSWORD.into(), new_password: "short".into() };
        failures.push(("ChangePassword weak", auth.change_password(call(request, bearer, "f7")).await.unwrap_err()));
        let request = pb::ChangePasswordRequest { current_password: "wrong current password".into(), new_password: "a long new password".into() };
        failures.push(("ChangePassword wrong current", auth.change_password(call(request, bearer, "f8")).await.unwrap_err()));
        let request = pb::RequestPasswordResetRequest { email: "not-an-email".into() };
        failures.push(("RequestPasswordReset malformed", auth.request_password_reset(call(request, None, "f9")).await.unwrap_err()));
        let request = pb::ConfirmPasswordResetRequest { token: "whatever".into(), password: "long enough one".into(), password_confirm: "long enough two".into() };
        failures.push(("ConfirmPasswordReset mismatch", auth.confirm_password_reset(call(request, None, "f10")).await.unwrap_err()));
        let request = pb::RefreshTokenRequest { refresh_token: String::new() };
        failures.push(("RefreshToken empty", auth.refresh_token(call(request, None, "f11")).await.unwrap_err()));
        let request = pb::CreateApiKeyRequest { name: "k".into(), scopes: vec!["no:such-scope".into()], ..Default::default() };
        failures.push(("CreateApiKey unknown scope", keys.create_api_key(call(request, bearer, "f12")).await.unwrap_err()));
        let request = pb::UpdateApiKeyRequest { api_key: Some(pb::ApiKey { id: key.clone(), ..Default::default() }), update_mask: Some(FieldMask { paths: vec!["prefix".into()] }) };
        failures.push(("UpdateApiKey output-only path", keys.update_api_key(call(request, bearer, "f13")).await.unwrap_err()));
        let request = pb::RevokeApiKeyRequest { id: "not-a-uuid".into(), validate_only: false };
        failures.push(("RevokeApiKey malformed", keys.revoke_api_key(call(request, bearer, "f14")).await.unwrap_err()));
        let request = pb::RevokeApiKeyRequest { id: Uuid::now_v7().to_string(), validate_only: false };
        failures.push(("RevokeApiKey unknown", keys.revoke_api_key(call(request, bearer, "f15")).await.unwrap_err()));

        for (what, status) in &failures {
            assert!(
                matches!(status.code(), Code::InvalidArgument | Code::FailedPrecondition | Code::NotFound),
                "{what}: {status:?}"
            );
        }
        let rows = app.all_audit_rows().await;
        assert_eq!(app.count_audit().await, before, "failed mutations wrote rows: {:#?}", &rows[before as usize..]);
    }
}

db_test! {
    async fn calls_refused_by_the_authorization_layer_are_recorded_as_denied(app) {
        let trail = Trail::new(&app).await;
        let mut auth = trail.admin_auth();
        let method = "/warden.v1.AdminAuthService/ListAdmins";

        // No credential at all.
        let before = audit_ids(&app).await;
        let request_id = new_request_id("anonymous");
        let status = auth.list_admins(call(pb::ListAdminsRequest::default(), None, &request_id)).await;
        assert_eq!(status.expect_err("anonymous").code(), Code::Unauthenticated);
        let rows = new_rows(&app, &before).await;
        assert_eq!(rows.len(), 1, "{rows:#?}");
        let row = &rows[0];
        assert_eq!((row.action.as_str(), row.outcome.as_str()), ("authz.denied", "denied"));
        assert_eq!(row.reason.as_deref(), Some("UNAUTHENTICATED"));
        assert_eq!((row.actor_type.as_str(), row.actor_id.as_deref()), ("anonymous", None));
        assert_eq!(row.metadata["method"], sea_orm::JsonValue::from(method));
        assert_call_facts(row, &request_id, "anonymous ListAdmins");

        // An API key without admins:read.
        let raw = app.api_key([Scope::UsersRead].into_iter().collect::<ScopeSet>()).await;
        let key = api_keys::Entity::find()
            .filter(api_keys::Column::Prefix.eq(&raw[4..20]))
            .one(&app.db)
            .await
            .expect("read key")
            .expect("the key row");
        let before = audit_ids(&app).await;
        let request_id = new_request_id("scope");
        let status = auth.list_admins(call(pb::ListAdminsRequest::default(), Some(&raw), &request_id)).await;
        let status = status.expect_err("scope missing");
        assert_status(&status, Code::PermissionDenied, "SCOPE_MISSING");
        let rows = new_rows(&app, &before).await;
        assert_eq!(rows.len(), 1, "{rows:#?}");
        let row = &rows[0];
        assert_eq!((row.action.as_str(), row.outcome.as_str()), ("authz.denied", "denied"));
        assert_eq!(row.reason.as_deref(), Some("SCOPE_MISSING"));
        assert_eq!(row.metadata["method"], sea_orm::JsonValue::from(method));
        // The caller was identified; only its scope was lacking.
        assert_eq!(row.actor_type, "api_key", "{row:?}");
        assert_eq!(row.actor_id, Some(key.id.to_string()), "{row:?}");
        assert_call_facts(row, &request_id, "ListAdmins without the scope");

        // A wrong key is refused and recorded without its value.
        let before = audit_ids(&app).await;
        let forged = format!("{}x", &raw[..raw.len() - 1]);
        let status = auth.list_admins(call(pb::ListAdminsRequest::default(), Some(&forged), "forged")).await;
        assert_eq!(status.expect_err("forged").code(), Code::Unauthenticated);
        let rows = new_rows(&app, &before).await;
        assert_eq!(rows.len(), 1, "{rows:#?}");
        assert_eq!(rows[0].reason.as_deref(), Some("INVALID_CREDENTIALS"));
        assert_eq!(rows[0].actor_type, "anonymous");

        assert_no_secrets(&app, &[raw.clone(), forged, raw[21..].to_owned()]).await;
    }
}
