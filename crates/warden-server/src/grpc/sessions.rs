//! SessionsService: thin adapter over `warden_core`. RPCs not implemented yet
//! keep the generated default (UNIMPLEMENTED, after authorization).

mod convert;

use tonic::{Request, Response, Status};
use warden_core::{
    DomainError,
    users::sign_in::{ChallengeKind, SignedIn},
};
use warden_proto::v1::{self as pb, create_session_response};

use super::{
    convert::timestamp,
    generated::sessions_service_server::SessionsService,
    request::{call_info, context},
};
use crate::{state::AppState, status::to_status};

pub struct SessionsApi {
    state: AppState,
}

impl SessionsApi {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl SessionsService for SessionsApi {
    async fn create_session(
        &self,
        request: Request<pb::CreateSessionRequest>,
    ) -> Result<Response<pb::CreateSessionResponse>, Status> {
        let peer = request.remote_addr().map(|addr| addr.ip());
        self.state.sign_in_limiter.check(peer).map_err(to_status)?;
        let ctx = context(&request);
        let call = call_info(&request);
        let sign_in = convert::create_session(request.into_inner(), call).map_err(to_status)?;
        let result = match self.state.users.sign_in(&ctx, sign_in).await.map_err(to_status)? {
            SignedIn::Tokens(tokens) => {
                create_session_response::Result::Tokens(pb::SessionTokens {
                    access_token: tokens.access_token,
                    refresh_token: tokens.refresh_token.expose().to_owned(),
                    expires_in: tokens.expires_in,
                    session_id: tokens.session_id.to_string(),
                    user_id: tokens.user_id.to_string(),
                    device_token: String::new(),
                })
            }
            SignedIn::Challenge(challenge) => {
                let challenge_type = match challenge.kind {
                    ChallengeKind::PasswordChangeRequired => {
                        pb::ChallengeType::PasswordChangeRequired
                    }
                    ChallengeKind::MfaRequired => pb::ChallengeType::MfaRequired,
                };
                create_session_response::Result::Challenge(pb::Challenge {
                    challenge_type: challenge_type as i32,
                    challenge_token: challenge.token.expose().to_owned(),
                    expires_at: Some(timestamp(challenge.expires_at)),
                    ..Default::default()
                })
            }
        };
        Ok(Response::new(pb::CreateSessionResponse { result: Some(result) }))
    }

    async fn refresh_session(
        &self,
        request: Request<pb::RefreshSessionRequest>,
    ) -> Result<Response<pb::RefreshSessionResponse>, Status> {
        let peer = request.remote_addr().map(|addr| addr.ip());
        self.state.sign_in_limiter.check(peer).map_err(to_status)?;
        let ctx = context(&request);
        let body = request.into_inner();
        let tokens =
            self.state.users.refresh_session(&ctx, &body.refresh_token).await.map_err(to_status)?;
        Ok(Response::new(pb::RefreshSessionResponse {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token.expose().to_owned(),
            expires_in: tokens.expires_in,
            session_id: tokens.session_id.to_string(),
        }))
    }

    async fn verify_token(
        &self,
        request: Request<pb::VerifyTokenRequest>,
    ) -> Result<Response<pb::VerifyTokenResponse>, Status> {
        let token = convert::verify_token(request.into_inner()).map_err(to_status)?;
        let verified = self.state.users.verify_token(&token).await;
        let answer = match verified {
            Ok(verified) => {
                let claims = &verified.claims;
                pb::VerifyTokenResponse {
                    valid: true,
                    reason: pb::ErrorReason::Unspecified as i32,
                    user_id: claims.sub.to_string(),
                    session_id: claims.sid.to_string(),
                    roles: verified.roles,
                    scopes: Vec::new(),
                    issued_at: chrono::DateTime::from_timestamp(claims.iat, 0).map(timestamp),
                    expires_at: chrono::DateTime::from_timestamp(claims.exp, 0).map(timestamp),
                    claims: serde_json::to_value(claims.as_ref())
                        .ok()
                        .as_ref()
                        .and_then(super::users::to_proto::json_to_struct),
                }
            }
            // A failure to check is an error; a bad token is an answer.
            Err(err @ (DomainError::Internal(_) | DomainError::Unavailable(_))) => {
                return Err(to_status(err));
            }
            Err(err) => pb::VerifyTokenResponse {
                valid: false,
                reason: invalid_reason(&err) as i32,
                ..Default::default()
            },
        };
        Ok(Response::new(answer))
    }
}

/// Why a token is invalid, in VerifyToken's terms.
fn invalid_reason(err: &DomainError) -> pb::ErrorReason {
    match err {
        DomainError::TokenExpired => pb::ErrorReason::TokenExpired,
        DomainError::TokenRevoked => pb::ErrorReason::TokenRevoked,
        DomainError::AccountDisabled => pb::ErrorReason::AccountDisabled,
        _ => pb::ErrorReason::TokenInvalid,
    }
}
