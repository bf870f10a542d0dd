//! UpdateUser (by field mask) and SetUserRoles.

use sea_orm::{ActiveModelTrait, Set};

use super::lock;
use crate::{
    audit::{self, Event},
    context::Context,
    entity::users,
    error::{DomainError, DomainResult},
    unique::map_write_error,
    users::{
        User, Users,
        fields::{self, Metadata, PersonName, Phone, Roles, Username},
        view,
    },
    values::{Email, UserId},
};

/// UpdateUser's input: the fields the update mask names are `Some`; an
/// optional field set to `Some(None)` is cleared.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    /// The mask's paths, for the audit row (names only: values may be
    /// personal data).
    pub paths: Vec<&'static str>,
    pub email: Option<Email>,
    pub username: Option<Option<Username>>,
    pub given_name: Option<Option<PersonName>>,
    pub family_name: Option<Option<PersonName>>,
    pub phone: Option<Option<Phone>>,
    pub metadata: Option<Metadata>,
    pub roles: Option<Roles>,
    pub email_verified: Option<bool>,
    pub phone_verified: Option<bool>,
    pub must_change_password: Option<bool>,
}

impl Users {
    /// UpdateUser: changes the masked fields. A new email or phone is
    /// unverified unless the same mask says otherwise (a verified flag must
    /// never carry over to an address nobody verified).
    pub async fn update_user(
        &self,
        ctx: &Context,
        id: UserId,
        patch: UserPatch,
    ) -> DomainResult<User> {
        let id = id.uuid();
        let now = self.now();
        let txn = crate::db::begin_write(&self.db).await?;
        let old = lock(&txn, id).await?;
        let mut model: users::ActiveModel = old.clone().into();
        if let Some(email) = &patch.email {
            if email.normalized() != old.email_normalized && patch.email_verified.is_none() {
                model.email_verified = Set(false);
            }
            model.email = Set(email.as_str().to_owned());
            model.email_normalized = Set(email.normalized().to_owned());
        }
        if let Some(username) = &patch.username {
            model.username = Set(username.as_ref().map(|u| u.as_str().to_owned()));
            model.username_normalized = Set(username.as_ref().map(|u| u.normalized().to_owned()));
        }
        if let Some(given_name) = &patch.given_name {
            model.given_name = Set(given_name.as_ref().map(|n| n.as_str().to_owned()));
        }
        if let Some(family_name) = &patch.family_name {
            model.family_name = Set(family_name.as_ref().map(|n| n.as_str().to_owned()));
        }
        let mut phone_verified = patch.phone_verified.unwrap_or(old.phone_verified);
        let phone = match &patch.phone {
            Some(phone) => {
                let phone = phone.as_ref().map(|p| p.as_str().to_owned());
                if phone != old.phone && patch.phone_verified.is_none() {
                    phone_verified = false;
                }
                model.phone = Set(phone.clone());
                phone
            }
            None => old.phone.clone(),
        };
        // The stored phone decides when the mask leaves it out: a state check.
        if phone_verified && phone.is_none() {
            return Err(DomainError::validation("user.phone_verified", "needs a phone number"));
        }
        model.phone_verified = Set(phone_verified);
        if let Some(verified) = patch.email_verified {
            model.email_verified = Set(verified);
        }
        if let Some(metadata) = &patch.metadata {
            model.metadata = Set(metadata.as_json().clone());
        }
        if let Some(must_change) = patch.must_change_password {
            model.must_change_password = Set(must_change);
        }
        model.updated_at = Set(now);
        let updated = model.update(&txn).await.map_err(map_write_error)?;
        if let Some(roles) = &patch.roles {
            fields::replace_roles(&txn, id, roles).await?;
        }
        // Names of the changed fields only: values may be personal data.
        let event = Event::new("user.update").target("user", id).meta("fields", patch.paths);
        audit::record(&txn, ctx, event, now).await?;
        let user = view::load_one(&txn, updated, now).await?;
        txn.commit().await?;
        Ok(user)
    }

    /// SetUserRoles: replaces every role (an empty list removes them all).
    pub async fn set_user_roles(
        &self,
        ctx: &Context,
        id: UserId,
        roles: Roles,
    ) -> DomainResult<User> {
        let id = id.uuid();
        let now = self.now();
        let txn = crate::db::begin_write(&self.db).await?;
        let old = lock(&txn, id).await?;
        let mut model: users::ActiveModel = old.into();
        model.updated_at = Set(now);
        let updated = model.update(&txn).await?;
        fields::replace_roles(&txn, id, &roles).await?;
        let event = Event::new("user.set_roles").target("user", id).meta("roles", roles.as_slice());
        audit::record(&txn, ctx, event, now).await?;
        let user = view::load_one(&txn, updated, now).await?;
        txn.commit().await?;
        Ok(user)
    }
}
