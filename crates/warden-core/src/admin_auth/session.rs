//! Admin tokens after sign-in: refresh (rotating, with reuse detection),
//! logout, and turning an access token back into a principal.

use super::{AdminAuth, SignedIn, principal_for};
use crate::{
    audit::{self, Event},
    context::{Actor, Context},
    entity::admins,
    error::{DomainError, DomainResult},
    principal::{Principal, PrincipalKind},
    sessions,
    tokens::access::Subject,
};

impl AdminAuth {
    pub async fn refresh(&self, ctx: &Context, presented: &str) -> DomainResult<SignedIn> {
        let now = self.now();
        let (txn, session) = sessions::begin_refresh(
            &self.db,
            ctx,
            presented,
            sessions::ADMIN,
            now,
            self.tokens.settings().refresh_idle(),
        )
        .await?;
        let admin = super::find_by_id(&txn, session.principal_id).await.map_err(gone)?;
        check_admin_may_hold_tokens(&admin, session.created_at)?;
        let refresh_token = sessions::mint_refresh(&txn, &session, now).await?;
        let ctx = Context { actor: Actor::Admin(admin.id), ..ctx.clone() };
        audit::record(
            &txn,
            &ctx,
            Event::new("admin.token_refresh").target("session", session.id),
            now,
        )
        .await?;
        txn.commit().await?;
        let audience = self.tokens.settings().admin_audience.clone();
        let access = self.tokens.issue(Subject::Admin, admin.id, session.id, &audience, now)?;
        Ok(SignedIn {
            admin,
            access_token: access.token,
            refresh_token,
            expires_in: access.expires_in,
        })
    }

    /// Revokes the caller's own session.
    pub async fn logout(&self, ctx: &Context) -> DomainResult<()> {
        let (admin_id, session_id) = caller(ctx)?;
        let now = self.now();
        let txn = crate::db::begin_write(&self.db).await?;
        sessions::revoke(&txn, session_id, "logout", now).await?;
        audit::record(
            &txn,
            ctx,
            Event::new("admin.logout")
                .target("admin", admin_id)
                .meta("session_id", session_id.to_string()),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn current_admin(&self, ctx: &Context) -> DomainResult<admins::Model> {
        let (admin_id, _) = caller(ctx)?;
        super::find_by_id(&self.db, admin_id).await
    }

    /// An admin access token -> principal: signature (cached), claims, live
    /// session, active admin, and not older than the admin's cut-off.
    pub async fn authenticate(&self, token: &str) -> DomainResult<Principal> {
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
        let admin = super::find_by_id(&self.db, claims.sub).await.map_err(gone)?;
        check_admin_may_hold_tokens(
            &admin,
            chrono::DateTime::from_timestamp(claims.iat, 0).unwrap_or(session.created_at),
        )?;
        Ok(principal_for(&admin, session.id))
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

/// A token whose admin was deleted is a bad credential; any other failure
/// (the database being down) stays what it is, never an authentication error.
fn gone(err: DomainError) -> DomainError {
    match err {
        DomainError::NotFound { .. } => DomainError::InvalidCredentials,
        other => other,
    }
}

/// Disabled admins hold no tokens; tokens issued before the admin's cut-off
/// (a password reset) are dead. Second granularity: `iat` has no fraction.
fn check_admin_may_hold_tokens(
    admin: &admins::Model,
    issued_at: chrono::DateTime<chrono::Utc>,
) -> DomainResult<()> {
    if !admin.is_active {
        return Err(DomainError::AccountDisabled);
    }
    if issued_at.timestamp() < admin.tokens_valid_after.timestamp() {
        return Err(DomainError::TokenRevoked);
    }
    Ok(())
}

/// The calling admin and session; only admin tokens have a session.
pub(super) fn caller(ctx: &Context) -> DomainResult<(uuid::Uuid, uuid::Uuid)> {
    match ctx.principal.as_ref().map(|p| &p.kind) {
        Some(PrincipalKind::Admin { admin_id, session_id }) => Ok((*admin_id, *session_id)),
        Some(PrincipalKind::ApiKey { .. }) => Err(DomainError::WrongPrincipal),
        None => Err(DomainError::Unauthenticated),
    }
}
