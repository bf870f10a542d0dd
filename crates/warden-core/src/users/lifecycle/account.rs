//! Account state: DisableUser, EnableUser, SetPassword, ForcePasswordChange.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, Set};

use super::{PasswordSource, generate_password, lock};
use crate::{
    audit::{self, Event},
    auth::sessions::{self, USER},
    context::Context,
    entity::users,
    error::DomainResult,
    secret::SecretString,
    users::{User, Users, view},
    values::UserId,
};

/// Longest disable reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// DisableUser's input.
#[derive(Debug, Clone)]
pub struct DisableUser {
    pub id: UserId,
    /// Trimmed, at most 500 characters; `None`: none given.
    pub reason: Option<String>,
    /// In the future; `None`: until EnableUser.
    pub until: Option<DateTime<Utc>>,
}

/// SetPassword's input.
#[derive(Debug, Clone)]
pub struct SetPassword {
    pub id: UserId,
    pub password: PasswordSource,
    pub must_change_password: bool,
    pub revoke_sessions: bool,
}

/// The answer to SetPassword.
#[derive(Debug)]
pub struct PasswordSet {
    pub sessions_revoked: u64,
    pub must_change_password: bool,
    /// Only with `generate_password`; shown once.
    pub generated_password: Option<SecretString>,
}

impl Users {
    /// DisableUser: the user can no longer sign in, every live session is
    /// revoked and every token issued before now stops working
    /// (`tokens_valid_after`). With `until` the disable lifts itself then
    /// (the view and sign-in read it through `view::is_active_at`). Calling
    /// it again replaces reason and until.
    pub async fn disable_user(
        &self,
        ctx: &Context,
        input: DisableUser,
    ) -> DomainResult<(User, u64)> {
        let now = self.now();
        let reason = input.reason;
        let until = input.until.map(|t| chrono::SubsecRound::trunc_subsecs(t, 6));
        let id = input.id.uuid();
        let txn = crate::db::begin_write(&self.db).await?;
        let old = lock(&txn, id).await?;
        let mut model: users::ActiveModel = old.into();
        model.is_active = Set(false);
        model.disabled_reason = Set(reason.clone());
        model.disabled_until = Set(until);
        model.tokens_valid_after = Set(now);
        model.updated_at = Set(now);
        let updated = model.update(&txn).await?;
        let revoked = sessions::revoke_all(&txn, USER, id, None, "user_disabled", now).await?;
        let event = Event::new("user.disable")
            .target("user", id)
            .meta("reason", reason)
            .meta("until", until.map(|t| t.to_rfc3339()))
            .meta("revoked_sessions", revoked);
        audit::record(&txn, ctx, event, now).await?;
        let user = view::load_one(&txn, updated, now).await?;
        txn.commit().await?;
        Ok((user, revoked))
    }

    /// EnableUser: clears a disable and a failed-login lock. On a user with
    /// neither it changes nothing and records nothing.
    pub async fn enable_user(&self, ctx: &Context, id: UserId) -> DomainResult<User> {
        let id = id.uuid();
        let now = self.now();
        let txn = crate::db::begin_write(&self.db).await?;
        let old = lock(&txn, id).await?;
        let untouched = old.is_active
            && old.disabled_reason.is_none()
            && old.disabled_until.is_none()
            && old.failed_login_count == 0
            && old.locked_until.is_none();
        if untouched {
            let user = view::load_one(&txn, old, now).await?;
            txn.commit().await?;
            return Ok(user);
        }
        let was_disabled = !old.is_active;
        let was_locked = view::is_locked_at(&old, now);
        let mut model: users::ActiveModel = old.into();
        model.is_active = Set(true);
        model.disabled_reason = Set(None);
        model.disabled_until = Set(None);
        model.failed_login_count = Set(0);
        model.locked_until = Set(None);
        model.updated_at = Set(now);
        let updated = model.update(&txn).await?;
        let event = Event::new("user.enable")
            .target("user", id)
            .meta("was_disabled", was_disabled)
            .meta("was_locked", was_locked);
        audit::record(&txn, ctx, event, now).await?;
        let user = view::load_one(&txn, updated, now).await?;
        txn.commit().await?;
        Ok(user)
    }

    /// SetPassword: a given (policy-checked) or generated password, hashed
    /// before the transaction. `revoke_sessions` also ends every session and
    /// invalidates every token issued so far.
    pub async fn set_password(
        &self,
        ctx: &Context,
        input: SetPassword,
    ) -> DomainResult<PasswordSet> {
        let (password, generated) = match input.password {
            PasswordSource::Given(given) => (given, false),
            PasswordSource::Generate => (generate_password(self.settings.min_password_chars), true),
        };
        let hash = self.auth.passwords().hash(password.secret()).await?;
        let now = self.now();
        let id = input.id.uuid();
        let txn = crate::db::begin_write(&self.db).await?;
        let old = lock(&txn, id).await?;
        let mut model: users::ActiveModel = old.into();
        model.password_hash = Set(Some(hash));
        model.must_change_password = Set(input.must_change_password);
        if input.revoke_sessions {
            model.tokens_valid_after = Set(now);
        }
        model.updated_at = Set(now);
        model.update(&txn).await?;
        let revoked = match input.revoke_sessions {
            true => sessions::revoke_all(&txn, USER, id, None, "password_set", now).await?,
            false => 0,
        };
        let event = Event::new("user.set_password")
            .target("user", id)
            .meta("password", if generated { "generated" } else { "given" })
            .meta("must_change_password", input.must_change_password)
            .meta("revoked_sessions", revoked);
        audit::record(&txn, ctx, event, now).await?;
        txn.commit().await?;
        Ok(PasswordSet {
            sessions_revoked: revoked,
            must_change_password: input.must_change_password,
            generated_password: generated.then(|| password.into_secret()),
        })
    }

    /// ForcePasswordChange: the next sign-in must set a new password.
    pub async fn force_password_change(&self, ctx: &Context, id: UserId) -> DomainResult<User> {
        let id = id.uuid();
        let now = self.now();
        let txn = crate::db::begin_write(&self.db).await?;
        let old = lock(&txn, id).await?;
        let mut model: users::ActiveModel = old.into();
        model.must_change_password = Set(true);
        model.updated_at = Set(now);
        let updated = model.update(&txn).await?;
        audit::record(&txn, ctx, Event::new("user.force_password_change").target("user", id), now)
            .await?;
        let user = view::load_one(&txn, updated, now).await?;
        txn.commit().await?;
        Ok(user)
    }
}
