//! Domain counters for Prometheus, without Prometheus: plain atomics that the
//! server's collector reads at scrape time (`warden-server::metrics`).
//!
//! Each server owns one [`DomainCounters`], held by `auth::Auth` (which every
//! service shares) and handed to the token issuer, the notifier worker and
//! the rate limiter. Hooks are one line (`counters.lockout(Account::User)`),
//! and several servers in one process (the test suite) never mix their counts.
//!
//! Labels are fixed words and `DomainError::reason` codes, never user input.

pub mod gauges;

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use crate::{error::DomainError, notify::DeliveryReport};

/// Whose sign-in, lockout or refresh token it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Account {
    Admin,
    User,
}

impl Account {
    /// The account kind of a session's `principal_type`.
    pub fn of_session(principal_type: &str) -> Self {
        if principal_type == crate::auth::sessions::ADMIN { Self::Admin } else { Self::User }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::User => "user",
        }
    }
}

/// How a password sign-in ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SignInOutcome {
    /// Tokens were issued.
    Success,
    /// The password was right; a challenge (MFA, password change) was issued.
    Challenge,
    /// Refused with this reason code (`INVALID_CREDENTIALS`, `ACCOUNT_LOCKED`, …).
    Refused(&'static str),
}

impl SignInOutcome {
    pub fn refused(err: &DomainError) -> Self {
        Self::Refused(err.reason().as_str())
    }

    /// The label value: `success`, `challenge` or the reason in lower case.
    pub fn label(self) -> String {
        match self {
            Self::Success => "success".to_owned(),
            Self::Challenge => "challenge".to_owned(),
            Self::Refused(reason) => reason.to_ascii_lowercase(),
        }
    }
}

/// One server's domain counters. Cloning shares them.
#[derive(Debug, Clone, Default)]
pub struct DomainCounters(Arc<Counters>);

#[derive(Debug, Default)]
struct Counters {
    // Sign-ins are bounded by argon2, so a lock here costs nothing measurable.
    sign_ins: Mutex<BTreeMap<(Account, SignInOutcome), u64>>,
    admin_lockouts: AtomicU64,
    user_lockouts: AtomicU64,
    admin_refresh_reuse: AtomicU64,
    user_refresh_reuse: AtomicU64,
    token_cache_hits: AtomicU64,
    token_cache_misses: AtomicU64,
    rate_limited: AtomicU64,
    delivered: AtomicU64,
    delivery_retries: AtomicU64,
    delivery_failures: AtomicU64,
}

/// The counters' values at one instant, for the collector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub sign_ins: Vec<(Account, SignInOutcome, u64)>,
    /// Accounts locked after too many wrong passwords (not refusals while locked).
    pub lockouts: [(Account, u64); 2],
    /// Rotated refresh tokens presented again (each revoked a session).
    pub refresh_reuse: [(Account, u64); 2],
    pub token_cache_hits: u64,
    pub token_cache_misses: u64,
    /// Calls refused by the per-peer rate limit.
    pub rate_limited: u64,
    /// Outbox sends by result: delivered, failed and retried later, failed for good.
    pub delivered: u64,
    pub delivery_retries: u64,
    pub delivery_failures: u64,
}

impl DomainCounters {
    pub fn snapshot(&self) -> Snapshot {
        let c = &self.0;
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let sign_ins = c
            .sign_ins
            .lock()
            .map(|map| map.iter().map(|(&(account, outcome), &n)| (account, outcome, n)).collect())
            .unwrap_or_default();
        Snapshot {
            sign_ins,
            lockouts: [
                (Account::Admin, read(&c.admin_lockouts)),
                (Account::User, read(&c.user_lockouts)),
            ],
            refresh_reuse: [
                (Account::Admin, read(&c.admin_refresh_reuse)),
                (Account::User, read(&c.user_refresh_reuse)),
            ],
            token_cache_hits: read(&c.token_cache_hits),
            token_cache_misses: read(&c.token_cache_misses),
            rate_limited: read(&c.rate_limited),
            delivered: read(&c.delivered),
            delivery_retries: read(&c.delivery_retries),
            delivery_failures: read(&c.delivery_failures),
        }
    }
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl DomainCounters {
    pub fn sign_in(&self, account: Account, outcome: SignInOutcome) {
        if let Ok(mut map) = self.0.sign_ins.lock() {
            *map.entry((account, outcome)).or_default() += 1;
        }
    }

    /// An account (or an unknown identifier) was just locked: counted once
    /// per lock, not per refusal while locked.
    pub fn lockout(&self, account: Account) {
        match account {
            Account::Admin => add(&self.0.admin_lockouts, 1),
            Account::User => add(&self.0.user_lockouts, 1),
        }
    }

    pub fn refresh_reuse(&self, account: Account) {
        match account {
            Account::Admin => add(&self.0.admin_refresh_reuse, 1),
            Account::User => add(&self.0.user_refresh_reuse, 1),
        }
    }

    /// An access token's signature check was answered from the cache (`hit`) or not.
    pub fn token_cache(&self, hit: bool) {
        add(if hit { &self.0.token_cache_hits } else { &self.0.token_cache_misses }, 1);
    }

    pub fn rate_limited(&self) {
        add(&self.0.rate_limited, 1);
    }

    /// What one pass of the notifier's worker did.
    pub fn deliveries(&self, report: &DeliveryReport) {
        add(&self.0.delivered, report.delivered);
        add(&self.0.delivery_retries, report.retried);
        add(&self.0.delivery_failures, report.failed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_server_counts_into_its_own_counters() {
        let (first, second) = (DomainCounters::default(), DomainCounters::default());
        let refused = SignInOutcome::refused(&DomainError::InvalidCredentials);
        first.sign_in(Account::User, refused);
        first.sign_in(Account::User, refused);
        first.lockout(Account::User);
        first.token_cache(true);
        second.sign_in(Account::Admin, SignInOutcome::Success);

        let snapshot = first.snapshot();
        assert_eq!(
            snapshot.sign_ins,
            vec![(Account::User, SignInOutcome::Refused("INVALID_CREDENTIALS"), 2)]
        );
        assert_eq!(snapshot.lockouts, [(Account::Admin, 0), (Account::User, 1)]);
        assert_eq!((snapshot.token_cache_hits, snapshot.rate_limited), (1, 0));
        assert_eq!(second.snapshot().sign_ins, vec![(Account::Admin, SignInOutcome::Success, 1)]);
    }

    #[test]
    fn outcome_labels_are_lower_case_words() {
        assert_eq!(SignInOutcome::Success.label(), "success");
        let locked = DomainError::AccountLocked { retry_after: std::time::Duration::from_secs(1) };
        assert_eq!(SignInOutcome::refused(&locked).label(), "account_locked");
    }
}
