//! Racing refreshes of one token: exactly one wins; every other call gets
//! the documented answer (reuse: TOKEN_REVOKED, and the family dies) or a
//! retryable ABORTED, never INTERNAL. Concurrent writers wait for each other
//! instead of failing.

use futures_util::future::join_all;
use warden_core::scope::ScopeSet;
use warden_proto::v1::{
    self as pb, create_session_response::Result as Signed,
    sessions_service_client::SessionsServiceClient, users_service_client::UsersServiceClient,
};
use warden_tests::{authorized, db_test};

use super::*;

const RACERS: usize = 20;

/// Exactly one success; the losers answered as documented.
fn assert_one_winner<T: std::fmt::Debug>(results: &[Result<T, Status>]) -> usize {
    let winners: Vec<usize> =
        results.iter().enumerate().filter(|(_, r)| r.is_ok()).map(|(i, _)| i).collect();
    assert_eq!(winners.len(), 1, "exactly one refresh wins: {results:?}");
    let mut reuse = 0;
    for result in results {
        if let Err(status) = result {
            match (status.code(), reason_of(status).as_str()) {
                (Code::Unauthenticated, "TOKEN_REVOKED") => reuse += 1,
                (Code::Aborted, "CONCURRENT_MODIFICATION") => {
                    assert!(status.get_error_details().retry_info().is_some(), "{status:?}");
                }
                other => panic!("a loser got {other:?}: {status:?}"),
            }
        }
    }
    assert!(reuse > 0, "some loser saw the reuse");
    winners[0]
}

db_test! {
    async fn racing_admin_refreshes_have_one_winner(app) {
        let session = app.setup_admin().await;
        let calls = (0..RACERS).map(|_| {
            let mut client = app.admin_auth();
            let request = pb::RefreshTokenRequest { refresh_token: session.refresh_token.clone() };
            async move { client.refresh_token(request).await.map(|r| r.into_inner()) }
        });
        let results = join_all(calls).await;
        let winner = assert_one_winner(&results);
        // Reuse was detected, so the winner's new token died with the family.
        let next = results[winner].as_ref().unwrap().refresh_token.clone();
        let err = app.admin_auth().refresh_token(pb::RefreshTokenRequest { refresh_token: next }).await.unwrap_err();
        assert_status(&err, Code::Unauthenticated, "TOKEN_REVOKED");
    }
}

db_test! {
    async fn racing_user_refreshes_have_one_winner(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let create = pb::CreateUserRequest {
            email: "racer@example.com".into(),
            password_source: Some(pb::create_user_request::PasswordSource::Password("tidal flats at dusk".into())),
            ..Default::default()
        };
        UsersServiceClient::new(app.channel.clone()).create_user(authorized(create, &key)).await.unwrap();
        let mut sessions = SessionsServiceClient::new(app.channel.clone());
        let signed = sessions
            .create_session(pb::CreateSessionRequest {
                identifier: "racer@example.com".into(),
                password: "tidal flats at dusk".into(),
                ..Default::default()
            })
            .await.unwrap().into_inner();
        let Some(Signed::Tokens(tokens)) = signed.result else { panic!("tokens") };
        let calls = (0..RACERS).map(|_| {
            let mut client = sessions.clone();
            let request = pb::RefreshSessionRequest { refresh_token: tokens.refresh_token.clone(), client: None };
            async move { client.refresh_session(request).await.map(|r| r.into_inner()) }
        });
        let results = join_all(calls).await;
        assert_one_winner(&results);
        assert!(!app.audit_rows("user.refresh_token_reuse").await.is_empty());
    }
}

db_test! {
    async fn concurrent_writers_all_succeed(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let mut users = UsersServiceClient::new(app.channel.clone());
        let calls = (0..30).map(|n| {
            let mut client = users.clone();
            let create = pb::CreateUserRequest {
                email: format!("writer{n}@example.com"),
                password_source: Some(pb::create_user_request::PasswordSource::GeneratePassword(true)),
                ..Default::default()
            };
            let request = authorized(create, &key);
            async move { client.create_user(request).await }
        });
        for result in join_all(calls).await {
            result.expect("a writer waits for the lock instead of failing");
        }
        let listed = users
            .list_users(authorized(pb::ListUsersRequest { include_total: true, ..Default::default() }, &key))
            .await.unwrap().into_inner();
        assert_eq!(listed.total_size, 30);
    }
}
