//! Uniqueness is enforced by unique indexes, never by check-then-insert alone;
//! this turns the database's violation into the domain's conflict.

use sea_orm::{DbErr, SqlErr};

use crate::error::{Conflict, DomainError};

/// If `err` is a unique violation, which rule it broke. Both backends name the
/// column (SQLite) or index (PostgreSQL, `uq_<table>_<columns>`) in the message.
pub fn conflict_of(err: &DbErr) -> Option<Conflict> {
    let Some(SqlErr::UniqueConstraintViolation(message)) = err.sql_err() else {
        return None;
    };
    let conflict = if message.contains("email_normalized") {
        Conflict::Email
    } else if message.contains("username_normalized") {
        Conflict::Username
    } else if message.contains("phone") {
        Conflict::Phone
    } else if message.contains("provider_user_id") {
        Conflict::SocialAccount
    } else {
        Conflict::Other
    };
    Some(conflict)
}

/// Maps a write error: unique violations become ALREADY_EXISTS with their reason.
pub fn map_write_error(err: DbErr) -> DomainError {
    match conflict_of(&err) {
        Some(conflict) => DomainError::AlreadyExists(conflict),
        None => err.into(),
    }
}
