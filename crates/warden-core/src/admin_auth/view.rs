//! An admin as every RPC returns it: never the password hash, never the
//! lockout counters.

use chrono::{DateTime, Utc};

use crate::{
    entity::admins,
    scope::{AdminRole, ScopeSet},
    values::AdminId,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Admin {
    pub id: AdminId,
    pub email: String,
    pub name: String,
    /// As stored: `dashboard_admin` or `dashboard_viewer`.
    pub role: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// What the role grants.
    pub scopes: ScopeSet,
}

impl From<admins::Model> for Admin {
    fn from(model: admins::Model) -> Self {
        let scopes = model.role.parse::<AdminRole>().map(AdminRole::scopes).unwrap_or_default();
        Self {
            id: model.id.into(),
            email: model.email,
            name: model.name,
            role: model.role,
            is_active: model.is_active,
            created_at: model.created_at,
            updated_at: model.updated_at,
            last_login_at: model.last_login_at,
            scopes,
        }
    }
}
