//! UsersService: thin adapters over `warden_core::users`, one file per group
//! of RPCs; this file only routes each RPC to its handler.

mod convert;
mod import;
mod invite;
mod lifecycle;
mod listing;
pub mod to_proto;

use tonic::{Request, Response, Status};
use warden_proto::v1 as pb;

use crate::{grpc::generated::users_service_server::UsersService, state::AppState};

pub struct UsersApi {
    state: AppState,
}

impl UsersApi {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl UsersService for UsersApi {
    async fn create_user(
        &self,
        request: Request<pb::CreateUserRequest>,
    ) -> Result<Response<pb::CreateUserResponse>, Status> {
        lifecycle::create_user(&self.state, request).await
    }

    async fn import_social_user(
        &self,
        request: Request<pb::ImportSocialUserRequest>,
    ) -> Result<Response<pb::ImportSocialUserResponse>, Status> {
        import::import_social_user(&self.state, request).await
    }

    async fn import_users(
        &self,
        request: Request<tonic::Streaming<pb::ImportUsersRequest>>,
    ) -> Result<Response<pb::ImportUsersResponse>, Status> {
        import::import_users(&self.state, request).await
    }

    async fn get_user(
        &self,
        request: Request<pb::GetUserRequest>,
    ) -> Result<Response<pb::GetUserResponse>, Status> {
        lifecycle::get_user(&self.state, request).await
    }

    async fn list_users(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        listing::list_users(&self.state, request).await
    }

    async fn update_user(
        &self,
        request: Request<pb::UpdateUserRequest>,
    ) -> Result<Response<pb::UpdateUserResponse>, Status> {
        lifecycle::update_user(&self.state, request).await
    }

    async fn set_user_roles(
        &self,
        request: Request<pb::SetUserRolesRequest>,
    ) -> Result<Response<pb::SetUserRolesResponse>, Status> {
        lifecycle::set_user_roles(&self.state, request).await
    }

    async fn delete_user(
        &self,
        request: Request<pb::DeleteUserRequest>,
    ) -> Result<Response<pb::DeleteUserResponse>, Status> {
        lifecycle::delete_user(&self.state, request).await
    }

    async fn disable_user(
        &self,
        request: Request<pb::DisableUserRequest>,
    ) -> Result<Response<pb::DisableUserResponse>, Status> {
        lifecycle::disable_user(&self.state, request).await
    }

    async fn enable_user(
        &self,
        request: Request<pb::EnableUserRequest>,
    ) -> Result<Response<pb::EnableUserResponse>, Status> {
        lifecycle::enable_user(&self.state, request).await
    }

    async fn invite_user(
        &self,
        request: Request<pb::InviteUserRequest>,
    ) -> Result<Response<pb::InviteUserResponse>, Status> {
        invite::invite_user(&self.state, request).await
    }

    async fn set_password(
        &self,
        request: Request<pb::SetPasswordRequest>,
    ) -> Result<Response<pb::SetPasswordResponse>, Status> {
        lifecycle::set_password(&self.state, request).await
    }

    async fn initiate_password_reset(
        &self,
        request: Request<pb::InitiatePasswordResetRequest>,
    ) -> Result<Response<pb::InitiatePasswordResetResponse>, Status> {
        invite::initiate_password_reset(&self.state, request).await
    }

    async fn force_password_change(
        &self,
        request: Request<pb::ForcePasswordChangeRequest>,
    ) -> Result<Response<pb::ForcePasswordChangeResponse>, Status> {
        lifecycle::force_password_change(&self.state, request).await
    }

    async fn list_identities(
        &self,
        request: Request<pb::ListIdentitiesRequest>,
    ) -> Result<Response<pb::ListIdentitiesResponse>, Status> {
        import::list_identities(&self.state, request).await
    }

    async fn unlink_identity(
        &self,
        request: Request<pb::UnlinkIdentityRequest>,
    ) -> Result<Response<pb::UnlinkIdentityResponse>, Status> {
        import::unlink_identity(&self.state, request).await
    }

    async fn get_user_stats(
        &self,
        request: Request<pb::GetUserStatsRequest>,
    ) -> Result<Response<pb::GetUserStatsResponse>, Status> {
        listing::get_user_stats(&self.state, request).await
    }
}
