//! `signing_keys`: the JWT signing keys shared by every replica.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    /// Also the JWT `kid`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `EdDSA`.
    pub algorithm: String,
    /// PKCS#8 DER.
    #[sea_orm(column_type = "Blob")]
    pub private_key_der: Vec<u8>,
    /// Raw 32-byte Ed25519 public key.
    #[sea_orm(column_type = "Blob")]
    pub public_key: Vec<u8>,
    pub created_at: DateTimeUtc,
    pub activates_at: DateTimeUtc,
    /// Stop signing with it from then on.
    pub retires_at: Option<DateTimeUtc>,
    /// Drop it from the JWKS from then on.
    pub expires_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
