//! gRPC server metrics as a tower layer, named as in go-grpc-prometheus so
//! stock dashboards work: `grpc_server_started_total`,
//! `grpc_server_handled_total{grpc_code}` and
//! `grpc_server_handling_seconds`, all by `grpc_type`, `grpc_service` and
//! `grpc_method`.
//!
//! The code is the one the client receives: from the headers of a
//! trailers-only response (every error tonic or the authz layer answers
//! before a message), otherwise from the trailers at the end of the body, so
//! streamed responses count when they finish. A call dropped before its
//! status was sent counts as `Canceled`. Method labels come only from the
//! method table; any other path is `unknown`, so callers cannot mint series.

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Instant,
};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{HeaderMap, Request, Response};
use http_body::Frame;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::Registry,
};
use tonic::{Code, body::Body};
use tower::{Layer, Service};

/// Served besides the warden RPCs (see `authz::EXEMPT_PREFIXES`).
const OTHER_KNOWN_METHODS: &[(&str, &str)] = &[
    ("/grpc.health.v1.Health/Check", "unary"),
    ("/grpc.health.v1.Health/Watch", "server_stream"),
    ("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "bidi_stream"),
    ("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", "bidi_stream"),
];

/// go-grpc-prometheus' default buckets, in seconds.
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    grpc_type: &'static str,
    grpc_service: &'static str,
    grpc_method: &'static str,
}

#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandledLabels {
    grpc_type: &'static str,
    grpc_service: &'static str,
    grpc_method: &'static str,
    grpc_code: &'static str,
}

const UNKNOWN: MethodLabels =
    MethodLabels { grpc_type: "unknown", grpc_service: "unknown", grpc_method: "unknown" };

impl MethodLabels {
    /// Labels for a request path; `unknown` unless the path is a known method.
    fn of(path: &str) -> Self {
        let known = warden_proto::METHODS
            .binary_search_by(|row| row.path.cmp(path))
            .ok()
            .map(|index| {
                let row = &warden_proto::METHODS[index];
                (row.path, stream_kind(row.client_streaming, row.server_streaming))
            })
            .or_else(|| OTHER_KNOWN_METHODS.iter().copied().find(|(known, _)| *known == path));
        let Some((path, grpc_type)) = known else { return UNKNOWN };
        // Slices of the table's own &'static str, never of the request.
        match path.trim_start_matches('/').split_once('/') {
            Some((grpc_service, grpc_method)) => Self { grpc_type, grpc_service, grpc_method },
            None => UNKNOWN,
        }
    }

    fn handled(self, code: Code) -> HandledLabels {
        HandledLabels {
            grpc_type: self.grpc_type,
            grpc_service: self.grpc_service,
            grpc_method: self.grpc_method,
            grpc_code: code_label(code),
        }
    }
}

fn stream_kind(client_streaming: bool, server_streaming: bool) -> &'static str {
    match (client_streaming, server_streaming) {
        (false, false) => "unary",
        (true, false) => "client_stream",
        (false, true) => "server_stream",
        (true, true) => "bidi_stream",
    }
}

/// The code names Go's gRPC uses, which dashboards filter on.
fn code_label(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "Canceled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
    }
}

/// The three gRPC metric families of one server.
#[derive(Debug)]
pub(super) struct GrpcMetrics {
    started: Family<MethodLabels, Counter>,
    handled: Family<HandledLabels, Counter>,
    handling_seconds: Family<MethodLabels, Histogram>,
}

impl GrpcMetrics {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            started: Family::default(),
            handled: Family::default(),
            handling_seconds: Family::new_with_constructor(|| Histogram::new(BUCKETS)),
        };
        registry.register(
            "grpc_server_started",
            "RPCs started on the server",
            metrics.started.clone(),
        );
        registry.register(
            "grpc_server_handled",
            "RPCs completed on the server, whatever their status code",
            metrics.handled.clone(),
        );
        registry.register(
            "grpc_server_handling_seconds",
            "Time from a call's arrival until its status was sent",
            metrics.handling_seconds.clone(),
        );
        metrics
    }
}

/// Records every call's metrics.
#[derive(Clone)]
pub struct GrpcMetricsLayer {
    metrics: Arc<GrpcMetrics>,
}

impl GrpcMetricsLayer {
    pub(super) fn new(metrics: Arc<GrpcMetrics>) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetricsService { inner, layer: self.clone() }
    }
}

#[derive(Clone)]
pub struct GrpcMetricsService<S> {
    inner: S,
    layer: GrpcMetricsLayer,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for GrpcMetricsService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<tonic::codegen::StdError>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let labels = MethodLabels::of(request.uri().path());
        self.layer.metrics.started.get_or_create(&labels).inc();
        let call = CallRecord {
            metrics: self.layer.metrics.clone(),
            labels,
            start: Instant::now(),
            done: false,
        };
        let handling = self.inner.call(request);
        Box::pin(async move { Ok(call.watch(handling.await?)) })
    }
}

/// One call in flight; records `handled` and the duration exactly once.
struct CallRecord {
    metrics: Arc<GrpcMetrics>,
    labels: MethodLabels,
    start: Instant,
    done: bool,
}

impl CallRecord {
    /// Finishes now for a trailers-only answer, else follows the body to its trailers.
    fn watch<B>(mut self, response: Response<B>) -> Response<Body>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<tonic::codegen::StdError>,
    {
        if let Some(code) = status_code(response.headers()) {
            self.finish(code);
            return response.map(Body::new);
        }
        let body = response.map(Body::new);
        if http_body::Body::is_end_stream(body.body()) {
            // Neither a status header nor a body to carry trailers.
            self.finish(Code::Unknown);
            return body;
        }
        body.map(|inner| Body::new(WatchedBody { inner, call: self }))
    }

    fn finish(&mut self, code: Code) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let metrics = &self.metrics;
        metrics.handled.get_or_create(&self.labels.handled(code)).inc();
        metrics
            .handling_seconds
            .get_or_create(&self.labels)
            .observe(self.start.elapsed().as_secs_f64());
    }
}

impl Drop for CallRecord {
    /// Dropped unfinished: the client went away (or the connection broke)
    /// before the status was sent.
    fn drop(&mut self) {
        self.finish(Code::Cancelled);
    }
}

fn status_code(headers: &HeaderMap) -> Option<Code> {
    headers.get("grpc-status").map(|value| Code::from_bytes(value.as_bytes()))
}

/// A response body that reports the status from its trailers.
struct WatchedBody {
    inner: Body,
    call: CallRecord,
}

impl http_body::Body for WatchedBody {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref() {
                    this.call.finish(status_code(trailers).unwrap_or(Code::Unknown));
                }
            }
            // A body that errs or ends without trailers sent no status.
            Poll::Ready(Some(Err(_)) | None) => this.call.finish(Code::Unknown),
            Poll::Pending => {}
        }
        polled
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
    use super::*;

    #[test]
    fn labels_come_from_the_method_table_only() {
        let labels = MethodLabels::of("/warden.v1.UsersService/ListUsers");
        assert_eq!(
            (labels.grpc_type, labels.grpc_service, labels.grpc_method),
            ("unary", "warden.v1.UsersService", "ListUsers")
        );
        let import = MethodLabels::of("/warden.v1.UsersService/ImportUsers");
        assert_eq!(import.grpc_type, "client_stream");
        let watch = MethodLabels::of("/grpc.health.v1.Health/Watch");
        assert_eq!(
            (watch.grpc_service, watch.grpc_type),
            ("grpc.health.v1.Health", "server_stream")
        );
        for path in ["/warden.v1.UsersService/alice@example.com", "/", "", "/x/y/z"] {
            assert_eq!(MethodLabels::of(path), UNKNOWN, "{path}");
        }
    }

    #[test]
    fn codes_use_the_names_dashboards_filter_on() {
        assert_eq!(code_label(Code::Ok), "OK");
        assert_eq!(code_label(Code::Cancelled), "Canceled");
        assert_eq!(code_label(Code::from_bytes(b"7")), "PermissionDenied");
    }
}
