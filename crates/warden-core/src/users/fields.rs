//! The field rules every way of making or changing a user shares (create,
//! import, social import, invite, update), and the one insert that enforces
//! uniqueness through the database's unique indexes.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

use crate::{
    email::{self, Email},
    entity::{user_roles, users},
    error::{DomainResult, FieldViolation, Violations},
    unique::map_write_error,
};

pub const USERNAME_CHARS: std::ops::RangeInclusive<usize> = 3..=50;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_ROLE_CHARS: usize = 64;
pub const MAX_ROLES: usize = 50;

/// A user's own fields as a caller sends them (empty string = absent).
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

/// Fields that passed every rule, normalized for storage.
#[derive(Debug, Clone)]
pub struct ValidUser {
    pub email: Email,
    /// `(as given, normalized)`.
    pub username: Option<(String, String)>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone: Option<String>,
    pub metadata: serde_json::Value,
    pub roles: Vec<String>,
    pub email_verified: bool,
    pub phone_verified: bool,
    pub must_change_password: bool,
}

/// Checks every field, naming violations `<prefix><field>` (e.g. `user.email`).
pub fn validate(
    violations: &mut Violations,
    prefix: &str,
    fields: &UserFields,
    max_metadata_bytes: usize,
) -> Option<ValidUser> {
    let field = |name: &str| format!("{prefix}{name}");
    let email = violations.check(email::parse(&field("email"), &fields.email));
    let username = optional(&fields.username)
        .map(|u| violations.check(username(&field("username"), u)))
        .unwrap_or(Some(None));
    let given_name = optional(&fields.given_name)
        .map(|n| violations.check(name(&field("given_name"), n)))
        .unwrap_or(Some(None));
    let family_name = optional(&fields.family_name)
        .map(|n| violations.check(name(&field("family_name"), n)))
        .unwrap_or(Some(None));
    let phone = optional(&fields.phone)
        .map(|p| violations.check(phone(&field("phone"), p)))
        .unwrap_or(Some(None));
    let metadata =
        violations.check(metadata(&field("metadata"), &fields.metadata, max_metadata_bytes));
    let roles = violations.check(roles(&field("roles"), &fields.roles));
    if fields.phone_verified && fields.phone.trim().is_empty() {
        violations.push(field("phone_verified"), "needs a phone number");
    }
    Some(ValidUser {
        email: email?,
        username: username?,
        given_name: given_name?,
        family_name: family_name?,
        phone: phone?,
        metadata: metadata?,
        roles: roles?,
        email_verified: fields.email_verified,
        phone_verified: fields.phone_verified,
        must_change_password: fields.must_change_password,
    })
}

fn optional(value: &str) -> Option<&str> {
    let value = value.trim();
    (!value.is_empty()).then_some(value)
}

/// 3–50 characters of letters, digits, `.`, `_`, `-`; unique case-insensitively.
pub fn username(field: &str, value: &str) -> Result<Option<(String, String)>, FieldViolation> {
    let count = value.chars().count();
    if !USERNAME_CHARS.contains(&count) {
        return Err(FieldViolation::new(field, "must be 3 to 50 characters"));
    }
    if !value.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return Err(FieldViolation::new(
            field,
            "may contain only letters, digits, '.', '_' and '-'",
        ));
    }
    let normalized = value.nfkc().collect::<String>().to_lowercase();
    Ok(Some((value.to_owned(), normalized)))
}

pub fn name(field: &str, value: &str) -> Result<Option<String>, FieldViolation> {
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(FieldViolation::new(field, "must be at most 100 characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldViolation::new(field, "must not contain control characters"));
    }
    Ok(Some(value.to_owned()))
}

/// E.164: `+`, a non-zero digit, 7 to 15 digits in all.
pub fn phone(field: &str, value: &str) -> Result<Option<String>, FieldViolation> {
    let digits = value.strip_prefix('+').unwrap_or_default();
    let valid = digits.len() >= 7
        && digits.len() <= 15
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if !valid {
        return Err(FieldViolation::new(field, "must be an E.164 number such as +14155550123"));
    }
    Ok(Some(value.to_owned()))
}

/// A JSON object (or nothing) of at most `max_bytes` once serialized.
pub fn metadata(
    field: &str,
    value: &serde_json::Value,
    max_bytes: usize,
) -> Result<serde_json::Value, FieldViolation> {
    match value {
        serde_json::Value::Null => Ok(serde_json::json!({})),
        serde_json::Value::Object(_) => {
            let size = serde_json::to_vec(value).map(|v| v.len()).unwrap_or(usize::MAX);
            if size > max_bytes {
                return Err(FieldViolation::new(
                    field,
                    format!("must be at most {max_bytes} bytes as JSON"),
                ));
            }
            Ok(value.clone())
        }
        _ => Err(FieldViolation::new(field, "must be a JSON object")),
    }
}

/// Role names: 1–64 of `a-z 0-9 _ - : .`, at most 50, duplicates collapsed.
pub fn roles(field: &str, values: &[String]) -> Result<Vec<String>, FieldViolation> {
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
    Ok(roles)
}

/// Inserts the user and their roles. A duplicate email, username or phone
/// fails on its unique index: ALREADY_EXISTS with EMAIL_EXISTS etc.
pub async fn insert<C: ConnectionTrait>(
    conn: &C,
    user: &ValidUser,
    password_hash: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<users::Model> {
    let model = users::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(user.email.given.clone()),
        email_normalized: Set(user.email.normalized.clone()),
        username: Set(user.username.as_ref().map(|(given, _)| given.clone())),
        username_normalized: Set(user.username.as_ref().map(|(_, normalized)| normalized.clone())),
        given_name: Set(user.given_name.clone()),
        family_name: Set(user.family_name.clone()),
        phone: Set(user.phone.clone()),
        email_verified: Set(user.email_verified),
        phone_verified: Set(user.phone_verified),
        password_hash: Set(password_hash),
        must_change_password: Set(user.must_change_password),
        metadata: Set(user.metadata.clone()),
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
    }
    .insert(conn)
    .await
    .map_err(map_write_error)?;
    replace_roles(conn, model.id, &user.roles).await?;
    Ok(model)
}

/// Sets a user's roles to exactly `roles`.
pub async fn replace_roles<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    roles: &[String],
) -> DomainResult<()> {
    use sea_orm::{ColumnTrait, QueryFilter};
    user_roles::Entity::delete_many()
        .filter(user_roles::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    if roles.is_empty() {
        return Ok(());
    }
    let rows = roles
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
        assert!(phone("phone", "+14155550123").is_ok());
        for bad in ["14155550123", "+0123456789", "+1 415 555", "+12", "+1234567890123456"] {
            assert!(phone("phone", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn usernames_are_normalized_and_bounded() {
        assert_eq!(
            username("u", "Alice_01").unwrap(),
            Some(("Alice_01".into(), "alice_01".into()))
        );
        assert!(username("u", "ab").is_err());
        assert!(username("u", &"a".repeat(51)).is_err());
        assert!(username("u", "has space").is_err());
    }

    #[test]
    fn metadata_must_be_a_small_object() {
        assert!(metadata("m", &serde_json::json!({"a": 1}), 100).is_ok());
        assert!(metadata("m", &serde_json::json!([1]), 100).is_err());
        assert!(metadata("m", &serde_json::json!({"a": "x".repeat(200)}), 100).is_err());
        assert_eq!(metadata("m", &serde_json::Value::Null, 100).unwrap(), serde_json::json!({}));
    }

    #[test]
    fn roles_are_checked_sorted_and_deduplicated() {
        let roles = roles("roles", &["b".into(), "a".into(), "b".into()]).unwrap();
        assert_eq!(roles, ["a", "b"]);
        assert!(super::roles("roles", &["Bad Role".into()]).is_err());
    }
}
