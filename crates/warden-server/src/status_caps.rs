//! How much an error may say. Field violations echo the caller's input (an
//! unknown scope, a bad path), and all of a status's details travel in one
//! HTTP/2 header, `grpc-status-details-bin`, which clients and proxies often
//! cap at 8 KB: a 14 KB one broke clients. So every echoed text is cut to a
//! short prefix, and violations are listed until a byte budget is spent (the
//! rest are counted): every problem of an ordinary request still shows, and
//! the worst case stays under 4 KB (tested below).

use std::collections::HashMap;

use tonic_types::ErrorDetails;
use warden_core::FieldViolation;

pub const MAX_FIELD_BYTES: usize = 64;
pub const MAX_DESCRIPTION_BYTES: usize = 160;
/// Violations are listed while their fields and descriptions fit in this.
pub const MAX_VIOLATION_BYTES: usize = 2_400;
/// The status message and each ErrorInfo metadata value.
pub const MAX_MESSAGE_BYTES: usize = 160;

/// What one listed violation costs besides its text (protobuf framing).
const PER_VIOLATION: usize = 8;

/// `text` cut to at most `max_bytes` (on a character boundary), with `…`
/// appended when something was cut.
pub fn prefix(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_owned();
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

pub fn cap_message(text: &str) -> String {
    prefix(text, MAX_MESSAGE_BYTES)
}

/// Adds the violations to `details` as BadRequest, within the limits.
pub fn add_violations(details: &mut ErrorDetails, violations: &[FieldViolation]) {
    let mut budget = MAX_VIOLATION_BYTES;
    for (listed, violation) in violations.iter().enumerate() {
        let field = prefix(&violation.field, MAX_FIELD_BYTES);
        let description = prefix(&violation.description, MAX_DESCRIPTION_BYTES);
        let cost = field.len() + description.len() + PER_VIOLATION;
        if cost > budget {
            let more = violations.len() - listed;
            details.add_bad_request_violation("", format!("and {more} more violations not listed"));
            return;
        }
        budget -= cost;
        details.add_bad_request_violation(field, description);
    }
}

pub fn cap_metadata(metadata: &mut HashMap<String, String>) {
    for value in metadata.values_mut() {
        if value.len() > MAX_MESSAGE_BYTES {
            *value = cap_message(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;
    use warden_core::DomainError;

    use super::*;
    use crate::status::to_status;

    #[test]
    fn prefixes_cut_on_character_boundaries() {
        assert_eq!(prefix("short", 10), "short");
        assert_eq!(prefix("abcdef", 3), "abc…");
        assert_eq!(prefix("€€", 4), "€…");
    }

    #[test]
    fn the_worst_case_status_stays_under_4_kb() {
        let huge = "€".repeat(10_000);
        let violations: Vec<FieldViolation> =
            (0..500).map(|_| FieldViolation::new(huge.clone(), huge.clone())).collect();
        let statuses = [
            to_status(DomainError::Validation(violations)),
            to_status(DomainError::ScopeMissing { scope: huge.clone() }),
            to_status(DomainError::Unimplemented { method: huge }),
        ];
        for status in statuses {
            let mut headers = HeaderMap::new();
            status.add_header(&mut headers).expect("headers");
            let size: usize = headers.iter().map(|(k, v)| k.as_str().len() + v.len()).sum();
            assert!(size < 4096, "{size} bytes of headers");
        }
    }

    #[test]
    fn ordinary_violations_are_all_listed_and_a_flood_is_counted() {
        use tonic_types::StatusExt;
        let listed = |count: usize, text: &str| {
            let violations: Vec<FieldViolation> =
                (0..count).map(|i| FieldViolation::new(format!("f{i}"), text)).collect();
            let status = to_status(DomainError::Validation(violations));
            status.get_error_details().bad_request().cloned().expect("bad request").field_violations
        };
        assert_eq!(listed(25, "must be set").len(), 25);
        let flood = listed(1000, &"x".repeat(500));
        assert!(flood.len() < 20, "{}", flood.len());
        let last = flood.last().expect("a summary line");
        assert!(last.description.contains("more violations not listed"), "{last:?}");
    }
}
