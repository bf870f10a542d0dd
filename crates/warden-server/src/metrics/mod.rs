//! Prometheus metrics, served on their own listener (`metrics.listen`, off by
//! default) at `/metrics`: gRPC server metrics recorded by a tower layer
//! ([`grpc`]) and Warden's domain metrics read at scrape time ([`domain`]).
//! Each server owns its registry (prometheus-client has no global one), so
//! servers sharing a process, as in the test suite, never mix their numbers.

mod domain;
mod endpoint;
mod grpc;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use prometheus_client::registry::Registry;
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use warden_core::metrics::{DomainCounters, gauges};

pub use endpoint::MetricsEndpoint;
pub use grpc::GrpcMetricsLayer;

/// A scrape waits this long for the outbox count, then reports without it.
const SCRAPE_QUERY_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Where `/metrics` is served, e.g. `0.0.0.0:9090`; unset serves none.
    pub listen: Option<SocketAddr>,
}

/// One server's metrics: the registry, and what feeds it.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    layer: GrpcMetricsLayer,
    db: DatabaseConnection,
    outbox_depth: Arc<Mutex<Option<u64>>>,
}

impl Metrics {
    /// `counters` are the ones the server's `Auth` counts into.
    pub fn new(db: DatabaseConnection, max_connections: u32, counters: DomainCounters) -> Self {
        let mut registry = Registry::default();
        let grpc = Arc::new(grpc::GrpcMetrics::register(&mut registry));
        let outbox_depth = Arc::new(Mutex::new(None));
        registry.register_collector(Box::new(domain::DomainCollector {
            counters: counters.clone(),
            db: db.clone(),
            max_connections,
            outbox_depth: outbox_depth.clone(),
        }));
        Self { registry: Arc::new(registry), layer: GrpcMetricsLayer::new(grpc), db, outbox_depth }
    }

    /// The layer to put outermost on the gRPC server.
    pub fn grpc_layer(&self) -> GrpcMetricsLayer {
        self.layer.clone()
    }

    /// The OpenMetrics text of everything, after the scrape-time queries.
    pub async fn render(&self) -> Result<String, std::fmt::Error> {
        let depth = tokio::time::timeout(SCRAPE_QUERY_TIMEOUT, gauges::outbox_depth(&self.db))
            .await
            .ok()
            .and_then(Result::ok);
        if let Ok(mut slot) = self.outbox_depth.lock() {
            *slot = depth;
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}
