//! The tower layer that puts [`framing`] on every request body and
//! [`error_info`] on every response, headers and trailers alike.

use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use http::{Request, Response};
use tonic::body::Body;
use tower::{Layer, Service};
use warden_proto::METHODS;

use super::{
    error_info::{self, CompletedTrailers},
    framing::CheckedFraming,
};

#[derive(Debug, Clone, Default)]
pub struct WireLayer;

impl<S> Layer<S> for WireLayer {
    type Service = Wire<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Wire { inner }
    }
}

#[derive(Debug, Clone)]
pub struct Wire<S> {
    inner: S,
}

impl<S> Service<Request<Body>> for Wire<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // The clone is not ready; swap so the ready instance serves this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let path = request.uri().path().to_owned();
        // Unary warden RPCs need their one message; streams may be empty,
        // and other services (health, reflection) are only framing-checked.
        let unary = METHODS
            .binary_search_by(|method| method.path.cmp(path.as_str()))
            .is_ok_and(|i| !METHODS[i].client_streaming);
        let request = request.map(|body| Body::new(CheckedFraming::new(body, unary)));
        Box::pin(async move {
            let mut response = inner.call(request).await?;
            // A trailers-only answer carries its status in the headers.
            error_info::complete(response.headers_mut(), &path);
            Ok(response.map(|body| Body::new(CompletedTrailers::new(body, path))))
        })
    }
}
