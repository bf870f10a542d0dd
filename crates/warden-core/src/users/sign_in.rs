//! End-user sign-in with a password (SessionsService.CreateSession).
//!
//! An unknown identifier and a wrong password give the same error at the
//! same cost (a dummy argon2id verification). Lockout is the admins' policy
//! (`crate::lockout`) over the users table. A disabled account is only told
//! after a correct password. A hash imported from another system (bcrypt,
//! scrypt, pbkdf2, argon2i, older argon2id parameters) is verified and
//! replaced with today's argon2id in the same transaction that opens the
//! session. `must_change_password` (and MFA) answer a challenge, not tokens.

mod check;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait, sea_query::Expr};
use uuid::Uuid;

use super::{Users, fields, view};
use crate::{
    admin_auth::LockoutSettings,
    audit::{self, Event, Outcome},
    context::{Actor, CallInfo, Context},
    email,
    entity::users,
    error::{DomainError, DomainResult},
    lockout::{Columns, Lockout},
    metrics::{self, Account, SignInOutcome},
    password::MAX_PASSWORD_CHARS,
    secret::SecretString,
    sessions,
    tokens::access::{AccessTokens, Subject},
};

/// How long a sign-in challenge token can be answered.
pub const CHALLENGE_TTL_SECONDS: i64 = 300;
/// `verification_tokens.purpose` of the challenge tokens (VerifyChallenge
/// consumes them).
pub const PASSWORD_CHANGE_CHALLENGE: &str = "sign_in_password_change";
pub const MFA_CHALLENGE: &str = "sign_in_mfa";

/// What sign-in needs besides the users themselves.
#[derive(Debug, Clone, Copy)]
pub struct SignInPolicy<'a> {
    pub tokens: &'a AccessTokens,
    pub lockout: &'a LockoutSettings,
}

#[derive(Debug, Clone)]
pub struct SignInRequest {
    /// Email, username or E.164 phone.
    pub identifier: String,
    pub password: SecretString,
    /// The end user's device as the relaying service saw it; recorded on the
    /// session (the call's own peer is the relaying service).
    pub client: CallInfo,
}

#[derive(Debug, Clone)]
pub struct UserTokens {
    pub access_token: String,
    pub refresh_token: SecretString,
    pub expires_in: i64,
    pub session_id: Uuid,
    pub user_id: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeKind {
    PasswordChangeRequired,
    MfaRequired,
}

#[derive(Debug, Clone)]
pub struct Challenge {
    pub kind: ChallengeKind,
    /// Opaque and single-use; only its digest is stored.
    pub token: SecretString,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub enum SignedIn {
    Tokens(UserTokens),
    Challenge(Challenge),
}

fn lockout(settings: &LockoutSettings) -> Lockout<'_, users::Entity> {
    Lockout::new(
        settings,
        Columns {
            id: users::Column::Id,
            failed_count: users::Column::FailedLoginCount,
            locked_until: users::Column::LockedUntil,
        },
    )
}

impl Users {
    pub async fn sign_in(
        &self,
        ctx: &Context,
        policy: SignInPolicy<'_>,
        request: SignInRequest,
    ) -> DomainResult<SignedIn> {
        let mut violations = crate::Violations::new();
        if request.identifier.trim().is_empty() {
            violations.push("identifier", "is required");
        }
        if request.password.expose().is_empty() {
            violations.push("password", "is required");
        } else if request.password.expose().chars().count() > MAX_PASSWORD_CHARS {
            violations.push("password", "must be at most 1024 characters");
        }
        violations.finish()?;

        let Some(user) = self.find_by_identifier(&request.identifier).await? else {
            self.passwords.verify(&request.password, None).await?;
            return self.refuse(ctx, None, DomainError::InvalidCredentials).await;
        };
        let now = self.now();
        let lockout = lockout(policy.lockout);
        if let Err(err) = lockout.claim(&self.db, user.id, now).await {
            return self.refuse(ctx, Some(user.id), err).await;
        }
        let check::Checked::Match { upgrade_from } =
            self.check_password(&request.password, user.password_hash.as_deref()).await?
        else {
            let err = lockout.record_failure(&self.db, user.id, now).await?;
            if let DomainError::AccountLocked { .. } = err {
                metrics::lockout(Account::User);
            }
            return self.refuse(ctx, Some(user.id), err).await;
        };
        if !view::is_active_at(&user, now) {
            return self.refuse(ctx, Some(user.id), DomainError::AccountDisabled).await;
        }
        let rehash = match upgrade_from {
            Some(_) => Some(self.passwords.hash(&request.password).await?),
            None => None,
        };
        let challenge = if user.must_change_password {
            Some(ChallengeKind::PasswordChangeRequired)
        } else if user.mfa_enabled {
            Some(ChallengeKind::MfaRequired)
        } else {
            None
        };
        let ctx = Context { actor: Actor::User(user.id), ..ctx.clone() };
        let txn = self.db.begin().await?;
        let mut update = users::Entity::update_many()
            .col_expr(users::Column::FailedLoginCount, Expr::value(0))
            .col_expr(users::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None));
        if challenge.is_none() {
            update = update.col_expr(users::Column::LastLoginAt, Expr::value(now));
        }
        if let Some(hash) = rehash {
            update = update.col_expr(users::Column::PasswordHash, Expr::value(hash));
        }
        update.filter(users::Column::Id.eq(user.id)).exec(&txn).await?;

        if let Some(kind) = challenge {
            let challenge = check::open_challenge(&txn, user.id, kind, now).await?;
            let event = Event::new("user.sign_in_challenge")
                .target("user", user.id)
                .meta("challenge", check::challenge_reason(kind));
            audit::record(&txn, &ctx, with_upgrade(event, upgrade_from), now).await?;
            txn.commit().await?;
            metrics::sign_in(Account::User, SignInOutcome::Challenge);
            return Ok(SignedIn::Challenge(challenge));
        }
        let ttl = Duration::seconds(policy.tokens.settings().refresh_ttl_seconds as i64);
        let session =
            sessions::open(&txn, sessions::USER, user.id, &request.client, now, ttl).await?;
        let refresh_token = sessions::mint_refresh(&txn, &session, now).await?;
        let event = Event::new("user.sign_in")
            .target("user", user.id)
            .meta("session_id", session.id.to_string());
        audit::record(&txn, &ctx, with_upgrade(event, upgrade_from), now).await?;
        txn.commit().await?;

        let audience = &policy.tokens.settings().user_audience;
        let access = policy.tokens.issue(Subject::User, user.id, session.id, audience, now)?;
        metrics::sign_in(Account::User, SignInOutcome::Success);
        Ok(SignedIn::Tokens(UserTokens {
            access_token: access.token,
            refresh_token,
            expires_in: access.expires_in,
            session_id: session.id,
            user_id: user.id,
        }))
    }

    /// By email (normalized), E.164 phone, or username (normalized). Input
    /// that cannot be any of them finds nobody, like an unknown one.
    async fn find_by_identifier(&self, identifier: &str) -> DomainResult<Option<users::Model>> {
        let identifier = identifier.trim();
        let filter = if identifier.contains('@') {
            let Ok(email) = email::parse("identifier", identifier) else { return Ok(None) };
            users::Column::EmailNormalized.eq(email.normalized)
        } else if identifier.starts_with('+') {
            users::Column::Phone.eq(identifier)
        } else {
            let Ok(Some((_, normalized))) = fields::username("identifier", identifier) else {
                return Ok(None);
            };
            users::Column::UsernameNormalized.eq(normalized)
        };
        Ok(users::Entity::find().filter(filter).one(&self.db).await?)
    }

    /// Records a refused sign-in (its own row: nothing else changed) and answers `err`.
    async fn refuse<T>(
        &self,
        ctx: &Context,
        user: Option<Uuid>,
        err: DomainError,
    ) -> DomainResult<T> {
        let mut event = Event::new("user.sign_in").outcome(Outcome::Failure, err.reason());
        if let Some(user) = user {
            event = event.target("user", user);
        }
        audit::record(&self.db, ctx, event, self.now()).await?;
        metrics::sign_in(Account::User, SignInOutcome::refused(&err));
        Err(err)
    }
}

/// Names the replaced hash's family in the audit row (never the hash).
fn with_upgrade(event: Event, upgrade_from: Option<&'static str>) -> Event {
    match upgrade_from {
        Some(family) => {
            event.meta("password_upgraded", true).meta("password_upgraded_from", family)
        }
        None => event,
    }
}
