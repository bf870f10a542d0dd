//! AdminAuthService: thin adapter over `warden_core::admin_auth`.

use tonic::{Request, Response, Status};
use warden_core::{
    DomainError,
    admin_auth::{AdminFilter, AdminOrder, AdminUpdate, NewAdmin, SignedIn, principal_for},
    entity::admins,
    pagination::PageRequest,
    secret::SecretString,
};
use warden_proto::v1 as pb;

use super::{
    convert::{Violations, descending, id_from, mask_paths, text_filter, timestamp, timestamp_opt},
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

fn secret(value: String) -> SecretString {
    SecretString::new(value)
}

pub fn admin_to_proto(admin: &admins::Model) -> pb::Admin {
    let scopes = principal_for(admin, uuid::Uuid::nil()).scopes;
    pb::Admin {
        id: admin.id.to_string(),
        email: admin.email.clone(),
        name: admin.name.clone(),
        role: admin.role.clone(),
        is_active: admin.is_active,
        created_at: Some(timestamp(admin.created_at)),
        updated_at: Some(timestamp(admin.updated_at)),
        last_login_at: timestamp_opt(admin.last_login_at),
        scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
    }
}

/// Setup, Login and RefreshToken answer with the same four fields, in
/// three distinct message types.
macro_rules! signed_in_response {
    ($response:ident, $signed_in:expr) => {{
        let signed_in: SignedIn = $signed_in;
        pb::$response {
            admin: Some(admin_to_proto(&signed_in.admin)),
            access_token: signed_in.access_token,
            refresh_token: signed_in.refresh_token.expose().to_owned(),
            expires_in: signed_in.expires_in,
        }
    }};
}

fn order(order_by: pb::AdminOrderBy) -> AdminOrder {
    match order_by {
        pb::AdminOrderBy::Unspecified | pb::AdminOrderBy::CreatedAt => AdminOrder::CreatedAt,
        pb::AdminOrderBy::Email => AdminOrder::Email,
        pb::AdminOrderBy::Name => AdminOrder::Name,
        pb::AdminOrderBy::UpdatedAt => AdminOrder::UpdatedAt,
        pb::AdminOrderBy::LastLoginAt => AdminOrder::LastLoginAt,
    }
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
        let body = request.into_inner();
        let signed_in = self
            .state
            .admin_auth
            .setup(&ctx, &body.email, &secret(body.password), &body.name)
            .await
            .map_err(to_status)?;
        Ok(Response::new(signed_in_response!(SetupResponse, signed_in)))
    }

    async fn login(
        &self,
        request: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::LoginResponse>, Status> {
        self.limit(&request)?;
        let ctx = context(&request);
        let body = request.into_inner();
        let signed_in = self
            .state
            .admin_auth
            .login(&ctx, &body.email, &secret(body.password))
            .await
            .map_err(to_status)?;
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
        Ok(Response::new(pb::GetCurrentAdminResponse { admin: Some(admin_to_proto(&admin)) }))
    }

    async fn change_password(
        &self,
        request: Request<pb::ChangePasswordRequest>,
    ) -> Result<Response<pb::ChangePasswordResponse>, Status> {
        let ctx = authenticated_context(&request)?;
        let body = request.into_inner();
        let revoked = self
            .state
            .admin_auth
            .change_password(&ctx, &secret(body.current_password), &secret(body.new_password))
            .await
            .map_err(to_status)?;
        let admin = self.state.admin_auth.current_admin(&ctx).await.map_err(to_status)?;
        Ok(Response::new(pb::ChangePasswordResponse {
            admin: Some(admin_to_proto(&admin)),
            revoked_sessions: revoked as i64,
        }))
    }

    async fn request_password_reset(
        &self,
        request: Request<pb::RequestPasswordResetRequest>,
    ) -> Result<Response<pb::RequestPasswordResetResponse>, Status> {
        self.limit(&request)?;
        let ctx = context(&request);
        let body = request.into_inner();
        self.state.admin_auth.request_password_reset(&ctx, &body.email).await.map_err(to_status)?;
        Ok(Response::new(pb::RequestPasswordResetResponse {}))
    }

    async fn confirm_password_reset(
        &self,
        request: Request<pb::ConfirmPasswordResetRequest>,
    ) -> Result<Response<pb::ConfirmPasswordResetResponse>, Status> {
        self.limit(&request)?;
        let ctx = context(&request);
        let body = request.into_inner();
        self.state
            .admin_auth
            .confirm_password_reset(
                &ctx,
                &secret(body.token),
                &secret(body.password),
                &secret(body.password_confirm),
            )
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ConfirmPasswordResetResponse {}))
    }

    async fn list_admins(
        &self,
        request: Request<pb::ListAdminsRequest>,
    ) -> Result<Response<pb::ListAdminsResponse>, Status> {
        let body = request.into_inner();
        let filter = AdminFilter {
            email: text_filter(body.email.as_ref()),
            name: text_filter(body.name.as_ref()),
            role: (!body.role.is_empty()).then(|| body.role.clone()),
            is_active: body.is_active,
            order: order(body.order_by()),
            descending: descending(body.order_direction(), true),
        };
        let page = PageRequest::parse(
            body.page_size,
            &body.page_token,
            body.offset,
            body.include_total,
            &format!("{filter:?}"),
        )
        .map_err(to_status)?;
        let result = self.state.admin_auth.list_admins(&filter, &page).await.map_err(to_status)?;
        Ok(Response::new(pb::ListAdminsResponse {
            admins: result.admins.iter().map(admin_to_proto).collect(),
            next_page_token: result.next_page_token,
            total_size: result.total_size.unwrap_or_default() as i64,
        }))
    }

    async fn get_admin(
        &self,
        request: Request<pb::GetAdminRequest>,
    ) -> Result<Response<pb::GetAdminResponse>, Status> {
        let id = id_from("id", &request.get_ref().id)
            .map_err(|v| to_status(DomainError::Validation(vec![v])))?;
        let admin = self.state.admin_auth.get_admin(id).await.map_err(to_status)?;
        Ok(Response::new(pb::GetAdminResponse { admin: Some(admin_to_proto(&admin)) }))
    }

    async fn create_admin(
        &self,
        request: Request<pb::CreateAdminRequest>,
    ) -> Result<Response<pb::CreateAdminResponse>, Status> {
        let ctx = authenticated_context(&request)?;
        let body = request.into_inner();
        let new = NewAdmin {
            email: body.email,
            name: body.name,
            password: secret(body.password),
            password_confirm: secret(body.password_confirm),
            role: body.role,
            request_id: body.request_id,
        };
        let admin = self.state.admin_auth.create_admin(&ctx, new).await.map_err(to_status)?;
        Ok(Response::new(pb::CreateAdminResponse { admin: Some(admin_to_proto(&admin)) }))
    }

    async fn update_admin(
        &self,
        request: Request<pb::UpdateAdminRequest>,
    ) -> Result<Response<pb::UpdateAdminResponse>, Status> {
        let ctx = authenticated_context(&request)?;
        let body = request.into_inner();
        let mut violations = Violations::new();
        let admin = body.admin.unwrap_or_default();
        let id = violations.check(id_from("admin.id", &admin.id));
        let paths = mask_paths(
            &mut violations,
            body.update_mask.as_ref(),
            &["email", "name", "role", "is_active", "password"],
        );
        violations.finish().map_err(to_status)?;
        let has = |path: &str| paths.iter().any(|p| p == path);
        let update = AdminUpdate {
            email: has("email").then(|| admin.email.clone()),
            name: has("name").then(|| admin.name.clone()),
            role: has("role").then(|| admin.role.clone()),
            is_active: has("is_active").then_some(admin.is_active),
            password: has("password")
                .then(|| (secret(body.password.clone()), secret(body.password_confirm.clone()))),
        };
        let Some(id) = id else {
            return Err(to_status(DomainError::validation("admin.id", "is required")));
        };
        let admin =
            self.state.admin_auth.update_admin(&ctx, id, update).await.map_err(to_status)?;
        Ok(Response::new(pb::UpdateAdminResponse { admin: Some(admin_to_proto(&admin)) }))
    }

    async fn delete_admin(
        &self,
        request: Request<pb::DeleteAdminRequest>,
    ) -> Result<Response<pb::DeleteAdminResponse>, Status> {
        let ctx = authenticated_context(&request)?;
        let body = request.into_inner();
        let id =
            id_from("id", &body.id).map_err(|v| to_status(DomainError::Validation(vec![v])))?;
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
        let published = self.state.admin_auth.tokens().keys().published();
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
