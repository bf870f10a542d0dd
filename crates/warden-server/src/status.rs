//! The one place a [`DomainError`] becomes a gRPC [`Status`]. Exhaustive on
//! purpose: a new error variant does not compile until it has a code here.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};
use warden_core::{DomainError, error::Conflict};

pub use crate::status_caps::cap_message;
use crate::status_caps::{add_violations, cap_metadata};

pub const ERROR_DOMAIN: &str = "warden";

pub fn to_status(err: DomainError) -> Status {
    let mut details = ErrorDetails::new();
    let mut metadata = HashMap::new();
    let reason = err.reason();
    let (code, message) = match &err {
        DomainError::Validation(violations) | DomainError::WeakPassword(violations) => {
            add_violations(&mut details, violations);
            (Code::InvalidArgument, err.to_string())
        }
        DomainError::Precondition(_, violations) => {
            add_violations(&mut details, violations);
            (Code::FailedPrecondition, err.to_string())
        }
        DomainError::NotFound { resource } => {
            metadata.insert("resource".to_owned(), (*resource).to_owned());
            (Code::NotFound, err.to_string())
        }
        DomainError::AlreadyExists(conflict) => {
            let field = match conflict {
                Conflict::Email => "email",
                Conflict::Username => "username",
                Conflict::Phone => "phone",
                Conflict::SocialAccount => "provider_user_id",
                Conflict::RequestId => "request_id",
                Conflict::Other => "",
            };
            if !field.is_empty() {
                metadata.insert("field".to_owned(), field.to_owned());
            }
            (Code::AlreadyExists, err.to_string())
        }
        DomainError::SetupAlreadyDone
        | DomainError::LastAdmin
        | DomainError::LastSignInMethod
        | DomainError::MfaRequired
        | DomainError::PasswordChangeRequired => (Code::FailedPrecondition, err.to_string()),
        DomainError::Unauthenticated
        | DomainError::InvalidCredentials
        | DomainError::TokenExpired
        | DomainError::TokenRevoked => (Code::Unauthenticated, err.to_string()),
        DomainError::AccountDisabled | DomainError::WrongPrincipal => {
            (Code::PermissionDenied, err.to_string())
        }
        DomainError::ScopeMissing { scope } => {
            metadata.insert("required_scope".to_owned(), scope.clone());
            (Code::PermissionDenied, err.to_string())
        }
        DomainError::AccountLocked { retry_after } | DomainError::RateLimited { retry_after } => {
            details.set_retry_info(Some(*retry_after));
            metadata.insert("retry_after_seconds".to_owned(), retry_after.as_secs().to_string());
            (Code::ResourceExhausted, err.to_string())
        }
        DomainError::Unimplemented { method } => {
            metadata.insert("method".to_owned(), method.clone());
            (Code::Unimplemented, err.to_string())
        }
        DomainError::Aborted(cause) => {
            tracing::info!(error = %error_chain(cause.as_ref()), "call aborted by a concurrent change");
            details.set_retry_info(Some(std::time::Duration::from_millis(100)));
            (Code::Aborted, err.to_string())
        }
        DomainError::MessageTooLarge => (Code::OutOfRange, err.to_string()),
        DomainError::Cancelled => (Code::Cancelled, err.to_string()),
        DomainError::Unavailable(cause) => {
            tracing::warn!(error = %error_chain(cause.as_ref()), "dependency unavailable");
            (Code::Unavailable, "the service is temporarily unavailable".to_owned())
        }
        DomainError::Internal(cause) => {
            tracing::error!(error = %error_chain(cause.as_ref()), "internal error");
            (Code::Internal, "internal error".to_owned())
        }
    };
    cap_metadata(&mut metadata);
    details.set_error_info(reason.as_str(), ERROR_DOMAIN, metadata);
    Status::with_error_details(code, cap_message(&message), details)
}

/// `outer: middle: root`, for the log line of an internal error.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use warden_core::{
        FieldViolation,
        error::{ErrorReason, Precondition},
    };

    use super::*;

    fn details_of(status: &Status) -> ErrorDetails {
        status.get_error_details()
    }

    #[test]
    fn validation_carries_reason_and_field_violations() {
        let status = to_status(DomainError::Validation(vec![
            FieldViolation::new("email", "must be a valid address"),
            FieldViolation::new("password", "must be at least 12 characters"),
        ]));
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = details_of(&status);
        let info = details.error_info().expect("error info");
        assert_eq!(info.reason, "VALIDATION_FAILED");
        assert_eq!(info.domain, "warden");
        let violations = &details.bad_request().expect("bad request").field_violations;
        assert_eq!(violations.len(), 2);
        assert_eq!(violations[0].field, "email");
    }

    #[test]
    fn lockout_carries_retry_info() {
        let status = to_status(DomainError::AccountLocked { retry_after: Duration::from_secs(30) });
        assert_eq!(status.code(), Code::ResourceExhausted);
        let details = details_of(&status);
        assert_eq!(details.error_info().map(|i| i.reason.as_str()), Some("ACCOUNT_LOCKED"));
        assert_eq!(details.retry_info().and_then(|r| r.retry_delay), Some(Duration::from_secs(30)));
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let cause =
            std::io::Error::other("SELECT * FROM admins WHERE password_hash = '$argon2id$'");
        let status = to_status(DomainError::internal(cause));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
        let encoded = format!("{:?}", status.details());
        assert!(!encoded.contains("SELECT"));
        assert!(!encoded.contains("argon2id"));
    }

    #[test]
    fn every_variant_maps_to_a_non_ok_code_with_error_info() {
        let samples = [
            DomainError::validation("f", "d"),
            DomainError::WeakPassword(vec![]),
            DomainError::Precondition(Precondition::DeliveryUnavailable, vec![]),
            DomainError::Precondition(Precondition::AlreadyRevoked, vec![]),
            DomainError::NotFound { resource: "user" },
            DomainError::AlreadyExists(Conflict::Email),
            DomainError::AlreadyExists(Conflict::Username),
            DomainError::AlreadyExists(Conflict::Phone),
            DomainError::AlreadyExists(Conflict::SocialAccount),
            DomainError::AlreadyExists(Conflict::RequestId),
            DomainError::AlreadyExists(Conflict::Other),
            DomainError::SetupAlreadyDone,
            DomainError::LastAdmin,
            DomainError::LastSignInMethod,
            DomainError::Unauthenticated,
            DomainError::InvalidCredentials,
            DomainError::TokenExpired,
            DomainError::TokenRevoked,
            DomainError::AccountLocked { retry_after: Duration::from_secs(1) },
            DomainError::AccountDisabled,
            DomainError::MfaRequired,
            DomainError::PasswordChangeRequired,
            DomainError::ScopeMissing { scope: "users:read".into() },
            DomainError::WrongPrincipal,
            DomainError::RateLimited { retry_after: Duration::from_secs(1) },
            DomainError::Unimplemented { method: "m".into() },
            DomainError::Aborted(Box::new(std::io::Error::other("deadlock"))),
            DomainError::MessageTooLarge,
            DomainError::Cancelled,
            DomainError::Unavailable(Box::new(std::io::Error::other("down"))),
            DomainError::internal(std::io::Error::other("boom")),
        ];
        let mut produced = std::collections::BTreeSet::new();
        for err in samples {
            produced.insert(err.reason());
            let reason = err.reason();
            let status = to_status(err);
            assert_ne!(status.code(), Code::Ok);
            let info = status.get_error_details().error_info().cloned().expect("error info");
            assert_eq!(info.reason, reason.as_str());
        }
        // Reasons only ever named elsewhere: by the wire layer for framework
        // errors, and in VerifyTokenResponse.reason.
        let elsewhere = [ErrorReason::TokenInvalid];
        for reason in ErrorReason::ALL {
            assert!(
                produced.contains(reason) || elsewhere.contains(reason),
                "{reason} is in the contract but no error carries it"
            );
        }
    }
}
