//! `api_keys`: scoped keys for internal services, `wdn_<prefix>_<secret>`.
//! Only the prefix and a SHA-256 digest of the secret are stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// Empty string when not given.
    #[sea_orm(column_type = "Text")]
    pub description: String,
    /// Unique.
    #[sea_orm(unique)]
    pub prefix: String,
    /// SHA-256 of the secret.
    #[sea_orm(column_type = "Blob")]
    pub secret_digest: Vec<u8>,
    /// A JSON array of scope strings.
    #[sea_orm(column_type = "JsonBinary")]
    pub scopes: Json,
    /// `admin` | `api_key` | `system`.
    pub created_by_type: String,
    pub created_by_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
