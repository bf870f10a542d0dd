//! What every account kind shares to authenticate: passwords (argon2id, the
//! policy for new ones, imported legacy hashes), lockout, the one password
//! sign-in every kind goes through, the token issuer with its key ring,
//! sessions with their rotating refresh tokens, and turning a bearer
//! credential (API key or admin token) into a principal.
//!
//! Service modules (`admin_auth`, `users`, ...) depend on this module and
//! never on each other: each supplies its account lookup and its final
//! checks, and `auth` does the rest the same way for all of them.

pub(crate) mod api_key_credential;
pub mod credentials;
pub mod legacy_hash;
pub mod lockout;
pub mod password;
pub mod prefixed_secret;
pub mod sessions;
pub mod sign_in;
pub mod tokens;

pub use api_key_credential::LAST_USED_INTERVAL;

use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::DatabaseConnection;

use crate::{clock::Clock, error::DomainResult, metrics::DomainCounters};
use lockout::LockoutSettings;
use password::{PasswordSettings, Passwords};
use tokens::{TokenSettings, access::AccessTokens, keys::KeyRing};

/// The authentication services, shared by every account kind.
#[derive(Clone, Debug)]
pub struct Auth {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    passwords: Passwords,
    tokens: AccessTokens,
    lockout: LockoutSettings,
    counters: DomainCounters,
}

impl Auth {
    pub fn new(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        passwords: Passwords,
        tokens: AccessTokens,
        lockout: LockoutSettings,
        counters: DomainCounters,
    ) -> Self {
        Self { db, clock, passwords, tokens, lockout, counters }
    }

    /// Loads the signing keys (creating the first on a fresh database) and
    /// sets up the hasher: one for the whole server, so its concurrency bound
    /// holds across admins and users.
    pub async fn open(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        passwords: &PasswordSettings,
        tokens: TokenSettings,
        lockout: LockoutSettings,
        counters: DomainCounters,
    ) -> DomainResult<Self> {
        let keys = KeyRing::open(&db, clock.now()).await?;
        let passwords = Passwords::new(passwords)?;
        let tokens = AccessTokens::new(keys, tokens, counters.clone());
        Ok(Self::new(db, clock, passwords, tokens, lockout, counters))
    }

    /// The database the services read and write; service modules take it
    /// from here, so one handle serves them all.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn passwords(&self) -> &Passwords {
        &self.passwords
    }

    /// The access-token issuer and its signing key ring.
    pub fn tokens(&self) -> &AccessTokens {
        &self.tokens
    }

    pub fn lockout(&self) -> &LockoutSettings {
        &self.lockout
    }

    /// This server's domain counters, for metrics.
    pub fn counters(&self) -> &DomainCounters {
        &self.counters
    }

    /// Now, to the microsecond: what PostgreSQL keeps, so stored and
    /// returned times agree.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(6)
    }
}
