//! Logs and traces. JSON logs through tracing; OpenTelemetry OTLP traces only
//! when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. Spans carry the RPC path and the
//! W3C trace context read from metadata, never headers or messages: those can
//! hold credentials.

use std::time::Duration;

use opentelemetry::{propagation::TextMapCompositePropagator, trace::TracerProvider as _};
use opentelemetry_http::HeaderExtractor;
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tower_http::classify::GrpcFailureClass;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{
    EnvFilter, Layer, fmt::writer::BoxMakeWriter, layer::SubscriberExt, util::SubscriberInitExt,
};

use crate::config::{LogConfig, LogFormat};

/// Flushes pending spans when dropped at shutdown.
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(err) = provider.shutdown()
        {
            eprintln!("failed to flush traces: {err}");
        }
    }
}

/// Where log lines go: the server logs to stdout; an operator command keeps
/// stdout for its one human line and logs to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogOutput {
    Stdout,
    Stderr,
}

/// Installs the global subscriber. Call once, from `main`.
pub fn init(log: &LogConfig, output: LogOutput) -> anyhow::Result<TelemetryGuard> {
    let filter = EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(&log.filter))?;
    let writer = match output {
        LogOutput::Stdout => BoxMakeWriter::new(std::io::stdout),
        LogOutput::Stderr => BoxMakeWriter::new(std::io::stderr),
    };
    let fmt = tracing_subscriber::fmt::layer().with_writer(writer);
    let fmt = match log.format {
        LogFormat::Json => fmt.json().with_current_span(true).with_span_list(false).boxed(),
        LogFormat::Pretty => fmt.boxed(),
    };

    let provider = otlp_endpoint_configured().then(build_provider).transpose()?;
    let otel = provider
        .as_ref()
        .map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer("warden")));
    opentelemetry::global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
    ]));

    tracing_subscriber::registry().with(filter).with(fmt).with(otel).try_init()?;
    Ok(TelemetryGuard { provider })
}

fn otlp_endpoint_configured() -> bool {
    ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
        .iter()
        .any(|var| std::env::var(var).is_ok_and(|value| !value.trim().is_empty()))
}

fn build_provider() -> anyhow::Result<SdkTracerProvider> {
    // The exporter reads the endpoint and headers from the standard OTEL_* env.
    let exporter = opentelemetry_otlp::SpanExporter::builder().with_tonic().build()?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name("warden").build())
        .build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    Ok(provider)
}

/// The span for one gRPC call: its path and the caller's trace context only.
pub fn request_span<B>(request: &http::Request<B>) -> tracing::Span {
    let span = tracing::info_span!(
        "grpc.request",
        rpc.method = %request.uri().path(),
        otel.kind = "server",
    );
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(request.headers()))
    });
    // Without an OpenTelemetry layer there is no parent to attach: ignore.
    let _ = span.set_parent(parent);
    span
}

/// The log line of a call that did not end OK. ERROR is for the server's own
/// faults (INTERNAL, UNKNOWN, DATA_LOSS); any other code is an answer the
/// caller caused (a wrong password, NOT_FOUND) and is INFO. A call the client
/// cancelled, or a stream that ended before its answer, is DEBUG.
pub fn log_failure(failure: GrpcFailureClass, latency: Duration, _span: &tracing::Span) {
    use tonic::Code;
    let latency_ms = latency.as_millis() as u64;
    match failure {
        GrpcFailureClass::Code(code) => match Code::from(code.get()) {
            code @ (Code::Internal | Code::Unknown | Code::DataLoss) => {
                tracing::error!(code = ?code, latency_ms, "call failed");
            }
            Code::Cancelled => tracing::debug!(latency_ms, "call cancelled"),
            code => tracing::info!(code = ?code, latency_ms, "call answered with an error"),
        },
        GrpcFailureClass::Error(error) => {
            tracing::debug!(error, latency_ms, "call ended before its answer was sent");
        }
    }
}
