//! CreateUser and GetUser.

use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{PasswordSource, find, generate_password, not_found};
use crate::{
    audit::{self, Event},
    context::Context,
    entity::users,
    error::{DomainError, DomainResult},
    idempotency::{self, RequestKey},
    secret::SecretString,
    users::{
        User, Users,
        fields::{self, NewUser, Username},
        view,
    },
    values::{Email, RequestId, UserId},
};

/// The idempotency operation name for CreateUser's `request_id`.
const OPERATION: &str = "CreateUser";

/// CreateUser's input.
#[derive(Debug, Clone)]
pub struct CreateUser {
    pub user: NewUser,
    pub password: PasswordSource,
    pub request_id: Option<RequestId>,
}

impl CreateUser {
    /// What a retry must repeat exactly. The password itself stays out: the
    /// digest is a fast hash, and a stored fast hash of a password is an
    /// offline-cracking target.
    fn fingerprint(&self) -> String {
        let password = match &self.password {
            PasswordSource::Given(_) => "given",
            PasswordSource::Generate => "generated",
        };
        format!("{:?}|{password}", self.user)
    }
}

/// The answer to CreateUser.
#[derive(Debug)]
pub struct Created {
    pub user: User,
    /// Only with `generate_password`, and only the first time: a retry with
    /// the same request_id cannot show it again (only its hash is kept).
    pub generated_password: Option<SecretString>,
}

/// How GetUser finds a user.
#[derive(Debug, Clone)]
pub enum UserLookup {
    Id(UserId),
    /// Matched on the normalized form.
    Email(Email),
    /// Matched case-insensitively (NFKC, lower-case).
    Username(Username),
}

impl Users {
    /// Hashes the password (before the transaction, so no lock is held
    /// while argon2 runs), then inserts the user, remembers the request_id
    /// and writes the audit row in one transaction. Duplicate emails,
    /// usernames and phones fail on their unique indexes.
    pub async fn create_user(&self, ctx: &Context, input: CreateUser) -> DomainResult<Created> {
        let key = RequestKey::of(OPERATION, input.request_id, &input.fingerprint());
        if let Some(key) = &key
            && let Some(id) = idempotency::find(&self.db, ctx, key).await?
        {
            return self.replay(id).await;
        }

        let (password, generated) = match input.password {
            PasswordSource::Given(given) => (given, false),
            PasswordSource::Generate => (generate_password(self.settings.min_password_chars), true),
        };
        let hash = self.auth.passwords().hash(password.secret()).await?;
        let now = self.now();
        let valid = &input.user;
        let txn = crate::db::begin_write(&self.db).await?;
        let user = match fields::insert(&txn, valid, Some(hash), now).await {
            Ok(user) => user,
            Err(err) => return self.replay_or(ctx, key.as_ref(), txn, err).await,
        };
        if let Some(key) = &key
            && let Err(err) = idempotency::remember(&txn, ctx, key, user.id, now).await
        {
            return self.replay_or(ctx, Some(key), txn, err).await;
        }
        let event = Event::new("user.create")
            .target("user", user.id)
            .meta("roles", valid.roles.as_slice())
            .meta("password", if generated { "generated" } else { "given" })
            .meta("email_verified", valid.email_verified)
            .meta("phone_verified", valid.phone_verified)
            .meta("must_change_password", valid.must_change_password);
        audit::record(&txn, ctx, event, now).await?;
        let user = view::load_one(&txn, user, now).await?;
        txn.commit().await?;
        Ok(Created { user, generated_password: generated.then(|| password.into_secret()) })
    }

    /// The user an earlier create with the same request_id made. Deleted
    /// since: NOT_FOUND rather than a second user under the same request.
    async fn replay(&self, id: Uuid) -> DomainResult<Created> {
        let user = view::load_one(&self.db, find(&self.db, id).await?, self.now()).await?;
        Ok(Created { user, generated_password: None })
    }

    /// A create that lost a race against a concurrent retry of itself (same
    /// request_id, so the same email) answers as the winner did; any other
    /// error stands.
    async fn replay_or(
        &self,
        ctx: &Context,
        key: Option<&RequestKey>,
        txn: DatabaseTransaction,
        err: DomainError,
    ) -> DomainResult<Created> {
        let (Some(key), DomainError::AlreadyExists(_)) = (key, &err) else {
            return Err(err);
        };
        txn.rollback().await?;
        match idempotency::find(&self.db, ctx, key).await? {
            Some(id) => self.replay(id).await,
            None => Err(err),
        }
    }

    /// GetUser: one user by id, normalized email or username.
    pub async fn get_user(&self, lookup: &UserLookup) -> DomainResult<User> {
        let condition = match lookup {
            UserLookup::Id(id) => users::Column::Id.eq(id.uuid()),
            UserLookup::Email(email) => users::Column::EmailNormalized.eq(email.normalized()),
            UserLookup::Username(username) => {
                users::Column::UsernameNormalized.eq(username.normalized())
            }
        };
        let user =
            users::Entity::find().filter(condition).one(&self.db).await?.ok_or_else(not_found)?;
        view::load_one(&self.db, user, self.now()).await
    }
}
