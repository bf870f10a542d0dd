//! `sign_in_throttle`: failure counters for sign-in identifiers that belong to
//! no account (id: a digest of account kind + normalized identifier), so an
//! unknown identifier locks exactly as a real account does. Rows expire.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sign_in_throttle")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub failed_login_count: i32,
    pub locked_until: Option<DateTimeUtc>,
    pub last_failed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
