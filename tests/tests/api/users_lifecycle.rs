//! UsersService's user lifecycle over gRPC: create (validation, uniqueness on
//! the normalized email even under a race, generated passwords, request_id
//! retries), get, update by mask, roles, delete with its cascade, disable
//! (sessions revoked at once, `until` lifting itself), enable, passwords. Each
//! mutation leaves exactly one audit row; a failed one leaves none.

mod account;
mod create;
mod delete;
mod update;

use prost_types::FieldMask;
use sea_orm::{EntityTrait, PaginatorTrait};
use tonic::{Code, Status, transport::Channel};
use uuid::Uuid;
use warden_core::{
    auth::password::{PasswordSettings, Passwords, Verified},
    entity::{audit_events, users},
    scope::ScopeSet,
    secret::SecretString,
};
use warden_proto::v1::{
    self as pb, create_user_request::PasswordSource, users_service_client::UsersServiceClient,
};
use warden_tests::{
    TestApp, assert_invalid, assert_invalid_with, assert_status, authorized, db_test, reason_of,
    violations,
};

type Client = UsersServiceClient<Channel>;

const PASSWORD: &str = "correct horse battery";

/// A client and an API key holding every scope.
struct Caller {
    client: Client,
    key: String,
}

impl Caller {
    async fn new(app: &TestApp) -> Self {
        Self {
            client: UsersServiceClient::new(app.channel.clone()),
            key: app.api_key(ScopeSet::all()).await,
        }
    }

    async fn create(
        &mut self,
        request: pb::CreateUserRequest,
    ) -> Result<pb::CreateUserResponse, Status> {
        self.client.create_user(authorized(request, &self.key)).await.map(|r| r.into_inner())
    }

    /// Creates a user with a given password and returns it.
    async fn user(&mut self, email: &str) -> pb::User {
        self.create(create_request(email))
            .await
            .unwrap_or_else(|s| panic!("create {email}: {s:?}"))
            .user
            .unwrap()
    }

    async fn get(&mut self, lookup: pb::get_user_request::Lookup) -> Result<pb::User, Status> {
        let request = pb::GetUserRequest { lookup: Some(lookup) };
        self.client
            .get_user(authorized(request, &self.key))
            .await
            .map(|r| r.into_inner().user.unwrap())
    }

    async fn get_id(&mut self, id: &str) -> Result<pb::User, Status> {
        self.get(pb::get_user_request::Lookup::Id(id.to_owned())).await
    }
}

fn create_request(email: &str) -> pb::CreateUserRequest {
    pb::CreateUserRequest {
        email: email.into(),
        password_source: Some(PasswordSource::Password(PASSWORD.into())),
        ..Default::default()
    }
}

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() })
}

async fn row(app: &TestApp, id: &str) -> Option<users::Model> {
    users::Entity::find_by_id(Uuid::parse_str(id).unwrap()).one(&app.db).await.unwrap()
}

async fn count_users(app: &TestApp) -> u64 {
    users::Entity::find().count(&app.db).await.unwrap()
}

/// The audit rows about one user, oldest first.
async fn audit_about(app: &TestApp, id: &str) -> Vec<audit_events::Model> {
    app.all_audit_rows().await.into_iter().filter(|r| r.target_id.as_deref() == Some(id)).collect()
}

/// Verifies `password` against a stored PHC hash (the suite's argon2 params).
async fn verifies(hash: &str, password: &str) -> bool {
    let passwords =
        Passwords::new(&PasswordSettings { memory_kib: 1024, iterations: 1, ..Default::default() })
            .unwrap();
    let verdict =
        passwords.verify(&SecretString::new(password.to_owned()), Some(hash)).await.unwrap();
    matches!(verdict, Verified::Match { .. })
}

/// Every audit row, rendered, must not contain `secret`.
async fn assert_not_in_audit(app: &TestApp, secret: &str) {
    for row in app.all_audit_rows().await {
        assert!(!format!("{row:?}").contains(secret), "a secret in {row:?}");
    }
}

db_test! {
    async fn every_mutation_writes_exactly_one_audit_row(app) {
        let mut caller = Caller::new(&app).await;
        let id = caller.user("audited@example.com").await.id;
        let key = caller.key.clone();
        let c = &mut caller.client;
        let mut steps: Vec<(&str, Result<(), Status>)> = Vec::new();
        let update = pb::UpdateUserRequest {
            user: Some(pb::User { id: id.clone(), given_name: "Ada".into(), ..Default::default() }),
            update_mask: mask(&["given_name"]),
        };
        steps.push(("user.update", c.update_user(authorized(update, &key)).await.map(drop)));
        let roles = pb::SetUserRolesRequest { id: id.clone(), roles: vec!["staff".into()] };
        steps.push(("user.set_roles", c.set_user_roles(authorized(roles, &key)).await.map(drop)));
        let disable = pb::DisableUserRequest { id: id.clone(), reason: "audit".into(), until: None };
        steps.push(("user.disable", c.disable_user(authorized(disable, &key)).await.map(drop)));
        let enable = pb::EnableUserRequest { id: id.clone() };
        steps.push(("user.enable", c.enable_user(authorized(enable, &key)).await.map(drop)));
        let set = pb::SetPasswordRequest {
            id: id.clone(),
            password_source: Some(pb::set_password_request::PasswordSource::GeneratePassword(true)),
            ..Default::default()
        };
        steps.push(("user.set_password", c.set_password(authorized(set, &key)).await.map(drop)));
        let force = pb::ForcePasswordChangeRequest { id: id.clone() };
        steps.push(("user.force_password_change", c.force_password_change(authorized(force, &key)).await.map(drop)));
        let delete = pb::DeleteUserRequest { id: id.clone(), validate_only: false };
        steps.push(("user.delete", c.delete_user(authorized(delete, &key)).await.map(drop)));
        for (action, result) in &steps {
            result.as_ref().unwrap_or_else(|s| panic!("{action}: {s:?}"));
        }

        let rows = audit_about(&app, &id).await;
        let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
        let mut expected = vec!["user.create"];
        expected.extend(steps.iter().map(|(action, _)| *action));
        assert_eq!(actions, expected);
        for row in &rows {
            assert_eq!((row.target_type.as_deref(), row.outcome.as_str()), (Some("user"), "success"));
            assert_eq!(row.actor_type, "api_key", "{row:?}");
        }
    }
}
