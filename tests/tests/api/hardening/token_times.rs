//! Token times: `nbf` and `iat` are honoured, not just `exp`, and no
//! configuration stretches the clock-skew leeway past 30 seconds.

use chrono::Utc;
use data_encoding::BASE64URL_NOPAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::json;
use warden_core::entity::signing_keys;
use warden_proto::v1 as pb;
use warden_tests::{TestApp, authorized, backend_test};

use super::*;

/// Re-signs `token`'s claims, changed by `edit`, with the server's own key:
/// what someone holding a leaked signing key, or a buggy issuer, could mint.
async fn resigned(app: &TestApp, token: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let key = signing_keys::Entity::find()
        .order_by_desc(signing_keys::Column::CreatedAt)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&BASE64URL_NOPAD.decode(payload.as_bytes()).unwrap()).unwrap();
    edit(&mut claims);
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.id.to_string());
    header.typ = Some("at+jwt".into());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(&key.private_key_der)).unwrap()
}

async fn current_admin(app: &TestApp, token: &str) -> Result<(), Status> {
    let request = authorized(pb::GetCurrentAdminRequest {}, token);
    app.admin_auth().get_current_admin(request).await.map(|_| ())
}

backend_test! {
    async fn not_before_and_issued_at_are_enforced(backend) {
        // A generous configured leeway: still capped at 30 s.
        let Some(app) = TestApp::spawn_with(backend, |c| c.auth.tokens.leeway_seconds = 3600).await else {
            return;
        };
        let session = app.setup_admin().await;
        let now = Utc::now().timestamp();
        let cases = [
            ("nbf an hour ahead", json!({"nbf": now + 3600})),
            ("nbf a minute ahead", json!({"nbf": now + 60})),
            ("iat an hour ahead", json!({"iat": now + 3600})),
            ("iat a minute ahead", json!({"iat": now + 60})),
        ];
        for (name, change) in cases {
            let token = resigned(&app, &session.access_token, |claims| {
                for (k, v) in change.as_object().unwrap() {
                    claims[k] = v.clone();
                }
            })
            .await;
            let err = current_admin(&app, &token).await.expect_err(name);
            assert_status(&err, Code::Unauthenticated, "INVALID_CREDENTIALS");
        }
        // Within the leeway, and in the past: fine.
        for nbf in [now + 10, now - 60] {
            let token = resigned(&app, &session.access_token, |c| c["nbf"] = json!(nbf)).await;
            current_admin(&app, &token).await.expect("nbf within the leeway");
        }
        // Expired a minute ago: the configured hour of leeway does not apply.
        let expired = resigned(&app, &session.access_token, |c| c["exp"] = json!(now - 60)).await;
        assert_status(&current_admin(&app, &expired).await.unwrap_err(), Code::Unauthenticated, "TOKEN_EXPIRED");
    }
}
