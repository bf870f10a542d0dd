//! Bearer credentials -> principals, for the authorization layer: `wdn_…`
//! API keys, and admins' access tokens (a live session of an active admin,
//! issued after the admin's cut-off). End users' tokens are never credentials
//! here: services check them with VerifyToken.

use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;
use uuid::Uuid;

use super::{Auth, api_key_credential, prefixed_secret, sessions, tokens::access::Subject};
use crate::{
    entity::admins,
    error::{DomainError, DomainResult},
    principal::{Principal, PrincipalKind},
    scope::AdminRole,
};

impl Auth {
    /// Resolves a bearer credential. Every bad credential is
    /// INVALID_CREDENTIALS (or TOKEN_EXPIRED / TOKEN_REVOKED for one that was
    /// good); a database fault stays UNAVAILABLE, never an authentication error.
    pub async fn authenticate(&self, credential: &str) -> DomainResult<Principal> {
        if prefixed_secret::looks_like(credential) {
            return api_key_credential::authenticate(&self.db, credential, self.now()).await;
        }
        self.authenticate_admin(credential).await
    }

    /// An admin access token -> principal: signature (cached), claims, live
    /// session, active admin, and not older than the admin's cut-off.
    async fn authenticate_admin(&self, token: &str) -> DomainResult<Principal> {
        let now = self.now();
        let audience = &self.tokens.settings().admin_audience;
        let claims = match self.tokens.verify(token, audience, now) {
            // Another replica may have rotated keys since we loaded them.
            Err(DomainError::InvalidCredentials) if self.keys_may_be_stale(token, now).await? => {
                self.tokens.verify(token, audience, now)?
            }
            other => other?,
        };
        if claims.pty != Subject::Admin {
            return Err(DomainError::InvalidCredentials);
        }
        let session =
            sessions::live(&self.db, claims.sid, sessions::ADMIN, claims.sub, now).await?;
        let admin = admins::Entity::find_by_id(claims.sub)
            .one(&self.db)
            .await?
            .ok_or(DomainError::InvalidCredentials)?;
        admin_may_hold_tokens(
            &admin,
            chrono::DateTime::from_timestamp(claims.iat, 0).unwrap_or(session.created_at),
        )?;
        Ok(admin_principal(&admin, session.id))
    }

    /// Reloads the key ring when a token names a key we do not know, at most
    /// once every few seconds. True when a reload happened.
    async fn keys_may_be_stale(
        &self,
        token: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> DomainResult<bool> {
        let Ok(header) = jsonwebtoken::decode_header(token) else { return Ok(false) };
        let unknown = header.kid.is_some_and(|kid| self.tokens.keys().verifier(&kid).is_none());
        if !unknown
            || !self.tokens.keys().may_reload_for_unknown_kid(now, chrono::Duration::seconds(5))
        {
            return Ok(false);
        }
        self.tokens.keys().reload(&self.db, now).await?;
        Ok(true)
    }
}

/// The scopes an admin's role grants, as a principal of that session.
pub(crate) fn admin_principal(admin: &admins::Model, session_id: Uuid) -> Principal {
    let scopes = admin.role.parse::<AdminRole>().map(AdminRole::scopes).unwrap_or_default();
    Principal { kind: PrincipalKind::Admin { admin_id: admin.id, session_id }, scopes }
}

/// Disabled admins hold no tokens; tokens issued before the admin's cut-off
/// (a password reset) are dead. Second granularity: `iat` has no fraction.
pub(crate) fn admin_may_hold_tokens(
    admin: &admins::Model,
    issued_at: DateTime<Utc>,
) -> DomainResult<()> {
    if !admin.is_active {
        return Err(DomainError::AccountDisabled);
    }
    if issued_at.timestamp() < admin.tokens_valid_after.timestamp() {
        return Err(DomainError::TokenRevoked);
    }
    Ok(())
}
