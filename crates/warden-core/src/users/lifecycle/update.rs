//! UpdateUser (by field mask) and SetUserRoles.

use sea_orm::{ActiveModelTrait, Set};
use uuid::Uuid;

use super::lock;
use crate::{
    audit::{self, Event},
    context::Context,
    email::{self, Email},
    entity::users,
    error::{DomainError, DomainResult, Violations},
    unique::map_write_error,
    users::{
        Users,
        fields::{self, UserFields},
        view::{self, UserView},
    },
};

/// Update mask paths a caller may set (the proto's list).
pub const UPDATABLE: &[&str] = &[
    "email",
    "username",
    "given_name",
    "family_name",
    "phone",
    "email_verified",
    "phone_verified",
    "metadata",
    "roles",
    "must_change_password",
];

/// Fields of `User` only the server sets (or other RPCs change).
pub const OUTPUT_ONLY: &[&str] = &[
    "id",
    "is_active",
    "is_locked",
    "locked_until",
    "disabled_reason",
    "disabled_until",
    "mfa_enabled",
    "has_social_auth",
    "social_providers",
    "created_at",
    "updated_at",
    "last_login_at",
    "session_count",
    "has_password",
];

/// UpdateUser's input: the mask paths and the values they select. Values
/// outside the mask are ignored (AIP-134); an empty optional value in the
/// mask clears the field.
#[derive(Debug, Clone, Default)]
pub struct UpdateUser {
    pub id: Uuid,
    pub paths: Vec<String>,
    pub fields: UserFields,
}

/// The checked changes; `None` = not in the mask.
#[derive(Debug, Default)]
struct Patch {
    paths: Vec<&'static str>,
    email: Option<Email>,
    username: Option<Option<(String, String)>>,
    given_name: Option<Option<String>>,
    family_name: Option<Option<String>>,
    phone: Option<Option<String>>,
    metadata: Option<serde_json::Value>,
    roles: Option<Vec<String>>,
    email_verified: Option<bool>,
    phone_verified: Option<bool>,
    must_change_password: Option<bool>,
}

impl UpdateUser {
    fn check(&self, violations: &mut Violations, max_metadata_bytes: usize) -> Patch {
        if self.paths.is_empty() {
            violations.push(
                "update_mask",
                format!("must name at least one of: {}", UPDATABLE.join(", ")),
            );
        }
        for path in &self.paths {
            let problem = if UPDATABLE.contains(&path.as_str()) {
                continue;
            } else if OUTPUT_ONLY.contains(&path.as_str()) {
                "is output only"
            } else if path == "password" {
                "is set with SetPassword"
            } else {
                "is not a field of User"
            };
            violations.push("update_mask", format!("path {path:?} {problem}"));
        }
        let f = &self.fields;
        let paths: Vec<&'static str> =
            UPDATABLE.iter().copied().filter(|p| self.paths.iter().any(|q| q == p)).collect();
        let has = |path: &str| paths.contains(&path);
        let mut patch = Patch::default();
        if has("email") {
            patch.email = violations.check(email::parse("user.email", &f.email));
        }
        if has("username") {
            patch.username = match optional(&f.username) {
                Some(u) => violations.check(fields::username("user.username", u)),
                None => Some(None),
            };
        }
        if has("given_name") {
            patch.given_name = match optional(&f.given_name) {
                Some(n) => violations.check(fields::name("user.given_name", n)),
                None => Some(None),
            };
        }
        if has("family_name") {
            patch.family_name = match optional(&f.family_name) {
                Some(n) => violations.check(fields::name("user.family_name", n)),
                None => Some(None),
            };
        }
        if has("phone") {
            patch.phone = match optional(&f.phone) {
                Some(p) => violations.check(fields::phone("user.phone", p)),
                None => Some(None),
            };
        }
        if has("metadata") {
            patch.metadata = violations.check(fields::metadata(
                "user.metadata",
                &f.metadata,
                max_metadata_bytes,
            ));
        }
        if has("roles") {
            patch.roles = violations.check(fields::roles("user.roles", &f.roles));
        }
        patch.email_verified = has("email_verified").then_some(f.email_verified);
        patch.phone_verified = has("phone_verified").then_some(f.phone_verified);
        patch.must_change_password = has("must_change_password").then_some(f.must_change_password);
        patch.paths = paths;
        patch
    }
}

/// A trimmed value, or `None` for an empty one (which clears the field).
fn optional(value: &str) -> Option<&str> {
    let value = value.trim();
    (!value.is_empty()).then_some(value)
}

impl Users {
    /// UpdateUser: changes the masked fields. A new email or phone is
    /// unverified unless the same mask says otherwise (a verified flag must
    /// never carry over to an address nobody verified).
    pub async fn update_user(
        &self,
        ctx: &Context,
        input: UpdateUser,
        mut violations: Violations,
    ) -> DomainResult<UserView> {
        let patch = input.check(&mut violations, self.settings.max_metadata_bytes);
        violations.finish()?;
        let now = self.now();
        let txn = crate::db::begin_write(&self.db).await?;
        let old = lock(&txn, input.id).await?;
        let mut model: users::ActiveModel = old.clone().into();
        if let Some(email) = patch.email {
            if email.normalized != old.email_normalized && patch.email_verified.is_none() {
                model.email_verified = Set(false);
            }
            model.email = Set(email.given);
            model.email_normalized = Set(email.normalized);
        }
        if let Some(username) = patch.username {
            let (given, normalized) = username.unzip();
            model.username = Set(given);
            model.username_normalized = Set(normalized);
        }
        if let Some(given_name) = patch.given_name {
            model.given_name = Set(given_name);
        }
        if let Some(family_name) = patch.family_name {
            model.family_name = Set(family_name);
        }
        let mut phone_verified = patch.phone_verified.unwrap_or(old.phone_verified);
        let phone = match patch.phone {
            Some(phone) => {
                if phone != old.phone && patch.phone_verified.is_none() {
                    phone_verified = false;
                }
                model.phone = Set(phone.clone());
                phone
            }
            None => old.phone.clone(),
        };
        if phone_verified && phone.is_none() {
            return Err(DomainError::validation("user.phone_verified", "needs a phone number"));
        }
        model.phone_verified = Set(phone_verified);
        if let Some(verified) = patch.email_verified {
            model.email_verified = Set(verified);
        }
        if let Some(metadata) = patch.metadata {
            model.metadata = Set(metadata);
        }
        if let Some(must_change) = patch.must_change_password {
            model.must_change_password = Set(must_change);
        }
        model.updated_at = Set(now);
        let updated = model.update(&txn).await.map_err(map_write_error)?;
        if let Some(roles) = &patch.roles {
            fields::replace_roles(&txn, input.id, roles).await?;
        }
        // Names of the changed fields only: values may be personal data.
        let event = Event::new("user.update").target("user", input.id).meta("fields", patch.paths);
        audit::record(&txn, ctx, event, now).await?;
        let user = view::load_one(&txn, updated, now).await?;
        txn.commit().await?;
        Ok(user)
    }

    /// SetUserRoles: replaces every role (an empty list removes them all).
    pub async fn set_user_roles(
        &self,
        ctx: &Context,
        id: Uuid,
        roles: &[String],
        mut violations: Violations,
    ) -> DomainResult<UserView> {
        let roles = violations.check(fields::roles("roles", roles));
        violations.finish()?;
        let roles = roles.unwrap_or_default();
        let now = self.now();
        let txn = crate::db::begin_write(&self.db).await?;
        let old = lock(&txn, id).await?;
        let mut model: users::ActiveModel = old.into();
        model.updated_at = Set(now);
        let updated = model.update(&txn).await?;
        fields::replace_roles(&txn, id, &roles).await?;
        let event = Event::new("user.set_roles").target("user", id).meta("roles", roles);
        audit::record(&txn, ctx, event, now).await?;
        let user = view::load_one(&txn, updated, now).await?;
        txn.commit().await?;
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields_of(paths: &[&str], fields: UserFields) -> Vec<String> {
        let input = UpdateUser {
            id: Uuid::now_v7(),
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            fields,
        };
        let mut violations = Violations::new();
        input.check(&mut violations, 1024);
        match violations.finish() {
            Ok(()) => Vec::new(),
            Err(DomainError::Validation(found)) => found.into_iter().map(|v| v.field).collect(),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_mask_names_only_updatable_fields() {
        let valid = UserFields { email: "a@example.com".into(), ..Default::default() };
        assert!(fields_of(UPDATABLE, valid.clone()).is_empty());
        assert_eq!(fields_of(&[], valid.clone()), ["update_mask"]);
        for path in ["id", "created_at", "is_active", "session_count", "password", "nope"] {
            assert_eq!(fields_of(&["email", path], valid.clone()), ["update_mask"], "{path}");
        }
    }

    #[test]
    fn only_masked_values_are_checked() {
        let bad = UserFields {
            email: "not an email".into(),
            username: "x".into(),
            phone: "123".into(),
            roles: vec!["Bad Role".into()],
            ..Default::default()
        };
        assert!(fields_of(&["given_name"], bad.clone()).is_empty());
        assert_eq!(
            fields_of(&["email", "username", "phone", "roles"], bad),
            ["user.email", "user.username", "user.phone", "user.roles[0]"]
        );
    }
}
