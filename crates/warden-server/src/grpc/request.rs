//! What adapters take from a tonic request besides its message: the caller
//! (put there by the authorization layer) and facts for the audit row.

use tonic::{Request, Status};
use warden_core::{
    DomainError,
    context::{CallInfo, Context},
    principal::Principal,
};

use crate::status::to_status;

/// The audit facts of a call: `x-request-id`, peer IP and user agent.
pub fn call_info<T>(request: &Request<T>) -> CallInfo {
    let text = |name: &str| {
        request
            .metadata()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(|value| value.chars().take(256).collect::<String>())
    };
    CallInfo {
        request_id: text("x-request-id"),
        peer_ip: request.remote_addr().map(|addr| addr.ip().to_string()),
        user_agent: text("user-agent"),
    }
}

/// The context of a call: the authenticated caller when there is one.
pub fn context<T>(request: &Request<T>) -> Context {
    let call = call_info(request);
    match request.extensions().get::<Principal>() {
        Some(principal) => Context::of(principal.clone(), call),
        None => Context::anonymous(call),
    }
}

/// The context of a call that requires a caller. The layer guarantees one for
/// every non-public RPC; its absence is a server bug, not the caller's fault.
pub fn authenticated_context<T>(request: &Request<T>) -> Result<Context, Status> {
    let ctx = context(request);
    if ctx.principal.is_none() {
        return Err(to_status(DomainError::Unauthenticated));
    }
    Ok(ctx)
}
