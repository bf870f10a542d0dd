//! CreateUser and GetUser.

use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{PasswordSource, find, generate_password, not_found};
use crate::{
    audit::{self, Event},
    context::Context,
    email,
    entity::users,
    error::{DomainError, DomainResult, Violations},
    idempotency::{self, RequestKey},
    secret::SecretString,
    users::{
        Users,
        fields::{self, UserFields},
        view::{self, UserView},
    },
};

/// The idempotency operation name for CreateUser's `request_id`.
const OPERATION: &str = "CreateUser";

/// CreateUser's input, as the caller sent it.
#[derive(Debug, Clone, Default)]
pub struct CreateUser {
    pub fields: UserFields,
    /// Exactly one source is required.
    pub password: Option<PasswordSource>,
    /// Optional UUID for idempotent retries; empty when not sent.
    pub request_id: String,
}

impl CreateUser {
    /// What a retry must repeat exactly. The password itself stays out: the
    /// digest is a fast hash, and a stored fast hash of a password is an
    /// offline-cracking target.
    fn fingerprint(&self) -> String {
        let f = &self.fields;
        let password = match &self.password {
            Some(PasswordSource::Given(_)) => "given",
            Some(PasswordSource::Generate) => "generated",
            None => "",
        };
        serde_json::json!([
            f.email,
            f.username,
            f.given_name,
            f.family_name,
            f.phone,
            f.metadata,
            f.roles,
            f.email_verified,
            f.phone_verified,
            f.must_change_password,
            password,
        ])
        .to_string()
    }
}

/// The answer to CreateUser.
#[derive(Debug)]
pub struct Created {
    pub user: UserView,
    /// Only with `generate_password`, and only the first time: a retry with
    /// the same request_id cannot show it again (only its hash is kept).
    pub generated_password: Option<SecretString>,
}

/// How GetUser finds a user.
#[derive(Debug, Clone)]
pub enum UserLookup {
    Id(Uuid),
    /// Matched on the normalized form.
    Email(String),
    /// Matched case-insensitively (NFKC, lower-case).
    Username(String),
}

impl Users {
    /// Validates everything, hashes the password (before the transaction, so
    /// no lock is held while argon2 runs), then inserts the user, remembers
    /// the request_id and writes the audit row in one transaction. Duplicate
    /// emails, usernames and phones fail on their unique indexes.
    pub async fn create_user(
        &self,
        ctx: &Context,
        input: CreateUser,
        mut violations: Violations,
    ) -> DomainResult<Created> {
        let settings = &self.settings;
        let valid =
            fields::validate(&mut violations, "", &input.fields, settings.max_metadata_bytes);
        let password = match &input.password {
            Some(PasswordSource::Given(given)) => {
                violations.absorb(self.auth.passwords().check_policy(
                    "password",
                    given,
                    settings.min_password_chars,
                    &input.fields.hints(),
                ))?;
                Some((given.clone(), false))
            }
            Some(PasswordSource::Generate) => {
                Some((generate_password(settings.min_password_chars), true))
            }
            None => {
                violations.push("password", "one of password or generate_password is required");
                None
            }
        };
        let key = match RequestKey::parse(OPERATION, &input.request_id, &input.fingerprint()) {
            Ok(key) => key,
            Err(err) => {
                violations.absorb(Err(err))?;
                None
            }
        };
        violations.finish()?;
        let (Some(valid), Some((password, generated))) = (valid, password) else {
            // finish() fails whenever a value is missing; this only satisfies the types.
            return Err(DomainError::validation("email", "is required"));
        };
        if let Some(key) = &key
            && let Some(id) = idempotency::find(&self.db, ctx, key).await?
        {
            return self.replay(id).await;
        }

        let hash = self.auth.passwords().hash(&password).await?;
        let now = self.now();
        let txn = crate::db::begin_write(&self.db).await?;
        let user = match fields::insert(&txn, &valid, Some(hash), now).await {
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
            .meta("roles", valid.roles.clone())
            .meta("password", if generated { "generated" } else { "given" })
            .meta("email_verified", valid.email_verified)
            .meta("phone_verified", valid.phone_verified)
            .meta("must_change_password", valid.must_change_password);
        audit::record(&txn, ctx, event, now).await?;
        let user = view::load_one(&txn, user, now).await?;
        txn.commit().await?;
        Ok(Created { user, generated_password: generated.then_some(password) })
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
    pub async fn get_user(&self, lookup: UserLookup) -> DomainResult<UserView> {
        let condition = match lookup {
            UserLookup::Id(id) => users::Column::Id.eq(id),
            UserLookup::Email(raw) => {
                let email =
                    email::parse("email", &raw).map_err(|v| DomainError::Validation(vec![v]))?;
                users::Column::EmailNormalized.eq(email.normalized)
            }
            UserLookup::Username(raw) => {
                let username = fields::username("username", raw.trim())
                    .map_err(|v| DomainError::Validation(vec![v]))?;
                let normalized = username.map(|(_, normalized)| normalized).unwrap_or_default();
                users::Column::UsernameNormalized.eq(normalized)
            }
        };
        let user =
            users::Entity::find().filter(condition).one(&self.db).await?.ok_or_else(not_found)?;
        view::load_one(&self.db, user, self.now()).await
    }
}
