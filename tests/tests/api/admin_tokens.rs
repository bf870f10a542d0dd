//! Access tokens as a verifier sees them: EdDSA with a `kid` published in
//! the JWKS (so services can verify offline), and everything else refused.

use chrono::{Duration, Utc};
use data_encoding::BASE64URL_NOPAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::json;
use tonic::Code;
use warden_core::{auth::tokens::keys, entity::signing_keys};
use warden_proto::v1 as pb;
use warden_tests::{TestApp, assert_status, authorized, db_test, reason_of};

async fn jwks(app: &TestApp) -> pb::GetJwksResponse {
    app.admin_auth().get_jwks(pb::GetJwksRequest {}).await.expect("jwks is public").into_inner()
}

async fn current_admin(app: &TestApp, token: &str) -> Result<pb::Admin, tonic::Status> {
    let response = app
        .admin_auth()
        .get_current_admin(authorized(pb::GetCurrentAdminRequest {}, token))
        .await?;
    Ok(response.into_inner().admin.expect("admin"))
}

/// The newest signing key as stored, to forge tokens the server would sign.
async fn newest_key(app: &TestApp) -> signing_keys::Model {
    signing_keys::Entity::find()
        .order_by_desc(signing_keys::Column::CreatedAt)
        .one(&app.db)
        .await
        .unwrap()
        .expect("a signing key")
}

fn claims_like(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&BASE64URL_NOPAD.decode(payload.as_bytes()).unwrap()).unwrap()
}

fn sign(key: &signing_keys::Model, typ: &str, claims: &serde_json::Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.id.to_string());
    header.typ = Some(typ.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(&key.private_key_der)).unwrap()
}

db_test! {
    async fn tokens_verify_offline_against_the_jwks(app) {
        let session = app.setup_admin().await;
        let set = jwks(&app).await;
        assert_eq!(set.keys.len(), 1);
        let jwk = &set.keys[0];
        assert_eq!((jwk.kty.as_str(), jwk.crv.as_str(), jwk.alg.as_str(), jwk.r#use.as_str()), ("OKP", "Ed25519", "EdDSA", "sig"));
        let parsed: serde_json::Value = serde_json::from_str(&set.jwks_json).unwrap();
        assert_eq!(parsed["keys"][0]["kid"], jwk.kid);

        let header = jsonwebtoken::decode_header(&session.access_token).unwrap();
        assert_eq!((header.alg, header.kid.as_deref(), header.typ.as_deref()), (Algorithm::EdDSA, Some(jwk.kid.as_str()), Some("at+jwt")));
        let key = DecodingKey::from_ed_components(&jwk.x).unwrap();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&["warden"]);
        validation.set_audience(&["warden-admin"]);
        let data = jsonwebtoken::decode::<serde_json::Value>(&session.access_token, &key, &validation).unwrap();
        assert_eq!(data.claims["sub"], session.admin_id);
        assert!(data.claims["sid"].is_string() && data.claims["exp"].is_i64());
        let lifetime = data.claims["exp"].as_i64().unwrap() - data.claims["iat"].as_i64().unwrap();
        assert_eq!(lifetime, 15 * 60);
    }
}

db_test! {
    async fn forged_and_malformed_tokens_are_refused(app) {
        let session = app.setup_admin().await;
        let key = newest_key(&app).await;
        let good = claims_like(&session.access_token);
        // The genuine article, re-signed by us with the real key: accepted.
        current_admin(&app, &sign(&key, "at+jwt", &good)).await.expect("well-formed token");

        let mut cases: Vec<(&str, String)> = Vec::new();
        let with = |field: &str, value: serde_json::Value| {
            let mut claims = good.clone();
            claims[field] = value;
            claims
        };
        cases.push(("wrong iss", sign(&key, "at+jwt", &with("iss", json!("someone-else")))));
        cases.push(("wrong aud", sign(&key, "at+jwt", &with("aud", json!("another-api")))));
        cases.push(("wrong typ", sign(&key, "JWT", &good)));
        let mut no_exp = good.clone();
        no_exp.as_object_mut().unwrap().remove("exp");
        cases.push(("no exp", sign(&key, "at+jwt", &no_exp)));
        cases.push(("user token", sign(&key, "at+jwt", &with("pty", json!("user")))));
        // alg none: header {"alg":"none"} and an empty signature.
        let none_header = BASE64URL_NOPAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
        let body = session.access_token.split('.').nth(1).unwrap();
        cases.push(("alg none", format!("{none_header}.{body}.")));
        // HS256 with the public key as the HMAC secret (key confusion).
        let mut hs = Header::new(Algorithm::HS256);
        hs.kid = Some(key.id.to_string());
        hs.typ = Some("at+jwt".into());
        cases.push(("HS256", jsonwebtoken::encode(&hs, &good, &EncodingKey::from_secret(&key.public_key)).unwrap()));
        // Right kid, signed by a key that is not ours.
        let stranger = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let der = ed25519_dalek::pkcs8::EncodePrivateKey::to_pkcs8_der(&stranger).unwrap();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.id.to_string());
        header.typ = Some("at+jwt".into());
        cases.push(("bad signature", jsonwebtoken::encode(&header, &good, &EncodingKey::from_ed_der(der.as_bytes())).unwrap()));
        cases.push(("refresh token", session.refresh_token.clone()));
        cases.push(("truncated", session.access_token[..session.access_token.len() - 3].to_owned()));

        for (name, token) in cases {
            let err = current_admin(&app, &token).await.expect_err(name);
            assert_eq!((err.code(), reason_of(&err).as_str()), (Code::Unauthenticated, "INVALID_CREDENTIALS"), "{name}");
        }

        let expired = with("exp", json!((Utc::now() - Duration::minutes(5)).timestamp()));
        let err = current_admin(&app, &sign(&key, "at+jwt", &expired)).await.unwrap_err();
        assert_status(&err, Code::Unauthenticated, "TOKEN_EXPIRED");
    }
}

db_test! {
    async fn rotated_keys_are_picked_up_and_old_tokens_keep_working(app) {
        let session = app.setup_admin().await;
        let old_kid = jwks(&app).await.keys[0].kid.clone();
        // What `warden keys rotate` does, on the shared database.
        keys::rotate(&app.db, Utc::now(), Duration::minutes(16)).await.unwrap();
        let new_key = newest_key(&app).await;
        assert_ne!(new_key.id.to_string(), old_kid);

        // A token signed with the new key (as another replica would issue it)
        // makes this replica reload its ring instead of refusing it.
        let token = sign(&new_key, "at+jwt", &claims_like(&session.access_token));
        current_admin(&app, &token).await.expect("new key accepted after reload");
        let kids: Vec<String> = jwks(&app).await.keys.into_iter().map(|k| k.kid).collect();
        assert!(kids.contains(&old_kid) && kids.contains(&new_key.id.to_string()), "{kids:?}");
        current_admin(&app, &session.access_token).await.expect("old key still verifies");
    }
}
