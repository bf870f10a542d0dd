//! The signing key ring. Keys live in `signing_keys`; the newest active one
//! signs, every unexpired one verifies and is published in the JWKS. Rotation
//! adds a key and retires the previous one, which stays in the JWKS until the
//! tokens it signed have expired.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use chrono::{DateTime, Duration, Utc};
use data_encoding::BASE64URL_NOPAD;
use ed25519_dalek::{SigningKey, pkcs8::EncodePrivateKey};
use jsonwebtoken::{DecodingKey, EncodingKey};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::ExprTrait,
};
use uuid::Uuid;

use crate::{
    entity::signing_keys,
    error::{DomainError, DomainResult},
    secret::random_bytes,
};

pub const ALGORITHM: &str = "EdDSA";

/// A public key as published in the JWKS (RFC 8037 OKP / Ed25519).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicJwk {
    pub kid: String,
    /// Base64url of the raw 32-byte public key.
    pub x: String,
}

impl PublicJwk {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "alg": ALGORITHM, "use": "sig",
            "kid": self.kid, "x": self.x,
        })
    }
}

struct Loaded {
    signer: Option<(String, EncodingKey)>,
    verifiers: HashMap<String, DecodingKey>,
    published: Vec<PublicJwk>,
}

#[derive(Clone)]
pub struct KeyRing {
    loaded: Arc<RwLock<Loaded>>,
    /// When a token with an unknown `kid` last caused a reload.
    last_miss_reload: Arc<std::sync::Mutex<Option<DateTime<Utc>>>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Loads the ring, creating the first key when there is none.
    pub async fn open<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> DomainResult<Self> {
        if active_keys(db, now).await?.is_empty() {
            insert_key(db, now).await?;
        }
        Ok(Self {
            loaded: Arc::new(RwLock::new(load(db, now).await?)),
            last_miss_reload: Arc::new(std::sync::Mutex::new(None)),
        })
    }

    /// Re-reads the keys (another replica may have rotated).
    pub async fn reload<C: ConnectionTrait>(&self, db: &C, now: DateTime<Utc>) -> DomainResult<()> {
        let fresh = load(db, now).await?;
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    /// Whether an unknown `kid` may trigger a reload now: at most one such
    /// reload every `every`, so random kids cannot hammer the database.
    pub fn may_reload_for_unknown_kid(&self, now: DateTime<Utc>, every: Duration) -> bool {
        let mut last = self.last_miss_reload.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|at| now - at < every) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// The key to sign with now: `(kid, key)`.
    pub fn signer(&self) -> DomainResult<(String, EncodingKey)> {
        self.read(|l| l.signer.clone())
            .ok_or_else(|| DomainError::internal(std::io::Error::other("no active signing key")))
    }

    pub fn verifier(&self, kid: &str) -> Option<DecodingKey> {
        self.read(|l| l.verifiers.get(kid).cloned())
    }

    pub fn published(&self) -> Vec<PublicJwk> {
        self.read(|l| l.published.clone())
    }

    fn read<T>(&self, f: impl FnOnce(&Loaded) -> T) -> T {
        f(&self.loaded.read().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Adds a new signing key and retires the current ones; they stay published
/// (and keep verifying) for `keep_published` so their tokens run out first.
pub async fn rotate(
    db: &sea_orm::DatabaseConnection,
    now: DateTime<Utc>,
    keep_published: Duration,
) -> DomainResult<Uuid> {
    let txn = crate::db::begin_write(db).await?;
    for key in active_keys(&txn, now).await? {
        let mut key: signing_keys::ActiveModel = key.into();
        key.retires_at = Set(Some(now));
        key.expires_at = Set(Some(now + keep_published));
        key.update(&txn).await?;
    }
    let id = insert_key(&txn, now).await?;
    txn.commit().await?;
    Ok(id)
}

async fn active_keys<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> DomainResult<Vec<signing_keys::Model>> {
    Ok(signing_keys::Entity::find()
        .filter(signing_keys::Column::ActivatesAt.lte(now))
        .filter(
            signing_keys::Column::RetiresAt.is_null().or(signing_keys::Column::RetiresAt.gt(now)),
        )
        .all(db)
        .await?)
}

async fn insert_key<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> DomainResult<Uuid> {
    let signing = SigningKey::from_bytes(&random_bytes::<32>());
    let der = signing
        .to_pkcs8_der()
        .map_err(|err| DomainError::internal(std::io::Error::other(err.to_string())))?;
    let id = Uuid::now_v7();
    signing_keys::ActiveModel {
        id: Set(id),
        algorithm: Set(ALGORITHM.to_owned()),
        private_key_der: Set(der.as_bytes().to_vec()),
        public_key: Set(signing.verifying_key().to_bytes().to_vec()),
        created_at: Set(now),
        activates_at: Set(now),
        retires_at: Set(None),
        expires_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(id)
}

async fn load<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> DomainResult<Loaded> {
    let keys = signing_keys::Entity::find()
        .filter(
            signing_keys::Column::ExpiresAt.is_null().or(signing_keys::Column::ExpiresAt.gt(now)),
        )
        .order_by_desc(signing_keys::Column::ActivatesAt)
        .order_by_desc(signing_keys::Column::Id)
        .all(db)
        .await?;
    let mut signer = None;
    let mut verifiers = HashMap::new();
    let mut published = Vec::new();
    for key in keys {
        let kid = key.id.to_string();
        let signs = key.activates_at <= now && key.retires_at.is_none_or(|at| at > now);
        if signs && signer.is_none() {
            signer = Some((kid.clone(), EncodingKey::from_ed_der(&key.private_key_der)));
        }
        verifiers.insert(kid.clone(), DecodingKey::from_ed_der(&key.public_key));
        published.push(PublicJwk { kid, x: BASE64URL_NOPAD.encode(&key.public_key) });
    }
    Ok(Loaded { signer, verifiers, published })
}
