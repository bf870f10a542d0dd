//! Nothing in the database can take over an account: reset and invitation
//! links are minted only when the mail is sent, so the outbox never holds
//! one, and a delivered or failed message keeps no body.

use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};
use warden_core::{
    entity::{outbox_messages, verification_tokens},
    scope::ScopeSet,
    secret::digest,
};
use warden_proto::v1::{self as pb, users_service_client::UsersServiceClient};
use warden_tests::{ADMIN_EMAIL, TestApp, authorized, db_test};

const NEW_PASSWORD: &str = "lighthouse keeper of the north";

/// Every table a token could end up in, as text (PostgreSQL; on SQLite the
/// test reads the database file itself).
async fn database_text(app: &TestApp) -> String {
    let tables = [
        "outbox_messages",
        "verification_tokens",
        "audit_events",
        "admins",
        "users",
        "sessions",
        "refresh_tokens",
        "idempotency_keys",
    ];
    let mut text = String::new();
    if app.db.get_database_backend() != DbBackend::Postgres {
        return text;
    }
    for table in tables {
        let sql = format!("SELECT row_to_json(t)::text AS row FROM {table} t");
        let rows =
            app.db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql)).await.unwrap();
        for row in rows {
            text.push_str(&row.try_get::<String>("", "row").unwrap());
            text.push('\n');
        }
    }
    assert!(text.contains("invitee@example.com"), "the dump reads real rows");
    text
}

async fn delivered_everything(app: &TestApp) -> Vec<outbox_messages::Model> {
    for _ in 0..200 {
        let rows = outbox_messages::Entity::find().all(&app.db).await.unwrap();
        if rows.iter().all(|r| r.delivered_at.is_some()) {
            return rows;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the outbox did not drain");
}

db_test! {
    async fn no_usable_link_is_ever_stored(app) {
        app.setup_admin().await;
        let key = app.api_key(ScopeSet::all()).await;
        let mut users = UsersServiceClient::new(app.channel.clone());

        app.admin_auth()
            .request_password_reset(pb::RequestPasswordResetRequest { email: ADMIN_EMAIL.into() })
            .await.unwrap();
        let invite = pb::InviteUserRequest {
            email: "invitee@example.com".into(),
            delivery: pb::InviteDelivery::SendEmail as i32,
            ..Default::default()
        };
        let invited = users.invite_user(authorized(invite, &key)).await.unwrap().into_inner();
        assert!(invited.invitation_link.is_empty());
        let reset = pb::InitiatePasswordResetRequest {
            id: invited.user.unwrap().id,
            delivery: pb::PasswordResetDelivery::Email as i32,
            ..Default::default()
        };
        users.initiate_password_reset(authorized(reset, &key)).await.unwrap();

        let tokens = [
            app.token_mailed_to(ADMIN_EMAIL, 1).await,
            app.token_mailed_to("invitee@example.com", 1).await,
            app.token_mailed_to("invitee@example.com", 2).await,
        ];
        let rows = delivered_everything(&app).await;
        assert_eq!(rows.len(), 3);
        for row in &rows {
            assert!(row.body_text.is_empty() && row.params.is_none(), "purged after delivery: {row:?}");
            assert!(row.template.is_some() && row.token_id.is_some());
        }
        let stored = database_text(&app).await;
        let digests: Vec<Vec<u8>> =
            verification_tokens::Entity::find().all(&app.db).await.unwrap().into_iter().map(|t| t.token_digest).collect();
        for token in &tokens {
            assert!(!stored.contains(token.as_str()), "a raw token is stored");
            assert!(digests.contains(&digest(token.as_bytes())), "only its digest is");
        }
        if let Some(path) = app.sqlite_path() {
            // The file itself, write-ahead log included, as a thief would read it.
            for file in [path.clone(), path.with_extension("db-wal")] {
                let bytes = std::fs::read(&file).unwrap_or_default();
                for token in &tokens {
                    assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()), "{} holds a token", file.display());
                }
            }
        }

        // The mailed link is the real one: it resets the password.
        let confirm = pb::ConfirmPasswordResetRequest {
            token: tokens[0].clone(),
            password: NEW_PASSWORD.into(),
            password_confirm: NEW_PASSWORD.into(),
        };
        app.admin_auth().confirm_password_reset(confirm).await.expect("mailed token works");
        app.login(ADMIN_EMAIL, NEW_PASSWORD).await.expect("new password");
    }
}

db_test! {
    async fn a_superseded_link_is_never_sent(app) {
        let key = app.api_key(ScopeSet::all()).await;
        let mut users = UsersServiceClient::new(app.channel.clone());
        let create = pb::CreateUserRequest {
            email: "twice@example.com".into(),
            password_source: Some(pb::create_user_request::PasswordSource::Password("weathered granite steps".into())),
            ..Default::default()
        };
        let user = users.create_user(authorized(create, &key)).await.unwrap().into_inner().user.unwrap();
        let reset = pb::InitiatePasswordResetRequest {
            id: user.id.clone(),
            delivery: pb::PasswordResetDelivery::Email as i32,
            ..Default::default()
        };
        // Two resets back to back: the first code is superseded at once.
        users.initiate_password_reset(authorized(reset.clone(), &key)).await.unwrap();
        users.initiate_password_reset(authorized(reset, &key)).await.unwrap();
        let tokens: Vec<String> = app.mail_to("twice@example.com", 1).await.iter().map(|m| warden_tests::token_in(m)).collect();
        // Whatever was mailed, at most one live code exists and every row is finished and purged.
        for _ in 0..200 {
            let rows = outbox_messages::Entity::find().all(&app.db).await.unwrap();
            if rows.iter().all(|r| r.delivered_at.is_some() || r.failed_at.is_some()) {
                assert!(rows.iter().all(|r| r.body_text.is_empty() && r.params.is_none()));
                let live = verification_tokens::Entity::find().all(&app.db).await.unwrap()
                    .into_iter().filter(|t| t.consumed_at.is_none()).count();
                assert_eq!(live, 1);
                assert!(!tokens.is_empty());
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the outbox did not finish");
    }
}
