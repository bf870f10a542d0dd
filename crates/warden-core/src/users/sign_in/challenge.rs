//! The challenge a sign-in may end in: a single-use token, stored as a
//! digest, that VerifyChallenge answers.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

use super::{
    CHALLENGE_TTL_SECONDS, Challenge, ChallengeKind, MFA_CHALLENGE, PASSWORD_CHANGE_CHALLENGE,
};
use crate::{
    auth::{sessions, tokens::refresh},
    entity::verification_tokens,
    error::DomainResult,
};

/// Stores a single-use challenge token (its digest) for `user_id`.
pub(super) async fn open_challenge<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    kind: ChallengeKind,
    now: DateTime<Utc>,
) -> DomainResult<Challenge> {
    let (token, digest) = refresh::generate();
    let expires_at = now + Duration::seconds(CHALLENGE_TTL_SECONDS);
    let purpose = match kind {
        ChallengeKind::PasswordChangeRequired => PASSWORD_CHANGE_CHALLENGE,
        ChallengeKind::MfaRequired => MFA_CHALLENGE,
    };
    verification_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        purpose: Set(purpose.to_owned()),
        principal_type: Set(sessions::USER.to_owned()),
        principal_id: Set(user_id),
        token_digest: Set(digest),
        created_at: Set(now),
        expires_at: Set(expires_at),
        consumed_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(Challenge { kind, token, expires_at })
}

pub(super) fn challenge_reason(kind: ChallengeKind) -> &'static str {
    match kind {
        ChallengeKind::PasswordChangeRequired => "PASSWORD_CHANGE_REQUIRED",
        ChallengeKind::MfaRequired => "MFA_REQUIRED",
    }
}
