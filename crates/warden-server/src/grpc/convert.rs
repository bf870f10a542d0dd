//! Conversions shared by every adapter: times, ids, optional strings.

use chrono::{DateTime, Utc};
use prost_types::Timestamp;
use uuid::Uuid;
use warden_core::FieldViolation;

pub fn timestamp(time: DateTime<Utc>) -> Timestamp {
    Timestamp { seconds: time.timestamp(), nanos: time.timestamp_subsec_nanos() as i32 }
}

pub fn timestamp_opt(time: Option<DateTime<Utc>>) -> Option<Timestamp> {
    time.map(timestamp)
}

/// A protobuf timestamp as a UTC time, or a field violation naming `field`.
pub fn time_from(field: &str, ts: &Timestamp) -> Result<DateTime<Utc>, FieldViolation> {
    if !(0..1_000_000_000).contains(&ts.nanos) {
        return Err(FieldViolation::new(field, "nanos must be within 0..1e9"));
    }
    DateTime::from_timestamp(ts.seconds, ts.nanos as u32)
        .ok_or_else(|| FieldViolation::new(field, "is out of range"))
}

/// A UUID id field; empty and malformed ids are field violations.
pub fn id_from(field: &str, value: &str) -> Result<Uuid, FieldViolation> {
    if value.is_empty() {
        return Err(FieldViolation::new(field, "is required"));
    }
    Uuid::parse_str(value).map_err(|_| FieldViolation::new(field, "must be a UUID"))
}

/// Adapters collect violations with the domain's collector.
pub use warden_core::Violations;

/// A proto text filter as the domain's; empty values filter nothing.
pub fn text_filter(
    filter: Option<&warden_proto::v1::StringFilter>,
) -> Option<warden_core::text_filter::TextFilter> {
    use warden_core::text_filter::{MatchMode as Mode, TextFilter};
    use warden_proto::v1::MatchMode;
    let filter = filter?;
    let mode = match filter.mode() {
        MatchMode::Unspecified | MatchMode::Equals => Mode::Equals,
        MatchMode::StartsWith => Mode::StartsWith,
        MatchMode::Contains => Mode::Contains,
    };
    TextFilter::new(&filter.value, mode)
}

/// Whether to sort descending, given the RPC's default.
pub fn descending(direction: warden_proto::v1::SortDirection, default_descending: bool) -> bool {
    use warden_proto::v1::SortDirection;
    match direction {
        SortDirection::Unspecified => default_descending,
        SortDirection::Asc => false,
        SortDirection::Desc => true,
    }
}

/// The update mask's paths, each one of `allowed`; an empty mask, or any
/// other path (output-only or unknown), is a violation on `update_mask`.
pub fn mask_paths(
    violations: &mut Violations,
    mask: Option<&prost_types::FieldMask>,
    allowed: &[&str],
) -> Vec<String> {
    let paths: Vec<String> = mask.map(|m| m.paths.clone()).unwrap_or_default();
    if paths.is_empty() {
        violations
            .push("update_mask", format!("must name at least one of: {}", allowed.join(", ")));
    }
    for path in &paths {
        if !allowed.contains(&path.as_str()) {
            violations.push(
                "update_mask",
                format!("{path:?} cannot be updated; allowed: {}", allowed.join(", ")),
            );
        }
    }
    paths
}
