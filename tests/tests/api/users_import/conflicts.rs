//! ImportUsers' on_conflict: SKIP leaves existing users alone, UPSERT
//! overwrites the user with the same email, FAIL (the default) reports the
//! row; on_conflict cannot change mid-stream.

use pb::ImportUsersOnConflict as Mode;
use tonic::Code;
use warden_tests::db_test;

use super::*;

/// `existing@example.com` (username `existing`, phone +14155550101) and
/// `other@example.com` (username `other`).
async fn seed(caller: &mut Caller) {
    let mut existing = row("existing@example.com", &bcrypt::hash(PASSWORD, 4).unwrap());
    existing.username = "existing".into();
    existing.given_name = "Original".into();
    existing.phone = "+14155550101".into();
    existing.roles = vec!["member".into()];
    let mut other = row("other@example.com", "");
    other.username = "other".into();
    let summary = caller.import_ok(vec![existing, other]).await;
    assert_eq!(summary.created_count, 2, "{summary:?}");
}

fn renamed(email: &str) -> pb::ImportUsersRequest {
    pb::ImportUsersRequest {
        email: email.into(),
        given_name: "Changed".into(),
        ..Default::default()
    }
}

db_test! {
    async fn skip_leaves_existing_users_alone(app) {
        let mut caller = Caller::new(&app).await;
        seed(&mut caller).await;
        let mut same_username = row("fresh@example.com", "");
        same_username.username = "Existing".into();
        let rows = with_conflict(
            vec![renamed("EXISTING@example.com"), same_username, renamed("new@example.com")],
            Mode::Skip,
        );
        let summary = caller.import_ok(rows).await;
        assert_eq!(
            (summary.created_count, summary.skipped_count, summary.updated_count, summary.failed_count),
            (1, 2, 0, 0),
            "{summary:?}"
        );
        assert!(summary.failed_rows.is_empty());
        assert_eq!(caller.get("existing@example.com").await.given_name, "Original");
        assert_eq!(caller.get("new@example.com").await.given_name, "Changed");
        assert_eq!(user_count(&app).await, 3);
    }
}

db_test! {
    async fn fail_is_the_default_and_reports_the_reason(app) {
        let mut caller = Caller::new(&app).await;
        seed(&mut caller).await;
        let mut phone = row("phone@example.com", "");
        phone.phone = "+14155550101".into();
        for (i, mode) in [Mode::Unspecified, Mode::Fail].into_iter().enumerate() {
            let rows = vec![renamed("existing@example.com"), phone.clone(), renamed(&format!("ok{i}@example.com"))];
            let summary = caller.import_ok(with_conflict(rows, mode)).await;
            let reasons: Vec<(i64, &str)> =
                summary.failed_rows.iter().map(|f| (f.row_index, f.reason.as_str())).collect();
            assert_eq!(reasons, [(0, "EMAIL_EXISTS"), (1, "PHONE_EXISTS")], "{mode:?}");
            assert_eq!((summary.failed_count, summary.created_count), (2, 1));
        }
        assert_eq!(caller.get("existing@example.com").await.given_name, "Original");
        assert_eq!(user_count(&app).await, 4);
    }
}

db_test! {
    async fn upsert_overwrites_the_user_matched_by_email(app) {
        let mut caller = Caller::new(&app).await;
        seed(&mut caller).await;
        let before = stored(&app, "existing@example.com").await;
        let new_hash = bcrypt::hash("a brand new password", 4).unwrap();
        let mut update = row("Existing@Example.com", &new_hash);
        update.username = "existing".into();
        update.given_name = "Updated".into();
        update.roles = vec!["vip".into()];
        update.identities =
            vec![pb::Identity { provider: "google".into(), provider_user_id: "up-1".into(), ..Default::default() }];
        let mut steal = renamed("other@example.com");
        steal.username = "existing".into();
        let rows = with_conflict(vec![update, steal, renamed("third@example.com")], Mode::Upsert);
        let summary = caller.import_ok(rows).await;
        assert_eq!((summary.created_count, summary.updated_count, summary.failed_count), (1, 1, 1), "{summary:?}");
        assert_eq!((summary.failed_rows[0].row_index, summary.failed_rows[0].reason.as_str()), (1, "USERNAME_EXISTS"));

        let user = caller.get("existing@example.com").await;
        assert_eq!((user.id.as_str(), user.email.as_str()), (before.id.to_string().as_str(), "Existing@Example.com"));
        assert_eq!((user.given_name.as_str(), user.roles.clone()), ("Updated", vec!["vip".to_owned()]));
        assert_eq!(user.phone, "", "the row's fields replace the user's");
        assert_eq!(user.social_providers, ["google"]);
        let after = stored(&app, "existing@example.com").await;
        assert_eq!(after.password_hash.as_deref(), Some(new_hash.as_str()));
        assert_eq!(after.created_at, before.created_at, "unset created_at keeps the stored one");
        caller.tokens("existing@example.com", "a brand new password").await;
        assert_eq!(caller.get("other@example.com").await.username, "other");

        // Upserting again with the same identity keeps the one link.
        let again = with_conflict(vec![row("existing@example.com", "")], Mode::Upsert);
        let mut again = again;
        again[0].identities =
            vec![pb::Identity { provider: "google".into(), provider_user_id: "up-1".into(), ..Default::default() }];
        let summary = caller.import_ok(again).await;
        assert_eq!(summary.updated_count, 1, "{summary:?}");
        assert_eq!(caller.get("existing@example.com").await.social_providers, ["google"]);
        assert_eq!(
            stored(&app, "existing@example.com").await.password_hash.as_deref().map(|h| h.starts_with("$argon2id$")),
            Some(true),
            "no hash in the row keeps the stored (since upgraded) one"
        );
    }
}

db_test! {
    async fn on_conflict_cannot_change_mid_stream(app) {
        let mut caller = Caller::new(&app).await;
        let mut rows = with_conflict(vec![row("a@example.com", ""), row("b@example.com", "")], Mode::Skip);
        rows[1].on_conflict = Mode::Skip as i32;
        let summary = caller.import_ok(rows).await;
        assert_eq!(summary.created_count, 2, "repeating the first value is fine");

        let mut rows = with_conflict(vec![row("c@example.com", ""), row("d@example.com", "")], Mode::Skip);
        rows[1].on_conflict = Mode::Upsert as i32;
        let err = caller.import(rows).await.unwrap_err();
        assert_status(&err, Code::InvalidArgument, "VALIDATION_FAILED");
        assert_eq!(user_count(&app).await, 2, "the unwritten batch is dropped");

        let empty = caller.import_ok(Vec::new()).await;
        assert_eq!(empty.received_count, 0);
    }
}
