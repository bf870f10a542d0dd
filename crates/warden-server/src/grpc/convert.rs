//! Conversions every adapter shares: times, enum values, text filters, sort
//! direction and update masks. Each service's `convert.rs` builds its
//! requests' typed input from these and the core's own value types, and
//! collects every field violation of a request into one answer.

use chrono::{DateTime, Utc};
use prost_types::{FieldMask, Timestamp};
use warden_core::{
    DomainResult, FieldViolation,
    pagination::{PageKey, PageRequest},
    text_filter::{MatchMode, TextFilter},
    values::{Invalid, all},
};
use warden_proto::v1 as pb;

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

/// An optional timestamp field.
pub fn optional_time(
    field: &str,
    ts: Option<&Timestamp>,
) -> Result<Option<DateTime<Utc>>, FieldViolation> {
    ts.map(|ts| time_from(field, ts)).transpose()
}

/// A time that must lie after `now` (an expiry, the end of a disable).
pub fn future_time(
    field: &str,
    ts: Option<&Timestamp>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, FieldViolation> {
    match optional_time(field, ts)? {
        Some(time) if time <= now => Err(FieldViolation::new(field, "must be in the future")),
        time => Ok(time),
    }
}

/// An enum field as the generated enum. prost keeps the raw number, so a
/// value this server does not know (a newer client's, or garbage) arrives
/// intact: it is a violation, never silently the default.
pub fn known<E: TryFrom<i32>>(field: &str, raw: i32) -> Result<E, FieldViolation> {
    E::try_from(raw).map_err(|_| FieldViolation::new(field, format!("{raw} is not a known value")))
}

/// A text filter (`None` for an absent or empty one); its `mode` must be known.
pub fn text_filter(
    field: &str,
    filter: Option<&pb::StringFilter>,
) -> Result<Option<TextFilter>, FieldViolation> {
    let Some(filter) = filter else { return Ok(None) };
    let mode = match known(&format!("{field}.mode"), filter.mode)? {
        pb::MatchMode::Unspecified | pb::MatchMode::Equals => MatchMode::Equals,
        pb::MatchMode::StartsWith => MatchMode::StartsWith,
        pb::MatchMode::Contains => MatchMode::Contains,
    };
    Ok(TextFilter::new(&filter.value, mode))
}

/// Whether to sort descending: `order_direction`, or the RPC's default when
/// unspecified.
pub fn descending(raw: i32, default_descending: bool) -> Result<bool, FieldViolation> {
    Ok(match known("order_direction", raw)? {
        pb::SortDirection::Unspecified => default_descending,
        pb::SortDirection::Asc => false,
        pb::SortDirection::Desc => true,
    })
}

/// A list request's paging fields.
pub struct Paging<'a> {
    pub size: i32,
    pub token: &'a str,
    pub offset: i32,
    pub include_total: bool,
}

/// The [`Paging`] of a list request: every list names its fields alike.
macro_rules! paging {
    ($request:expr) => {
        $crate::grpc::convert::Paging {
            size: $request.page_size,
            token: &$request.page_token,
            offset: $request.offset,
            include_total: $request.include_total,
        }
    };
}
pub(crate) use paging;

/// A list's query with its page, parsed together so one answer names every
/// problem; the page token must have been issued for this very query.
pub fn paged<Q>(
    key: &PageKey,
    query: Result<Q, Invalid>,
    fingerprint: impl FnOnce(&Q) -> String,
    paging: Paging<'_>,
) -> DomainResult<(Q, PageRequest)> {
    let bound_to = query.as_ref().ok().map(fingerprint);
    let page = PageRequest::parse(
        key,
        paging.size,
        paging.token,
        paging.offset,
        paging.include_total,
        bound_to.as_deref(),
    );
    Ok(all((query, page))?)
}

/// What an update mask may name for one resource: its proto's updatable
/// fields (`google.api.field_behavior`, see `warden_proto::RESOURCES`), plus
/// any of the request's own fields the mask may carry (UpdateAdmin's
/// `password`).
pub struct MaskRules {
    pub resource: &'static warden_proto::Resource,
    pub extra: &'static [&'static str],
    /// Paths that change through another RPC, and why.
    pub elsewhere: &'static [(&'static str, &'static str)],
}

impl MaskRules {
    /// The rules of the resource `message` (e.g. `warden.v1.User`).
    pub fn of(message: &str) -> Self {
        let resource = warden_proto::resource(message)
            .unwrap_or_else(|| panic!("{message} has no IDENTIFIER field: not a resource"));
        Self { resource, extra: &[], elsewhere: &[] }
    }

    fn updatable(&self) -> impl Iterator<Item = &'static str> {
        self.resource.updatable.iter().chain(self.extra).copied()
    }
}

/// An update mask's paths as the caller sent them.
pub struct Mask(Vec<String>);

impl Mask {
    pub fn of(mask: Option<FieldMask>) -> Self {
        Self(mask.map(|mask| mask.paths).unwrap_or_default())
    }

    /// Whether the mask names `path`. Values outside the mask are ignored
    /// (AIP-134): only named fields are parsed.
    pub fn has(&self, path: &str) -> bool {
        self.0.iter().any(|p| p == path)
    }

    /// The value of `path` when the mask names it.
    pub fn when<T, E>(
        &self,
        path: &str,
        parse: impl FnOnce() -> Result<T, E>,
    ) -> Result<Option<T>, E> {
        if self.has(path) { parse().map(Some) } else { Ok(None) }
    }

    /// The updatable paths named, in the resource's field order; an empty
    /// mask, or any other path, is a violation on `update_mask`.
    pub fn check(&self, rules: &MaskRules) -> Result<Vec<&'static str>, Invalid> {
        let mut violations = Vec::new();
        if self.0.is_empty() {
            let allowed: Vec<&str> = rules.updatable().collect();
            let allowed = allowed.join(", ");
            violations
                .push(FieldViolation::new("update_mask", format!("must name one of: {allowed}")));
        }
        for path in &self.0 {
            if rules.updatable().any(|p| p == path) {
                continue;
            }
            let problem = match rules.elsewhere.iter().find(|(field, _)| field == path) {
                Some((_, why)) => *why,
                None => rules.resource.refusal(path).unwrap_or("cannot be updated"),
            };
            violations.push(FieldViolation::new("update_mask", format!("path {path:?} {problem}")));
        }
        if !violations.is_empty() {
            return Err(violations.into());
        }
        Ok(rules.updatable().filter(|path| self.has(path)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> MaskRules {
        MaskRules {
            elsewhere: &[("secret", "is set with RotateSecret")],
            ..MaskRules::of("warden.v1.ApiKey")
        }
    }

    fn mask(paths: &[&str]) -> Mask {
        Mask::of(Some(FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() }))
    }

    #[test]
    fn a_mask_names_only_updatable_fields() {
        assert_eq!(mask(&["scopes", "name"]).check(&rules()), Ok(vec!["name", "scopes"]));
        for paths in
            [&[][..], &["name", "id"], &["secret"], &["nope"], &["name.x"], &["expires_at"]]
        {
            let invalid = mask(paths).check(&rules()).unwrap_err();
            assert!(invalid.violations().iter().all(|v| v.field == "update_mask"), "{paths:?}");
        }
        assert!(mask(&["name"]).when("scopes", || Err::<(), _>("parsed")).is_ok());
    }

    #[test]
    fn unknown_enum_values_are_violations() {
        assert_eq!(known::<pb::SortDirection>("d", 2), Ok(pb::SortDirection::Desc));
        assert_eq!(known::<pb::SortDirection>("d", 99).unwrap_err().field, "d");
        assert_eq!(descending(0, true), Ok(true));
        let filter = pb::StringFilter { value: "a".into(), mode: 7 };
        assert_eq!(text_filter("email", Some(&filter)).unwrap_err().field, "email.mode");
    }

    #[test]
    fn times_in_the_past_are_not_in_the_future() {
        let now = Utc::now();
        let past = timestamp(now - chrono::Duration::seconds(1));
        assert!(future_time("until", Some(&past), now).is_err());
        assert_eq!(future_time("until", None, now), Ok(None));
        let bad = Timestamp { seconds: 0, nanos: -1 };
        assert!(optional_time("at", Some(&bad)).is_err());
    }
}
