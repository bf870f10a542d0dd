//! The `/metrics` HTTP listener, apart from the gRPC port so it can stay
//! inside the cluster (scraped by Prometheus, not reachable by clients).

use std::net::SocketAddr;

use anyhow::Context as _;
use axum::{Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use tokio::{net::TcpListener, task::JoinHandle};

use super::Metrics;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A running metrics listener; dropping it stops it.
pub struct MetricsEndpoint {
    local_addr: SocketAddr,
    serving: JoinHandle<()>,
}

impl MetricsEndpoint {
    pub async fn start(metrics: Metrics, listen: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen for metrics on {listen}"))?;
        let local_addr = listener.local_addr()?;
        let app = Router::new().route("/metrics", get(scrape)).with_state(metrics);
        let serving = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::warn!(error = %err, "metrics listener failed");
            }
        });
        tracing::info!(listen = %local_addr, "metrics are served on /metrics");
        Ok(Self { local_addr, serving })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl Drop for MetricsEndpoint {
    fn drop(&mut self) {
        self.serving.abort();
    }
}

async fn scrape(State(metrics): State<Metrics>) -> impl IntoResponse {
    match metrics.render().await {
        Ok(text) => (StatusCode::OK, [(http::header::CONTENT_TYPE, OPENMETRICS)], text),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(http::header::CONTENT_TYPE, "text/plain")],
            "cannot encode metrics".to_owned(),
        ),
    }
}
