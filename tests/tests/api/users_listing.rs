//! ListUsers and GetUserStats over gRPC: every filter alone and combined,
//! every order both ways, keyset paging without gaps or repeats, offset,
//! totals, token binding, and stats that follow the clock. Users are seeded
//! straight into the database (fields::seed + entity updates).

mod filters;
mod paging;
mod scale;
mod stats;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use sea_orm::{ActiveModelTrait, Set};
use tonic::{Status, transport::Channel};
use uuid::Uuid;
use warden_core::{
    entity::{user_identities, users},
    scope::ScopeSet,
    users::fields::{self, NewUser, UserFields},
};
use warden_proto::v1::{
    self as pb, ListUsersRequest, ListUsersResponse, users_service_client::UsersServiceClient,
};
use warden_tests::{TestApp, authorized, invalid_fields};

type Client = UsersServiceClient<Channel>;

/// A client and a key holding every scope.
async fn caller(app: &TestApp) -> (Client, String) {
    (UsersServiceClient::new(app.channel.clone()), app.api_key(ScopeSet::all()).await)
}

async fn list(
    client: &mut Client,
    key: &str,
    request: ListUsersRequest,
) -> Result<ListUsersResponse, Status> {
    client.list_users(authorized(request, key)).await.map(|r| r.into_inner())
}

fn string_filter(value: &str, mode: pb::MatchMode) -> Option<pb::StringFilter> {
    Some(pb::StringFilter { value: value.into(), mode: mode.into() })
}

fn ts(time: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: time.timestamp_subsec_nanos() as i32,
    }
}

fn range(after: Option<DateTime<Utc>>, before: Option<DateTime<Utc>>) -> Option<pb::TimeRange> {
    Some(pb::TimeRange { after: after.map(ts), before: before.map(ts) })
}

/// A start time for seeded rows, whole seconds (both databases keep it exactly).
fn base_time() -> DateTime<Utc> {
    (Utc::now() - Duration::days(1)).trunc_subsecs(0)
}

/// One user to seed; `Default` is a plain active user.
#[derive(Debug, Clone, Default)]
struct Seed {
    email: String,
    username: &'static str,
    given_name: &'static str,
    family_name: &'static str,
    phone: &'static str,
    roles: &'static [&'static str],
    metadata: serde_json::Value,
    email_verified: bool,
    phone_verified: bool,
    mfa_enabled: bool,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
    last_login_at: Option<DateTime<Utc>>,
    /// `Some(until)`: disabled, until that time (`None`: indefinitely).
    disabled: Option<Option<DateTime<Utc>>>,
    locked_until: Option<DateTime<Utc>>,
    providers: &'static [&'static str],
}

impl Seed {
    fn new(email: impl Into<String>) -> Self {
        Self { email: email.into(), ..Default::default() }
    }
}

async fn seed(app: &TestApp, seed: Seed) -> users::Model {
    let input = UserFields {
        email: seed.email.clone(),
        username: seed.username.into(),
        given_name: seed.given_name.into(),
        family_name: seed.family_name.into(),
        phone: seed.phone.into(),
        metadata: seed.metadata.clone(),
        roles: seed.roles.iter().map(|r| (*r).to_owned()).collect(),
        email_verified: seed.email_verified,
        phone_verified: seed.phone_verified,
        must_change_password: false,
    };
    let valid = NewUser::parse("", &input, 16 * 1024).expect("seed passes the field rules");
    let created_at = seed.created_at.unwrap_or_else(|| Utc::now().trunc_subsecs(6));
    let user = fields::seed(&app.db, &valid, created_at).await.unwrap();
    let mut row: users::ActiveModel = user.into();
    row.updated_at = Set(seed.updated_at.unwrap_or(created_at));
    row.last_login_at = Set(seed.last_login_at);
    row.mfa_enabled = Set(seed.mfa_enabled);
    row.locked_until = Set(seed.locked_until);
    if let Some(until) = seed.disabled {
        row.is_active = Set(false);
        row.disabled_reason = Set(Some("seeded".into()));
        row.disabled_until = Set(until);
    }
    let user = row.update(&app.db).await.unwrap();
    for (i, provider) in seed.providers.iter().enumerate() {
        user_identities::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user.id),
            provider: Set((*provider).to_owned()),
            provider_user_id: Set(format!("{}-{i}", user.id)),
            provider_email: Set(Some(seed.email.clone())),
            profile: Set(serde_json::json!({})),
            created_at: Set(created_at),
            updated_at: Set(created_at),
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    user
}

/// Emails of a listing, in the order returned.
fn emails(response: &ListUsersResponse) -> Vec<String> {
    response.users.iter().map(|u| u.email.clone()).collect()
}
