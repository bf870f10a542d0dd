//! UsersService: ListUsers, GetUserStats.

use tonic::{Request, Response, Status};
use warden_proto::v1 as pb;

use super::{convert, to_proto};
use crate::{
    grpc::{convert::timestamp, request::authenticated_context},
    state::AppState,
    status::to_status,
};

pub async fn list_users(
    state: &AppState,
    request: Request<pb::ListUsersRequest>,
) -> Result<Response<pb::ListUsersResponse>, Status> {
    authenticated_context(&request)?;
    let (query, page) =
        convert::list_users(request.into_inner(), &state.page_key).map_err(to_status)?;
    let page = state.users.list_users(&query, &page).await.map_err(to_status)?;
    Ok(Response::new(pb::ListUsersResponse {
        users: page.users.into_iter().map(to_proto::user).collect(),
        next_page_token: page.next_page_token,
        total_size: page.total_size.map_or(0, |n| i64::try_from(n).unwrap_or(i64::MAX)),
    }))
}

pub async fn get_user_stats(
    state: &AppState,
    request: Request<pb::GetUserStatsRequest>,
) -> Result<Response<pb::GetUserStatsResponse>, Status> {
    authenticated_context(&request)?;
    let stats = state.users.user_stats().await.map_err(to_status)?;
    Ok(Response::new(pb::GetUserStatsResponse {
        total: stats.total,
        active: stats.active,
        disabled: stats.disabled,
        locked: stats.locked,
        email_verified: stats.email_verified,
        mfa_enabled: stats.mfa_enabled,
        counts_by_role: stats.counts_by_role.into_iter().collect(),
        created_last_24h: stats.created_last_24h,
        created_last_7d: stats.created_last_7d,
        created_last_30d: stats.created_last_30d,
        generated_at: Some(timestamp(stats.generated_at)),
    }))
}
