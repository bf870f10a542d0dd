//! SeaORM entities, one module per table, mirroring the migrations in
//! `warden-migration` exactly (column names, types and nullability).
//!
//! Plain data only: no business logic here. Ids are UUIDv7 made by the
//! application, times are `DateTime<Utc>` from the injected clock, JSON
//! columns are `serde_json::Value`, digests and keys are `Vec<u8>`.
//!
//! Unique indexes worth knowing when mapping errors (a violation names the
//! column on SQLite and the index on PostgreSQL, and the index name contains
//! the column names):
//! - `admins.email_normalized` (`uq_admins_email_normalized`)
//! - `users.email_normalized`, `users.username_normalized`, `users.phone`
//! - `user_identities (provider, provider_user_id)`
//! - `refresh_tokens.token_digest`, `verification_tokens.token_digest`
//! - `api_keys.prefix`

pub mod admins;
pub mod api_keys;
pub mod audit_events;
pub mod idempotency_keys;
pub mod instance;
pub mod mfa_devices;
pub mod outbox_messages;
pub mod refresh_tokens;
pub mod server_secrets;
pub mod sessions;
pub mod sign_in_throttle;
pub mod signing_keys;
pub mod user_identities;
pub mod user_roles;
pub mod users;
pub mod verification_tokens;

/// The entities under short names, for the schema tests:
/// `use crate::entity::prelude::*;`.
#[cfg(test)]
mod prelude {
    pub use super::admins::Entity as Admins;
    pub use super::refresh_tokens::Entity as RefreshTokens;
    pub use super::sessions::Entity as Sessions;
    pub use super::user_identities::Entity as UserIdentities;
    pub use super::user_roles::Entity as UserRoles;
    pub use super::users::Entity as Users;
}

#[cfg(test)]
mod tests;
