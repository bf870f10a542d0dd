//! `warden bootstrap-admin` as a Kubernetes Job runs it: creates the first
//! admin from a password file, succeeds and changes nothing when an admin
//! exists, refuses bad input by name, and the admin it made can sign in to
//! `warden serve` on the same data directory.

#![allow(clippy::unwrap_used)]

#[allow(unused_imports)]
mod support;

use std::path::Path;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use support::{Warden, run_to_end};
use tonic::Code;
use warden_core::entity::{admins, audit_events};
use warden_proto::v1::{LoginRequest, admin_auth_service_client::AdminAuthServiceClient};

const EMAIL: &str = "a@example.com";
const PASSWORD: &str = "a bootstrap password";

fn write_password(dir: &Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write password file");
    path.to_str().expect("utf-8 path").to_owned()
}

async fn bootstrap(dir: &Path, data: &Path, email: &str, password_file: &str) -> (bool, String) {
    let data = data.to_str().expect("utf-8 path");
    let args =
        ["bootstrap-admin", "--email", email, "--password-file", password_file, "--data-dir", data];
    let (status, output) = run_to_end(dir, &args, &[]).await;
    (status.success(), output)
}

async fn open(data: &Path) -> DatabaseConnection {
    let url = warden_core::db::sqlite_url_in(data);
    warden_core::db::connect(&url, &Default::default()).await.expect("open the data dir's database")
}

#[tokio::test]
async fn creates_the_first_admin_once_and_then_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A mounted secret usually ends with a newline; it is not part of the password.
    let file = write_password(dir.path(), "password", &format!("{PASSWORD}\n"));
    let (ok, output) = bootstrap(dir.path(), &data, EMAIL, &file).await;
    assert!(ok, "first run succeeds:\n{output}");

    let db = open(&data).await;
    let created = admins::Entity::find().all(&db).await.unwrap();
    assert_eq!(created.len(), 1, "{created:?}");
    let admin = &created[0];
    assert_eq!(admin.email, EMAIL);
    assert_eq!(admin.role, "dashboard_admin");
    assert!(admin.is_active);
    assert!(admin.password_hash.starts_with("$argon2id$"));
    assert!(!admin.password_hash.contains(PASSWORD));
    let audited = audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq("admin.bootstrap"))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(audited, 1);
    drop(db);

    // Again, even with other credentials: success, and nothing changes.
    let other = write_password(dir.path(), "other", "another long password\n");
    for (email, file) in [(EMAIL, &file), ("b@example.com", &other)] {
        let (ok, output) = bootstrap(dir.path(), &data, email, file).await;
        assert!(ok, "a rerun succeeds:\n{output}");
    }
    let db = open(&data).await;
    let after = admins::Entity::find().all(&db).await.unwrap();
    assert_eq!(after, created, "the admin row is untouched");
    let audited = audit_events::Entity::find().count(&db).await.unwrap();
    assert_eq!(audited, 1, "reruns write no audit rows");
}

#[tokio::test]
async fn refuses_a_short_password_or_a_bad_email_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let short = write_password(dir.path(), "short", "too short\n");
    let (ok, output) = bootstrap(dir.path(), &data, EMAIL, &short).await;
    assert!(!ok, "a short password fails:\n{output}");
    assert!(output.contains("password"), "names the password:\n{output}");
    assert!(output.contains("12 characters"), "says how long it must be:\n{output}");

    let good = write_password(dir.path(), "good", PASSWORD);
    let (ok, output) = bootstrap(dir.path(), &data, "not-an-email", &good).await;
    assert!(!ok, "a bad email fails:\n{output}");
    assert!(output.contains("email"), "names the email:\n{output}");

    let missing = dir.path().join("missing").to_str().unwrap().to_owned();
    let (ok, output) = bootstrap(dir.path(), &data, EMAIL, &missing).await;
    assert!(!ok, "a missing password file fails:\n{output}");
    assert!(output.contains(&missing), "names the file:\n{output}");

    if data.join("warden.db").exists() {
        let db = open(&data).await;
        assert_eq!(admins::Entity::find().count(&db).await.unwrap(), 0, "nothing was created");
    }
}

#[tokio::test]
async fn the_bootstrapped_admin_signs_in_to_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = write_password(dir.path(), "password", &format!("{PASSWORD}\r\n"));
    let (ok, output) = bootstrap(dir.path(), &data, EMAIL, &file).await;
    assert!(ok, "bootstrap succeeds:\n{output}");

    let data_arg = data.to_str().unwrap();
    let warden = Warden::spawn(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0", "--data-dir", data_arg],
        &[],
    )
    .await;
    let mut client =
        AdminAuthServiceClient::connect(format!("http://{}", warden.addr)).await.expect("connect");
    let login = client
        .login(LoginRequest { email: EMAIL.into(), password: PASSWORD.into() })
        .await
        .expect("the bootstrapped admin signs in")
        .into_inner();
    let admin = login.admin.expect("admin");
    assert_eq!(admin.email, EMAIL);
    assert_eq!(admin.role, "dashboard_admin");
    assert!(!login.access_token.is_empty() && !login.refresh_token.is_empty());
    let wrong = client
        .login(LoginRequest { email: EMAIL.into(), password: format!("{PASSWORD}\r\n") })
        .await
        .expect_err("the file's line ending is not part of the password");
    assert_eq!(wrong.code(), Code::Unauthenticated);
    let (status, _) = warden.terminate_and_wait().await;
    assert!(status.success(), "{status:?}");
}
