//! The audit write path. Every mutation records exactly one event in its own
//! transaction (pass the transaction as `conn`), so a rolled-back mutation
//! leaves no row and a committed one always has its row.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{context::Context, entity::audit_events, error::DomainResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Denied => "denied",
        }
    }
}

/// One event to record. Build with [`Event::new`] and the `with_*` methods.
#[derive(Debug, Clone)]
pub struct Event {
    pub action: &'static str,
    pub target: Option<(&'static str, String)>,
    pub outcome: Outcome,
    pub reason: Option<String>,
    /// Never secrets: ids, names, counts, scopes.
    pub metadata: Map<String, Value>,
}

impl Event {
    /// A successful `action`, e.g. `api_key.create`.
    pub fn new(action: &'static str) -> Self {
        Self { action, target: None, outcome: Outcome::Success, reason: None, metadata: Map::new() }
    }

    pub fn target(mut self, kind: &'static str, id: impl ToString) -> Self {
        self.target = Some((kind, id.to_string()));
        self
    }

    pub fn outcome(mut self, outcome: Outcome, reason: impl Into<String>) -> Self {
        self.outcome = outcome;
        self.reason = Some(reason.into());
        self
    }

    pub fn meta(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.to_owned(), value.into());
        self
    }
}

/// Writes `event` for the call described by `ctx`.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    ctx: &Context,
    event: Event,
    now: DateTime<Utc>,
) -> DomainResult<Uuid> {
    let id = Uuid::now_v7();
    let (target_type, target_id) = match event.target {
        Some((kind, id)) => (Some(kind.to_owned()), Some(id)),
        None => (None, None),
    };
    audit_events::ActiveModel {
        id: Set(id),
        occurred_at: Set(now),
        actor_type: Set(ctx.actor.kind().to_owned()),
        actor_id: Set(ctx.actor.id().map(|id| id.to_string())),
        action: Set(event.action.to_owned()),
        target_type: Set(target_type),
        target_id: Set(target_id),
        outcome: Set(event.outcome.as_str().to_owned()),
        reason: Set(event.reason),
        request_id: Set(ctx.call.request_id.clone()),
        peer_ip: Set(ctx.call.peer_ip.clone()),
        user_agent: Set(ctx.call.user_agent.clone()),
        metadata: Set(Value::Object(event.metadata)),
    }
    .insert(conn)
    .await?;
    Ok(id)
}
