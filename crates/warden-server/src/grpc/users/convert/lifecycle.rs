//! CreateUser, GetUser, UpdateUser, SetUserRoles, DisableUser, SetPassword.

use warden_core::{
    DomainResult, FieldViolation,
    auth::password::PasswordPolicy,
    secret::SecretString,
    users::{
        fields::{Metadata, NewUser, PersonName, Phone, Roles, Username},
        lifecycle::{
            CreateUser, DisableUser, MAX_REASON_CHARS, PasswordSource, SetPassword, UserLookup,
            UserPatch,
        },
    },
    values::{Email, Invalid, RequestId, UserId, all, optional, text_at_most},
};
use warden_proto::v1::{self as pb, create_user_request, get_user_request, set_password_request};

use super::{super::to_proto::struct_to_json, Rules};
use crate::grpc::convert::{Mask, MaskRules, future_time};

fn user_mask() -> MaskRules {
    MaskRules {
        elsewhere: &[("password", "is set with SetPassword")],
        ..MaskRules::of("warden.v1.User")
    }
}

/// A given password (checked against the policy) or `generate: true`;
/// anything else asks for nothing, which is a violation on `field`.
fn password_source(
    field: &str,
    given: Option<String>,
    generate: bool,
    policy: &PasswordPolicy<'_>,
    hints: &[&str],
) -> Result<PasswordSource, Invalid> {
    match given {
        Some(password) => {
            Ok(PasswordSource::Given(policy.parse(field, SecretString::new(password), hints)?))
        }
        None if generate => Ok(PasswordSource::Generate),
        None => Err(FieldViolation::new(
            field,
            format!("one of {field} or generate_password is required"),
        )
        .into()),
    }
}

pub fn create_user(req: pb::CreateUserRequest, rules: &Rules<'_>) -> DomainResult<CreateUser> {
    let fields = user_fields!(req, email_verified: req.email_verified);
    let (given, generate) = match req.password_source {
        Some(create_user_request::PasswordSource::Password(password)) => (Some(password), false),
        Some(create_user_request::PasswordSource::GeneratePassword(generate)) => (None, generate),
        None => (None, false),
    };
    let (user, password, request_id) = all((
        NewUser::parse("", &fields, rules.max_metadata_bytes()),
        password_source("password", given, generate, &rules.policy, &fields.hints()),
        RequestId::parse_optional("request_id", &req.request_id),
    ))?;
    Ok(CreateUser { user, password, request_id })
}

pub fn get_user(req: pb::GetUserRequest) -> DomainResult<UserLookup> {
    Ok(match req.lookup {
        Some(get_user_request::Lookup::Id(id)) => UserLookup::Id(UserId::parse("id", &id)?),
        Some(get_user_request::Lookup::Email(email)) => {
            UserLookup::Email(Email::parse("email", &email)?)
        }
        Some(get_user_request::Lookup::Username(username)) => {
            UserLookup::Username(Username::parse("username", username.trim())?)
        }
        None => {
            let missing = FieldViolation::new("lookup", "one of id, email or username is required");
            return Err(missing.into());
        }
    })
}

/// UpdateUser: the mask names the fields; an empty optional value clears one.
pub fn update_user(
    req: pb::UpdateUserRequest,
    rules: &Rules<'_>,
) -> DomainResult<(UserId, UserPatch)> {
    let Some(user) = req.user else {
        return Err(FieldViolation::new("user", "is required").into());
    };
    let mask = Mask::of(req.update_mask);
    let metadata = struct_to_json(user.metadata.as_ref());
    let (id, paths, email, username, given_name, family_name, phone, metadata, roles) = all((
        UserId::parse("user.id", &user.id),
        mask.check(&user_mask()),
        mask.when("email", || Email::parse("user.email", &user.email)),
        mask.when("username", || optional(&user.username, |u| Username::parse("user.username", u))),
        mask.when("given_name", || {
            optional(&user.given_name, |n| PersonName::parse("user.given_name", n))
        }),
        mask.when("family_name", || {
            optional(&user.family_name, |n| PersonName::parse("user.family_name", n))
        }),
        mask.when("phone", || optional(&user.phone, |p| Phone::parse("user.phone", p))),
        mask.when("metadata", || {
            Metadata::parse("user.metadata", &metadata, rules.max_metadata_bytes())
        }),
        mask.when("roles", || Roles::parse("user.roles", &user.roles)),
    ))?;
    let flag = |path: &str, value: bool| mask.has(path).then_some(value);
    let patch = UserPatch {
        paths,
        email,
        username,
        given_name,
        family_name,
        phone,
        metadata,
        roles,
        email_verified: flag("email_verified", user.email_verified),
        phone_verified: flag("phone_verified", user.phone_verified),
        must_change_password: flag("must_change_password", user.must_change_password),
    };
    Ok((id, patch))
}

pub fn set_user_roles(req: &pb::SetUserRolesRequest) -> DomainResult<(UserId, Roles)> {
    Ok(all((UserId::parse("id", &req.id), Roles::parse("roles", &req.roles)))?)
}

pub fn disable_user(req: &pb::DisableUserRequest, rules: &Rules<'_>) -> DomainResult<DisableUser> {
    let (id, reason, until) = all((
        UserId::parse("id", &req.id),
        text_at_most("reason", &req.reason, MAX_REASON_CHARS),
        future_time("until", req.until.as_ref(), rules.now),
    ))?;
    let reason = Some(reason.trim().to_owned()).filter(|r| !r.is_empty());
    Ok(DisableUser { id, reason, until })
}

pub fn set_password(req: pb::SetPasswordRequest, rules: &Rules<'_>) -> DomainResult<SetPassword> {
    let (given, generate) = match req.password_source {
        Some(set_password_request::PasswordSource::NewPassword(password)) => {
            (Some(password), false)
        }
        Some(set_password_request::PasswordSource::GeneratePassword(generate)) => (None, generate),
        None => (None, false),
    };
    let (id, password) = all((
        UserId::parse("id", &req.id),
        password_source("new_password", given, generate, &rules.policy, &[]),
    ))?;
    Ok(SetPassword {
        id,
        password,
        must_change_password: req.must_change_password,
        revoke_sessions: req.revoke_sessions,
    })
}
