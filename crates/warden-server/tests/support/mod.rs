//! Running the real `warden` binary: spawn it in a directory with a clean
//! environment, find the address it bound from its log, and read its output.

#![allow(dead_code)]

mod otlp;

use std::{
    net::SocketAddr,
    path::Path,
    process::{ExitStatus, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncRead, BufReader},
    process::{Child, Command},
    sync::mpsc,
};
use tonic::transport::Endpoint;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

pub use otlp::OtlpCollector;

const BIN: &str = env!("CARGO_BIN_EXE_warden");

fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BIN);
    // A clean environment: nothing from the test runner (WARDEN_TEST_*,
    // RUST_LOG, OTEL_*) may leak into the server's configuration.
    command
        .current_dir(dir)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

pub struct Warden {
    child: Child,
    pub addr: SocketAddr,
    output: Arc<Mutex<String>>,
}

impl Warden {
    /// Starts `warden` and waits for its "warden is serving" log line.
    pub async fn spawn(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = command(dir, args, env).spawn().expect("spawn warden");
        let output = Arc::new(Mutex::new(String::new()));
        let (lines_tx, mut lines) = mpsc::unbounded_channel();
        collect(child.stdout.take().expect("stdout"), output.clone(), lines_tx.clone());
        collect(child.stderr.take().expect("stderr"), output.clone(), lines_tx);
        let addr = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.recv().await {
                if let Some(addr) = serving_addr(&line) {
                    return addr;
                }
            }
            panic!("warden exited before serving:\n{}", output.lock().unwrap());
        })
        .await
        .expect("warden started within a minute");
        Self { child, addr, output }
    }

    pub fn signal_term(&self) {
        let pid = self.child.id().expect("running").to_string();
        let sent = std::process::Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
    }

    pub async fn wait(mut self) -> (ExitStatus, String) {
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("warden exits within a minute")
            .expect("wait for warden");
        // Give the readers a moment to drain the pipes.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let output = self.output.lock().unwrap().clone();
        (status, output)
    }

    pub async fn terminate_and_wait(self) -> (ExitStatus, String) {
        self.signal_term();
        self.wait().await
    }
}

/// Runs a command that is expected to exit on its own.
pub async fn run_to_end(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String) {
    let output = tokio::time::timeout(Duration::from_secs(60), command(dir, args, env).output())
        .await
        .expect("command finishes within a minute")
        .expect("run warden");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status, text)
}

/// Runs a command expected to exit within `timeout`, keeping stdout and
/// stderr apart: `(status, stdout, stderr)`.
pub async fn run_split(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    timeout: Duration,
) -> (ExitStatus, String, String) {
    let output = tokio::time::timeout(timeout, command(dir, args, env).output())
        .await
        .unwrap_or_else(|_| panic!("warden {args:?} did not exit within {timeout:?}"))
        .expect("run warden");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status, text(&output.stdout), text(&output.stderr))
}

fn collect(
    stream: impl AsyncRead + Unpin + Send + 'static,
    output: Arc<Mutex<String>>,
    lines_tx: mpsc::UnboundedSender<String>,
) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            {
                let mut output = output.lock().unwrap();
                output.push_str(&line);
                output.push('\n');
            }
            let _ = lines_tx.send(line);
        }
    });
}

/// The address in `{"fields":{"message":"warden is serving","listen":"…"}}`.
fn serving_addr(line: &str) -> Option<SocketAddr> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    let fields = value.get("fields")?;
    (fields.get("message")?.as_str()? == "warden is serving")
        .then(|| fields.get("listen")?.as_str()?.parse().ok())
        .flatten()
}

/// Mints an API key holding `scopes` straight into the SQLite database of a
/// server started in `dir` (no RPC can before an admin exists).
pub async fn mint_api_key(dir: &Path, scopes: warden_core::scope::ScopeSet) -> String {
    let db_url = warden_core::db::sqlite_url_in(&dir.join("data"));
    let db = warden_core::db::connect(&db_url, &Default::default()).await.expect("open the db");
    let new = warden_core::api_keys::NewApiKey {
        name: "process test key".into(),
        description: String::new(),
        scopes,
        expires_at: None,
        created_by: None,
    };
    let (_, raw) =
        warden_core::api_keys::insert(&db, new, chrono::Utc::now()).await.expect("mint a key");
    raw.raw.expose().to_owned()
}

/// Health of the whole server, or `None` when it does not answer.
pub async fn health_status(addr: SocketAddr) -> Option<ServingStatus> {
    let channel = Endpoint::from_shared(format!("http://{addr}")).ok()?.connect().await.ok()?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest { service: String::new() })
        .await
        .ok()?;
    Some(response.into_inner().status())
}

async fn users_client(
    addr: SocketAddr,
) -> warden_proto::v1::users_service_client::UsersServiceClient<tonic::transport::Channel> {
    warden_proto::v1::users_service_client::UsersServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("connect")
}

/// GetUser with a bearer credential; the answer does not matter to callers.
pub async fn call_get_user(addr: SocketAddr, credential: &str) -> Result<(), tonic::Status> {
    let mut request = tonic::Request::new(warden_proto::v1::GetUserRequest::default());
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {credential}").parse().expect("ascii"));
    users_client(addr).await.get_user(request).await.map(|_| ())
}

/// Any call carrying a W3C `traceparent`.
pub async fn call_with_traceparent(addr: SocketAddr, traceparent: &str) {
    let mut request = tonic::Request::new(warden_proto::v1::GetUserRequest::default());
    request.metadata_mut().insert("traceparent", traceparent.parse().expect("ascii"));
    let _ = users_client(addr).await.get_user(request).await;
}

/// Setup, a failed and a good login, a refresh; returns every token issued.
pub async fn admin_sign_in_flow(addr: SocketAddr, password: &str) -> Vec<String> {
    use warden_proto::v1::{self as pb, admin_auth_service_client::AdminAuthServiceClient};
    let mut client =
        AdminAuthServiceClient::connect(format!("http://{addr}")).await.expect("connect");
    let email = "logs@example.com".to_owned();
    let setup = client
        .setup(pb::SetupRequest {
            email: email.clone(),
            password: password.into(),
            name: "L".into(),
        })
        .await
        .expect("setup")
        .into_inner();
    let _ = client
        .login(pb::LoginRequest {
            email: email.clone(),
            password: "WrongPasswordThatMustNotBeLogged".into(),
        })
        .await;
    let login = client
        .login(pb::LoginRequest { email, password: password.into() })
        .await
        .expect("login")
        .into_inner();
    let refreshed = client
        .refresh_token(pb::RefreshTokenRequest { refresh_token: login.refresh_token.clone() })
        .await
        .expect("refresh")
        .into_inner();
    vec![
        setup.access_token,
        setup.refresh_token,
        login.access_token,
        login.refresh_token,
        refreshed.access_token,
        refreshed.refresh_token,
    ]
}
