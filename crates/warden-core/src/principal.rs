//! Who is calling. The server's authorization layer builds one per request and
//! use cases take it to record the audit actor.

use uuid::Uuid;

use crate::scope::{Scope, ScopeSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    Admin { admin_id: Uuid, session_id: Uuid },
    ApiKey { key_id: Uuid },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub scopes: ScopeSet,
}

impl Principal {
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(scope)
    }

    /// `("admin" | "api_key", id)` as recorded in audit rows.
    pub fn actor(&self) -> (&'static str, Uuid) {
        match self.kind {
            PrincipalKind::Admin { admin_id, .. } => ("admin", admin_id),
            PrincipalKind::ApiKey { key_id } => ("api_key", key_id),
        }
    }
}
