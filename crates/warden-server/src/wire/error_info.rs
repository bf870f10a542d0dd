//! Every error carries `google.rpc.ErrorInfo` (common.proto). Warden's own
//! errors get it from `status::to_status`; this adds it to the statuses tonic
//! produces by itself: the generated UNIMPLEMENTED stubs, an oversized message
//! (OUT_OF_RANGE), a grpc-encoding it does not accept, a cancelled call. It
//! looks at both places a status travels: the headers of a trailers-only
//! response, and the trailers at the end of a streamed one.

use std::{
    collections::HashMap,
    pin::Pin,
    task::{Context, Poll, ready},
};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame};
use tonic::{Code, Status};
use tonic_types::StatusExt;
use warden_core::error::ErrorReason;

use crate::status::{ERROR_DOMAIN, cap_message};

/// The reason for a status that came without one: the closest of the
/// contract's reasons.
pub fn reason_for(code: Code) -> ErrorReason {
    match code {
        Code::InvalidArgument => ErrorReason::ValidationFailed,
        Code::OutOfRange | Code::ResourceExhausted => ErrorReason::MessageTooLarge,
        Code::Unimplemented => ErrorReason::Unimplemented,
        Code::Cancelled | Code::DeadlineExceeded => ErrorReason::Cancelled,
        Code::Unavailable => ErrorReason::Unavailable,
        Code::Unauthenticated => ErrorReason::Unauthenticated,
        Code::PermissionDenied => ErrorReason::PermissionDenied,
        Code::NotFound => ErrorReason::NotFound,
        Code::AlreadyExists => ErrorReason::AlreadyExists,
        // tonic never produces these; a status built without `to_status` did.
        Code::FailedPrecondition | Code::Aborted => ErrorReason::Internal,
        Code::Ok | Code::Unknown | Code::Internal | Code::DataLoss => ErrorReason::Internal,
    }
}

/// Adds ErrorInfo to the status in `headers`, if there is a failed one
/// without it. `path` is the called method, named in UNIMPLEMENTED's metadata.
pub fn complete(headers: &mut HeaderMap, path: &str) {
    // Most answers: no status here (it comes in the trailers), or OK.
    match headers.get(Status::GRPC_STATUS) {
        None => return,
        Some(code) if code == "0" => return,
        Some(_) => {}
    }
    let Some(status) = Status::from_header_map(headers) else { return };
    let mut details = status.get_error_details();
    if details.error_info().is_some() {
        return;
    }
    let code = status.code();
    if matches!(code, Code::FailedPrecondition | Code::Aborted) {
        tracing::warn!(code = ?code, path, "a status without ErrorInfo: build it with to_status");
    }
    let mut metadata = HashMap::new();
    if code == Code::Unimplemented {
        metadata.insert("method".to_owned(), cap_message(path));
    }
    details.set_error_info(reason_for(code).as_str(), ERROR_DOMAIN, metadata);
    let completed = Status::with_error_details(code, cap_message(status.message()), details);
    headers.remove(Status::GRPC_MESSAGE);
    if completed.add_header(headers).is_err() {
        tracing::warn!(path, "could not add ErrorInfo to a status");
    }
}

/// A response body whose trailers get [`complete`]d.
pub struct CompletedTrailers<B> {
    inner: B,
    path: String,
}

impl<B> CompletedTrailers<B> {
    pub fn new(inner: B, path: String) -> Self {
        Self { inner, path }
    }
}

impl<B> Body for CompletedTrailers<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let mut polled = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        if let Some(Ok(frame)) = &mut polled
            && let Some(trailers) = frame.trailers_mut()
        {
            complete(trailers, &self.path);
        }
        Poll::Ready(polled)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use warden_core::DomainError;

    use super::*;

    fn info_of(headers: &HeaderMap) -> Option<tonic_types::ErrorInfo> {
        Status::from_header_map(headers)?.get_error_details().error_info().cloned()
    }

    #[test]
    fn a_bare_status_gets_error_info_and_keeps_its_code_and_message() {
        let mut headers = HeaderMap::new();
        Status::unimplemented("Not yet implemented").add_header(&mut headers).expect("headers");
        complete(&mut headers, "/warden.v1.MfaService/ListFactors");
        let status = Status::from_header_map(&headers).expect("status");
        assert_eq!(status.code(), Code::Unimplemented);
        assert_eq!(status.message(), "Not yet implemented");
        let info = info_of(&headers).expect("error info");
        assert_eq!((info.reason.as_str(), info.domain.as_str()), ("UNIMPLEMENTED", "warden"));
        assert_eq!(info.metadata["method"], "/warden.v1.MfaService/ListFactors");
    }

    #[test]
    fn ok_and_complete_statuses_are_left_alone() {
        let mut headers = HeaderMap::new();
        Status::ok("").add_header(&mut headers).expect("headers");
        let before = headers.clone();
        complete(&mut headers, "/p");
        assert_eq!(headers, before);

        let mut headers = HeaderMap::new();
        crate::status::to_status(DomainError::NotFound { resource: "user" })
            .add_header(&mut headers)
            .expect("headers");
        let before = headers.clone();
        complete(&mut headers, "/p");
        assert_eq!(headers, before);
    }
}
