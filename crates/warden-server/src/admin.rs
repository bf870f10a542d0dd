//! Operator commands that run against the database and exit: `migrate`,
//! `bootstrap-admin` and `keys rotate`. Each returns the one human line the
//! binary prints on stdout; logs go to stderr.

use std::sync::Arc;

use anyhow::Context as _;
use chrono::Duration;
use warden_core::{
    DomainError,
    admin_auth::{AdminAuth, Bootstrap, FirstAdmin},
    auth::tokens::keys,
    clock::{Clock, SystemClock},
    secret::SecretString,
};

use crate::{cli::BootstrapFlags, config::Config, startup};

/// Applies pending migrations.
pub async fn migrate(config: &Config) -> anyhow::Result<String> {
    let db = startup::open_database(config, false).await?;
    let pending = warden_core::db::pending_migrations(&db)
        .await
        .context("cannot read which migrations were applied")?;
    warden_core::db::migrate(&db).await.context("migrations failed")?;
    tracing::info!(applied = pending.len(), "migrations applied");
    Ok(match pending.len() {
        0 => "the database schema is up to date; no migration to apply".to_owned(),
        1 => "applied 1 migration; the database schema is up to date".to_owned(),
        n => format!("applied {n} migrations; the database schema is up to date"),
    })
}

/// Creates the first admin unless one exists; succeeds either way.
pub async fn bootstrap(config: &Config, flags: &BootstrapFlags) -> anyhow::Result<String> {
    let password = std::fs::read_to_string(&flags.password_file)
        .with_context(|| format!("cannot read {}", flags.password_file.display()))?;
    let password = SecretString::new(password.trim_end_matches(['\r', '\n']).to_owned());
    let db = startup::open_database(config, true).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let auth = startup::auth(config, &db, &clock, Default::default()).await?;
    let admin_auth = AdminAuth::new(auth, config.auth.password_reset.clone());
    let policy = admin_auth.password_policy();
    let first = FirstAdmin::parse(&policy, &flags.email, password, &flags.name)
        .map_err(|invalid| anyhow::anyhow!("bootstrap failed: {}", describe(&invalid.into())))?;
    match admin_auth.bootstrap(first).await {
        Ok(Bootstrap::Created(id)) => {
            tracing::info!(admin_id = %id, "first admin created");
            Ok(format!("created the first admin, {} (id {id})", flags.email))
        }
        Ok(Bootstrap::AlreadySetUp) => {
            tracing::info!("an admin already exists; nothing changed");
            Ok("an admin already exists; nothing changed".to_owned())
        }
        Err(err) => anyhow::bail!("bootstrap failed: {}", describe(&err)),
    }
}

/// The error with each invalid field spelled out, so an operator reading a
/// Job's log learns what to fix (e.g. "password must be at least 12 characters").
fn describe(err: &DomainError) -> String {
    match err {
        DomainError::Validation(violations) | DomainError::WeakPassword(violations) => {
            let fields: Vec<String> =
                violations.iter().map(|v| format!("{} {}", v.field, v.description)).collect();
            format!("{err}: {} ({})", fields.join("; "), err.reason())
        }
        _ => format!("{err} ({})", err.reason()),
    }
}

/// Adds a signing key. The retired one stays published for one access-token
/// lifetime plus leeway plus the replicas' key-reload interval (a replica may
/// sign with it until it reloads), so every token it signed stays verifiable.
pub async fn rotate_keys(config: &Config) -> anyhow::Result<String> {
    let db = startup::open_database(config, true).await?;
    let tokens = &config.auth.tokens;
    let keep = Duration::seconds((tokens.access_ttl_seconds + tokens.leeway_seconds) as i64)
        + Duration::from_std(startup::KEY_RELOAD_INTERVAL)?;
    let kid =
        keys::rotate(&db, SystemClock.now(), keep).await.map_err(|err| anyhow::anyhow!("{err}"))?;
    tracing::info!(kid = %kid, "signing key rotated; replicas pick it up within a minute");
    Ok(format!(
        "new signing key {kid}; replicas sign with it within a minute, and the previous key \
         keeps verifying for {} minutes",
        keep.num_minutes()
    ))
}
