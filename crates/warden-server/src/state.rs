//! What every adapter shares: the domain services. No database handle:
//! adapters reach the database only through the use cases.

use warden_core::{
    admin_auth::AdminAuth, api_keys::ApiKeys, auth::Auth, pagination::PageKey, users::Users,
};

use crate::ratelimit::PeerLimiter;

#[derive(Clone)]
pub struct AppState {
    /// Passwords, lockout and the token issuer, shared by every account kind.
    pub auth: Auth,
    pub admin_auth: AdminAuth,
    pub users: Users,
    pub api_keys: ApiKeys,
    pub sign_in_limiter: PeerLimiter,
    /// Signs page tokens; the same key on every replica.
    pub page_key: PageKey,
}
