//! UsersService: CreateUser, GetUser, UpdateUser, SetUserRoles, DeleteUser,
//! DisableUser, EnableUser, SetPassword, ForcePasswordChange. Each handler
//! takes the caller, converts the request (`convert`), calls one use case on
//! `state.users` and converts the answer back.

use tonic::{Request, Response, Status};
use warden_proto::v1 as pb;

use super::{
    convert::{self, Rules},
    to_proto,
};
use crate::{grpc::request::authenticated_context, state::AppState, status::to_status};

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub async fn create_user(
    state: &AppState,
    request: Request<pb::CreateUserRequest>,
) -> Result<Response<pb::CreateUserResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let rules = Rules::of(&state.users);
    let input = convert::create_user(request.into_inner(), &rules).map_err(to_status)?;
    let created = state.users.create_user(&ctx, input).await.map_err(to_status)?;
    Ok(Response::new(pb::CreateUserResponse {
        user: Some(to_proto::user(created.user)),
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
    let lookup = convert::get_user(request.into_inner()).map_err(to_status)?;
    let user = state.users.get_user(&lookup).await.map_err(to_status)?;
    Ok(Response::new(pb::GetUserResponse { user: Some(to_proto::user(user)) }))
}

pub async fn update_user(
    state: &AppState,
    request: Request<pb::UpdateUserRequest>,
) -> Result<Response<pb::UpdateUserResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let rules = Rules::of(&state.users);
    let (id, patch) = convert::update_user(request.into_inner(), &rules).map_err(to_status)?;
    let user = state.users.update_user(&ctx, id, patch).await.map_err(to_status)?;
    Ok(Response::new(pb::UpdateUserResponse { user: Some(to_proto::user(user)) }))
}

pub async fn set_user_roles(
    state: &AppState,
    request: Request<pb::SetUserRolesRequest>,
) -> Result<Response<pb::SetUserRolesResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let (id, roles) = convert::set_user_roles(request.get_ref()).map_err(to_status)?;
    let user = state.users.set_user_roles(&ctx, id, roles).await.map_err(to_status)?;
    Ok(Response::new(pb::SetUserRolesResponse { user: Some(to_proto::user(user)) }))
}

pub async fn delete_user(
    state: &AppState,
    request: Request<pb::DeleteUserRequest>,
) -> Result<Response<pb::DeleteUserResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let req = request.get_ref();
    let id = convert::user_id("id", &req.id).map_err(to_status)?;
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
    let rules = Rules::of(&state.users);
    let input = convert::disable_user(request.get_ref(), &rules).map_err(to_status)?;
    let (user, revoked) = state.users.disable_user(&ctx, input).await.map_err(to_status)?;
    Ok(Response::new(pb::DisableUserResponse {
        user: Some(to_proto::user(user)),
        revoked_sessions: count(revoked),
    }))
}

pub async fn enable_user(
    state: &AppState,
    request: Request<pb::EnableUserRequest>,
) -> Result<Response<pb::EnableUserResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let id = convert::user_id("id", &request.get_ref().id).map_err(to_status)?;
    let user = state.users.enable_user(&ctx, id).await.map_err(to_status)?;
    Ok(Response::new(pb::EnableUserResponse { user: Some(to_proto::user(user)) }))
}

pub async fn set_password(
    state: &AppState,
    request: Request<pb::SetPasswordRequest>,
) -> Result<Response<pb::SetPasswordResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let rules = Rules::of(&state.users);
    let input = convert::set_password(request.into_inner(), &rules).map_err(to_status)?;
    let set = state.users.set_password(&ctx, input).await.map_err(to_status)?;
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
    let id = convert::user_id("id", &request.get_ref().id).map_err(to_status)?;
    let user = state.users.force_password_change(&ctx, id).await.map_err(to_status)?;
    Ok(Response::new(pb::ForcePasswordChangeResponse { user: Some(to_proto::user(user)) }))
}
