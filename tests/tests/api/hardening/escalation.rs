//! Granting a role is granting its scopes, and taking over an admin is as good
//! as holding their role: a narrow `admins:write` credential can do neither.

use prost_types::FieldMask;
use sea_orm::{EntityTrait, PaginatorTrait};
use warden_core::{
    entity::admins,
    scope::{Scope, ScopeSet},
};
use warden_proto::v1 as pb;
use warden_tests::{ADMIN_EMAIL, TestApp, authorized, db_test};

use super::*;

const PASSWORD: &str = "grey heron above the quay";

fn create(email: &str, role: &str) -> pb::CreateAdminRequest {
    pb::CreateAdminRequest {
        email: email.into(),
        password: PASSWORD.into(),
        name: "Someone".into(),
        role: role.into(),
        ..Default::default()
    }
}

fn scopes(list: &[Scope]) -> ScopeSet {
    list.iter().copied().collect()
}

async fn admin_count(app: &TestApp) -> u64 {
    admins::Entity::find().count(&app.db).await.unwrap()
}

db_test! {
    async fn a_narrow_admins_write_key_cannot_mint_or_take_over_a_dashboard_admin(app) {
        let root = app.setup_admin().await;
        let mut client = app.admin_auth();
        let narrow = app.api_key(scopes(&[Scope::AdminsWrite])).await;

        // The attack as reported: create a dashboard_admin, log in, mint an all-scope key.
        let err = client.create_admin(authorized(create("evil@example.com", "dashboard_admin"), &narrow)).await.unwrap_err();
        assert_status(&err, Code::PermissionDenied, "SCOPE_MISSING");
        assert!(err.get_error_details().error_info().unwrap().metadata.contains_key("required_scope"));
        // A viewer grants every :read scope, which this key lacks too.
        let err = client.create_admin(authorized(create("viewer@example.com", "dashboard_viewer"), &narrow)).await.unwrap_err();
        assert_status(&err, Code::PermissionDenied, "SCOPE_MISSING");
        assert_eq!(admin_count(&app).await, 1, "nothing was created");
        assert!(app.login("evil@example.com", PASSWORD).await.is_err());

        // Taking over the root admin: new password, new email, disabling, deleting.
        let me = client
            .get_current_admin(authorized(pb::GetCurrentAdminRequest {}, &root.access_token))
            .await.unwrap().into_inner().admin.unwrap();
        let takeovers = [
            pb::UpdateAdminRequest {
                admin: Some(me.clone()),
                update_mask: Some(FieldMask { paths: vec!["password".into()] }),
                password: PASSWORD.into(),
                ..Default::default()
            },
            pb::UpdateAdminRequest {
                admin: Some(pb::Admin { email: "evil@example.com".into(), ..me.clone() }),
                update_mask: Some(FieldMask { paths: vec!["email".into()] }),
                ..Default::default()
            },
            pb::UpdateAdminRequest {
                admin: Some(pb::Admin { is_active: false, ..me.clone() }),
                update_mask: Some(FieldMask { paths: vec!["is_active".into()] }),
                ..Default::default()
            },
        ];
        for request in takeovers {
            let err = client.update_admin(authorized(request, &narrow)).await.unwrap_err();
            assert_status(&err, Code::PermissionDenied, "SCOPE_MISSING");
        }
        let err = client
            .delete_admin(authorized(pb::DeleteAdminRequest { id: me.id.clone(), validate_only: false }, &narrow))
            .await.unwrap_err();
        assert_status(&err, Code::PermissionDenied, "SCOPE_MISSING");
        app.login(ADMIN_EMAIL, warden_tests::ADMIN_PASSWORD).await.expect("root unchanged");
    }
}

db_test! {
    async fn a_viewer_manager_cannot_promote_anyone_to_dashboard_admin(app) {
        let root = app.setup_admin().await;
        let mut client = app.admin_auth();
        // Everything a dashboard_viewer holds, plus admins:write.
        let mut held: Vec<Scope> = Scope::ALL.iter().copied().filter(|s| s.as_str().ends_with(":read")).collect();
        held.push(Scope::AdminsWrite);
        let manager = app.api_key(scopes(&held)).await;

        let viewer = client
            .create_admin(authorized(create("viewer@example.com", "dashboard_viewer"), &manager))
            .await.expect("a viewer's scopes are all held").into_inner().admin.unwrap();
        let promote = pb::UpdateAdminRequest {
            admin: Some(pb::Admin { role: "dashboard_admin".into(), ..viewer.clone() }),
            update_mask: Some(FieldMask { paths: vec!["role".into()] }),
            ..Default::default()
        };
        let err = client.update_admin(authorized(promote.clone(), &manager)).await.unwrap_err();
        assert_status(&err, Code::PermissionDenied, "SCOPE_MISSING");
        // The viewer itself, signed in, holds only :read scopes: no admin management at all.
        let session = app.login("viewer@example.com", PASSWORD).await.unwrap();
        let err = client.update_admin(authorized(promote.clone(), &session.access_token)).await.unwrap_err();
        assert_status(&err, Code::PermissionDenied, "SCOPE_MISSING");
        let stored = admins::Entity::find_by_id(viewer.id.parse::<uuid::Uuid>().unwrap()).one(&app.db).await.unwrap().unwrap();
        assert_eq!(stored.role, "dashboard_viewer");

        // The root admin holds every scope: the promotion goes through.
        let promoted = client.update_admin(authorized(promote, &root.access_token)).await.unwrap().into_inner().admin.unwrap();
        assert_eq!(promoted.role, "dashboard_admin");
    }
}
