//! `admins`: dashboard operators who sign in with email and password.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "admins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// As given.
    pub email: String,
    /// NFKC + lower-case; unique.
    #[sea_orm(unique)]
    pub email_normalized: String,
    pub name: String,
    /// PHC string.
    pub password_hash: String,
    /// `dashboard_admin` | `dashboard_viewer`.
    pub role: String,
    pub is_active: bool,
    pub failed_login_count: i32,
    pub locked_until: Option<DateTimeUtc>,
    /// The last failed sign-in; the failure count restarts after a quiet period.
    pub last_failed_at: Option<DateTimeUtc>,
    /// Tokens issued before this instant are rejected.
    pub tokens_valid_after: DateTimeUtc,
    pub last_login_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
