//! Calls any RPC by path with an empty message, whatever its types: `()` is a
//! valid (empty) protobuf message on the wire and ignores every response field.
//! The deny-by-default matrix uses this to reach all methods in the descriptor.

use tonic::{Request, Status, client::Grpc, transport::Channel};
use tonic_prost::ProstCodec;
use warden_proto::MethodAccess;

/// Sends an empty request to `method` (honouring its streaming shape) and
/// returns the status: `Ok` only if the call itself succeeded.
pub async fn call_empty(
    channel: &Channel,
    method: &MethodAccess,
    credential: Option<&str>,
) -> Result<(), Status> {
    let mut grpc = Grpc::new(channel.clone());
    grpc.ready().await.map_err(|err| Status::unavailable(err.to_string()))?;
    let path = http::uri::PathAndQuery::from_static(method.path);
    let codec = ProstCodec::<(), ()>::default();
    match (method.client_streaming, method.server_streaming) {
        (false, false) => {
            grpc.unary(with_credential((), credential), path, codec).await.map(|_| ())
        }
        (false, true) => {
            let mut stream = grpc
                .server_streaming(with_credential((), credential), path, codec)
                .await?
                .into_inner();
            stream.message().await.map(|_| ())
        }
        (true, _) => {
            let messages = tokio_stream::iter(Vec::<()>::new());
            grpc.streaming(with_credential(messages, credential), path, codec).await.map(|_| ())
        }
    }
}

fn with_credential<T>(message: T, credential: Option<&str>) -> Request<T> {
    match credential {
        Some(credential) => crate::authorized(message, credential),
        None => Request::new(message),
    }
}
