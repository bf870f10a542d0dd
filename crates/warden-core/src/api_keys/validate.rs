//! Field rules shared by create and update. Each check appends violations
//! named by proto path (`name`, `api_key.scopes[2]`) so one answer lists them all.

use crate::{error::FieldViolation, scope::ScopeSet};

pub(super) const NAME_MAX: usize = 100;
pub(super) const DESCRIPTION_MAX: usize = 1000;

pub(super) fn check_name(field: &str, name: &str, out: &mut Vec<FieldViolation>) {
    if name.trim().is_empty() {
        out.push(FieldViolation::new(field, "is required"));
    } else if name.chars().count() > NAME_MAX {
        out.push(FieldViolation::new(field, format!("must be at most {NAME_MAX} characters")));
    } else if name.chars().any(char::is_control) {
        // Names end up in logs and dashboards; control characters only forge lines there.
        out.push(FieldViolation::new(field, "must not contain control characters"));
    }
}

pub(super) fn check_description(field: &str, description: &str, out: &mut Vec<FieldViolation>) {
    if description.chars().count() > DESCRIPTION_MAX {
        out.push(FieldViolation::new(
            field,
            format!("must be at most {DESCRIPTION_MAX} characters"),
        ));
    }
}

/// Parses scope names; `None` (with violations) when any is unknown or none
/// is given. Duplicates collapse: a key holds a set.
pub(super) fn parse_scopes(
    field: &str,
    names: &[String],
    out: &mut Vec<FieldViolation>,
) -> Option<ScopeSet> {
    if names.is_empty() {
        out.push(FieldViolation::new(field, "must name at least one scope"));
        return None;
    }
    let before = out.len();
    for (i, name) in names.iter().enumerate() {
        if name.parse::<crate::scope::Scope>().is_err() {
            out.push(FieldViolation::new(
                format!("{field}[{i}]"),
                format!("unknown scope {name:?}"),
            ));
        }
    }
    if out.len() > before {
        return None;
    }
    ScopeSet::parse(names.iter().map(String::as_str)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violations(check: impl FnOnce(&mut Vec<FieldViolation>)) -> Vec<String> {
        let mut out = Vec::new();
        check(&mut out);
        out.into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn names_are_required_bounded_and_printable() {
        assert!(violations(|o| check_name("name", "billing sync", o)).is_empty());
        assert!(violations(|o| check_name("name", &"é".repeat(NAME_MAX), o)).is_empty());
        for bad in ["", "   ", "a\nb", &"x".repeat(NAME_MAX + 1)] {
            assert_eq!(violations(|o| check_name("name", bad, o)), ["name"], "{bad:?}");
        }
    }

    #[test]
    fn descriptions_are_bounded() {
        assert!(violations(|o| check_description("d", &"x".repeat(DESCRIPTION_MAX), o)).is_empty());
        assert_eq!(violations(|o| check_description("d", &"x".repeat(1001), o)), ["d"]);
    }

    #[test]
    fn every_unknown_scope_is_named_by_index() {
        let names = ["users:read", "nope", "api-keys:read", "users:admin"].map(String::from);
        let mut out = Vec::new();
        assert!(parse_scopes("scopes", &names, &mut out).is_none());
        let fields: Vec<_> = out.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["scopes[1]", "scopes[3]"]);

        let mut out = Vec::new();
        assert!(parse_scopes("scopes", &[], &mut out).is_none());
        assert_eq!(out[0].field, "scopes");

        let dupes = ["users:read", "users:read"].map(String::from);
        let set = parse_scopes("scopes", &dupes, &mut Vec::new()).expect("valid");
        assert_eq!(set.iter().count(), 1);
    }
}
