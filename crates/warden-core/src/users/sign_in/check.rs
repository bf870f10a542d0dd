//! The password check of a sign-in (argon2 through `Passwords`, anything
//! imported through `legacy_hash`) and the challenge a sign-in may end in.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

use super::{
    CHALLENGE_TTL_SECONDS, Challenge, ChallengeKind, MFA_CHALLENGE, PASSWORD_CHANGE_CHALLENGE,
};
use crate::{
    entity::verification_tokens,
    error::DomainResult,
    password::Verified,
    secret::SecretString,
    sessions,
    tokens::refresh,
    users::{Users, legacy_hash},
};

pub(super) enum Checked {
    /// `upgrade_from`: the stored hash is not today's argon2id; its family.
    Match {
        upgrade_from: Option<&'static str>,
    },
    NoMatch,
}

impl Users {
    /// Argon2 hashes (ours, or imported argon2i/argon2id) go through the
    /// bounded hasher, which also says whether the parameters are current;
    /// other families through `legacy_hash`. No hash at all costs a dummy
    /// verification, like an unknown account.
    pub(super) async fn check_password(
        &self,
        password: &SecretString,
        stored: Option<&str>,
    ) -> DomainResult<Checked> {
        let Some(stored) = stored else {
            self.passwords.verify(password, None).await?;
            return Ok(Checked::NoMatch);
        };
        if stored.starts_with("$argon2") {
            let family = if stored.starts_with("$argon2id$") { "argon2id" } else { "argon2i" };
            return Ok(match self.passwords.verify(password, Some(stored)).await? {
                Verified::Match { needs_rehash } => {
                    Checked::Match { upgrade_from: needs_rehash.then_some(family) }
                }
                Verified::NoMatch => Checked::NoMatch,
            });
        }
        if legacy_hash::verify(password, stored).await? {
            let family =
                legacy_hash::identify(stored).map_or("unknown", legacy_hash::Family::as_str);
            return Ok(Checked::Match { upgrade_from: Some(family) });
        }
        Ok(Checked::NoMatch)
    }
}

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
