//! ListIdentities and UnlinkIdentity: the last way to sign in (no password,
//! one identity) is refused unless forced; validate_only changes nothing.

use tonic::Code;
use warden_tests::{db_test, reason_of};

use super::*;

fn link(provider: &str, subject: &str) -> pb::Identity {
    pb::Identity {
        provider: provider.into(),
        provider_user_id: subject.into(),
        ..Default::default()
    }
}

impl Caller {
    async fn identities(&mut self, user_id: &str) -> Result<Vec<pb::Identity>, Status> {
        let request = pb::ListIdentitiesRequest { user_id: user_id.into() };
        self.users
            .list_identities(authorized(request, &self.key))
            .await
            .map(|r| r.into_inner().identities)
    }

    async fn unlink(
        &mut self,
        user_id: &str,
        identity_id: &str,
        force: bool,
        validate_only: bool,
    ) -> Result<pb::UnlinkIdentityResponse, Status> {
        let request = pb::UnlinkIdentityRequest {
            user_id: user_id.into(),
            identity_id: identity_id.into(),
            force,
            validate_only,
        };
        self.users.unlink_identity(authorized(request, &self.key)).await.map(|r| r.into_inner())
    }
}

db_test! {
    async fn the_last_way_to_sign_in_is_kept_unless_forced(app) {
        let mut caller = Caller::new(&app).await;
        let mut social_only = row("social@example.com", "");
        social_only.identities = vec![link("google", "s-1")];
        let mut two = row("two@example.com", "");
        two.identities = vec![link("google", "t-1"), link("apple", "t-2")];
        let mut hybrid = row("hybrid@example.com", &bcrypt::hash(PASSWORD, 4).unwrap());
        hybrid.identities = vec![link("github", "h-1")];
        assert_eq!(caller.import_ok(vec![social_only, two, hybrid]).await.created_count, 3);

        let social = caller.get("social@example.com").await;
        let only = caller.identities(&social.id).await.unwrap();
        assert_eq!(only.len(), 1);
        for validate_only in [false, true] {
            let err = caller.unlink(&social.id, &only[0].id, false, validate_only).await.unwrap_err();
            assert_status(&err, Code::FailedPrecondition, "LAST_SIGN_IN_METHOD");
        }
        let preview = caller.unlink(&social.id, &only[0].id, true, true).await.unwrap();
        assert_eq!(preview.identity.unwrap().id, only[0].id);
        assert!(preview.user.unwrap().has_social_auth, "validate_only changes nothing");
        assert_eq!(caller.identities(&social.id).await.unwrap().len(), 1);
        assert!(app.audit_rows("user.identity_unlink").await.is_empty());

        let forced = caller.unlink(&social.id, &only[0].id, true, false).await.unwrap();
        assert!(!forced.user.unwrap().has_social_auth);
        assert!(caller.identities(&social.id).await.unwrap().is_empty());
        let audit = app.audit_rows("user.identity_unlink").await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].metadata["forced_last_sign_in_method"], true);

        // Another identity, or a password, is another way in.
        let two = caller.get("two@example.com").await;
        let links = caller.identities(&two.id).await.unwrap();
        assert_eq!(links.len(), 2);
        let left = caller.unlink(&two.id, &links[0].id, false, false).await.unwrap();
        assert_eq!(left.user.unwrap().social_providers.len(), 1);
        let err = caller.unlink(&two.id, &links[1].id, false, false).await.unwrap_err();
        assert_eq!(reason_of(&err), "LAST_SIGN_IN_METHOD");
        let hybrid = caller.get("hybrid@example.com").await;
        let links = caller.identities(&hybrid.id).await.unwrap();
        caller.unlink(&hybrid.id, &links[0].id, false, false).await.expect("the password remains");
        assert_eq!(app.audit_rows("user.identity_unlink").await.len(), 3);

        // Identity of another user, unknown user, malformed ids.
        let other = caller.identities(&two.id).await.unwrap();
        let err = caller.unlink(&hybrid.id, &other[0].id, true, false).await.unwrap_err();
        assert_status(&err, Code::NotFound, "NOT_FOUND");
        let nobody = uuid::Uuid::now_v7().to_string();
        assert_eq!(caller.identities(&nobody).await.unwrap_err().code(), Code::NotFound);
        assert_eq!(caller.unlink(&nobody, &other[0].id, true, false).await.unwrap_err().code(), Code::NotFound);
        let err = caller.unlink("nope", "", false, false).await.unwrap_err();
        assert_status(&err, Code::InvalidArgument, "VALIDATION_FAILED");
        assert_eq!(caller.identities("nope").await.unwrap_err().code(), Code::InvalidArgument);
        assert_eq!(app.audit_rows("user.identity_unlink").await.len(), 3, "refusals write nothing");
    }
}
