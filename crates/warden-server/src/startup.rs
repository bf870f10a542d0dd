//! Building and running the server: database, migrations, router, listener,
//! health, and the ordered shutdown (NOT_SERVING -> drain delay -> graceful
//! stop within a grace period).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context as _;
use sea_orm::DatabaseConnection;
use tokio::{
    net::TcpListener,
    sync::{oneshot, watch},
    task::JoinHandle,
};
use tonic::transport::Server;
use tower_http::trace::TraceLayer;
use warden_core::{
    admin_auth::AdminAuth,
    api_keys::ApiKeys,
    auth::Auth,
    clock::{Clock, SystemClock},
    metrics::DomainCounters,
    notify,
    pagination::PageKey,
    users::Users,
};

use crate::{
    authz::{AuthzLayer, Policy},
    config::Config,
    database_errors,
    grpc::Services,
    health::Health,
    metrics::{Metrics, MetricsEndpoint},
    ratelimit::PeerLimiter,
    state::AppState,
    telemetry,
    wire::{WireLayer, flow_control},
};

/// Another replica may rotate keys; pick them up within this long.
pub const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(60);
const SIGN_IN_COUNTER_PURGE_INTERVAL: Duration = Duration::from_secs(600);

/// Opens the configured database and applies pending migrations. A failure
/// names the database (never its password) and says its cause once.
pub async fn open_database(config: &Config, migrate: bool) -> anyhow::Result<DatabaseConnection> {
    let url = config.effective_database_url();
    let target = database_errors::target(&url)?;
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("cannot create data directory {}", config.data_dir.display())
        })?;
    }
    let pool = config.pool_settings();
    let db = match warden_core::db::connect(&url, &pool).await {
        Ok(db) => db,
        Err(err) => {
            let why = database_errors::explain(&target, &err, pool.acquire_timeout).await;
            anyhow::bail!("cannot connect to {target}: {why}");
        }
    };
    if migrate && let Err(err) = warden_core::db::migrate(&db).await {
        let why = database_errors::explain(&target, &err, pool.acquire_timeout).await;
        anyhow::bail!("cannot migrate {target}: {why}");
    }
    Ok(db)
}

/// A server accepting calls. Drop it or call [`RunningServer::shutdown`].
pub struct RunningServer {
    local_addr: SocketAddr,
    health: Health,
    drain_delay: Duration,
    grace: Duration,
    stop: Option<oneshot::Sender<()>>,
    stop_background: watch::Sender<bool>,
    serving: Option<JoinHandle<Result<(), tonic::transport::Error>>>,
    metrics: Option<MetricsEndpoint>,
}

impl RunningServer {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where `/metrics` is served, when `metrics.listen` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(MetricsEndpoint::local_addr)
    }

    /// NOT_SERVING first, then after the drain delay stop accepting and let
    /// in-flight calls finish within the grace period.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        self.health.begin_shutdown().await;
        tracing::info!(drain_delay = ?self.drain_delay, "health is NOT_SERVING; draining");
        tokio::time::sleep(self.drain_delay).await;
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.stop_background.send(true);
        let Some(mut serving) = self.serving.take() else {
            return Ok(());
        };
        match tokio::time::timeout(self.grace, &mut serving).await {
            Ok(joined) => joined.context("server task panicked")?.context("server failed")?,
            Err(_) => {
                tracing::warn!(grace = ?self.grace, "in-flight calls outlived the grace period");
                serving.abort();
            }
        }
        tracing::info!("server stopped");
        Ok(())
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.stop_background.send(true);
        if let Some(serving) = self.serving.take() {
            serving.abort();
        }
    }
}

/// Starts serving with the system clock.
pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    start_with_clock(config, Arc::new(SystemClock)).await
}

pub async fn start_with_clock(
    config: Config,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<RunningServer> {
    let policy = Policy::from_proto().map_err(anyhow::Error::msg)?;
    // Bind first: a port in use is reported before the database is touched.
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let local_addr = listener.local_addr()?;
    let db = open_database(&config, config.database.migrate_on_start).await?;
    // Every domain counter of this server, read by its /metrics.
    let counters = DomainCounters::default();
    let auth = auth(&config, &db, &clock, counters.clone()).await?;
    let admin_auth = AdminAuth::new(auth.clone(), config.auth.password_reset.clone());
    let page_key =
        PageKey::load(&db, clock.now()).await.context("cannot load the page-token key")?;
    let state = AppState {
        users: Users::new(auth.clone(), config.users.clone()),
        api_keys: ApiKeys::new(auth.clone()),
        auth,
        admin_auth: admin_auth.clone(),
        sign_in_limiter: PeerLimiter::new(&config.auth.rate_limit, counters.clone()),
        page_key,
    };
    let metrics = Metrics::new(db.clone(), config.database.max_connections, counters);
    let (stop_background, background_stopped) = watch::channel(false);
    spawn_background(&config, &state.auth, background_stopped)?;

    let (reporter, health_service) = tonic_health::server::health_reporter();
    let health = Health::new(reporter);
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(warden_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(warden_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    let services = Services::new(&state);
    let router = Server::builder()
        .max_connection_age(Duration::from_secs(config.server.max_connection_age_seconds.max(1)))
        .initial_stream_window_size(flow_control::STREAM_WINDOW)
        .initial_connection_window_size(flow_control::CONNECTION_WINDOW)
        // Outermost: it times whole calls and sees denials.
        .layer(metrics.grpc_layer())
        .layer(
            TraceLayer::new_for_grpc()
                .make_span_with(telemetry::request_span)
                .on_failure(telemetry::log_failure),
        )
        .layer(WireLayer)
        .layer(AuthzLayer::new(policy, state.auth.clone()))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(services.admin_auth)
        .add_service(services.users)
        .add_service(services.sessions)
        .add_service(services.mfa)
        .add_service(services.api_keys)
        .add_service(services.oauth_clients)
        .add_service(services.audit);

    let metrics = match config.metrics.listen {
        Some(listen) => Some(MetricsEndpoint::start(metrics, listen).await?),
        None => None,
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(router.serve_with_incoming_shutdown(
        // serve_with_incoming ignores Server::tcp_nodelay: set it here, or
        // Nagle + delayed ACK stall every multi-segment response by ~40 ms.
        tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
        async {
            let _ = stopped.await;
        },
    ));
    health.set(true).await;
    let interval = Duration::from_secs(config.database.health_check_interval_seconds.max(1));
    let probe = warden_core::db::PoolSettings { max_connections: 1, acquire_timeout: interval };
    let probe = warden_core::db::connect(&config.effective_database_url(), &probe)
        .await
        .context("cannot open the health probe's database connection")?;
    tokio::spawn(health.clone().watch_database(probe, interval));
    tracing::info!(listen = %local_addr, "warden is serving");

    Ok(RunningServer {
        local_addr,
        health,
        drain_delay: Duration::from_secs(config.server.drain_delay_seconds),
        grace: Duration::from_secs(config.server.shutdown_grace_seconds),
        stop: Some(stop),
        stop_background,
        serving: Some(serving),
        metrics,
    })
}

/// What every account kind authenticates with: one password hasher (so its
/// concurrency bound holds across admins and users), the lockout policy and
/// the token issuer with its signing keys (the first key is created here on
/// a fresh database).
pub async fn auth(
    config: &Config,
    db: &DatabaseConnection,
    clock: &Arc<dyn Clock>,
    counters: DomainCounters,
) -> anyhow::Result<Auth> {
    let settings = &config.auth;
    let (tokens, lockout) = (settings.tokens.clone(), settings.lockout.clone());
    Auth::open(db.clone(), clock.clone(), &settings.password, tokens, lockout, counters)
        .await
        .context("cannot load signing keys")
}

/// Unknown sign-in identifiers' lockout counters expire; deleting them keeps
/// the table bounded.
async fn purge_sign_in_counters(
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    settings: warden_core::auth::lockout::LockoutSettings,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(SIGN_IN_COUNTER_PURGE_INTERVAL) => {}
            _ = stop.changed() => return,
        }
        match warden_core::auth::lockout::purge_expired(&db, &settings, clock.now()).await {
            Ok(0) => {}
            Ok(purged) => tracing::debug!(purged, "expired sign-in counters purged"),
            Err(err) => tracing::warn!(error = %err, "could not purge expired sign-in counters"),
        }
    }
}

/// The notifier's delivery worker, the periodic signing-key reload and the
/// purge of expired sign-in counters.
fn spawn_background(
    config: &Config,
    auth: &Auth,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    if config.notifier.transport == notify::TransportKind::Log {
        tracing::warn!(
            "notifier transport is `log`: messages, reset links included, are written to the log; \
             configure notifier.transport = \"smtp\" outside development"
        );
    }
    let transport: Arc<dyn notify::Transport> =
        Arc::from(notify::transport_from(&config.notifier)?);
    tokio::spawn(notify::run_worker(
        auth.db().clone(),
        transport,
        auth.clock().clone(),
        config.notifier.clone(),
        stop.clone(),
        auth.counters().clone(),
    ));
    tokio::spawn(purge_sign_in_counters(
        auth.db().clone(),
        auth.clock().clone(),
        config.auth.lockout.clone(),
        stop.clone(),
    ));
    let (db, clock, keys) = (auth.db().clone(), auth.clock().clone(), auth.tokens().keys().clone());
    let mut stop = stop;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(KEY_RELOAD_INTERVAL) => {}
                _ = stop.changed() => return,
            }
            if let Err(err) = keys.reload(&db, clock.now()).await {
                tracing::warn!(error = %err, "could not reload signing keys");
            }
        }
    });
    Ok(())
}
