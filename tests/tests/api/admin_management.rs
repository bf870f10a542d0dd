//! Admin CRUD over gRPC: validation stores nothing, emails are unique on
//! their normalized form, creates are idempotent on request_id, lists filter,
//! sort and page, updates go through a field mask, and the last active
//! dashboard_admin can never be deleted, demoted or disabled, not even by two
//! admins deleting each other at once.

mod create;
mod last_admin;
mod list;
mod update;

use std::collections::HashSet;

use prost_types::FieldMask;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tonic::{Code, Status, transport::Channel};
use uuid::Uuid;
use warden_core::entity::admins;
use warden_proto::v1::{
    self as pb, AdminOrderBy, MatchMode, SortDirection, StringFilter,
    admin_auth_service_client::AdminAuthServiceClient,
};
use warden_tests::{
    ADMIN_EMAIL, AdminSession, TestApp, assert_invalid, assert_status, authorized, db_test,
    reason_of, violations,
};

type Client = AdminAuthServiceClient<Channel>;

const PASSWORD: &str = "a long enough password";
const ADMIN: &str = "dashboard_admin";
const VIEWER: &str = "dashboard_viewer";

fn create_request(email: &str, role: &str) -> pb::CreateAdminRequest {
    pb::CreateAdminRequest {
        email: email.into(),
        password: PASSWORD.into(),
        name: format!("Name of {email}"),
        role: role.into(),
        ..Default::default()
    }
}

/// Creates an admin as `caller` and returns it.
async fn create(app: &TestApp, caller: &str, email: &str, role: &str) -> pb::Admin {
    app.admin_auth()
        .create_admin(authorized(create_request(email, role), caller))
        .await
        .unwrap_or_else(|status| panic!("create {email}: {status:?}"))
        .into_inner()
        .admin
        .expect("admin in CreateAdminResponse")
}

/// Creates an admin and signs it in.
async fn create_and_login(app: &TestApp, caller: &str, email: &str, role: &str) -> AdminSession {
    create(app, caller, email, role).await;
    app.login(email, PASSWORD).await.unwrap_or_else(|status| panic!("login {email}: {status:?}"))
}

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() })
}

fn update_request(admin: pb::Admin, paths: &[&str]) -> pb::UpdateAdminRequest {
    pb::UpdateAdminRequest { admin: Some(admin), update_mask: mask(paths), ..Default::default() }
}

async fn get(app: &TestApp, caller: &str, id: &str) -> Result<pb::Admin, Status> {
    let request = authorized(pb::GetAdminRequest { id: id.into() }, caller);
    Ok(app.admin_auth().get_admin(request).await?.into_inner().admin.expect("admin"))
}

async fn list(
    app: &TestApp,
    caller: &str,
    request: pb::ListAdminsRequest,
) -> pb::ListAdminsResponse {
    app.admin_auth()
        .list_admins(authorized(request.clone(), caller))
        .await
        .unwrap_or_else(|status| panic!("list {request:?}: {status:?}"))
        .into_inner()
}

async fn list_err(app: &TestApp, caller: &str, request: pb::ListAdminsRequest) -> Status {
    app.admin_auth()
        .list_admins(authorized(request.clone(), caller))
        .await
        .expect_err(&format!("list {request:?} must fail"))
}

/// The emails of one page, sorted, for set comparisons.
fn emails(admins: &[pb::Admin]) -> Vec<String> {
    let mut emails: Vec<String> = admins.iter().map(|a| a.email.to_lowercase()).collect();
    emails.sort();
    emails
}

fn email_filter(value: &str, mode: MatchMode) -> Option<StringFilter> {
    Some(StringFilter { value: value.into(), mode: mode as i32 })
}

async fn count_admins(app: &TestApp) -> u64 {
    admins::Entity::find().count(&app.db).await.expect("count admins")
}

async fn active_dashboard_admins(app: &TestApp) -> Vec<admins::Model> {
    admins::Entity::find()
        .filter(admins::Column::Role.eq(ADMIN))
        .filter(admins::Column::IsActive.eq(true))
        .all(&app.db)
        .await
        .expect("read admins")
}

/// Whether an access token still gets through (GetCurrentAdmin).
async fn current_admin(app: &TestApp, token: &str) -> Result<pb::Admin, Status> {
    let request = authorized(pb::GetCurrentAdminRequest {}, token);
    Ok(app.admin_auth().get_current_admin(request).await?.into_inner().admin.expect("admin"))
}
