//! The service traits and servers build.rs generates from the protos: the
//! messages are warden-proto's, the request codec is `crate::wire::codec`.

#![allow(clippy::all, missing_docs)]

tonic::include_proto!("warden.v1");
