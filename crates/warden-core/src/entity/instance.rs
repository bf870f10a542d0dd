//! `instance`: one row (id 1). Setup stamps it; admin-set mutations lock it
//! first (by bumping `admin_guard`) so they serialize on both backends.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "instance")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub setup_completed_at: Option<DateTimeUtc>,
    pub admin_guard: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
