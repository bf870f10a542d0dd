//! Configuration, layered: defaults -> TOML file -> `WARDEN_*` env (`__` nests)
//! -> `WARDEN_*_FILE` secrets (Kubernetes) -> command-line flags. Unknown keys
//! are errors that name the key, so a typo never silently falls back.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
    value::{Dict, Value},
};
use serde::{Deserialize, Serialize};
use warden_core::{
    admin_auth::PasswordResetSettings,
    auth::{lockout::LockoutSettings, password::PasswordSettings, tokens::TokenSettings},
    notify::NotifierSettings,
    users::UserSettings,
};

const ENV_PREFIX: &str = "WARDEN_";
/// A variable `WARDEN_X_FILE=/path` sets key `x` to the file's contents.
const FILE_SUFFIX: &str = "_FILE";
/// Variables under the prefix that are not config keys: the config file's
/// path, and `WARDEN_TEST_*`, which belong to the test suite.
fn is_config_key(key: &str) -> bool {
    let key = key.to_ascii_uppercase();
    key != "CONFIG" && !key.starts_with("TEST_")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the gRPC server binds; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Where the embedded SQLite database lives when no `database_url` is set.
    pub data_dir: PathBuf,
    /// `postgres://…` or `sqlite://…`; empty means SQLite under `data_dir`.
    pub database_url: Option<String>,
    pub database: DatabaseConfig,
    pub server: ServerConfig,
    pub log: LogConfig,
    pub auth: AuthConfig,
    pub users: UserSettings,
    pub notifier: NotifierSettings,
    pub metrics: crate::metrics::MetricsConfig,
}

/// Sign-in, tokens and passwords.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    pub tokens: TokenSettings,
    pub password: PasswordSettings,
    pub lockout: LockoutSettings,
    pub password_reset: PasswordResetSettings,
    pub rate_limit: RateLimitConfig,
}

/// Per-peer limit on the unauthenticated sign-in RPCs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    pub per_minute: u32,
    pub burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self { per_minute: 60, burst: 20 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub max_connections: u32,
    pub acquire_timeout_seconds: u64,
    /// Apply pending migrations on start (`warden migrate` does it explicitly).
    pub migrate_on_start: bool,
    /// How often health re-checks the database.
    pub health_check_interval_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// After SIGTERM, health reports NOT_SERVING this long before draining, so
    /// load balancers stop sending new calls first.
    pub drain_delay_seconds: u64,
    /// In-flight calls get this long to finish once draining starts.
    pub shutdown_grace_seconds: u64,
    /// Connections are closed after this age so new replicas receive traffic.
    pub max_connection_age_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `json` (default) or `pretty`.
    pub format: LogFormat,
    /// A tracing `EnvFilter` directive; `RUST_LOG` wins when set.
    pub filter: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            database: DatabaseConfig::default(),
            server: ServerConfig::default(),
            log: LogConfig::default(),
            auth: AuthConfig::default(),
            users: UserSettings::default(),
            notifier: NotifierSettings::default(),
            metrics: crate::metrics::MetricsConfig::default(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout_seconds: 5,
            migrate_on_start: true,
            health_check_interval_seconds: 5,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self { drain_delay_seconds: 5, shutdown_grace_seconds: 25, max_connection_age_seconds: 300 }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: LogFormat::Json, filter: "info".to_owned() }
    }
}

impl Config {
    /// The database URL in effect: the configured one, or SQLite in `data_dir`.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.clone(),
            _ => warden_core::db::sqlite_url_in(&self.data_dir),
        }
    }

    pub fn pool_settings(&self) -> warden_core::db::PoolSettings {
        warden_core::db::PoolSettings {
            max_connections: self.database.max_connections.max(1),
            acquire_timeout: Duration::from_secs(self.database.acquire_timeout_seconds.max(1)),
        }
    }
}

/// Values given on the command line; `None` leaves the lower layers alone.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    #[error("cannot read secret file {path} (from {var}): {source}")]
    SecretFile { var: String, path: String, source: std::io::Error },
}

/// Loads the layered configuration from this process's environment.
pub fn load(file: Option<&std::path::Path>, flags: &Overrides) -> Result<Config, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    if let Some(path) = file {
        figment = figment.merge(Toml::file_exact(path));
    }
    let secrets = secret_files(std::env::vars())?;
    figment = figment
        .merge(
            Env::prefixed(ENV_PREFIX)
                .filter(|key| {
                    let key = key.as_str();
                    !key.to_ascii_uppercase().ends_with(FILE_SUFFIX) && is_config_key(key)
                })
                .split("__"),
        )
        .merge(Serialized::defaults(secrets))
        .merge(Serialized::defaults(flags));
    figment.extract().map_err(|err| ConfigError::Invalid(Box::new(err)))
}

/// `WARDEN_DATABASE_URL_FILE=/run/secrets/db` -> `database_url = <contents>`.
fn secret_files(env: impl Iterator<Item = (String, String)>) -> Result<Dict, ConfigError> {
    let mut root = Dict::new();
    for (name, path) in env {
        let Some(key) = name
            .strip_prefix(ENV_PREFIX)
            .and_then(|k| k.strip_suffix(FILE_SUFFIX))
            .filter(|k| is_config_key(k))
        else {
            continue;
        };
        let key = key.to_owned();
        let contents = std::fs::read_to_string(&path).map_err(|source| {
            ConfigError::SecretFile { var: name.clone(), path: path.clone(), source }
        })?;
        let value = Value::from(contents.trim_end_matches(['\r', '\n']).to_owned());
        insert_nested(&mut root, &key.to_lowercase(), value);
    }
    Ok(root)
}

fn insert_nested(dict: &mut Dict, dotted: &str, value: Value) {
    match dotted.split_once("__") {
        None => {
            dict.insert(dotted.to_owned(), value);
        }
        Some((head, rest)) => {
            let entry = dict.entry(head.to_owned()).or_insert_with(|| Value::from(Dict::new()));
            if let Value::Dict(_, inner) = entry {
                insert_nested(inner, rest, value);
            }
        }
    }
}

#[cfg(test)]
// figment's Jail closures return its (large) error type by design.
#[allow(clippy::result_large_err)]
mod tests {
    use figment::Jail;

    use super::*;

    #[test]
    fn no_configuration_means_loopback_and_sqlite_in_data() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            let config = load(None, &Overrides::default()).expect("defaults load");
            assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 50051)));
            assert_eq!(config.effective_database_url(), "sqlite://./data/warden.db?mode=rwc");
            Ok(())
        });
    }

    #[test]
    fn layers_apply_in_order_file_env_secret_flags() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("WARDEN_TEST_POSTGRES_URL", "belongs to the test suite, not the server");
            jail.create_file(
                "warden.toml",
                "listen = \"127.0.0.1:1000\"\ndata_dir = \"/from/file\"\n[log]\nformat = \"pretty\"\n",
            )?;
            jail.create_file("db-secret", "postgres://secret@db/warden\n")?;
            jail.set_env("WARDEN_LISTEN", "127.0.0.1:2000");
            jail.set_env("WARDEN_SERVER__DRAIN_DELAY_SECONDS", "1");
            jail.set_env("WARDEN_DATABASE_URL_FILE", "db-secret");
            let flags = Overrides { data_dir: Some("/from/flag".into()), ..Overrides::default() };
            let config = load(Some("warden.toml".as_ref()), &flags).expect("layers load");
            assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 2000)));
            assert_eq!(config.data_dir, PathBuf::from("/from/flag"));
            assert_eq!(config.log.format, LogFormat::Pretty);
            assert_eq!(config.server.drain_delay_seconds, 1);
            assert_eq!(config.effective_database_url(), "postgres://secret@db/warden");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_rejected_by_name() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("WARDEN_LISTEN_ADDR", "127.0.0.1:1");
            let err = load(None, &Overrides::default()).expect_err("unknown env key");
            assert!(err.to_string().contains("listen_addr"), "{err}");

            jail.clear_env();
            jail.create_file("warden.toml", "[log]\nlevle = \"debug\"\n")?;
            let err = load(Some("warden.toml".as_ref()), &Overrides::default()).expect_err("typo");
            assert!(err.to_string().contains("levle"), "{err}");
            Ok(())
        });
    }
}
