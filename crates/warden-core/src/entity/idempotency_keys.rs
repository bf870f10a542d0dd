//! `idempotency_keys`: which resource a create with a given `request_id` made,
//! so a retry returns the first answer instead of creating again.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    /// The RPC, e.g. `CreateApiKey`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub operation: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub request_id: String,
    pub actor_type: String,
    pub actor_id: Option<String>,
    /// SHA-256 of the request, so a reused id with another request is caught.
    #[sea_orm(column_type = "Blob")]
    pub request_digest: Vec<u8>,
    pub resource_id: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
