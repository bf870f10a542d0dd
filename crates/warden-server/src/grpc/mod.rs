//! Thin gRPC adapters, one module per service. A handler converts the request
//! in one place (its service's `convert`: typed input, every field violation
//! in one answer), calls one core use case and converts the view back;
//! authorization already happened in the layer. RPCs not built yet keep the generated default, which
//! answers UNIMPLEMENTED (only ever after authorization).

use generated::{
    admin_auth_service_server::AdminAuthServiceServer,
    api_keys_service_server::ApiKeysServiceServer, audit_service_server::AuditServiceServer,
    mfa_service_server::MfaServiceServer, o_auth_clients_service_server::OAuthClientsServiceServer,
    sessions_service_server::SessionsServiceServer, users_service_server::UsersServiceServer,
};

use crate::state::AppState;

pub mod admin_auth;
pub mod api_keys;
pub mod convert;
pub mod generated;
mod read_ahead;
pub mod request;
pub mod sessions;
mod unimplemented;
pub mod users;

pub use admin_auth::AdminAuthApi;
pub use api_keys::ApiKeysApi;
pub use sessions::SessionsApi;
pub use unimplemented::{AuditApi, MfaApi, OAuthClientsApi};
pub use users::UsersApi;

/// Every warden service, ready to add to the router.
pub struct Services {
    pub admin_auth: AdminAuthServiceServer<AdminAuthApi>,
    pub users: UsersServiceServer<UsersApi>,
    pub sessions: SessionsServiceServer<SessionsApi>,
    pub mfa: MfaServiceServer<MfaApi>,
    pub api_keys: ApiKeysServiceServer<ApiKeysApi>,
    pub oauth_clients: OAuthClientsServiceServer<OAuthClientsApi>,
    pub audit: AuditServiceServer<AuditApi>,
}

impl Services {
    pub fn new(state: &AppState) -> Self {
        Self {
            admin_auth: AdminAuthServiceServer::new(AdminAuthApi::new(state.clone())),
            users: UsersServiceServer::new(UsersApi::new(state.clone())),
            sessions: SessionsServiceServer::new(SessionsApi::new(state.clone())),
            mfa: MfaServiceServer::new(MfaApi::new(state.clone())),
            api_keys: ApiKeysServiceServer::new(ApiKeysApi::new(state.clone())),
            oauth_clients: OAuthClientsServiceServer::new(OAuthClientsApi::new(state.clone())),
            audit: AuditServiceServer::new(AuditApi::new(state.clone())),
        }
    }
}
