use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use warden_tests::{Backend, TestApp, db_test};

async fn status_of(app: &TestApp, service: &str) -> ServingStatus {
    let mut health = HealthClient::new(app.channel.clone());
    let response = health
        .check(HealthCheckRequest { service: service.to_owned() })
        .await
        .expect("health answers without a credential");
    response.into_inner().status()
}

db_test! {
    async fn serving_after_migrations_for_the_server_and_each_service(app) {
        assert_eq!(status_of(&app, "").await, ServingStatus::Serving);
        for service in ["warden.v1.UsersService", "warden.v1.AdminAuthService", "warden.v1.AuditService"] {
            assert_eq!(status_of(&app, service).await, ServingStatus::Serving, "{service}");
        }
    }
}

db_test! {
    async fn not_serving_once_shutdown_begins(app) {
        let channel = app.channel.clone();
        let mut health = HealthClient::new(channel);
        let mut watch = health
            .watch(HealthCheckRequest { service: String::new() })
            .await
            .expect("watch")
            .into_inner();
        let first = watch.message().await.expect("first status").expect("a status");
        assert_eq!(first.status(), ServingStatus::Serving);
        let shutting_down = tokio::spawn(app.shutdown());
        let next = watch.message().await.expect("status change").expect("a status");
        assert_eq!(next.status(), ServingStatus::NotServing);
        shutting_down.await.expect("shutdown completes");
    }
}

/// Dropping the database cuts the server off: health must report it, and
/// recover once the database answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_serving_while_postgres_is_unreachable() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    assert_eq!(status_of(&app, "").await, ServingStatus::Serving);
    let postgres = app.postgres().expect("postgres backend");
    postgres.drop_now().await;
    wait_for(&app, ServingStatus::NotServing).await;
    // Unready, yet alive: the liveness probe must not restart the pod.
    assert_eq!(status_of(&app, warden_server::health::LIVENESS).await, ServingStatus::Serving);
    postgres.recreate().await;
    wait_for(&app, ServingStatus::Serving).await;
}

async fn wait_for(app: &TestApp, wanted: ServingStatus) {
    // Bounded by count, not asserted on time: the check interval is one second.
    for _ in 0..100 {
        if status_of(app, "").await == wanted {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("health never became {wanted:?}");
}
