//! Turns a bearer credential into a [`Principal`]: `wdn_…` API keys are looked
//! up by prefix and compared by digest in constant time; anything else must
//! be an admin access token.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use warden_core::{
    DomainResult, admin_auth::AdminAuth, api_keys, clock::Clock, principal::Principal,
};

#[derive(Clone)]
pub struct Authenticator {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    admin_auth: AdminAuth,
}

impl Authenticator {
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>, admin_auth: AdminAuth) -> Self {
        Self { db, clock, admin_auth }
    }

    pub async fn authenticate(&self, credential: &str) -> DomainResult<Principal> {
        if api_keys::looks_like_api_key(credential) {
            return api_keys::authenticate(&self.db, credential, self.clock.now()).await;
        }
        self.admin_auth.authenticate(credential).await
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}
