//! Tokens: EdDSA access JWTs signed with keys kept in the database (so every
//! replica signs and verifies alike) and opaque, rotating refresh tokens.

pub mod access;
pub mod keys;
pub mod refresh;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenSettings {
    /// `iss` of every access token.
    pub issuer: String,
    /// `aud` of admin access tokens.
    pub admin_audience: String,
    /// `aud` of end users' access tokens.
    pub user_audience: String,
    pub access_ttl_seconds: u64,
    /// A session's absolute lifetime: its refresh tokens stop working then.
    pub refresh_ttl_seconds: u64,
    /// A session not refreshed for this long is dead, however young it is.
    pub refresh_idle_seconds: u64,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`; at most
    /// [`MAX_LEEWAY_SECONDS`] is ever applied.
    pub leeway_seconds: u64,
    /// How long a verified token's signature check is remembered.
    pub verify_cache_seconds: u64,
}

/// More clock skew than this would keep a stolen expired token alive.
pub const MAX_LEEWAY_SECONDS: u64 = 30;

impl TokenSettings {
    /// The skew actually tolerated: the configured one, capped.
    pub fn leeway(&self) -> i64 {
        self.leeway_seconds.min(MAX_LEEWAY_SECONDS) as i64
    }

    /// How long a session may go unrefreshed.
    pub fn refresh_idle(&self) -> chrono::Duration {
        chrono::Duration::seconds(i64::try_from(self.refresh_idle_seconds).unwrap_or(i64::MAX / 2))
    }
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            issuer: "warden".to_owned(),
            admin_audience: "warden-admin".to_owned(),
            user_audience: "warden".to_owned(),
            access_ttl_seconds: 15 * 60,
            refresh_ttl_seconds: 30 * 24 * 60 * 60,
            refresh_idle_seconds: 15 * 24 * 60 * 60,
            leeway_seconds: 5,
            verify_cache_seconds: 60,
        }
    }
}
