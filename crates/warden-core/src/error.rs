//! The one error type of the domain. Every failure a caller can act on has a
//! stable reason code; the server maps each variant to a gRPC status in one
//! exhaustive function, so a new variant cannot ship without a mapping.

use std::time::Duration;

/// One invalid field of a request, named by its proto path (`user.email`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self { field: field.into(), description: description.into() }
    }
}

/// What kind of record already exists, for ALREADY_EXISTS answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    Email,
    Username,
    Phone,
    SocialAccount,
    /// A `request_id` already used for a different request (or by another caller).
    RequestId,
    /// A uniqueness rule without a dedicated reason (e.g. an API key name).
    Other,
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("the request is invalid")]
    Validation(Vec<FieldViolation>),
    #[error("the password is too weak")]
    WeakPassword(Vec<FieldViolation>),
    /// Well-formed, but the target's state or the server's configuration
    /// rules it out (e.g. an SMS to a user without a verified phone): the
    /// named fields must change, or the state must, before a retry helps.
    /// Each precondition has a reason of its own, never VALIDATION_FAILED.
    #[error("the request cannot be carried out in the current state")]
    Precondition(Precondition, Vec<FieldViolation>),
    #[error("{resource} not found")]
    NotFound { resource: &'static str },
    #[error("that record already exists")]
    AlreadyExists(Conflict),
    #[error("setup has already been done")]
    SetupAlreadyDone,
    #[error("the last dashboard admin cannot be removed, demoted or disabled")]
    LastAdmin,
    #[error("that would remove the user's last way to sign in")]
    LastSignInMethod,
    #[error("no credential was presented")]
    Unauthenticated,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("the token has expired")]
    TokenExpired,
    #[error("the token has been revoked")]
    TokenRevoked,
    #[error("the account is locked")]
    AccountLocked { retry_after: Duration },
    #[error("the account is disabled")]
    AccountDisabled,
    #[error("multi-factor authentication is required")]
    MfaRequired,
    #[error("the password must be changed first")]
    PasswordChangeRequired,
    #[error("the caller lacks the scope {scope}")]
    ScopeMissing { scope: String },
    #[error("this kind of caller may not call this method")]
    WrongPrincipal,
    #[error("too many requests")]
    RateLimited { retry_after: Duration },
    #[error("{method} is not implemented yet")]
    Unimplemented { method: String },
    /// Lost a race with a concurrent change (a deadlock or serialization
    /// failure on PostgreSQL, a busy database on SQLite): retry the call.
    #[error("the call conflicted with a concurrent change; retry it")]
    Aborted(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A request message over the server's size limit (the wire layer).
    #[error("the message is too large")]
    MessageTooLarge,
    /// The caller cancelled the call, or its deadline passed (the wire layer).
    #[error("the call was cancelled")]
    Cancelled,
    #[error("a dependency is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything the caller cannot act on. The cause is logged, never returned.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl DomainError {
    /// The stable reason carried in `google.rpc.ErrorInfo` (one of the
    /// contract's `ErrorReason` values: no other can be named).
    pub fn reason(&self) -> ErrorReason {
        match self {
            Self::Validation(_) => ErrorReason::ValidationFailed,
            Self::Precondition(precondition, _) => precondition.reason(),
            Self::WeakPassword(_) => ErrorReason::WeakPassword,
            Self::NotFound { .. } => ErrorReason::NotFound,
            Self::AlreadyExists(Conflict::Email) => ErrorReason::EmailExists,
            Self::AlreadyExists(Conflict::Username) => ErrorReason::UsernameExists,
            Self::AlreadyExists(Conflict::Phone) => ErrorReason::PhoneExists,
            Self::AlreadyExists(Conflict::SocialAccount) => ErrorReason::SocialAccountExists,
            Self::AlreadyExists(Conflict::RequestId | Conflict::Other) => {
                ErrorReason::AlreadyExists
            }
            Self::SetupAlreadyDone => ErrorReason::SetupAlreadyDone,
            Self::LastAdmin => ErrorReason::LastAdmin,
            Self::LastSignInMethod => ErrorReason::LastSignInMethod,
            Self::Unauthenticated => ErrorReason::Unauthenticated,
            Self::InvalidCredentials => ErrorReason::InvalidCredentials,
            Self::TokenExpired => ErrorReason::TokenExpired,
            Self::TokenRevoked => ErrorReason::TokenRevoked,
            Self::AccountLocked { .. } => ErrorReason::AccountLocked,
            Self::AccountDisabled => ErrorReason::AccountDisabled,
            Self::MfaRequired => ErrorReason::MfaRequired,
            Self::PasswordChangeRequired => ErrorReason::PasswordChangeRequired,
            Self::ScopeMissing { .. } => ErrorReason::ScopeMissing,
            Self::WrongPrincipal => ErrorReason::PermissionDenied,
            Self::RateLimited { .. } => ErrorReason::RateLimited,
            Self::Unimplemented { .. } => ErrorReason::Unimplemented,
            Self::Aborted(_) => ErrorReason::ConcurrentModification,
            Self::MessageTooLarge => ErrorReason::MessageTooLarge,
            Self::Cancelled => ErrorReason::Cancelled,
            Self::Unavailable(_) => ErrorReason::Unavailable,
            Self::Internal(_) => ErrorReason::Internal,
        }
    }

    pub fn validation(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::Validation(vec![FieldViolation::new(field, description)])
    }

    pub fn internal(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(cause))
    }
}

impl From<FieldViolation> for DomainError {
    fn from(violation: FieldViolation) -> Self {
        Self::Validation(vec![violation])
    }
}

impl From<sea_orm::DbErr> for DomainError {
    fn from(err: sea_orm::DbErr) -> Self {
        match crate::db::fault_of(&err) {
            crate::db::Fault::Unreachable => Self::Unavailable(Box::new(err)),
            crate::db::Fault::Contention => Self::Aborted(Box::new(err)),
            crate::db::Fault::Other => Self::internal(err),
        }
    }
}

/// The preconditions a well-formed request can fail, each with its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// The message cannot be delivered that way (no SMS transport, no
    /// verified phone).
    DeliveryUnavailable,
    /// The record was revoked and can no longer change.
    AlreadyRevoked,
}

impl Precondition {
    pub fn reason(self) -> ErrorReason {
        match self {
            Self::DeliveryUnavailable => ErrorReason::DeliveryUnavailable,
            Self::AlreadyRevoked => ErrorReason::AlreadyRevoked,
        }
    }
}

mod generated {
    include!(concat!(env!("OUT_DIR"), "/error_reason.rs"));
}
pub use generated::ErrorReason;

impl std::fmt::Display for ErrorReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<ErrorReason> for String {
    fn from(reason: ErrorReason) -> Self {
        reason.as_str().to_owned()
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
