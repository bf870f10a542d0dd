//! The test kit: start a real Warden server on port 0 over a real database
//! (a temp SQLite file, or a fresh PostgreSQL database when
//! `WARDEN_TEST_POSTGRES_URL` is set) and talk gRPC to it over loopback.

#![allow(clippy::unwrap_used)]

pub mod h2_raw;
mod mail;
pub mod metrics;
pub mod proxy;
pub mod raw;
mod status;

use std::{net::SocketAddr, sync::Arc};

use chrono::Utc;
use sea_orm::DatabaseConnection;
use tempfile::TempDir;
use tonic::{
    Request,
    metadata::MetadataValue,
    transport::{Channel, Endpoint},
};
use warden_core::{
    api_keys::{self, NewApiKey},
    clock::{Clock, SystemClock},
    scope::ScopeSet,
};
use warden_proto::v1::{self as pb, admin_auth_service_client::AdminAuthServiceClient};
use warden_server::{config::Config, startup::RunningServer};

pub use mail::token_in;
pub use status::{
    assert_invalid, assert_invalid_with, assert_request_id_taken, assert_status, invalid_details,
    invalid_fields, reason_of, violation_details, violations,
};
pub use warden_migration::test_support::PostgresDatabase;

/// Which database a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub channel: Channel,
    /// A connection of the test's own to the server's database, for seeding
    /// what no RPC can create yet and for asserting on stored rows.
    pub db: DatabaseConnection,
    pub backend: Backend,
    server: Option<RunningServer>,
    postgres: Option<PostgresDatabase>,
    mail: warden_core::notify::smtp_sink::SmtpSink,
    config: Config,
    _data_dir: TempDir,
}

/// Another server process's worth of Warden on the same database: what a
/// second replica behind the same load balancer is.
pub struct Replica {
    pub channel: Channel,
    server: Option<RunningServer>,
}

impl Drop for Replica {
    fn drop(&mut self) {
        drop(self.server.take());
    }
}

impl TestApp {
    /// Starts a server on `backend`; `None` when PostgreSQL is asked for but
    /// not configured (the test then skips, saying so).
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<Self> {
        Self::spawn_with_clock(backend, Arc::new(SystemClock), tweak).await
    }

    /// With a clock the test controls (lockout windows, expiry).
    pub async fn spawn_with_clock(
        backend: Backend,
        clock: Arc<dyn Clock>,
        tweak: impl FnOnce(&mut Config),
    ) -> Option<Self> {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PostgresDatabase::create().await?),
        };
        let mut config = Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.path().to_owned(),
            database_url: postgres.as_ref().map(|pg| pg.url.clone()),
            ..Config::default()
        };
        config.server.drain_delay_seconds = 0;
        config.server.shutdown_grace_seconds = 5;
        config.database.health_check_interval_seconds = 1;
        config.database.max_connections = 8;
        // Tests sign in far more often than a person; the limiter has its own test.
        config.auth.rate_limit.per_minute = 1_000_000;
        config.auth.rate_limit.burst = 100_000;
        // Fast, still argon2id: tests hash hundreds of passwords.
        config.auth.password.memory_kib = 1024;
        config.auth.password.iterations = 1;
        config.notifier.poll_interval_ms = 50;
        config.metrics.listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
        let mail = warden_core::notify::smtp_sink::SmtpSink::start().await;
        config.notifier.transport = warden_core::notify::TransportKind::Smtp;
        config.notifier.smtp.host = "127.0.0.1".into();
        config.notifier.smtp.port = mail.addr.port();
        config.notifier.smtp.tls = warden_core::notify::SmtpTls::None;
        config.notifier.smtp.from = "Warden <warden@example.com>".into();
        // The test's own connection goes straight to the database, whatever
        // the tweak points the server at (e.g. a proxy it will cut).
        let own_url = config.effective_database_url();
        tweak(&mut config);

        let server = warden_server::startup::start_with_clock(config.clone(), clock)
            .await
            .expect("server starts");
        let addr = server.local_addr();
        let channel = connect(addr).await;
        let db = warden_core::db::connect(&own_url, &Default::default())
            .await
            .expect("test's own database connection");
        Some(Self {
            addr,
            channel,
            db,
            backend,
            server: Some(server),
            postgres,
            mail,
            config,
            _data_dir: data_dir,
        })
    }

    /// Starts another server on this one's database (and configuration).
    pub async fn replica(&self) -> Replica {
        let server =
            warden_server::startup::start(self.config.clone()).await.expect("replica starts");
        let channel = connect(server.local_addr()).await;
        Replica { channel, server: Some(server) }
    }

    /// Mints an API key holding exactly `scopes` and returns its raw value.
    pub async fn api_key(&self, scopes: ScopeSet) -> String {
        let new = NewApiKey {
            name: "test key".into(),
            description: String::new(),
            scopes,
            expires_at: None,
            created_by: None,
        };
        let (_, raw) = api_keys::insert(&self.db, new, Utc::now()).await.expect("mint api key");
        raw.raw.expose().to_owned()
    }

    /// Stops the server the way SIGTERM would.
    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("clean shutdown");
        }
    }

    pub fn postgres(&self) -> Option<&PostgresDatabase> {
        self.postgres.as_ref()
    }

    /// The SQLite database file, when the server runs on SQLite.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        (self.backend == Backend::Sqlite).then(|| self._data_dir.path().join("warden.db"))
    }
}

async fn connect(addr: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect to test server")
}

/// The first admin's credentials, as the suite sets them up.
pub const ADMIN_EMAIL: &str = "root@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// A signed-in admin: tokens from Setup or Login.
#[derive(Debug, Clone)]
pub struct AdminSession {
    pub admin_id: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl TestApp {
    pub fn admin_auth(&self) -> AdminAuthServiceClient<Channel> {
        AdminAuthServiceClient::new(self.channel.clone())
    }

    /// Runs Setup with the suite's first admin.
    pub async fn setup_admin(&self) -> AdminSession {
        let response = self
            .admin_auth()
            .setup(pb::SetupRequest {
                email: ADMIN_EMAIL.into(),
                password: ADMIN_PASSWORD.into(),
                name: "Root".into(),
            })
            .await
            .expect("setup")
            .into_inner();
        AdminSession {
            admin_id: response.admin.expect("admin").id,
            access_token: response.access_token,
            refresh_token: response.refresh_token,
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> Result<AdminSession, tonic::Status> {
        let response = self
            .admin_auth()
            .login(pb::LoginRequest { email: email.into(), password: password.into() })
            .await?
            .into_inner();
        Ok(AdminSession {
            admin_id: response.admin.expect("admin").id,
            access_token: response.access_token,
            refresh_token: response.refresh_token,
        })
    }

    /// Audit rows with this action, oldest first.
    pub async fn audit_rows(&self, action: &str) -> Vec<warden_core::entity::audit_events::Model> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        use warden_core::entity::audit_events;
        audit_events::Entity::find()
            .filter(audit_events::Column::Action.eq(action))
            .order_by_asc(audit_events::Column::OccurredAt)
            .all(&self.db)
            .await
            .expect("read audit rows")
    }

    /// How many audit rows the database holds.
    pub async fn count_audit(&self) -> u64 {
        use sea_orm::{EntityTrait, PaginatorTrait};
        warden_core::entity::audit_events::Entity::find()
            .count(&self.db)
            .await
            .expect("count audit rows")
    }

    /// Every audit row, oldest first.
    pub async fn all_audit_rows(&self) -> Vec<warden_core::entity::audit_events::Model> {
        use sea_orm::{EntityTrait, QueryOrder};
        use warden_core::entity::audit_events;
        audit_events::Entity::find()
            .order_by_asc(audit_events::Column::OccurredAt)
            .order_by_asc(audit_events::Column::Id)
            .all(&self.db)
            .await
            .expect("read audit rows")
    }
}

/// Wraps a message with `authorization: Bearer <credential>`.
pub fn authorized<T>(message: T, credential: &str) -> Request<T> {
    let mut request = Request::new(message);
    let value: MetadataValue<_> = format!("Bearer {credential}").parse().expect("ascii credential");
    request.metadata_mut().insert("authorization", value);
    request
}

/// Runs a test body on SQLite and, when configured, on PostgreSQL:
/// `db_test!(async fn name(app) { ... });` makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! db_test {
    ($(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = $crate::TestApp::spawn($crate::Backend::Sqlite).await.expect("sqlite");
                $body
            }

            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($app) = $crate::TestApp::spawn($crate::Backend::Postgres).await else {
                    return;
                };
                $body
            }
        }
    };
}

/// Like [`db_test!`] for bodies that start their own server (a manual clock,
/// a tweaked config, several replicas): `backend_test!(async fn name(backend)
/// { ... })` makes `name::sqlite` and `name::postgres`, passing the
/// [`Backend`]. The body returns early when [`TestApp::spawn_with_clock`]
/// answers `None` (PostgreSQL not configured).
#[macro_export]
macro_rules! backend_test {
    ($(#[$meta:meta])* async fn $name:ident($backend:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($backend: $crate::Backend) $body

            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::Backend::Sqlite).await;
            }

            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run($crate::Backend::Postgres).await;
            }
        }
    };
}
