//! Compiles proto/warden/v1 (messages and clients) with a vendored protoc, embeds
//! the descriptor set, and turns every RPC's `(warden.v1.access)` option into a
//! static table. A method without the option fails the build: authorization is
//! deny-by-default.

use std::{env, fmt::Write as _, fs, path::PathBuf};

use prost_reflect::{DescriptorPool, ReflectMessage, Value};

const PACKAGE: &str = "warden.v1";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let proto_root = manifest_dir.join("../../proto");
    let proto_dir = proto_root.join("warden/v1");
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let descriptor_path = out_dir.join("warden_descriptor.bin");

    let mut protos: Vec<PathBuf> = fs::read_dir(&proto_dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "proto"))
        .collect();
    protos.sort();
    println!("cargo:rerun-if-changed={}", proto_dir.display());
    for proto in &protos {
        println!("cargo:rerun-if-changed={}", proto.display());
    }

    // Hand prost-build the vendored protoc through its config, not the
    // environment: a fresh machine has no protoc, and set_var is unsafe.
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    // `prost::Name` on every message: the server's codec finds a request's
    // descriptor by its full name.
    config.enable_type_names();
    let includes = [proto_root, protoc_bin_vendored::include_path()?];

    // Messages and clients only: the server traits are generated in
    // warden-server, with the codec that turns malformed requests into
    // INVALID_ARGUMENT.
    tonic_prost_build::configure()
        .file_descriptor_set_path(&descriptor_path)
        .build_server(false)
        .compile_with_config(config, &protos, &includes)?;

    // warden-server generates the service traits from the same descriptors.
    println!("cargo:descriptor={}", descriptor_path.display());

    let descriptor_bytes = fs::read(&descriptor_path)?;
    let pool = DescriptorPool::decode(descriptor_bytes.as_slice())?;
    fs::write(out_dir.join("access_table.rs"), access_table(&pool)?)?;
    fs::write(out_dir.join("field_behavior.rs"), field_behavior_table(&pool)?)?;
    Ok(())
}

fn access_table(pool: &DescriptorPool) -> Result<String, Box<dyn std::error::Error>> {
    let access_ext = pool
        .get_extension_by_name(&format!("{PACKAGE}.access"))
        .ok_or("options.proto must define the warden.v1.access method option")?;

    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for service in pool.services().filter(|s| s.package_name() == PACKAGE) {
        for method in service.methods() {
            let path = format!("/{}/{}", service.full_name(), method.name());
            let options = method.options();
            if !options.has_extension(&access_ext) {
                missing.push(path);
                continue;
            }
            let access = options.get_extension(&access_ext);
            let Value::Message(access) = access.as_ref() else {
                return Err(format!("{path}: access option is not a message").into());
            };
            // `rule` is a oneof: at most one is set, and it must be a real rule.
            let set = |name: &str| {
                access.descriptor().get_field_by_name(name).filter(|f| access.has_field(f))
            };
            let variant = match (set("scope"), set("public"), set("authenticated")) {
                (Some(field), None, None) => match access.get_field(&field).as_ref() {
                    Value::String(scope) if !scope.is_empty() => {
                        format!("Access::Scope({scope:?})")
                    }
                    _ => return Err(format!("{path}: access scope is empty").into()),
                },
                (None, Some(field), None) if access.get_field(&field).as_bool() == Some(true) => {
                    "Access::Public".to_owned()
                }
                (None, None, Some(field)) if access.get_field(&field).as_bool() == Some(true) => {
                    "Access::Authenticated".to_owned()
                }
                _ => {
                    return Err(format!(
                        "{path}: the access option must set its rule: a scope, public: true or authenticated: true"
                    )
                    .into());
                }
            };
            rows.push((path, variant, method.is_client_streaming(), method.is_server_streaming()));
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "these RPCs have no (warden.v1.access) option; every RPC must declare who may call it:\n  {}",
            missing.join("\n  ")
        )
        .into());
    }
    rows.sort();

    let mut out = String::from(
        "/// Generated by build.rs from the `(warden.v1.access)` options, sorted by path.\n",
    );
    out.push_str("pub static METHODS: &[MethodAccess] = &[\n");
    for (path, variant, client_streaming, server_streaming) in rows {
        writeln!(
            out,
            "    MethodAccess {{ path: {path:?}, access: {variant}, client_streaming: {client_streaming}, server_streaming: {server_streaming} }},"
        )?;
    }
    out.push_str("];\n");
    Ok(out)
}

/// For every resource message (one with an IDENTIFIER field), which paths an
/// `update_mask` may name and why the others may not, from
/// `google.api.field_behavior`.
fn field_behavior_table(pool: &DescriptorPool) -> Result<String, Box<dyn std::error::Error>> {
    let behavior_ext = pool
        .get_extension_by_name("google.api.field_behavior")
        .ok_or("proto/google/api/field_behavior.proto must be vendored")?;
    let mut rows = Vec::new();
    for message in pool.all_messages().filter(|m| m.package_name() == PACKAGE) {
        let mut by_kind: [Vec<String>; 4] = Default::default();
        for field in message.fields() {
            let options = field.options();
            let behaviors: Vec<String> = match options.get_extension(&behavior_ext).as_ref() {
                Value::List(values) => values
                    .iter()
                    .filter_map(|v| v.as_enum_number())
                    .filter_map(|n| behavior_ext.kind().as_enum().and_then(|e| e.get_value(n)))
                    .map(|v| v.name().to_owned())
                    .collect(),
                _ => Vec::new(),
            };
            let has = |name: &str| behaviors.iter().any(|b| b == name);
            let kind = if has("IDENTIFIER") {
                1
            } else if has("OUTPUT_ONLY") {
                2
            } else if has("IMMUTABLE") {
                3
            } else {
                0
            };
            by_kind[kind].push(field.name().to_owned());
        }
        if by_kind[1].is_empty() {
            continue; // not a resource
        }
        rows.push((message.full_name().to_owned(), by_kind));
    }
    rows.sort();
    let list = |names: &[String]| {
        let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
        format!("&[{}]", quoted.join(", "))
    };
    let mut out = String::from(
        "/// Generated by build.rs from `google.api.field_behavior`, sorted by message.\n",
    );
    out.push_str("pub static RESOURCES: &[Resource] = &[\n");
    for (message, [updatable, identifier, output_only, immutable]) in rows {
        writeln!(
            out,
            "    Resource {{ message: {message:?}, updatable: {}, identifier: {}, output_only: {}, immutable: {} }},",
            list(&updatable),
            list(&identifier),
            list(&output_only),
            list(&immutable),
        )?;
    }
    out.push_str("];\n");
    Ok(out)
}
