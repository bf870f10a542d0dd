//! Admin tokens after sign-in: refresh (rotating, with reuse detection) and
//! logout. Turning an access token back into a principal is
//! `auth::credentials`, shared with API keys.

use super::{Admin, AdminAuth, SignedIn};
use crate::{
    audit::{self, Event},
    auth::{credentials::admin_may_hold_tokens, sessions, tokens::access::Subject},
    context::{Actor, Context},
    error::{DomainError, DomainResult},
    principal::PrincipalKind,
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
            self.auth.tokens().settings().refresh_idle(),
            self.auth.counters(),
        )
        .await?;
        let admin = super::find_by_id(&txn, session.principal_id).await.map_err(gone)?;
        admin_may_hold_tokens(&admin, session.created_at)?;
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
        let audience = self.auth.tokens().settings().admin_audience.clone();
        let access =
            self.auth.tokens().issue(Subject::Admin, admin.id, session.id, &audience, now)?;
        Ok(SignedIn {
            admin: admin.into(),
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

    pub async fn current_admin(&self, ctx: &Context) -> DomainResult<Admin> {
        let (admin_id, _) = caller(ctx)?;
        super::load(&self.db, admin_id.into()).await
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

/// The calling admin and session; only admin tokens have a session.
pub(super) fn caller(ctx: &Context) -> DomainResult<(uuid::Uuid, uuid::Uuid)> {
    match ctx.principal.as_ref().map(|p| &p.kind) {
        Some(PrincipalKind::Admin { admin_id, session_id }) => Ok((*admin_id, *session_id)),
        Some(PrincipalKind::ApiKey { .. }) => Err(DomainError::WrongPrincipal),
        None => Err(DomainError::Unauthenticated),
    }
}
