//! UsersService: ListUsers, GetUserStats.

use tonic::{Request, Response, Status};
use warden_core::{
    text_filter::TextFilter,
    users::listing::{ListUsers, TimeRange, UserFilter, UserOrder},
};
use warden_proto::v1 as pb;

use super::to_proto;
use crate::{
    grpc::{
        convert::{Violations, descending, text_filter, time_from, timestamp},
        request::authenticated_context,
    },
    state::AppState,
    status::to_status,
};

pub async fn list_users(
    state: &AppState,
    request: Request<pb::ListUsersRequest>,
) -> Result<Response<pb::ListUsersResponse>, Status> {
    authenticated_context(&request)?;
    let req = request.into_inner();
    let mut violations = Violations::default();
    let filter = UserFilter {
        email: string_filter(&mut violations, "email", req.email.as_ref()),
        username: string_filter(&mut violations, "username", req.username.as_ref()),
        name: string_filter(&mut violations, "name", req.name.as_ref()),
        phone: string_filter(&mut violations, "phone", req.phone.as_ref()),
        search: req.search,
        role: Some(req.role).filter(|role| !role.is_empty()),
        is_active: req.is_active,
        is_locked: req.is_locked,
        email_verified: req.email_verified,
        phone_verified: req.phone_verified,
        has_social_auth: req.has_social_auth,
        mfa_enabled: req.mfa_enabled,
        created_at: time_range(&mut violations, "created_at", req.created_at.as_ref()),
        updated_at: time_range(&mut violations, "updated_at", req.updated_at.as_ref()),
        last_login_at: time_range(&mut violations, "last_login_at", req.last_login_at.as_ref()),
        metadata: req.metadata.into_iter().collect(),
    };
    let order = match pb::UserOrderBy::try_from(req.order_by) {
        Ok(pb::UserOrderBy::Unspecified | pb::UserOrderBy::CreatedAt) => UserOrder::CreatedAt,
        Ok(pb::UserOrderBy::Email) => UserOrder::Email,
        Ok(pb::UserOrderBy::UpdatedAt) => UserOrder::UpdatedAt,
        Ok(pb::UserOrderBy::Username) => UserOrder::Username,
        Ok(pb::UserOrderBy::Phone) => UserOrder::Phone,
        Ok(pb::UserOrderBy::LastLoginAt) => UserOrder::LastLoginAt,
        Err(_) => {
            violations.push("order_by", "is not a known order");
            UserOrder::default()
        }
    };
    let descending = match pb::SortDirection::try_from(req.order_direction) {
        Ok(direction) => descending(direction, true),
        Err(_) => {
            violations.push("order_direction", "is not a known direction");
            true
        }
    };
    let input = ListUsers {
        filter,
        order,
        descending,
        page_size: req.page_size,
        page_token: req.page_token,
        offset: req.offset,
        include_total: req.include_total,
    };
    // One answer lists every problem: the core rules join the conversion's.
    for violation in input.violations(&state.page_key) {
        violations.push(violation.field, violation.description);
    }
    violations.finish().map_err(to_status)?;
    let page = state.users.list_users(&input).await.map_err(to_status)?;
    Ok(Response::new(pb::ListUsersResponse {
        users: page.users.iter().map(to_proto::user).collect(),
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

/// A text filter; an unknown match mode is a violation on `<field>.mode`.
fn string_filter(
    violations: &mut Violations,
    field: &str,
    filter: Option<&pb::StringFilter>,
) -> Option<TextFilter> {
    if filter.is_some_and(|f| pb::MatchMode::try_from(f.mode).is_err()) {
        violations.push(format!("{field}.mode"), "is not a known match mode");
        return None;
    }
    text_filter(filter)
}

fn time_range(
    violations: &mut Violations,
    field: &str,
    range: Option<&pb::TimeRange>,
) -> TimeRange {
    let Some(range) = range else { return TimeRange::default() };
    let mut bound = |name: &str, ts: Option<&prost_types::Timestamp>| {
        ts.and_then(|ts| violations.check(time_from(&format!("{field}.{name}"), ts)))
    };
    TimeRange {
        after: bound("after", range.after.as_ref()),
        before: bound("before", range.before.as_ref()),
    }
}
