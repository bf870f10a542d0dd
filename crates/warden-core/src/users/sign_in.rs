//! End-user sign-in with a password (SessionsService.CreateSession): the
//! account lookup (email, username or phone) and the final checks that
//! `auth::sign_in` asks of each account kind. Lockout for known and unknown
//! identifiers alike, the dummy hash and upgrading imported hashes are the
//! shared sign-in's. A disabled account is only told after a correct
//! password; `must_change_password` (and MFA) answer a challenge, not tokens.

mod challenge;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{Users, fields::Username, view};
use crate::{
    audit::{self, Event},
    auth::{
        lockout::AccountKind,
        sessions,
        sign_in::{Attempt, Credentials, Proven, record_success},
        tokens::access::Subject,
    },
    context::{Actor, CallInfo, Context},
    entity::users,
    error::{DomainError, DomainResult},
    secret::SecretString,
    values::Email,
};

/// How long a sign-in challenge token can be answered.
pub const CHALLENGE_TTL_SECONDS: i64 = 300;
/// `verification_tokens.purpose` of the challenge tokens (VerifyChallenge
/// consumes them).
pub const PASSWORD_CHANGE_CHALLENGE: &str = "sign_in_password_change";
pub const MFA_CHALLENGE: &str = "sign_in_mfa";

/// The audit action of end-user sign-ins, successful or not.
const ACTION: &str = "user.sign_in";

#[derive(Debug, Clone)]
pub struct SignInRequest {
    /// The identifier is an email, username or E.164 phone.
    pub credentials: Credentials,
    /// The end user's device as the relaying service saw it; recorded on the
    /// session (the call's own peer is the relaying service).
    pub client: CallInfo,
}

#[derive(Debug, Clone)]
pub struct UserTokens {
    pub access_token: String,
    pub refresh_token: SecretString,
    pub expires_in: i64,
    pub session_id: Uuid,
    pub user_id: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeKind {
    PasswordChangeRequired,
    MfaRequired,
}

#[derive(Debug, Clone)]
pub struct Challenge {
    pub kind: ChallengeKind,
    /// Opaque and single-use; only its digest is stored.
    pub token: SecretString,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub enum SignedIn {
    Tokens(UserTokens),
    Challenge(Challenge),
}

impl Users {
    pub async fn sign_in(&self, ctx: &Context, request: SignInRequest) -> DomainResult<SignedIn> {
        let credentials = &request.credentials;
        let (user, identifier) = self.find_by_identifier(&credentials.identifier).await?;
        let attempt = Attempt { ctx, action: ACTION };
        let password = &credentials.password;
        let Proven { account: user, rehash, upgraded_from } =
            self.auth.check_password(attempt, &identifier, user, password).await?;
        let now = self.now();
        if !view::is_active_at(&user, now) {
            let err = DomainError::AccountDisabled;
            return self.auth.refuse(attempt, AccountKind::User, Some(user.id), err).await;
        }
        let challenge = if user.must_change_password {
            Some(ChallengeKind::PasswordChangeRequired)
        } else if user.mfa_enabled {
            Some(ChallengeKind::MfaRequired)
        } else {
            None
        };
        let ctx = Context { actor: Actor::User(user.id), ..ctx.clone() };
        let txn = crate::db::begin_write(&self.db).await?;
        let signed_in_at = challenge.is_none().then_some(now);
        record_success(&txn, AccountKind::User, user.id, rehash, signed_in_at).await?;

        if let Some(kind) = challenge {
            let challenge = challenge::open_challenge(&txn, user.id, kind, now).await?;
            let event = Event::new("user.sign_in_challenge")
                .target("user", user.id)
                .meta("challenge", challenge::challenge_reason(kind));
            audit::record(&txn, &ctx, with_upgrade(event, upgraded_from), now).await?;
            txn.commit().await?;
            self.auth.count_sign_in(AccountKind::User, true);
            return Ok(SignedIn::Challenge(challenge));
        }
        let tokens = self.auth.tokens();
        let ttl = Duration::seconds(tokens.settings().refresh_ttl_seconds as i64);
        let session =
            sessions::open(&txn, sessions::USER, user.id, &request.client, now, ttl).await?;
        let refresh_token = sessions::mint_refresh(&txn, &session, now).await?;
        let event =
            Event::new(ACTION).target("user", user.id).meta("session_id", session.id.to_string());
        audit::record(&txn, &ctx, with_upgrade(event, upgraded_from), now).await?;
        txn.commit().await?;

        let audience = &tokens.settings().user_audience;
        let access = tokens.issue(Subject::User, user.id, session.id, audience, now)?;
        self.auth.count_sign_in(AccountKind::User, false);
        Ok(SignedIn::Tokens(UserTokens {
            access_token: access.token,
            refresh_token,
            expires_in: access.expires_in,
            session_id: session.id,
            user_id: user.id,
        }))
    }

    /// By email (normalized), E.164 phone, or username (normalized), with the
    /// identifier as normalized (the key of its lockout counter). Input that
    /// cannot be any of them finds nobody, like an unknown one.
    async fn find_by_identifier(
        &self,
        identifier: &str,
    ) -> DomainResult<(Option<users::Model>, String)> {
        let identifier = identifier.trim();
        let (column, normalized) = if identifier.contains('@') {
            let email = Email::parse("identifier", identifier);
            (users::Column::EmailNormalized, email.map(|e| e.normalized().to_owned()))
        } else if identifier.starts_with('+') {
            (users::Column::Phone, Ok(identifier.to_owned()))
        } else {
            let username = Username::parse("identifier", identifier);
            (users::Column::UsernameNormalized, username.map(|u| u.normalized().to_owned()))
        };
        let Ok(normalized) = normalized else {
            return Ok((None, identifier.to_lowercase()));
        };
        let filter = column.eq(normalized.clone());
        let user = users::Entity::find().filter(filter).one(&self.db).await?;
        Ok((user, normalized))
    }
}

/// Names the replaced hash's family in the audit row (never the hash).
fn with_upgrade(event: Event, upgrade_from: Option<&'static str>) -> Event {
    match upgrade_from {
        Some(family) => {
            event.meta("password_upgraded", true).meta("password_upgraded_from", family)
        }
        None => event,
    }
}
