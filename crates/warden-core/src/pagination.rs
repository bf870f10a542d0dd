//! List paging per DESIGN §2: `page_size` (0 -> 50, above 1000 -> 1000,
//! negative -> INVALID_ARGUMENT), an opaque keyset `page_token` bound to the
//! filter and order it was issued for, optional `offset`, and `include_total`.
//!
//! Tokens are authenticated: `base64url(json) "." base64url(HMAC-SHA256)`,
//! keyed by a server secret kept in the database so every replica accepts
//! every other's tokens. Any edit (a swapped cursor id, a forged key) fails
//! the MAC and is INVALID_ARGUMENT, before anything is parsed.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use data_encoding::BASE64URL_NOPAD;
use hmac::{Hmac, KeyInit, Mac};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Set, Value,
    sea_query::{Expr, OnConflict},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    entity::server_secrets,
    error::{DomainError, DomainResult, FieldViolation},
    secret::random_bytes,
    values::Invalid,
};

/// The `server_secrets` row holding the page-token key.
const KEY_NAME: &str = "page_token_hmac";

/// The key page tokens are signed with, shared by every replica.
#[derive(Clone)]
pub struct PageKey(Arc<[u8; 32]>);

impl PartialEq for PageKey {
    fn eq(&self, other: &Self) -> bool {
        crate::secret::constant_time_eq(self.0.as_slice(), other.0.as_slice())
    }
}

impl std::fmt::Debug for PageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageKey(<redacted>)")
    }
}

impl PageKey {
    /// Reads the shared key, creating it on first start. Replicas racing to
    /// create it all end up with the one that was inserted first.
    pub async fn load<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> DomainResult<Self> {
        let fresh = server_secrets::ActiveModel {
            name: Set(KEY_NAME.to_owned()),
            secret: Set(random_bytes::<32>().to_vec()),
            created_at: Set(now),
        };
        server_secrets::Entity::insert(fresh)
            .on_conflict(OnConflict::column(server_secrets::Column::Name).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
        let stored = server_secrets::Entity::find_by_id(KEY_NAME.to_owned())
            .one(db)
            .await?
            .ok_or_else(|| DomainError::internal(std::io::Error::other("page key missing")))?;
        let key: [u8; 32] = stored.secret.as_slice().try_into().map_err(|_| {
            DomainError::internal(std::io::Error::other("page key has the wrong length"))
        })?;
        Ok(Self(Arc::new(key)))
    }

    /// A key of this process only (tests, measurements).
    pub fn ephemeral() -> Self {
        Self(Arc::new(random_bytes::<32>()))
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        <Hmac<Sha256> as KeyInit>::new_from_slice(self.0.as_slice())
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
    }

    fn sign(&self, payload: &[u8]) -> String {
        let tag = self.mac().chain_update(payload).finalize().into_bytes();
        format!("{}.{}", BASE64URL_NOPAD.encode(payload), BASE64URL_NOPAD.encode(&tag))
    }

    /// The payload of a token this key signed, or `None` for anything else.
    fn open(&self, token: &str) -> Option<Vec<u8>> {
        let (payload, tag) = token.split_once('.')?;
        let payload = BASE64URL_NOPAD.decode(payload.as_bytes()).ok()?;
        let tag = BASE64URL_NOPAD.decode(tag.as_bytes()).ok()?;
        self.mac().chain_update(&payload).verify_slice(&tag).ok()?;
        Some(payload)
    }
}

pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 1000;

/// Where the previous page ended: the sort key and id of its last row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The last row's sort value, as text (RFC 3339 for times).
    pub key: Option<String>,
    pub id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Token {
    /// Fingerprint of the filter and order the token belongs to.
    f: String,
    #[serde(flatten)]
    cursor: Cursor,
}

/// A validated page request.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRequest {
    pub size: u64,
    pub cursor: Option<Cursor>,
    pub offset: u64,
    pub include_total: bool,
    fingerprint: String,
    key: PageKey,
}

impl PageRequest {
    /// Parses the raw paging fields. `query` is what identifies the filter
    /// and order (a list's query fingerprint); a token issued for another
    /// query fails. `None` when the query itself was invalid: then only the
    /// token's own validity is checked, to report every violation at once.
    pub fn parse(
        key: &PageKey,
        page_size: i32,
        page_token: &str,
        offset: i32,
        include_total: bool,
        query: Option<&str>,
    ) -> Result<Self, Invalid> {
        let mut violations = Vec::new();
        let size = match page_size {
            n if n < 0 => {
                violations.push(FieldViolation::new("page_size", "must not be negative"));
                DEFAULT_PAGE_SIZE
            }
            0 => DEFAULT_PAGE_SIZE,
            n => (n as u64).min(MAX_PAGE_SIZE),
        };
        if offset < 0 {
            violations.push(FieldViolation::new("offset", "must not be negative"));
        }
        let fingerprint = fingerprint(query.unwrap_or_default());
        let cursor = if page_token.is_empty() {
            None
        } else {
            match decode(key, page_token) {
                Some(token) if token.f == fingerprint || query.is_none() => Some(token.cursor),
                Some(_) => {
                    violations.push(FieldViolation::new(
                        "page_token",
                        "was issued for a different filter or order",
                    ));
                    None
                }
                None => {
                    violations.push(FieldViolation::new("page_token", "is not a valid page token"));
                    None
                }
            }
        };
        if !violations.is_empty() {
            return Err(violations.into());
        }
        Ok(Self {
            size,
            cursor,
            offset: offset.max(0) as u64,
            include_total,
            fingerprint,
            key: key.clone(),
        })
    }

    /// The token for the page after the one ending at `last`.
    pub fn next_token(&self, last: Cursor) -> String {
        let token = Token { f: self.fingerprint.clone(), cursor: last };
        // Serializing this plain struct cannot fail.
        let json = serde_json::to_vec(&token).unwrap_or_default();
        self.key.sign(&json)
    }

    /// Rows to fetch: one more than the page, to learn whether another follows.
    pub fn fetch_limit(&self) -> u64 {
        self.size + 1
    }

    /// Offset applies only to the first request; a token already encodes position.
    pub fn effective_offset(&self) -> u64 {
        if self.cursor.is_some() { 0 } else { self.offset }
    }
}

fn fingerprint(query: &str) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(query.as_bytes())[..8])
}

fn decode(key: &PageKey, token: &str) -> Option<Token> {
    serde_json::from_slice(&key.open(token)?).ok()
}

/// Rows strictly after `(key, id)` in the order `(sort_col, id_col)`:
/// `sort > key OR (sort = key AND id > id)` (reversed when descending).
/// `sort` may be any expression (e.g. `COALESCE(last_login_at, epoch)`).
pub fn after<I: ColumnTrait>(
    sort: Expr,
    id_col: I,
    key: Value,
    id: Uuid,
    descending: bool,
) -> Condition {
    use sea_orm::sea_query::ExprTrait;
    let (beyond_key, beyond_id) = if descending {
        (sort.clone().lt(key.clone()), id_col.lt(id))
    } else {
        (sort.clone().gt(key.clone()), id_col.gt(id))
    };
    Condition::any().add(beyond_key).add(Condition::all().add(sort.eq(key)).add(beyond_id))
}

/// Splits a fetched batch into the page and the next token.
pub fn finish<T>(
    request: &PageRequest,
    mut rows: Vec<T>,
    cursor_of: impl Fn(&T) -> Cursor,
) -> (Vec<T>, String) {
    let more = rows.len() as u64 > request.size;
    rows.truncate(request.size as usize);
    let next = match (more, rows.last()) {
        (true, Some(last)) => request.next_token(cursor_of(last)),
        _ => String::new(),
    };
    (rows, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(size: i32, token: &str, offset: i32, query: &str) -> Result<PageRequest, Invalid> {
        PageRequest::parse(&KEY, size, token, offset, false, Some(query))
    }

    static KEY: std::sync::LazyLock<PageKey> = std::sync::LazyLock::new(PageKey::ephemeral);

    #[test]
    fn sizes_default_and_clamp() {
        assert_eq!(parse(0, "", 0, "q").unwrap().size, 50);
        assert_eq!(parse(5000, "", 0, "q").unwrap().size, 1000);
        assert_eq!(parse(7, "", 0, "q").unwrap().size, 7);
        assert!(parse(-1, "", 0, "q").is_err());
        assert!(parse(10, "", -5, "q").is_err());
    }

    #[test]
    fn tokens_round_trip_and_are_bound_to_their_query() {
        let first = parse(10, "", 0, "email asc").unwrap();
        let cursor = Cursor { key: Some("a@b.c".into()), id: Uuid::now_v7() };
        let token = first.next_token(cursor.clone());
        let second = parse(10, &token, 0, "email asc").unwrap();
        assert_eq!(second.cursor, Some(cursor));
        let err = parse(10, &token, 0, "email desc").unwrap_err();
        assert_eq!(err.violations()[0].field, "page_token");
        assert!(parse(10, "garbage!", 0, "email asc").is_err());
    }

    #[test]
    fn edited_or_foreign_tokens_are_refused() {
        let first = parse(10, "", 0, "q").unwrap();
        let token = first.next_token(Cursor { key: Some("k".into()), id: Uuid::now_v7() });
        let (payload, tag) = token.split_once('.').unwrap();
        // The same payload with another id, re-encoded, keeps the old tag.
        let mut json: serde_json::Value =
            serde_json::from_slice(&BASE64URL_NOPAD.decode(payload.as_bytes()).unwrap()).unwrap();
        json["id"] = serde_json::json!(Uuid::now_v7());
        let edited =
            format!("{}.{tag}", BASE64URL_NOPAD.encode(&serde_json::to_vec(&json).unwrap()));
        assert!(parse(10, &edited, 0, "q").is_err());
        assert!(parse(10, payload, 0, "q").is_err(), "an unsigned token");
        let other = PageRequest::parse(&PageKey::ephemeral(), 10, "", 0, false, Some("q")).unwrap();
        let foreign = other.next_token(Cursor { key: None, id: Uuid::now_v7() });
        assert!(parse(10, &foreign, 0, "q").is_err(), "signed by another key");
    }

    #[test]
    fn finish_emits_a_token_only_when_more_rows_exist() {
        let request = parse(2, "", 0, "q").unwrap();
        let cursor = |n: &u32| Cursor { key: Some(n.to_string()), id: Uuid::nil() };
        let (rows, next) = finish(&request, vec![1, 2, 3], cursor);
        assert_eq!(rows, vec![1, 2]);
        assert!(!next.is_empty());
        let (rows, next) = finish(&request, vec![1, 2], cursor);
        assert_eq!(rows, vec![1, 2]);
        assert!(next.is_empty());
    }
}
