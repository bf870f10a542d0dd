//! ImportSocialUser: a user who signed up with a social provider elsewhere.
//! The provider vouched for the email, so it counts as verified; a password
//! makes a hybrid account. User and identity are created in one transaction.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

use super::{IdentityInput, identity, write::identity_row};
use crate::{
    audit::{self, Event},
    auth::password::MAX_PASSWORD_CHARS,
    context::Context,
    entity::{user_identities, users},
    error::{Conflict, DomainError, DomainResult, Violations},
    idempotency::{self, RequestKey},
    secret::SecretString,
    unique::map_write_error,
    users::{
        UserView, Users,
        fields::{self, UserFields},
        view,
    },
};

#[derive(Debug, Clone, Default)]
pub struct SocialImport {
    /// `email_verified` is ignored: a social import is always verified.
    pub fields: UserFields,
    pub identity: IdentityInput,
    /// `None`: a social-only account (`must_change_password` then ignored).
    pub password: Option<SecretString>,
    pub request_id: String,
}

#[derive(Debug, Clone)]
pub struct SocialImported {
    pub user: UserView,
    pub identity: user_identities::Model,
}

impl Users {
    pub async fn import_social_user(
        &self,
        ctx: &Context,
        mut request: SocialImport,
    ) -> DomainResult<SocialImported> {
        request.fields.email_verified = true;
        if request.password.is_none() {
            request.fields.must_change_password = false;
        }
        let max = self.settings.max_metadata_bytes;
        let mut violations = Violations::new();
        let user = fields::validate(&mut violations, "", &request.fields, max);
        let link = identity(&mut violations, "", &request.identity, max);
        if let Some(password) = &request.password {
            if password.expose().chars().count() > MAX_PASSWORD_CHARS {
                violations.push("password", "must be at most 1024 characters");
            } else {
                violations.absorb(self.auth.passwords().check_policy(
                    "password",
                    password,
                    self.settings.min_password_chars,
                    &[&request.fields.email],
                ))?;
            }
        }
        // The password is left out of the fingerprint: only whether there is one.
        let fingerprint =
            format!("{:?}|{:?}|{}", request.fields, request.identity, request.password.is_some());
        let key = match RequestKey::parse("users.import_social", &request.request_id, &fingerprint)
        {
            Ok(key) => key,
            Err(err) => {
                violations.absorb(Err(err))?;
                None
            }
        };
        violations.finish()?;
        let (Some(user), Some(link)) = (user, link) else {
            return Err(DomainError::validation("email", "is invalid"));
        };

        if let Some(key) = &key
            && let Some(identity_id) = idempotency::find(&self.db, ctx, key).await?
        {
            return self.social_answer(identity_id).await;
        }
        // The more specific conflict wins when the same person is imported twice;
        // the unique index still decides under concurrency.
        let linked = user_identities::Entity::find()
            .filter(user_identities::Column::Provider.eq(&link.provider))
            .filter(user_identities::Column::ProviderUserId.eq(&link.provider_user_id))
            .one(&self.db)
            .await?;
        if linked.is_some() {
            return Err(DomainError::AlreadyExists(Conflict::SocialAccount));
        }
        let hash = match &request.password {
            Some(password) => Some(self.auth.passwords().hash(password).await?),
            None => None,
        };

        let now = self.now();
        let txn = crate::db::begin_write(&self.db).await?;
        let created = fields::insert(&txn, &user, hash, now).await?;
        // A provider account linked meanwhile -> SOCIAL_ACCOUNT_EXISTS.
        let identity =
            identity_row(created.id, &link, now).insert(&txn).await.map_err(map_write_error)?;
        if let Some(key) = &key {
            idempotency::remember(&txn, ctx, key, identity.id, now).await?;
        }
        let event = Event::new("user.import_social")
            .target("user", created.id)
            .meta("provider", link.provider.clone())
            .meta("identity_id", identity.id.to_string())
            .meta("has_password", request.password.is_some());
        audit::record(&txn, ctx, event, now).await?;
        txn.commit().await?;
        Ok(SocialImported { user: view::load_one(&self.db, created, now).await?, identity })
    }

    /// The first answer again, for a retried request_id.
    async fn social_answer(&self, identity_id: uuid::Uuid) -> DomainResult<SocialImported> {
        let identity = user_identities::Entity::find_by_id(identity_id)
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound { resource: "identity" })?;
        let user = users::Entity::find_by_id(identity.user_id)
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound { resource: "user" })?;
        Ok(SocialImported { user: view::load_one(&self.db, user, self.now()).await?, identity })
    }
}
