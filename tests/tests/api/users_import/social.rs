//! ImportSocialUser: the email counts as verified, user and identity come
//! in one transaction, a provider account links once, a password makes a
//! hybrid account that signs in with it, request_id retries answer the same.

use tonic::Code;
use warden_tests::{db_test, reason_of};

use super::*;

fn social(email: &str, subject: &str) -> pb::ImportSocialUserRequest {
    let mut profile = prost_types::Struct::default();
    profile.fields.insert(
        "locale".into(),
        prost_types::Value { kind: Some(prost_types::value::Kind::StringValue("en-GB".into())) },
    );
    pb::ImportSocialUserRequest {
        email: email.into(),
        provider: "google".into(),
        provider_user_id: subject.into(),
        provider_email: email.into(),
        social_metadata: Some(profile),
        given_name: "Sam".into(),
        ..Default::default()
    }
}

db_test! {
    async fn social_import_verifies_the_email_and_links_once(app) {
        let mut caller = Caller::new(&app).await;
        let imported = caller.social(social("sam@example.com", "g-100")).await.unwrap();
        let user = imported.user.unwrap();
        let account = imported.social_account.unwrap();
        assert!(user.email_verified, "the provider vouched for the email");
        assert!(user.has_social_auth && !user.has_password);
        assert_eq!(user.social_providers, ["google"]);
        assert_eq!((account.provider.as_str(), account.provider_user_id.as_str()), ("google", "g-100"));
        assert_eq!((account.user_id.as_str(), account.provider_email.as_str()), (user.id.as_str(), "sam@example.com"));
        assert_eq!(
            account.social_metadata.unwrap().fields["locale"].kind,
            Some(prost_types::value::Kind::StringValue("en-GB".into()))
        );
        let audit = app.audit_rows("user.import_social").await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].target_id.as_deref(), Some(user.id.as_str()));

        // The same provider account again, even for another email.
        let err = caller.social(social("someone.else@example.com", "g-100")).await.unwrap_err();
        assert_status(&err, Code::AlreadyExists, "SOCIAL_ACCOUNT_EXISTS");
        let mut other_provider = social("sam@example.com", "g-100");
        other_provider.provider = "apple".into();
        let err = caller.social(other_provider).await.unwrap_err();
        assert_eq!(reason_of(&err), "EMAIL_EXISTS");
        assert_eq!(user_count(&app).await, 1);
        assert_eq!(app.audit_rows("user.import_social").await.len(), 1, "failures write no audit row");
        // A social-only user cannot sign in with a password.
        let err = caller.sign_in("sam@example.com", PASSWORD).await.unwrap_err();
        assert_eq!(reason_of(&err), "INVALID_CREDENTIALS");
    }
}

db_test! {
    async fn a_hybrid_account_signs_in_with_its_password(app) {
        let mut caller = Caller::new(&app).await;
        let mut request = social("hybrid@example.com", "g-200");
        request.password = PASSWORD.into();
        request.request_id = uuid::Uuid::now_v7().to_string();
        let first = caller.social(request.clone()).await.unwrap();
        let retried = caller.social(request).await.unwrap();
        assert_eq!(first.user.as_ref().unwrap().id, retried.user.as_ref().unwrap().id, "request_id retry");
        assert_eq!(first.social_account.unwrap().id, retried.social_account.unwrap().id);
        assert_eq!(user_count(&app).await, 1);
        assert!(first.user.unwrap().has_password);

        let tokens = caller.tokens("hybrid@example.com", PASSWORD).await;
        assert_eq!(tokens.user_id, retried.user.unwrap().id);
        assert!(caller.get("hybrid@example.com").await.last_login_at.is_some());
    }
}

db_test! {
    async fn bad_social_imports_store_nothing(app) {
        let mut caller = Caller::new(&app).await;
        let mut bad = social("not-an-email", " ");
        bad.provider = "Not A Provider".into();
        let err = caller.social(bad).await.unwrap_err();
        assert_status(&err, Code::InvalidArgument, "VALIDATION_FAILED");
        use tonic_types::StatusExt;
        let fields: Vec<String> = err
            .get_error_details()
            .bad_request()
            .unwrap()
            .field_violations
            .iter()
            .map(|v| v.field.clone())
            .collect();
        assert_eq!(fields, ["email", "provider", "provider_user_id"]);

        let mut weak = social("weak@example.com", "g-300");
        weak.password = "short".into();
        let err = caller.social(weak).await.unwrap_err();
        assert_eq!(reason_of(&err), "WEAK_PASSWORD");

        let mut bad_id = social("id@example.com", "g-400");
        bad_id.request_id = "not-a-uuid".into();
        assert_eq!(reason_of(&caller.social(bad_id).await.unwrap_err()), "VALIDATION_FAILED");
        assert_eq!(user_count(&app).await, 0);
        assert!(app.all_audit_rows().await.iter().all(|r| r.action != "user.import_social"));
    }
}
