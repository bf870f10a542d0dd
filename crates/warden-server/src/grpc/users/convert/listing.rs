//! ListUsers: filters, order and page.

use warden_core::{
    DomainResult, FieldViolation,
    pagination::{PageKey, PageRequest},
    text_filter::TextFilter,
    users::listing::{TimeRange, UserFilter, UserOrder, UserQuery, filter_text, metadata_filters},
    values::{Invalid, all},
};
use warden_proto::v1 as pb;

use crate::grpc::convert::{descending, known, optional_time, paged, paging, text_filter};

/// A text filter of ListUsers: a known mode, a value of bounded length.
fn bounded_filter(
    field: &str,
    filter: Option<&pb::StringFilter>,
) -> Result<Option<TextFilter>, FieldViolation> {
    if let Some(filter) = filter {
        filter_text(&format!("{field}.value"), &filter.value)?;
    }
    text_filter(field, filter)
}

fn time_range(field: &str, range: Option<&pb::TimeRange>) -> Result<TimeRange, Invalid> {
    let Some(range) = range else { return Ok(TimeRange::default()) };
    let (after, before) = all((
        optional_time(&format!("{field}.after"), range.after.as_ref()),
        optional_time(&format!("{field}.before"), range.before.as_ref()),
    ))?;
    Ok(TimeRange::new(field, after, before)?)
}

pub fn list_users(
    req: pb::ListUsersRequest,
    key: &PageKey,
) -> DomainResult<(UserQuery, PageRequest)> {
    let order = known("order_by", req.order_by).map(|order_by| match order_by {
        pb::UserOrderBy::Unspecified | pb::UserOrderBy::CreatedAt => UserOrder::CreatedAt,
        pb::UserOrderBy::Email => UserOrder::Email,
        pb::UserOrderBy::UpdatedAt => UserOrder::UpdatedAt,
        pb::UserOrderBy::Username => UserOrder::Username,
        pb::UserOrderBy::Phone => UserOrder::Phone,
        pb::UserOrderBy::LastLoginAt => UserOrder::LastLoginAt,
    });
    let role =
        filter_text("role", &req.role).map(|()| Some(req.role.clone()).filter(|r| !r.is_empty()));
    let query = all((
        bounded_filter("email", req.email.as_ref()),
        bounded_filter("username", req.username.as_ref()),
        bounded_filter("name", req.name.as_ref()),
        bounded_filter("phone", req.phone.as_ref()),
        filter_text("search", &req.search),
        role,
        time_range("created_at", req.created_at.as_ref()),
        time_range("updated_at", req.updated_at.as_ref()),
        time_range("last_login_at", req.last_login_at.as_ref()),
        metadata_filters("metadata", req.metadata),
        order,
        descending(req.order_direction, true),
    ))
    .map(
        |(
            email,
            username,
            name,
            phone,
            (),
            role,
            created,
            updated,
            last_login,
            metadata,
            order,
            descending,
        )| {
            let filter = UserFilter {
                email,
                username,
                name,
                phone,
                search: req.search,
                role,
                is_active: req.is_active,
                is_locked: req.is_locked,
                email_verified: req.email_verified,
                phone_verified: req.phone_verified,
                has_social_auth: req.has_social_auth,
                mfa_enabled: req.mfa_enabled,
                created_at: created,
                updated_at: updated,
                last_login_at: last_login,
                metadata,
            };
            UserQuery { filter, order, descending }
        },
    );
    paged(key, query, UserQuery::fingerprint, paging!(req))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_range_reports_its_first_bad_bound() {
        let bad = prost_types::Timestamp { seconds: 0, nanos: -1 };
        let range = pb::TimeRange { after: Some(bad), before: None };
        let invalid = time_range("created_at", Some(&range)).unwrap_err();
        assert_eq!(invalid.violations()[0].field, "created_at.after");
    }
}
