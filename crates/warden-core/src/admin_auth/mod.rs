//! AdminAuthService's domain: the first admin, sign-in with lockout, token
//! refresh and logout, password change and reset, and admin management.
//! Use cases take the typed input of `fields` and answer [`Admin`] views.

mod fields;
mod listing;
mod login;
mod management;
mod password;
mod session;
mod setup;
mod view;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use fields::{
    AdminName, AdminUpdate, FirstAdmin, MAX_ADMIN_NAME_CHARS, NewAdmin, PasswordChange,
    ResetConfirmation, parse_role,
};
pub use listing::{AdminFilter, AdminOrder, AdminPage, AdminQuery};
pub use setup::{Bootstrap, SetupStatus};
pub use view::Admin;

use crate::{
    auth::{
        Auth,
        password::{ADMIN_MIN_PASSWORD_CHARS, PasswordPolicy},
    },
    entity::admins,
    error::{DomainError, DomainResult},
    secret::SecretString,
    values::AdminId,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordResetSettings {
    pub token_ttl_seconds: u64,
    /// The link mailed to the admin; `{token}` is replaced by the reset token.
    pub link_template: String,
}

impl Default for PasswordResetSettings {
    fn default() -> Self {
        Self {
            token_ttl_seconds: 3600,
            link_template: "http://localhost:3000/admin/reset-password?token={token}".to_owned(),
        }
    }
}

/// A successful sign-in: the admin and a fresh token pair.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub admin: Admin,
    pub access_token: String,
    pub refresh_token: SecretString,
    pub expires_in: i64,
}

#[derive(Clone, Debug)]
pub struct AdminAuth {
    db: DatabaseConnection,
    auth: Auth,
    reset: PasswordResetSettings,
}

impl AdminAuth {
    pub fn new(auth: Auth, reset: PasswordResetSettings) -> Self {
        Self { db: auth.db().clone(), auth, reset }
    }

    fn now(&self) -> DateTime<Utc> {
        self.auth.now()
    }

    /// What a new admin password must meet: at least 12 characters.
    pub fn password_policy(&self) -> PasswordPolicy<'_> {
        self.auth.passwords().policy(ADMIN_MIN_PASSWORD_CHARS)
    }

    fn refresh_ttl(&self) -> Duration {
        Duration::seconds(self.auth.tokens().settings().refresh_ttl_seconds as i64)
    }
}

async fn find_by_email<C: ConnectionTrait>(
    conn: &C,
    normalized: &str,
) -> DomainResult<Option<admins::Model>> {
    Ok(admins::Entity::find()
        .filter(admins::Column::EmailNormalized.eq(normalized))
        .one(conn)
        .await?)
}

async fn find_by_id<C: ConnectionTrait>(conn: &C, id: Uuid) -> DomainResult<admins::Model> {
    admins::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(DomainError::NotFound { resource: "admin" })
}

/// One admin's view, read afresh (after a change, in or out of its transaction).
async fn load<C: ConnectionTrait>(conn: &C, id: AdminId) -> DomainResult<Admin> {
    find_by_id(conn, id.uuid()).await.map(Admin::from)
}
