//! `audit_events`: the audit trail. No foreign keys: rows outlive their
//! subjects, so actor and target ids are plain strings.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub occurred_at: DateTimeUtc,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// `success` | `failure` | `denied`.
    pub outcome: String,
    pub reason: Option<String>,
    pub request_id: Option<String>,
    pub peer_ip: Option<String>,
    pub user_agent: Option<String>,
    /// A JSON object; never secrets.
    #[sea_orm(column_type = "JsonBinary")]
    pub metadata: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
