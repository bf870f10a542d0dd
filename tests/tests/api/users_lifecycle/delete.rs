//! DeleteUser: the cascade, its counts, validate_only, and the audit trail
//! that outlives the user.

use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use warden_core::{
    auth::sessions,
    context::CallInfo,
    entity::{
        mfa_devices, refresh_tokens, sessions as session_rows, user_identities, user_roles,
        verification_tokens,
    },
    secret::random_bytes,
};

use super::*;

/// Rows hanging off a user, seeded straight into the database.
async fn seed(app: &TestApp, principal_type: &str, id: Uuid, with_user_rows: bool) {
    let now = Utc::now();
    let call = CallInfo::default();
    let first =
        sessions::open(&app.db, principal_type, id, &call, now, Duration::hours(1)).await.unwrap();
    sessions::mint_refresh(&app.db, &first, now).await.unwrap();
    sessions::mint_refresh(&app.db, &first, now).await.unwrap();
    // A revoked session is still the user's row and is deleted too.
    let second =
        sessions::open(&app.db, principal_type, id, &call, now, Duration::hours(1)).await.unwrap();
    sessions::mint_refresh(&app.db, &second, now).await.unwrap();
    sessions::revoke(&app.db, second.id, "test", now).await.unwrap();
    for purpose in ["password_reset", "email_verification"] {
        verification_tokens::ActiveModel {
            id: Set(Uuid::now_v7()),
            purpose: Set(purpose.into()),
            principal_type: Set(principal_type.into()),
            principal_id: Set(id),
            token_digest: Set(random_bytes::<32>().to_vec()),
            created_at: Set(now),
            expires_at: Set(now + Duration::hours(1)),
            consumed_at: Set(None),
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    if !with_user_rows {
        return;
    }
    mfa_devices::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(id),
        kind: Set("totp".into()),
        name: Set("phone".into()),
        secret: Set(Some(random_bytes::<20>().to_vec())),
        is_preferred: Set(true),
        confirmed_at: Set(Some(now)),
        last_used_at: Set(None),
        created_at: Set(now),
    }
    .insert(&app.db)
    .await
    .unwrap();
    for provider in ["google", "github"] {
        user_identities::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(id),
            provider: Set(provider.into()),
            provider_user_id: Set(format!("{provider}-{id}")),
            provider_email: Set(None),
            profile: Set(serde_json::json!({"sub": id.to_string()})),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
}

/// `[sessions, refresh_tokens, verification_tokens, mfa_devices, identities, roles]` stored for `id`.
async fn stored(app: &TestApp, principal_type: &str, id: Uuid) -> [u64; 6] {
    let session_ids: Vec<Uuid> = session_rows::Entity::find()
        .filter(session_rows::Column::PrincipalType.eq(principal_type))
        .filter(session_rows::Column::PrincipalId.eq(id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    let refresh = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::SessionId.is_in(session_ids.clone()))
        .count(&app.db)
        .await
        .unwrap();
    let tokens = verification_tokens::Entity::find()
        .filter(verification_tokens::Column::PrincipalType.eq(principal_type))
        .filter(verification_tokens::Column::PrincipalId.eq(id))
        .count(&app.db)
        .await
        .unwrap();
    let mfa = mfa_devices::Entity::find()
        .filter(mfa_devices::Column::UserId.eq(id))
        .count(&app.db)
        .await
        .unwrap();
    let identities = user_identities::Entity::find()
        .filter(user_identities::Column::UserId.eq(id))
        .count(&app.db)
        .await
        .unwrap();
    let roles = user_roles::Entity::find()
        .filter(user_roles::Column::UserId.eq(id))
        .count(&app.db)
        .await
        .unwrap();
    [session_ids.len() as u64, refresh, tokens, mfa, identities, roles]
}

fn counts(records: &pb::DeletedRecords) -> [i64; 8] {
    [
        records.sessions,
        records.refresh_tokens,
        records.verification_tokens,
        records.mfa_devices,
        records.identities,
        records.trusted_devices,
        records.recovery_codes,
        records.challenge_sessions,
    ]
}

impl Caller {
    async fn delete(
        &mut self,
        id: &str,
        validate_only: bool,
    ) -> Result<pb::DeleteUserResponse, Status> {
        let request = pb::DeleteUserRequest { id: id.to_owned(), validate_only };
        self.client.delete_user(authorized(request, &self.key)).await.map(|r| r.into_inner())
    }
}

db_test! {
    async fn delete_cascades_counts_and_keeps_the_audit_trail(app) {
        let mut caller = Caller::new(&app).await;
        let request = pb::CreateUserRequest { roles: vec!["a".into(), "b".into()], ..create_request("doomed@example.com") };
        let user = caller.create(request).await.unwrap().user.unwrap();
        let id = Uuid::parse_str(&user.id).unwrap();
        let bystander = caller.user("bystander@example.com").await;
        let bystander_id = Uuid::parse_str(&bystander.id).unwrap();
        seed(&app, "user", id, true).await;
        seed(&app, "user", bystander_id, true).await;
        // An admin principal that happens to share the id is not the user's.
        seed(&app, "admin", id, false).await;
        let expected = [2, 3, 2, 1, 2, 0, 0, 0];
        assert_eq!(stored(&app, "user", id).await, [2, 3, 2, 1, 2, 2]);

        let audit_before = app.count_audit().await;
        let preview = caller.delete(&user.id, true).await.unwrap();
        assert_eq!(preview.deleted_user_id, user.id);
        assert_eq!(counts(&preview.deleted_records.unwrap()), expected);
        assert_eq!(stored(&app, "user", id).await, [2, 3, 2, 1, 2, 2], "validate_only changes nothing");
        assert!(caller.get_id(&user.id).await.is_ok());
        assert_eq!(app.count_audit().await, audit_before);

        let deleted = caller.delete(&user.id, false).await.unwrap();
        assert_eq!(deleted.deleted_user_id, user.id);
        assert_eq!(counts(&deleted.deleted_records.unwrap()), expected);
        assert_eq!(stored(&app, "user", id).await, [0; 6]);
        assert!(row(&app, &user.id).await.is_none());
        assert_status(&caller.get_id(&user.id).await.unwrap_err(), Code::NotFound, "NOT_FOUND");

        // Nobody else's rows went with it.
        assert_eq!(stored(&app, "user", bystander_id).await, [2, 3, 2, 1, 2, 0]);
        assert_eq!(stored(&app, "admin", id).await, [2, 3, 2, 0, 0, 0]);
        assert_eq!(caller.get_id(&bystander.id).await.unwrap().id, bystander.id);

        // The trail about the user stays: its creation, and the delete itself.
        let actions: Vec<String> = audit_about(&app, &user.id).await.into_iter().map(|r| r.action).collect();
        assert_eq!(actions, ["user.create", "user.delete"]);
        let delete_row = &app.audit_rows("user.delete").await[0];
        assert_eq!(delete_row.metadata["sessions"], 2);
        assert_eq!(delete_row.metadata["refresh_tokens"], 3);
        assert!(!format!("{delete_row:?}").contains("doomed@example.com"));

        assert_status(&caller.delete(&user.id, false).await.unwrap_err(), Code::NotFound, "NOT_FOUND");
        assert_status(&caller.delete(&user.id, true).await.unwrap_err(), Code::NotFound, "NOT_FOUND");
        assert_invalid(&caller.delete("not-a-uuid", false).await.unwrap_err(), &["id"]);
        assert_invalid(&caller.delete("", true).await.unwrap_err(), &["id"]);
    }
}

db_test! {
    async fn a_user_without_dependents_deletes_with_zero_counts(app) {
        let mut caller = Caller::new(&app).await;
        let user = caller.user("lonely@example.com").await;
        let deleted = caller.delete(&user.id, false).await.unwrap();
        assert_eq!(counts(&deleted.deleted_records.unwrap()), [0; 8]);
        assert_eq!(count_users(&app).await, 0);
        // The email is free again.
        caller.user("lonely@example.com").await;
    }
}
