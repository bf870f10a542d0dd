//! UsersService: InviteUser, InitiatePasswordReset.

use tonic::{Request, Response, Status};
use warden_core::users::invite::ResetDelivery;
use warden_proto::v1 as pb;

use super::{
    convert::{self, Rules},
    to_proto,
};
use crate::{
    grpc::{convert::timestamp_opt, request::authenticated_context},
    state::AppState,
    status::to_status,
};

pub async fn invite_user(
    state: &AppState,
    request: Request<pb::InviteUserRequest>,
) -> Result<Response<pb::InviteUserResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let rules = Rules::of(&state.users);
    let input = convert::invite_user(request.into_inner(), &rules).map_err(to_status)?;
    let invited = state.users.invite(&ctx, input).await.map_err(to_status)?;
    Ok(Response::new(pb::InviteUserResponse {
        user: Some(to_proto::user(invited.user)),
        invitation_link: invited
            .invitation_link
            .map(|link| link.expose().to_owned())
            .unwrap_or_default(),
        expires_at: timestamp_opt(invited.expires_at),
    }))
}

pub async fn initiate_password_reset(
    state: &AppState,
    request: Request<pb::InitiatePasswordResetRequest>,
) -> Result<Response<pb::InitiatePasswordResetResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let rules = Rules::of(&state.users);
    let input =
        convert::initiate_password_reset(request.into_inner(), &rules).map_err(to_status)?;
    let started = state.users.initiate_password_reset(&ctx, input).await.map_err(to_status)?;
    let delivery_medium = match started.delivery {
        ResetDelivery::Email => pb::PasswordResetDelivery::Email,
        ResetDelivery::Sms => pb::PasswordResetDelivery::Sms,
        ResetDelivery::Return => pb::PasswordResetDelivery::Return,
    };
    Ok(Response::new(pb::InitiatePasswordResetResponse {
        destination: started.destination,
        delivery_medium: delivery_medium.into(),
        expires_in: started.expires_in,
        sessions_revoked: i64::try_from(started.sessions_revoked).unwrap_or(i64::MAX),
        code: started.code.map(|code| code.expose().to_owned()).unwrap_or_default(),
        reset_link: started.reset_link.map(|link| link.expose().to_owned()).unwrap_or_default(),
    }))
}
