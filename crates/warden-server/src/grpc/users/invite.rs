//! UsersService: InviteUser, InitiatePasswordReset.

use tonic::{Request, Response, Status};
use warden_core::users::invite::{InitiateReset, InviteDelivery, InviteUser, ResetDelivery};
use warden_proto::v1 as pb;

use super::to_proto;
use crate::{
    grpc::{
        convert::{Violations, id_from, timestamp_opt},
        request::authenticated_context,
    },
    state::AppState,
    status::to_status,
};

pub async fn invite_user(
    state: &AppState,
    request: Request<pb::InviteUserRequest>,
) -> Result<Response<pb::InviteUserResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let req = request.into_inner();
    let mut violations = Violations::new();
    let delivery = match pb::InviteDelivery::try_from(req.delivery) {
        Ok(pb::InviteDelivery::Unspecified | pb::InviteDelivery::SendEmail) => {
            InviteDelivery::SendEmail
        }
        Ok(pb::InviteDelivery::ReturnLink) => InviteDelivery::ReturnLink,
        Err(_) => {
            violations.push("delivery", "is not a known delivery");
            InviteDelivery::SendEmail
        }
    };
    let input = InviteUser {
        email: req.email,
        roles: req.roles,
        delivery,
        base_url: req.base_url,
        expires_in: req.expires_in,
        given_name: req.given_name,
        family_name: req.family_name,
        metadata: to_proto::struct_to_json(req.metadata.as_ref()),
        request_id: req.request_id,
    };
    // One answer lists every problem: the core rules join the conversion's.
    for violation in input.violations(state.users.settings()) {
        violations.push(violation.field, violation.description);
    }
    violations.finish().map_err(to_status)?;
    let invited = state.users.invite(&ctx, input).await.map_err(to_status)?;
    Ok(Response::new(pb::InviteUserResponse {
        user: Some(to_proto::user(&invited.user)),
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
    let req = request.into_inner();
    let mut violations = Violations::new();
    let user_id = violations.check(id_from("id", &req.id));
    let delivery = match pb::PasswordResetDelivery::try_from(req.delivery) {
        Ok(pb::PasswordResetDelivery::Unspecified | pb::PasswordResetDelivery::Email) => {
            ResetDelivery::Email
        }
        Ok(pb::PasswordResetDelivery::Sms) => ResetDelivery::Sms,
        Ok(pb::PasswordResetDelivery::Return) => ResetDelivery::Return,
        Err(_) => {
            violations.push("delivery", "is not a known delivery");
            ResetDelivery::Email
        }
    };
    let input = InitiateReset {
        user_id: user_id.unwrap_or_default(),
        delivery,
        base_url: req.base_url,
        code_expires_in: req.code_expires_in,
        revoke_sessions: req.revoke_sessions,
        reason: req.reason,
    };
    // One answer lists every problem: the core rules join the conversion's.
    for violation in input.violations() {
        violations.push(violation.field, violation.description);
    }
    violations.finish().map_err(to_status)?;
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
