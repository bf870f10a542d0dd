//! ImportSocialUser: a user who signed up with a social provider elsewhere.
//! The provider vouched for the email, so it counts as verified; a password
//! makes a hybrid account. User and identity are created in one transaction.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

use super::{NewIdentity, write::identity_row};
use crate::{
    audit::{self, Event},
    auth::password::NewPassword,
    context::Context,
    entity::{user_identities, users},
    error::{Conflict, DomainError, DomainResult},
    idempotency::{self, RequestKey},
    unique::map_write_error,
    users::{
        Identity, User, Users,
        fields::{self, NewUser},
        view,
    },
    values::{IdentityId, RequestId},
};

/// ImportSocialUser's input.
#[derive(Debug, Clone)]
pub struct SocialImport {
    /// `email_verified` is ignored: a social import is always verified.
    pub user: NewUser,
    pub identity: NewIdentity,
    /// `None`: a social-only account (`must_change_password` then ignored).
    pub password: Option<NewPassword>,
    pub request_id: Option<RequestId>,
}

#[derive(Debug, Clone)]
pub struct SocialImported {
    pub user: User,
    pub identity: Identity,
}

impl Users {
    pub async fn import_social_user(
        &self,
        ctx: &Context,
        request: SocialImport,
    ) -> DomainResult<SocialImported> {
        let SocialImport { mut user, identity: link, password, request_id } = request;
        user.email_verified = true;
        if password.is_none() {
            user.must_change_password = false;
        }
        // The password is left out of the fingerprint: only whether there is one.
        let fingerprint = format!("{user:?}|{link:?}|{}", password.is_some());
        let key = RequestKey::of("users.import_social", request_id, &fingerprint);
        if let Some(key) = &key
            && let Some(identity_id) = idempotency::find(&self.db, ctx, key).await?
        {
            return self.social_answer(identity_id.into()).await;
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
        let hash = match &password {
            Some(password) => Some(self.auth.passwords().hash(password.secret()).await?),
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
            .meta("has_password", password.is_some());
        audit::record(&txn, ctx, event, now).await?;
        txn.commit().await?;
        let user = view::load_one(&self.db, created, now).await?;
        Ok(SocialImported { user, identity: identity.into() })
    }

    /// The first answer again, for a retried request_id.
    async fn social_answer(&self, identity_id: IdentityId) -> DomainResult<SocialImported> {
        let identity = user_identities::Entity::find_by_id(identity_id.uuid())
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound { resource: "identity" })?;
        let user = users::Entity::find_by_id(identity.user_id)
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound { resource: "user" })?;
        let user = view::load_one(&self.db, user, self.now()).await?;
        Ok(SocialImported { user, identity: identity.into() })
    }
}
