//! The black-box suite: one binary, one module per area. Every test runs on
//! SQLite and (when `WARDEN_TEST_POSTGRES_URL` is set) on PostgreSQL.

#![allow(clippy::unwrap_used)]

mod admin_auth;
mod admin_management;
mod admin_password_reset;
mod admin_tokens;
mod api_keys;
mod audit_trail;
mod authz_matrix;
mod hardening;
mod health;
mod metrics;
mod reflection;
mod unknown_enums;
mod users_import;
mod users_invite;
mod users_lifecycle;
mod users_listing;
mod users_sessions;
mod wire;
