//! ListUsers at 100,000 users on PostgreSQL (a measurement, and a check that
//! no page plan has a Seq Scan on users):
//! seeds the population in bulk, ANALYZEs, prints `EXPLAIN (ANALYZE,
//! BUFFERS)` of the exact page SELECT the server issues for each scenario,
//! then times the RPCs. Ignored; run it by hand:
//!
//! WARDEN_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo test -p warden-tests -j 2 -- --ignored --nocapture explain_plans_with_100k_users

use std::time::{Duration as StdDuration, Instant};

use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Set, Statement, TransactionTrait};
use warden_core::{
    entity::user_roles,
    pagination::{PageKey, PageRequest},
    text_filter::{MatchMode, TextFilter},
    users::listing::{UserFilter, UserOrder, UserQuery, page_statement},
};
use warden_tests::Backend;

use super::*;

const USERS: usize = 100_000;
const GIVEN: [&str; 16] = [
    "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory",
    "Niaj", "Olivia", "Peggy", "Rupert", "Sybil",
];
const FAMILY: [&str; 25] = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood",
    "Jackson", "Clarke", "Patel", "Khan", "Lewis", "James", "Phillips",
];
const DOMAINS: [&str; 5] = ["example.com", "mail.test", "corp.example", "inbox.test", "acme.io"];
const PLANS: [&str; 4] = ["free", "free", "pro", "enterprise"];

fn row(i: usize, t0: DateTime<Utc>) -> users::ActiveModel {
    let given = GIVEN[i % GIVEN.len()];
    let family = FAMILY[(i / GIVEN.len()) % FAMILY.len()];
    let email = format!("{given}.{family}{i}@{}", DOMAINS[i % DOMAINS.len()]);
    let created = t0 + Duration::minutes(10 * i as i64);
    let username = (i % 5 < 3).then(|| format!("{}{i}", given.to_lowercase()));
    users::ActiveModel {
        id: Set(Uuid::now_v7()),
        email_normalized: Set(email.to_lowercase()),
        email: Set(email),
        username_normalized: Set(username.clone()),
        username: Set(username),
        given_name: Set(Some(given.to_owned())),
        family_name: Set(Some(family.to_owned())),
        phone: Set(i.is_multiple_of(2).then(|| format!("+1555{i:07}"))),
        email_verified: Set(!i.is_multiple_of(3)),
        phone_verified: Set(false),
        password_hash: Set(None),
        must_change_password: Set(false),
        metadata: Set(serde_json::json!({"plan": PLANS[i % 4], "cohort": format!("c{}", i % 100)})),
        is_active: Set(!i.is_multiple_of(50)),
        disabled_reason: Set(None),
        disabled_until: Set(None),
        failed_login_count: Set(0),
        locked_until: Set(None),
        last_failed_at: Set(None),
        mfa_enabled: Set(i.is_multiple_of(10)),
        tokens_valid_after: Set(created),
        last_login_at: Set((i % 10 < 7).then(|| created + Duration::hours((i % 500) as i64))),
        created_at: Set(created),
        updated_at: Set(created + Duration::hours((i % 100) as i64)),
    }
}

/// Everyone is a "user"; 1 in 20 also "support", 1 in 200 also "admin".
fn roles_of(i: usize) -> Vec<&'static str> {
    let mut roles = vec!["user"];
    if i.is_multiple_of(20) {
        roles.push("support");
    }
    if i.is_multiple_of(200) {
        roles.push("admin");
    }
    roles
}

async fn seed_bulk(app: &TestApp) {
    let started = Instant::now();
    let t0 = Utc::now() - Duration::minutes(10 * USERS as i64 + 60);
    let txn = app.db.begin().await.unwrap();
    for start in (0..USERS).step_by(1000) {
        let rows: Vec<users::ActiveModel> = (start..start + 1000).map(|i| row(i, t0)).collect();
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id.clone().unwrap()).collect();
        users::Entity::insert_many(rows).exec(&txn).await.unwrap();
        let roles = ids.iter().enumerate().flat_map(|(k, id)| {
            roles_of(start + k)
                .into_iter()
                .map(|role| user_roles::ActiveModel { user_id: Set(*id), role: Set(role.into()) })
        });
        user_roles::Entity::insert_many(roles).exec(&txn).await.unwrap();
    }
    txn.commit().await.unwrap();
    app.db
        .execute_unprepared("ANALYZE users; ANALYZE user_roles; ANALYZE user_identities")
        .await
        .unwrap();
    println!("seeded {USERS} users (+ roles) in {:.1?}, then ANALYZE", started.elapsed());
}

/// One measured case: the core query (for EXPLAIN) and the same request over gRPC.
struct Case {
    name: &'static str,
    input: UserQuery,
    request: ListUsersRequest,
}

impl Case {
    fn ascending(mut self) -> Self {
        self.input.descending = false;
        self
    }
}

fn case(
    name: &'static str,
    filter: UserFilter,
    order: UserOrder,
    request: ListUsersRequest,
) -> Case {
    let input = UserQuery { filter, order, descending: true };
    Case { name, input, request: ListUsersRequest { page_size: 50, ..request } }
}

fn cases() -> Vec<Case> {
    let contains = |v: &str| TextFilter::new(v, MatchMode::Contains);
    vec![
        case(
            "(a) email CONTAINS 'smith', created_at DESC, page of 50",
            UserFilter { email: contains("smith"), ..Default::default() },
            UserOrder::CreatedAt,
            ListUsersRequest {
                email: string_filter("smith", pb::MatchMode::Contains),
                ..Default::default()
            },
        ),
        case(
            "(a') email CONTAINS 'smith12' (rare), created_at DESC",
            UserFilter { email: contains("smith12"), ..Default::default() },
            UserOrder::CreatedAt,
            ListUsersRequest {
                email: string_filter("smith12", pb::MatchMode::Contains),
                ..Default::default()
            },
        ),
        case(
            "(a'') email STARTS_WITH 'alice.smith1', created_at DESC",
            UserFilter {
                email: TextFilter::new("alice.smith1", MatchMode::StartsWith),
                ..Default::default()
            },
            UserOrder::CreatedAt,
            ListUsersRequest {
                email: string_filter("alice.smith1", pb::MatchMode::StartsWith),
                ..Default::default()
            },
        ),
        case(
            "(b) role = 'admin' (0.5% of users), created_at DESC, page of 50",
            UserFilter { role: Some("admin".into()), ..Default::default() },
            UserOrder::CreatedAt,
            ListUsersRequest { role: "admin".into(), ..Default::default() },
        ),
        case(
            "(b') role = 'support' (5% of users), created_at DESC, page of 50",
            UserFilter { role: Some("support".into()), ..Default::default() },
            UserOrder::CreatedAt,
            ListUsersRequest { role: "support".into(), ..Default::default() },
        ),
        case(
            "(c) no filter, created_at DESC, page of 50",
            UserFilter::default(),
            UserOrder::CreatedAt,
            ListUsersRequest::default(),
        ),
        case(
            "(d) search 'patel' (email or names), created_at DESC",
            UserFilter { search: "patel".into(), ..Default::default() },
            UserOrder::CreatedAt,
            ListUsersRequest { search: "patel".into(), ..Default::default() },
        ),
        case(
            "(e) metadata plan = 'enterprise', created_at DESC",
            UserFilter {
                metadata: [("plan".to_owned(), "enterprise".to_owned())].into(),
                ..Default::default()
            },
            UserOrder::CreatedAt,
            ListUsersRequest {
                metadata: [("plan".to_owned(), "enterprise".to_owned())].into(),
                ..Default::default()
            },
        ),
        case(
            "(g) name CONTAINS 'alice smith' (given + family joined)",
            UserFilter { name: contains("alice smith"), ..Default::default() },
            UserOrder::CreatedAt,
            ListUsersRequest {
                name: string_filter("alice smith", pb::MatchMode::Contains),
                ..Default::default()
            },
        ),
        case(
            "(h) phone CONTAINS '0424', is_active = false",
            UserFilter { phone: contains("0424"), is_active: Some(false), ..Default::default() },
            UserOrder::CreatedAt,
            ListUsersRequest {
                phone: string_filter("0424", pb::MatchMode::Contains),
                is_active: Some(false),
                ..Default::default()
            },
        ),
        case(
            "(i) no filter, email ASC",
            UserFilter::default(),
            UserOrder::Email,
            ListUsersRequest {
                order_by: pb::UserOrderBy::Email.into(),
                order_direction: pb::SortDirection::Asc.into(),
                ..Default::default()
            },
        )
        .ascending(),
        case(
            "(j) no filter, username ASC (nullable, COALESCE key)",
            UserFilter::default(),
            UserOrder::Username,
            ListUsersRequest {
                order_by: pb::UserOrderBy::Username.into(),
                order_direction: pb::SortDirection::Asc.into(),
                ..Default::default()
            },
        )
        .ascending(),
        case(
            "(f) no filter, last_login_at DESC (nullable, COALESCE key)",
            UserFilter::default(),
            UserOrder::LastLoginAt,
            ListUsersRequest {
                order_by: pb::UserOrderBy::LastLoginAt.into(),
                ..Default::default()
            },
        ),
    ]
}

/// A page of 50 of `input`, as the RPC asks for it; `token` continues one.
/// The key is the server's own (shared through the database), so the
/// server's tokens open.
async fn page_of(app: &TestApp, input: &UserQuery, token: &str) -> PageRequest {
    let key = PageKey::load(&app.db, Utc::now()).await.expect("the server's page key");
    PageRequest::parse(&key, 50, token, 0, false, Some(&input.fingerprint())).expect("page")
}

async fn explain(app: &TestApp, title: &str, input: &UserQuery, page: &PageRequest) {
    let page = page_statement(DbBackend::Postgres, input, page, Utc::now())
        .expect("same query as the RPC");
    let explain = Statement {
        sql: format!("EXPLAIN (ANALYZE, BUFFERS) {}", page.sql),
        values: page.values.clone(),
        db_backend: DbBackend::Postgres,
    };
    let rows = app.db.query_all_raw(explain).await.unwrap();
    println!("\n#### {title}\n\n```sql\n{}\n```\n\n```text", page.sql);
    let mut plan = String::new();
    for row in rows {
        let line = row.try_get::<String>("", "QUERY PLAN").unwrap();
        println!("{line}");
        plan.push_str(&line);
        plan.push('\n');
    }
    println!("```");
    // At 100,000 users no page reads the whole table.
    assert!(!plan.contains("Seq Scan on users"), "{title} scans users:\n{plan}");
}

/// The same statement as the server's pooled connections run it once
/// PostgreSQL has switched to a generic plan (values unknown at planning),
/// which happens after five executions of a prepared statement.
async fn explain_generic(app: &TestApp, title: &str, input: &UserQuery, page: &PageRequest) {
    use sea_orm::sea_query::{PostgresQueryBuilder, QueryBuilder};
    let page = page_statement(DbBackend::Postgres, input, page, Utc::now()).expect("same query");
    let values = page.values.map(|v| v.0).unwrap_or_default();
    let args: Vec<String> =
        values.iter().map(|v| PostgresQueryBuilder.value_to_string(v)).collect();
    // One connection for SET, PREPARE and EXECUTE.
    let txn = app.db.begin().await.unwrap();
    txn.execute_unprepared("SET LOCAL plan_cache_mode = force_generic_plan").await.unwrap();
    txn.execute_unprepared(&format!("PREPARE listing AS {}", page.sql)).await.unwrap();
    let sql = format!("EXPLAIN (ANALYZE, BUFFERS) EXECUTE listing({})", args.join(", "));
    let rows = txn.query_all_raw(Statement::from_string(DbBackend::Postgres, sql)).await.unwrap();
    txn.execute_unprepared("DEALLOCATE listing").await.unwrap();
    txn.rollback().await.unwrap();
    println!("\n#### {title} -- generic plan\n\n```text");
    for row in rows {
        println!("{}", row.try_get::<String>("", "QUERY PLAN").unwrap());
    }
    println!("```");
}

/// Sequential RPC latencies: (requests/s, p50, p99).
async fn time_rpc(
    client: &mut Client,
    key: &str,
    request: &ListUsersRequest,
    n: usize,
) -> (f64, StdDuration, StdDuration) {
    let mut samples = Vec::with_capacity(n);
    let started = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        list(client, key, request.clone()).await.expect("list");
        samples.push(t.elapsed());
    }
    let total = started.elapsed();
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    (n as f64 / total.as_secs_f64(), at(0.50), at(0.99))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement: seeds 100,000 users on PostgreSQL; see BENCHMARKS.md"]
async fn explain_plans_with_100k_users() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        panic!("set WARDEN_TEST_POSTGRES_URL: this measurement needs PostgreSQL");
    };
    seed_bulk(&app).await;
    let (mut c, key) = caller(&app).await;
    let mut timings = Vec::new();
    for case in cases() {
        let page = page_of(&app, &case.input, "").await;
        explain(&app, case.name, &case.input, &page).await;
        explain_generic(&app, case.name, &case.input, &page).await;
        let first = list(&mut c, &key, case.request.clone()).await.unwrap();
        assert!(!first.users.is_empty(), "{}", case.name);
        let timed = time_rpc(&mut c, &key, &case.request, 200).await;
        timings.push((format!("{} ({} rows)", case.name, first.users.len()), timed));
        if first.next_page_token.is_empty() {
            continue;
        }
        // The keyset second page of the same query.
        let token = first.next_page_token;
        let second = page_of(&app, &case.input, &token).await;
        let title = format!("{} -- keyset second page", case.name);
        explain(&app, &title, &case.input, &second).await;
        explain_generic(&app, &title, &case.input, &second).await;
        let request = ListUsersRequest { page_token: token, ..case.request.clone() };
        let timed = time_rpc(&mut c, &key, &request, 200).await;
        timings.push((title, timed));
    }
    println!("\n| query | requests/s | p50 | p99 |\n|---|---|---|---|");
    for (name, (rps, p50, p99)) in timings {
        println!("| {name} | {rps:.0} | {:.2} ms | {:.2} ms |", ms(p50), ms(p99));
    }
}

fn ms(d: StdDuration) -> f64 {
    d.as_secs_f64() * 1000.0
}
