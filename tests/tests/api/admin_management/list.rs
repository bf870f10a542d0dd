//! ListAdmins: filters, sorting both ways, paging without gaps, and
//! page tokens bound to their query.

use super::*;

/// Root plus five admins: four active, one disabled; two viewers.
async fn seed_for_listing(app: &TestApp) -> AdminSession {
    let root = app.setup_admin().await;
    let token = &root.access_token;
    create(app, token, "alice@example.com", ADMIN).await;
    create(app, token, "Alfred@Example.org", VIEWER).await;
    create(app, token, "bob@example.com", ADMIN).await;
    create(app, token, "Carol@Example.NET", VIEWER).await;
    let dave = create(app, token, "dave@example.com", ADMIN).await;
    let disable = pb::Admin { id: dave.id, is_active: false, ..Default::default() };
    app.admin_auth()
        .update_admin(authorized(update_request(disable, &["is_active"]), token))
        .await
        .expect("disable dave");
    root
}

const ALL_EMAILS: [&str; 6] = [
    "alfred@example.org",
    "alice@example.com",
    "bob@example.com",
    "carol@example.net",
    "dave@example.com",
    "root@example.com",
];

db_test! {
    async fn list_filters_by_email_case_insensitively_by_role_and_by_active(app) {
        let root = seed_for_listing(&app).await;
        let token = &root.access_token;
        let by_email = |value: &str, mode| pb::ListAdminsRequest {
            email: email_filter(value, mode),
            ..Default::default()
        };
        let page = list(&app, token, by_email("EXAMPLE.COM", MatchMode::Contains)).await;
        assert_eq!(emails(&page.admins), ["alice@example.com", "bob@example.com", "dave@example.com", "root@example.com"]);
        let page = list(&app, token, by_email("AL", MatchMode::StartsWith)).await;
        assert_eq!(emails(&page.admins), ["alfred@example.org", "alice@example.com"]);
        let page = list(&app, token, by_email("carol@EXAMPLE.net", MatchMode::Equals)).await;
        assert_eq!(emails(&page.admins), ["carol@example.net"]);
        assert_eq!(page.admins[0].email, "Carol@Example.NET", "stored as given");
        let page = list(&app, token, by_email("carol", MatchMode::Equals)).await;
        assert!(page.admins.is_empty(), "EQUALS is not a substring match");
        // LIKE wildcards in the value are literal.
        let page = list(&app, token, by_email("%", MatchMode::Contains)).await;
        assert!(page.admins.is_empty(), "{:?}", emails(&page.admins));

        let viewers = pb::ListAdminsRequest { role: VIEWER.into(), ..Default::default() };
        let page = list(&app, token, viewers).await;
        assert_eq!(emails(&page.admins), ["alfred@example.org", "carol@example.net"]);
        assert!(page.admins.iter().all(|a| a.role == VIEWER));

        let inactive = pb::ListAdminsRequest { is_active: Some(false), ..Default::default() };
        assert_eq!(emails(&list(&app, token, inactive).await.admins), ["dave@example.com"]);
        let active = pb::ListAdminsRequest { is_active: Some(true), ..Default::default() };
        assert_eq!(list(&app, token, active).await.admins.len(), 5);

        let combined = pb::ListAdminsRequest {
            email: email_filter("example.com", MatchMode::Contains),
            role: ADMIN.into(),
            is_active: Some(true),
            ..Default::default()
        };
        let page = list(&app, token, combined).await;
        assert_eq!(emails(&page.admins), ["alice@example.com", "bob@example.com", "root@example.com"]);
    }
}

db_test! {
    async fn list_sorts_by_email_in_both_directions(app) {
        let root = seed_for_listing(&app).await;
        let by_email = |direction: SortDirection| pb::ListAdminsRequest {
            order_by: AdminOrderBy::Email as i32,
            order_direction: direction as i32,
            ..Default::default()
        };
        let page = list(&app, &root.access_token, by_email(SortDirection::Asc)).await;
        let asc: Vec<String> = page.admins.iter().map(|a| a.email.to_lowercase()).collect();
        assert_eq!(asc, ALL_EMAILS);
        let page = list(&app, &root.access_token, by_email(SortDirection::Desc)).await;
        let desc: Vec<String> = page.admins.iter().map(|a| a.email.to_lowercase()).collect();
        let mut expected = ALL_EMAILS.to_vec();
        expected.reverse();
        assert_eq!(desc, expected);

        // The default is created_at, newest first.
        let page = list(&app, &root.access_token, pb::ListAdminsRequest::default()).await;
        let created: Vec<(i64, i32)> = page
            .admins
            .iter()
            .map(|a| a.created_at.map(|t| (t.seconds, t.nanos)).expect("created_at"))
            .collect();
        assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first: {created:?}");
        assert_eq!(page.admins.last().map(|a| a.email.as_str()), Some(ADMIN_EMAIL));
    }
}

/// Walks every page of `request` with page_size 2, checking each is full
/// except the last and that the last has an empty next_page_token.
async fn walk(app: &TestApp, token: &str, request: pb::ListAdminsRequest) -> Vec<String> {
    let mut request = pb::ListAdminsRequest { page_size: 2, include_total: true, ..request };
    let mut seen = Vec::new();
    for _ in 0..20 {
        let page = list(app, token, request.clone()).await;
        assert_eq!(page.total_size, ALL_EMAILS.len() as i64, "include_total");
        assert!(page.admins.len() <= 2);
        seen.extend(page.admins.iter().map(|a| a.email.to_lowercase()));
        if page.next_page_token.is_empty() {
            return seen;
        }
        assert_eq!(page.admins.len(), 2, "a page followed by another is full");
        request.page_token = page.next_page_token;
    }
    panic!("paging never ended: {seen:?}");
}

db_test! {
    async fn list_pages_without_duplicates_or_gaps(app) {
        let root = seed_for_listing(&app).await;
        let token = &root.access_token;
        for (order, direction) in [
            (AdminOrderBy::Email, SortDirection::Asc),
            (AdminOrderBy::Email, SortDirection::Desc),
            (AdminOrderBy::Unspecified, SortDirection::Unspecified),
            (AdminOrderBy::CreatedAt, SortDirection::Asc),
            (AdminOrderBy::Name, SortDirection::Asc),
            (AdminOrderBy::LastLoginAt, SortDirection::Desc),
        ] {
            let request = pb::ListAdminsRequest {
                order_by: order as i32,
                order_direction: direction as i32,
                ..Default::default()
            };
            let seen = walk(&app, token, request).await;
            let unique: HashSet<&String> = seen.iter().collect();
            assert_eq!(unique.len(), seen.len(), "no duplicates ({order:?} {direction:?}): {seen:?}");
            let mut sorted = seen.clone();
            sorted.sort();
            assert_eq!(sorted, ALL_EMAILS, "no gaps ({order:?} {direction:?})");
            if order == AdminOrderBy::Email {
                let mut expected = ALL_EMAILS.to_vec();
                if direction == SortDirection::Desc {
                    expected.reverse();
                }
                assert_eq!(seen, expected, "pages keep the order");
            }
        }

        // Without include_total the count is not reported.
        let page = list(&app, token, pb::ListAdminsRequest { page_size: 2, ..Default::default() }).await;
        assert_eq!(page.total_size, 0);
        // An offset skips rows of the first page.
        let by_email = pb::ListAdminsRequest {
            order_by: AdminOrderBy::Email as i32,
            order_direction: SortDirection::Asc as i32,
            offset: 4,
            ..Default::default()
        };
        assert_eq!(emails(&list(&app, token, by_email).await.admins), ALL_EMAILS[4..]);
    }
}

db_test! {
    async fn list_refuses_a_page_token_reused_with_another_filter_and_negative_sizes(app) {
        let root = seed_for_listing(&app).await;
        let token = &root.access_token;
        let first = pb::ListAdminsRequest {
            page_size: 2,
            order_by: AdminOrderBy::Email as i32,
            order_direction: SortDirection::Asc as i32,
            ..Default::default()
        };
        let page = list(&app, token, first.clone()).await;
        assert!(!page.next_page_token.is_empty());
        let reused = [
            pb::ListAdminsRequest { email: email_filter("a", MatchMode::Contains), ..first.clone() },
            pb::ListAdminsRequest { order_direction: SortDirection::Desc as i32, ..first.clone() },
            pb::ListAdminsRequest { order_by: AdminOrderBy::Name as i32, ..first.clone() },
            pb::ListAdminsRequest { role: VIEWER.into(), ..first.clone() },
            pb::ListAdminsRequest { is_active: Some(true), ..first.clone() },
        ];
        for request in reused {
            let request = pb::ListAdminsRequest { page_token: page.next_page_token.clone(), ..request };
            assert_invalid(&list_err(&app, token, request).await, &["page_token"]);
        }
        let garbage = pb::ListAdminsRequest { page_token: "not a token".into(), ..first.clone() };
        assert_invalid(&list_err(&app, token, garbage).await, &["page_token"]);
        let negative = pb::ListAdminsRequest { page_size: -1, ..Default::default() };
        assert_invalid(&list_err(&app, token, negative).await, &["page_size"]);
        let negative = pb::ListAdminsRequest { offset: -1, ..Default::default() };
        assert_invalid(&list_err(&app, token, negative).await, &["offset"]);
        // Above the maximum is coerced, not refused.
        let huge = pb::ListAdminsRequest { page_size: 100_000, ..Default::default() };
        assert_eq!(list(&app, token, huge).await.admins.len(), ALL_EMAILS.len());
    }
}
