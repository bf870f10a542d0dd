//! InviteUser over gRPC: a passwordless user plus a single-use invite token
//! stored only as its digest, delivered by email (outbox) or returned as a
//! link; idempotent on request_id; bad input stores nothing; one audit row
//! per mutation. InitiatePasswordReset lives in `reset`.

mod reset;

use chrono::{DateTime, Utc};
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};
use tonic::{Code, Status, transport::Channel};
use tonic_types::StatusExt;
use uuid::Uuid;
use warden_core::{
    auth::tokens::refresh::lookup_digest,
    entity::{audit_events, outbox_messages, users, verification_tokens},
    scope::{Scope, ScopeSet},
};
use warden_proto::v1::{self as pb, users_service_client::UsersServiceClient};
use warden_tests::{
    TestApp, assert_status, authorized, db_test, invalid_fields, token_in, violations,
};

fn client(app: &TestApp) -> UsersServiceClient<Channel> {
    UsersServiceClient::new(app.channel.clone())
}

async fn invite(
    app: &TestApp,
    key: &str,
    request: pb::InviteUserRequest,
) -> Result<pb::InviteUserResponse, Status> {
    Ok(client(app).invite_user(authorized(request, key)).await?.into_inner())
}

fn invite_request(email: &str, delivery: pb::InviteDelivery) -> pb::InviteUserRequest {
    pb::InviteUserRequest { email: email.into(), delivery: delivery.into(), ..Default::default() }
}

fn time_of(ts: Option<&prost_types::Timestamp>) -> DateTime<Utc> {
    let ts = ts.expect("a timestamp");
    DateTime::from_timestamp(ts.seconds, ts.nanos as u32).expect("valid time")
}

async fn tokens(app: &TestApp) -> Vec<verification_tokens::Model> {
    verification_tokens::Entity::find()
        .order_by_asc(verification_tokens::Column::CreatedAt)
        .all(&app.db)
        .await
        .unwrap()
}

async fn outbox(app: &TestApp) -> Vec<outbox_messages::Model> {
    outbox_messages::Entity::find()
        .order_by_asc(outbox_messages::Column::CreatedAt)
        .all(&app.db)
        .await
        .unwrap()
}

async fn count_users(app: &TestApp) -> u64 {
    users::Entity::find().count(&app.db).await.unwrap()
}

/// Asserts a raw token appears in no stored token row and no audit row.
async fn assert_not_stored(app: &TestApp, token: &str) {
    for row in tokens(app).await {
        assert_ne!(row.token_digest, token.as_bytes());
        assert!(!format!("{row:?}").contains(token));
    }
    for row in app.all_audit_rows().await {
        let text = format!("{row:?} {}", row.metadata);
        assert!(!text.contains(token), "the token leaked into the audit trail: {text}");
    }
}

/// Exactly one audit row exists, with this action; returns it.
async fn only_audit_row(app: &TestApp, action: &str) -> audit_events::Model {
    let rows = app.all_audit_rows().await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].action, action);
    rows[0].clone()
}

db_test! {
    async fn return_link_creates_a_passwordless_user_and_stores_only_the_digest(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let mut request = invite_request("Jane.Doe@Example.com", pb::InviteDelivery::ReturnLink);
        request.roles = vec!["viewer".into(), "editor".into()];
        request.base_url = "https://app.example.com/accept?lang=en".into();
        request.expires_in = 3600;
        request.given_name = "Jane".into();
        request.family_name = "Doe".into();
        let response = invite(&app, &key, request).await.unwrap();

        let user = response.user.expect("user");
        assert_eq!(user.email, "Jane.Doe@Example.com");
        assert_eq!(user.roles, ["editor", "viewer"]);
        assert_eq!((user.given_name.as_str(), user.family_name.as_str()), ("Jane", "Doe"));
        assert!(!user.has_password, "an invited user has no password yet");
        assert!(!user.email_verified);
        assert!(user.is_active);

        let link = response.invitation_link;
        assert!(link.starts_with("https://app.example.com/accept?lang=en&token="), "{link}");
        let token = token_in(&link);
        let stored = tokens(&app).await;
        assert_eq!(stored.len(), 1);
        let row = &stored[0];
        assert_eq!(row.purpose, "user_invite");
        assert_eq!(row.principal_type, "user");
        assert_eq!(row.principal_id.to_string(), user.id);
        assert_eq!(row.token_digest, lookup_digest(&token));
        assert_eq!(row.consumed_at, None);
        assert_eq!(row.expires_at, time_of(response.expires_at.as_ref()));
        assert_eq!((row.expires_at - row.created_at).num_seconds(), 3600);
        assert_not_stored(&app, &token).await;

        let stored_user = users::Entity::find_by_id(row.principal_id).one(&app.db).await.unwrap();
        assert_eq!(stored_user.expect("stored").password_hash, None);
        assert!(outbox(&app).await.is_empty(), "RETURN_LINK sends nothing");
        let audit = only_audit_row(&app, "user.invite").await;
        assert_eq!(audit.target_id.as_deref(), Some(user.id.as_str()));
        assert_eq!(audit.metadata["delivery"], "return_link");
    }
}

db_test! {
    async fn send_email_writes_one_outbox_row_and_returns_no_link(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let response =
            invite(&app, &key, invite_request("sam@example.com", pb::InviteDelivery::Unspecified))
                .await
                .unwrap();
        assert_eq!(response.invitation_link, "", "the link only travels by email");
        let expires_at = time_of(response.expires_at.as_ref());

        let messages = outbox(&app).await;
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert_eq!(messages[0].recipient, "sam@example.com");
        assert_eq!(messages[0].channel, "email");
        assert!(messages[0].body_text.is_empty(), "the outbox holds no link");
        let body = &app.mail_to("sam@example.com", 1).await[0];
        assert!(body.contains("http://localhost:3000/invite?token="), "the default base URL: {body}");
        let token = token_in(body);
        let stored = tokens(&app).await;
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].token_digest, lookup_digest(&token));
        // The default lifetime: seven days.
        assert_eq!((stored[0].expires_at - stored[0].created_at).num_days(), 7);
        assert_eq!(stored[0].expires_at, expires_at);
        assert_not_stored(&app, &token).await;
        let audit = only_audit_row(&app, "user.invite").await;
        assert_eq!(audit.metadata["delivery"], "send_email");
    }
}

db_test! {
    async fn an_existing_email_is_email_exists(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let first = invite_request("dup@example.com", pb::InviteDelivery::ReturnLink);
        invite(&app, &key, first).await.unwrap();
        let again = invite_request("DUP@Example.COM", pb::InviteDelivery::SendEmail);
        let status = invite(&app, &key, again).await.unwrap_err();
        assert_status(&status, Code::AlreadyExists, "EMAIL_EXISTS");
        assert_eq!(count_users(&app).await, 1);
        assert_eq!(tokens(&app).await.len(), 1, "no token for the refused invite");
        assert!(outbox(&app).await.is_empty());
        only_audit_row(&app, "user.invite").await;
    }
}

db_test! {
    async fn invalid_input_lists_every_violation_and_stores_nothing(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let mut request = invite_request("not-an-email", pb::InviteDelivery::SendEmail);
        request.base_url = "http://evil.example.com/accept".into();
        request.expires_in = 10;
        request.roles = vec!["Bad Role".into()];
        request.request_id = "not-a-uuid".into();
        let status = invite(&app, &key, request).await.unwrap_err();
        let mut fields = invalid_fields(&status);
        fields.sort();
        assert_eq!(fields, ["base_url", "email", "expires_in", "request_id", "roles[0]"]);

        let cases: [(&str, i64, &str); 5] = [
            ("https://app.example.com/#fragment", 0, "base_url"),
            ("ftp://app.example.com/", 0, "base_url"),
            ("https://user:pw@app.example.com/", 0, "base_url"),
            ("", 2_592_001, "expires_in"),
            ("", -1, "expires_in"),
        ];
        for (base_url, expires_in, field) in cases {
            let mut request = invite_request("ok@example.com", pb::InviteDelivery::ReturnLink);
            request.base_url = base_url.into();
            request.expires_in = expires_in;
            let status = invite(&app, &key, request).await.unwrap_err();
            assert_status(&status, Code::InvalidArgument, "VALIDATION_FAILED");
            assert_eq!(violations(&status), [field], "{base_url} {expires_in}");
        }
        let mut unknown = invite_request("ok@example.com", pb::InviteDelivery::ReturnLink);
        unknown.delivery = 99;
        let status = invite(&app, &key, unknown).await.unwrap_err();
        assert_eq!(violations(&status), ["delivery"]);

        assert_eq!(count_users(&app).await, 0);
        assert!(tokens(&app).await.is_empty());
        assert!(outbox(&app).await.is_empty());
        assert!(app.all_audit_rows().await.is_empty());
    }
}

db_test! {
    async fn bounds_of_expires_in_are_accepted(app) {
        let key = app.api_key(ScopeSet::all()).await;
        for (i, seconds) in [300, 2_592_000].into_iter().enumerate() {
            let mut request =
                invite_request(&format!("edge{i}@example.com"), pb::InviteDelivery::ReturnLink);
            request.expires_in = seconds;
            invite(&app, &key, request).await.unwrap();
        }
        let lifetimes: Vec<i64> = tokens(&app)
            .await
            .iter()
            .map(|t| (t.expires_at - t.created_at).num_seconds())
            .collect();
        assert_eq!(lifetimes, [300, 2_592_000]);
    }
}

db_test! {
    async fn a_retry_with_the_same_request_id_returns_the_first_user_without_a_new_token(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let mut request = invite_request("retry@example.com", pb::InviteDelivery::ReturnLink);
        request.request_id = Uuid::now_v7().to_string();
        let first = invite(&app, &key, request.clone()).await.unwrap();
        let second = invite(&app, &key, request.clone()).await.unwrap();
        assert_eq!(second.user.as_ref().unwrap().id, first.user.as_ref().unwrap().id);
        assert_eq!(second.expires_at, first.expires_at);
        assert!(!first.invitation_link.is_empty());
        assert_eq!(second.invitation_link, "", "the raw token is never shown twice");

        assert_eq!(count_users(&app).await, 1);
        assert_eq!(tokens(&app).await.len(), 1, "no second token");
        only_audit_row(&app, "user.invite").await;

        // The same id with a different request is refused.
        request.given_name = "Other".into();
        let status = invite(&app, &key, request).await.unwrap_err();
        warden_tests::assert_request_id_taken(&status);
    }
}

db_test! {
    async fn concurrent_retries_with_one_request_id_make_one_user(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let mut request = invite_request("race@example.com", pb::InviteDelivery::SendEmail);
        request.request_id = Uuid::now_v7().to_string();
        let calls = (0..8).map(|_| invite(&app, &key, request.clone()));
        let answers = futures_util::future::join_all(calls).await;
        let ids: Vec<String> =
            answers.into_iter().map(|answer| answer.unwrap().user.unwrap().id).collect();
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
        assert_eq!(count_users(&app).await, 1);
        assert_eq!(tokens(&app).await.len(), 1);
        assert_eq!(outbox(&app).await.len(), 1, "one email");
        only_audit_row(&app, "user.invite").await;
    }
}

db_test! {
    async fn inviting_needs_users_write(app) {
        let reader = app.api_key([Scope::UsersRead].into_iter().collect()).await;
        let request = invite_request("nope@example.com", pb::InviteDelivery::ReturnLink);
        let status = invite(&app, &reader, request).await.unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied);
        assert_eq!(count_users(&app).await, 0);
    }
}
