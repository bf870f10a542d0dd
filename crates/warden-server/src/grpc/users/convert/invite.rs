//! InviteUser, InitiatePasswordReset.

use warden_core::{
    DomainResult,
    users::{
        fields::{NewUser, UserFields},
        invite::{
            InitiateReset, InviteDelivery, InviteUser, ResetDelivery, invite_page, invite_ttl,
            reset_page, reset_ttl,
        },
        lifecycle::MAX_REASON_CHARS,
    },
    values::{RequestId, UserId, all, text_at_most},
};
use warden_proto::v1 as pb;

use super::{super::to_proto::struct_to_json, Rules};
use crate::grpc::convert::known;

pub fn invite_user(req: pb::InviteUserRequest, rules: &Rules<'_>) -> DomainResult<InviteUser> {
    let fields = UserFields {
        email: req.email,
        given_name: req.given_name,
        family_name: req.family_name,
        metadata: struct_to_json(req.metadata.as_ref()),
        roles: req.roles,
        ..UserFields::default()
    };
    let delivery = known("delivery", req.delivery).map(|delivery| match delivery {
        pb::InviteDelivery::Unspecified | pb::InviteDelivery::SendEmail => {
            InviteDelivery::SendEmail
        }
        pb::InviteDelivery::ReturnLink => InviteDelivery::ReturnLink,
    });
    let (user, delivery, ttl_seconds, page, request_id) = all((
        NewUser::parse("", &fields, rules.max_metadata_bytes()),
        delivery,
        invite_ttl("expires_in", req.expires_in, rules.settings),
        invite_page("base_url", &req.base_url, rules.settings),
        RequestId::parse_optional("request_id", &req.request_id),
    ))?;
    Ok(InviteUser { user, delivery, page, ttl_seconds, request_id })
}

pub fn initiate_password_reset(
    req: pb::InitiatePasswordResetRequest,
    rules: &Rules<'_>,
) -> DomainResult<InitiateReset> {
    let delivery = known("delivery", req.delivery).map(|delivery| match delivery {
        pb::PasswordResetDelivery::Unspecified | pb::PasswordResetDelivery::Email => {
            ResetDelivery::Email
        }
        pb::PasswordResetDelivery::Sms => ResetDelivery::Sms,
        pb::PasswordResetDelivery::Return => ResetDelivery::Return,
    });
    let (user_id, delivery, ttl_seconds, reason, page) = all((
        UserId::parse("id", &req.id),
        delivery,
        reset_ttl("code_expires_in", req.code_expires_in),
        text_at_most("reason", &req.reason, MAX_REASON_CHARS),
        reset_page("base_url", &req.base_url, rules.settings),
    ))?;
    let revoke_sessions = req.revoke_sessions;
    Ok(InitiateReset { user_id, delivery, page, ttl_seconds, revoke_sessions, reason })
}
