//! `/metrics` after known calls: the gRPC series (by service, method and the
//! code the client saw) and the domain counters hold exactly what the calls
//! imply, and nothing a caller typed becomes a label.

use std::time::Duration;

use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use warden_core::{
    notify::{SmtpTls, TransportKind},
    scope::{Scope, ScopeSet},
};
use warden_proto::{
    Access, MethodAccess,
    v1::{
        self as pb, create_session_response::Result as Signed,
        sessions_service_client::SessionsServiceClient, users_service_client::UsersServiceClient,
    },
};
use warden_tests::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TestApp, authorized, db_test, metrics::Scrape, raw,
    reason_of,
};

const WRONG_PASSWORD: &str = "not the password at all";
/// A path no server knows, holding what could be user input.
const PROBE: MethodAccess = MethodAccess {
    path: "/warden.v1.UsersService/alice@example.com",
    access: Access::Public,
    client_streaming: false,
    server_streaming: false,
};

fn handled(scrape: &Scrape, service: &str, method: &str, code: &str) -> f64 {
    scrape.sum(
        "grpc_server_handled_total",
        &[("grpc_service", service), ("grpc_method", method), ("grpc_code", code)],
    )
}

const ADMIN_AUTH: &str = "warden.v1.AdminAuthService";

/// Scrapes until `done` holds (a dropped stream is seen by the server a
/// moment after the client lets go); at most ten seconds.
async fn scrape_until(app: &TestApp, done: impl Fn(&Scrape) -> bool) -> Scrape {
    for _ in 0..100 {
        let scrape = app.scrape().await;
        if done(&scrape) {
            return scrape;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("metrics never showed the expected state:\n{}", app.scrape().await.text);
}

db_test! {
    async fn a_scrape_counts_the_calls_made(app) {
        let mut health = HealthClient::new(app.channel.clone());
        health.check(HealthCheckRequest::default()).await.unwrap();
        let admin = app.setup_admin().await;

        // Four wrong passwords are refused, the fifth locks the account (the
        // default policy), the sixth is refused while locked.
        for attempt in 1..=6 {
            let err = app.login(ADMIN_EMAIL, WRONG_PASSWORD).await.expect_err("wrong password");
            let expected = if attempt < 5 { "INVALID_CREDENTIALS" } else { "ACCOUNT_LOCKED" };
            assert_eq!(reason_of(&err), expected, "attempt {attempt}");
        }

        // One token, three calls: one signature check, then two cache hits.
        for _ in 0..3 {
            let request = authorized(pb::GetCurrentAdminRequest {}, &admin.access_token);
            app.admin_auth().get_current_admin(request).await.unwrap();
        }

        // The first refresh rotates; presenting the spent token again is reuse.
        let refresh = || pb::RefreshTokenRequest { refresh_token: admin.refresh_token.clone() };
        app.admin_auth().refresh_token(refresh()).await.unwrap();
        let reused = app.admin_auth().refresh_token(refresh()).await.expect_err("reuse");
        assert_eq!(reason_of(&reused), "TOKEN_REVOKED");

        let users_read: Scope = "users:read".parse().unwrap();
        let reader = app.api_key(ScopeSet::from_iter([users_read])).await;
        let create = pb::CreateUserRequest { email: "new@example.com".into(), ..Default::default() };
        let denied = UsersServiceClient::new(app.channel.clone())
            .create_user(authorized(create, &reader))
            .await
            .expect_err("scope missing");
        assert_eq!(reason_of(&denied), "SCOPE_MISSING");

        let unknown = raw::call_empty(&app.channel, &PROBE, None).await.expect_err("no such method");
        assert_eq!(unknown.code(), tonic::Code::Unimplemented);

        // A stream the client drops: the server records it when it notices.
        let mut watch = health.watch(HealthCheckRequest::default()).await.unwrap().into_inner();
        watch.message().await.unwrap().expect("first status");
        drop(watch);

        let scrape = scrape_until(&app, |scrape| {
            handled(scrape, "grpc.health.v1.Health", "Watch", "Canceled") == 1.0
        })
        .await;

        // gRPC: started, handled by the code the client saw, timed.
        assert_eq!(handled(&scrape, "grpc.health.v1.Health", "Check", "OK"), 1.0);
        assert_eq!(handled(&scrape, ADMIN_AUTH, "Setup", "OK"), 1.0);
        assert_eq!(handled(&scrape, ADMIN_AUTH, "Login", "Unauthenticated"), 4.0);
        assert_eq!(handled(&scrape, ADMIN_AUTH, "Login", "ResourceExhausted"), 2.0);
        assert_eq!(handled(&scrape, ADMIN_AUTH, "GetCurrentAdmin", "OK"), 3.0);
        assert_eq!(handled(&scrape, ADMIN_AUTH, "RefreshToken", "OK"), 1.0);
        assert_eq!(handled(&scrape, ADMIN_AUTH, "RefreshToken", "Unauthenticated"), 1.0);
        assert_eq!(
            handled(&scrape, "warden.v1.UsersService", "CreateUser", "PermissionDenied"),
            1.0
        );
        assert_eq!(handled(&scrape, "unknown", "unknown", "Unimplemented"), 1.0);
        let login = [("grpc_service", ADMIN_AUTH), ("grpc_method", "Login")];
        assert_eq!(scrape.sum("grpc_server_started_total", &login), 6.0);
        assert_eq!(scrape.sum("grpc_server_handling_seconds_count", &login), 6.0);
        assert_eq!(
            scrape.sum("grpc_server_started_total", &[]),
            scrape.sum("grpc_server_handled_total", &[]),
            "every started call was handled"
        );

        // Domain counters.
        let sign_ins = |outcome| {
            scrape.sum("warden_sign_ins_total", &[("account", "admin"), ("outcome", outcome)])
        };
        assert_eq!(sign_ins("invalid_credentials"), 4.0);
        assert_eq!(sign_ins("account_locked"), 2.0);
        assert_eq!(sign_ins("success"), 0.0, "Setup is not a sign-in");
        assert_eq!(scrape.sum("warden_lockouts_total", &[("account", "admin")]), 1.0);
        assert_eq!(scrape.sum("warden_refresh_token_reuse_total", &[("account", "admin")]), 1.0);
        let cache = |result| scrape.sum("warden_token_verification_cache_total", &[("result", result)]);
        assert_eq!((cache("miss"), cache("hit")), (1.0, 2.0));
        assert_eq!(scrape.sum("warden_rate_limited_calls_total", &[]), 0.0);
        assert_eq!(scrape.sum("warden_outbox_depth", &[]), 0.0);
        assert!(scrape.has("warden_outbox_depth"));
        let pool = scrape.sum("warden_db_pool_connections", &[]);
        assert!((1.0..=8.0).contains(&pool), "pool connections: {pool}");
        assert_eq!(scrape.sum("warden_db_pool_max_connections", &[]), 8.0);

        // No caller input in any label.
        let secrets: [&str; 5] =
            ["alice@example.com", ADMIN_EMAIL, ADMIN_PASSWORD, &admin.access_token, &reader];
        for secret in secrets {
            assert!(!scrape.text.contains(secret), "{secret} leaked into the metrics");
        }
    }
}

db_test! {
    async fn end_user_sign_ins_refreshes_and_verifications_are_counted(app) {
        const EMAIL: &str = "enduser@example.com";
        const PASSWORD: &str = "Hq4!zR8#nW2$kT6p";
        let key = app.api_key(ScopeSet::all()).await;
        let create = pb::CreateUserRequest {
            email: EMAIL.into(),
            password_source: Some(pb::create_user_request::PasswordSource::Password(PASSWORD.into())),
            ..Default::default()
        };
        UsersServiceClient::new(app.channel.clone()).create_user(authorized(create, &key)).await.unwrap();
        let mut sessions = SessionsServiceClient::new(app.channel.clone());
        let sign_in = |password: &str| pb::CreateSessionRequest {
            identifier: EMAIL.into(),
            password: password.into(),
            ..Default::default()
        };
        sessions.create_session(sign_in(WRONG_PASSWORD)).await.expect_err("wrong password");
        let signed = sessions.create_session(sign_in(PASSWORD)).await.unwrap().into_inner();
        let Some(Signed::Tokens(tokens)) = signed.result else { panic!("tokens expected") };

        let refresh = || pb::RefreshSessionRequest {
            refresh_token: tokens.refresh_token.clone(),
            client: None,
        };
        sessions.refresh_session(refresh()).await.unwrap();
        sessions.refresh_session(refresh()).await.expect_err("reuse");
        // The first VerifyToken checks the signature, the second hits the cache.
        for _ in 0..2 {
            let verify = pb::VerifyTokenRequest { token: tokens.access_token.clone() };
            sessions.verify_token(authorized(verify, &key)).await.unwrap();
        }

        let scrape = app.scrape().await;
        let sign_ins = |outcome| {
            scrape.sum("warden_sign_ins_total", &[("account", "user"), ("outcome", outcome)])
        };
        assert_eq!((sign_ins("invalid_credentials"), sign_ins("success")), (1.0, 1.0));
        assert_eq!(scrape.sum("warden_sign_ins_total", &[("account", "admin")]), 0.0);
        assert_eq!(scrape.sum("warden_refresh_token_reuse_total", &[("account", "user")]), 1.0);
        let cache = |result| scrape.sum("warden_token_verification_cache_total", &[("result", result)]);
        assert_eq!((cache("miss"), cache("hit")), (1.0, 1.0));
        assert!(!scrape.text.contains(EMAIL) && !scrape.text.contains(&tokens.access_token));
    }
}

/// The per-peer rate limit and a mail server that is down, on a server
/// configured for both.
async fn refusals_and_failed_deliveries_are_counted(backend: Backend) {
    let dead_port = {
        let reserved = std::net::TcpListener::bind("127.0.0.1:0").expect("reserve a port");
        reserved.local_addr().expect("addr").port()
    };
    let Some(app) = TestApp::spawn_with(backend, |config| {
        config.auth.rate_limit.per_minute = 1;
        config.auth.rate_limit.burst = 3;
        config.notifier.transport = TransportKind::Smtp;
        config.notifier.smtp.host = "127.0.0.1".into();
        config.notifier.smtp.port = dead_port;
        config.notifier.smtp.tls = SmtpTls::None;
        config.notifier.smtp.timeout_seconds = 2;
        // The failed message then waits a minute: it stays in the outbox.
        config.notifier.retry_base_seconds = 60;
    })
    .await
    else {
        return;
    };
    // Three rate-limited calls fit the burst; the fourth is refused.
    app.setup_admin().await;
    let reset = pb::RequestPasswordResetRequest { email: ADMIN_EMAIL.into() };
    app.admin_auth().request_password_reset(reset).await.unwrap();
    let err = app.login(ADMIN_EMAIL, WRONG_PASSWORD).await.expect_err("wrong password");
    assert_eq!(reason_of(&err), "INVALID_CREDENTIALS");
    let err = app.login(ADMIN_EMAIL, WRONG_PASSWORD).await.expect_err("rate limited");
    assert_eq!(reason_of(&err), "RATE_LIMITED");

    let scrape = scrape_until(&app, |scrape| {
        scrape.sum("warden_outbox_deliveries_total", &[("result", "retried")]) == 1.0
    })
    .await;
    assert_eq!(scrape.sum("warden_rate_limited_calls_total", &[]), 1.0);
    assert_eq!(handled(&scrape, ADMIN_AUTH, "Login", "ResourceExhausted"), 1.0);
    assert_eq!(scrape.sum("warden_outbox_deliveries_total", &[("result", "delivered")]), 0.0);
    assert_eq!(scrape.sum("warden_outbox_deliveries_total", &[("result", "failed")]), 0.0);
    assert_eq!(scrape.sum("warden_outbox_depth", &[]), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_and_failed_deliveries_are_counted_sqlite() {
    refusals_and_failed_deliveries_are_counted(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_and_failed_deliveries_are_counted_postgres() {
    refusals_and_failed_deliveries_are_counted(Backend::Postgres).await;
}
