//! UpdateAdmin through a field mask, and what a password, disable or role
//! change does to tokens already issued.

use super::*;

db_test! {
    async fn update_refuses_output_only_paths_and_an_empty_mask(app) {
        let root = app.setup_admin().await;
        let target = create(&app, &root.access_token, "target@example.com", VIEWER).await;
        let audit_before = app.count_audit().await;
        for paths in [&["id"][..], &["created_at"], &["scopes"], &["updated_at"], &["last_login_at"], &["name", "id"], &["password_hash"], &[]] {
            let admin = pb::Admin { name: "Changed".into(), ..target.clone() };
            let status = app
                .admin_auth()
                .update_admin(authorized(update_request(admin, paths), &root.access_token))
                .await
                .expect_err(&format!("mask {paths:?} must be refused"));
            assert_invalid(&status, &["update_mask"]);
        }
        let no_mask = pb::UpdateAdminRequest { admin: Some(target.clone()), update_mask: None, ..Default::default() };
        let status = app.admin_auth().update_admin(authorized(no_mask, &root.access_token)).await;
        assert_invalid(&status.expect_err("no mask"), &["update_mask"]);
        let unchanged = get(&app, &root.access_token, &target.id).await.expect("get");
        assert_eq!(unchanged.name, target.name);
        assert_eq!(unchanged.updated_at, target.updated_at);
        assert_eq!(app.count_audit().await, audit_before, "refused updates write no audit row");
    }
}

db_test! {
    async fn update_names_every_problem_at_once(app) {
        // The id and the mask used to be checked alone first: the values'
        // problems only showed up on a second call.
        let root = app.setup_admin().await;
        let admin = pb::Admin {
            id: "not-a-uuid".into(),
            email: "not an email".into(),
            role: "owner".into(),
            ..Default::default()
        };
        let request = pb::UpdateAdminRequest {
            admin: Some(admin),
            update_mask: mask(&["email", "role", "created_at", "password"]),
            password: "short".into(),
            ..Default::default()
        };
        let status = app
            .admin_auth()
            .update_admin(authorized(request, &root.access_token))
            .await
            .expect_err("every field is wrong");
        assert_status(&status, Code::InvalidArgument, "VALIDATION_FAILED");
        let mut fields = violations(&status);
        fields.sort();
        assert_eq!(fields, ["admin.email", "admin.id", "admin.role", "password", "update_mask"]);
    }
}

db_test! {
    async fn update_renames_and_writes_one_audit_row(app) {
        let root = app.setup_admin().await;
        let target = create(&app, &root.access_token, "rename@example.com", VIEWER).await;
        // Fields outside the mask are ignored, even when set.
        let admin = pb::Admin {
            name: "  Renamed Admin ".into(),
            email: "ignored@example.com".into(),
            role: ADMIN.into(),
            ..target.clone()
        };
        let updated = app
            .admin_auth()
            .update_admin(authorized(update_request(admin, &["name"]), &root.access_token))
            .await
            .expect("rename")
            .into_inner()
            .admin
            .expect("admin");
        assert_eq!(updated.name, "Renamed Admin");
        assert_eq!(updated.email, "rename@example.com");
        assert_eq!(updated.role, VIEWER);
        let fetched = get(&app, &root.access_token, &target.id).await.expect("get");
        assert_eq!(fetched.name, "Renamed Admin");
        let rows = app.audit_rows("admin.update").await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].target_id.as_deref(), Some(target.id.as_str()));
        assert_eq!(rows[0].actor_id.as_deref(), Some(root.admin_id.as_str()));
        assert_eq!(rows[0].metadata["fields"], sea_orm::JsonValue::from(vec!["name"]));

        // An update to another admin's email keeps emails unique.
        create(&app, &root.access_token, "taken@example.com", VIEWER).await;
        let clash = pb::Admin { email: "TAKEN@example.com".into(), ..target.clone() };
        let status = app
            .admin_auth()
            .update_admin(authorized(update_request(clash, &["email"]), &root.access_token))
            .await
            .expect_err("email taken");
        assert_status(&status, Code::AlreadyExists, "EMAIL_EXISTS");
        assert_eq!(app.audit_rows("admin.update").await.len(), 1);
    }
}

db_test! {
    async fn update_of_the_password_revokes_that_admins_sessions(app) {
        let root = app.setup_admin().await;
        let target = create_and_login(&app, &root.access_token, "pw@example.com", VIEWER).await;
        current_admin(&app, &target.access_token).await.expect("token works before");

        let admin = pb::Admin { id: target.admin_id.clone(), ..Default::default() };
        let mut request = update_request(admin.clone(), &["password"]);
        request.password = "short".into();
        let status = app.admin_auth().update_admin(authorized(request, &root.access_token)).await;
        assert_status(&status.expect_err("weak"), Code::InvalidArgument, "WEAK_PASSWORD");
        current_admin(&app, &target.access_token).await.expect("a refused update revokes nothing");

        let mut request = update_request(admin, &["password"]);
        request.password = "a brand new password".into();
        request.password_confirm = "a brand new password".into();
        app.admin_auth().update_admin(authorized(request, &root.access_token)).await.expect("update");

        let status = current_admin(&app, &target.access_token).await.expect_err("old token");
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
        let refresh = pb::RefreshTokenRequest { refresh_token: target.refresh_token.clone() };
        let status = app.admin_auth().refresh_token(refresh).await.expect_err("old refresh token");
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
        let status = app.login("pw@example.com", PASSWORD).await.expect_err("old password");
        assert_status(&status, Code::Unauthenticated, "INVALID_CREDENTIALS");
        let again = app.login("pw@example.com", "a brand new password").await.expect("new password");
        current_admin(&app, &again.access_token).await.expect("new token works");
        current_admin(&app, &root.access_token).await.expect("the caller is untouched");
    }
}

db_test! {
    async fn disabling_an_admin_revokes_its_sessions_and_blocks_sign_in(app) {
        let root = app.setup_admin().await;
        let target = create_and_login(&app, &root.access_token, "off@example.com", ADMIN).await;
        let admin = pb::Admin { id: target.admin_id.clone(), is_active: false, ..Default::default() };
        let updated = app
            .admin_auth()
            .update_admin(authorized(update_request(admin, &["is_active"]), &root.access_token))
            .await
            .expect("disable")
            .into_inner()
            .admin
            .expect("admin");
        assert!(!updated.is_active);
        let status = current_admin(&app, &target.access_token).await.expect_err("disabled");
        assert!(matches!(status.code(), Code::Unauthenticated | Code::PermissionDenied), "{status:?}");
        let status = app.login("off@example.com", PASSWORD).await.expect_err("disabled sign-in");
        assert_status(&status, Code::PermissionDenied, "ACCOUNT_DISABLED");
    }
}

db_test! {
    async fn a_role_change_applies_to_tokens_already_issued(app) {
        let root = app.setup_admin().await;
        let other = create_and_login(&app, &root.access_token, "demoted@example.com", ADMIN).await;
        let probe = |token: String| {
            let mut client: Client = app.admin_auth();
            let request = authorized(create_request(&format!("{}@example.com", Uuid::new_v4()), VIEWER), &token);
            async move { client.create_admin(request).await }
        };
        probe(other.access_token.clone()).await.expect("a dashboard_admin may create");
        let demote = pb::Admin { id: other.admin_id.clone(), role: VIEWER.into(), ..Default::default() };
        let demoted = app
            .admin_auth()
            .update_admin(authorized(update_request(demote, &["role"]), &root.access_token))
            .await
            .expect("demote")
            .into_inner()
            .admin
            .expect("admin");
        assert_eq!(demoted.role, VIEWER);
        assert!(demoted.scopes.iter().all(|s| s.ends_with(":read")), "{:?}", demoted.scopes);
        let status = probe(other.access_token.clone()).await.expect_err("demoted at once");
        assert_status(&status, Code::PermissionDenied, "SCOPE_MISSING");
        list(&app, &other.access_token, pb::ListAdminsRequest::default()).await;
    }
}
