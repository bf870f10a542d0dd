//! Warden's gRPC server: configuration, telemetry, the authorization layer and
//! thin adapters over `warden-core`. The `warden` binary is `main.rs`.

pub mod admin;
pub mod authz;
pub mod cli;
pub mod config;
pub mod database_errors;
pub mod grpc;
pub mod health;
pub mod metrics;
pub mod ratelimit;
pub mod startup;
pub mod state;
pub mod status;
pub mod status_caps;
pub mod telemetry;
pub mod wire;
