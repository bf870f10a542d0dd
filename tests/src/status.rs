//! Assertions on the error a call got: its code, its ErrorInfo reason and the
//! fields its BadRequest names. One copy for every test module.

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// The `ErrorInfo.reason` of a status, or "" when it has none.
pub fn reason_of(status: &Status) -> String {
    status.get_error_details().error_info().map(|info| info.reason.clone()).unwrap_or_default()
}

/// The fields a status's `BadRequest` names, in the order the server gave them.
pub fn violations(status: &Status) -> Vec<String> {
    violation_details(status).into_iter().map(|(field, _)| field).collect()
}

/// Each `BadRequest` violation as (field, description).
pub fn violation_details(status: &Status) -> Vec<(String, String)> {
    let details = status.get_error_details();
    let Some(bad) = details.bad_request() else { return Vec::new() };
    bad.field_violations.iter().map(|v| (v.field.clone(), v.description.clone())).collect()
}

/// The status has this code and this ErrorInfo reason.
#[track_caller]
pub fn assert_status(status: &Status, code: Code, reason: &str) {
    assert_eq!((status.code(), reason_of(status).as_str()), (code, reason), "{status:?}");
}

/// INVALID_ARGUMENT / VALIDATION_FAILED in the `warden` domain, with a
/// BadRequest: its violations as (field, description).
#[track_caller]
pub fn invalid_details(status: &Status) -> Vec<(String, String)> {
    assert_status(status, Code::InvalidArgument, "VALIDATION_FAILED");
    let details = status.get_error_details();
    assert_eq!(details.error_info().map(|info| info.domain.as_str()), Some("warden"));
    assert!(details.bad_request().is_some(), "no BadRequest: {status:?}");
    violation_details(status)
}

/// Like [`invalid_details`], the fields only.
#[track_caller]
pub fn invalid_fields(status: &Status) -> Vec<String> {
    invalid_details(status).into_iter().map(|(field, _)| field).collect()
}

/// INVALID_ARGUMENT / VALIDATION_FAILED naming at least `fields`.
#[track_caller]
pub fn assert_invalid(status: &Status, fields: &[&str]) {
    assert_invalid_with(status, "VALIDATION_FAILED", fields);
}

/// INVALID_ARGUMENT / `reason` (e.g. WEAK_PASSWORD) naming at least `fields`.
#[track_caller]
pub fn assert_invalid_with(status: &Status, reason: &str, fields: &[&str]) {
    assert_status(status, Code::InvalidArgument, reason);
    let found = violations(status);
    for field in fields {
        assert!(found.iter().any(|f| f == field), "{field} in {found:?}");
    }
}

/// A `request_id` reused with a different request: ALREADY_EXISTS, naming
/// the field, as common.proto documents.
#[track_caller]
pub fn assert_request_id_taken(status: &Status) {
    assert_status(status, Code::AlreadyExists, "ALREADY_EXISTS");
    let details = status.get_error_details();
    let info = details.error_info().expect("error info");
    assert_eq!(info.metadata.get("field").map(String::as_str), Some("request_id"));
}
