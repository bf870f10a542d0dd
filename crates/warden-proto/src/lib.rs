//! Warden's gRPC contract, generated from `proto/warden/v1` at build time.
//!
//! Besides the messages and clients (the server traits are generated in
//! warden-server, with its request codec) this crate carries the encoded file
//! descriptor set (for reflection) and [`METHODS`]: who may call each RPC, read
//! from the `(warden.v1.access)` method options.

#![allow(clippy::all, missing_docs)]

pub mod v1 {
    tonic::include_proto!("warden.v1");
}

/// The encoded `FileDescriptorSet` of every warden proto (and its imports).
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("warden_descriptor");

/// Who may call an RPC, as declared by its `(warden.v1.access)` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// No credential needed (sign-in, setup, JWKS).
    Public,
    /// Any authenticated principal, whatever its scopes (acts on the caller itself).
    Authenticated,
    /// The caller's credential must hold this scope.
    Scope(&'static str),
}

/// One row of the method table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MethodAccess {
    /// The gRPC path, `/warden.v1.UsersService/GetUser`.
    pub path: &'static str,
    pub access: Access,
    pub client_streaming: bool,
    pub server_streaming: bool,
}

include!(concat!(env!("OUT_DIR"), "/access_table.rs"));

/// What an `update_mask` may name on a resource (a message with an
/// `IDENTIFIER` field), as its proto declares with `google.api.field_behavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Resource {
    /// Full name, e.g. `warden.v1.Admin`.
    pub message: &'static str,
    pub updatable: &'static [&'static str],
    pub identifier: &'static [&'static str],
    pub output_only: &'static [&'static str],
    pub immutable: &'static [&'static str],
}

impl Resource {
    /// Why `path` cannot be updated, or `None` when it can.
    pub fn refusal(&self, path: &str) -> Option<&'static str> {
        if self.updatable.contains(&path) {
            None
        } else if self.identifier.contains(&path) {
            Some("identifies the resource and cannot be changed")
        } else if self.output_only.contains(&path) {
            Some("is output only")
        } else if self.immutable.contains(&path) {
            Some("is immutable once created")
        } else {
            Some("is not a field of the resource")
        }
    }
}

include!(concat!(env!("OUT_DIR"), "/field_behavior.rs"));

/// The field behaviour of a resource message, by full name.
pub fn resource(message: &str) -> Option<&'static Resource> {
    RESOURCES.binary_search_by(|row| row.message.cmp(message)).ok().map(|i| &RESOURCES[i])
}

/// The access rule for a gRPC path, or `None` when the path is not a warden RPC
/// (the caller must then deny).
pub fn access_for(path: &str) -> Option<Access> {
    METHODS.binary_search_by(|row| row.path.cmp(path)).ok().map(|index| METHODS[index].access)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_covers_seven_services() {
        assert!(METHODS.windows(2).all(|pair| pair[0].path < pair[1].path));
        let services: std::collections::BTreeSet<&str> = METHODS
            .iter()
            .map(|row| row.path.trim_start_matches('/').split('/').next().unwrap_or_default())
            .collect();
        assert_eq!(
            services.into_iter().collect::<Vec<_>>(),
            [
                "warden.v1.AdminAuthService",
                "warden.v1.ApiKeysService",
                "warden.v1.AuditService",
                "warden.v1.MfaService",
                "warden.v1.OAuthClientsService",
                "warden.v1.SessionsService",
                "warden.v1.UsersService",
            ]
        );
    }

    #[test]
    fn resources_come_from_field_behavior() {
        let admin = resource("warden.v1.Admin").expect("Admin is a resource");
        assert_eq!(admin.identifier, ["id"]);
        assert!(admin.updatable.contains(&"email") && admin.updatable.contains(&"role"));
        assert_eq!(admin.refusal("created_at"), Some("is output only"));
        assert_eq!(admin.refusal("id"), Some("identifies the resource and cannot be changed"));
        assert_eq!(admin.refusal("nope"), Some("is not a field of the resource"));
        let client = resource("warden.v1.OAuthClient").expect("OAuthClient is a resource");
        assert_eq!(client.refusal("client_type"), Some("is immutable once created"));
        assert!(resource("warden.v1.ListUsersRequest").is_none());
    }

    #[test]
    fn lookup_finds_declared_rules_and_nothing_else() {
        assert_eq!(access_for("/warden.v1.AdminAuthService/Login"), Some(Access::Public));
        assert_eq!(
            access_for("/warden.v1.UsersService/GetUser"),
            Some(Access::Scope("users:read"))
        );
        assert_eq!(access_for("/warden.v1.UsersService/NoSuchMethod"), None);
        assert_eq!(access_for("/grpc.health.v1.Health/Check"), None);
    }

    /// Every RPC in the descriptor appears in the table (the build script
    /// already fails on a method without the option; this guards the codegen).
    #[test]
    fn every_descriptor_method_has_a_row() {
        use prost::Message;
        let set = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).expect("descriptor");
        let mut paths = Vec::new();
        for file in set.file.iter().filter(|f| f.package() == "warden.v1") {
            for service in &file.service {
                for method in &service.method {
                    paths.push(format!("/warden.v1.{}/{}", service.name(), method.name()));
                }
            }
        }
        paths.sort();
        let table: Vec<String> = METHODS.iter().map(|row| row.path.to_owned()).collect();
        assert_eq!(paths, table);
    }
}
