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
    #[error("the request cannot be carried out in the current state")]
    Precondition(Vec<FieldViolation>),
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
    /// A revoked record (not the caller's credential) cannot be changed.
    #[error("the {resource} has been revoked")]
    Revoked { resource: &'static str },
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
    /// The stable UPPER_SNAKE_CASE reason carried in `google.rpc.ErrorInfo`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Validation(_) | Self::Precondition(_) => "VALIDATION_FAILED",
            Self::WeakPassword(_) => "WEAK_PASSWORD",
            Self::NotFound { .. } => "NOT_FOUND",
            Self::AlreadyExists(Conflict::Email) => "EMAIL_EXISTS",
            Self::AlreadyExists(Conflict::Username) => "USERNAME_EXISTS",
            Self::AlreadyExists(Conflict::Phone) => "PHONE_EXISTS",
            Self::AlreadyExists(Conflict::SocialAccount) => "SOCIAL_ACCOUNT_EXISTS",
            Self::AlreadyExists(Conflict::RequestId | Conflict::Other) => "ALREADY_EXISTS",
            Self::SetupAlreadyDone => "SETUP_ALREADY_DONE",
            Self::LastAdmin => "LAST_ADMIN",
            Self::LastSignInMethod => "LAST_SIGN_IN_METHOD",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::InvalidCredentials => "INVALID_CREDENTIALS",
            Self::TokenExpired => "TOKEN_EXPIRED",
            Self::TokenRevoked | Self::Revoked { .. } => "TOKEN_REVOKED",
            Self::AccountLocked { .. } => "ACCOUNT_LOCKED",
            Self::AccountDisabled => "ACCOUNT_DISABLED",
            Self::MfaRequired => "MFA_REQUIRED",
            Self::PasswordChangeRequired => "PASSWORD_CHANGE_REQUIRED",
            Self::ScopeMissing { .. } => "SCOPE_MISSING",
            Self::WrongPrincipal => "PERMISSION_DENIED",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::Unimplemented { .. } => "UNIMPLEMENTED",
            Self::Aborted(_) => "CONCURRENT_MODIFICATION",
            Self::MessageTooLarge => "MESSAGE_TOO_LARGE",
            Self::Cancelled => "CANCELLED",
            Self::Unavailable(_) => "UNAVAILABLE",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// Every reason the domain can produce; the server checks each one is
    /// documented in the proto `ErrorReason` enum.
    pub const ALL_REASONS: &'static [&'static str] = &[
        "VALIDATION_FAILED",
        "WEAK_PASSWORD",
        "NOT_FOUND",
        "EMAIL_EXISTS",
        "USERNAME_EXISTS",
        "PHONE_EXISTS",
        "SOCIAL_ACCOUNT_EXISTS",
        "ALREADY_EXISTS",
        "SETUP_ALREADY_DONE",
        "LAST_ADMIN",
        "LAST_SIGN_IN_METHOD",
        "UNAUTHENTICATED",
        "INVALID_CREDENTIALS",
        "TOKEN_EXPIRED",
        "TOKEN_REVOKED",
        "ACCOUNT_LOCKED",
        "ACCOUNT_DISABLED",
        "MFA_REQUIRED",
        "PASSWORD_CHANGE_REQUIRED",
        "SCOPE_MISSING",
        "PERMISSION_DENIED",
        "RATE_LIMITED",
        "UNIMPLEMENTED",
        "CONCURRENT_MODIFICATION",
        "MESSAGE_TOO_LARGE",
        "CANCELLED",
        "UNAVAILABLE",
        "INTERNAL",
    ];

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

pub type DomainResult<T> = Result<T, DomainError>;
