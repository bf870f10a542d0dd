//! Values a request is made of, parsed once at the edge. Each type's `parse`
//! takes the field's proto path and the raw value and answers the value or a
//! [`FieldViolation`]; a value that exists is valid, so use cases never check
//! their input again.
//!
//! A request has many fields and the caller should learn every problem at
//! once: [`all`] parses a tuple of results and answers either every value or
//! every violation, as one [`Invalid`] (-> INVALID_ARGUMENT).
//!
//! Shared here: [`Email`], the typed ids and [`RequestId`]. Values of one
//! service live with it (`users::fields`, `admin_auth::fields`,
//! `api_keys::fields`); passwords with their policy in `auth::password`.

mod email;
mod id;

pub use email::{Email, MAX_EMAIL_CHARS};
pub use id::{AdminId, ApiKeyId, IdentityId, RequestId, UserId};

use crate::error::{DomainError, FieldViolation};

/// Every field violation of one request. Only weak-password problems answer
/// WEAK_PASSWORD; anything else is VALIDATION_FAILED carrying them all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invalid {
    violations: Vec<FieldViolation>,
    /// How many of `violations` say a new password is too weak.
    weak_passwords: usize,
}

impl Invalid {
    /// A new password that is too short or too easy to guess.
    pub fn weak_password(violation: FieldViolation) -> Self {
        Self { violations: vec![violation], weak_passwords: 1 }
    }

    pub fn violations(&self) -> &[FieldViolation] {
        &self.violations
    }

    fn absorb(&mut self, other: Invalid) {
        self.violations.extend(other.violations);
        self.weak_passwords += other.weak_passwords;
    }
}

impl From<FieldViolation> for Invalid {
    fn from(violation: FieldViolation) -> Self {
        Self { violations: vec![violation], weak_passwords: 0 }
    }
}

impl From<Vec<FieldViolation>> for Invalid {
    fn from(violations: Vec<FieldViolation>) -> Self {
        Self { violations, weak_passwords: 0 }
    }
}

impl From<Invalid> for DomainError {
    fn from(invalid: Invalid) -> Self {
        if invalid.weak_passwords == invalid.violations.len() && !invalid.violations.is_empty() {
            Self::WeakPassword(invalid.violations)
        } else {
            Self::Validation(invalid.violations)
        }
    }
}

/// A tuple of parse results that [`all`] combines.
pub trait AllFields {
    type Values;
    fn all(self) -> Result<Self::Values, Invalid>;
}

macro_rules! all_fields {
    ($($value:ident $error:ident $result:ident),+) => {
        impl<$($value, $error: Into<Invalid>),+> AllFields for ($(Result<$value, $error>,)+) {
            type Values = ($($value,)+);

            fn all(self) -> Result<Self::Values, Invalid> {
                let ($($result,)+) = self;
                let mut invalid = Invalid::default();
                $(let $result = $result.map_err(|err| invalid.absorb(err.into())).ok();)+
                match ($($result,)+) {
                    ($(Some($result),)+) => Ok(($($result,)+)),
                    _ => Err(invalid),
                }
            }
        }
    };
}

all_fields!(A EA a);
all_fields!(A EA a, B EB b);
all_fields!(A EA a, B EB b, C EC c);
all_fields!(A EA a, B EB b, C EC c, D ED d);
all_fields!(A EA a, B EB b, C EC c, D ED d, E EE e);
all_fields!(A EA a, B EB b, C EC c, D ED d, E EE e, F EF f);
all_fields!(A EA a, B EB b, C EC c, D ED d, E EE e, F EF f, G EG g);
all_fields!(A EA a, B EB b, C EC c, D ED d, E EE e, F EF f, G EG g, H EH h);
all_fields!(A EA a, B EB b, C EC c, D ED d, E EE e, F EF f, G EG g, H EH h, I EI i);
all_fields!(A EA a, B EB b, C EC c, D ED d, E EE e, F EF f, G EG g, H EH h, I EI i, J EJ j);
all_fields!(A EA a, B EB b, C EC c, D ED d, E EE e, F EF f, G EG g, H EH h, I EI i, J EJ j, K EK k);
all_fields!(A EA a, B EB b, C EC c, D ED d, E EE e, F EF f, G EG g, H EH h, I EI i, J EJ j, K EK k, L EL l);

/// Every value of a tuple of parse results, or every violation among them:
/// `let (email, name) = all((Email::parse("email", e), Name::parse("name", n)))?;`
pub fn all<T: AllFields>(results: T) -> Result<T::Values, Invalid> {
    results.all()
}

/// Every item of a list parsed, or every violation among them.
pub fn each<T, E: Into<Invalid>>(
    results: impl IntoIterator<Item = Result<T, E>>,
) -> Result<Vec<T>, Invalid> {
    let mut values = Vec::new();
    let mut invalid = Invalid::default();
    let mut failed = false;
    for result in results {
        match result {
            Ok(value) => values.push(value),
            Err(err) => {
                failed = true;
                invalid.absorb(err.into());
            }
        }
    }
    if failed { Err(invalid) } else { Ok(values) }
}

/// An optional text field: blank is absent, anything else is trimmed and parsed.
pub fn optional<T, E>(raw: &str, parse: impl FnOnce(&str) -> Result<T, E>) -> Result<Option<T>, E> {
    match raw.trim() {
        "" => Ok(None),
        given => parse(given).map(Some),
    }
}

/// A field that must be present: empty -> "is required".
pub fn required(field: &str, raw: &str) -> Result<(), FieldViolation> {
    if raw.is_empty() { Err(FieldViolation::new(field, "is required")) } else { Ok(()) }
}

/// Free text of at most `max` characters (a reason, a description).
pub fn text_at_most(field: &str, raw: &str, max: usize) -> Result<String, FieldViolation> {
    if raw.chars().count() > max {
        return Err(FieldViolation::new(field, format!("must be at most {max} characters")));
    }
    Ok(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(field: &str) -> Result<u8, FieldViolation> {
        Err(FieldViolation::new(field, "is bad"))
    }

    #[test]
    fn all_answers_every_value_or_every_violation() {
        assert_eq!(all((Ok::<_, FieldViolation>(1), Ok::<_, FieldViolation>("x"))), Ok((1, "x")));
        let invalid = all((bad("a"), Ok::<_, FieldViolation>(2), bad("c"))).unwrap_err();
        let fields: Vec<&str> = invalid.violations().iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["a", "c"]);
    }

    #[test]
    fn only_weak_passwords_make_a_weak_password_error() {
        let weak = Invalid::weak_password(FieldViolation::new("password", "too short"));
        assert!(matches!(DomainError::from(weak.clone()), DomainError::WeakPassword(_)));
        let both = all((Err::<u8, _>(weak), bad("email"))).unwrap_err();
        assert!(matches!(DomainError::from(both), DomainError::Validation(v) if v.len() == 2));
    }

    #[test]
    fn each_collects_every_item_violation() {
        let items = [bad("x[0]"), Ok(1), bad("x[2]")];
        assert_eq!(each(items).unwrap_err().violations().len(), 2);
        assert_eq!(each([Ok::<_, FieldViolation>(1), Ok(2)]), Ok(vec![1, 2]));
    }

    #[test]
    fn blank_optional_fields_are_absent() {
        let parse = |v: &str| Ok::<_, FieldViolation>(v.to_owned());
        assert_eq!(optional("  ", parse), Ok(None));
        assert_eq!(optional(" a ", parse), Ok(Some("a".to_owned())));
    }
}
