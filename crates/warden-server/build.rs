//! Generates the gRPC service traits and servers of `warden.v1` from the
//! descriptor set warden-proto compiled (its build script passes the path;
//! the messages themselves are warden-proto's). Every server decodes its
//! requests with `wire::codec::WardenCodec`, so a malformed request is
//! answered INVALID_ARGUMENT with ErrorInfo by the same code for every RPC,
//! present and future, client streams included.

use std::{env, fs};

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let descriptor = env::var("DEP_WARDEN_PROTO_DESCRIPTOR")?;
    println!("cargo:rerun-if-changed={descriptor}");
    let set = prost_types::FileDescriptorSet::decode(fs::read(&descriptor)?.as_slice())?;
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .extern_path(".warden.v1", "::warden_proto::v1")
        .codec_path("crate::wire::codec::WardenCodec")
        // RPCs not built yet answer UNIMPLEMENTED by default;
        // the authorization layer runs before them all the same.
        .generate_default_stubs(true)
        .compile_fds(set)?;
    Ok(())
}
