//! A user as every RPC returns it: the row plus what lives in other tables
//! (roles, social providers, live sessions), loaded for a whole page at once
//! with one query per table, never one per user.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::{
    auth::sessions::USER,
    entity::{sessions, user_identities, user_roles, users},
    error::DomainResult,
};

#[derive(Debug, Clone, PartialEq)]
pub struct UserView {
    pub user: users::Model,
    pub roles: Vec<String>,
    /// Distinct providers of the user's linked identities, sorted.
    pub social_providers: Vec<String>,
    pub session_count: i64,
    /// Disabled right now (a disable whose `until` has passed no longer counts).
    pub is_active: bool,
    pub is_locked: bool,
}

/// Whether a disable is in force at `now`: `until` lifts it by itself.
pub fn is_active_at(user: &users::Model, now: DateTime<Utc>) -> bool {
    user.is_active || user.disabled_until.is_some_and(|until| until <= now)
}

pub fn is_locked_at(user: &users::Model, now: DateTime<Utc>) -> bool {
    user.locked_until.is_some_and(|until| until > now)
}

/// Views for `rows`, in the same order.
pub async fn load<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<users::Model>,
    now: DateTime<Utc>,
) -> DomainResult<Vec<UserView>> {
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
            UserView {
                roles: user_roles,
                social_providers: social,
                session_count: sessions.get(&user.id).copied().unwrap_or_default(),
                is_active: is_active_at(&user, now),
                is_locked: is_locked_at(&user, now),
                user,
            }
        })
        .collect())
}

/// One user's view.
pub async fn load_one<C: ConnectionTrait>(
    conn: &C,
    user: users::Model,
    now: DateTime<Utc>,
) -> DomainResult<UserView> {
    let mut views = load(conn, vec![user], now).await?;
    Ok(views.remove(0))
}
