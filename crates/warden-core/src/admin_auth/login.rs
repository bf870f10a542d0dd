//! Admin sign-in: the account lookup and final checks that `auth::sign_in`
//! asks of each account kind. Everything else (lockout for known and unknown
//! emails alike, the dummy hash, rehash on login) is the shared sign-in.

use chrono::{DateTime, Utc};

use super::{AdminAuth, SignedIn, find_by_email};
use crate::{
    audit::{self, Event},
    auth::{
        lockout::AccountKind,
        password::MAX_PASSWORD_CHARS,
        sessions,
        sign_in::{Attempt, Proven, record_success},
        tokens::access::Subject,
    },
    context::{Actor, Context},
    email,
    entity::admins,
    error::{DomainError, DomainResult},
    secret::SecretString,
};

/// The audit action of admin sign-ins, successful or not.
const ACTION: &str = "admin.login";

impl AdminAuth {
    pub async fn login(
        &self,
        ctx: &Context,
        email: &str,
        password: &SecretString,
    ) -> DomainResult<SignedIn> {
        let mut violations = crate::Violations::new();
        if email.trim().is_empty() {
            violations.push("email", "is required");
        }
        if password.expose().is_empty() {
            violations.push("password", "is required");
        }
        if password.expose().chars().count() > MAX_PASSWORD_CHARS {
            violations.push("password", "must be at most 1024 characters");
        }
        violations.finish()?;

        // A malformed email cannot belong to an admin: same answer as unknown.
        let (admin, identifier) = match email::parse("email", email) {
            Ok(email) => (find_by_email(&self.db, &email.normalized).await?, email.normalized),
            Err(_) => (None, email.trim().to_lowercase()),
        };
        let attempt = Attempt { ctx, action: ACTION };
        let Proven { account: admin, rehash, .. } =
            self.auth.check_password(attempt, &identifier, admin, password).await?;
        if !admin.is_active {
            let err = DomainError::AccountDisabled;
            return self.auth.refuse(attempt, AccountKind::Admin, Some(admin.id), err).await;
        }
        let signed_in = self.succeed(ctx, admin, rehash, self.now()).await?;
        self.auth.count_sign_in(AccountKind::Admin, false);
        Ok(signed_in)
    }

    async fn succeed(
        &self,
        ctx: &Context,
        admin: admins::Model,
        rehash: Option<String>,
        now: DateTime<Utc>,
    ) -> DomainResult<SignedIn> {
        let txn = crate::db::begin_write(&self.db).await?;
        record_success(&txn, AccountKind::Admin, admin.id, rehash, Some(now)).await?;
        let session =
            sessions::open(&txn, sessions::ADMIN, admin.id, &ctx.call, now, self.refresh_ttl())
                .await?;
        let refresh_token = sessions::mint_refresh(&txn, &session, now).await?;
        let ctx = Context { actor: Actor::Admin(admin.id), ..ctx.clone() };
        let event =
            Event::new(ACTION).target("admin", admin.id).meta("session_id", session.id.to_string());
        audit::record(&txn, &ctx, event, now).await?;
        txn.commit().await?;

        let audience = self.auth.tokens().settings().admin_audience.clone();
        let access =
            self.auth.tokens().issue(Subject::Admin, admin.id, session.id, &audience, now)?;
        let admin = super::find_by_id(&self.db, admin.id).await?;
        Ok(SignedIn {
            admin,
            access_token: access.token,
            refresh_token,
            expires_in: access.expires_in,
        })
    }
}
