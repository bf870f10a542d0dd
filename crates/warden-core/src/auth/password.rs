//! Passwords: argon2id, hashed on tokio's blocking pool behind a semaphore so
//! a burst of sign-ins never starves other RPCs of worker threads. An unknown
//! account is verified against a dummy hash so it costs the same as a wrong
//! password.

use std::sync::Arc;

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHasher as _, PasswordVerifier as _, phc::PasswordHash},
};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::{
    error::{DomainError, DomainResult, FieldViolation},
    secret::{SecretString, random_bytes},
    values::Invalid,
};

pub const MAX_PASSWORD_CHARS: usize = 1024;
pub const ADMIN_MIN_PASSWORD_CHARS: usize = 12;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordSettings {
    /// argon2id memory cost in KiB (OWASP: 19456).
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Hashes computed at once; the rest wait their turn.
    pub max_concurrent_hashes: usize,
    /// The zxcvbn score (0-4) a new password must reach. 3 means "more than
    /// 10^8 guesses": common passwords, dictionary words with digits appended
    /// and keyboard walks are refused.
    pub min_strength: u8,
}

impl Default for PasswordSettings {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            max_concurrent_hashes: 2,
            min_strength: 3,
        }
    }
}

/// The result of checking a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    Match { needs_rehash: bool },
    NoMatch,
}

#[derive(Clone)]
pub struct Passwords {
    argon2: Argon2<'static>,
    permits: Arc<Semaphore>,
    dummy_hash: Arc<String>,
    min_strength: u8,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords").finish_non_exhaustive()
    }
}

impl Passwords {
    pub fn new(settings: &PasswordSettings) -> DomainResult<Self> {
        let params =
            Params::new(settings.memory_kib, settings.iterations, settings.parallelism, None)
                .map_err(|err| DomainError::internal(std::io::Error::other(err.to_string())))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy_hash = hash_with(&argon2, "an account that does not exist")?;
        Ok(Self {
            argon2,
            permits: Arc::new(Semaphore::new(settings.max_concurrent_hashes.max(1))),
            dummy_hash: Arc::new(dummy_hash),
            min_strength: settings.min_strength.min(4),
        })
    }

    /// The policy for one kind of account's new passwords: at least
    /// `min_chars` characters (and at most 1024), and not guessable.
    pub fn policy(&self, min_chars: usize) -> PasswordPolicy<'_> {
        PasswordPolicy { passwords: self, min_chars }
    }

    /// A PHC string (`$argon2id$v=19$m=…`).
    pub async fn hash(&self, password: &SecretString) -> DomainResult<String> {
        let argon2 = self.argon2.clone();
        let password = password.clone();
        self.blocking(move || hash_with(&argon2, password.expose())).await?
    }

    /// Checks `password` against `stored`; with no stored hash (unknown account,
    /// or one without a password) the work is done against a dummy all the same.
    pub async fn verify(
        &self,
        password: &SecretString,
        stored: Option<&str>,
    ) -> DomainResult<Verified> {
        let argon2 = self.argon2.clone();
        let password = password.clone();
        let exists = stored.is_some();
        let stored = stored.map_or_else(|| self.dummy_hash.as_str().to_owned(), str::to_owned);
        self.blocking(move || {
            let parsed = PasswordHash::new(&stored)
                .map_err(|err| DomainError::internal(std::io::Error::other(err.to_string())))?;
            let matched = argon2.verify_password(password.expose().as_bytes(), &parsed).is_ok();
            Ok(match (matched && exists, needs_rehash(&argon2, &parsed)) {
                (true, needs_rehash) => Verified::Match { needs_rehash },
                (false, _) => Verified::NoMatch,
            })
        })
        .await?
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> DomainResult<T> {
        let _permit = self.permits.acquire().await.map_err(DomainError::internal)?;
        tokio::task::spawn_blocking(work).await.map_err(DomainError::internal)
    }
}

/// A password that passed the policy (or was generated): the only kind a
/// use case stores. Imported hashes are not passwords and never pass here.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct NewPassword(SecretString);

impl NewPassword {
    /// A password the server generated from the CSPRNG: strong by construction.
    pub(crate) fn generated(secret: SecretString) -> Self {
        Self(secret)
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }

    pub fn into_secret(self) -> SecretString {
        self.0
    }
}

/// The rules every new password meets (admins, users, resets, plaintext
/// imports; never imported hashes). Borrowed from [`Passwords::policy`].
#[derive(Clone, Copy, Debug)]
pub struct PasswordPolicy<'a> {
    passwords: &'a Passwords,
    min_chars: usize,
}

impl PasswordPolicy<'_> {
    /// `min..=1024` characters, and not guessable. `hints` are the account's
    /// own words (email, names), which make a password weak when it is built
    /// from them. Too short or guessable is a weak password (WEAK_PASSWORD
    /// when nothing else is wrong); too long is plainly invalid.
    pub fn parse(
        &self,
        field: &str,
        raw: SecretString,
        hints: &[&str],
    ) -> Result<NewPassword, Invalid> {
        check_length(field, &raw, self.min_chars)?;
        // zxcvbn matches whole words: give it the hints' parts too (the local
        // part of an email, its dotted pieces), so "jane.doe" counts as known.
        let mut words: Vec<&str> = Vec::new();
        for hint in hints.iter().filter(|h| !h.is_empty()) {
            words.push(hint);
            if let Some((local, _)) = hint.split_once('@') {
                words.push(local);
            }
            words.extend(hint.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() >= 3));
        }
        let estimate = zxcvbn::zxcvbn(raw.expose(), &words);
        if u8::from(estimate.score()) >= self.passwords.min_strength {
            return Ok(NewPassword(raw));
        }
        let why = estimate
            .feedback()
            .and_then(|feedback| feedback.warning())
            .map(|warning| {
                format!(": {}", warning.to_string().trim_end_matches('.').to_lowercase())
            })
            .unwrap_or_default();
        Err(Invalid::weak_password(FieldViolation::new(
            field,
            format!("is too easy to guess{why}; use a longer passphrase of uncommon words"),
        )))
    }
}

fn hash_with(argon2: &Argon2<'_>, password: &str) -> DomainResult<String> {
    argon2
        .hash_password_with_salt(password.as_bytes(), &random_bytes::<16>())
        .map(|hash| hash.to_string())
        .map_err(|err| DomainError::internal(std::io::Error::other(err.to_string())))
}

/// True when the stored hash is not argon2id with today's parameters.
fn needs_rehash(argon2: &Argon2<'_>, stored: &PasswordHash) -> bool {
    let current = argon2.params();
    let Ok(params) = Params::try_from(stored) else { return true };
    stored.algorithm.as_str() != "argon2id"
        || params.m_cost() != current.m_cost()
        || params.t_cost() != current.t_cost()
        || params.p_cost() != current.p_cost()
}

/// Length rules: at least `min` characters, at most 1024.
fn check_length(field: &str, password: &SecretString, min: usize) -> Result<(), Invalid> {
    let chars = password.expose().chars().count();
    if chars > MAX_PASSWORD_CHARS {
        let too_long = format!("must be at most {MAX_PASSWORD_CHARS} characters");
        return Err(FieldViolation::new(field, too_long).into());
    }
    if chars < min {
        let too_short = format!("must be at least {min} characters");
        return Err(Invalid::weak_password(FieldViolation::new(field, too_short)));
    }
    Ok(())
}

/// A password presented to sign in or to prove who one is: given, and no
/// longer than any password could be (the hasher never sees megabytes).
pub fn presented(field: &str, raw: String) -> Result<SecretString, FieldViolation> {
    if raw.is_empty() {
        return Err(FieldViolation::new(field, "is required"));
    }
    if raw.chars().count() > MAX_PASSWORD_CHARS {
        let too_long = format!("must be at most {MAX_PASSWORD_CHARS} characters");
        return Err(FieldViolation::new(field, too_long));
    }
    Ok(SecretString::new(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> Passwords {
        Passwords::new(&PasswordSettings { memory_kib: 256, iterations: 1, ..Default::default() })
            .unwrap()
    }

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let passwords = fast();
        let secret = SecretString::new("correct horse battery".into());
        let hash = passwords.hash(&secret).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=256,t=1,p=1$"));
        assert_eq!(
            passwords.verify(&secret, Some(&hash)).await.unwrap(),
            Verified::Match { needs_rehash: false }
        );
        let wrong = SecretString::new("wrong".into());
        assert_eq!(passwords.verify(&wrong, Some(&hash)).await.unwrap(), Verified::NoMatch);
        assert_eq!(passwords.verify(&secret, None).await.unwrap(), Verified::NoMatch);
    }

    #[tokio::test]
    async fn changed_parameters_ask_for_a_rehash() {
        let old = fast();
        let secret = SecretString::new("correct horse battery".into());
        let hash = old.hash(&secret).await.unwrap();
        let new = Passwords::new(&PasswordSettings {
            memory_kib: 512,
            iterations: 1,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            new.verify(&secret, Some(&hash)).await.unwrap(),
            Verified::Match { needs_rehash: true }
        );
    }

    #[test]
    fn common_and_guessable_passwords_are_weak() {
        let passwords = fast();
        let weak = [
            "password123",
            "Password123!",
            "passwordpassword",
            "123456789012",
            "qwertyuiopasdf",
            "alice.smith@example.com",
        ];
        let policy = passwords.policy(8);
        for password in weak {
            let result = policy
                .parse("password", SecretString::new(password.into()), &["alice.smith@example.com"])
                .map_err(DomainError::from);
            assert!(matches!(result, Err(DomainError::WeakPassword(_))), "{password} passed");
        }
        for strong in ["correct horse battery staple", "vX9#qLm2$Rt7!wPz", "long enough password"] {
            let result =
                passwords.policy(12).parse("password", SecretString::new(strong.into()), &[]);
            assert!(result.is_ok(), "{strong} refused: {result:?}");
        }
    }

    #[test]
    fn length_rules() {
        let length = |password: String| {
            check_length("password", &SecretString::new(password), 12).map_err(DomainError::from)
        };
        assert!(matches!(length("short".into()), Err(DomainError::WeakPassword(_))));
        assert!(matches!(length("x".repeat(1025)), Err(DomainError::Validation(_))));
        assert!(length("x".repeat(12)).is_ok());
        assert!(presented("password", String::new()).is_err());
        assert!(presented("password", "x".repeat(1025)).is_err());
    }
}
