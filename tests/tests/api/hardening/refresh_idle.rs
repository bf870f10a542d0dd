//! A session dies when unused for `refresh_idle_seconds`, and at its absolute
//! lifetime however busy it is; admins and end users alike.

use std::sync::Arc;

use chrono::{Duration, Utc};
use warden_core::{clock::ManualClock, scope::ScopeSet};
use warden_proto::v1::{
    self as pb, create_session_response::Result as Signed,
    sessions_service_client::SessionsServiceClient, users_service_client::UsersServiceClient,
};
use warden_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, authorized, backend_test};

use super::*;

const PASSWORD: &str = "copper kettle by the stove";

async fn refresh_admin(app: &TestApp, token: &str) -> Result<String, Status> {
    let request = pb::RefreshTokenRequest { refresh_token: token.into() };
    Ok(app.admin_auth().refresh_token(request).await?.into_inner().refresh_token)
}

async fn refresh_user(app: &TestApp, token: &str) -> Result<String, Status> {
    let request = pb::RefreshSessionRequest { refresh_token: token.into(), client: None };
    let mut client = SessionsServiceClient::new(app.channel.clone());
    Ok(client.refresh_session(request).await?.into_inner().refresh_token)
}

async fn sign_in_user(app: &TestApp) -> String {
    let mut client = SessionsServiceClient::new(app.channel.clone());
    let request = pb::CreateSessionRequest {
        identifier: "idle@example.com".into(),
        password: PASSWORD.into(),
        ..Default::default()
    };
    match client.create_session(request).await.unwrap().into_inner().result {
        Some(Signed::Tokens(tokens)) => tokens.refresh_token,
        other => panic!("tokens expected: {other:?}"),
    }
}

backend_test! {
    async fn idle_and_absolute_session_lifetimes_hold(backend) {
        let clock = ManualClock::new(Utc::now());
        let Some(app) = TestApp::spawn_with_clock(backend, Arc::new(clock.clone()), |config| {
            config.auth.tokens.refresh_idle_seconds = 3600;
            config.auth.tokens.refresh_ttl_seconds = 4 * 3600;
        })
        .await
        else {
            return;
        };
        app.setup_admin().await;
        let key = app.api_key(ScopeSet::all()).await;
        let create = pb::CreateUserRequest {
            email: "idle@example.com".into(),
            password_source: Some(pb::create_user_request::PasswordSource::Password(PASSWORD.into())),
            ..Default::default()
        };
        UsersServiceClient::new(app.channel.clone()).create_user(authorized(create, &key)).await.unwrap();

        // Idle: a session not refreshed for an hour is dead.
        let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.unwrap().refresh_token;
        let user = sign_in_user(&app).await;
        clock.advance(Duration::minutes(61));
        assert_status(&refresh_admin(&app, &admin).await.unwrap_err(), Code::Unauthenticated, "TOKEN_EXPIRED");
        assert_status(&refresh_user(&app, &user).await.unwrap_err(), Code::Unauthenticated, "TOKEN_EXPIRED");

        // Busy: refreshed every 50 minutes it lives, but only to its absolute end.
        let mut admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.unwrap().refresh_token;
        let mut user = sign_in_user(&app).await;
        for _ in 0..4 {
            clock.advance(Duration::minutes(50));
            admin = refresh_admin(&app, &admin).await.expect("an active admin session lives on");
            user = refresh_user(&app, &user).await.expect("an active user session lives on");
        }
        clock.advance(Duration::minutes(50)); // 250 minutes: past the 4-hour lifetime
        assert_status(&refresh_admin(&app, &admin).await.unwrap_err(), Code::Unauthenticated, "TOKEN_EXPIRED");
        assert_status(&refresh_user(&app, &user).await.unwrap_err(), Code::Unauthenticated, "TOKEN_EXPIRED");
    }
}
