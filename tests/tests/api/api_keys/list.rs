//! ListApiKeys: keyset pages without gaps or repeats, tokens bound to their
//! filter, totals on request, and the active/name/scope filters.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use warden_core::api_keys::{NewApiKey, insert};
use warden_proto::v1::{
    ListApiKeysResponse, MatchMode, RevokeApiKeyRequest, SortDirection, StringFilter,
};

use super::*;

async fn list(
    client: &mut Client,
    caller: &str,
    request: ListApiKeysRequest,
) -> ListApiKeysResponse {
    client.list_api_keys(authorized(request, caller)).await.unwrap().into_inner()
}

fn ids(response: &ListApiKeysResponse) -> Vec<String> {
    response.api_keys.iter().map(|k| k.id.clone()).collect()
}

/// `(created_at, id)`, the order keys are listed in.
fn sort_key(key: &ApiKey) -> (i64, i32, String) {
    let created = key.created_at.unwrap_or_default();
    (created.seconds, created.nanos, key.id.clone())
}

db_test! {
    async fn pages_cover_every_key_once_newest_first(app) {
        let admin = app.api_key(ScopeSet::all()).await;
        let mut client = client(&app);
        for i in 0..7 {
            create(&mut client, &admin, &format!("key {i}"), &["users:read"]).await;
        }
        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        let mut token = String::new();
        loop {
            let request =
                ListApiKeysRequest { page_size: 3, page_token: token, ..Default::default() };
            let page = list(&mut client, &admin, request).await;
            assert_eq!(page.total_size, 0, "no count unless asked");
            sizes.push(page.api_keys.len());
            seen.extend(page.api_keys);
            token = page.next_page_token;
            if token.is_empty() {
                break;
            }
        }
        assert_eq!(sizes, [3, 3, 2]);
        let unique: HashSet<_> = seen.iter().map(|k| k.id.clone()).collect();
        assert_eq!(unique.len(), 8, "no duplicates, no gaps");
        assert!(seen.windows(2).all(|w| sort_key(&w[0]) > sort_key(&w[1])), "created_at DESC, id DESC");

        let ascending = ListApiKeysRequest {
            order_direction: SortDirection::Asc as i32,
            ..Default::default()
        };
        let mut reversed = ids(&list(&mut client, &admin, ascending).await);
        reversed.reverse();
        assert_eq!(reversed, seen.iter().map(|k| k.id.clone()).collect::<Vec<_>>());

        let skipped = ListApiKeysRequest { page_size: 3, offset: 2, ..Default::default() };
        let expected: Vec<_> = seen[2..5].iter().map(|k| k.id.clone()).collect();
        assert_eq!(ids(&list(&mut client, &admin, skipped).await), expected);

        let counted = ListApiKeysRequest { page_size: 2, include_total: true, ..Default::default() };
        let page = list(&mut client, &admin, counted).await;
        assert_eq!((page.api_keys.len(), page.total_size), (2, 8));
    }
}

db_test! {
    async fn bad_paging_is_invalid_argument(app) {
        let admin = app.api_key(ScopeSet::all()).await;
        let mut client = client(&app);
        for i in 0..3 {
            create(&mut client, &admin, &format!("key {i}"), &["users:read"]).await;
        }
        let first = list(&mut client, &admin, ListApiKeysRequest { page_size: 1, ..Default::default() }).await;
        assert!(!first.next_page_token.is_empty());

        let other_filter = ListApiKeysRequest {
            page_size: 1,
            page_token: first.next_page_token.clone(),
            active_only: true,
            ..Default::default()
        };
        let status = client.list_api_keys(authorized(other_filter, &admin)).await.unwrap_err();
        assert_invalid(&status, &["page_token"]);

        let negative = ListApiKeysRequest { page_size: -1, ..Default::default() };
        let status = client.list_api_keys(authorized(negative, &admin)).await.unwrap_err();
        assert_invalid(&status, &["page_size"]);

        let garbage = ListApiKeysRequest { page_token: "not a token".into(), ..Default::default() };
        let status = client.list_api_keys(authorized(garbage, &admin)).await.unwrap_err();
        assert_invalid(&status, &["page_token"]);

        let unknown = ListApiKeysRequest { scope: "users:admin".into(), ..Default::default() };
        let status = client.list_api_keys(authorized(unknown, &admin)).await.unwrap_err();
        assert_invalid(&status, &["scope"]);
    }
}

db_test! {
    async fn active_only_hides_revoked_and_expired_keys(app) {
        let admin = app.api_key(ScopeSet::all()).await;
        let mut client = client(&app);
        let (live, _) = create(&mut client, &admin, "live", &["users:read"]).await;
        let (revoked, _) = create(&mut client, &admin, "revoked", &["users:read"]).await;
        let revoke = RevokeApiKeyRequest { id: revoked.id.clone(), validate_only: false };
        client.revoke_api_key(authorized(revoke, &admin)).await.unwrap();
        // No RPC makes an already-expired key, so seed one directly.
        let expired = NewApiKey {
            name: "expired".into(),
            description: String::new(),
            scopes: scopes(&[Scope::UsersRead]),
            expires_at: Some(Utc::now() - Duration::minutes(1)),
            created_by: None,
        };
        let (expired, _) = insert(&app.db, expired, Utc::now() - Duration::hours(1)).await.unwrap();

        let all = list(&mut client, &admin, ListApiKeysRequest::default()).await;
        let active_flag = |id: &str| all.api_keys.iter().find(|k| k.id == id).map(|k| k.is_active);
        assert_eq!(all.api_keys.len(), 4);
        assert_eq!(active_flag(&live.id), Some(true));
        assert_eq!(active_flag(&revoked.id), Some(false));
        assert_eq!(active_flag(&expired.id.to_string()), Some(false));

        let request = ListApiKeysRequest { active_only: true, include_total: true, ..Default::default() };
        let active = list(&mut client, &admin, request).await;
        let active_ids = ids(&active);
        assert_eq!(active.total_size, 2, "the caller's own key and `live`");
        assert!(active_ids.contains(&live.id));
        assert!(!active_ids.contains(&revoked.id));
        assert!(!active_ids.contains(&expired.id.to_string()));
    }
}

db_test! {
    async fn name_and_scope_filters_narrow_the_list(app) {
        let admin = app.api_key(ScopeSet::all()).await;
        let mut client = client(&app);
        create(&mut client, &admin, "Billing Sync", &["users:read"]).await;
        create(&mut client, &admin, "billing_export", &["users:read", "audit:read"]).await;
        create(&mut client, &admin, "Mailer", &["users:read"]).await;
        create(&mut client, &admin, "Big-Eye", &["users:read"]).await;
        let by_name = |value: &str, mode: MatchMode| ListApiKeysRequest {
            name: Some(StringFilter { value: value.into(), mode: mode as i32 }),
            ..Default::default()
        };
        let names = |page: ListApiKeysResponse| {
            let mut names: Vec<_> = page.api_keys.into_iter().map(|k| k.name).collect();
            names.sort();
            names
        };
        let page = list(&mut client, &admin, by_name("BILLING", MatchMode::StartsWith)).await;
        assert_eq!(names(page), ["Billing Sync", "billing_export"]);
        let page = list(&mut client, &admin, by_name("mailer", MatchMode::Equals)).await;
        assert_eq!(names(page), ["Mailer"]);
        // `_` is literal, not a LIKE wildcard.
        let page = list(&mut client, &admin, by_name("g_e", MatchMode::Contains)).await;
        assert_eq!(names(page), ["billing_export"]);
        let audit = ListApiKeysRequest { scope: "audit:read".into(), ..Default::default() };
        let holders = names(list(&mut client, &admin, audit).await);
        assert_eq!(holders, ["billing_export", "test key"], "the caller's own key holds every scope");
    }
}
