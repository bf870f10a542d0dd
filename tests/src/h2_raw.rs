//! A gRPC client on bare HTTP/2 (the `h2` crate): the test decides the exact
//! bytes of a call and how they are cut into DATA frames. Used to send broken
//! framing, and to stream one small DATA frame per message, as grpc-python
//! does, which tonic's client never does (it coalesces messages).

use std::net::SocketAddr;

use bytes::Bytes;
use h2::client::SendRequest;
use http::Request;
use tokio::{net::TcpStream, task::JoinHandle};
use tonic::{Code, Status};

/// One HTTP/2 connection to the server.
pub struct RawClient {
    send: SendRequest<Bytes>,
    connection: JoinHandle<Result<(), h2::Error>>,
}

/// What came back for one call.
#[derive(Debug)]
pub struct RawAnswer {
    /// From the trailers, or the headers of a trailers-only answer.
    pub status: Status,
    /// The response body (gRPC frames, undecoded).
    pub body: Vec<u8>,
}

impl RawClient {
    pub async fn connect(addr: SocketAddr) -> Self {
        let tcp = TcpStream::connect(addr).await.expect("tcp connect");
        tcp.set_nodelay(true).expect("nodelay");
        let (send, connection) = h2::client::handshake(tcp).await.expect("h2 handshake");
        let connection = tokio::spawn(connection);
        Self { send, connection }
    }

    /// Whether the server has closed the connection (e.g. with GOAWAY).
    pub fn is_closed(&self) -> bool {
        self.connection.is_finished()
    }

    /// Calls `path` with `frames` as the request body, each sent as its own
    /// DATA frame once flow control allows it (a well-behaved client).
    pub async fn call(
        &mut self,
        path: &str,
        credential: Option<&str>,
        frames: impl IntoIterator<Item = Bytes>,
    ) -> Result<RawAnswer, h2::Error> {
        let bearer = credential.map(|credential| format!("Bearer {credential}"));
        let headers: Vec<(&str, &str)> =
            bearer.as_deref().map(|value| ("authorization", value)).into_iter().collect();
        self.call_with_headers(path, &headers, frames).await
    }

    /// [`RawClient::call`] with any extra request headers.
    pub async fn call_with_headers(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        frames: impl IntoIterator<Item = Bytes>,
    ) -> Result<RawAnswer, h2::Error> {
        let mut request = Request::post(format!("http://warden{path}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(()).expect("request");
        let mut send = self.send.clone().ready().await?;
        let (response, mut body) = send.send_request(request, false)?;
        for mut rest in frames {
            // One DATA frame per message, split only where flow control
            // leaves less room than the message needs.
            while !rest.is_empty() {
                body.reserve_capacity(rest.len());
                while body.capacity() == 0 {
                    match std::future::poll_fn(|cx| body.poll_capacity(cx)).await {
                        Some(Ok(_)) => {}
                        // The server answered early and reset the stream:
                        // the answer is what matters.
                        Some(Err(err)) => return read_answer(response).await.or(Err(err)),
                        None => return read_answer(response).await,
                    }
                }
                let chunk = rest.split_to(body.capacity().min(rest.len()));
                if let Err(err) = body.send_data(chunk, false) {
                    // The stream was reset, e.g. by an early answer; read it.
                    return read_answer(response).await.or(Err(err));
                }
            }
        }
        // A closed stream refuses the end; the answer is what matters.
        let _ = body.send_data(Bytes::new(), true);
        read_answer(response).await
    }
}

async fn read_answer(response: h2::client::ResponseFuture) -> Result<RawAnswer, h2::Error> {
    let response = response.await?;
    if let Some(status) = Status::from_header_map(response.headers()) {
        return Ok(RawAnswer { status, body: Vec::new() });
    }
    let mut stream = response.into_body();
    let mut body = Vec::new();
    while let Some(chunk) = stream.data().await {
        let chunk = chunk?;
        let _ = stream.flow_control().release_capacity(chunk.len());
        body.extend_from_slice(&chunk);
    }
    let trailers = stream.trailers().await?;
    let status = trailers
        .as_ref()
        .and_then(Status::from_header_map)
        .unwrap_or_else(|| Status::new(Code::Unknown, "the answer carried no grpc-status"));
    Ok(RawAnswer { status, body })
}

/// `payload` as one gRPC message: the 5-byte prefix (uncompressed, length) and
/// the bytes.
pub fn grpc_frame(payload: &[u8]) -> Bytes {
    let mut frame = Vec::with_capacity(payload.len() + 5);
    frame.push(0);
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend_from_slice(payload);
    Bytes::from(frame)
}

/// The first message of a response body, without its prefix.
pub fn first_message(body: &[u8]) -> Option<&[u8]> {
    let len = u32::from_be_bytes(body.get(1..5)?.try_into().ok()?) as usize;
    body.get(5..5 + len)
}
