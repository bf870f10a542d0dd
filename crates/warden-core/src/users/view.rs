//! A user as every RPC returns it: the row (never its password hash or
//! lockout counters) plus what lives in other tables (roles, social
//! providers, live sessions), loaded for a whole page at once with one query
//! per table, never one per user. And a linked identity.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::{
    auth::sessions::USER,
    entity::{sessions, user_identities, user_roles, users},
    error::DomainResult,
    values::{IdentityId, UserId},
};

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub username: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone: Option<String>,
    pub email_verified: bool,
    pub phone_verified: bool,
    /// Not disabled right now (a disable whose `until` has passed no longer counts).
    pub is_active: bool,
    pub is_locked: bool,
    /// Only while locked.
    pub locked_until: Option<DateTime<Utc>>,
    /// Only while disabled.
    pub disabled_reason: Option<String>,
    /// Only while disabled.
    pub disabled_until: Option<DateTime<Utc>>,
    /// Sorted.
    pub roles: Vec<String>,
    pub mfa_enabled: bool,
    /// Distinct providers of the user's linked identities, sorted.
    pub social_providers: Vec<String>,
    pub must_change_password: bool,
    pub metadata: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub session_count: i64,
    pub has_password: bool,
}

impl User {
    /// The row as seen at `now`, with what other tables hold about it.
    fn from_model(
        user: users::Model,
        roles: Vec<String>,
        social_providers: Vec<String>,
        session_count: i64,
        now: DateTime<Utc>,
    ) -> Self {
        let is_active = is_active_at(&user, now);
        let is_locked = is_locked_at(&user, now);
        Self {
            id: user.id.into(),
            email: user.email,
            username: user.username,
            given_name: user.given_name,
            family_name: user.family_name,
            phone: user.phone,
            email_verified: user.email_verified,
            phone_verified: user.phone_verified,
            is_active,
            is_locked,
            locked_until: user.locked_until.filter(|_| is_locked),
            disabled_reason: user.disabled_reason.filter(|_| !is_active),
            disabled_until: user.disabled_until.filter(|_| !is_active),
            roles,
            mfa_enabled: user.mfa_enabled,
            social_providers,
            must_change_password: user.must_change_password,
            metadata: user.metadata,
            created_at: user.created_at,
            updated_at: user.updated_at,
            last_login_at: user.last_login_at,
            session_count,
            has_password: user.password_hash.is_some(),
        }
    }
}

/// A social identity linked to a user.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub id: IdentityId,
    pub user_id: UserId,
    pub provider: String,
    pub provider_user_id: String,
    pub provider_email: Option<String>,
    /// The provider's profile, as imported.
    pub profile: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl From<user_identities::Model> for Identity {
    fn from(model: user_identities::Model) -> Self {
        Self {
            id: model.id.into(),
            user_id: model.user_id.into(),
            provider: model.provider,
            provider_user_id: model.provider_user_id,
            provider_email: model.provider_email,
            profile: model.profile,
            created_at: model.created_at,
        }
    }
}

/// Whether a disable is in force at `now`: `until` lifts it by itself.
pub(crate) fn is_active_at(user: &users::Model, now: DateTime<Utc>) -> bool {
    user.is_active || user.disabled_until.is_some_and(|until| until <= now)
}

pub(crate) fn is_locked_at(user: &users::Model, now: DateTime<Utc>) -> bool {
    user.locked_until.is_some_and(|until| until > now)
}

/// Views for `rows`, in the same order.
pub(crate) async fn load<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<users::Model>,
    now: DateTime<Utc>,
) -> DomainResult<Vec<User>> {
    let ids: Vec<Uuid> = rows.iter().map(|u| u.id).collect();
    let mut roles: HashMap<Uuid, Vec<String>> = HashMap::new();
    let mut providers: HashMap<Uuid, Vec<String>> = HashMap::new();
    let mut sessions: HashMap<Uuid, i64> = HashMap::new();
    if !ids.is_empty() {
        for role in user_roles::Entity::find()
            .filter(user_roles::Column::UserId.is_in(ids.clone()))
            .all(conn)
            .await?
        {
            roles.entry(role.user_id).or_default().push(role.role);
        }
        for identity in user_identities::Entity::find()
            .filter(user_identities::Column::UserId.is_in(ids.clone()))
            .all(conn)
            .await?
        {
            providers.entry(identity.user_id).or_default().push(identity.provider);
        }
        let counts: Vec<(Uuid, i64)> = sessions::Entity::find()
            .select_only()
            .column(sessions::Column::PrincipalId)
            .column_as(sessions::Column::Id.count(), "count")
            .filter(sessions::Column::PrincipalType.eq(USER))
            .filter(sessions::Column::PrincipalId.is_in(ids))
            .filter(sessions::Column::RevokedAt.is_null())
            .filter(sessions::Column::ExpiresAt.gt(now))
            .group_by(sessions::Column::PrincipalId)
            .into_tuple()
            .all(conn)
            .await?;
        sessions.extend(counts);
    }
    Ok(rows
        .into_iter()
        .map(|user| {
            let mut user_roles = roles.remove(&user.id).unwrap_or_default();
            user_roles.sort();
            let mut social = providers.remove(&user.id).unwrap_or_default();
            social.sort();
            social.dedup();
            let session_count = sessions.get(&user.id).copied().unwrap_or_default();
            User::from_model(user, user_roles, social, session_count, now)
        })
        .collect())
}

/// One user's view.
pub(crate) async fn load_one<C: ConnectionTrait>(
    conn: &C,
    user: users::Model,
    now: DateTime<Utc>,
) -> DomainResult<User> {
    let mut views = load(conn, vec![user], now).await?;
    Ok(views.remove(0))
}
