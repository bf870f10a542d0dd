//! What an operator reads when the database fails at start: which database
//! (kind, host, port, name; never the password), what went wrong said once,
//! and for a URL Warden cannot use, the schemes it can.

use std::{fmt, time::Duration};

use sea_orm::{DbErr, sqlx};

/// The URL schemes Warden opens, as an operator would write them.
pub const SUPPORTED_SCHEMES: &str = "postgres:// (or postgresql://) and sqlite://";

/// The database a URL points at, without its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Postgres { host: String, port: u16, database: String, user: String },
    Sqlite { path: String },
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Postgres { host, port, database, user } => {
                write!(f, "PostgreSQL at {host}:{port}, database {database:?}, user {user:?}")
            }
            Self::Sqlite { path } => write!(f, "SQLite database {path}"),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UrlError {
    #[error("unsupported database URL scheme {scheme:?}: Warden supports {SUPPORTED_SCHEMES}")]
    Unsupported { scheme: String },
    #[error("the database URL is not a valid URL ({reason}); expected {SUPPORTED_SCHEMES}")]
    Invalid { reason: String },
}

/// Reads the target out of a database URL.
pub fn target(url: &str) -> Result<Target, UrlError> {
    let scheme = url.split_once(':').map(|(scheme, _)| scheme).unwrap_or_default();
    match scheme.to_ascii_lowercase().as_str() {
        "postgres" | "postgresql" => postgres(url),
        "sqlite" => {
            let rest = &url[scheme.len() + 1..];
            let path = rest.trim_start_matches("//");
            let path = path.split_once('?').map_or(path, |(path, _)| path);
            Ok(Target::Sqlite { path: path.to_owned() })
        }
        "" => Err(UrlError::Invalid { reason: "it has no scheme".to_owned() }),
        other => Err(UrlError::Unsupported { scheme: format!("{other}://") }),
    }
}

fn postgres(url: &str) -> Result<Target, UrlError> {
    let parsed =
        url::Url::parse(url).map_err(|err| UrlError::Invalid { reason: err.to_string() })?;
    // libpq also takes the host and port from the query (`?host=/run/postgresql`).
    let query = |name: &str| parsed.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v);
    let host = parsed
        .host_str()
        .filter(|host| !host.is_empty())
        .map(str::to_owned)
        .or_else(|| query("host").map(|h| h.into_owned()))
        .unwrap_or_else(|| "localhost".to_owned());
    let port = parsed.port().or_else(|| query("port").and_then(|p| p.parse().ok())).unwrap_or(5432);
    let user = match parsed.username() {
        "" => query("user").map(|u| u.into_owned()).unwrap_or_else(|| "postgres".to_owned()),
        user => user.to_owned(),
    };
    let database = match parsed.path().trim_start_matches('/') {
        "" => query("dbname").map(|d| d.into_owned()).unwrap_or_else(|| user.clone()),
        database => database.to_owned(),
    };
    Ok(Target::Postgres { host, port, database, user })
}

/// Why opening or migrating `target` failed, in plain words: the database's
/// own message without the driver's wrapping ("error returned from database:
/// … at line 948" is PostgreSQL's source line, noise to an operator), and for
/// a pool that timed out, whether anything answers at the address at all.
pub async fn explain(target: &Target, err: &DbErr, timeout: Duration) -> String {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = cause {
        if let Some(sqlx) = current.downcast_ref::<sqlx::Error>() {
            return match sqlx {
                sqlx::Error::Database(db) => db.message().to_owned(),
                sqlx::Error::PoolTimedOut => {
                    let waited = format!("no connection within {} s", timeout.as_secs());
                    match probe(target, timeout).await {
                        Some(refused) => format!("{waited}: {refused}"),
                        None => waited,
                    }
                }
                other => causes(other),
            };
        }
        cause = current.source();
    }
    causes(err)
}

/// For PostgreSQL over TCP: why nothing answers at host:port, if it does not.
async fn probe(target: &Target, timeout: Duration) -> Option<String> {
    let Target::Postgres { host, port, .. } = target else { return None };
    if host.starts_with('/') {
        return None; // a Unix socket directory
    }
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect((host.as_str(), *port)))
        .await
    {
        Ok(Ok(_)) => None,
        Ok(Err(err)) => Some(err.to_string()),
        Err(_) => Some(format!("{host}:{port} did not answer")),
    }
}

/// An error and its causes in one line, each said once: drivers wrap errors
/// whose text already contains their cause ("pool timed out: pool timed out").
pub fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_name_host_port_database_and_user_but_no_password() {
        let target = target("postgres://warden:s3cret@db.internal:6432/identity?sslmode=require")
            .expect("postgres");
        let shown = target.to_string();
        assert_eq!(shown, "PostgreSQL at db.internal:6432, database \"identity\", user \"warden\"");
        assert!(!shown.contains("s3cret"));
        let defaults = super::target("postgresql://db").expect("postgres");
        assert_eq!(
            defaults,
            Target::Postgres {
                host: "db".into(),
                port: 5432,
                database: "postgres".into(),
                user: "postgres".into()
            }
        );
    }

    #[test]
    fn sqlite_urls_name_the_file() {
        assert_eq!(
            target("sqlite://./data/warden.db?mode=rwc").expect("sqlite").to_string(),
            "SQLite database ./data/warden.db"
        );
    }

    #[test]
    fn other_schemes_list_the_supported_ones() {
        let err = target("mysql://root:pw@db/warden").expect_err("mysql");
        assert_eq!(err, UrlError::Unsupported { scheme: "mysql://".into() });
        let text = err.to_string();
        assert!(text.contains("postgres://") && text.contains("sqlite://"), "{text}");
        assert!(!text.contains("pw"));
        assert!(matches!(target("no scheme here"), Err(UrlError::Invalid { .. })));
    }

    #[test]
    fn repeated_causes_are_said_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("connection error: pool timed out")]
        struct Outer(#[source] Inner);
        #[derive(Debug, thiserror::Error)]
        #[error("pool timed out")]
        struct Inner;
        assert_eq!(causes(&Outer(Inner)), "connection error: pool timed out");
    }
}
