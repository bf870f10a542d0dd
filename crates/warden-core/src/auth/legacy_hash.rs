//! Password hashes brought in by ImportUsers from other systems: argon2id and
//! argon2i (PHC), bcrypt (`$2a$`, `$2b$`, `$2y$`), scrypt (PHC `$scrypt$`),
//! PBKDF2-SHA256 (PHC `$pbkdf2-sha256$`, and Django's `pbkdf2_sha256$…`).
//!
//! A hash is checked when it is imported (format and cost bounds, so a row
//! cannot plant a hash that makes one sign-in cost minutes or gigabytes) and
//! verified at sign-in on the blocking pool, after which sign-in replaces it
//! with an argon2id hash of today's parameters.

use argon2::{
    Argon2,
    password_hash::{PasswordVerifier as _, phc::PasswordHash},
};
use data_encoding::BASE64;
use tokio::sync::Semaphore;

use crate::{
    error::{DomainError, DomainResult, FieldViolation},
    secret::{SecretString, constant_time_eq},
};

/// Highest costs accepted from another system. Generous for real deployments
/// (OWASP's recommendations are well inside), bounded against abuse.
pub const MAX_ARGON2_MEMORY_KIB: u32 = 256 * 1024;
pub const MAX_ARGON2_ITERATIONS: u32 = 16;
pub const MAX_PARALLELISM: u32 = 16;
pub const BCRYPT_COSTS: std::ops::RangeInclusive<u32> = 4..=16;
/// scrypt's memory is 128 · r · 2^ln bytes.
pub const MAX_SCRYPT_MEMORY_BYTES: u64 = 256 * 1024 * 1024;
pub const PBKDF2_ITERATIONS: std::ops::RangeInclusive<u32> = 1_000..=10_000_000;

/// Legacy verifications running at once; the rest wait (like `Passwords`).
static PERMITS: Semaphore = Semaphore::const_new(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Argon2id,
    Argon2i,
    Bcrypt,
    Scrypt,
    Pbkdf2Sha256,
    /// `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`.
    DjangoPbkdf2Sha256,
}

impl Family {
    /// A name for audit metadata (never the hash itself).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Argon2id => "argon2id",
            Self::Argon2i => "argon2i",
            Self::Bcrypt => "bcrypt",
            Self::Scrypt => "scrypt",
            Self::Pbkdf2Sha256 => "pbkdf2-sha256",
            Self::DjangoPbkdf2Sha256 => "django-pbkdf2-sha256",
        }
    }

    /// Argon2 hashes go through `Passwords` (which also decides whether the
    /// parameters are current); the others only through this module.
    pub fn is_argon2(self) -> bool {
        matches!(self, Self::Argon2id | Self::Argon2i)
    }
}

/// The family of a well-formed hash within the cost bounds, or why not.
pub fn identify(hash: &str) -> Result<Family, &'static str> {
    if hash.len() > 512 || hash.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("is not a password hash");
    }
    if let Some(rest) = hash.strip_prefix("pbkdf2_sha256$") {
        return django_parts(rest).map(|_| Family::DjangoPbkdf2Sha256);
    }
    if ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) {
        let parts: bcrypt::HashParts = hash.parse().map_err(|_| "is not a valid bcrypt hash")?;
        if !BCRYPT_COSTS.contains(&parts.get_cost()) {
            return Err("has a bcrypt cost outside 4..=16");
        }
        return Ok(Family::Bcrypt);
    }
    let parsed = PasswordHash::new(hash).map_err(|_| {
        "must be a PHC ($argon2id$, $argon2i$, $scrypt$, $pbkdf2-sha256$) or bcrypt ($2b$) hash"
    })?;
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err("has no salt or no hash");
    }
    match parsed.algorithm.as_str() {
        "argon2id" | "argon2i" => {
            let params =
                argon2::Params::try_from(&parsed).map_err(|_| "has invalid argon2 parameters")?;
            if params.m_cost() > MAX_ARGON2_MEMORY_KIB
                || params.t_cost() > MAX_ARGON2_ITERATIONS
                || params.p_cost() > MAX_PARALLELISM
            {
                return Err("has argon2 costs above m=262144, t=16, p=16");
            }
            Ok(if parsed.algorithm.as_str() == "argon2id" {
                Family::Argon2id
            } else {
                Family::Argon2i
            })
        }
        "scrypt" => {
            let params =
                scrypt::Params::try_from(&parsed).map_err(|_| "has invalid scrypt parameters")?;
            let memory = 128u64.saturating_mul(u64::from(params.r())).saturating_mul(params.n());
            if memory > MAX_SCRYPT_MEMORY_BYTES || params.p() > MAX_PARALLELISM {
                return Err("has scrypt costs above 256 MiB or p=16");
            }
            Ok(Family::Scrypt)
        }
        "pbkdf2-sha256" => {
            let params =
                pbkdf2::Params::try_from(&parsed).map_err(|_| "has invalid pbkdf2 parameters")?;
            if !PBKDF2_ITERATIONS.contains(&params.rounds()) {
                return Err("has pbkdf2 iterations outside 1000..=10000000");
            }
            Ok(Family::Pbkdf2Sha256)
        }
        _ => {
            Err("uses an unsupported algorithm (argon2id, argon2i, bcrypt, scrypt, pbkdf2-sha256)")
        }
    }
}

/// [`identify`] as a field rule for requests.
pub fn check(field: &str, hash: &str) -> Result<Family, FieldViolation> {
    identify(hash).map_err(|why| FieldViolation::new(field, why))
}

/// Checks `password` against a stored hash of any supported family, on the
/// blocking pool. A hash that does not parse never matches.
pub async fn verify(password: &SecretString, stored: &str) -> DomainResult<bool> {
    let _permit = PERMITS.acquire().await.map_err(DomainError::internal)?;
    let password = password.clone();
    let stored = stored.to_owned();
    tokio::task::spawn_blocking(move || verify_now(password.expose().as_bytes(), &stored))
        .await
        .map_err(DomainError::internal)
}

/// The synchronous check; callers on the async runtime use [`verify`].
pub fn verify_now(password: &[u8], stored: &str) -> bool {
    let Ok(family) = identify(stored) else { return false };
    match family {
        Family::Bcrypt => bcrypt::verify(password, stored).unwrap_or(false),
        Family::DjangoPbkdf2Sha256 => verify_django(password, stored),
        Family::Argon2id | Family::Argon2i | Family::Scrypt | Family::Pbkdf2Sha256 => {
            let Ok(parsed) = PasswordHash::new(stored) else { return false };
            match family {
                Family::Scrypt => scrypt::Scrypt::new().verify_password(password, &parsed).is_ok(),
                Family::Pbkdf2Sha256 => {
                    pbkdf2::Pbkdf2::SHA256.verify_password(password, &parsed).is_ok()
                }
                _ => Argon2::default().verify_password(password, &parsed).is_ok(),
            }
        }
    }
}

/// Django: `pbkdf2_sha256$<iterations>$<salt>$<base64(32-byte hash)>`.
fn django_parts(rest: &str) -> Result<(u32, &str, Vec<u8>), &'static str> {
    let invalid = "is not a valid Django pbkdf2_sha256 hash";
    let mut parts = rest.split('$');
    let (Some(iterations), Some(salt), Some(hash), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid);
    };
    let iterations: u32 = iterations.parse().map_err(|_| invalid)?;
    if !PBKDF2_ITERATIONS.contains(&iterations) {
        return Err("has pbkdf2 iterations outside 1000..=10000000");
    }
    let hash = BASE64.decode(hash.as_bytes()).map_err(|_| invalid)?;
    if salt.is_empty() || hash.len() != 32 {
        return Err(invalid);
    }
    Ok((iterations, salt, hash))
}

fn verify_django(password: &[u8], stored: &str) -> bool {
    let Some(rest) = stored.strip_prefix("pbkdf2_sha256$") else { return false };
    let Ok((iterations, salt, expected)) = django_parts(rest) else { return false };
    let mut computed = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt.as_bytes(), iterations, &mut computed);
    constant_time_eq(&computed, &expected)
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::PasswordHasher as _;

    use super::*;

    const PASSWORD: &[u8] = b"correct horse battery";

    fn samples() -> Vec<(Family, String)> {
        let salt = [7u8; 16];
        let argon2i = Argon2::new(
            argon2::Algorithm::Argon2i,
            argon2::Version::V0x13,
            argon2::Params::new(256, 1, 1, None).unwrap(),
        );
        let scrypt_params = scrypt::Params::new(4, 8, 1).unwrap();
        let pbkdf2 = pbkdf2::Pbkdf2::new(
            pbkdf2::Algorithm::Pbkdf2Sha256,
            pbkdf2::Params::new(1_000).unwrap(),
        );
        let mut django = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(PASSWORD, b"somesalt", 1_000, &mut django);
        vec![
            (
                Family::Argon2i,
                argon2i.hash_password_with_salt(PASSWORD, &salt).unwrap().to_string(),
            ),
            (Family::Bcrypt, bcrypt::hash(PASSWORD, 4).unwrap()),
            (
                Family::Scrypt,
                scrypt::Scrypt::new_with_params(scrypt_params)
                    .hash_password_with_salt(PASSWORD, &salt)
                    .unwrap()
                    .to_string(),
            ),
            (
                Family::Pbkdf2Sha256,
                pbkdf2.hash_password_with_salt(PASSWORD, &salt).unwrap().to_string(),
            ),
            (
                Family::DjangoPbkdf2Sha256,
                format!("pbkdf2_sha256$1000$somesalt${}", BASE64.encode(&django)),
            ),
        ]
    }

    #[test]
    fn every_family_is_identified_and_verifies() {
        for (family, hash) in samples() {
            assert_eq!(identify(&hash), Ok(family), "{hash}");
            assert!(verify_now(PASSWORD, &hash), "{family:?} should match");
            assert!(!verify_now(b"wrong password", &hash), "{family:?} should not match");
        }
    }

    #[test]
    fn bcrypt_variants_are_accepted() {
        let hash = bcrypt::hash(PASSWORD, 4).unwrap();
        for prefix in ["$2a$", "$2y$"] {
            let variant = format!("{prefix}{}", &hash[4..]);
            assert_eq!(identify(&variant), Ok(Family::Bcrypt));
            assert!(verify_now(PASSWORD, &variant));
        }
    }

    #[test]
    fn garbled_unknown_and_costly_hashes_are_refused() {
        for bad in [
            "",
            "plaintext",
            "$argon2id$v=19$m=19456,t=2,p=1$garbled",
            "$argon2d$v=19$m=256,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "$md5$abc$def",
            "$1$saltsalt$hash",
            "$2b$04$short",
            "$2x$04$abcdefghijklmnopqrstuuEiB5bq6bmbVHLpSmdu2e8v2Yv.o.gS2",
            "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "$scrypt$ln=30,r=8,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "pbkdf2_sha256$100$salt$notbase64",
            "pbkdf2_sha256$1000$salt",
        ] {
            assert!(identify(bad).is_err(), "{bad}");
            assert!(!verify_now(PASSWORD, bad));
        }
        let costly = bcrypt::hash(PASSWORD, 4).unwrap().replacen("$04$", "$20$", 1);
        assert!(identify(&costly).is_err());
    }

    #[tokio::test]
    async fn verification_runs_off_the_runtime() {
        let (_, hash) = samples().swap_remove(1);
        let password = SecretString::new(String::from_utf8(PASSWORD.to_vec()).unwrap());
        assert!(verify(&password, &hash).await.unwrap());
        assert!(!verify(&SecretString::new("nope".into()), &hash).await.unwrap());
    }
}
