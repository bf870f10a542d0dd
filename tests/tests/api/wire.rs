//! What a client sees when its bytes are wrong (issue 7): NUL characters,
//! deep nesting, undecodable messages, broken framing and oversized input are
//! INVALID_ARGUMENT (or OUT_OF_RANGE) with ErrorInfo and short details, never
//! INTERNAL; every error tonic produces by itself carries ErrorInfo too; a
//! seeded fuzz run over every RPC; and a long client stream of small DATA
//! frames is not cut off.

mod error_info;
mod fuzz;
mod input;
mod long_stream;

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// Asserts INVALID_ARGUMENT / VALIDATION_FAILED and returns the violations
/// as `(field, description)`.
fn violations(status: &Status) -> Vec<(String, String)> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let details = status.get_error_details();
    let info = details.error_info().unwrap_or_else(|| panic!("no ErrorInfo: {status:?}"));
    assert_eq!((info.reason.as_str(), info.domain.as_str()), ("VALIDATION_FAILED", "warden"));
    let bad_request = details.bad_request().unwrap_or_else(|| panic!("no BadRequest: {status:?}"));
    bad_request.field_violations.iter().map(|v| (v.field.clone(), v.description.clone())).collect()
}
