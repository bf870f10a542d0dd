//! The `warden` binary as an operator runs it: no configuration, flags and
//! env, SIGTERM, `migrate`, and what ends up in its logs.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use support::{Warden, health_status};
use tonic_health::pb::health_check_response::ServingStatus;

#[tokio::test]
async fn starts_with_no_configuration_on_the_default_address_and_sqlite_in_data() {
    let dir = tempfile::tempdir().unwrap();
    let warden = Warden::spawn(dir.path(), &["serve"], &[]).await;
    assert_eq!(warden.addr.to_string(), "127.0.0.1:50051");
    assert_eq!(health_status(warden.addr).await, Some(ServingStatus::Serving));
    assert!(dir.path().join("data/warden.db").exists());
    warden.terminate_and_wait().await;
}

#[tokio::test]
async fn sigterm_reports_not_serving_then_drains_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let warden = Warden::spawn(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0"],
        &[("WARDEN_SERVER__DRAIN_DELAY_SECONDS", "3")],
    )
    .await;
    assert_eq!(health_status(warden.addr).await, Some(ServingStatus::Serving));
    warden.signal_term();
    // Poll until the drain shows, or until the server stops answering
    // (which would mean it stopped without reporting NOT_SERVING first).
    let last = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match health_status(warden.addr).await {
                Some(ServingStatus::Serving) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                other => break other,
            }
        }
    })
    .await
    .expect("SIGTERM was acted on within a minute");
    assert_eq!(last, Some(ServingStatus::NotServing), "the server stopped without draining");
    let (status, _) = warden.wait().await;
    assert!(status.success(), "exit status {status:?}");
}

#[tokio::test]
async fn flags_override_env_and_env_overrides_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let env_dir = dir.path().join("from-env");
    let flag_dir = dir.path().join("from-flag");
    let warden = Warden::spawn(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0", "--data-dir", flag_dir.to_str().unwrap()],
        &[("WARDEN_DATA_DIR", env_dir.to_str().unwrap()), ("WARDEN_LISTEN", "127.0.0.1:1")],
    )
    .await;
    assert_ne!(warden.addr.port(), 1);
    assert!(flag_dir.join("warden.db").exists());
    assert!(!env_dir.exists());
    warden.terminate_and_wait().await;
}

#[tokio::test]
async fn an_unknown_key_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (status, output) =
        support::run_to_end(dir.path(), &["serve"], &[("WARDEN_LISTN", "127.0.0.1:0")]).await;
    assert_eq!(status.code(), Some(2), "{output}");
    assert!(output.contains("listn"), "{output}");

    std::fs::write(dir.path().join("warden.toml"), "[server]\ndrain_delay = 3\n").unwrap();
    let (status, output) =
        support::run_to_end(dir.path(), &["--config", "warden.toml", "serve"], &[]).await;
    assert_eq!(status.code(), Some(2), "{output}");
    assert!(output.contains("drain_delay"), "{output}");
}

#[tokio::test]
async fn migrate_applies_the_schema_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let (status, output) =
        support::run_to_end(dir.path(), &["migrate", "--data-dir", "state"], &[]).await;
    assert!(status.success(), "{output}");
    assert!(dir.path().join("state/warden.db").exists());
    assert!(output.contains("m20261122_000001_initial"), "{output}");
    // Running it again is a no-op that still succeeds.
    let (status, output) =
        support::run_to_end(dir.path(), &["migrate", "--data-dir", "state"], &[]).await;
    assert!(status.success(), "{output}");
}

/// At the most verbose level, no credential a caller sends shows up in logs.
#[tokio::test]
async fn credentials_never_reach_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let warden =
        Warden::spawn(dir.path(), &["serve", "--listen", "127.0.0.1:0"], &[("RUST_LOG", "trace")])
            .await;
    let valid = support::mint_api_key(dir.path(), Default::default()).await;
    let invalid = "wdn_0123456789abcdef_ThisIsASecretThatMustNotBeLogged";
    for credential in [valid.as_str(), invalid, "eyJhbGciOiJFZERTQSJ9.secret-jwt-body.sig"] {
        let _ = support::call_get_user(warden.addr, credential).await;
    }
    // Passwords and tokens of a whole admin sign-in flow.
    let password = "SetupPasswordThatMustNotBeLogged";
    let tokens = support::admin_sign_in_flow(warden.addr, password).await;
    let (_, output) = warden.terminate_and_wait().await;
    assert!(output.contains("call denied"), "the calls were logged at all:\n{output}");
    let mut secrets =
        vec![valid.as_str(), &valid[21..], invalid, "ThisIsASecret", "secret-jwt-body"];
    secrets.extend([password, "WrongPasswordThatMustNotBeLogged"]);
    secrets.extend(tokens.iter().map(String::as_str));
    for secret in secrets {
        assert!(!output.contains(secret), "a secret leaked into the logs");
    }
    assert!(!output.to_lowercase().contains("bearer "), "an authorization header was logged");
}

/// With an OTLP endpoint set, spans are exported and continue the caller's
/// W3C trace.
#[tokio::test]
async fn traces_export_over_otlp_and_continue_the_callers_trace() {
    let collector = support::OtlpCollector::start().await;
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("http://{}", collector.addr);
    let warden = Warden::spawn(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0"],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint), ("OTEL_BSP_SCHEDULE_DELAY", "100")],
    )
    .await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    support::call_with_traceparent(warden.addr, &format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .await;
    warden.terminate_and_wait().await;
    let spans = collector.spans();
    let span = spans
        .iter()
        .find(|span| span.name == "grpc.request")
        .unwrap_or_else(|| panic!("no grpc.request span exported; got {spans:?}"));
    assert_eq!(hex(&span.trace_id), trace_id);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
