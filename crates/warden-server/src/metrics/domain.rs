//! Warden's own metrics, read when Prometheus scrapes: the core's domain
//! counters, the connection pool and the outbox backlog.

use std::sync::{Arc, Mutex};

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeMetric},
    metrics::{MetricType, counter::ConstCounter, gauge::ConstGauge},
};
use sea_orm::DatabaseConnection;
use warden_core::metrics::{DomainCounters, gauges};

#[derive(Debug)]
pub(super) struct DomainCollector {
    pub counters: DomainCounters,
    pub db: DatabaseConnection,
    pub max_connections: u32,
    /// Set by the scrape just before encoding (a query cannot run here);
    /// `None` when the database did not answer, so the gauge is left out
    /// rather than reported stale.
    pub outbox_depth: Arc<Mutex<Option<u64>>>,
}

impl Collector for DomainCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counts = self.counters.snapshot();

        let mut family = encoder.encode_descriptor(
            "warden_sign_ins",
            "Password sign-ins by account kind and outcome (success, challenge or the refusal reason).",
            None,
            MetricType::Counter,
        )?;
        for (account, outcome, n) in &counts.sign_ins {
            let outcome = outcome.label();
            let labels = [("account", account.as_str()), ("outcome", outcome.as_str())];
            ConstCounter::new(*n).encode(family.encode_family(&labels)?)?;
        }

        counters(
            &mut encoder,
            "warden_lockouts",
            "Accounts locked after too many wrong passwords.",
            ("account", &counts.lockouts.map(|(account, n)| (account.as_str(), n))),
        )?;
        counters(
            &mut encoder,
            "warden_refresh_token_reuse",
            "Rotated refresh tokens presented again; each revoked its session.",
            ("account", &counts.refresh_reuse.map(|(account, n)| (account.as_str(), n))),
        )?;
        counters(
            &mut encoder,
            "warden_token_verification_cache",
            "Access-token signature checks answered from the cache (hit) or computed (miss).",
            ("result", &[("hit", counts.token_cache_hits), ("miss", counts.token_cache_misses)]),
        )?;
        let family = encoder.encode_descriptor(
            "warden_rate_limited_calls",
            "Sign-in calls refused by the per-peer rate limit.",
            None,
            MetricType::Counter,
        )?;
        ConstCounter::new(counts.rate_limited).encode(family)?;
        counters(
            &mut encoder,
            "warden_outbox_deliveries",
            "Outbox send attempts by result: delivered, retried (failed, will retry) or failed (for good).",
            (
                "result",
                &[
                    ("delivered", counts.delivered),
                    ("retried", counts.delivery_retries),
                    ("failed", counts.delivery_failures),
                ],
            ),
        )?;

        let depth = self.outbox_depth.lock().ok().and_then(|depth| *depth);
        if let Some(depth) = depth {
            let family = encoder.encode_descriptor(
                "warden_outbox_depth",
                "Messages waiting in the outbox (shared by every replica).",
                None,
                MetricType::Gauge,
            )?;
            ConstGauge::new(depth).encode(family)?;
        }

        if let Some(pool) = gauges::pool_state(&self.db, self.max_connections) {
            let mut family = encoder.encode_descriptor(
                "warden_db_pool_connections",
                "This replica's database connections by state.",
                None,
                MetricType::Gauge,
            )?;
            for (state, n) in [("in_use", pool.in_use), ("idle", pool.idle)] {
                ConstGauge::new(n).encode(family.encode_family(&[("state", state)])?)?;
            }
            let family = encoder.encode_descriptor(
                "warden_db_pool_max_connections",
                "The pool's configured size (database.max_connections).",
                None,
                MetricType::Gauge,
            )?;
            ConstGauge::new(pool.max).encode(family)?;
        }
        Ok(())
    }
}

/// A counter family with one label: `name_total{label="value"} n` per value.
fn counters(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    (label, values): (&str, &[(&str, u64)]),
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for &(value, n) in values {
        ConstCounter::new(n).encode(family.encode_family(&[(label, value)])?)?;
    }
    Ok(())
}
