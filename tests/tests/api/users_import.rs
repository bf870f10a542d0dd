//! Bringing users in over gRPC: ImportSocialUser (verified email, hybrid
//! accounts, SOCIAL_ACCOUNT_EXISTS, request_id retries), ImportUsers (every
//! legacy hash family, SKIP/UPSERT/FAIL, bad rows reported per row, batches
//! with one audit row each), ListIdentities/UnlinkIdentity (the last way to
//! sign in is kept unless forced), and end-user sign-in (CreateSession), where
//! imported hashes verify and are upgraded to argon2id.

mod bulk;
mod conflicts;
mod identities;
mod sign_in;
mod social;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tonic::{Status, transport::Channel};
use warden_core::{entity::users, scope::ScopeSet};
use warden_proto::v1::{
    self as pb, sessions_service_client::SessionsServiceClient,
    users_service_client::UsersServiceClient,
};
use warden_tests::{TestApp, assert_status, authorized};

const PASSWORD: &str = "correct horse battery";

/// A UsersService client with an all-scopes API key, and a sessions client.
struct Caller {
    users: UsersServiceClient<Channel>,
    sessions: SessionsServiceClient<Channel>,
    key: String,
}

impl Caller {
    async fn new(app: &TestApp) -> Self {
        Self {
            users: UsersServiceClient::new(app.channel.clone()),
            sessions: SessionsServiceClient::new(app.channel.clone()),
            key: app.api_key(ScopeSet::all()).await,
        }
    }

    async fn import(
        &mut self,
        rows: Vec<pb::ImportUsersRequest>,
    ) -> Result<pb::ImportUsersResponse, Status> {
        let stream = tokio_stream::iter(rows);
        self.users.import_users(authorized(stream, &self.key)).await.map(|r| r.into_inner())
    }

    async fn import_ok(&mut self, rows: Vec<pb::ImportUsersRequest>) -> pb::ImportUsersResponse {
        self.import(rows).await.unwrap_or_else(|s| panic!("import: {s:?}"))
    }

    async fn social(
        &mut self,
        request: pb::ImportSocialUserRequest,
    ) -> Result<pb::ImportSocialUserResponse, Status> {
        self.users.import_social_user(authorized(request, &self.key)).await.map(|r| r.into_inner())
    }

    async fn get(&mut self, email: &str) -> pb::User {
        let request =
            pb::GetUserRequest { lookup: Some(pb::get_user_request::Lookup::Email(email.into())) };
        self.users
            .get_user(authorized(request, &self.key))
            .await
            .unwrap()
            .into_inner()
            .user
            .unwrap()
    }

    async fn sign_in(
        &mut self,
        identifier: &str,
        password: &str,
    ) -> Result<pb::create_session_response::Result, Status> {
        let request = pb::CreateSessionRequest {
            identifier: identifier.into(),
            password: password.into(),
            client: Some(pb::ClientInfo {
                ip_address: "203.0.113.7".into(),
                user_agent: "test-browser/1.0".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        self.sessions.create_session(request).await.map(|r| r.into_inner().result.unwrap())
    }

    /// Signs in and expects tokens.
    async fn tokens(&mut self, identifier: &str, password: &str) -> pb::SessionTokens {
        match self.sign_in(identifier, password).await {
            Ok(pb::create_session_response::Result::Tokens(tokens)) => tokens,
            other => panic!("sign-in of {identifier}: {other:?}"),
        }
    }
}

/// A row with just an email and optionally a hash.
fn row(email: &str, hash: &str) -> pb::ImportUsersRequest {
    pb::ImportUsersRequest { email: email.into(), password_hash: hash.into(), ..Default::default() }
}

fn with_conflict(
    mut rows: Vec<pb::ImportUsersRequest>,
    mode: pb::ImportUsersOnConflict,
) -> Vec<pb::ImportUsersRequest> {
    if let Some(first) = rows.first_mut() {
        first.on_conflict = mode as i32;
    }
    rows
}

/// The stored user row, by normalized email.
async fn stored(app: &TestApp, email: &str) -> users::Model {
    users::Entity::find()
        .filter(users::Column::EmailNormalized.eq(email.to_lowercase()))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{email} is stored"))
}

async fn user_count(app: &TestApp) -> u64 {
    use sea_orm::PaginatorTrait;
    users::Entity::find().count(&app.db).await.unwrap()
}

/// The claims of a JWT, read without verifying it (the server verifies).
fn claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&data_encoding::BASE64URL_NOPAD.decode(payload.as_bytes()).unwrap())
        .unwrap()
}
