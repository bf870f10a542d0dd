//! Notifier configuration. The server embeds [`NotifierSettings`] in its
//! config (key `notifier`), so the layered loader rejects unknown keys here too.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::secret::SecretString;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifierSettings {
    /// `log` (default, development) or `smtp`.
    pub transport: TransportKind,
    pub smtp: SmtpSettings,
    /// How often the worker looks for due messages when the outbox is idle.
    pub poll_interval_ms: u64,
    /// Attempts before a message is marked failed and left alone.
    pub max_attempts: u32,
    /// Messages claimed per pass.
    pub batch_size: u64,
    /// Delay after the first failed attempt; doubles per attempt.
    pub retry_base_seconds: u64,
    /// Upper bound for the retry delay.
    pub retry_max_seconds: u64,
    /// How long a claimed message is reserved for the replica sending it. It
    /// must outlast one send; if the sender dies, the message is retried after it.
    pub lease_seconds: u64,
}

impl Default for NotifierSettings {
    fn default() -> Self {
        Self {
            transport: TransportKind::default(),
            smtp: SmtpSettings::default(),
            poll_interval_ms: 500,
            max_attempts: 8,
            batch_size: 20,
            retry_base_seconds: 5,
            retry_max_seconds: 3600,
            lease_seconds: 120,
        }
    }
}

impl NotifierSettings {
    /// The wait after the `attempt`-th failed attempt (1-based):
    /// `retry_base_seconds * 2^(attempt-1)`, capped at `retry_max_seconds`.
    pub fn retry_delay(&self, attempt: u32) -> chrono::Duration {
        let factor = 1u64.checked_shl(attempt.saturating_sub(1)).unwrap_or(u64::MAX);
        let secs = self.retry_base_seconds.saturating_mul(factor).min(self.retry_max_seconds);
        chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX))
    }

    pub fn lease(&self) -> chrono::Duration {
        chrono::Duration::seconds(i64::try_from(self.lease_seconds).unwrap_or(i64::MAX))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// Writes messages to the log; for development only.
    #[default]
    Log,
    Smtp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// Set together with `password` to authenticate (PLAIN or LOGIN).
    pub username: Option<String>,
    pub password: Option<SmtpPassword>,
    /// The From header and envelope sender, e.g. `Warden <no-reply@example.com>`.
    pub from: String,
    pub tls: SmtpTls,
    /// Per SMTP command, including connecting.
    pub timeout_seconds: u64,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: "localhost".to_owned(),
            port: 587,
            username: None,
            password: None,
            from: "Warden <no-reply@localhost>".to_owned(),
            tls: SmtpTls::default(),
            timeout_seconds: 10,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text; only for a trusted local relay or tests.
    None,
    /// Plain connect, then STARTTLS is required (typically port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (implicit TLS, typically port 465).
    Tls,
}

/// The SMTP password: redacted in Debug, so settings can be logged.
///
/// It serializes to its real value on purpose: the config loader round-trips
/// layers through serde, and a redacting Serialize would silently replace the
/// password with a placeholder. Never serialize settings into logs.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpPassword(SecretString);

impl SmtpPassword {
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::new(value.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl std::fmt::Debug for SmtpPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmtpPassword(<redacted>)")
    }
}

impl Serialize for SmtpPassword {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for SmtpPassword {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}
