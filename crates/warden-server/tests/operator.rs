//! The binary as an operator first meets it: `warden` alone prints help,
//! database failures name the database once and never its password, a busy
//! port is reported before the database is touched, and operator commands
//! answer with one human line on stdout (logs go to stderr).

#![allow(clippy::unwrap_used)]

#[allow(unused_imports)]
mod support;

use std::{path::Path, time::Duration};

use sea_orm::EntityTrait;
use support::run_split;
use warden_core::entity::signing_keys;

const QUICK: Duration = Duration::from_secs(30);

async fn warden(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let (status, stdout, stderr) = run_split(dir, args, &[], QUICK).await;
    (status.success(), stdout, stderr)
}

/// The one line of stdout, which must be the only one.
fn only_line(stdout: &str) -> &str {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "stdout should be one human line:\n{stdout}");
    lines[0]
}

#[tokio::test]
async fn warden_alone_prints_help_with_the_defaults_and_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, stdout, stderr) = warden(dir.path(), &[]).await;
    assert!(!ok, "no subcommand is a usage error");
    let help = format!("{stdout}{stderr}");
    assert!(help.contains("Usage: warden"), "{help}");
    for shown in ["serve", "migrate", "127.0.0.1:50051", "./data"] {
        assert!(help.contains(shown), "{shown} missing from:\n{help}");
    }
    assert!(!dir.path().join("data").exists(), "nothing was created");

    let (ok, stdout, _) = warden(dir.path(), &["serve", "--help"]).await;
    assert!(ok);
    assert!(stdout.contains("[default: 127.0.0.1:50051]"), "{stdout}");
    assert!(stdout.contains("[default: ./data]"), "{stdout}");
}

/// No phrase of the error is said twice (drivers wrap errors whose text
/// already holds their cause).
fn assert_said_once(line: &str) {
    let parts: Vec<&str> = line.split(": ").map(str::trim).filter(|p| p.len() > 8).collect();
    for (i, part) in parts.iter().enumerate() {
        assert!(
            !parts[i + 1..].iter().any(|later| later.contains(part)),
            "repeats {part:?}: {line}"
        );
    }
}

/// The `warden: …` line on stderr.
fn error_line(stderr: &str) -> String {
    let line = stderr.lines().find(|line| line.starts_with("warden: "));
    line.unwrap_or_else(|| panic!("no error line in:\n{stderr}")).to_owned()
}

#[tokio::test]
async fn database_failures_name_the_database_once_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 1.
    let url = "postgres://warden:TopSecret@127.0.0.1:1/identity";
    let env = [("WARDEN_DATABASE__ACQUIRE_TIMEOUT_SECONDS", "1")];
    let (status, stdout, stderr) =
        run_split(dir.path(), &["migrate", "--database-url", url], &env, QUICK).await;
    assert!(!status.success());
    let line = error_line(&stderr);
    for named in ["PostgreSQL", "127.0.0.1:1", "identity", "warden"] {
        assert!(line.contains(named), "{named} missing: {line}");
    }
    assert_said_once(&line);
    assert!(!format!("{stdout}{stderr}").contains("TopSecret"), "the password leaked");

    let (ok, stdout, stderr) =
        warden(dir.path(), &["migrate", "--database-url", "mysql://root:pw@db/warden"]).await;
    assert!(!ok);
    let line = error_line(&stderr);
    assert!(line.contains("mysql") && line.contains("postgres://") && line.contains("sqlite://"));
    assert!(!line.contains("driver"), "{line}");
    assert!(!format!("{stdout}{stderr}").contains(":pw@"), "the password leaked");

    // An SQLite file in a directory that does not exist, opened read-only.
    let url = "sqlite:///nonexistent/warden-test/warden.db?mode=ro";
    let (ok, _, stderr) = warden(dir.path(), &["migrate", "--database-url", url]).await;
    assert!(!ok);
    let line = error_line(&stderr);
    assert!(line.contains("SQLite database /nonexistent/warden-test/warden.db"), "{line}");
    assert_said_once(&line);
}

#[tokio::test]
async fn a_port_in_use_is_reported_before_the_database_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let (ok, _, stderr) =
        warden(dir.path(), &["serve", "--listen", &addr, "--data-dir", "state"]).await;
    assert!(!ok);
    let line = error_line(&stderr);
    assert!(line.contains(&format!("cannot listen on {addr}")), "{line}");
    assert!(!dir.path().join("state").exists(), "the database was opened first");
}

#[tokio::test]
async fn operator_commands_answer_with_one_human_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = ["--data-dir", "state"];

    let (ok, stdout, stderr) = warden(dir.path(), &[&["migrate"][..], &data].concat()).await;
    assert!(ok, "{stderr}");
    assert!(only_line(&stdout).starts_with("applied "), "{stdout}");
    let (ok, stdout, _) = warden(dir.path(), &[&["migrate"][..], &data].concat()).await;
    assert!(ok);
    assert!(only_line(&stdout).contains("up to date"), "{stdout}");

    std::fs::write(dir.path().join("pw"), "an operator password\n").unwrap();
    let bootstrap = ["bootstrap-admin", "--email", "ops@example.com", "--password-file", "pw"];
    let (ok, stdout, stderr) = warden(dir.path(), &[&bootstrap[..], &data].concat()).await;
    assert!(ok, "{stderr}");
    assert!(only_line(&stdout).contains("ops@example.com"), "{stdout}");

    let (ok, stdout, stderr) = warden(dir.path(), &[&["keys", "rotate"][..], &data].concat()).await;
    assert!(ok, "{stderr}");
    let line = only_line(&stdout);
    let db_url = warden_core::db::sqlite_url_in(&dir.path().join("state"));
    let db = warden_core::db::connect(&db_url, &Default::default()).await.unwrap();
    let keys = signing_keys::Entity::find().all(&db).await.unwrap();
    let newest = keys.iter().max_by_key(|key| key.created_at).unwrap();
    assert!(line.contains(&newest.id.to_string()), "the new kid {} is not in {line:?}", newest.id);
}
