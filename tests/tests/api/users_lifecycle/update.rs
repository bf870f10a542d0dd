//! UpdateUser (field mask rules, uniqueness, verified flags) and SetUserRoles.

use super::*;

fn update(user: pb::User, paths: &[&str]) -> pb::UpdateUserRequest {
    pb::UpdateUserRequest { user: Some(user), update_mask: mask(paths) }
}

impl Caller {
    async fn update(&mut self, request: pb::UpdateUserRequest) -> Result<pb::User, Status> {
        self.client
            .update_user(authorized(request, &self.key))
            .await
            .map(|r| r.into_inner().user.unwrap())
    }

    async fn set_roles(&mut self, id: &str, roles: &[&str]) -> Result<pb::User, Status> {
        let request = pb::SetUserRolesRequest {
            id: id.to_owned(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        };
        self.client
            .set_user_roles(authorized(request, &self.key))
            .await
            .map(|r| r.into_inner().user.unwrap())
    }
}

db_test! {
    async fn update_changes_only_the_masked_fields(app) {
        let mut caller = Caller::new(&app).await;
        let request = pb::CreateUserRequest {
            username: "grace".into(),
            given_name: "Grace".into(),
            family_name: "Hopper".into(),
            phone: "+14155550100".into(),
            phone_verified: true,
            email_verified: true,
            roles: vec!["staff".into()],
            ..create_request("grace@example.com")
        };
        let before = caller.create(request).await.unwrap().user.unwrap();
        let metadata = prost_types::Struct {
            fields: [("team".to_owned(), prost_types::Value { kind: Some(prost_types::value::Kind::StringValue("navy".into())) })]
                .into_iter()
                .collect(),
        };
        let change = pb::User {
            id: before.id.clone(),
            given_name: "Admiral".into(),
            family_name: "outside the mask".into(),
            username: String::new(),
            metadata: Some(metadata.clone()),
            roles: vec!["admin".into(), "staff".into()],
            must_change_password: true,
            email: "outside@example.com".into(),
            ..Default::default()
        };
        let paths = ["given_name", "username", "metadata", "roles", "must_change_password"];
        let after = caller.update(update(change, &paths)).await.unwrap();
        assert_eq!(after.given_name, "Admiral");
        assert_eq!(after.username, "", "an empty value in the mask clears the field");
        assert_eq!(after.metadata.as_ref(), Some(&metadata));
        assert_eq!(after.roles, ["admin", "staff"]);
        assert!(after.must_change_password);
        assert_eq!((after.family_name.as_str(), after.email.as_str(), after.phone.as_str()), ("Hopper", "grace@example.com", "+14155550100"));
        assert!(after.email_verified && after.phone_verified);
        assert_eq!(after.created_at, before.created_at);
        assert!(after.updated_at.unwrap().seconds >= before.updated_at.unwrap().seconds);
        assert_eq!(caller.get_id(&before.id).await.unwrap(), after);
        assert_eq!(row(&app, &before.id).await.unwrap().username_normalized, None);

        let rows = app.audit_rows("user.update").await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].target_id.as_deref(), Some(before.id.as_str()));
        let fields = rows[0].metadata["fields"].as_array().unwrap();
        assert_eq!(fields.len(), paths.len(), "{fields:?}");
        assert!(!format!("{:?}", rows[0].metadata).contains("Admiral"), "names of fields, not values");

        // A new email or phone is unverified unless the mask says otherwise.
        let moved = pb::User { id: before.id.clone(), email: "hopper@example.com".into(), phone: "+14155550101".into(), ..Default::default() };
        let after = caller.update(update(moved, &["email", "phone"])).await.unwrap();
        assert_eq!((after.email.as_str(), after.email_verified, after.phone_verified), ("hopper@example.com", false, false));
        let verified = pb::User { id: before.id.clone(), email: "grace@example.com".into(), email_verified: true, ..Default::default() };
        let after = caller.update(update(verified, &["email", "email_verified"])).await.unwrap();
        assert_eq!((after.email.as_str(), after.email_verified), ("grace@example.com", true));
        // Same normalized address: still verified.
        let recased = pb::User { id: before.id.clone(), email: "Grace@Example.com".into(), ..Default::default() };
        assert!(caller.update(update(recased, &["email"])).await.unwrap().email_verified);
    }
}

db_test! {
    async fn the_mask_must_name_only_editable_fields_and_bad_values_change_nothing(app) {
        let mut caller = Caller::new(&app).await;
        let user = caller.user("masked@example.com").await;
        let audit_before = app.count_audit().await;
        let change = pb::User { id: user.id.clone(), given_name: "x".into(), ..Default::default() };
        let bad_masks: [&[&str]; 8] = [
            &[],
            &["id"],
            &["created_at"],
            &["updated_at", "given_name"],
            &["is_active"],
            &["session_count"],
            &["password"],
            &["no_such_field"],
        ];
        for paths in bad_masks {
            let status = caller.update(update(change.clone(), paths)).await.unwrap_err();
            assert_invalid(&status, &["update_mask"]);
        }
        let no_mask = pb::UpdateUserRequest { user: Some(change.clone()), update_mask: None };
        assert_invalid(&caller.update(no_mask).await.unwrap_err(), &["update_mask"]);

        let bad_values = pb::User {
            id: user.id.clone(),
            email: String::new(),
            username: "no spaces allowed".into(),
            phone: "12345".into(),
            roles: vec!["UPPER".into()],
            given_name: "a".repeat(101),
            ..Default::default()
        };
        let status = caller.update(update(bad_values, &["email", "username", "phone", "roles", "given_name", "last_login_at"])).await.unwrap_err();
        assert_invalid(&status, &["user.email", "user.username", "user.phone", "user.roles[0]", "user.given_name", "update_mask"]);
        let unverifiable = pb::User { id: user.id.clone(), phone_verified: true, ..Default::default() };
        let status = caller.update(update(unverifiable, &["phone_verified"])).await.unwrap_err();
        assert_invalid(&status, &["user.phone_verified"]);

        let status = caller.update(pb::UpdateUserRequest { user: None, update_mask: mask(&["given_name"]) }).await.unwrap_err();
        assert_invalid(&status, &["user"]);
        let malformed = pb::User { id: "42".into(), ..Default::default() };
        let status = caller.update(update(malformed, &["given_name", "id"])).await.unwrap_err();
        assert_invalid(&status, &["user.id", "update_mask"]);
        let unknown = pb::User { id: Uuid::now_v7().to_string(), ..Default::default() };
        assert_status(&caller.update(update(unknown, &["given_name"])).await.unwrap_err(), Code::NotFound, "NOT_FOUND");

        assert_eq!(caller.get_id(&user.id).await.unwrap(), user);
        assert_eq!(app.count_audit().await, audit_before);
    }
}

db_test! {
    async fn update_keeps_email_username_and_phone_unique(app) {
        let mut caller = Caller::new(&app).await;
        let taken = pb::CreateUserRequest { username: "taken".into(), phone: "+33142685300".into(), ..create_request("taken@example.com") };
        caller.create(taken).await.unwrap();
        let user = caller.user("mover@example.com").await;
        let audit_before = app.count_audit().await;
        let cases = [
            ("EMAIL_EXISTS", "email", pb::User { email: "TAKEN@example.com".into(), ..Default::default() }),
            ("USERNAME_EXISTS", "username", pb::User { username: "Taken".into(), ..Default::default() }),
            ("PHONE_EXISTS", "phone", pb::User { phone: "+33142685300".into(), ..Default::default() }),
        ];
        for (reason, path, change) in cases {
            let change = pb::User { id: user.id.clone(), ..change };
            let status = caller.update(update(change, &[path])).await.unwrap_err();
            assert_status(&status, Code::AlreadyExists, reason);
        }
        assert_eq!(caller.get_id(&user.id).await.unwrap(), user);
        assert_eq!(app.count_audit().await, audit_before);
    }
}

db_test! {
    async fn set_user_roles_replaces_them_all(app) {
        let mut caller = Caller::new(&app).await;
        let request = pb::CreateUserRequest { roles: vec!["a".into(), "b".into()], ..create_request("roles@example.com") };
        let user = caller.create(request).await.unwrap().user.unwrap();
        assert_eq!(caller.set_roles(&user.id, &["c", "b", "c"]).await.unwrap().roles, ["b", "c"]);
        assert_eq!(caller.get_id(&user.id).await.unwrap().roles, ["b", "c"]);
        assert!(caller.set_roles(&user.id, &[]).await.unwrap().roles.is_empty());
        let rows = app.audit_rows("user.set_roles").await;
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].metadata["roles"], serde_json::json!(["b", "c"]));

        let audit_before = app.count_audit().await;
        let status = caller.set_roles(&user.id, &["ok", "Not OK"]).await.unwrap_err();
        assert_invalid(&status, &["roles[1]"]);
        let status = caller.set_roles("nope", &["Not OK"]).await.unwrap_err();
        assert_invalid(&status, &["id", "roles[0]"]);
        assert_status(&caller.set_roles(&Uuid::now_v7().to_string(), &["a"]).await.unwrap_err(), Code::NotFound, "NOT_FOUND");
        assert!(caller.get_id(&user.id).await.unwrap().roles.is_empty());
        assert_eq!(app.count_audit().await, audit_before);
    }
}
