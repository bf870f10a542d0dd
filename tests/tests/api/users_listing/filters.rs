//! Every ListUsers filter alone, some combined, over a small population.

use pb::MatchMode::{Contains, Equals, StartsWith};
use warden_tests::db_test;

use super::*;

/// Six users, created a minute apart in this order (and so sorted the
/// same way by email): alice, bob, carol, dave, erin, frank.
async fn population(app: &TestApp) -> DateTime<Utc> {
    let t0 = base_time();
    let at = |minutes: i64| Some(t0 + Duration::minutes(minutes));
    let now = Utc::now();
    let people = [
        Seed {
            username: "alice_s",
            given_name: "Alice",
            family_name: "Smith",
            phone: "+14155550101",
            roles: &["admin", "user"],
            metadata: serde_json::json!({"plan": "pro", "seats": 5, "beta": true}),
            email_verified: true,
            phone_verified: true,
            mfa_enabled: true,
            last_login_at: Some(t0 + Duration::hours(2)),
            ..Seed::new("Alice.Smith@Example.com")
        },
        Seed {
            username: "BobJ",
            given_name: "Bob",
            family_name: "Jones",
            phone: "+14155550102",
            roles: &["user"],
            metadata: serde_json::json!({"plan": "free"}),
            last_login_at: Some(t0 + Duration::hours(1)),
            providers: &["google"],
            ..Seed::new("bob.jones@example.org")
        },
        Seed {
            given_name: "Carol",
            family_name: "Smithers",
            metadata: serde_json::json!({"plan": "pro", "tags": ["a", "b"]}),
            disabled: Some(None),
            ..Seed::new("carol@sample.net")
        },
        Seed {
            username: "dave99",
            given_name: "Dave",
            phone: "+442071838750",
            roles: &["user"],
            locked_until: Some(now + Duration::hours(1)),
            last_login_at: Some(t0 + Duration::hours(3)),
            ..Seed::new("dave@example.com")
        },
        Seed {
            username: "erin",
            given_name: "Erin",
            family_name: "Lee",
            metadata: serde_json::json!({"seats": "5"}),
            // A disable that has lifted by itself: active again.
            disabled: Some(Some(now - Duration::hours(1))),
            // A lock that has passed.
            locked_until: Some(now - Duration::minutes(1)),
            ..Seed::new("erin@example.com")
        },
        Seed {
            username: "frankie",
            given_name: "Frank",
            family_name: "Jones",
            phone: "+33123456789",
            last_login_at: Some(t0 + Duration::hours(1)),
            providers: &["google", "github"],
            ..Seed::new("Frank@Sample.net")
        },
    ];
    for (i, person) in people.into_iter().enumerate() {
        let minute = i as i64;
        let updated = at(50 - 10 * minute);
        seed(app, Seed { created_at: at(minute), updated_at: updated, ..person }).await;
    }
    t0
}

/// Sorted by email, so expectations read as a list of names.
fn query() -> ListUsersRequest {
    ListUsersRequest {
        page_size: 100,
        order_by: pb::UserOrderBy::Email.into(),
        order_direction: pb::SortDirection::Asc.into(),
        ..Default::default()
    }
}

/// First names (the local part before `.`/`@`, lower-cased) of the listing.
async fn names(client: &mut Client, key: &str, request: ListUsersRequest) -> Vec<String> {
    let response = list(client, key, request).await.expect("list");
    assert!(response.next_page_token.is_empty());
    emails(&response)
        .iter()
        .map(|e| e.split(['.', '@']).next().unwrap_or_default().to_lowercase())
        .collect()
}

fn text(mode: pb::MatchMode, value: &str) -> Option<pb::StringFilter> {
    string_filter(value, mode)
}

db_test! {
    async fn each_filter_alone_and_combined(app) {
        let t0 = population(&app).await;
        let (mut c, key) = caller(&app).await;
        let at = |minutes: i64| Some(t0 + Duration::minutes(minutes));
        let cases: Vec<(&str, ListUsersRequest, &[&str])> = vec![
            ("no filter", query(), &["alice", "bob", "carol", "dave", "erin", "frank"]),
            ("email contains", ListUsersRequest { email: text(Contains, "EXAMPLE"), ..query() },
                &["alice", "bob", "dave", "erin"]),
            ("email starts", ListUsersRequest { email: text(StartsWith, "alice."), ..query() }, &["alice"]),
            ("email starts, any case", ListUsersRequest { email: text(StartsWith, "FRANK@S"), ..query() },
                &["frank"]),
            ("email starts with the whole address", ListUsersRequest {
                email: text(StartsWith, "carol@sample.net"), ..query() }, &["carol"]),
            ("email starts, one letter", ListUsersRequest { email: text(StartsWith, "d"), ..query() },
                &["dave"]),
            ("email prefix wildcards are literal", ListUsersRequest {
                email: text(StartsWith, "_"), ..query() }, &[]),
            ("email equals", ListUsersRequest { email: text(Equals, "DAVE@example.com"), ..query() }, &["dave"]),
            ("email default mode is equals", ListUsersRequest {
                email: text(pb::MatchMode::Unspecified, "dave"), ..query() }, &[]),
            ("email wildcards are literal", ListUsersRequest { email: text(Contains, "%"), ..query() }, &[]),
            ("username equals", ListUsersRequest { username: text(Equals, "BOBJ"), ..query() }, &["bob"]),
            ("username starts", ListUsersRequest { username: text(StartsWith, "ALI"), ..query() }, &["alice"]),
            ("username contains", ListUsersRequest { username: text(Contains, "e"), ..query() },
                &["alice", "dave", "erin", "frank"]),
            ("name contains", ListUsersRequest { name: text(Contains, "SMITH"), ..query() }, &["alice", "carol"]),
            ("name equals family", ListUsersRequest { name: text(Equals, "jones"), ..query() }, &["bob", "frank"]),
            ("name starts", ListUsersRequest { name: text(StartsWith, "da"), ..query() }, &["dave"]),
            ("full name contains", ListUsersRequest { name: text(Contains, "bob jones"), ..query() }, &["bob"]),
            ("full name equals", ListUsersRequest { name: text(Equals, "Frank Jones"), ..query() }, &["frank"]),
            ("full name across the space", ListUsersRequest { name: text(Contains, "n l"), ..query() }, &["erin"]),
            ("phone starts", ListUsersRequest { phone: text(StartsWith, "+1415"), ..query() }, &["alice", "bob"]),
            ("phone contains", ListUsersRequest { phone: text(Contains, "0718"), ..query() }, &["dave"]),
            ("phone equals", ListUsersRequest { phone: text(Equals, "+33123456789"), ..query() }, &["frank"]),
            ("search names", ListUsersRequest { search: "SMITH".into(), ..query() }, &["alice", "carol"]),
            ("search email", ListUsersRequest { search: "sample".into(), ..query() }, &["carol", "frank"]),
            ("search full name", ListUsersRequest { search: " bob jones ".into(), ..query() }, &["bob"]),
            ("blank search", ListUsersRequest { search: "  ".into(), ..query() },
                &["alice", "bob", "carol", "dave", "erin", "frank"]),
            ("role admin", ListUsersRequest { role: "admin".into(), ..query() }, &["alice"]),
            ("role user", ListUsersRequest { role: "user".into(), ..query() }, &["alice", "bob", "dave"]),
            ("unknown role", ListUsersRequest { role: "nobody".into(), ..query() }, &[]),
            ("active", ListUsersRequest { is_active: Some(true), ..query() },
                &["alice", "bob", "dave", "erin", "frank"]),
            ("inactive", ListUsersRequest { is_active: Some(false), ..query() }, &["carol"]),
            ("locked", ListUsersRequest { is_locked: Some(true), ..query() }, &["dave"]),
            ("unlocked", ListUsersRequest { is_locked: Some(false), ..query() },
                &["alice", "bob", "carol", "erin", "frank"]),
            ("email verified", ListUsersRequest { email_verified: Some(true), ..query() }, &["alice"]),
            ("email unverified", ListUsersRequest { email_verified: Some(false), ..query() },
                &["bob", "carol", "dave", "erin", "frank"]),
            ("phone verified", ListUsersRequest { phone_verified: Some(true), ..query() }, &["alice"]),
            ("social", ListUsersRequest { has_social_auth: Some(true), ..query() }, &["bob", "frank"]),
            ("not social", ListUsersRequest { has_social_auth: Some(false), ..query() },
                &["alice", "carol", "dave", "erin"]),
            ("mfa", ListUsersRequest { mfa_enabled: Some(true), ..query() }, &["alice"]),
            ("no mfa", ListUsersRequest { mfa_enabled: Some(false), ..query() },
                &["bob", "carol", "dave", "erin", "frank"]),
            ("created range", ListUsersRequest { created_at: range(at(1), at(3)), ..query() }, &["bob", "carol"]),
            ("created after", ListUsersRequest { created_at: range(at(4), None), ..query() }, &["erin", "frank"]),
            ("created before", ListUsersRequest { created_at: range(None, at(1)), ..query() }, &["alice"]),
            ("updated range", ListUsersRequest { updated_at: range(at(10), at(30)), ..query() }, &["dave", "erin"]),
            ("last login after", ListUsersRequest { last_login_at: range(at(60), None), ..query() },
                &["alice", "bob", "dave", "frank"]),
            ("last login range", ListUsersRequest { last_login_at: range(at(60), at(120)), ..query() },
                &["bob", "frank"]),
            ("combined", ListUsersRequest {
                email: text(Contains, "example"), role: "user".into(), is_locked: Some(false), ..query() },
                &["alice", "bob"]),
            ("combined 2", ListUsersRequest {
                name: text(Contains, "jones"), has_social_auth: Some(true), created_at: range(at(2), None),
                ..query() }, &["frank"]),
        ];
        for (what, request, expected) in cases {
            assert_eq!(names(&mut c, &key, request).await, expected, "{what}");
        }
    }
}

/// Metadata pairs to filter by, and the names expected back.
type MetadataCase = (&'static [(&'static str, &'static str)], &'static [&'static str]);

fn metadata(pairs: &[(&str, &str)]) -> ListUsersRequest {
    ListUsersRequest {
        metadata: pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        ..query()
    }
}

db_test! {
    async fn metadata_filters_match_strings_and_json_values(app) {
        population(&app).await;
        let (mut c, key) = caller(&app).await;
        let cases: Vec<MetadataCase> = vec![
            (&[("plan", "pro")], &["alice", "carol"]),
            (&[("plan", "free")], &["bob"]),
            (&[("plan", "PRO")], &[]),
            // 5 (a number) and "5" (a string) both equal "5".
            (&[("seats", "5")], &["alice", "erin"]),
            (&[("seats", "5.0")], &["alice"]),
            (&[("beta", "true")], &["alice"]),
            (&[("plan", "pro"), ("seats", "5")], &["alice"]),
            (&[("tags", r#"["a","b"]"#)], &["carol"]),
            (&[("tags", r#"["a"]"#)], &[]),
            (&[("missing", "x")], &[]),
            (&[("it's \"quoted\"", "'; DROP TABLE users; --")], &[]),
        ];
        for (pairs, expected) in cases {
            assert_eq!(names(&mut c, &key, metadata(pairs)).await, expected, "{pairs:?}");
        }
        // Still there after the hostile key above.
        assert_eq!(names(&mut c, &key, query()).await.len(), 6);
    }
}

db_test! {
    async fn listed_users_are_full_users(app) {
        population(&app).await;
        let (mut c, key) = caller(&app).await;
        let response = list(&mut c, &key, query()).await.unwrap();
        let by_name = |prefix: &str| {
            response.users.iter().find(|u| u.email.to_lowercase().starts_with(prefix)).unwrap().clone()
        };
        let alice = by_name("alice");
        assert_eq!(alice.roles, ["admin", "user"]);
        assert_eq!((alice.username.as_str(), alice.phone.as_str()), ("alice_s", "+14155550101"));
        assert!(alice.mfa_enabled && alice.email_verified && alice.phone_verified && alice.is_active);
        assert!(alice.metadata.unwrap().fields.contains_key("plan"));
        let frank = by_name("frank");
        assert!(frank.has_social_auth);
        assert_eq!(frank.social_providers, ["github", "google"]);
        let carol = by_name("carol");
        assert!(!carol.is_active);
        assert_eq!(carol.disabled_reason, "seeded");
        let dave = by_name("dave");
        assert!(dave.is_locked && dave.locked_until.is_some());
        let erin = by_name("erin");
        assert!(erin.is_active && !erin.is_locked, "expired disable and lock no longer count");
    }
}
