//! Refresh tokens: 256 random bits, shown once, stored as SHA-256. Every use
//! rotates them; presenting an already-rotated token means it was stolen or
//! replayed, so the whole family (the session) is revoked.

use data_encoding::BASE64URL_NOPAD;

use crate::secret::{SecretString, digest, random_bytes};

/// A new refresh token: the value for the caller and the digest to store.
pub fn generate() -> (SecretString, Vec<u8>) {
    let raw = BASE64URL_NOPAD.encode(&random_bytes::<32>());
    let stored = digest(raw.as_bytes());
    (SecretString::new(raw), stored)
}

/// A digest nobody knows the preimage of: a token row reserved now whose
/// raw value is minted later (at delivery), never usable before.
pub fn placeholder_digest() -> Vec<u8> {
    digest(&random_bytes::<32>())
}

/// The digest to look a presented token up by.
pub fn lookup_digest(presented: &str) -> Vec<u8> {
    digest(presented.as_bytes())
}
