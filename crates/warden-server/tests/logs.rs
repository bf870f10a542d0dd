//! Log levels of answered calls: ERROR is for the server's own faults
//! (INTERNAL, UNKNOWN, DATA_LOSS). A wrong password, NOT_FOUND, an
//! unimplemented method and a call the client cancelled are answers, logged
//! at INFO or below.

#![allow(clippy::unwrap_used)]

#[allow(unused_imports)]
mod support;

use std::time::Duration;

use support::Warden;
use warden_core::scope::ScopeSet;
use warden_proto::v1::{self as pb, users_service_client::UsersServiceClient};

#[tokio::test]
async fn expected_answers_and_cancelled_calls_are_not_logged_as_errors() {
    let dir = tempfile::tempdir().unwrap();
    let warden =
        Warden::spawn(dir.path(), &["serve", "--listen", "127.0.0.1:0"], &[("RUST_LOG", "info")])
            .await;
    // UNAUTHENTICATED (a wrong password) among a sign-in flow.
    support::admin_sign_in_flow(warden.addr, "a password for the log test").await;

    let key = support::mint_api_key(dir.path(), ScopeSet::all()).await;
    let mut users = UsersServiceClient::connect(format!("http://{}", warden.addr)).await.unwrap();

    // NOT_FOUND.
    let lookup = pb::get_user_request::Lookup::Id(uuid::Uuid::now_v7().to_string());
    let request = authorized(pb::GetUserRequest { lookup: Some(lookup) }, &key);
    let missing = users.get_user(request).await;
    assert_eq!(missing.unwrap_err().code(), tonic::Code::NotFound);

    // A client stream the client gives up on: it cancels the call.
    let (rows, pending) = tokio::sync::mpsc::channel(1);
    let row = pb::ImportUsersRequest { email: "c@example.com".into(), ..Default::default() };
    rows.send(row).await.unwrap();
    let stream = tokio_stream::wrappers::ReceiverStream::new(pending);
    let call = users.import_users(authorized(stream, &key));
    assert!(tokio::time::timeout(Duration::from_millis(500), call).await.is_err());
    drop(rows);
    // Let the server notice the reset before it stops.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let (_, output) = warden.terminate_and_wait().await;
    let events: Vec<serde_json::Value> =
        output.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    let errors: Vec<&serde_json::Value> =
        events.iter().filter(|event| event["level"] == "ERROR").collect();
    assert!(errors.is_empty(), "logged as ERROR: {errors:#?}");
    // The answers were logged, at INFO.
    let answered: Vec<String> = events
        .iter()
        .filter(|e| e["fields"]["message"] == "call answered with an error")
        .map(|e| format!("{} {}", e["level"], e["fields"]["code"]))
        .collect();
    assert!(answered.contains(&"\"INFO\" \"NotFound\"".to_owned()), "{answered:?}");
    assert!(answered.contains(&"\"INFO\" \"Unauthenticated\"".to_owned()), "{answered:?}");
}

fn authorized<T>(message: T, key: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {key}").parse().unwrap());
    request
}
