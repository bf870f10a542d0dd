//! The database going away under load (its connections cut and new ones
//! refused, as during a PostgreSQL restart): calls answer UNAVAILABLE, never
//! an authentication failure or INTERNAL; health reports NOT_SERVING within a
//! check interval and SERVING again after; no acknowledged write is lost.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tokio::sync::Mutex;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use warden_core::{entity::users, scope::ScopeSet};
use warden_proto::v1::{self as pb, users_service_client::UsersServiceClient};
use warden_tests::{Backend, TestApp, authorized, proxy::TcpProxy};

use super::*;

async fn health(app: &TestApp) -> ServingStatus {
    let mut client = HealthClient::new(app.channel.clone());
    client.check(HealthCheckRequest { service: String::new() }).await.unwrap().into_inner().status()
}

/// Polls (bounded by count, not asserted on time) until health shows `wanted`.
async fn wait_for(app: &TestApp, wanted: ServingStatus) {
    for _ in 0..200 {
        if health(app).await == wanted {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("health never reported {wanted:?}");
}

/// `postgres://user@host:port/db` with host:port replaced by `addr`.
fn through(url: &str, addr: std::net::SocketAddr) -> String {
    let mut url = url::Url::parse(url).unwrap();
    url.set_host(Some(&addr.ip().to_string())).unwrap();
    url.set_port(Some(addr.port())).unwrap();
    url.to_string()
}

#[derive(Debug, Default)]
struct Seen {
    created: Vec<String>,
    refused: Vec<(Code, String, String)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_under_load_answers_unavailable_and_loses_nothing() {
    let Ok(admin_url) = std::env::var("WARDEN_TEST_POSTGRES_URL") else {
        eprintln!("WARDEN_TEST_POSTGRES_URL is not set: skipping the outage test");
        return;
    };
    let server = url::Url::parse(&admin_url).unwrap();
    let upstream =
        tokio::net::lookup_host((server.host_str().unwrap(), server.port().unwrap_or(5432)))
            .await
            .unwrap()
            .next()
            .unwrap();
    let proxy = TcpProxy::start(upstream).await;
    let Some(app) = TestApp::spawn_with(Backend::Postgres, |config| {
        let url = config.database_url.clone().expect("a PostgreSQL test database");
        config.database_url = Some(through(&url, proxy.addr));
        config.database.acquire_timeout_seconds = 1;
    })
    .await
    else {
        return;
    };
    let root = app.setup_admin().await;
    let key = app.api_key(ScopeSet::all()).await;
    assert_eq!(health(&app).await, ServingStatus::Serving);

    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for worker in 0..4 {
        let (seen, stop, channel) = (seen.clone(), stop.clone(), app.channel.clone());
        let (key, jwt) = (key.clone(), root.access_token.clone());
        load.push(tokio::spawn(async move {
            let mut users = UsersServiceClient::new(channel.clone());
            let mut admin = pb::admin_auth_service_client::AdminAuthServiceClient::new(channel);
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let email = format!("load-{worker}-{n}@example.com");
                let create = pb::CreateUserRequest {
                    email: email.clone(),
                    password_source: Some(
                        pb::create_user_request::PasswordSource::GeneratePassword(true),
                    ),
                    ..Default::default()
                };
                // An API key and an admin JWT: both credentials are checked against the database.
                let created = users.create_user(authorized(create, &key)).await;
                let me =
                    admin.get_current_admin(authorized(pb::GetCurrentAdminRequest {}, &jwt)).await;
                let mut seen = seen.lock().await;
                match created {
                    Ok(_) => seen.created.push(email),
                    Err(status) => {
                        seen.refused.push((status.code(), reason_of(&status), "CreateUser".into()))
                    }
                }
                if let Err(status) = me {
                    seen.refused.push((
                        status.code(),
                        reason_of(&status),
                        "GetCurrentAdmin".into(),
                    ));
                }
            }
        }));
    }

    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.cut();
    wait_for(&app, ServingStatus::NotServing).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    proxy.restore();
    wait_for(&app, ServingStatus::Serving).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::SeqCst);
    for worker in load {
        worker.await.unwrap();
    }

    let seen = seen.lock().await;
    assert!(!seen.refused.is_empty(), "the outage was observed");
    for (code, reason, method) in &seen.refused {
        assert_eq!(
            (*code, reason.as_str()),
            (Code::Unavailable, "UNAVAILABLE"),
            "{method} during the outage"
        );
    }
    // Every acknowledged create is there.
    let stored = users::Entity::find()
        .filter(users::Column::Email.is_in(seen.created.clone()))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), seen.created.len(), "acknowledged writes survive");
    // And the server works again.
    let mut client = UsersServiceClient::new(app.channel.clone());
    let create = pb::CreateUserRequest {
        email: "after@example.com".into(),
        password_source: Some(pb::create_user_request::PasswordSource::GeneratePassword(true)),
        ..Default::default()
    };
    client.create_user(authorized(create, &key)).await.expect("writes succeed after the outage");
}
