//! Admin CRUD over gRPC: validation stores nothing, emails are unique on
//! their normalized form, creates are idempotent on request_id, lists filter,
//! sort and page, updates go through a field mask, and the last active
//! dashboard_admin can never be deleted, demoted or disabled, not even by two
//! admins deleting each other at once.

use std::collections::HashSet;

use prost_types::FieldMask;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tonic::{Code, Status, transport::Channel};
use tonic_types::StatusExt;
use uuid::Uuid;
use warden_core::entity::{admins, audit_events};
use warden_proto::v1::{
    self as pb, AdminOrderBy, MatchMode, SortDirection, StringFilter,
    admin_auth_service_client::AdminAuthServiceClient,
};
use warden_tests::{ADMIN_EMAIL, AdminSession, TestApp, authorized, db_test, reason_of};

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

async fn count_audit(app: &TestApp) -> u64 {
    audit_events::Entity::find().count(&app.db).await.expect("count audit rows")
}

async fn active_dashboard_admins(app: &TestApp) -> Vec<admins::Model> {
    admins::Entity::find()
        .filter(admins::Column::Role.eq(ADMIN))
        .filter(admins::Column::IsActive.eq(true))
        .all(&app.db)
        .await
        .expect("read admins")
}

fn violations(status: &Status) -> Vec<String> {
    let details = status.get_error_details();
    details
        .bad_request()
        .map(|bad| bad.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}

fn assert_status(status: &Status, code: Code, reason: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(reason_of(status), reason, "{status:?}");
}

fn assert_invalid(status: &Status, field: &str) {
    assert_status(status, Code::InvalidArgument, "VALIDATION_FAILED");
    assert!(violations(status).iter().any(|f| f == field), "violation on {field} in {status:?}");
}

/// Whether an access token still gets through (GetCurrentAdmin).
async fn current_admin(app: &TestApp, token: &str) -> Result<pb::Admin, Status> {
    let request = authorized(pb::GetCurrentAdminRequest {}, token);
    Ok(app.admin_auth().get_current_admin(request).await?.into_inner().admin.expect("admin"))
}

// ------------------------------------------------------------------ CreateAdmin

db_test! {
    async fn create_with_a_short_password_is_weak_and_stores_nothing(app) {
        let root = app.setup_admin().await;
        let (admins_before, audit_before) = (count_admins(&app).await, count_audit(&app).await);
        let mut request = create_request("viewer@example.com", VIEWER);
        request.password = "too short".into();
        let status = app
            .admin_auth()
            .create_admin(authorized(request, &root.access_token))
            .await
            .expect_err("short password");
        assert_status(&status, Code::InvalidArgument, "WEAK_PASSWORD");
        assert_eq!(violations(&status), vec!["password".to_owned()]);
        assert_eq!(count_admins(&app).await, admins_before, "no admin row");
        assert_eq!(count_audit(&app).await, audit_before, "no audit row");
        assert!(app.audit_rows("admin.create").await.is_empty());
    }
}

db_test! {
    async fn create_reports_every_bad_field_at_once(app) {
        let root = app.setup_admin().await;
        let (admins_before, audit_before) = (count_admins(&app).await, count_audit(&app).await);
        let mut request = create_request("not-an-email", "superuser");
        request.password_confirm = "something else entirely".into();
        let status = app
            .admin_auth()
            .create_admin(authorized(request, &root.access_token))
            .await
            .expect_err("bad email and role");
        assert_status(&status, Code::InvalidArgument, "VALIDATION_FAILED");
        let fields = violations(&status);
        for field in ["email", "role", "password_confirm"] {
            assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
        }
        assert_eq!(count_admins(&app).await, admins_before);
        assert_eq!(count_audit(&app).await, audit_before);
    }
}

db_test! {
    async fn create_without_a_role_makes_a_dashboard_viewer(app) {
        let root = app.setup_admin().await;
        let created = create(&app, &root.access_token, "norole@example.com", "").await;
        assert_eq!(created.role, VIEWER);
        assert!(created.scopes.iter().all(|s| s.ends_with(":read")), "{:?}", created.scopes);
    }
}

db_test! {
    async fn create_refuses_an_email_that_differs_only_in_case(app) {
        let root = app.setup_admin().await;
        create(&app, &root.access_token, "Dup@Example.com", VIEWER).await;
        let admins_before = count_admins(&app).await;
        let audit_before = count_audit(&app).await;
        for variant in ["dup@example.com", "DUP@EXAMPLE.COM", "  dup@example.COM ", &ADMIN_EMAIL.to_uppercase()] {
            let status = app
                .admin_auth()
                .create_admin(authorized(create_request(variant, VIEWER), &root.access_token))
                .await
                .expect_err("duplicate email");
            assert_status(&status, Code::AlreadyExists, "EMAIL_EXISTS");
        }
        assert_eq!(count_admins(&app).await, admins_before);
        assert_eq!(count_audit(&app).await, audit_before);
    }
}

db_test! {
    async fn create_retried_with_the_same_request_id_returns_the_first_admin(app) {
        let root = app.setup_admin().await;
        let mut request = create_request("retry@example.com", VIEWER);
        request.request_id = Uuid::new_v4().to_string();
        let mut client = app.admin_auth();
        let first = client.create_admin(authorized(request.clone(), &root.access_token)).await;
        let first = first.expect("first create").into_inner().admin.expect("admin");
        let again = client.create_admin(authorized(request.clone(), &root.access_token)).await;
        let again = again.expect("retried create").into_inner().admin.expect("admin");
        assert_eq!(again.id, first.id);
        assert_eq!(again.email, first.email);
        assert_eq!(count_admins(&app).await, 2, "root and one created admin");
        assert_eq!(app.audit_rows("admin.create").await.len(), 1);

        // The same id with a different request is refused, not replayed.
        let mut other = create_request("someone-else@example.com", VIEWER);
        other.request_id = request.request_id.clone();
        let status = client.create_admin(authorized(other, &root.access_token)).await.unwrap_err();
        assert_invalid(&status, "request_id");
        assert_eq!(count_admins(&app).await, 2);
    }
}

db_test! {
    async fn concurrent_retries_with_one_request_id_create_one_admin(app) {
        let root = app.setup_admin().await;
        let mut request = create_request("racing@example.com", VIEWER);
        request.request_id = Uuid::new_v4().to_string();
        let calls = (0..5).map(|_| {
            let mut client: Client = app.admin_auth();
            let request = authorized(request.clone(), &root.access_token);
            async move { client.create_admin(request).await }
        });
        let answers = futures_util::future::join_all(calls).await;
        let mut ids = HashSet::new();
        for answer in answers {
            let admin = answer.expect("every retry gets the first answer").into_inner().admin;
            ids.insert(admin.expect("admin").id);
        }
        assert_eq!(ids.len(), 1, "one admin: {ids:?}");
        assert_eq!(count_admins(&app).await, 2);
        assert_eq!(app.audit_rows("admin.create").await.len(), 1);
    }
}

db_test! {
    async fn a_created_viewer_signs_in_reads_but_cannot_write(app) {
        let root = app.setup_admin().await;
        let created = create(&app, &root.access_token, "viewer@example.com", VIEWER).await;
        assert_eq!(created.role, VIEWER);
        assert!(created.is_active);
        assert!(created.last_login_at.is_none());
        let viewer = app.login("viewer@example.com", PASSWORD).await.expect("viewer signs in");
        assert_eq!(viewer.admin_id, created.id);

        let listed = list(&app, &viewer.access_token, pb::ListAdminsRequest::default()).await;
        assert_eq!(listed.admins.len(), 2);
        let fetched = get(&app, &viewer.access_token, &root.admin_id).await.expect("viewer reads");
        assert_eq!(fetched.email, ADMIN_EMAIL);

        let status = app
            .admin_auth()
            .create_admin(authorized(create_request("x@example.com", VIEWER), &viewer.access_token))
            .await
            .expect_err("viewer may not create");
        assert_status(&status, Code::PermissionDenied, "SCOPE_MISSING");
        let delete = pb::DeleteAdminRequest { id: root.admin_id.clone(), validate_only: false };
        let status = app.admin_auth().delete_admin(authorized(delete, &viewer.access_token)).await;
        assert_status(&status.expect_err("viewer may not delete"), Code::PermissionDenied, "SCOPE_MISSING");
        assert_eq!(count_admins(&app).await, 2);
    }
}

// ------------------------------------------------------------------- ListAdmins

/// Root plus five admins: four active, one disabled; two viewers.
async fn seed_for_listing(app: &TestApp) -> AdminSession {
    let root = app.setup_admin().await;
    let token = &root.access_token;
    create(app, token, "alice@example.com", ADMIN).await;
    create(app, token, "Alfred@Example.org", VIEWER).await;
    create(app, token, "bob@example.com", ADMIN).await;
    create(app, token, "Carol@Example.NET", VIEWER).await;
    let dave = create(app, token, "dave@example.com", ADMIN).await;
    let disable = pb::Admin { id: dave.id, is_active: false, ..Default::default() };
    app.admin_auth()
        .update_admin(authorized(update_request(disable, &["is_active"]), token))
        .await
        .expect("disable dave");
    root
}

const ALL_EMAILS: [&str; 6] = [
    "alfred@example.org",
    "alice@example.com",
    "bob@example.com",
    "carol@example.net",
    "dave@example.com",
    "root@example.com",
];

db_test! {
    async fn list_filters_by_email_case_insensitively_by_role_and_by_active(app) {
        let root = seed_for_listing(&app).await;
        let token = &root.access_token;
        let by_email = |value: &str, mode| pb::ListAdminsRequest {
            email: email_filter(value, mode),
            ..Default::default()
        };
        let page = list(&app, token, by_email("EXAMPLE.COM", MatchMode::Contains)).await;
        assert_eq!(emails(&page.admins), ["alice@example.com", "bob@example.com", "dave@example.com", "root@example.com"]);
        let page = list(&app, token, by_email("AL", MatchMode::StartsWith)).await;
        assert_eq!(emails(&page.admins), ["alfred@example.org", "alice@example.com"]);
        let page = list(&app, token, by_email("carol@EXAMPLE.net", MatchMode::Equals)).await;
        assert_eq!(emails(&page.admins), ["carol@example.net"]);
        assert_eq!(page.admins[0].email, "Carol@Example.NET", "stored as given");
        let page = list(&app, token, by_email("carol", MatchMode::Equals)).await;
        assert!(page.admins.is_empty(), "EQUALS is not a substring match");
        // LIKE wildcards in the value are literal.
        let page = list(&app, token, by_email("%", MatchMode::Contains)).await;
        assert!(page.admins.is_empty(), "{:?}", emails(&page.admins));

        let viewers = pb::ListAdminsRequest { role: VIEWER.into(), ..Default::default() };
        let page = list(&app, token, viewers).await;
        assert_eq!(emails(&page.admins), ["alfred@example.org", "carol@example.net"]);
        assert!(page.admins.iter().all(|a| a.role == VIEWER));

        let inactive = pb::ListAdminsRequest { is_active: Some(false), ..Default::default() };
        assert_eq!(emails(&list(&app, token, inactive).await.admins), ["dave@example.com"]);
        let active = pb::ListAdminsRequest { is_active: Some(true), ..Default::default() };
        assert_eq!(list(&app, token, active).await.admins.len(), 5);

        let combined = pb::ListAdminsRequest {
            email: email_filter("example.com", MatchMode::Contains),
            role: ADMIN.into(),
            is_active: Some(true),
            ..Default::default()
        };
        let page = list(&app, token, combined).await;
        assert_eq!(emails(&page.admins), ["alice@example.com", "bob@example.com", "root@example.com"]);
    }
}

db_test! {
    async fn list_sorts_by_email_in_both_directions(app) {
        let root = seed_for_listing(&app).await;
        let by_email = |direction: SortDirection| pb::ListAdminsRequest {
            order_by: AdminOrderBy::Email as i32,
            order_direction: direction as i32,
            ..Default::default()
        };
        let page = list(&app, &root.access_token, by_email(SortDirection::Asc)).await;
        let asc: Vec<String> = page.admins.iter().map(|a| a.email.to_lowercase()).collect();
        assert_eq!(asc, ALL_EMAILS);
        let page = list(&app, &root.access_token, by_email(SortDirection::Desc)).await;
        let desc: Vec<String> = page.admins.iter().map(|a| a.email.to_lowercase()).collect();
        let mut expected = ALL_EMAILS.to_vec();
        expected.reverse();
        assert_eq!(desc, expected);

        // The default is created_at, newest first.
        let page = list(&app, &root.access_token, pb::ListAdminsRequest::default()).await;
        let created: Vec<(i64, i32)> = page
            .admins
            .iter()
            .map(|a| a.created_at.map(|t| (t.seconds, t.nanos)).expect("created_at"))
            .collect();
        assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first: {created:?}");
        assert_eq!(page.admins.last().map(|a| a.email.as_str()), Some(ADMIN_EMAIL));
    }
}

/// Walks every page of `request` with page_size 2, checking each is full
/// except the last and that the last has an empty next_page_token.
async fn walk(app: &TestApp, token: &str, request: pb::ListAdminsRequest) -> Vec<String> {
    let mut request = pb::ListAdminsRequest { page_size: 2, include_total: true, ..request };
    let mut seen = Vec::new();
    for _ in 0..20 {
        let page = list(app, token, request.clone()).await;
        assert_eq!(page.total_size, ALL_EMAILS.len() as i64, "include_total");
        assert!(page.admins.len() <= 2);
        seen.extend(page.admins.iter().map(|a| a.email.to_lowercase()));
        if page.next_page_token.is_empty() {
            return seen;
        }
        assert_eq!(page.admins.len(), 2, "a page followed by another is full");
        request.page_token = page.next_page_token;
    }
    panic!("paging never ended: {seen:?}");
}

db_test! {
    async fn list_pages_without_duplicates_or_gaps(app) {
        let root = seed_for_listing(&app).await;
        let token = &root.access_token;
        for (order, direction) in [
            (AdminOrderBy::Email, SortDirection::Asc),
            (AdminOrderBy::Email, SortDirection::Desc),
            (AdminOrderBy::Unspecified, SortDirection::Unspecified),
            (AdminOrderBy::CreatedAt, SortDirection::Asc),
            (AdminOrderBy::Name, SortDirection::Asc),
            (AdminOrderBy::LastLoginAt, SortDirection::Desc),
        ] {
            let request = pb::ListAdminsRequest {
                order_by: order as i32,
                order_direction: direction as i32,
                ..Default::default()
            };
            let seen = walk(&app, token, request).await;
            let unique: HashSet<&String> = seen.iter().collect();
            assert_eq!(unique.len(), seen.len(), "no duplicates ({order:?} {direction:?}): {seen:?}");
            let mut sorted = seen.clone();
            sorted.sort();
            assert_eq!(sorted, ALL_EMAILS, "no gaps ({order:?} {direction:?})");
            if order == AdminOrderBy::Email {
                let mut expected = ALL_EMAILS.to_vec();
                if direction == SortDirection::Desc {
                    expected.reverse();
                }
                assert_eq!(seen, expected, "pages keep the order");
            }
        }

        // Without include_total the count is not reported.
        let page = list(&app, token, pb::ListAdminsRequest { page_size: 2, ..Default::default() }).await;
        assert_eq!(page.total_size, 0);
        // An offset skips rows of the first page.
        let by_email = pb::ListAdminsRequest {
            order_by: AdminOrderBy::Email as i32,
            order_direction: SortDirection::Asc as i32,
            offset: 4,
            ..Default::default()
        };
        assert_eq!(emails(&list(&app, token, by_email).await.admins), ALL_EMAILS[4..]);
    }
}

db_test! {
    async fn list_refuses_a_page_token_reused_with_another_filter_and_negative_sizes(app) {
        let root = seed_for_listing(&app).await;
        let token = &root.access_token;
        let first = pb::ListAdminsRequest {
            page_size: 2,
            order_by: AdminOrderBy::Email as i32,
            order_direction: SortDirection::Asc as i32,
            ..Default::default()
        };
        let page = list(&app, token, first.clone()).await;
        assert!(!page.next_page_token.is_empty());
        let reused = [
            pb::ListAdminsRequest { email: email_filter("a", MatchMode::Contains), ..first.clone() },
            pb::ListAdminsRequest { order_direction: SortDirection::Desc as i32, ..first.clone() },
            pb::ListAdminsRequest { order_by: AdminOrderBy::Name as i32, ..first.clone() },
            pb::ListAdminsRequest { role: VIEWER.into(), ..first.clone() },
            pb::ListAdminsRequest { is_active: Some(true), ..first.clone() },
        ];
        for request in reused {
            let request = pb::ListAdminsRequest { page_token: page.next_page_token.clone(), ..request };
            assert_invalid(&list_err(&app, token, request).await, "page_token");
        }
        let garbage = pb::ListAdminsRequest { page_token: "not a token".into(), ..first.clone() };
        assert_invalid(&list_err(&app, token, garbage).await, "page_token");
        let negative = pb::ListAdminsRequest { page_size: -1, ..Default::default() };
        assert_invalid(&list_err(&app, token, negative).await, "page_size");
        let negative = pb::ListAdminsRequest { offset: -1, ..Default::default() };
        assert_invalid(&list_err(&app, token, negative).await, "offset");
        // Above the maximum is coerced, not refused.
        let huge = pb::ListAdminsRequest { page_size: 100_000, ..Default::default() };
        assert_eq!(list(&app, token, huge).await.admins.len(), ALL_EMAILS.len());
    }
}

// ------------------------------------------------------------------ UpdateAdmin

db_test! {
    async fn update_refuses_output_only_paths_and_an_empty_mask(app) {
        let root = app.setup_admin().await;
        let target = create(&app, &root.access_token, "target@example.com", VIEWER).await;
        let audit_before = count_audit(&app).await;
        for paths in [&["id"][..], &["created_at"], &["scopes"], &["updated_at"], &["last_login_at"], &["name", "id"], &["password_hash"], &[]] {
            let admin = pb::Admin { name: "Changed".into(), ..target.clone() };
            let status = app
                .admin_auth()
                .update_admin(authorized(update_request(admin, paths), &root.access_token))
                .await
                .expect_err(&format!("mask {paths:?} must be refused"));
            assert_invalid(&status, "update_mask");
        }
        let no_mask = pb::UpdateAdminRequest { admin: Some(target.clone()), update_mask: None, ..Default::default() };
        let status = app.admin_auth().update_admin(authorized(no_mask, &root.access_token)).await;
        assert_invalid(&status.expect_err("no mask"), "update_mask");
        let unchanged = get(&app, &root.access_token, &target.id).await.expect("get");
        assert_eq!(unchanged.name, target.name);
        assert_eq!(unchanged.updated_at, target.updated_at);
        assert_eq!(count_audit(&app).await, audit_before, "refused updates write no audit row");
    }
}

db_test! {
    async fn update_renames_and_writes_one_audit_row(app) {
        let root = app.setup_admin().await;
        let target = create(&app, &root.access_token, "rename@example.com", VIEWER).await;
        // Fields outside the mask are ignored, even when set.
        let admin = pb::Admin {
            name: "  Renamed Admin ".into(),
            email: "ignored@example.com".into(),
            role: ADMIN.into(),
            ..target.clone()
        };
        let updated = app
            .admin_auth()
            .update_admin(authorized(update_request(admin, &["name"]), &root.access_token))
            .await
            .expect("rename")
            .into_inner()
            .admin
            .expect("admin");
        assert_eq!(updated.name, "Renamed Admin");
        assert_eq!(updated.email, "rename@example.com");
        assert_eq!(updated.role, VIEWER);
        let fetched = get(&app, &root.access_token, &target.id).await.expect("get");
        assert_eq!(fetched.name, "Renamed Admin");
        let rows = app.audit_rows("admin.update").await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].target_id.as_deref(), Some(target.id.as_str()));
        assert_eq!(rows[0].actor_id.as_deref(), Some(root.admin_id.as_str()));
        assert_eq!(rows[0].metadata["fields"], sea_orm::JsonValue::from(vec!["name"]));

        // An update to another admin's email keeps emails unique.
        create(&app, &root.access_token, "taken@example.com", VIEWER).await;
        let clash = pb::Admin { email: "TAKEN@example.com".into(), ..target.clone() };
        let status = app
            .admin_auth()
            .update_admin(authorized(update_request(clash, &["email"]), &root.access_token))
            .await
            .expect_err("email taken");
        assert_status(&status, Code::AlreadyExists, "EMAIL_EXISTS");
        assert_eq!(app.audit_rows("admin.update").await.len(), 1);
    }
}

db_test! {
    async fn update_of_the_password_revokes_that_admins_sessions(app) {
        let root = app.setup_admin().await;
        let target = create_and_login(&app, &root.access_token, "pw@example.com", VIEWER).await;
        current_admin(&app, &target.access_token).await.expect("token works before");

        let admin = pb::Admin { id: target.admin_id.clone(), ..Default::default() };
        let mut request = update_request(admin.clone(), &["password"]);
        request.password = "short".into();
        let status = app.admin_auth().update_admin(authorized(request, &root.access_token)).await;
        assert_status(&status.expect_err("weak"), Code::InvalidArgument, "WEAK_PASSWORD");
        current_admin(&app, &target.access_token).await.expect("a refused update revokes nothing");

        let mut request = update_request(admin, &["password"]);
        request.password = "a brand new password".into();
        request.password_confirm = "a brand new password".into();
        app.admin_auth().update_admin(authorized(request, &root.access_token)).await.expect("update");

        let status = current_admin(&app, &target.access_token).await.expect_err("old token");
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
        let refresh = pb::RefreshTokenRequest { refresh_token: target.refresh_token.clone() };
        let status = app.admin_auth().refresh_token(refresh).await.expect_err("old refresh token");
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
        let status = app.login("pw@example.com", PASSWORD).await.expect_err("old password");
        assert_status(&status, Code::Unauthenticated, "INVALID_CREDENTIALS");
        let again = app.login("pw@example.com", "a brand new password").await.expect("new password");
        current_admin(&app, &again.access_token).await.expect("new token works");
        current_admin(&app, &root.access_token).await.expect("the caller is untouched");
    }
}

db_test! {
    async fn disabling_an_admin_revokes_its_sessions_and_blocks_sign_in(app) {
        let root = app.setup_admin().await;
        let target = create_and_login(&app, &root.access_token, "off@example.com", ADMIN).await;
        let admin = pb::Admin { id: target.admin_id.clone(), is_active: false, ..Default::default() };
        let updated = app
            .admin_auth()
            .update_admin(authorized(update_request(admin, &["is_active"]), &root.access_token))
            .await
            .expect("disable")
            .into_inner()
            .admin
            .expect("admin");
        assert!(!updated.is_active);
        let status = current_admin(&app, &target.access_token).await.expect_err("disabled");
        assert!(matches!(status.code(), Code::Unauthenticated | Code::PermissionDenied), "{status:?}");
        let status = app.login("off@example.com", PASSWORD).await.expect_err("disabled sign-in");
        assert_status(&status, Code::PermissionDenied, "ACCOUNT_DISABLED");
    }
}

db_test! {
    async fn a_role_change_applies_to_tokens_already_issued(app) {
        let root = app.setup_admin().await;
        let other = create_and_login(&app, &root.access_token, "demoted@example.com", ADMIN).await;
        let probe = |token: String| {
            let mut client: Client = app.admin_auth();
            let request = authorized(create_request(&format!("{}@example.com", Uuid::new_v4()), VIEWER), &token);
            async move { client.create_admin(request).await }
        };
        probe(other.access_token.clone()).await.expect("a dashboard_admin may create");
        let demote = pb::Admin { id: other.admin_id.clone(), role: VIEWER.into(), ..Default::default() };
        let demoted = app
            .admin_auth()
            .update_admin(authorized(update_request(demote, &["role"]), &root.access_token))
            .await
            .expect("demote")
            .into_inner()
            .admin
            .expect("admin");
        assert_eq!(demoted.role, VIEWER);
        assert!(demoted.scopes.iter().all(|s| s.ends_with(":read")), "{:?}", demoted.scopes);
        let status = probe(other.access_token.clone()).await.expect_err("demoted at once");
        assert_status(&status, Code::PermissionDenied, "SCOPE_MISSING");
        list(&app, &other.access_token, pb::ListAdminsRequest::default()).await;
    }
}

// -------------------------------------------------------------------- LAST_ADMIN

db_test! {
    async fn the_last_dashboard_admin_cannot_be_deleted_demoted_or_disabled(app) {
        let root = app.setup_admin().await;
        let token = &root.access_token;
        // A viewer and a disabled dashboard_admin do not count.
        create(&app, token, "viewer@example.com", VIEWER).await;
        let disabled = create(&app, token, "disabled@example.com", ADMIN).await;
        let off = pb::Admin { id: disabled.id.clone(), is_active: false, ..Default::default() };
        app.admin_auth().update_admin(authorized(update_request(off, &["is_active"]), token)).await.expect("disable");
        let before = get(&app, token, &root.admin_id).await.expect("root");
        let audit_before = count_audit(&app).await;

        for validate_only in [false, true] {
            let delete = pb::DeleteAdminRequest { id: root.admin_id.clone(), validate_only };
            let status = app.admin_auth().delete_admin(authorized(delete, token)).await;
            assert_status(&status.expect_err("delete last"), Code::FailedPrecondition, "LAST_ADMIN");
        }
        let demote = pb::Admin { id: root.admin_id.clone(), role: VIEWER.into(), ..Default::default() };
        let status = app.admin_auth().update_admin(authorized(update_request(demote, &["role"]), token)).await;
        assert_status(&status.expect_err("demote last"), Code::FailedPrecondition, "LAST_ADMIN");
        let disable = pb::Admin { id: root.admin_id.clone(), is_active: false, ..Default::default() };
        let status =
            app.admin_auth().update_admin(authorized(update_request(disable, &["is_active"]), token)).await;
        assert_status(&status.expect_err("disable last"), Code::FailedPrecondition, "LAST_ADMIN");

        let after = get(&app, token, &root.admin_id).await.expect("root still there");
        assert_eq!(after, before, "nothing changed");
        assert_eq!(count_audit(&app).await, audit_before, "no audit rows");
        current_admin(&app, token).await.expect("root's session is untouched");

        // With a second active dashboard_admin, demoting root works.
        let other = pb::Admin { id: disabled.id.clone(), is_active: true, ..Default::default() };
        app.admin_auth().update_admin(authorized(update_request(other, &["is_active"]), token)).await.expect("enable");
        let demote = pb::Admin { id: root.admin_id.clone(), role: VIEWER.into(), ..Default::default() };
        let demoted = app.admin_auth().update_admin(authorized(update_request(demote, &["role"]), token)).await;
        assert_eq!(demoted.expect("demote with another admin left").into_inner().admin.expect("admin").role, VIEWER);
    }
}

db_test! {
    async fn two_admins_deleting_each_other_at_once_leave_one(app) {
        let root = app.setup_admin().await;
        let mut survivor = root;
        let mut last_admin_answers = 0;
        for round in 0..5 {
            let email = format!("pair{round}@example.com");
            let partner = create_and_login(&app, &survivor.access_token, &email, ADMIN).await;
            let (a, b) = (survivor.clone(), partner.clone());
            let delete = |caller: &AdminSession, target: &AdminSession| {
                let mut client: Client = app.admin_auth();
                let request = authorized(
                    pb::DeleteAdminRequest { id: target.admin_id.clone(), validate_only: false },
                    &caller.access_token,
                );
                async move { client.delete_admin(request).await }
            };
            let (a_deletes_b, b_deletes_a) = tokio::join!(delete(&a, &b), delete(&b, &a));
            let (winner, loser, failure) = match (a_deletes_b, b_deletes_a) {
                (Ok(_), Err(status)) => (a, b, status),
                (Err(status), Ok(_)) => (b, a, status),
                (Ok(_), Ok(_)) => panic!("round {round}: both deletes succeeded"),
                (Err(x), Err(y)) => panic!("round {round}: both deletes failed: {x:?} / {y:?}"),
            };
            // The loser's delete ran after the winner's: no admin would be
            // left. (If the loser's call was only authenticated after it had
            // been deleted, it is refused at the door instead.)
            if failure.code() == Code::FailedPrecondition {
                assert_eq!(reason_of(&failure), "LAST_ADMIN", "{failure:?}");
                last_admin_answers += 1;
            } else {
                assert_eq!(failure.code(), Code::Unauthenticated, "round {round}: {failure:?}");
            }
            let remaining = active_dashboard_admins(&app).await;
            assert_eq!(remaining.len(), 1, "round {round}: {remaining:?}");
            assert_eq!(remaining[0].id.to_string(), winner.admin_id);
            let status = get(&app, &winner.access_token, &loser.admin_id).await.expect_err("deleted");
            assert_status(&status, Code::NotFound, "NOT_FOUND");
            survivor = winner;
        }
        eprintln!("mutual deletes answered LAST_ADMIN in {last_admin_answers} of 5 rounds");
        assert!(last_admin_answers > 0, "LAST_ADMIN was never the answer");
        assert_eq!(app.audit_rows("admin.delete").await.len(), 5);
    }
}

db_test! {
    async fn delete_validate_only_reports_and_deletes_nothing(app) {
        let root = app.setup_admin().await;
        let target = create_and_login(&app, &root.access_token, "doomed@example.com", VIEWER).await;
        let second = app.login("doomed@example.com", PASSWORD).await.expect("second session");
        let audit_before = count_audit(&app).await;

        let check = pb::DeleteAdminRequest { id: target.admin_id.clone(), validate_only: true };
        let answer = app.admin_auth().delete_admin(authorized(check, &root.access_token)).await;
        let answer = answer.expect("validate_only").into_inner();
        assert_eq!(answer.deleted_admin_id, target.admin_id);
        assert_eq!(answer.revoked_sessions, 2);
        get(&app, &root.access_token, &target.admin_id).await.expect("still there");
        current_admin(&app, &target.access_token).await.expect("sessions untouched");
        current_admin(&app, &second.access_token).await.expect("sessions untouched");
        assert_eq!(count_audit(&app).await, audit_before, "validate_only writes no audit row");

        let delete = pb::DeleteAdminRequest { id: target.admin_id.clone(), validate_only: false };
        let answer = app.admin_auth().delete_admin(authorized(delete, &root.access_token)).await;
        assert_eq!(answer.expect("delete").into_inner().revoked_sessions, 2);
        let status = get(&app, &root.access_token, &target.admin_id).await.expect_err("gone");
        assert_status(&status, Code::NotFound, "NOT_FOUND");
        let status = current_admin(&app, &target.access_token).await.expect_err("token dead");
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
        let rows = app.audit_rows("admin.delete").await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].target_id.as_deref(), Some(target.admin_id.as_str()));
        let status = app.login("doomed@example.com", PASSWORD).await.expect_err("cannot sign in");
        assert_status(&status, Code::Unauthenticated, "INVALID_CREDENTIALS");
    }
}

db_test! {
    async fn unknown_and_malformed_ids(app) {
        let root = app.setup_admin().await;
        let token = &root.access_token;
        let unknown = Uuid::now_v7().to_string();
        let status = get(&app, token, &unknown).await.expect_err("unknown");
        assert_status(&status, Code::NotFound, "NOT_FOUND");
        for malformed in ["not-a-uuid", "", "1234"] {
            let status = get(&app, token, malformed).await.expect_err("malformed");
            assert_invalid(&status, "id");
        }
        let delete = pb::DeleteAdminRequest { id: unknown.clone(), validate_only: false };
        let status = app.admin_auth().delete_admin(authorized(delete, token)).await;
        assert_status(&status.expect_err("unknown"), Code::NotFound, "NOT_FOUND");
        let delete = pb::DeleteAdminRequest { id: "nope".into(), validate_only: false };
        let status = app.admin_auth().delete_admin(authorized(delete, token)).await;
        assert_invalid(&status.expect_err("malformed"), "id");
        let rename = pb::Admin { id: unknown, name: "X".into(), ..Default::default() };
        let status = app.admin_auth().update_admin(authorized(update_request(rename, &["name"]), token)).await;
        assert_status(&status.expect_err("unknown"), Code::NotFound, "NOT_FOUND");
        let rename = pb::Admin { id: "bad".into(), name: "X".into(), ..Default::default() };
        let status = app.admin_auth().update_admin(authorized(update_request(rename, &["name"]), token)).await;
        assert_invalid(&status.expect_err("malformed"), "admin.id");
        // A credential check comes before any lookup.
        let status = app.admin_auth().get_admin(pb::GetAdminRequest { id: "nope".into() }).await;
        assert_status(&status.expect_err("anonymous"), Code::Unauthenticated, "UNAUTHENTICATED");
    }
}
