//! CreateAdmin: validation stores nothing, normalized-email uniqueness,
//! request_id idempotency, and what a viewer may do.

use super::*;

db_test! {
    async fn create_with_a_short_password_is_weak_and_stores_nothing(app) {
        let root = app.setup_admin().await;
        let (admins_before, audit_before) = (count_admins(&app).await, app.count_audit().await);
        let mut request = create_request("viewer@example.com", VIEWER);
        request.password = "too short".into();
        let status = app
            .admin_auth()
            .create_admin(authorized(request, &root.access_token))
            .await
            .expect_err("short password");
        assert_status(&status, Code::InvalidArgument, "WEAK_PASSWORD");
        assert_eq!(violations(&status), vec!["password".to_owned()]);
        assert_eq!(count_admins(&app).await, admins_before, "no admin row");
        assert_eq!(app.count_audit().await, audit_before, "no audit row");
        assert!(app.audit_rows("admin.create").await.is_empty());
    }
}

db_test! {
    async fn create_reports_every_bad_field_at_once(app) {
        let root = app.setup_admin().await;
        let (admins_before, audit_before) = (count_admins(&app).await, app.count_audit().await);
        let mut request = create_request("not-an-email", "superuser");
        request.password_confirm = "something else entirely".into();
        let status = app
            .admin_auth()
            .create_admin(authorized(request, &root.access_token))
            .await
            .expect_err("bad email and role");
        assert_status(&status, Code::InvalidArgument, "VALIDATION_FAILED");
        let fields = violations(&status);
        for field in ["email", "role", "password_confirm"] {
            assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
        }
        assert_eq!(count_admins(&app).await, admins_before);
        assert_eq!(app.count_audit().await, audit_before);
    }
}

db_test! {
    async fn create_without_a_role_makes_a_dashboard_viewer(app) {
        let root = app.setup_admin().await;
        let created = create(&app, &root.access_token, "norole@example.com", "").await;
        assert_eq!(created.role, VIEWER);
        assert!(created.scopes.iter().all(|s| s.ends_with(":read")), "{:?}", created.scopes);
    }
}

db_test! {
    async fn create_refuses_an_email_that_differs_only_in_case(app) {
        let root = app.setup_admin().await;
        create(&app, &root.access_token, "Dup@Example.com", VIEWER).await;
        let admins_before = count_admins(&app).await;
        let audit_before = app.count_audit().await;
        for variant in ["dup@example.com", "DUP@EXAMPLE.COM", "  dup@example.COM ", &ADMIN_EMAIL.to_uppercase()] {
            let status = app
                .admin_auth()
                .create_admin(authorized(create_request(variant, VIEWER), &root.access_token))
                .await
                .expect_err("duplicate email");
            assert_status(&status, Code::AlreadyExists, "EMAIL_EXISTS");
        }
        assert_eq!(count_admins(&app).await, admins_before);
        assert_eq!(app.count_audit().await, audit_before);
    }
}

db_test! {
    async fn create_retried_with_the_same_request_id_returns_the_first_admin(app) {
        let root = app.setup_admin().await;
        let mut request = create_request("retry@example.com", VIEWER);
        request.request_id = Uuid::new_v4().to_string();
        let mut client = app.admin_auth();
        let first = client.create_admin(authorized(request.clone(), &root.access_token)).await;
        let first = first.expect("first create").into_inner().admin.expect("admin");
        let again = client.create_admin(authorized(request.clone(), &root.access_token)).await;
        let again = again.expect("retried create").into_inner().admin.expect("admin");
        assert_eq!(again.id, first.id);
        assert_eq!(again.email, first.email);
        assert_eq!(count_admins(&app).await, 2, "root and one created admin");
        assert_eq!(app.audit_rows("admin.create").await.len(), 1);

        // The same id with a different request is refused, not replayed: the id is taken.
        let mut other = create_request("someone-else@example.com", VIEWER);
        other.request_id = request.request_id.clone();
        let status = client.create_admin(authorized(other, &root.access_token)).await.unwrap_err();
        warden_tests::assert_request_id_taken(&status);
        assert_eq!(count_admins(&app).await, 2);
    }
}

db_test! {
    async fn concurrent_retries_with_one_request_id_create_one_admin(app) {
        let root = app.setup_admin().await;
        let mut request = create_request("racing@example.com", VIEWER);
        request.request_id = Uuid::new_v4().to_string();
        let calls = (0..5).map(|_| {
            let mut client: Client = app.admin_auth();
            let request = authorized(request.clone(), &root.access_token);
            async move { client.create_admin(request).await }
        });
        let answers = futures_util::future::join_all(calls).await;
        let mut ids = HashSet::new();
        for answer in answers {
            let admin = answer.expect("every retry gets the first answer").into_inner().admin;
            ids.insert(admin.expect("admin").id);
        }
        assert_eq!(ids.len(), 1, "one admin: {ids:?}");
        assert_eq!(count_admins(&app).await, 2);
        assert_eq!(app.audit_rows("admin.create").await.len(), 1);
    }
}

db_test! {
    async fn a_created_viewer_signs_in_reads_but_cannot_write(app) {
        let root = app.setup_admin().await;
        let created = create(&app, &root.access_token, "viewer@example.com", VIEWER).await;
        assert_eq!(created.role, VIEWER);
        assert!(created.is_active);
        assert!(created.last_login_at.is_none());
        let viewer = app.login("viewer@example.com", PASSWORD).await.expect("viewer signs in");
        assert_eq!(viewer.admin_id, created.id);

        let listed = list(&app, &viewer.access_token, pb::ListAdminsRequest::default()).await;
        assert_eq!(listed.admins.len(), 2);
        let fetched = get(&app, &viewer.access_token, &root.admin_id).await.expect("viewer reads");
        assert_eq!(fetched.email, ADMIN_EMAIL);

        let status = app
            .admin_auth()
            .create_admin(authorized(create_request("x@example.com", VIEWER), &viewer.access_token))
            .await
            .expect_err("viewer may not create");
        assert_status(&status, Code::PermissionDenied, "SCOPE_MISSING");
        let delete = pb::DeleteAdminRequest { id: root.admin_id.clone(), validate_only: false };
        let status = app.admin_auth().delete_admin(authorized(delete, &viewer.access_token)).await;
        assert_status(&status.expect_err("viewer may not delete"), Code::PermissionDenied, "SCOPE_MISSING");
        assert_eq!(count_admins(&app).await, 2);
    }
}
