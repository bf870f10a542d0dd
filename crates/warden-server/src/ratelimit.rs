//! Per-peer rate limiting of the unauthenticated sign-in RPCs (GCRA via
//! `governor`), answered with RESOURCE_EXHAUSTED / RATE_LIMITED + RetryInfo.

use std::{net::IpAddr, num::NonZeroU32, sync::Arc, time::Duration};

use governor::{
    Quota, RateLimiter,
    clock::{Clock as _, DefaultClock},
    state::keyed::DefaultKeyedStateStore,
};
use warden_core::{DomainError, metrics::DomainCounters};

use crate::config::RateLimitConfig;

#[derive(Clone)]
pub struct PeerLimiter {
    limiter: Arc<RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>>,
    counters: DomainCounters,
}

impl PeerLimiter {
    pub fn new(config: &RateLimitConfig, counters: DomainCounters) -> Self {
        let per_minute = NonZeroU32::new(config.per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        Self { limiter: Arc::new(RateLimiter::keyed(quota)), counters }
    }

    /// Takes one call from `peer`'s budget. Calls without a known peer (never
    /// the case over TCP) are not limited.
    pub fn check(&self, peer: Option<IpAddr>) -> Result<(), DomainError> {
        let Some(peer) = peer else { return Ok(()) };
        self.limiter.check_key(&peer).map_err(|not_until| {
            self.counters.rate_limited();
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            DomainError::RateLimited { retry_after: wait.max(Duration::from_secs(1)) }
        })?;
        // Forget idle peers now and then so the map cannot grow without bound.
        if self.limiter.len() > 100_000 {
            self.limiter.retain_recent();
        }
        Ok(())
    }
}
