//! UsersService: CreateUser, GetUser, UpdateUser, SetUserRoles, DeleteUser,
//! DisableUser, EnableUser, SetPassword, ForcePasswordChange. Each handler
//! takes the caller, converts the request (collecting every field violation
//! into the collector the use case finishes), calls one use case on
//! `state.users` and converts the answer back.

use tonic::{Request, Response, Status};
use uuid::Uuid;
use warden_core::{
    DomainError, FieldViolation,
    secret::SecretString,
    users::{
        fields::UserFields,
        lifecycle::{CreateUser, DisableUser, PasswordSource, SetPassword, UpdateUser, UserLookup},
    },
};
use warden_proto::v1::{self as pb, create_user_request, get_user_request, set_password_request};

use super::to_proto::{self, struct_to_json};
use crate::{
    grpc::{
        convert::{Violations, id_from, time_from},
        request::authenticated_context,
    },
    state::AppState,
    status::to_status,
};

/// The id the request names, or a nil id once the problem is recorded (the
/// use case fails on the collected violations before using it).
fn id_or_nil(violations: &mut Violations, field: &str, value: &str) -> Uuid {
    violations.check(id_from(field, value)).unwrap_or_default()
}

fn invalid(violation: FieldViolation) -> Status {
    to_status(DomainError::Validation(vec![violation]))
}

fn password_source(given: Option<String>, generate: Option<bool>) -> Option<PasswordSource> {
    match (given, generate) {
        (Some(password), _) => Some(PasswordSource::Given(SecretString::new(password))),
        // `generate_password: false` asks for nothing.
        (None, Some(true)) => Some(PasswordSource::Generate),
        _ => None,
    }
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub async fn create_user(
    state: &AppState,
    request: Request<pb::CreateUserRequest>,
) -> Result<Response<pb::CreateUserResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let req = request.into_inner();
    let password = match req.password_source {
        Some(create_user_request::PasswordSource::Password(p)) => password_source(Some(p), None),
        Some(create_user_request::PasswordSource::GeneratePassword(g)) => {
            password_source(None, Some(g))
        }
        None => None,
    };
    let input = CreateUser {
        fields: UserFields {
            email: req.email,
            username: req.username,
            given_name: req.given_name,
            family_name: req.family_name,
            phone: req.phone,
            metadata: struct_to_json(req.metadata.as_ref()),
            roles: req.roles,
            email_verified: req.email_verified,
            phone_verified: req.phone_verified,
            must_change_password: req.must_change_password,
        },
        password,
        request_id: req.request_id,
    };
    let created =
        state.users.create_user(&ctx, input, Violations::default()).await.map_err(to_status)?;
    Ok(Response::new(pb::CreateUserResponse {
        user: Some(to_proto::user(&created.user)),
        generated_password: created
            .generated_password
            .map(|p| p.expose().to_owned())
            .unwrap_or_default(),
    }))
}

pub async fn get_user(
    state: &AppState,
    request: Request<pb::GetUserRequest>,
) -> Result<Response<pb::GetUserResponse>, Status> {
    authenticated_context(&request)?;
    let lookup = match request.into_inner().lookup {
        Some(get_user_request::Lookup::Id(id)) => {
            UserLookup::Id(id_from("id", &id).map_err(invalid)?)
        }
        Some(get_user_request::Lookup::Email(email)) => UserLookup::Email(email),
        Some(get_user_request::Lookup::Username(username)) => UserLookup::Username(username),
        None => {
            return Err(invalid(FieldViolation::new(
                "lookup",
                "one of id, email or username is required",
            )));
        }
    };
    let user = state.users.get_user(lookup).await.map_err(to_status)?;
    Ok(Response::new(pb::GetUserResponse { user: Some(to_proto::user(&user)) }))
}

pub async fn update_user(
    state: &AppState,
    request: Request<pb::UpdateUserRequest>,
) -> Result<Response<pb::UpdateUserResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let req = request.into_inner();
    let mut violations = Violations::default();
    let Some(user) = req.user else {
        return Err(invalid(FieldViolation::new("user", "is required")));
    };
    let input = UpdateUser {
        id: id_or_nil(&mut violations, "user.id", &user.id),
        paths: req.update_mask.map(|mask| mask.paths).unwrap_or_default(),
        fields: UserFields {
            email: user.email,
            username: user.username,
            given_name: user.given_name,
            family_name: user.family_name,
            phone: user.phone,
            metadata: struct_to_json(user.metadata.as_ref()),
            roles: user.roles,
            email_verified: user.email_verified,
            phone_verified: user.phone_verified,
            must_change_password: user.must_change_password,
        },
    };
    let user = state.users.update_user(&ctx, input, violations).await.map_err(to_status)?;
    Ok(Response::new(pb::UpdateUserResponse { user: Some(to_proto::user(&user)) }))
}

pub async fn set_user_roles(
    state: &AppState,
    request: Request<pb::SetUserRolesRequest>,
) -> Result<Response<pb::SetUserRolesResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let req = request.into_inner();
    let mut violations = Violations::default();
    let id = id_or_nil(&mut violations, "id", &req.id);
    let user =
        state.users.set_user_roles(&ctx, id, &req.roles, violations).await.map_err(to_status)?;
    Ok(Response::new(pb::SetUserRolesResponse { user: Some(to_proto::user(&user)) }))
}

pub async fn delete_user(
    state: &AppState,
    request: Request<pb::DeleteUserRequest>,
) -> Result<Response<pb::DeleteUserResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let req = request.into_inner();
    let id = id_from("id", &req.id).map_err(invalid)?;
    let records = state.users.delete_user(&ctx, id, req.validate_only).await.map_err(to_status)?;
    Ok(Response::new(pb::DeleteUserResponse {
        deleted_user_id: id.to_string(),
        // Trusted devices, recovery codes and challenge sessions: no such tables yet.
        deleted_records: Some(pb::DeletedRecords {
            sessions: count(records.sessions),
            refresh_tokens: count(records.refresh_tokens),
            verification_tokens: count(records.verification_tokens),
            mfa_devices: count(records.mfa_devices),
            identities: count(records.identities),
            trusted_devices: 0,
            recovery_codes: 0,
            challenge_sessions: 0,
        }),
    }))
}

pub async fn disable_user(
    state: &AppState,
    request: Request<pb::DisableUserRequest>,
) -> Result<Response<pb::DisableUserResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let req = request.into_inner();
    let mut violations = Violations::default();
    let id = id_or_nil(&mut violations, "id", &req.id);
    let until = req.until.as_ref().and_then(|ts| violations.check(time_from("until", ts)));
    let input = DisableUser { id, reason: req.reason, until };
    let (user, revoked) =
        state.users.disable_user(&ctx, input, violations).await.map_err(to_status)?;
    Ok(Response::new(pb::DisableUserResponse {
        user: Some(to_proto::user(&user)),
        revoked_sessions: count(revoked),
    }))
}

pub async fn enable_user(
    state: &AppState,
    request: Request<pb::EnableUserRequest>,
) -> Result<Response<pb::EnableUserResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let id = id_from("id", &request.get_ref().id).map_err(invalid)?;
    let user = state.users.enable_user(&ctx, id).await.map_err(to_status)?;
    Ok(Response::new(pb::EnableUserResponse { user: Some(to_proto::user(&user)) }))
}

pub async fn set_password(
    state: &AppState,
    request: Request<pb::SetPasswordRequest>,
) -> Result<Response<pb::SetPasswordResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let req = request.into_inner();
    let mut violations = Violations::default();
    let id = id_or_nil(&mut violations, "id", &req.id);
    let password = match req.password_source {
        Some(set_password_request::PasswordSource::NewPassword(p)) => {
            password_source(Some(p), None)
        }
        Some(set_password_request::PasswordSource::GeneratePassword(g)) => {
            password_source(None, Some(g))
        }
        None => None,
    };
    let input = SetPassword {
        id,
        password,
        must_change_password: req.must_change_password,
        revoke_sessions: req.revoke_sessions,
    };
    let set = state.users.set_password(&ctx, input, violations).await.map_err(to_status)?;
    Ok(Response::new(pb::SetPasswordResponse {
        sessions_revoked: count(set.sessions_revoked),
        must_change_password: set.must_change_password,
        generated_password: set
            .generated_password
            .map(|p| p.expose().to_owned())
            .unwrap_or_default(),
    }))
}

pub async fn force_password_change(
    state: &AppState,
    request: Request<pb::ForcePasswordChangeRequest>,
) -> Result<Response<pb::ForcePasswordChangeResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let id = id_from("id", &request.get_ref().id).map_err(invalid)?;
    let user = state.users.force_password_change(&ctx, id).await.map_err(to_status)?;
    Ok(Response::new(pb::ForcePasswordChangeResponse { user: Some(to_proto::user(&user)) }))
}
