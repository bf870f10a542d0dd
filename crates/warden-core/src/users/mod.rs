//! UsersService's domain: end users' whole lifecycle as an admin dashboard
//! manages it. Each use case lives in its own file; they share the service
//! handle below, the view loader and the field rules.

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

pub use view::UserView;

use crate::{auth::Auth, pagination::PageKey};

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
    pub db: DatabaseConnection,
    pub auth: Auth,
    pub settings: UserSettings,
    pub page_key: PageKey,
}

impl Users {
    pub fn new(auth: Auth, settings: UserSettings, page_key: PageKey) -> Self {
        Self { db: auth.db().clone(), auth, settings, page_key }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.auth.now()
    }

    pub fn settings(&self) -> &UserSettings {
        &self.settings
    }
}
