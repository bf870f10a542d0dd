//! A long ImportUsers stream from a client that sends every message in its
//! own small DATA frame, as grpc-python does. h2 closed such connections
//! (GOAWAY ENHANCE_YOUR_CALM "too_many_data_frames") whenever the handler
//! paused to write a batch; see warden-server's `wire::flow_control`.

use prost::Message;
use tonic::Code;
use warden_core::scope::ScopeSet;
use warden_proto::v1 as pb;
use warden_tests::{
    db_test,
    h2_raw::{RawClient, first_message, grpc_frame},
};

const ROWS: i64 = 50_000;

db_test! {
    async fn fifty_thousand_rows_in_small_frames_are_all_imported(app) {
        let key = app.api_key(ScopeSet::all()).await;
        // Pre-hashed rows, as a migration from another system sends them.
        let hash = bcrypt::hash("imported password", 4).unwrap();
        let rows = (0..ROWS).map(|i| {
            let row = pb::ImportUsersRequest {
                email: format!("stream{i:06}@example.com"),
                password_hash: hash.clone(),
                ..Default::default()
            };
            grpc_frame(&row.encode_to_vec())
        });
        let mut client = RawClient::connect(app.addr).await;
        let answer = client
            .call("/warden.v1.UsersService/ImportUsers", Some(&key), rows)
            .await
            .unwrap_or_else(|err| panic!("the server cut the stream off: {err}"));
        assert_eq!(answer.status.code(), Code::Ok, "{:?}", answer.status);
        let summary =
            pb::ImportUsersResponse::decode(first_message(&answer.body).unwrap()).unwrap();
        assert_eq!((summary.received_count, summary.created_count), (ROWS, ROWS));
        assert_eq!(summary.failed_count, 0, "{:?}", summary.failed_rows.first());
        assert!(!client.is_closed());
    }
}
