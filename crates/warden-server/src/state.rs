//! What every adapter shares: the database, the clock and the domain services.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use warden_core::{
    admin_auth::AdminAuth, auth::Auth, clock::Clock, pagination::PageKey, users::Users,
};

use crate::ratelimit::PeerLimiter;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    /// Passwords, lockout and the token issuer, shared by every account kind.
    pub auth: Auth,
    pub admin_auth: AdminAuth,
    pub users: Users,
    pub sign_in_limiter: PeerLimiter,
    /// Signs page tokens; the same key on every replica.
    pub page_key: PageKey,
}
