//! ImportUsers: rows arrive one by one, are validated at once (a bad row is
//! reported and never aborts the others) and written `BATCH_SIZE` at a time,
//! each batch in one transaction with multi-row inserts and one audit row.
//!
//! Conflicts are resolved per batch with one query for the users and one for
//! the identities the batch names; the unique indexes still decide (a
//! concurrent writer makes the batch fall back to row-by-row savepoints).
//! A row that repeats an email, username, phone or identity of an earlier row
//! of the same stream always fails, whatever `on_conflict` says.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::{NewIdentity, to_micros, write};
use crate::{
    auth::{
        legacy_hash,
        password::{NewPassword, PasswordPolicy},
    },
    context::Context,
    error::{Conflict, DomainError, DomainResult, FieldViolation},
    secret::SecretString,
    users::{Users, fields::NewUser},
    values::Invalid,
};

/// Rows per transaction.
pub const BATCH_SIZE: usize = 500;

/// An import that wrote this many rows refreshes the planner statistics
/// (PostgreSQL), so the next ListUsers is planned for the new table sizes.
const ANALYZE_AFTER_ROWS: i64 = 1_000;

/// What to do with a row whose email, username, phone or identity exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnConflict {
    /// Leave the existing user alone; the row counts as skipped.
    Skip,
    /// Overwrite the user with the same email (other conflicts fail the row).
    Upsert,
    /// The row fails with the conflict's reason.
    Fail,
}

impl OnConflict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Skip => "skip",
            Self::Upsert => "upsert",
            Self::Fail => "fail",
        }
    }
}

/// One row, every field valid.
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub user: NewUser,
    pub password: ImportedPassword,
    pub identities: Vec<NewIdentity>,
    /// Not in the future.
    pub created_at: Option<DateTime<Utc>>,
    /// `None`: active for a new user, unchanged for an UPSERT.
    pub is_active: Option<bool>,
}

/// A row that broke field rules: it fails into the summary, the stream goes on.
#[derive(Debug, Clone)]
pub struct InvalidRow {
    /// As sent (trimmed), to name the row in the summary.
    pub email: String,
    pub problems: Invalid,
}

/// What an imported user signs in with.
#[derive(Debug, Clone)]
pub enum ImportedPassword {
    None,
    /// A PHC/MCF string from the old system (argon2, bcrypt, scrypt, pbkdf2),
    /// kept as is and upgraded on the first sign-in. Never policy-checked.
    Hash(String),
    /// A plain password, hashed on import.
    Plain(NewPassword),
}

impl ImportedPassword {
    /// Either `password` (checked against the policy; `hints` are the
    /// account's own words) or `password_hash` (a known format), not both.
    pub fn parse(
        policy: &PasswordPolicy<'_>,
        password: String,
        password_hash: &str,
        hints: &[&str],
    ) -> Result<Self, Invalid> {
        let hash = password_hash.trim();
        match (password.is_empty(), hash.is_empty()) {
            (false, false) => Err(FieldViolation::new(
                "password",
                "give either password or password_hash, not both",
            )
            .into()),
            (true, false) => {
                legacy_hash::check("password_hash", hash)?;
                Ok(Self::Hash(hash.to_owned()))
            }
            (false, true) => {
                Ok(Self::Plain(policy.parse("password", SecretString::new(password), hints)?))
            }
            (true, true) => Ok(Self::None),
        }
    }
}

/// A row that failed, for the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct RowFailure {
    pub row_index: i64,
    pub email: String,
    pub reason: &'static str,
    pub message: String,
    pub field_violations: Vec<FieldViolation>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportSummary {
    pub received: i64,
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
    pub failed: i64,
    /// In stream order.
    pub failures: Vec<RowFailure>,
}

/// A row that passed validation, waiting for its batch.
#[derive(Debug, Clone)]
pub(super) struct Prepared {
    pub index: i64,
    pub user: NewUser,
    pub password_hash: Option<String>,
    /// Hashed just before its batch is written.
    pub password: Option<NewPassword>,
    pub identities: Vec<NewIdentity>,
    pub created_at: Option<DateTime<Utc>>,
    pub is_active: Option<bool>,
}

/// Keys already used by earlier rows of this stream.
#[derive(Debug, Default)]
struct Seen {
    emails: HashSet<String>,
    usernames: HashSet<String>,
    phones: HashSet<String>,
    identities: HashSet<(String, String)>,
}

impl Seen {
    /// The conflict with an earlier row, if any; otherwise remembers this row.
    fn claim(&mut self, row: &Prepared) -> Option<Conflict> {
        let user = &row.user;
        let username = user.username.as_ref().map(|u| u.normalized());
        let phone = user.phone.as_ref().map(|p| p.as_str());
        let conflict = if self.emails.contains(user.email.normalized()) {
            Some(Conflict::Email)
        } else if username.is_some_and(|n| self.usernames.contains(n)) {
            Some(Conflict::Username)
        } else if phone.is_some_and(|p| self.phones.contains(p)) {
            Some(Conflict::Phone)
        } else if row.identities.iter().any(|i| self.identities.contains(&i.key())) {
            Some(Conflict::SocialAccount)
        } else {
            None
        };
        if conflict.is_none() {
            self.emails.insert(user.email.normalized().to_owned());
            self.usernames.extend(username.map(str::to_owned));
            self.phones.extend(phone.map(str::to_owned));
            self.identities.extend(row.identities.iter().map(NewIdentity::key));
        }
        conflict
    }
}

/// One ImportUsers stream: `push` every row, then `finish`.
#[derive(Debug)]
pub struct Importer<'a> {
    users: &'a Users,
    ctx: Context,
    on_conflict: OnConflict,
    pending: Vec<Prepared>,
    seen: Seen,
    summary: ImportSummary,
    batches: u32,
}

impl Users {
    pub fn importer(&self, ctx: &Context, on_conflict: OnConflict) -> Importer<'_> {
        Importer {
            users: self,
            ctx: ctx.clone(),
            on_conflict,
            pending: Vec::with_capacity(BATCH_SIZE),
            seen: Seen::default(),
            summary: ImportSummary::default(),
            batches: 0,
        }
    }
}

impl Importer<'_> {
    /// Takes the next row; writes a batch when one is full. An error here is
    /// the database's, not the row's: rows only ever fail into the summary.
    pub async fn push(&mut self, row: Result<ImportRow, InvalidRow>) -> DomainResult<()> {
        let index = self.summary.received;
        self.summary.received += 1;
        match row {
            Ok(row) => {
                let prepared = prepare(index, row);
                match self.seen.claim(&prepared) {
                    None => self.pending.push(prepared),
                    Some(conflict) => {
                        let err = DomainError::AlreadyExists(conflict);
                        let email = prepared.user.email.as_str().to_owned();
                        self.fail(index, email, &err, "repeats an earlier row of this import");
                    }
                }
            }
            Err(InvalidRow { email, problems }) => {
                self.fail(index, email, &problems.into(), "");
            }
        }
        if self.pending.len() >= BATCH_SIZE {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes what is left and returns the summary, failures in stream order.
    pub async fn finish(mut self) -> DomainResult<ImportSummary> {
        self.flush().await?;
        if self.summary.created + self.summary.updated >= ANALYZE_AFTER_ROWS {
            crate::db::analyze_users_tables(&self.users.db).await?;
        }
        self.summary.failures.sort_by_key(|f| f.row_index);
        Ok(self.summary)
    }

    fn fail(&mut self, row_index: i64, email: String, err: &DomainError, message: &str) {
        let field_violations = match err {
            DomainError::Validation(v) | DomainError::WeakPassword(v) => v.clone(),
            _ => Vec::new(),
        };
        let message = match (describe(err), message) {
            (what, "") => what,
            (what, why) => format!("{what}: {why}"),
        };
        self.summary.failed += 1;
        self.summary.failures.push(RowFailure {
            row_index,
            email,
            reason: err.reason().as_str(),
            message,
            field_violations,
        });
    }

    async fn flush(&mut self) -> DomainResult<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut batch = std::mem::take(&mut self.pending);
        self.hash_plain_passwords(&mut batch).await?;
        self.batches += 1;
        let outcome =
            write::batch(self.users, &self.ctx, self.on_conflict, self.batches, batch).await?;
        self.summary.created += outcome.created;
        self.summary.updated += outcome.updated;
        self.summary.skipped += outcome.skipped;
        for (row, email, err) in outcome.failed {
            self.fail(row, email, &err, "");
        }
        self.pending = Vec::with_capacity(BATCH_SIZE);
        Ok(())
    }

    /// Rows with a plain password get an argon2id hash, several at once
    /// (bounded by the hasher's own pool).
    async fn hash_plain_passwords(&self, batch: &mut [Prepared]) -> DomainResult<()> {
        let mut jobs = tokio::task::JoinSet::new();
        for (i, row) in batch.iter().enumerate() {
            if let Some(password) = row.password.clone() {
                let passwords = self.users.auth.passwords().clone();
                jobs.spawn(async move { (i, passwords.hash(password.secret()).await) });
            }
        }
        while let Some(done) = jobs.join_next().await {
            let (i, hash) = done.map_err(DomainError::internal)?;
            batch[i].password_hash = Some(hash?);
            batch[i].password = None;
        }
        Ok(())
    }
}

/// A valid row waiting for its batch.
fn prepare(index: i64, row: ImportRow) -> Prepared {
    let (password_hash, password) = match row.password {
        ImportedPassword::None => (None, None),
        ImportedPassword::Hash(hash) => (Some(hash), None),
        ImportedPassword::Plain(password) => (None, Some(password)),
    };
    Prepared {
        index,
        user: row.user,
        password_hash,
        password,
        identities: row.identities,
        created_at: row.created_at.map(to_micros),
        is_active: row.is_active,
    }
}

/// A row failure's message: which rule, never whose data.
fn describe(err: &DomainError) -> String {
    let text = match err {
        DomainError::AlreadyExists(Conflict::Email) => "a user with this email already exists",
        DomainError::AlreadyExists(Conflict::Username) => "this username is already taken",
        DomainError::AlreadyExists(Conflict::Phone) => "this phone number is already taken",
        DomainError::AlreadyExists(Conflict::SocialAccount) => {
            "this provider account is already linked to a user"
        }
        other => return other.to_string(),
    };
    text.to_owned()
}
