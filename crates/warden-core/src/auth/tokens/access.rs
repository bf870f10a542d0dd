//! Access tokens: EdDSA JWTs (`typ: at+jwt`, RFC 9068) with `kid`, `iss`,
//! `aud`, `sub`, `sid`, `iat`, `exp`. Verification accepts EdDSA only (so
//! `alg: none` and HMAC confusion are refused), checks every claim against the
//! injected clock, and remembers a verified signature for a short while so a
//! busy caller does not pay for the signature check on every RPC.

use std::{sync::Arc, time::Duration as StdDuration};

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, Header, Validation};
use moka::sync::Cache;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{TokenSettings, keys::KeyRing};
use crate::{
    error::{DomainError, DomainResult},
    metrics::DomainCounters,
    secret::digest,
};

pub const TOKEN_TYPE: &str = "at+jwt";

/// Whose token it is; admins today, end users once Sessions land.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    Admin,
    User,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: Uuid,
    /// The session this token belongs to.
    pub sid: Uuid,
    /// Principal kind of `sub`.
    pub pty: Subject,
    pub iat: i64,
    pub exp: i64,
    /// Not before. Warden does not set it, but a token carrying one is held
    /// to it (RFC 7519 §4.1.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub jti: Uuid,
}

/// An issued token and how long it lives.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: String,
    pub expires_in: i64,
}

#[derive(Clone)]
pub struct AccessTokens {
    keys: KeyRing,
    settings: TokenSettings,
    /// digest(token) -> verified claims; expiry is re-checked on every hit.
    /// `None` when `verify_cache_seconds` is 0.
    verified: Option<Cache<Vec<u8>, Arc<Claims>>>,
    counters: DomainCounters,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokens").finish_non_exhaustive()
    }
}

impl AccessTokens {
    pub fn new(keys: KeyRing, settings: TokenSettings, counters: DomainCounters) -> Self {
        let verified = (settings.verify_cache_seconds > 0).then(|| {
            Cache::builder()
                .max_capacity(100_000)
                .time_to_live(StdDuration::from_secs(settings.verify_cache_seconds))
                .build()
        });
        Self { keys, settings, verified, counters }
    }

    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    pub fn settings(&self) -> &TokenSettings {
        &self.settings
    }

    pub fn issue(
        &self,
        pty: Subject,
        sub: Uuid,
        sid: Uuid,
        audience: &str,
        now: DateTime<Utc>,
    ) -> DomainResult<Issued> {
        let ttl = self.settings.access_ttl_seconds as i64;
        let claims = Claims {
            iss: self.settings.issuer.clone(),
            aud: audience.to_owned(),
            sub,
            sid,
            pty,
            iat: now.timestamp(),
            exp: now.timestamp() + ttl,
            nbf: None,
            jti: Uuid::now_v7(),
        };
        let (kid, key) = self.keys.signer()?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid);
        header.typ = Some(TOKEN_TYPE.to_owned());
        let token = jsonwebtoken::encode(&header, &claims, &key).map_err(DomainError::internal)?;
        Ok(Issued { token, expires_in: ttl })
    }

    /// Verifies signature, algorithm, `typ`, `iss`, `aud` and times (`exp`
    /// required, `nbf` and `iat` honoured, each with at most 30 s of leeway).
    /// Every failure is INVALID_CREDENTIALS but expiry, which is TOKEN_EXPIRED.
    pub fn verify(
        &self,
        token: &str,
        audience: &str,
        now: DateTime<Utc>,
    ) -> DomainResult<Arc<Claims>> {
        let claims = match &self.verified {
            None => Arc::new(self.verify_signature(token)?),
            Some(cache) => {
                let cache_key = digest(token.as_bytes());
                let cached = cache.get(&cache_key);
                self.counters.token_cache(cached.is_some());
                match cached {
                    Some(claims) => claims,
                    None => {
                        let claims = Arc::new(self.verify_signature(token)?);
                        cache.insert(cache_key, claims.clone());
                        claims
                    }
                }
            }
        };
        let leeway = self.settings.leeway();
        if claims.iss != self.settings.issuer || claims.aud != audience {
            return Err(DomainError::InvalidCredentials);
        }
        // Issued in the future, or not valid yet: a forged or mis-minted token.
        let not_before = claims.nbf.unwrap_or(i64::MIN).max(claims.iat);
        if not_before > now.timestamp() + leeway {
            return Err(DomainError::InvalidCredentials);
        }
        if claims.exp + leeway <= now.timestamp() {
            return Err(DomainError::TokenExpired);
        }
        Ok(claims)
    }

    fn verify_signature(&self, token: &str) -> DomainResult<Claims> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| DomainError::InvalidCredentials)?;
        if header.alg != Algorithm::EdDSA || header.typ.as_deref() != Some(TOKEN_TYPE) {
            return Err(DomainError::InvalidCredentials);
        }
        let kid = header.kid.ok_or(DomainError::InvalidCredentials)?;
        let key = self.keys.verifier(&kid).ok_or(DomainError::InvalidCredentials)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        // Times and audience are checked against the injected clock above.
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|_| DomainError::InvalidCredentials)
    }
}
