//! GetUserStats on a seeded population, and disables/locks that lift by
//! themselves as the (manual) clock passes their end.

use std::{collections::HashMap, sync::Arc};

use warden_core::clock::ManualClock;
use warden_tests::Backend;

use super::*;

async fn stats(client: &mut Client, key: &str) -> pb::GetUserStatsResponse {
    client
        .get_user_stats(authorized(pb::GetUserStatsRequest {}, key))
        .await
        .expect("stats")
        .into_inner()
}

fn active_filter(active: bool) -> ListUsersRequest {
    ListUsersRequest { is_active: Some(active), ..Default::default() }
}

async fn stats_follow_the_clock(backend: Backend) {
    let start = Utc::now().trunc_subsecs(0);
    let clock = ManualClock::new(start);
    let Some(app) = TestApp::spawn_with_clock(backend, Arc::new(clock.clone()), |_| {}).await
    else {
        return;
    };
    let (mut c, key) = caller(&app).await;
    let empty = stats(&mut c, &key).await;
    assert_eq!((empty.total, empty.active, empty.created_last_30d), (0, 0, 0));
    assert!(empty.counts_by_role.is_empty());

    let ago = |d: Duration| Some(start - d);
    let later = |d: Duration| Some(start + d);
    seed(
        &app,
        Seed {
            roles: &["admin", "user"],
            email_verified: true,
            mfa_enabled: true,
            created_at: ago(Duration::hours(1)),
            ..Seed::new("u1@stats.test")
        },
    )
    .await;
    seed(
        &app,
        Seed {
            roles: &["user"],
            disabled: Some(None),
            created_at: ago(Duration::days(2)),
            ..Seed::new("u2@stats.test")
        },
    )
    .await;
    let until = later(Duration::hours(1));
    seed(
        &app,
        Seed {
            disabled: Some(until),
            locked_until: later(Duration::minutes(30)),
            created_at: ago(Duration::days(10)),
            ..Seed::new("u3@stats.test")
        },
    )
    .await;
    seed(
        &app,
        Seed {
            email_verified: true,
            disabled: Some(ago(Duration::minutes(1))),
            created_at: ago(Duration::days(20)),
            ..Seed::new("u4@stats.test")
        },
    )
    .await;
    seed(
        &app,
        Seed {
            roles: &["support"],
            locked_until: ago(Duration::minutes(1)),
            created_at: ago(Duration::days(40)),
            ..Seed::new("u5@stats.test")
        },
    )
    .await;

    let now = stats(&mut c, &key).await;
    let counts = |s: &pb::GetUserStatsResponse| {
        (s.total, s.active, s.disabled, s.locked, s.email_verified, s.mfa_enabled)
    };
    assert_eq!(
        counts(&now),
        (5, 3, 2, 1, 2, 1),
        "u4's disable has already lifted, u5's lock passed"
    );
    let roles: HashMap<String, i64> =
        [("admin".into(), 1), ("user".into(), 2), ("support".into(), 1)].into();
    assert_eq!(now.counts_by_role, roles);
    assert_eq!((now.created_last_24h, now.created_last_7d, now.created_last_30d), (1, 2, 4));
    assert_eq!(now.generated_at, Some(ts(start)), "the injected clock's time");

    // ListUsers agrees: u3 is disabled until its `until`.
    let inactive = list(&mut c, &key, active_filter(false)).await.unwrap();
    assert_eq!(emails(&inactive), ["u2@stats.test", "u3@stats.test"], "newest first");
    assert!(!inactive.users[1].is_active && inactive.users[1].disabled_until.is_some());

    clock.advance(Duration::hours(2));
    let after = stats(&mut c, &key).await;
    assert_eq!(counts(&after), (5, 4, 1, 0, 2, 1), "u3's disable and lock have ended");
    assert_eq!((after.created_last_24h, after.created_last_7d, after.created_last_30d), (1, 2, 4));
    let inactive = list(&mut c, &key, active_filter(false)).await.unwrap();
    assert_eq!(emails(&inactive), ["u2@stats.test"]);
    let active = list(&mut c, &key, active_filter(true)).await.unwrap();
    let u3 = active.users.iter().find(|u| u.email == "u3@stats.test").expect("u3 counts as active");
    assert!(u3.is_active && !u3.is_locked);

    // Days pass: the windows move with the clock.
    clock.advance(Duration::days(3));
    let later_stats = stats(&mut c, &key).await;
    assert_eq!(
        (later_stats.created_last_24h, later_stats.created_last_7d, later_stats.created_last_30d),
        (0, 2, 4)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_follow_the_clock_sqlite() {
    stats_follow_the_clock(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_follow_the_clock_postgres() {
    stats_follow_the_clock(Backend::Postgres).await;
}
