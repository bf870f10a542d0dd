//! AdminAuthService: thin adapter over `warden_core::admin_auth`. Each
//! handler converts the request (`convert`), calls one use case and converts
//! the answer back.

mod convert;

use tonic::{Request, Response, Status};
use warden_core::admin_auth::{Admin, SignedIn};
use warden_proto::v1 as pb;

use super::{
    convert::{timestamp, timestamp_opt},
    generated::admin_auth_service_server::AdminAuthService,
    request::{authenticated_context, context},
};
use crate::{state::AppState, status::to_status};

pub struct AdminAuthApi {
    state: AppState,
}

impl AdminAuthApi {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    /// Sign-in RPCs spend the caller's per-peer budget first.
    fn limit<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let peer = request.remote_addr().map(|addr| addr.ip());
        self.state.sign_in_limiter.check(peer).map_err(to_status)
    }
}

pub fn admin_to_proto(admin: Admin) -> pb::Admin {
    pb::Admin {
        id: admin.id.to_string(),
        scopes: admin.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
        email: admin.email,
        name: admin.name,
        role: admin.role,
        is_active: admin.is_active,
        created_at: Some(timestamp(admin.created_at)),
        updated_at: Some(timestamp(admin.updated_at)),
        last_login_at: timestamp_opt(admin.last_login_at),
    }
}

/// Setup, Login and RefreshToken answer with the same four fields, in
/// three distinct message types.
macro_rules! signed_in_response {
    ($response:ident, $signed_in:expr) => {{
        let signed_in: SignedIn = $signed_in;
        pb::$response {
            admin: Some(admin_to_proto(signed_in.admin)),
            access_token: signed_in.access_token,
            refresh_token: signed_in.refresh_token.expose().to_owned(),
            expires_in: signed_in.expires_in,
        }
    }};
}

#[tonic::async_trait]
impl AdminAuthService for AdminAuthApi {
    async fn get_setup_status(
        &self,
        _request: Request<pb::GetSetupStatusRequest>,
    ) -> Result<Response<pb::GetSetupStatusResponse>, Status> {
        let status = self.state.admin_auth.setup_status().await.map_err(to_status)?;
        Ok(Response::new(pb::GetSetupStatusResponse {
            needs_setup: status.needs_setup,
            has_admin: status.has_admin,
        }))
    }

    async fn setup(
        &self,
        request: Request<pb::SetupRequest>,
    ) -> Result<Response<pb::SetupResponse>, Status> {
        self.limit(&request)?;
        let ctx = context(&request);
        let admin_auth = &self.state.admin_auth;
        let first = convert::setup(request.into_inner(), &admin_auth.password_policy())
            .map_err(to_status)?;
        let signed_in = admin_auth.setup(&ctx, first).await.map_err(to_status)?;
        Ok(Response::new(signed_in_response!(SetupResponse, signed_in)))
    }

    async fn login(
        &self,
        request: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::LoginResponse>, Status> {
        self.limit(&request)?;
        let ctx = context(&request);
        let credentials = convert::login(request.into_inner()).map_err(to_status)?;
        let signed_in = self.state.admin_auth.login(&ctx, &credentials).await.map_err(to_status)?;
        Ok(Response::new(signed_in_response!(LoginResponse, signed_in)))
    }

    async fn refresh_token(
        &self,
        request: Request<pb::RefreshTokenRequest>,
    ) -> Result<Response<pb::RefreshTokenResponse>, Status> {
        self.limit(&request)?;
        let ctx = context(&request);
        let body = request.into_inner();
        let signed_in =
            self.state.admin_auth.refresh(&ctx, &body.refresh_token).await.map_err(to_status)?;
        Ok(Response::new(signed_in_response!(RefreshTokenResponse, signed_in)))
    }

    async fn logout(
        &self,
        request: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        let ctx = authenticated_context(&request)?;
        self.state.admin_auth.logout(&ctx).await.map_err(to_status)?;
        Ok(Response::new(pb::LogoutResponse {}))
    }

    async fn get_current_admin(
        &self,
        request: Request<pb::GetCurrentAdminRequest>,
    ) -> Result<Response<pb::GetCurrentAdminResponse>, Status> {
        let ctx = authenticated_context(&request)?;
        let admin = self.state.admin_auth.current_admin(&ctx).await.map_err(to_status)?;
        Ok(Response::new(pb::GetCurrentAdminResponse { admin: Some(admin_to_proto(admin)) }))
    }

    async fn change_password(
        &self,
        request: Request<pb::ChangePasswordRequest>,
    ) -> Result<Response<pb::ChangePasswordResponse>, Status> {
        let ctx = authenticated_context(&request)?;
        let admin_auth = &self.state.admin_auth;
        let change = convert::change_password(request.into_inner(), &admin_auth.password_policy())
            .map_err(to_status)?;
        let revoked = admin_auth.change_password(&ctx, &change).await.map_err(to_status)?;
        let admin = admin_auth.current_admin(&ctx).await.map_err(to_status)?;
        Ok(Response::new(pb::ChangePasswordResponse {
            admin: Some(admin_to_proto(admin)),
            revoked_sessions: revoked as i64,
        }))
    }

    async fn request_password_reset(
        &self,
        request: Request<pb::RequestPasswordResetRequest>,
    ) -> Result<Response<pb::RequestPasswordResetResponse>, Status> {
        self.limit(&request)?;
        let ctx = context(&request);
        let email = convert::request_password_reset(request.get_ref()).map_err(to_status)?;
        self.state.admin_auth.request_password_reset(&ctx, &email).await.map_err(to_status)?;
        Ok(Response::new(pb::RequestPasswordResetResponse {}))
    }

    async fn confirm_password_reset(
        &self,
        request: Request<pb::ConfirmPasswordResetRequest>,
    ) -> Result<Response<pb::ConfirmPasswordResetResponse>, Status> {
        self.limit(&request)?;
        let ctx = context(&request);
        let admin_auth = &self.state.admin_auth;
        let policy = admin_auth.password_policy();
        let confirmation =
            convert::confirm_password_reset(request.into_inner(), &policy).map_err(to_status)?;
        admin_auth.confirm_password_reset(&ctx, &confirmation).await.map_err(to_status)?;
        Ok(Response::new(pb::ConfirmPasswordResetResponse {}))
    }

    async fn list_admins(
        &self,
        request: Request<pb::ListAdminsRequest>,
    ) -> Result<Response<pb::ListAdminsResponse>, Status> {
        let (query, page) =
            convert::list_admins(request.get_ref(), &self.state.page_key).map_err(to_status)?;
        let result = self.state.admin_auth.list_admins(&query, &page).await.map_err(to_status)?;
        Ok(Response::new(pb::ListAdminsResponse {
            admins: result.admins.into_iter().map(admin_to_proto).collect(),
            next_page_token: result.next_page_token,
            total_size: result.total_size.unwrap_or_default() as i64,
        }))
    }

    async fn get_admin(
        &self,
        request: Request<pb::GetAdminRequest>,
    ) -> Result<Response<pb::GetAdminResponse>, Status> {
        let id = convert::admin_id("id", &request.get_ref().id).map_err(to_status)?;
        let admin = self.state.admin_auth.get_admin(id).await.map_err(to_status)?;
        Ok(Response::new(pb::GetAdminResponse { admin: Some(admin_to_proto(admin)) }))
    }

    async fn create_admin(
        &self,
        request: Request<pb::CreateAdminRequest>,
    ) -> Result<Response<pb::CreateAdminResponse>, Status> {
        let ctx = authenticated_context(&request)?;
        let admin_auth = &self.state.admin_auth;
        let new = convert::create_admin(request.into_inner(), &admin_auth.password_policy())
            .map_err(to_status)?;
        let admin = admin_auth.create_admin(&ctx, new).await.map_err(to_status)?;
        Ok(Response::new(pb::CreateAdminResponse { admin: Some(admin_to_proto(admin)) }))
    }

    async fn update_admin(
        &self,
        request: Request<pb::UpdateAdminRequest>,
    ) -> Result<Response<pb::UpdateAdminResponse>, Status> {
        let ctx = authenticated_context(&request)?;
        let admin_auth = &self.state.admin_auth;
        let (id, update) =
            convert::update_admin(request.into_inner(), &admin_auth.password_policy())
                .map_err(to_status)?;
        let admin = admin_auth.update_admin(&ctx, id, update).await.map_err(to_status)?;
        Ok(Response::new(pb::UpdateAdminResponse { admin: Some(admin_to_proto(admin)) }))
    }

    async fn delete_admin(
        &self,
        request: Request<pb::DeleteAdminRequest>,
    ) -> Result<Response<pb::DeleteAdminResponse>, Status> {
        let ctx = authenticated_context(&request)?;
        let body = request.into_inner();
        let id = convert::admin_id("id", &body.id).map_err(to_status)?;
        let revoked = self
            .state
            .admin_auth
            .delete_admin(&ctx, id, body.validate_only)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::DeleteAdminResponse {
            deleted_admin_id: id.to_string(),
            revoked_sessions: revoked as i64,
        }))
    }

    async fn get_jwks(
        &self,
        _request: Request<pb::GetJwksRequest>,
    ) -> Result<Response<pb::GetJwksResponse>, Status> {
        let published = self.state.auth.tokens().keys().published();
        let jwks_json = serde_json::json!({ "keys": published.iter().map(|k| k.to_json()).collect::<Vec<_>>() });
        let keys = published
            .into_iter()
            .map(|key| pb::Jwk {
                kty: "OKP".to_owned(),
                crv: "Ed25519".to_owned(),
                x: key.x,
                kid: key.kid,
                alg: "EdDSA".to_owned(),
                r#use: "sig".to_owned(),
            })
            .collect();
        Ok(Response::new(pb::GetJwksResponse { keys, jwks_json: jwks_json.to_string() }))
    }
}
