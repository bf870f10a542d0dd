//! The last active dashboard_admin survives deletes, demotions and
//! disables (even two admins deleting each other at once); DeleteAdmin
//! validate_only; unknown and malformed ids.

use super::*;

db_test! {
    async fn the_last_dashboard_admin_cannot_be_deleted_demoted_or_disabled(app) {
        let root = app.setup_admin().await;
        let token = &root.access_token;
        // A viewer and a disabled dashboard_admin do not count.
        create(&app, token, "viewer@example.com", VIEWER).await;
        let disabled = create(&app, token, "disabled@example.com", ADMIN).await;
        let off = pb::Admin { id: disabled.id.clone(), is_active: false, ..Default::default() };
        app.admin_auth().update_admin(authorized(update_request(off, &["is_active"]), token)).await.expect("disable");
        let before = get(&app, token, &root.admin_id).await.expect("root");
        let audit_before = app.count_audit().await;

        for validate_only in [false, true] {
            let delete = pb::DeleteAdminRequest { id: root.admin_id.clone(), validate_only };
            let status = app.admin_auth().delete_admin(authorized(delete, token)).await;
            assert_status(&status.expect_err("delete last"), Code::FailedPrecondition, "LAST_ADMIN");
        }
        let demote = pb::Admin { id: root.admin_id.clone(), role: VIEWER.into(), ..Default::default() };
        let status = app.admin_auth().update_admin(authorized(update_request(demote, &["role"]), token)).await;
        assert_status(&status.expect_err("demote last"), Code::FailedPrecondition, "LAST_ADMIN");
        let disable = pb::Admin { id: root.admin_id.clone(), is_active: false, ..Default::default() };
        let status =
            app.admin_auth().update_admin(authorized(update_request(disable, &["is_active"]), token)).await;
        assert_status(&status.expect_err("disable last"), Code::FailedPrecondition, "LAST_ADMIN");

        let after = get(&app, token, &root.admin_id).await.expect("root still there");
        assert_eq!(after, before, "nothing changed");
        assert_eq!(app.count_audit().await, audit_before, "no audit rows");
        current_admin(&app, token).await.expect("root's session is untouched");

        // With a second active dashboard_admin, demoting root works.
        let other = pb::Admin { id: disabled.id.clone(), is_active: true, ..Default::default() };
        app.admin_auth().update_admin(authorized(update_request(other, &["is_active"]), token)).await.expect("enable");
        let demote = pb::Admin { id: root.admin_id.clone(), role: VIEWER.into(), ..Default::default() };
        let demoted = app.admin_auth().update_admin(authorized(update_request(demote, &["role"]), token)).await;
        assert_eq!(demoted.expect("demote with another admin left").into_inner().admin.expect("admin").role, VIEWER);
    }
}

db_test! {
    async fn two_admins_deleting_each_other_at_once_leave_one(app) {
        let root = app.setup_admin().await;
        let mut survivor = root;
        let mut last_admin_answers = 0;
        for round in 0..5 {
            let email = format!("pair{round}@example.com");
            let partner = create_and_login(&app, &survivor.access_token, &email, ADMIN).await;
            let (a, b) = (survivor.clone(), partner.clone());
            let delete = |caller: &AdminSession, target: &AdminSession| {
                let mut client: Client = app.admin_auth();
                let request = authorized(
                    pb::DeleteAdminRequest { id: target.admin_id.clone(), validate_only: false },
                    &caller.access_token,
                );
                async move { client.delete_admin(request).await }
            };
            let (a_deletes_b, b_deletes_a) = tokio::join!(delete(&a, &b), delete(&b, &a));
            let (winner, loser, failure) = match (a_deletes_b, b_deletes_a) {
                (Ok(_), Err(status)) => (a, b, status),
                (Err(status), Ok(_)) => (b, a, status),
                (Ok(_), Ok(_)) => panic!("round {round}: both deletes succeeded"),
                (Err(x), Err(y)) => panic!("round {round}: both deletes failed: {x:?} / {y:?}"),
            };
            // The loser's delete ran after the winner's: no admin would be
            // left. (If the loser's call was only authenticated after it had
            // been deleted, it is refused at the door instead.)
            if failure.code() == Code::FailedPrecondition {
                assert_eq!(reason_of(&failure), "LAST_ADMIN", "{failure:?}");
                last_admin_answers += 1;
            } else {
                assert_eq!(failure.code(), Code::Unauthenticated, "round {round}: {failure:?}");
            }
            let remaining = active_dashboard_admins(&app).await;
            assert_eq!(remaining.len(), 1, "round {round}: {remaining:?}");
            assert_eq!(remaining[0].id.to_string(), winner.admin_id);
            let status = get(&app, &winner.access_token, &loser.admin_id).await.expect_err("deleted");
            assert_status(&status, Code::NotFound, "NOT_FOUND");
            survivor = winner;
        }
        eprintln!("mutual deletes answered LAST_ADMIN in {last_admin_answers} of 5 rounds");
        assert!(last_admin_answers > 0, "LAST_ADMIN was never the answer");
        assert_eq!(app.audit_rows("admin.delete").await.len(), 5);
    }
}

db_test! {
    async fn delete_validate_only_reports_and_deletes_nothing(app) {
        let root = app.setup_admin().await;
        let target = create_and_login(&app, &root.access_token, "doomed@example.com", VIEWER).await;
        let second = app.login("doomed@example.com", PASSWORD).await.expect("second session");
        let audit_before = app.count_audit().await;

        let check = pb::DeleteAdminRequest { id: target.admin_id.clone(), validate_only: true };
        let answer = app.admin_auth().delete_admin(authorized(check, &root.access_token)).await;
        let answer = answer.expect("validate_only").into_inner();
        assert_eq!(answer.deleted_admin_id, target.admin_id);
        assert_eq!(answer.revoked_sessions, 2);
        get(&app, &root.access_token, &target.admin_id).await.expect("still there");
        current_admin(&app, &target.access_token).await.expect("sessions untouched");
        current_admin(&app, &second.access_token).await.expect("sessions untouched");
        assert_eq!(app.count_audit().await, audit_before, "validate_only writes no audit row");

        let delete = pb::DeleteAdminRequest { id: target.admin_id.clone(), validate_only: false };
        let answer = app.admin_auth().delete_admin(authorized(delete, &root.access_token)).await;
        assert_eq!(answer.expect("delete").into_inner().revoked_sessions, 2);
        let status = get(&app, &root.access_token, &target.admin_id).await.expect_err("gone");
        assert_status(&status, Code::NotFound, "NOT_FOUND");
        let status = current_admin(&app, &target.access_token).await.expect_err("token dead");
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
        let rows = app.audit_rows("admin.delete").await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].target_id.as_deref(), Some(target.admin_id.as_str()));
        let status = app.login("doomed@example.com", PASSWORD).await.expect_err("cannot sign in");
        assert_status(&status, Code::Unauthenticated, "INVALID_CREDENTIALS");
    }
}

db_test! {
    async fn unknown_and_malformed_ids(app) {
        let root = app.setup_admin().await;
        let token = &root.access_token;
        let unknown = Uuid::now_v7().to_string();
        let status = get(&app, token, &unknown).await.expect_err("unknown");
        assert_status(&status, Code::NotFound, "NOT_FOUND");
        for malformed in ["not-a-uuid", "", "1234"] {
            let status = get(&app, token, malformed).await.expect_err("malformed");
            assert_invalid(&status, &["id"]);
        }
        let delete = pb::DeleteAdminRequest { id: unknown.clone(), validate_only: false };
        let status = app.admin_auth().delete_admin(authorized(delete, token)).await;
        assert_status(&status.expect_err("unknown"), Code::NotFound, "NOT_FOUND");
        let delete = pb::DeleteAdminRequest { id: "nope".into(), validate_only: false };
        let status = app.admin_auth().delete_admin(authorized(delete, token)).await;
        assert_invalid(&status.expect_err("malformed"), &["id"]);
        let rename = pb::Admin { id: unknown, name: "X".into(), ..Default::default() };
        let status = app.admin_auth().update_admin(authorized(update_request(rename, &["name"]), token)).await;
        assert_status(&status.expect_err("unknown"), Code::NotFound, "NOT_FOUND");
        let rename = pb::Admin { id: "bad".into(), name: "X".into(), ..Default::default() };
        let status = app.admin_auth().update_admin(authorized(update_request(rename, &["name"]), token)).await;
        assert_invalid(&status.expect_err("malformed"), &["admin.id"]);
        // A credential check comes before any lookup.
        let status = app.admin_auth().get_admin(pb::GetAdminRequest { id: "nope".into() }).await;
        assert_status(&status.expect_err("anonymous"), Code::Unauthenticated, "UNAUTHENTICATED");
    }
}
