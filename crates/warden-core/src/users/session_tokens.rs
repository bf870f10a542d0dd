//! An end user's tokens after sign-in: refreshing a session (rotating, with
//! reuse detection) and verifying an access token for internal services.
//! Disabling a user, a password reset or a revocation shows up here at once,
//! because both read the session and the user on every call.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{Users, sign_in::UserTokens, view};
use crate::{
    audit::{self, Event},
    auth::sessions,
    auth::tokens::access::{Claims, Subject},
    context::{Actor, Context},
    entity::{user_roles, users},
    error::{DomainError, DomainResult},
};

/// A valid end-user access token, as VerifyToken reports it.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub claims: Arc<Claims>,
    pub roles: Vec<String>,
}

impl Users {
    /// Exchanges a refresh token for a new pair; the presented one is spent.
    pub async fn refresh_session(
        &self,
        ctx: &Context,
        presented: &str,
    ) -> DomainResult<UserTokens> {
        let tokens = self.auth.tokens();
        let now = self.now();
        let (txn, session) = sessions::begin_refresh(
            &self.db,
            ctx,
            presented,
            sessions::USER,
            now,
            tokens.settings().refresh_idle(),
            self.auth.counters(),
        )
        .await?;
        let user = users::Entity::find_by_id(session.principal_id)
            .one(&txn)
            .await?
            .ok_or(DomainError::InvalidCredentials)?;
        may_hold_tokens(&user, session.created_at, now)?;
        if user.must_change_password {
            return Err(DomainError::PasswordChangeRequired);
        }
        let refresh_token = sessions::mint_refresh(&txn, &session, now).await?;
        let ctx = Context { actor: Actor::User(user.id), ..ctx.clone() };
        let event = Event::new("user.session_refresh").target("session", session.id);
        audit::record(&txn, &ctx, event, now).await?;
        txn.commit().await?;
        let audience = tokens.settings().user_audience.clone();
        let access = tokens.issue(Subject::User, user.id, session.id, &audience, now)?;
        Ok(UserTokens {
            access_token: access.token,
            refresh_token,
            expires_in: access.expires_in,
            session_id: session.id,
            user_id: user.id,
        })
    }

    /// Checks an end user's access token: signature and claims, a live
    /// session, an active user, and not issued before the user's cut-off.
    pub async fn verify_token(&self, token: &str) -> DomainResult<VerifiedToken> {
        let tokens = self.auth.tokens();
        let now = self.now();
        let claims = tokens.verify(token, &tokens.settings().user_audience, now)?;
        if claims.pty != Subject::User {
            return Err(DomainError::InvalidCredentials);
        }
        sessions::live(&self.db, claims.sid, sessions::USER, claims.sub, now).await?;
        let user = users::Entity::find_by_id(claims.sub)
            .one(&self.db)
            .await?
            .ok_or(DomainError::InvalidCredentials)?;
        let issued = DateTime::from_timestamp(claims.iat, 0).unwrap_or(now);
        may_hold_tokens(&user, issued, now)?;
        let roles = user_roles::Entity::find()
            .filter(user_roles::Column::UserId.eq(user.id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| r.role)
            .collect();
        Ok(VerifiedToken { claims, roles })
    }
}

/// Disabled users hold no tokens; tokens (or sessions) older than the user's
/// cut-off are dead. Seconds: `iat` has no fraction.
fn may_hold_tokens(
    user: &users::Model,
    issued_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    if !view::is_active_at(user, now) {
        return Err(DomainError::AccountDisabled);
    }
    if issued_at.timestamp() < user.tokens_valid_after.timestamp() {
        return Err(DomainError::TokenRevoked);
    }
    Ok(())
}
