//! List paging per DESIGN §2: `page_size` (0 -> 50, above 1000 -> 1000,
//! negative -> INVALID_ARGUMENT), an opaque keyset `page_token` bound to the
//! filter and order it was issued for, optional `offset`, and `include_total`.

use data_encoding::BASE64URL_NOPAD;
use sea_orm::{ColumnTrait, Condition, Value, sea_query::Expr};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{DomainError, FieldViolation};

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
}

impl PageRequest {
    /// Validates the raw fields. `query` is whatever identifies the filter and
    /// order (e.g. their debug text); a token issued for another query fails.
    pub fn parse(
        page_size: i32,
        page_token: &str,
        offset: i32,
        include_total: bool,
        query: &str,
    ) -> Result<Self, DomainError> {
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
        let fingerprint = fingerprint(query);
        let cursor = if page_token.is_empty() {
            None
        } else {
            match decode(page_token) {
                Some(token) if token.f == fingerprint => Some(token.cursor),
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
            return Err(DomainError::Validation(violations));
        }
        Ok(Self { size, cursor, offset: offset.max(0) as u64, include_total, fingerprint })
    }

    /// The token for the page after the one ending at `last`.
    pub fn next_token(&self, last: Cursor) -> String {
        let token = Token { f: self.fingerprint.clone(), cursor: last };
        // Serializing this plain struct cannot fail.
        let json = serde_json::to_vec(&token).unwrap_or_default();
        BASE64URL_NOPAD.encode(&json)
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

fn decode(token: &str) -> Option<Token> {
    let bytes = BASE64URL_NOPAD.decode(token.as_bytes()).ok()?;
    serde_json::from_slice(&bytes).ok()
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

    #[test]
    fn sizes_default_and_clamp() {
        assert_eq!(PageRequest::parse(0, "", 0, false, "q").unwrap().size, 50);
        assert_eq!(PageRequest::parse(5000, "", 0, false, "q").unwrap().size, 1000);
        assert_eq!(PageRequest::parse(7, "", 0, false, "q").unwrap().size, 7);
        assert!(PageRequest::parse(-1, "", 0, false, "q").is_err());
        assert!(PageRequest::parse(10, "", -5, false, "q").is_err());
    }

    #[test]
    fn tokens_round_trip_and_are_bound_to_their_query() {
        let first = PageRequest::parse(10, "", 0, false, "email asc").unwrap();
        let cursor = Cursor { key: Some("a@b.c".into()), id: Uuid::now_v7() };
        let token = first.next_token(cursor.clone());
        let second = PageRequest::parse(10, &token, 0, false, "email asc").unwrap();
        assert_eq!(second.cursor, Some(cursor));
        let err = PageRequest::parse(10, &token, 0, false, "email desc").unwrap_err();
        assert!(matches!(err, DomainError::Validation(v) if v[0].field == "page_token"));
        assert!(PageRequest::parse(10, "garbage!", 0, false, "email asc").is_err());
    }

    #[test]
    fn finish_emits_a_token_only_when_more_rows_exist() {
        let request = PageRequest::parse(2, "", 0, false, "q").unwrap();
        let cursor = |n: &u32| Cursor { key: Some(n.to_string()), id: Uuid::nil() };
        let (rows, next) = finish(&request, vec![1, 2, 3], cursor);
        assert_eq!(rows, vec![1, 2]);
        assert!(!next.is_empty());
        let (rows, next) = finish(&request, vec![1, 2], cursor);
        assert_eq!(rows, vec![1, 2]);
        assert!(next.is_empty());
    }
}
