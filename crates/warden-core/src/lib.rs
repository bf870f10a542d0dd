//! Warden's domain. Use cases per service, typed values, crypto and persistence.
//! Nothing in here knows about gRPC: adapters in `warden-server` translate.

pub mod admin_auth;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod context;
pub mod db;
pub mod email;
pub mod entity;
pub mod error;
pub mod idempotency;
pub mod metrics;
pub mod notify;
pub mod pagination;
pub mod principal;
pub mod scope;
pub mod secret;
pub mod text_filter;
pub mod unique;
pub mod users;

pub use error::{DomainError, DomainResult, FieldViolation, Violations};
