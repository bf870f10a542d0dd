//! ListUsers' WHERE clause. Each filter is written as the expression an
//! index serves on PostgreSQL (migrations 3 to 5): trigram GIN indexes on
//! `email_normalized`, `lower(username)`, `lower(given_name)`,
//! `lower(family_name)`, the joined names and `phone`; a `jsonb_path_ops` GIN
//! index for metadata; a pattern b-tree for email prefixes; b-tree indexes
//! behind the EXISTS on roles/identities.
//! Every user-supplied value is bound, never spliced into SQL.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, DbBackend, Value,
    sea_query::{Expr, ExprTrait, Query, extension::postgres::PgBinOper},
};
use unicode_normalization::UnicodeNormalization;

use super::{TimeRange, UserFilter};
use crate::{
    entity::{user_identities, user_roles, users},
    text_filter::{MatchMode, TextFilter, prefix_range_on_lowered},
};

/// Given and family name joined by a space (a missing one as empty), so
/// it contains whatever either name contains. Trigram-indexed on PostgreSQL.
const JOINED_NAME: &str = "lower(COALESCE(given_name, '') || ' ' || COALESCE(family_name, ''))";

pub(super) fn condition(backend: DbBackend, filter: &UserFilter, now: DateTime<Utc>) -> Condition {
    let mut all = Condition::all();
    if let Some(email) = &filter.email {
        all = all.add(email_condition(backend, email));
    }
    if let Some(username) = &filter.username {
        all = all.add(username_condition(username));
    }
    if let Some(name) = &filter.name {
        all = all.add(name_condition(name));
    }
    if let Some(phone) = &filter.phone {
        // E.164 has no letters: the bare column, so its indexes apply.
        all = all.add(phone.condition_on_lowered(Expr::col(users::Column::Phone)));
    }
    if let Some(search) = TextFilter::new(filter.search.trim(), MatchMode::Contains) {
        all = all.add(search_condition(backend, &search));
    }
    if let Some(role) = &filter.role {
        all = all.add(has_role(role));
    }
    if let Some(active) = filter.is_active {
        all = all.add(if active { active_at(now) } else { inactive_at(now) });
    }
    if let Some(locked) = filter.is_locked {
        all = all.add(if locked { locked_at(now) } else { unlocked_at(now) });
    }
    if let Some(verified) = filter.email_verified {
        all = all.add(users::Column::EmailVerified.eq(verified));
    }
    if let Some(verified) = filter.phone_verified {
        all = all.add(users::Column::PhoneVerified.eq(verified));
    }
    if let Some(social) = filter.has_social_auth {
        let exists = has_identity();
        all = all.add(if social { exists } else { exists.not() });
    }
    if let Some(mfa) = filter.mfa_enabled {
        all = all.add(users::Column::MfaEnabled.eq(mfa));
    }
    all = range(all, users::Column::CreatedAt, filter.created_at);
    all = range(all, users::Column::UpdatedAt, filter.updated_at);
    all = range(all, users::Column::LastLoginAt, filter.last_login_at);
    for (key, value) in &filter.metadata {
        all = all.add(metadata_condition(backend, key, value));
    }
    all
}

/// Active: never disabled, or the disable's `until` has passed.
pub(super) fn active_at(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(users::Column::IsActive.eq(true))
        .add(users::Column::DisabledUntil.lte(now))
}

fn inactive_at(now: DateTime<Utc>) -> Condition {
    Condition::all().add(users::Column::IsActive.eq(false)).add(
        Condition::any()
            .add(users::Column::DisabledUntil.is_null())
            .add(users::Column::DisabledUntil.gt(now)),
    )
}

pub(super) fn locked_at(now: DateTime<Utc>) -> Condition {
    Condition::all().add(users::Column::LockedUntil.gt(now))
}

fn unlocked_at(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(users::Column::LockedUntil.is_null())
        .add(users::Column::LockedUntil.lte(now))
}

/// Adds the range's bounds to `all` (an open range adds nothing).
fn range(mut all: Condition, column: users::Column, range: TimeRange) -> Condition {
    if let Some(after) = range.after {
        all = all.add(column.gte(after));
    }
    if let Some(before) = range.before {
        all = all.add(column.lt(before));
    }
    all
}

/// Emails are stored NFKC + lower-case: normalize the value the same way
/// and compare against the bare column, so its indexes serve the match
/// (trigram or pattern b-tree on PostgreSQL; for a prefix on SQLite, the
/// unique b-tree through a range).
fn email_condition(backend: DbBackend, filter: &TextFilter) -> Condition {
    let normalized = TextFilter { value: normalize(&filter.value), mode: filter.mode };
    let column = || Expr::col(users::Column::EmailNormalized);
    if backend == DbBackend::Sqlite && normalized.mode == MatchMode::StartsWith {
        return prefix_range_on_lowered(&normalized.value, column);
    }
    Condition::all().add(normalized.condition_on_lowered(column()))
}

/// Equality goes to the unique normalized column; patterns to `lower(username)`.
fn username_condition(filter: &TextFilter) -> Expr {
    match filter.mode {
        MatchMode::Equals => users::Column::UsernameNormalized.eq(normalize(&filter.value)),
        _ => filter.condition(Expr::col(users::Column::Username)),
    }
}

fn name_condition(filter: &TextFilter) -> Condition {
    let joined = filter.condition_on_lowered(Expr::cust(JOINED_NAME));
    if filter.mode == MatchMode::Contains {
        // A name containing the value means the joined text does too: one
        // indexed expression covers given, family and both together.
        return Condition::all().add(joined);
    }
    let mut any = Condition::any()
        .add(filter.condition(Expr::col(users::Column::GivenName)))
        .add(filter.condition(Expr::col(users::Column::FamilyName)));
    // Without a space the value cannot span both names.
    if filter.value.contains(' ') {
        any = any.add(joined);
    }
    any
}

fn search_condition(backend: DbBackend, search: &TextFilter) -> Condition {
    Condition::any().add(name_condition(search)).add(email_condition(backend, search))
}

fn has_role(role: &str) -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::cust("1"))
            .from(user_roles::Entity)
            .and_where(
                Expr::col((user_roles::Entity, user_roles::Column::UserId))
                    .equals((users::Entity, users::Column::Id)),
            )
            .and_where(Expr::col((user_roles::Entity, user_roles::Column::Role)).eq(role))
            .to_owned(),
    )
}

fn has_identity() -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::cust("1"))
            .from(user_identities::Entity)
            .and_where(
                Expr::col((user_identities::Entity, user_identities::Column::UserId))
                    .equals((users::Entity, users::Column::Id)),
            )
            .to_owned(),
    )
}

fn normalize(value: &str) -> String {
    value.nfkc().collect::<String>().to_lowercase()
}

/// What a metadata value may be for `wanted` to match it: the string
/// itself, or (when `wanted` is JSON text of a non-string) that JSON value.
fn candidates(wanted: &str) -> Vec<serde_json::Value> {
    let mut out = vec![serde_json::Value::String(wanted.to_owned())];
    match serde_json::from_str::<serde_json::Value>(wanted) {
        Ok(serde_json::Value::String(_)) | Err(_) => {}
        Ok(parsed) => out.push(parsed),
    }
    out
}

fn metadata_condition(backend: DbBackend, key: &str, wanted: &str) -> Condition {
    let mut any = Condition::any();
    for candidate in candidates(wanted) {
        any = any.add(match backend {
            DbBackend::Postgres => pg_metadata_equals(key, candidate),
            _ => sqlite_metadata_equals(key, candidate),
        });
    }
    any
}

/// `metadata @> {"key": value}` (GIN `jsonb_path_ops`). Containment is
/// equality for scalars; for arrays and objects it is not, so those also
/// compare `metadata -> key` exactly (a recheck on the indexed rows).
fn pg_metadata_equals(key: &str, value: serde_json::Value) -> Condition {
    let container = value.is_array() || value.is_object();
    let mut object = serde_json::Map::new();
    object.insert(key.to_owned(), value.clone());
    let metadata = || Expr::col((users::Entity, users::Column::Metadata));
    let mut all = Condition::all()
        .add(metadata().binary(PgBinOper::Contains, Expr::val(serde_json::Value::Object(object))));
    if container {
        let field = metadata().binary(PgBinOper::GetJsonField, Expr::val(key.to_owned()));
        all = all.add(field.eq(Expr::val(value)));
    }
    all
}

/// SQLite: `json_each` finds the member by its exact key (no JSON-path
/// quoting of user text), then its type and value must match.
fn sqlite_metadata_equals(key: &str, value: serde_json::Value) -> Condition {
    const MEMBER: &str =
        r#"EXISTS (SELECT 1 FROM json_each("users"."metadata") AS m WHERE m.key = ? AND "#;
    let key = Value::from(key.to_owned());
    let expr = match value {
        serde_json::Value::String(text) => Expr::cust_with_values(
            format!("{MEMBER}m.type = 'text' AND m.value = ?)"),
            [key, text.into()],
        ),
        serde_json::Value::Bool(flag) => Expr::cust_with_values(
            format!("{MEMBER}m.type = ?)"),
            [key, if flag { "true" } else { "false" }.to_owned().into()],
        ),
        serde_json::Value::Null => {
            Expr::cust_with_values(format!("{MEMBER}m.type = 'null')"), [key])
        }
        serde_json::Value::Number(number) => {
            // Numeric comparison, so 42 matches 42.0 as on PostgreSQL.
            let number: Value = match number.as_i64() {
                Some(int) => int.into(),
                None => number.as_f64().unwrap_or(f64::NAN).into(),
            };
            Expr::cust_with_values(
                format!("{MEMBER}m.type IN ('integer', 'real') AND m.value = ?)"),
                [key, number],
            )
        }
        container => {
            let kind = if container.is_array() { "array" } else { "object" };
            Expr::cust_with_values(
                format!("{MEMBER}m.type = ? AND m.value = json(?))"),
                [key, kind.to_owned().into(), container.to_string().into()],
            )
        }
    };
    Condition::all().add(expr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_values_match_as_strings_and_as_json() {
        assert_eq!(candidates("pro"), vec![serde_json::json!("pro")]);
        assert_eq!(candidates("\"pro\""), vec![serde_json::json!("\"pro\"")]);
        assert_eq!(candidates("42"), vec![serde_json::json!("42"), serde_json::json!(42)]);
        assert_eq!(candidates("true"), vec![serde_json::json!("true"), serde_json::json!(true)]);
    }
}
