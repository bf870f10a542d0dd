//! Admin sign-in. Unknown email and wrong password look and cost the same.
//! Lockout (shared with end users, see `crate::lockout`) is decided before
//! the password is checked.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait, sea_query::Expr};

use super::{AdminAuth, SignedIn, find_by_email};
use crate::{
    audit::{self, Event, Outcome},
    context::{Actor, Context},
    email,
    entity::admins,
    error::{DomainError, DomainResult},
    lockout::{Columns, Lockout},
    metrics::{self, Account, SignInOutcome},
    password::{MAX_PASSWORD_CHARS, Verified},
    secret::SecretString,
    sessions,
    tokens::access::Subject,
};

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
        let admin = match email::parse("email", email) {
            Ok(email) => find_by_email(&self.db, &email.normalized).await?,
            Err(_) => None,
        };
        let Some(admin) = admin else {
            self.passwords.verify(password, None).await?;
            return self
                .fail(ctx, None, "INVALID_CREDENTIALS", DomainError::InvalidCredentials)
                .await;
        };

        let now = self.now();
        if let Err(err) = self.claim_attempt(&admin, now).await {
            return self.fail(ctx, Some(&admin), err.reason(), err).await;
        }
        match self.passwords.verify(password, Some(&admin.password_hash)).await? {
            Verified::NoMatch => {
                let err = self.record_failure(&admin, now).await?;
                if let DomainError::AccountLocked { .. } = err {
                    metrics::lockout(Account::Admin);
                }
                self.fail(ctx, Some(&admin), err.reason(), err).await
            }
            Verified::Match { needs_rehash } => {
                if !admin.is_active {
                    return self
                        .fail(ctx, Some(&admin), "ACCOUNT_DISABLED", DomainError::AccountDisabled)
                        .await;
                }
                let rehash =
                    if needs_rehash { Some(self.passwords.hash(password).await?) } else { None };
                self.succeed(ctx, admin, rehash, now).await
            }
        }
    }

    /// The shared lockout policy over the admins table.
    fn lockout_policy(&self) -> Lockout<'_, admins::Entity> {
        Lockout::new(
            &self.lockout,
            Columns {
                id: admins::Column::Id,
                failed_count: admins::Column::FailedLoginCount,
                locked_until: admins::Column::LockedUntil,
            },
        )
    }

    async fn claim_attempt(&self, admin: &admins::Model, now: DateTime<Utc>) -> DomainResult<()> {
        self.lockout_policy().claim(&self.db, admin.id, now).await
    }

    async fn record_failure(
        &self,
        admin: &admins::Model,
        now: DateTime<Utc>,
    ) -> DomainResult<DomainError> {
        self.lockout_policy().record_failure(&self.db, admin.id, now).await
    }

    async fn succeed(
        &self,
        ctx: &Context,
        admin: admins::Model,
        rehash: Option<String>,
        now: DateTime<Utc>,
    ) -> DomainResult<SignedIn> {
        let txn = self.db.begin().await?;
        let mut update = admins::Entity::update_many()
            .col_expr(admins::Column::FailedLoginCount, Expr::value(0))
            .col_expr(admins::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(admins::Column::LastLoginAt, Expr::value(now));
        if let Some(hash) = rehash {
            update = update.col_expr(admins::Column::PasswordHash, Expr::value(hash));
        }
        update.filter(admins::Column::Id.eq(admin.id)).exec(&txn).await?;
        let session =
            sessions::open(&txn, sessions::ADMIN, admin.id, &ctx.call, now, self.refresh_ttl())
                .await?;
        let refresh_token = sessions::mint_refresh(&txn, &session, now).await?;
        let ctx = Context { actor: Actor::Admin(admin.id), ..ctx.clone() };
        let event = Event::new("admin.login")
            .target("admin", admin.id)
            .meta("session_id", session.id.to_string());
        audit::record(&txn, &ctx, event, now).await?;
        txn.commit().await?;

        let audience = self.tokens.settings().admin_audience.clone();
        let access = self.tokens.issue(Subject::Admin, admin.id, session.id, &audience, now)?;
        let admin = super::find_by_id(&self.db, admin.id).await?;
        metrics::sign_in(Account::Admin, SignInOutcome::Success);
        Ok(SignedIn {
            admin,
            access_token: access.token,
            refresh_token,
            expires_in: access.expires_in,
        })
    }

    /// Records a failed sign-in (its own row: nothing else changed) and answers `err`.
    async fn fail<T>(
        &self,
        ctx: &Context,
        admin: Option<&admins::Model>,
        reason: &str,
        err: DomainError,
    ) -> DomainResult<T> {
        let mut event = Event::new("admin.login").outcome(Outcome::Failure, reason);
        if let Some(admin) = admin {
            event = event.target("admin", admin.id);
        }
        audit::record(&self.db, ctx, event, self.now()).await?;
        metrics::sign_in(Account::Admin, SignInOutcome::refused(&err));
        Err(err)
    }
}
