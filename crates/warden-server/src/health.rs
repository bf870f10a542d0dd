//! gRPC health: SERVING once migrations are done, NOT_SERVING while the
//! database does not answer, and NOT_SERVING from the moment shutdown begins.
//! [`LIVENESS`] alone says only that the process serves gRPC.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use sea_orm::DatabaseConnection;
use tonic_health::{ServingStatus, server::HealthReporter};
use warden_proto::METHODS;

/// SERVING whenever the server answers at all, whatever the database does:
/// Kubernetes' liveness probe asks for it, so an outage makes pods unready
/// (the `""` status) but never restarts them, which could not help.
pub const LIVENESS: &str = "liveness";

/// Every name health answers for: the whole server ("") and each service.
fn service_names() -> Vec<String> {
    let mut names: Vec<String> = METHODS
        .iter()
        .filter_map(|m| m.path.trim_start_matches('/').split('/').next().map(str::to_owned))
        .collect();
    names.dedup();
    names.push(String::new());
    names
}

#[derive(Clone)]
pub struct Health {
    reporter: HealthReporter,
    shutting_down: Arc<AtomicBool>,
}

impl Health {
    pub fn new(reporter: HealthReporter) -> Self {
        Self { reporter, shutting_down: Arc::new(AtomicBool::new(false)) }
    }

    pub async fn set(&self, serving: bool) {
        // Once draining, nothing may flip the status back to SERVING.
        let status = if serving && !self.shutting_down.load(Ordering::SeqCst) {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        for name in service_names() {
            self.reporter.set_service_status(name, status).await;
        }
        self.reporter.set_service_status(LIVENESS, ServingStatus::Serving).await;
    }

    pub async fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.set(false).await;
    }

    /// Pings the database and reports what it finds, so that an outage shows
    /// as NOT_SERVING within one `interval`: a ping every half interval, each
    /// given half an interval to answer. `db` should be a connection of the
    /// probe's own, so a pool busy with load never looks like an outage.
    pub async fn watch_database(self, db: DatabaseConnection, interval: Duration) {
        let half = interval / 2;
        let mut last = true;
        loop {
            tokio::time::sleep(half).await;
            if self.shutting_down.load(Ordering::SeqCst) {
                return;
            }
            let reachable =
                matches!(tokio::time::timeout(half, warden_core::db::ping(&db)).await, Ok(Ok(())));
            if reachable != last {
                if reachable {
                    tracing::info!("database reachable again; serving");
                } else {
                    tracing::warn!("database unreachable; health is NOT_SERVING");
                }
                last = reachable;
            }
            self.set(reachable).await;
        }
    }
}
