//! Warden's domain. Use cases per service, typed values, crypto and persistence.
//! Nothing in here knows about gRPC: adapters in `warden-server` translate.
//!
//! A use case takes typed input (the [`values`] and each service's own
//! fields, parsed once by the adapter) and answers a domain view (`Admin`,
//! `User`, `ApiKey`), never a row: the SeaORM entities are private to this
//! crate (the `test-support` feature opens them to the test suite).

pub mod admin_auth;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod context;
pub mod db;
#[cfg(feature = "test-support")]
pub mod entity;
#[cfg(not(feature = "test-support"))]
pub(crate) mod entity;
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
pub mod values;

pub use error::{DomainError, DomainResult, FieldViolation};
