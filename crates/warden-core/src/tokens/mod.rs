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
    pub refresh_ttl_seconds: u64,
    /// Clock skew tolerated on `exp`/`iat`.
    pub leeway_seconds: u64,
    /// How long a verified token's signature check is remembered.
    pub verify_cache_seconds: u64,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            issuer: "warden".to_owned(),
            admin_audience: "warden-admin".to_owned(),
            user_audience: "warden".to_owned(),
            access_ttl_seconds: 15 * 60,
            refresh_ttl_seconds: 30 * 24 * 60 * 60,
            leeway_seconds: 5,
            verify_cache_seconds: 60,
        }
    }
}
