//! SessionsService requests -> the typed input of `warden_core::users`'
//! sign-in and token use cases.

use warden_core::{
    DomainResult, auth::sign_in::Credentials, context::CallInfo, users::sign_in::SignInRequest,
    values::required,
};
use warden_proto::v1 as pb;

/// `call` is what the call itself says about its peer: the relaying
/// service. The end user's device, as relayed in `ClientInfo`, wins where
/// it is given.
pub fn create_session(
    req: pb::CreateSessionRequest,
    call: CallInfo,
) -> DomainResult<SignInRequest> {
    let credentials = Credentials::parse("identifier", &req.identifier, req.password)?;
    Ok(SignInRequest { credentials, client: client_call(req.client.as_ref(), call) })
}

/// The token to check; an empty one is bad input, not an invalid token.
pub fn verify_token(req: pb::VerifyTokenRequest) -> DomainResult<String> {
    required("token", &req.token)?;
    Ok(req.token)
}

fn client_call(client: Option<&pb::ClientInfo>, call: CallInfo) -> CallInfo {
    let given = |value: Option<&String>| {
        value.filter(|v| !v.trim().is_empty()).map(|v| v.chars().take(256).collect::<String>())
    };
    CallInfo {
        request_id: call.request_id,
        peer_ip: given(client.map(|c| &c.ip_address)).or(call.peer_ip),
        user_agent: given(client.map(|c| &c.user_agent)).or(call.user_agent),
    }
}
