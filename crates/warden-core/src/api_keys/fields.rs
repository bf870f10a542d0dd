//! An API key's own values, and the typed input of CreateApiKey and
//! UpdateApiKey: names, descriptions and scope lists that passed their rules.

use chrono::{DateTime, Utc};

use crate::{
    error::FieldViolation,
    scope::{Scope, ScopeSet},
    values::{ApiKeyId, Invalid, RequestId, each},
};

pub const NAME_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 1000;

/// A key's name: required, at most 100 characters, printable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyName(String);

impl KeyName {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        if raw.trim().is_empty() {
            Err(FieldViolation::new(field, "is required"))
        } else if raw.chars().count() > NAME_MAX {
            Err(FieldViolation::new(field, format!("must be at most {NAME_MAX} characters")))
        } else if raw.chars().any(char::is_control) {
            // Names end up in logs and dashboards; control characters only forge lines there.
            Err(FieldViolation::new(field, "must not contain control characters"))
        } else {
            Ok(Self(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A key's description: at most 1000 characters, empty allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDescription(String);

impl KeyDescription {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        if raw.chars().count() > DESCRIPTION_MAX {
            let too_long = format!("must be at most {DESCRIPTION_MAX} characters");
            return Err(FieldViolation::new(field, too_long));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// At least one scope, each a known one (named by index when not);
/// duplicates collapse: a key holds a set.
pub fn parse_scopes(field: &str, names: &[String]) -> Result<ScopeSet, Invalid> {
    if names.is_empty() {
        return Err(FieldViolation::new(field, "must name at least one scope").into());
    }
    let scopes = each(names.iter().enumerate().map(|(i, name)| {
        name.parse::<Scope>().map_err(|_| {
            FieldViolation::new(format!("{field}[{i}]"), format!("unknown scope {name:?}"))
        })
    }))?;
    Ok(scopes.into_iter().collect())
}

/// CreateApiKey's input.
#[derive(Debug, Clone)]
pub struct CreateApiKey {
    pub name: KeyName,
    pub description: KeyDescription,
    pub scopes: ScopeSet,
    /// In the future when given.
    pub expires_at: Option<DateTime<Utc>>,
    pub request_id: Option<RequestId>,
}

/// UpdateApiKey's input: only the fields named in the update mask are `Some`.
#[derive(Debug, Clone)]
pub struct UpdateApiKey {
    pub id: ApiKeyId,
    pub name: Option<KeyName>,
    pub description: Option<KeyDescription>,
    pub scopes: Option<ScopeSet>,
}

impl UpdateApiKey {
    /// The names of the changed fields, for the audit row.
    pub(super) fn fields(&self) -> Vec<&'static str> {
        let named = [
            ("name", self.name.is_some()),
            ("description", self.description.is_some()),
            ("scopes", self.scopes.is_some()),
        ];
        named.into_iter().filter_map(|(name, set)| set.then_some(name)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_required_bounded_and_printable() {
        assert!(KeyName::parse("name", "billing sync").is_ok());
        assert!(KeyName::parse("name", &"é".repeat(NAME_MAX)).is_ok());
        for bad in ["", "   ", "a\nb", &"x".repeat(NAME_MAX + 1)] {
            assert!(KeyName::parse("name", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn descriptions_are_bounded() {
        assert!(KeyDescription::parse("d", &"x".repeat(DESCRIPTION_MAX)).is_ok());
        assert!(KeyDescription::parse("d", &"x".repeat(DESCRIPTION_MAX + 1)).is_err());
    }

    #[test]
    fn every_unknown_scope_is_named_by_index() {
        let names = ["users:read", "nope", "api-keys:read", "users:admin"].map(String::from);
        let invalid = parse_scopes("scopes", &names).unwrap_err();
        let fields: Vec<_> = invalid.violations().iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["scopes[1]", "scopes[3]"]);

        let none = parse_scopes("scopes", &[]).unwrap_err();
        assert_eq!(none.violations()[0].field, "scopes");

        let dupes = ["users:read", "users:read"].map(String::from);
        assert_eq!(parse_scopes("scopes", &dupes).expect("valid").iter().count(), 1);
    }
}
