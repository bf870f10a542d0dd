//! ApiKeysService requests -> the typed input of `warden_core::api_keys`,
//! every field violation of a request collected into one answer.

use chrono::{DateTime, Utc};
use warden_core::{
    DomainResult, FieldViolation,
    api_keys::{
        ApiKeyQuery, CreateApiKey, KeyDescription, KeyName, UpdateApiKey, fields::parse_scopes,
    },
    pagination::{PageKey, PageRequest},
    scope::Scope,
    values::{ApiKeyId, RequestId, all},
};
use warden_proto::v1 as pb;

use crate::grpc::convert::{Mask, MaskRules, descending, future_time, paged, paging, text_filter};

fn api_key_mask() -> MaskRules {
    MaskRules::of("warden.v1.ApiKey")
}

/// `now`: an `expires_at` must be after it.
pub fn create_api_key(
    req: pb::CreateApiKeyRequest,
    now: DateTime<Utc>,
) -> DomainResult<CreateApiKey> {
    let (name, description, scopes, expires_at, request_id) = all((
        KeyName::parse("name", &req.name),
        KeyDescription::parse("description", &req.description),
        parse_scopes("scopes", &req.scopes),
        future_time("expires_at", req.expires_at.as_ref(), now),
        RequestId::parse_optional("request_id", &req.request_id),
    ))?;
    Ok(CreateApiKey { name, description, scopes, expires_at, request_id })
}

pub fn api_key_id(field: &str, raw: &str) -> DomainResult<ApiKeyId> {
    Ok(ApiKeyId::parse(field, raw)?)
}

pub fn list_api_keys(
    req: &pb::ListApiKeysRequest,
    key: &PageKey,
) -> DomainResult<(ApiKeyQuery, PageRequest)> {
    let scope = match req.scope.as_str() {
        "" => Ok(None),
        given => given
            .parse::<Scope>()
            .map(Some)
            .map_err(|_| FieldViolation::new("scope", format!("unknown scope {given:?}"))),
    };
    let query =
        all((text_filter("name", req.name.as_ref()), scope, descending(req.order_direction, true)))
            .map(|(name, scope, descending)| ApiKeyQuery {
                active_only: req.active_only,
                name,
                scope,
                descending,
            });
    paged(key, query, ApiKeyQuery::fingerprint, paging!(req))
}

pub fn update_api_key(req: pb::UpdateApiKeyRequest) -> DomainResult<UpdateApiKey> {
    let Some(key) = req.api_key else {
        return Err(FieldViolation::new("api_key", "is required").into());
    };
    let mask = Mask::of(req.update_mask);
    let (_, id, name, description, scopes) = all((
        mask.check(&api_key_mask()),
        ApiKeyId::parse("api_key.id", &key.id),
        mask.when("name", || KeyName::parse("api_key.name", &key.name)),
        mask.when("description", || KeyDescription::parse("api_key.description", &key.description)),
        mask.when("scopes", || parse_scopes("api_key.scopes", &key.scopes)),
    ))?;
    Ok(UpdateApiKey { id, name, description, scopes })
}
