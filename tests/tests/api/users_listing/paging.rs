//! Orders, keyset paging, offset, totals, page sizes and token binding.

use sea_orm::{EntityTrait, Set};
use warden_tests::db_test;

use super::*;

use pb::{SortDirection, UserOrderBy};

/// Nine users with ties on created_at and last_login_at, and gaps in
/// username, phone and last_login_at, so keyset ties and sentinels matter.
async fn population(app: &TestApp) -> Vec<users::Model> {
    let t0 = base_time();
    let created = [0, 0, 1, 1, 1, 2, 3, 3, 4];
    let login = [None, Some(60), None, Some(60), Some(120), None, Some(60), Some(180), None];
    let usernames = ["u-zed", "", "u-mid", "", "u-alpha", "", "u-beta", "", "u-omega"];
    let phones = ["+15550000009", "", "", "+15550000003", "", "", "+15550000001", "", ""];
    let mut seeded = Vec::new();
    for i in 0..9 {
        let minutes = |m: i64| t0 + Duration::minutes(m);
        let user = seed(
            app,
            Seed {
                username: usernames[i],
                phone: phones[i],
                created_at: Some(minutes(created[i])),
                updated_at: Some(minutes(100 - created[i] * 7 + (i as i64 % 2))),
                last_login_at: login[i].map(minutes),
                ..Seed::new(format!("p{}@paging.test", (b'a' + (i as u8 * 5) % 9) as char))
            },
        )
        .await;
        seeded.push(user);
    }
    seeded
}

/// The order the server must return, computed here from the seeded rows.
fn expected(users: &[users::Model], order: UserOrderBy, descending: bool) -> Vec<String> {
    let epoch = DateTime::<Utc>::UNIX_EPOCH;
    let key = |u: &users::Model| -> (String, Option<DateTime<Utc>>) {
        match order {
            UserOrderBy::Email => (u.email_normalized.clone(), None),
            UserOrderBy::Username => (u.username_normalized.clone().unwrap_or_default(), None),
            UserOrderBy::Phone => (u.phone.clone().unwrap_or_default(), None),
            UserOrderBy::UpdatedAt => (String::new(), Some(u.updated_at)),
            UserOrderBy::LastLoginAt => (String::new(), Some(u.last_login_at.unwrap_or(epoch))),
            UserOrderBy::Unspecified | UserOrderBy::CreatedAt => {
                (String::new(), Some(u.created_at))
            }
        }
    };
    let mut sorted: Vec<&users::Model> = users.iter().collect();
    sorted.sort_by(|a, b| {
        let ordering = key(a).cmp(&key(b)).then(a.id.cmp(&b.id));
        if descending { ordering.reverse() } else { ordering }
    });
    sorted.iter().map(|u| u.id.to_string()).collect()
}

fn ordered(order: UserOrderBy, direction: SortDirection) -> ListUsersRequest {
    ListUsersRequest {
        order_by: order.into(),
        order_direction: direction.into(),
        // Every page also filters, so the keyset composes with a WHERE.
        email: string_filter("@paging.", pb::MatchMode::Contains),
        ..Default::default()
    }
}

/// Walks every page of `request` with `page_size`; returns ids and page count.
async fn walk(
    client: &mut Client,
    key: &str,
    request: ListUsersRequest,
    page_size: i32,
) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page =
            list(client, key, ListUsersRequest { page_size, page_token: token, ..request.clone() })
                .await
                .expect("page");
        pages += 1;
        assert!(page.users.len() <= page_size as usize);
        ids.extend(page.users.iter().map(|u| u.id.clone()));
        token = page.next_page_token;
        if token.is_empty() {
            return (ids, pages);
        }
        assert!(pages < 20, "paging does not end");
    }
}

const ORDERS: [UserOrderBy; 7] = [
    UserOrderBy::Unspecified,
    UserOrderBy::Email,
    UserOrderBy::CreatedAt,
    UserOrderBy::UpdatedAt,
    UserOrderBy::Username,
    UserOrderBy::Phone,
    UserOrderBy::LastLoginAt,
];

db_test! {
    async fn every_order_both_ways_pages_without_gaps_or_repeats(app) {
        let users = population(&app).await;
        let (mut c, key) = caller(&app).await;
        for order in ORDERS {
            for direction in [SortDirection::Unspecified, SortDirection::Asc, SortDirection::Desc] {
                // The default direction is DESC.
                let descending = direction != SortDirection::Asc;
                let want = expected(&users, order, descending);
                let whole = list(&mut c, &key, ordered(order, direction)).await.unwrap();
                let got: Vec<String> = whole.users.iter().map(|u| u.id.clone()).collect();
                assert_eq!(got, want, "{order:?} {direction:?} in one page");
                assert!(whole.next_page_token.is_empty());

                let (paged, pages) = walk(&mut c, &key, ordered(order, direction), 3).await;
                assert_eq!(paged, want, "{order:?} {direction:?} paged by 3");
                assert_eq!(pages, 3, "9 users in pages of 3; the last has no token");
                let (paged, pages) = walk(&mut c, &key, ordered(order, direction), 4).await;
                assert_eq!((paged, pages), (want, 3), "{order:?} {direction:?} paged by 4");
            }
        }
    }
}

db_test! {
    async fn rows_changed_between_pages_do_not_repeat(app) {
        let users = population(&app).await;
        let (mut c, key) = caller(&app).await;
        let request = ordered(UserOrderBy::Email, SortDirection::Asc);
        let first = list(&mut c, &key, ListUsersRequest { page_size: 3, ..request.clone() }).await.unwrap();
        // A user from the first page is deleted and a new one sorts first.
        let gone = users.iter().find(|u| u.id.to_string() == first.users[0].id).unwrap();
        users::Entity::delete_by_id(gone.id).exec(&app.db).await.unwrap();
        seed(&app, Seed::new("a0@paging.test")).await;
        let mut rest = Vec::new();
        let mut token = first.next_page_token.clone();
        while !token.is_empty() {
            let next = ListUsersRequest { page_size: 3, page_token: token, ..request.clone() };
            let page = list(&mut c, &key, next).await.unwrap();
            rest.extend(page.users.iter().map(|u| u.id.clone()));
            token = page.next_page_token;
        }
        let want: Vec<String> = expected(&users, UserOrderBy::Email, false).into_iter().skip(3).collect();
        assert_eq!(rest, want, "the keyset resumes after the last row seen");
    }
}

db_test! {
    async fn offset_total_and_page_sizes(app) {
        let users = population(&app).await;
        let (mut c, key) = caller(&app).await;
        let by_email = expected(&users, UserOrderBy::Email, false);
        let request = ordered(UserOrderBy::Email, SortDirection::Asc);

        let page = list(&mut c, &key, ListUsersRequest { page_size: 3, offset: 2, ..request.clone() }).await.unwrap();
        let ids: Vec<String> = page.users.iter().map(|u| u.id.clone()).collect();
        assert_eq!(ids, by_email[2..5]);
        assert_eq!(page.total_size, 0, "no count unless asked");
        // The token continues after the offset page; offset applies to the first request only.
        let next = list(&mut c, &key, ListUsersRequest {
            page_size: 3, offset: 2, page_token: page.next_page_token, ..request.clone()
        }).await.unwrap();
        let ids: Vec<String> = next.users.iter().map(|u| u.id.clone()).collect();
        assert_eq!(ids, by_email[5..8]);

        let counted = list(&mut c, &key, ListUsersRequest {
            page_size: 2, include_total: true, ..request.clone()
        }).await.unwrap();
        assert_eq!((counted.users.len(), counted.total_size), (2, 9));
        let filtered = list(&mut c, &key, ListUsersRequest {
            include_total: true, last_login_at: range(Some(base_time()), None), ..request.clone()
        }).await.unwrap();
        assert_eq!((filtered.users.len(), filtered.total_size), (5, 5));
        let beyond = list(&mut c, &key, ListUsersRequest {
            offset: 50, include_total: true, ..request.clone()
        }).await.unwrap();
        assert_eq!((beyond.users.len(), beyond.total_size, beyond.next_page_token.as_str()), (0, 9, ""));

        // 0 -> the default (50): all nine on one page.
        let default = list(&mut c, &key, ListUsersRequest { page_size: 0, ..request.clone() }).await.unwrap();
        assert_eq!(default.users.len(), 9);
        let err = list(&mut c, &key, ListUsersRequest { page_size: -1, ..request.clone() }).await.unwrap_err();
        assert_eq!(invalid_fields(&err), ["page_size"]);
        let err = list(&mut c, &key, ListUsersRequest { offset: -1, ..request.clone() }).await.unwrap_err();
        assert_eq!(invalid_fields(&err), ["offset"]);
    }
}

db_test! {
    async fn tokens_are_bound_to_their_filter_and_order(app) {
        population(&app).await;
        let (mut c, key) = caller(&app).await;
        let request = ordered(UserOrderBy::Email, SortDirection::Asc);
        let first = list(&mut c, &key, ListUsersRequest { page_size: 2, ..request.clone() }).await.unwrap();
        let token = first.next_page_token;
        assert!(!token.is_empty());
        let others = [
            ListUsersRequest { role: "admin".into(), ..request.clone() },
            ListUsersRequest { email: string_filter("@paging.t", pb::MatchMode::Contains), ..request.clone() },
            ListUsersRequest { is_active: Some(true), ..request.clone() },
            ListUsersRequest { metadata: [("a".to_owned(), "b".to_owned())].into(), ..request.clone() },
            ordered(UserOrderBy::Email, SortDirection::Desc),
            ordered(UserOrderBy::Username, SortDirection::Asc),
        ];
        for other in others {
            let err = list(&mut c, &key, ListUsersRequest { page_token: token.clone(), ..other.clone() })
                .await
                .unwrap_err();
            assert_eq!(invalid_fields(&err), ["page_token"], "{other:?}");
        }
        // Page size, offset and include_total may change between pages.
        list(&mut c, &key, ListUsersRequest {
            page_size: 5, include_total: true, page_token: token.clone(), ..request.clone()
        }).await.expect("same query");
        let err = list(&mut c, &key, ListUsersRequest { page_token: "bm90IGEgdG9rZW4".into(), ..request })
            .await
            .unwrap_err();
        assert_eq!(invalid_fields(&err), ["page_token"]);
    }
}

db_test! {
    async fn invalid_requests_list_every_problem(app) {
        let (mut c, key) = caller(&app).await;
        let now = Utc::now();
        let err = list(&mut c, &key, ListUsersRequest {
            page_size: -5,
            created_at: range(Some(now), Some(now)),
            last_login_at: range(Some(now), Some(now - Duration::hours(1))),
            updated_at: Some(pb::TimeRange {
                after: Some(prost_types::Timestamp { seconds: 0, nanos: -1 }),
                before: None,
            }),
            order_by: 99,
            order_direction: 7,
            name: Some(pb::StringFilter { value: "x".into(), mode: 42 }),
            search: "s".repeat(300),
            metadata: (0..17).map(|i| (format!("k{i}"), "v".to_owned())).collect(),
            ..Default::default()
        }).await.unwrap_err();
        let mut fields = invalid_fields(&err);
        fields.sort();
        assert_eq!(fields, [
            "created_at", "last_login_at", "metadata", "name.mode", "order_by",
            "order_direction", "page_size", "search", "updated_at.after",
        ]);
        // A range may be open on either side; an empty one is refused.
        list(&mut c, &key, ListUsersRequest { created_at: range(Some(now), None), ..Default::default() })
            .await
            .expect("open range");
    }
}

db_test! {
    async fn page_size_above_the_cap_is_coerced_to_1000(app) {
        // 1001 plain rows, inserted in bulk: only the page size matters here.
        let t0 = base_time();
        let rows: Vec<users::ActiveModel> = (0..1001)
            .map(|i| {
                let at = t0 + Duration::seconds(i);
                let email = format!("bulk{i:04}@cap.test");
                users::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    email: Set(email.clone()),
                    email_normalized: Set(email),
                    username: Set(None),
                    username_normalized: Set(None),
                    given_name: Set(None),
                    family_name: Set(None),
                    phone: Set(None),
                    email_verified: Set(false),
                    phone_verified: Set(false),
                    password_hash: Set(None),
                    must_change_password: Set(false),
                    metadata: Set(serde_json::json!({})),
                    is_active: Set(true),
                    disabled_reason: Set(None),
                    disabled_until: Set(None),
                    failed_login_count: Set(0),
                    locked_until: Set(None),
                    last_failed_at: Set(None),
                    mfa_enabled: Set(false),
                    tokens_valid_after: Set(at),
                    last_login_at: Set(None),
                    created_at: Set(at),
                    updated_at: Set(at),
                }
            })
            .collect();
        for chunk in rows.chunks(250) {
            users::Entity::insert_many(chunk.to_vec()).exec(&app.db).await.unwrap();
        }
        let (mut c, key) = caller(&app).await;
        let first = list(&mut c, &key, ListUsersRequest { page_size: 5000, ..Default::default() }).await.unwrap();
        assert_eq!(first.users.len(), 1000);
        assert!(!first.next_page_token.is_empty());
        let rest = list(&mut c, &key, ListUsersRequest {
            page_size: 5000, page_token: first.next_page_token, ..Default::default()
        }).await.unwrap();
        assert_eq!(rest.users.len(), 1);
        assert_eq!(rest.users[0].email, "bulk0000@cap.test", "newest first: the oldest is last");
        assert!(rest.next_page_token.is_empty());
    }
}
