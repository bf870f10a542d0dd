//! UsersService requests -> the typed input of `warden_core::users`, every
//! field violation of a request collected into one answer; one file per
//! group of RPCs, as the handlers are. ImportUsers' rows convert one by one:
//! a bad row fails into the summary, not the stream.

/// A user's own fields from a request that carries them under the proto's
/// names (CreateUser, ImportUsers, ImportSocialUser).
macro_rules! user_fields {
    ($request:expr, email_verified: $email_verified:expr) => {
        warden_core::users::fields::UserFields {
            email: $request.email,
            username: $request.username,
            given_name: $request.given_name,
            family_name: $request.family_name,
            phone: $request.phone,
            metadata: super::super::to_proto::struct_to_json($request.metadata.as_ref()),
            roles: $request.roles,
            email_verified: $email_verified,
            phone_verified: $request.phone_verified,
            must_change_password: $request.must_change_password,
        }
    };
}

mod import;
mod invite;
mod lifecycle;
mod listing;

use chrono::{DateTime, Utc};
use warden_core::{
    DomainResult,
    auth::password::PasswordPolicy,
    users::{UserSettings, Users},
    values::UserId,
};

pub use import::{import_row, import_social_user, on_conflict, unlink_identity};
pub use invite::{initiate_password_reset, invite_user};
pub use lifecycle::{
    create_user, disable_user, get_user, set_password, set_user_roles, update_user,
};
pub use listing::list_users;

/// What parsing a users request takes from the server: the password
/// policy, the settings and the time.
pub struct Rules<'a> {
    pub policy: PasswordPolicy<'a>,
    pub settings: &'a UserSettings,
    pub now: DateTime<Utc>,
}

impl<'a> Rules<'a> {
    pub fn of(users: &'a Users) -> Self {
        Self { policy: users.password_policy(), settings: users.settings(), now: users.now() }
    }

    fn max_metadata_bytes(&self) -> usize {
        self.settings.max_metadata_bytes
    }
}

pub fn user_id(field: &str, raw: &str) -> DomainResult<UserId> {
    Ok(UserId::parse(field, raw)?)
}
