//! `outbox_messages`: notifications written in the same transaction as the
//! mutation that causes them, delivered later by the notifier worker.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `email` (today the only channel).
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    /// Plain messages only; empty for templated ones and once delivered or failed.
    #[sea_orm(column_type = "Text")]
    pub body_text: String,
    pub created_at: DateTimeUtc,
    /// Not before this time (retry backoff).
    pub available_at: DateTimeUtc,
    pub attempts: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTimeUtc>,
    /// Set when retries are exhausted.
    pub failed_at: Option<DateTimeUtc>,
    /// A message rendered at delivery (it carries a freshly minted token).
    pub template: Option<String>,
    /// The template's non-secret parameters; purged after delivery.
    pub params: Option<Json>,
    /// The verification token whose raw value is minted at delivery.
    pub token_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
