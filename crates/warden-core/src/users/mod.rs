//! UsersService's domain: end users' whole lifecycle as an admin dashboard
//! manages it. Each use case lives in its own file; they share the service
//! handle below, the [`User`] view and the values of `fields`. Use cases take
//! typed input and answer only what the state decides (not found, already
//! exists, ...): the input was parsed before they run.

pub mod fields;
pub mod import;
pub mod invite;
pub mod lifecycle;
pub mod listing;
pub mod session_tokens;
pub mod sign_in;
pub mod view;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};

pub use view::{Identity, User};

use crate::auth::{Auth, password::PasswordPolicy};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UserSettings {
    /// Minimum length of an end user's password.
    pub min_password_chars: usize,
    /// Largest accepted `metadata` object, serialized as JSON.
    pub max_metadata_bytes: usize,
    /// Default lifetime of an invitation link.
    pub invite_ttl_seconds: u64,
    /// Where invitation and reset links point when the request names no base URL.
    pub default_base_url: String,
}

impl Default for UserSettings {
    fn default() -> Self {
        Self {
            min_password_chars: 8,
            max_metadata_bytes: 16 * 1024,
            invite_ttl_seconds: 7 * 24 * 3600,
            default_base_url: "http://localhost:3000".to_owned(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Users {
    pub(crate) db: DatabaseConnection,
    pub(crate) auth: Auth,
    pub(crate) settings: UserSettings,
}

impl Users {
    pub fn new(auth: Auth, settings: UserSettings) -> Self {
        Self { db: auth.db().clone(), auth, settings }
    }

    /// Now, by the server's clock (a disable's `until` must be after it).
    pub fn now(&self) -> DateTime<Utc> {
        self.auth.now()
    }

    pub fn settings(&self) -> &UserSettings {
        &self.settings
    }

    /// What a new end-user password must meet (`min_password_chars`).
    pub fn password_policy(&self) -> PasswordPolicy<'_> {
        self.auth.passwords().policy(self.settings.min_password_chars)
    }
}
