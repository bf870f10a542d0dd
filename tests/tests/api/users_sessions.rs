//! An end user's tokens as other services see them: RefreshSession rotates
//! (reuse revokes the family), VerifyToken reports validity, and disabling
//! the user makes the very next verify and refresh fail.

use pb::create_session_response::Result as Signed;
use tonic::{Code, transport::Channel};
use warden_core::scope::ScopeSet;
use warden_proto::v1::{
    self as pb, sessions_service_client::SessionsServiceClient,
    users_service_client::UsersServiceClient,
};
use warden_tests::{TestApp, assert_status, authorized, db_test};

const PASSWORD: &str = "a perfectly fine password";

struct SignedInUser {
    user_id: String,
    tokens: pb::SessionTokens,
}

async fn signed_in_user(app: &TestApp, key: &str) -> SignedInUser {
    let mut users = UsersServiceClient::new(app.channel.clone());
    let request = pb::CreateUserRequest {
        email: "enduser@example.com".into(),
        password_source: Some(pb::create_user_request::PasswordSource::Password(PASSWORD.into())),
        roles: vec!["member".into()],
        ..Default::default()
    };
    let user =
        users.create_user(authorized(request, key)).await.unwrap().into_inner().user.unwrap();
    let tokens = sessions(app)
        .create_session(pb::CreateSessionRequest {
            identifier: "enduser@example.com".into(),
            password: PASSWORD.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let Some(Signed::Tokens(tokens)) = tokens.result else { panic!("tokens expected") };
    SignedInUser { user_id: user.id, tokens }
}

fn sessions(app: &TestApp) -> SessionsServiceClient<Channel> {
    SessionsServiceClient::new(app.channel.clone())
}

async fn verify(app: &TestApp, key: &str, token: &str) -> pb::VerifyTokenResponse {
    let request = authorized(pb::VerifyTokenRequest { token: token.into() }, key);
    sessions(app).verify_token(request).await.unwrap().into_inner()
}

async fn refresh(app: &TestApp, token: &str) -> Result<pb::RefreshSessionResponse, tonic::Status> {
    let request = pb::RefreshSessionRequest { refresh_token: token.into(), client: None };
    Ok(sessions(app).refresh_session(request).await?.into_inner())
}

db_test! {
    async fn verify_and_refresh_follow_the_session(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let signed = signed_in_user(&app, &key).await;
        let answer = verify(&app, &key, &signed.tokens.access_token).await;
        assert!(answer.valid, "{answer:?}");
        assert_eq!((answer.user_id.as_str(), answer.roles.as_slice()), (signed.user_id.as_str(), &["member".to_owned()][..]));
        assert_eq!(answer.session_id, signed.tokens.session_id);
        assert!(answer.claims.is_some() && answer.expires_at.is_some());

        let garbage = verify(&app, &key, "not-a-token").await;
        assert_eq!((garbage.valid, garbage.reason()), (false, pb::ErrorReason::TokenInvalid));
        let err = sessions(&app)
            .verify_token(authorized(pb::VerifyTokenRequest::default(), &key))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);

        let next = refresh(&app, &signed.tokens.refresh_token).await.unwrap();
        assert_ne!(next.refresh_token, signed.tokens.refresh_token);
        assert!(verify(&app, &key, &next.access_token).await.valid);
        // The spent token again: the whole family is revoked.
        let err = refresh(&app, &signed.tokens.refresh_token).await.unwrap_err();
        assert_status(&err, Code::Unauthenticated, "TOKEN_REVOKED");
        assert!(refresh(&app, &next.refresh_token).await.is_err());
        let answer = verify(&app, &key, &next.access_token).await;
        assert_eq!((answer.valid, answer.reason()), (false, pb::ErrorReason::TokenRevoked));
        assert_eq!(app.audit_rows("user.refresh_token_reuse").await.len(), 1);
    }
}

db_test! {
    async fn disabling_a_user_kills_every_token_at_once(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let signed = signed_in_user(&app, &key).await;
        assert!(verify(&app, &key, &signed.tokens.access_token).await.valid);
        let mut users = UsersServiceClient::new(app.channel.clone());
        let disable = pb::DisableUserRequest { id: signed.user_id.clone(), reason: "fraud".into(), until: None };
        let answer = users.disable_user(authorized(disable, &key)).await.unwrap().into_inner();
        assert_eq!(answer.revoked_sessions, 1);

        let verified = verify(&app, &key, &signed.tokens.access_token).await;
        assert!(!verified.valid);
        assert!(matches!(verified.reason(), pb::ErrorReason::TokenRevoked | pb::ErrorReason::AccountDisabled));
        let err = refresh(&app, &signed.tokens.refresh_token).await.unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated);
    }
}
