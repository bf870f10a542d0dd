//! `users`: end users administered through `UsersService`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// As given.
    pub email: String,
    /// NFKC + lower-case; unique.
    #[sea_orm(unique)]
    pub email_normalized: String,
    pub username: Option<String>,
    /// Unique when present.
    #[sea_orm(unique)]
    pub username_normalized: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// E.164; unique when present.
    #[sea_orm(unique)]
    pub phone: Option<String>,
    pub email_verified: bool,
    pub phone_verified: bool,
    /// PHC/MCF string; `None` for invited or social-only users.
    pub password_hash: Option<String>,
    pub must_change_password: bool,
    /// A JSON object (`{}` by default).
    #[sea_orm(column_type = "JsonBinary")]
    pub metadata: Json,
    pub is_active: bool,
    pub disabled_reason: Option<String>,
    pub disabled_until: Option<DateTimeUtc>,
    pub failed_login_count: i32,
    pub locked_until: Option<DateTimeUtc>,
    /// The last failed sign-in; the failure count restarts after a quiet period.
    pub last_failed_at: Option<DateTimeUtc>,
    pub mfa_enabled: bool,
    /// Tokens issued before this instant are rejected.
    pub tokens_valid_after: DateTimeUtc,
    pub last_login_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::user_roles::Entity")]
    UserRoles,
    #[sea_orm(has_many = "super::user_identities::Entity")]
    UserIdentities,
}

impl Related<super::user_roles::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::UserRoles.def()
    }
}

impl Related<super::user_identities::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::UserIdentities.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
