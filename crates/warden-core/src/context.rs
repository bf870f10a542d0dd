//! Who is acting and where the call came from: what every use case needs to
//! write its audit row.

use uuid::Uuid;

use crate::{
    error::{DomainError, DomainResult},
    principal::{Principal, PrincipalKind},
    scope::ScopeSet,
};

/// The actor recorded in audit rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Admin(Uuid),
    ApiKey(Uuid),
    User(Uuid),
    /// A call without a credential (sign-in, setup, password reset).
    Anonymous,
    /// The server itself (bootstrap, background jobs).
    System,
}

impl Actor {
    pub fn kind(self) -> &'static str {
        match self {
            Self::Admin(_) => "admin",
            Self::ApiKey(_) => "api_key",
            Self::User(_) => "user",
            Self::Anonymous => "anonymous",
            Self::System => "system",
        }
    }

    pub fn id(self) -> Option<Uuid> {
        match self {
            Self::Admin(id) | Self::ApiKey(id) | Self::User(id) => Some(id),
            Self::Anonymous | Self::System => None,
        }
    }
}

impl From<&Principal> for Actor {
    fn from(principal: &Principal) -> Self {
        match principal.kind {
            PrincipalKind::Admin { admin_id, .. } => Self::Admin(admin_id),
            PrincipalKind::ApiKey { key_id } => Self::ApiKey(key_id),
        }
    }
}

/// Facts about the call itself, taken from its metadata by the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallInfo {
    /// `x-request-id` when the caller sent one.
    pub request_id: Option<String>,
    pub peer_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Everything a use case knows about the call besides its arguments.
#[derive(Debug, Clone)]
pub struct Context {
    pub actor: Actor,
    pub principal: Option<Principal>,
    pub call: CallInfo,
}

impl Context {
    pub fn anonymous(call: CallInfo) -> Self {
        Self { actor: Actor::Anonymous, principal: None, call }
    }

    pub fn system() -> Self {
        Self { actor: Actor::System, principal: None, call: CallInfo::default() }
    }

    pub fn of(principal: Principal, call: CallInfo) -> Self {
        Self { actor: Actor::from(&principal), principal: Some(principal), call }
    }
}

impl Context {
    /// No escalation (DESIGN §3): a caller may only grant, or act on a holder
    /// of, scopes it holds itself: minting a key, granting an admin role,
    /// taking over an admin's credentials. The server itself (no principal,
    /// system actor) may grant anything.
    pub fn ensure_holds(&self, scopes: &ScopeSet) -> DomainResult<()> {
        let held = match (&self.principal, self.actor) {
            (Some(principal), _) => &principal.scopes,
            (None, Actor::System) => return Ok(()),
            (None, _) => return Err(DomainError::Unauthenticated),
        };
        match scopes.iter().find(|scope| !held.contains(*scope)) {
            Some(missing) => Err(DomainError::ScopeMissing { scope: missing.as_str().to_owned() }),
            None => Ok(()),
        }
    }
}
