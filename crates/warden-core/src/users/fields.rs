//! A user's own values, each parsed once (create, import, social import,
//! invite, update share them), and the one insert that enforces uniqueness
//! through the database's unique indexes.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

use crate::{
    entity::{user_roles, users},
    error::{DomainResult, FieldViolation},
    unique::map_write_error,
    values::{Email, Invalid, all, optional},
};

pub const USERNAME_CHARS: std::ops::RangeInclusive<usize> = 3..=50;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_ROLE_CHARS: usize = 64;
pub const MAX_ROLES: usize = 50;

/// 3–50 characters of letters, digits, `.`, `_`, `-`; unique case-insensitively
/// (NFKC, lower-case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username {
    given: String,
    normalized: String,
}

impl Username {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        if !USERNAME_CHARS.contains(&raw.chars().count()) {
            return Err(FieldViolation::new(field, "must be 3 to 50 characters"));
        }
        if !raw.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-')) {
            return Err(FieldViolation::new(
                field,
                "may contain only letters, digits, '.', '_' and '-'",
            ));
        }
        let normalized = raw.nfkc().collect::<String>().to_lowercase();
        Ok(Self { given: raw.to_owned(), normalized })
    }

    pub fn as_str(&self) -> &str {
        &self.given
    }

    /// The unique key.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

/// E.164: `+`, a non-zero digit, 7 to 15 digits in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        let digits = raw.strip_prefix('+').unwrap_or_default();
        let valid = digits.len() >= 7
            && digits.len() <= 15
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if !valid {
            return Err(FieldViolation::new(field, "must be an E.164 number such as +14155550123"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A given or family name: at most 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        if raw.chars().count() > MAX_NAME_CHARS {
            return Err(FieldViolation::new(field, "must be at most 100 characters"));
        }
        if raw.chars().any(char::is_control) {
            return Err(FieldViolation::new(field, "must not contain control characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A JSON object of at most the configured size once serialized; absent
/// (null) is the empty object.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata(serde_json::Value);

impl Metadata {
    pub fn parse(
        field: &str,
        value: &serde_json::Value,
        max_bytes: usize,
    ) -> Result<Self, FieldViolation> {
        match value {
            serde_json::Value::Null => Ok(Self(serde_json::json!({}))),
            serde_json::Value::Object(_) => {
                let size = serde_json::to_vec(value).map(|v| v.len()).unwrap_or(usize::MAX);
                if size > max_bytes {
                    return Err(FieldViolation::new(
                        field,
                        format!("must be at most {max_bytes} bytes as JSON"),
                    ));
                }
                Ok(Self(value.clone()))
            }
            _ => Err(FieldViolation::new(field, "must be a JSON object")),
        }
    }

    pub fn as_json(&self) -> &serde_json::Value {
        &self.0
    }
}

/// Role names: 1–64 of `a-z 0-9 _ - : .`, at most 50, sorted, duplicates
/// collapsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles(Vec<String>);

impl Roles {
    pub fn parse(field: &str, values: &[String]) -> Result<Self, FieldViolation> {
        if values.len() > MAX_ROLES {
            return Err(FieldViolation::new(field, "at most 50 roles"));
        }
        let mut roles = Vec::with_capacity(values.len());
        for (i, role) in values.iter().enumerate() {
            let ok = !role.is_empty()
                && role.len() <= MAX_ROLE_CHARS
                && role
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-:.".contains(&b));
            if !ok {
                return Err(FieldViolation::new(
                    format!("{field}[{i}]"),
                    "must be 1-64 of a-z, 0-9, '_', '-', ':', '.'",
                ));
            }
            roles.push(role.clone());
        }
        roles.sort();
        roles.dedup();
        Ok(Self(roles))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// A user's own fields as a caller sends them (empty string = absent), for
/// [`NewUser::parse`].
#[derive(Debug, Clone, Default)]
pub struct UserFields {
    pub email: String,
    pub username: String,
    pub given_name: String,
    pub family_name: String,
    pub phone: String,
    pub metadata: serde_json::Value,
    pub roles: Vec<String>,
    pub email_verified: bool,
    pub phone_verified: bool,
    pub must_change_password: bool,
}

impl UserFields {
    /// The account's own words, which a password must not be built from.
    pub fn hints(&self) -> [&str; 4] {
        [&self.email, &self.username, &self.given_name, &self.family_name]
    }
}

/// A new user's fields, every one valid: what create, invite and the imports
/// insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    pub email: Email,
    pub username: Option<Username>,
    pub given_name: Option<PersonName>,
    pub family_name: Option<PersonName>,
    pub phone: Option<Phone>,
    pub metadata: Metadata,
    pub roles: Roles,
    pub email_verified: bool,
    /// Only with a phone.
    pub phone_verified: bool,
    pub must_change_password: bool,
}

impl NewUser {
    /// Checks every field, naming violations `<prefix><field>` (e.g. `user.email`).
    pub fn parse(
        prefix: &str,
        fields: &UserFields,
        max_metadata_bytes: usize,
    ) -> Result<Self, Invalid> {
        let field = |name: &str| format!("{prefix}{name}");
        let phone_verified = match fields.phone_verified && fields.phone.trim().is_empty() {
            true => Err(FieldViolation::new(field("phone_verified"), "needs a phone number")),
            false => Ok(fields.phone_verified),
        };
        let (email, username, given_name, family_name, phone, metadata, roles, phone_verified) =
            all((
                Email::parse(&field("email"), &fields.email),
                optional(&fields.username, |u| Username::parse(&field("username"), u)),
                optional(&fields.given_name, |n| PersonName::parse(&field("given_name"), n)),
                optional(&fields.family_name, |n| PersonName::parse(&field("family_name"), n)),
                optional(&fields.phone, |p| Phone::parse(&field("phone"), p)),
                Metadata::parse(&field("metadata"), &fields.metadata, max_metadata_bytes),
                Roles::parse(&field("roles"), &fields.roles),
                phone_verified,
            ))?;
        Ok(Self {
            email,
            username,
            given_name,
            family_name,
            phone,
            metadata,
            roles,
            email_verified: fields.email_verified,
            phone_verified,
            must_change_password: fields.must_change_password,
        })
    }
}

impl NewUser {
    /// The user's own columns: what a create writes, and what an import's
    /// UPSERT overwrites.
    pub(crate) fn own_columns(&self) -> users::ActiveModel {
        let text = |value: Option<&str>| value.map(str::to_owned);
        users::ActiveModel {
            email: Set(self.email.as_str().to_owned()),
            email_normalized: Set(self.email.normalized().to_owned()),
            username: Set(text(self.username.as_ref().map(Username::as_str))),
            username_normalized: Set(text(self.username.as_ref().map(Username::normalized))),
            given_name: Set(text(self.given_name.as_ref().map(PersonName::as_str))),
            family_name: Set(text(self.family_name.as_ref().map(PersonName::as_str))),
            phone: Set(text(self.phone.as_ref().map(Phone::as_str))),
            email_verified: Set(self.email_verified),
            phone_verified: Set(self.phone_verified),
            must_change_password: Set(self.must_change_password),
            metadata: Set(self.metadata.as_json().clone()),
            ..Default::default()
        }
    }

    /// A whole new row: active, unlocked, never signed in, created `now`.
    pub(crate) fn new_row(
        &self,
        id: Uuid,
        password_hash: Option<String>,
        now: DateTime<Utc>,
    ) -> users::ActiveModel {
        users::ActiveModel {
            id: Set(id),
            password_hash: Set(password_hash),
            is_active: Set(true),
            disabled_reason: Set(None),
            disabled_until: Set(None),
            failed_login_count: Set(0),
            locked_until: Set(None),
            last_failed_at: Set(None),
            mfa_enabled: Set(false),
            tokens_valid_after: Set(now),
            last_login_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..self.own_columns()
        }
    }
}

/// Inserts the user and their roles. A duplicate email, username or phone
/// fails on its unique index: ALREADY_EXISTS with EMAIL_EXISTS etc.
pub(crate) async fn insert<C: ConnectionTrait>(
    conn: &C,
    user: &NewUser,
    password_hash: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<users::Model> {
    let model = user
        .new_row(Uuid::now_v7(), password_hash, now)
        .insert(conn)
        .await
        .map_err(map_write_error)?;
    replace_roles(conn, model.id, &user.roles).await?;
    Ok(model)
}

/// Inserts a user without a password, created at `created_at`: how the test
/// suite and the load tool seed users, with the field rules and unique
/// indexes of CreateUser but without argon2 or an audit row.
#[cfg(feature = "test-support")]
pub async fn seed<C: ConnectionTrait>(
    conn: &C,
    user: &NewUser,
    created_at: DateTime<Utc>,
) -> DomainResult<users::Model> {
    insert(conn, user, None, created_at).await
}

/// Sets a user's roles to exactly `roles`.
pub(crate) async fn replace_roles<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    roles: &Roles,
) -> DomainResult<()> {
    use sea_orm::{ColumnTrait, QueryFilter};
    user_roles::Entity::delete_many()
        .filter(user_roles::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    if roles.as_slice().is_empty() {
        return Ok(());
    }
    let rows = roles
        .as_slice()
        .iter()
        .map(|role| user_roles::ActiveModel { user_id: Set(user_id), role: Set(role.clone()) });
    user_roles::Entity::insert_many(rows).exec(conn).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_must_be_e164() {
        assert!(Phone::parse("phone", "+14155550123").is_ok());
        for bad in ["14155550123", "+0123456789", "+1 415 555", "+12", "+1234567890123456"] {
            assert!(Phone::parse("phone", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn usernames_are_normalized_and_bounded() {
        let username = Username::parse("u", "Alice_01").unwrap();
        assert_eq!((username.as_str(), username.normalized()), ("Alice_01", "alice_01"));
        assert!(Username::parse("u", "ab").is_err());
        assert!(Username::parse("u", &"a".repeat(51)).is_err());
        assert!(Username::parse("u", "has space").is_err());
    }

    #[test]
    fn metadata_must_be_a_small_object() {
        let parse = |value: serde_json::Value| Metadata::parse("m", &value, 100);
        assert!(parse(serde_json::json!({"a": 1})).is_ok());
        assert!(parse(serde_json::json!([1])).is_err());
        assert!(parse(serde_json::json!({"a": "x".repeat(200)})).is_err());
        assert_eq!(parse(serde_json::Value::Null).unwrap().as_json(), &serde_json::json!({}));
    }

    #[test]
    fn roles_are_checked_sorted_and_deduplicated() {
        let roles = Roles::parse("roles", &["b".into(), "a".into(), "b".into()]).unwrap();
        assert_eq!(roles.as_slice(), ["a", "b"]);
        assert!(Roles::parse("roles", &["Bad Role".into()]).is_err());
    }

    #[test]
    fn every_field_is_checked_at_once() {
        let fields = UserFields {
            email: "nope".into(),
            username: "x".into(),
            phone_verified: true,
            roles: vec!["Bad".into()],
            ..Default::default()
        };
        let invalid = NewUser::parse("user.", &fields, 1024).unwrap_err();
        let named: Vec<&str> = invalid.violations().iter().map(|v| v.field.as_str()).collect();
        assert_eq!(named, ["user.email", "user.username", "user.roles[0]", "user.phone_verified"]);
    }
}
