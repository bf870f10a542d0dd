//! Admin sign-in: the account lookup and final checks that `auth::sign_in`
//! asks of each account kind. Everything else (lockout for known and unknown
//! emails alike, the dummy hash, rehash on login) is the shared sign-in.

use chrono::{DateTime, Utc};

use super::{AdminAuth, SignedIn, find_by_email};
use crate::{
    audit::{self, Event},
    auth::{
        lockout::AccountKind,
        sessions,
        sign_in::{Attempt, Credentials, Proven, record_success},
        tokens::access::Subject,
    },
    context::{Actor, Context},
    entity::admins,
    error::{DomainError, DomainResult},
    values::Email,
};

/// The audit action of admin sign-ins, successful or not.
const ACTION: &str = "admin.login";

impl AdminAuth {
    /// `credentials.identifier` is the email.
    pub async fn login(&self, ctx: &Context, credentials: &Credentials) -> DomainResult<SignedIn> {
        // A malformed email cannot belong to an admin: same answer as unknown.
        let (admin, identifier) = match Email::parse("email", &credentials.identifier) {
            Ok(email) => {
                (find_by_email(&self.db, email.normalized()).await?, email.normalized().to_owned())
            }
            Err(_) => (None, credentials.identifier.to_lowercase()),
        };
        let attempt = Attempt { ctx, action: ACTION };
        let password = &credentials.password;
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
        let admin = super::load(&self.db, admin.id.into()).await?;
        Ok(SignedIn {
            admin,
            access_token: access.token,
            refresh_token,
            expires_in: access.expires_in,
        })
    }
}
