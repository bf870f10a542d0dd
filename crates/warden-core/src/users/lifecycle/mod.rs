//! The user lifecycle behind UsersService: create, read, update, roles,
//! delete, disable/enable and passwords.
//!
//! Every mutation runs in one transaction that first *writes* the user's row
//! (`UPDATE users SET updated_at = updated_at`), then reads it: on SQLite the
//! transaction takes the write lock at once instead of failing to upgrade a
//! read snapshot, and on PostgreSQL the row stays locked until commit, so two
//! racing changes to one user serialize. Each writes exactly one audit event
//! in that transaction; a failed change rolls back and leaves none.

mod account;
mod create;
mod delete;
mod update;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

pub use account::{DisableUser, MAX_REASON_CHARS, PasswordSet, SetPassword};
pub use create::{CreateUser, Created, UserLookup};
pub use delete::DeletedRecords;
pub use update::UserPatch;

use crate::{
    auth::password::{MAX_PASSWORD_CHARS, NewPassword},
    entity::users,
    error::{DomainError, DomainResult},
    secret::{SecretString, random_bytes},
};

/// Where a new password comes from (CreateUser, SetPassword).
#[derive(Debug, Clone)]
pub enum PasswordSource {
    Given(NewPassword),
    /// Generated from the OS CSPRNG and returned once.
    Generate,
}

/// Length of a generated password: 24 characters of a 64-symbol alphabet,
/// 144 random bits (longer when the configured minimum asks for more).
pub const GENERATED_PASSWORD_CHARS: usize = 24;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A random password of at least `min_chars` (and at least 24) characters.
pub fn generate_password(min_chars: usize) -> NewPassword {
    let len = GENERATED_PASSWORD_CHARS.max(min_chars).min(MAX_PASSWORD_CHARS);
    let mut out = String::with_capacity(len);
    while out.len() < len {
        // 256 is a multiple of 64: masking to 6 bits keeps every symbol equally likely.
        for byte in random_bytes::<32>().into_iter().take(len - out.len()) {
            out.push(char::from(ALPHABET[usize::from(byte & 63)]));
        }
    }
    NewPassword::generated(SecretString::new(out))
}

/// Locks the user's row inside `txn` (see the module comment) and reads it.
async fn lock<C: ConnectionTrait>(txn: &C, id: Uuid) -> DomainResult<users::Model> {
    let touched = users::Entity::update_many()
        .col_expr(users::Column::UpdatedAt, Expr::col(users::Column::UpdatedAt))
        .filter(users::Column::Id.eq(id))
        .exec(txn)
        .await?;
    if touched.rows_affected == 0 {
        return Err(not_found());
    }
    find(txn, id).await
}

async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> DomainResult<users::Model> {
    users::Entity::find_by_id(id).one(conn).await?.ok_or_else(not_found)
}

fn not_found() -> DomainError {
    DomainError::NotFound { resource: "user" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_random_and_url_safe() {
        let a = generate_password(8);
        let b = generate_password(8);
        let (a, b) = (a.secret().expose(), b.secret().expose());
        assert_eq!(a.chars().count(), GENERATED_PASSWORD_CHARS);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)));
        assert_eq!(generate_password(40).secret().expose().len(), 40);
        assert_eq!(generate_password(5000).secret().expose().len(), MAX_PASSWORD_CHARS);
    }
}
