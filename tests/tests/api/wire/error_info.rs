//! Errors tonic produces by itself carry ErrorInfo too, and a request that is
//! not the RPC's message, or not even gRPC framing, is the client's fault:
//! INVALID_ARGUMENT, never INTERNAL.

use bytes::Bytes;
use tonic::{Code, Status};
use tonic_types::StatusExt;
use warden_core::scope::ScopeSet;
use warden_proto::{METHODS, MethodAccess};
use warden_tests::{
    db_test,
    h2_raw::{RawClient, grpc_frame},
};

use super::invalid_details;

/// The reason and metadata of a status's ErrorInfo, which must be there.
fn info(status: &Status) -> tonic_types::ErrorInfo {
    let info = status.get_error_details().error_info().cloned();
    let info = info.unwrap_or_else(|| panic!("no ErrorInfo: {status:?}"));
    assert_eq!(info.domain, "warden");
    info
}

const GET_USER: &str = "/warden.v1.UsersService/GetUser";

db_test! {
    async fn framework_errors_carry_error_info(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let mut client = RawClient::connect(app.addr).await;

        // A generated default stub: UNIMPLEMENTED, naming the method.
        let stub = METHODS
            .iter()
            .find(|m: &&MethodAccess| m.path.starts_with("/warden.v1.MfaService/"))
            .unwrap();
        let answer = client.call(stub.path, Some(&key), [grpc_frame(b"")]).await.unwrap();
        assert_eq!(answer.status.code(), Code::Unimplemented, "{:?}", answer.status);
        let unimplemented = info(&answer.status);
        assert_eq!(unimplemented.reason, "UNIMPLEMENTED");
        assert_eq!(unimplemented.metadata.get("method").map(String::as_str), Some(stub.path));

        // A message over the 4 MiB limit: OUT_OF_RANGE / MESSAGE_TOO_LARGE.
        let mut prefix = vec![0];
        prefix.extend_from_slice(&(5u32 * 1024 * 1024).to_be_bytes());
        let answer = client
            .call(GET_USER, Some(&key), [Bytes::from(prefix), Bytes::from(vec![0x0a; 1024])])
            .await
            .unwrap();
        assert_eq!(answer.status.code(), Code::OutOfRange, "{:?}", answer.status);
        assert_eq!(info(&answer.status).reason, "MESSAGE_TOO_LARGE");

        // A compression the server does not accept: UNIMPLEMENTED.
        let bearer = format!("Bearer {key}");
        let headers = [("authorization", bearer.as_str()), ("grpc-encoding", "snappy")];
        let answer =
            client.call_with_headers(GET_USER, &headers, [grpc_frame(b"")]).await.unwrap();
        assert_eq!(answer.status.code(), Code::Unimplemented, "{:?}", answer.status);
        assert_eq!(info(&answer.status).reason, "UNIMPLEMENTED");
    }
}

db_test! {
    async fn undecodable_messages_and_broken_framing_are_invalid_argument(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let mut client = RawClient::connect(app.addr).await;
        // Not a GetUserRequest: a length-delimited field running past the end,
        // and a string field that is not UTF-8.
        for payload in [&[0x0a, 0x40, 0x61][..], &[0x12, 0x02, 0xc3, 0x28]] {
            let answer = client.call(GET_USER, Some(&key), [grpc_frame(payload)]).await.unwrap();
            let found = invalid_details(&answer.status);
            assert!(!found.is_empty());
        }

        let whole = grpc_frame(b"\x0a\x03abc");
        let mut compressed = whole.to_vec();
        compressed[0] = 1;
        let mut garbage_flag = whole.to_vec();
        garbage_flag[0] = 0x7f;
        let broken: [(&str, Vec<Bytes>); 5] = [
            ("cut inside the prefix", vec![whole.slice(..3)]),
            ("cut inside the message", vec![whole.slice(..7)]),
            ("compressed flag without grpc-encoding", vec![Bytes::from(compressed)]),
            ("a flag that is not 0 or 1", vec![Bytes::from(garbage_flag)]),
            ("no message at all", vec![]),
        ];
        for (what, frames) in broken {
            let answer = client.call(GET_USER, Some(&key), frames).await.unwrap();
            assert_eq!(answer.status.code(), Code::InvalidArgument, "{what}: {:?}", answer.status);
            assert_eq!(info(&answer.status).reason, "VALIDATION_FAILED", "{what}");
        }
        assert!(!client.is_closed());
    }
}
