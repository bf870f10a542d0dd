//! InitiatePasswordReset over gRPC: a single-use code stored as its digest,
//! mailed (outbox) or returned; SMS refused (no transport); bounds checked;
//! sessions revoked on request; one audit row per reset, never the code.

use chrono::Duration;
use sea_orm::{ColumnTrait, QueryFilter};
use warden_core::{
    auth::sessions,
    context::CallInfo,
    entity::sessions as session_rows,
    users::fields::{self, NewUser, UserFields},
};

use super::*;

/// A user stored directly (no RPC needed), optionally with a phone.
async fn seed_user(app: &TestApp, email: &str, phone: Option<(&str, bool)>) -> Uuid {
    let input = UserFields {
        email: email.into(),
        phone: phone.map(|(p, _)| p.to_owned()).unwrap_or_default(),
        phone_verified: phone.is_some_and(|(_, verified)| verified),
        ..Default::default()
    };
    let valid = NewUser::parse("", &input, 16 * 1024).expect("valid user");
    fields::seed(&app.db, &valid, Utc::now()).await.unwrap().id
}

async fn reset(
    app: &TestApp,
    key: &str,
    request: pb::InitiatePasswordResetRequest,
) -> Result<pb::InitiatePasswordResetResponse, Status> {
    Ok(client(app).initiate_password_reset(authorized(request, key)).await?.into_inner())
}

fn reset_request(
    id: Uuid,
    delivery: pb::PasswordResetDelivery,
) -> pb::InitiatePasswordResetRequest {
    pb::InitiatePasswordResetRequest {
        id: id.to_string(),
        delivery: delivery.into(),
        ..Default::default()
    }
}

/// Nothing was written: no token, message or audit row.
async fn assert_nothing_stored(app: &TestApp) {
    assert!(tokens(app).await.is_empty());
    assert!(outbox(app).await.is_empty());
    assert!(app.all_audit_rows().await.is_empty());
}

db_test! {
    async fn return_answers_with_code_and_link_and_stores_only_the_digest(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let id = seed_user(&app, "jane.doe@example.com", None).await;
        let mut request = reset_request(id, pb::PasswordResetDelivery::Return);
        request.base_url = "https://app.example.com/reset".into();
        request.code_expires_in = 900;
        request.reason = "support ticket 42".into();
        let response = reset(&app, &key, request).await.unwrap();

        assert_eq!(response.delivery_medium(), pb::PasswordResetDelivery::Return);
        assert_eq!(response.destination, "", "nothing was sent anywhere");
        assert_eq!(response.expires_in, 900);
        assert_eq!(response.sessions_revoked, 0);
        assert!(response.code.len() >= 43, "a 256-bit code: {:?}", response.code);
        assert_eq!(response.reset_link, format!("https://app.example.com/reset?token={}", response.code));

        let stored = tokens(&app).await;
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].purpose, "user_password_reset");
        assert_eq!(stored[0].principal_type, "user");
        assert_eq!(stored[0].principal_id, id);
        assert_eq!(stored[0].token_digest, lookup_digest(&response.code));
        assert_eq!((stored[0].expires_at - stored[0].created_at).num_seconds(), 900);
        assert_not_stored(&app, &response.code).await;
        assert!(outbox(&app).await.is_empty(), "RETURN sends nothing");

        let audit = only_audit_row(&app, "user.password_reset_initiated").await;
        assert_eq!(audit.target_id, Some(id.to_string()));
        assert_eq!(audit.metadata["reason"], "support ticket 42");
        assert_eq!(audit.metadata["delivery"], "return");
    }
}

db_test! {
    async fn email_mails_the_link_and_masks_the_destination(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let id = seed_user(&app, "jane.doe@example.com", None).await;
        let response =
            reset(&app, &key, reset_request(id, pb::PasswordResetDelivery::Unspecified)).await.unwrap();
        assert_eq!(response.destination, "j***@example.com");
        assert_eq!(response.delivery_medium(), pb::PasswordResetDelivery::Email);
        assert_eq!(response.expires_in, 3600, "the default lifetime");
        assert_eq!((response.code.as_str(), response.reset_link.as_str()), ("", ""));

        let messages = outbox(&app).await;
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert_eq!(messages[0].recipient, "jane.doe@example.com");
        assert!(messages[0].body_text.is_empty(), "the outbox holds no link");
        let body = &app.mail_to("jane.doe@example.com", 1).await[0];
        assert!(body.contains("http://localhost:3000/reset-password?token="), "{body}");
        let token = token_in(body);
        let stored = tokens(&app).await;
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].token_digest, lookup_digest(&token));
        assert_not_stored(&app, &token).await;
        only_audit_row(&app, "user.password_reset_initiated").await;
    }
}

db_test! {
    async fn sms_is_refused_without_faking_a_send(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let no_phone = seed_user(&app, "nophone@example.com", None).await;
        let unverified = seed_user(&app, "unverified@example.com", Some(("+14155550100", false))).await;
        let verified = seed_user(&app, "verified@example.com", Some(("+14155550123", true))).await;

        for id in [no_phone, unverified] {
            let status =
                reset(&app, &key, reset_request(id, pb::PasswordResetDelivery::Sms)).await.unwrap_err();
            assert_status(&status, Code::FailedPrecondition, "DELIVERY_UNAVAILABLE");
            let details = status.get_error_details();
            let found = &details.bad_request().expect("field violations").field_violations;
            assert!(found.iter().all(|v| v.field == "delivery"), "{found:?}");
            assert!(found.iter().any(|v| v.description.contains("no verified phone")), "{found:?}");
        }

        // A verified phone still cannot be texted: no SMS transport exists.
        let status =
            reset(&app, &key, reset_request(verified, pb::PasswordResetDelivery::Sms)).await.unwrap_err();
        assert_status(&status, Code::FailedPrecondition, "DELIVERY_UNAVAILABLE");
        let details = status.get_error_details();
        let found = &details.bad_request().expect("field violations").field_violations;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].field, "delivery");
        assert!(found[0].description.contains("not configured"), "{found:?}");
        assert!(found[0].description.contains("+1******0123"), "masked: {found:?}");
        assert_nothing_stored(&app).await;
    }
}

db_test! {
    async fn out_of_range_lifetime_and_long_reason_are_invalid(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let id = seed_user(&app, "bounds@example.com", None).await;
        for (seconds, reason, expected) in [
            (299, String::new(), vec!["code_expires_in"]),
            (86_401, String::new(), vec!["code_expires_in"]),
            (-5, String::new(), vec!["code_expires_in"]),
            (3600, "r".repeat(501), vec!["reason"]),
            (1, "é".repeat(501), vec!["code_expires_in", "reason"]),
        ] {
            let mut request = reset_request(id, pb::PasswordResetDelivery::Return);
            request.code_expires_in = seconds;
            request.reason = reason;
            let status = reset(&app, &key, request).await.unwrap_err();
            assert_status(&status, Code::InvalidArgument, "VALIDATION_FAILED");
            assert_eq!(violations(&status), expected, "{seconds}");
        }
        let mut bad_url = reset_request(id, pb::PasswordResetDelivery::Return);
        bad_url.base_url = "not a url".into();
        let status = reset(&app, &key, bad_url).await.unwrap_err();
        assert_eq!(violations(&status), ["base_url"]);
        let mut bad_id = reset_request(id, pb::PasswordResetDelivery::Return);
        bad_id.id = "42".into();
        let status = reset(&app, &key, bad_id).await.unwrap_err();
        assert_eq!(violations(&status), ["id"]);
        assert_nothing_stored(&app).await;

        // The bounds themselves, and 500 characters (not bytes), are fine.
        for (seconds, reason) in [(300, "é".repeat(500)), (86_400, String::new())] {
            let mut request = reset_request(id, pb::PasswordResetDelivery::Return);
            request.code_expires_in = seconds;
            request.reason = reason;
            assert_eq!(reset(&app, &key, request).await.unwrap().expires_in, seconds);
        }
        assert_eq!(app.audit_rows("user.password_reset_initiated").await.len(), 2);
    }
}

db_test! {
    async fn revoke_sessions_revokes_only_the_users_live_sessions(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let id = seed_user(&app, "sessions@example.com", None).await;
        let other = seed_user(&app, "other@example.com", None).await;
        let now = Utc::now();
        let call = CallInfo::default();
        for _ in 0..3 {
            sessions::open(&app.db, sessions::USER, id, &call, now, Duration::hours(1)).await.unwrap();
        }
        // Already over: not counted.
        sessions::open(&app.db, sessions::USER, id, &call, now - Duration::hours(2), Duration::hours(1))
            .await
            .unwrap();
        sessions::open(&app.db, sessions::USER, other, &call, now, Duration::hours(1)).await.unwrap();

        let mut request = reset_request(id, pb::PasswordResetDelivery::Return);
        request.revoke_sessions = true;
        let response = reset(&app, &key, request).await.unwrap();
        assert_eq!(response.sessions_revoked, 3);

        let revoked = |principal: Uuid| {
            let db = app.db.clone();
            async move {
                session_rows::Entity::find()
                    .filter(session_rows::Column::PrincipalId.eq(principal))
                    .filter(session_rows::Column::RevokedAt.is_not_null())
                    .count(&db)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(revoked(id).await, 3);
        assert_eq!(revoked(other).await, 0, "another user's session is untouched");
        let audit = only_audit_row(&app, "user.password_reset_initiated").await;
        assert_eq!(audit.metadata["sessions_revoked"], 3);

        // Without the flag nothing is revoked.
        let again = reset(&app, &key, reset_request(other, pb::PasswordResetDelivery::Return)).await;
        assert_eq!(again.unwrap().sessions_revoked, 0);
        assert_eq!(revoked(other).await, 0);
    }
}

db_test! {
    async fn an_unknown_user_is_not_found(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let request = reset_request(Uuid::now_v7(), pb::PasswordResetDelivery::Return);
        let status = reset(&app, &key, request).await.unwrap_err();
        assert_status(&status, Code::NotFound, "NOT_FOUND");
        assert_nothing_stored(&app).await;
    }
}
