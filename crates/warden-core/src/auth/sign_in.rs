//! Password sign-in, the same for every account kind (the idea of kanidm's
//! one `authsession` for all accounts). A kind supplies only its account
//! lookup and its final checks (is it active? must it change its password?);
//! this module does the rest identically for all:
//!
//! 1. lockout first: the attempt is claimed on the account's counter, or on
//!    the identifier's own counter when no account has it;
//! 2. the password, against the stored hash (argon2 through the bounded
//!    hasher, imported bcrypt/scrypt/pbkdf2/argon2i through `legacy_hash`),
//!    or against a dummy hash when there is no account or no password, so an
//!    unknown identifier costs what a wrong password does;
//! 3. a failure is counted and answered INVALID_CREDENTIALS (or
//!    ACCOUNT_LOCKED at the limit), audited under the kind's action;
//! 4. a success says whether the stored hash must be replaced by today's
//!    argon2id ([`Proven::rehash`]), which [`record_success`] stores with
//!    the counter reset in the caller's transaction.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

use super::{
    Auth, legacy_hash,
    lockout::{AccountKind, Counter, Lockout},
    password::Verified,
};
use crate::{
    audit::{self, Event, Outcome},
    context::Context,
    entity::{admins, users},
    error::{DomainError, DomainResult},
    metrics::SignInOutcome,
    secret::SecretString,
    values::{Invalid, all, required},
};

/// What a password sign-in presents: who (an email, username or phone, as
/// typed) and the password. Both are required; the password is at most
/// 1024 characters. Whether the identifier names anyone is the sign-in's
/// business: a malformed one simply finds nobody.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Trimmed.
    pub identifier: String,
    pub password: SecretString,
}

impl Credentials {
    pub fn parse(
        identifier_field: &str,
        identifier: &str,
        password: String,
    ) -> Result<Self, Invalid> {
        let identifier = identifier.trim();
        let (_, password) = all((
            required(identifier_field, identifier),
            super::password::presented("password", password),
        ))?;
        Ok(Self { identifier: identifier.to_owned(), password })
    }
}

/// What an account kind shows password sign-in.
pub trait Account {
    /// Its lockout counters and its audit target kind.
    const KIND: AccountKind;
    fn id(&self) -> Uuid;
    /// A PHC or MCF string; `None` for an account without a password.
    fn password_hash(&self) -> Option<&str>;
}

impl Account for admins::Model {
    const KIND: AccountKind = AccountKind::Admin;
    fn id(&self) -> Uuid {
        self.id
    }
    fn password_hash(&self) -> Option<&str> {
        Some(&self.password_hash)
    }
}

impl Account for users::Model {
    const KIND: AccountKind = AccountKind::User;
    fn id(&self) -> Uuid {
        self.id
    }
    fn password_hash(&self) -> Option<&str> {
        self.password_hash.as_deref()
    }
}

/// An account whose password was right.
#[derive(Debug)]
pub struct Proven<A> {
    pub account: A,
    /// Today's argon2id hash of the password, when the stored one is of
    /// another family or older parameters and must be replaced.
    pub rehash: Option<String>,
    /// The replaced hash's family, for the audit row (never the hash).
    pub upgraded_from: Option<&'static str>,
}

/// One sign-in attempt: the audit action its refusals are recorded under.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub ctx: &'a Context,
    /// e.g. `admin.login`, `user.sign_in`.
    pub action: &'static str,
}

impl Auth {
    /// Steps 1-3 above for `found`, the account the (normalized) identifier
    /// named, if any.
    pub async fn check_password<A: Account>(
        &self,
        attempt: Attempt<'_>,
        identifier: &str,
        found: Option<A>,
        password: &SecretString,
    ) -> DomainResult<Proven<A>> {
        let account_id = found.as_ref().map(Account::id);
        let counter = Counter::of(A::KIND, account_id, identifier);
        let lockout = Lockout::new(&self.lockout);
        let now = self.now();
        if let Err(err) = lockout.claim(&self.db, counter, now).await {
            return self.refuse(attempt, A::KIND, account_id, err).await;
        }
        let stored = found.as_ref().and_then(Account::password_hash);
        let (Some(upgrade_from), Some(account)) = (self.verify(password, stored).await?, found)
        else {
            let err = lockout.record_failure(&self.db, counter, now).await?;
            if matches!(err, DomainError::AccountLocked { .. }) {
                self.counters.lockout(A::KIND.into());
            }
            return self.refuse(attempt, A::KIND, account_id, err).await;
        };
        let rehash = match upgrade_from {
            Some(_) => Some(self.passwords.hash(password).await?),
            None => None,
        };
        Ok(Proven { account, rehash, upgraded_from: upgrade_from })
    }

    /// Records a refused sign-in (its own row: nothing else changed) and
    /// answers `err`. Final checks of a kind (a disabled account) use it too.
    pub async fn refuse<T>(
        &self,
        attempt: Attempt<'_>,
        kind: AccountKind,
        account: Option<Uuid>,
        err: DomainError,
    ) -> DomainResult<T> {
        let mut event = Event::new(attempt.action).outcome(Outcome::Failure, err.reason());
        if let Some(id) = account {
            event = event.target(kind.as_str(), id);
        }
        audit::record(&self.db, attempt.ctx, event, self.now()).await?;
        self.counters.sign_in(kind.into(), SignInOutcome::refused(&err));
        Err(err)
    }

    /// Counts a sign-in that got past the password: tokens, or a challenge.
    pub fn count_sign_in(&self, kind: AccountKind, challenged: bool) {
        let outcome = if challenged { SignInOutcome::Challenge } else { SignInOutcome::Success };
        self.counters.sign_in(kind.into(), outcome);
    }

    /// `None`: no match. `Some(family)`: a match, naming the stored hash's
    /// family when it must be upgraded. No hash at all costs a dummy check.
    async fn verify(
        &self,
        password: &SecretString,
        stored: Option<&str>,
    ) -> DomainResult<Option<Option<&'static str>>> {
        if let Some(legacy) = stored.filter(|hash| !hash.starts_with("$argon2")) {
            if !legacy_hash::verify(password, legacy).await? {
                return Ok(None);
            }
            let family =
                legacy_hash::identify(legacy).map_or("unknown", legacy_hash::Family::as_str);
            return Ok(Some(Some(family)));
        }
        let family = match stored {
            Some(hash) if hash.starts_with("$argon2i$") => "argon2i",
            _ => "argon2id",
        };
        Ok(match self.passwords.verify(password, stored).await? {
            Verified::Match { needs_rehash } => Some(needs_rehash.then_some(family)),
            Verified::NoMatch => None,
        })
    }
}

/// In the caller's success transaction: the counter starts again, the hash
/// is upgraded when `rehash` is set, and `signed_in_at` (when given, i.e. the
/// sign-in completed rather than stopping at a challenge) is the last login.
pub async fn record_success<C: ConnectionTrait>(
    conn: &C,
    kind: AccountKind,
    id: Uuid,
    rehash: Option<String>,
    signed_in_at: Option<DateTime<Utc>>,
) -> DomainResult<()> {
    macro_rules! update {
        ($entity:ident) => {{
            use $entity::Column;
            let none = Option::<DateTime<Utc>>::None;
            let mut update = $entity::Entity::update_many()
                .col_expr(Column::FailedLoginCount, Expr::value(0))
                .col_expr(Column::LockedUntil, Expr::value(none))
                .col_expr(Column::LastFailedAt, Expr::value(none));
            if let Some(at) = signed_in_at {
                update = update.col_expr(Column::LastLoginAt, Expr::value(at));
            }
            if let Some(hash) = rehash {
                update = update.col_expr(Column::PasswordHash, Expr::value(hash));
            }
            update.filter(Column::Id.eq(id)).exec(conn).await?;
        }};
    }
    match kind {
        AccountKind::Admin => update!(admins),
        AccountKind::User => update!(users),
    }
    Ok(())
}
