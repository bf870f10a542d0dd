//! Generates the gRPC service traits and servers of `warden.v1` (the messages
//! themselves come from warden-proto). Every server decodes its requests with
//! `wire::codec::WardenCodec`, so a malformed request is answered
//! INVALID_ARGUMENT with ErrorInfo by the same code for every RPC, present and
//! future, client streams included.

use std::{env, fs, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let proto_root = manifest_dir.join("../../proto");
    let proto_dir = proto_root.join("warden/v1");
    let mut protos: Vec<PathBuf> = fs::read_dir(&proto_dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "proto"))
        .collect();
    protos.sort();
    println!("cargo:rerun-if-changed={}", proto_dir.display());
    for proto in &protos {
        println!("cargo:rerun-if-changed={}", proto.display());
    }

    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    let includes = [proto_root, protoc_bin_vendored::include_path()?];
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .extern_path(".warden.v1", "::warden_proto::v1")
        .codec_path("crate::wire::codec::WardenCodec")
        // RPCs that no issue has implemented yet answer UNIMPLEMENTED by default;
        // the authorization layer runs before them all the same.
        .generate_default_stubs(true)
        .compile_with_config(config, &protos, &includes)?;
    Ok(())
}
