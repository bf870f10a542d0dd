//! `verification_tokens`: single-use, expiring tokens (password reset,
//! invite, email verification, ...), stored as SHA-256 digests.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "verification_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `password_reset` | `invite` | `email_verification` | ...
    pub purpose: String,
    /// `admin` | `user`; polymorphic, so no foreign key.
    pub principal_type: String,
    pub principal_id: Uuid,
    /// SHA-256 of the token; unique.
    #[sea_orm(column_type = "Blob", unique)]
    pub token_digest: Vec<u8>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub consumed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
