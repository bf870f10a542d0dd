//! ApiKeysService: thin adapter over `warden_core::api_keys`. Each handler
//! builds the context, converts the request (collecting every field
//! violation), calls one use case and converts the answer back.

use tonic::{Request, Response, Status};
use warden_core::{
    DomainError, FieldViolation,
    api_keys::{self, CreateApiKey, ListApiKeys, MatchMode, NameFilter, UpdateApiKey},
    context::Actor,
};
use warden_proto::v1::{
    self as pb, CreateApiKeyRequest, CreateApiKeyResponse, GetApiKeyRequest, GetApiKeyResponse,
    ListApiKeysRequest, ListApiKeysResponse, RevokeApiKeyRequest, RevokeApiKeyResponse,
    UpdateApiKeyRequest, UpdateApiKeyResponse,
};

use crate::{
    grpc::{
        convert::{Violations, id_from, time_from, timestamp, timestamp_opt},
        generated::api_keys_service_server::ApiKeysService,
        request::authenticated_context,
    },
    state::AppState,
    status::to_status,
};

pub struct ApiKeysApi {
    state: AppState,
}

impl ApiKeysApi {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl ApiKeysService for ApiKeysApi {
    async fn create_api_key(
        &self,
        request: Request<CreateApiKeyRequest>,
    ) -> Result<Response<CreateApiKeyResponse>, Status> {
        let ctx = authenticated_context(&request)?;
        let now = self.state.clock.now();
        let req = request.into_inner();
        let mut violations = Violations::default();
        let expires_at =
            req.expires_at.as_ref().and_then(|ts| violations.check(time_from("expires_at", ts)));
        let input = CreateApiKey {
            name: req.name,
            description: req.description,
            scopes: req.scopes,
            expires_at,
            request_id: req.request_id,
        };
        // One answer lists every problem: the core rules join the conversion's.
        for violation in input.violations(now) {
            violations.push(&violation.field, &violation.description);
        }
        violations.finish().map_err(to_status)?;
        let created =
            api_keys::create(&self.state.db, &ctx, input, now).await.map_err(to_status)?;
        Ok(Response::new(CreateApiKeyResponse {
            api_key: Some(to_proto(created.api_key)),
            raw_key: created.raw_key.map(|raw| raw.expose().to_owned()).unwrap_or_default(),
        }))
    }

    async fn get_api_key(
        &self,
        request: Request<GetApiKeyRequest>,
    ) -> Result<Response<GetApiKeyResponse>, Status> {
        authenticated_context(&request)?;
        let id = id_from("id", &request.get_ref().id).map_err(invalid)?;
        let key =
            api_keys::get(&self.state.db, id, self.state.clock.now()).await.map_err(to_status)?;
        Ok(Response::new(GetApiKeyResponse { api_key: Some(to_proto(key)) }))
    }

    async fn list_api_keys(
        &self,
        request: Request<ListApiKeysRequest>,
    ) -> Result<Response<ListApiKeysResponse>, Status> {
        authenticated_context(&request)?;
        let req = request.into_inner();
        let mut violations = Violations::default();
        let name = req.name.and_then(|filter| {
            let mode = violations.check(match_mode(filter.mode))?;
            Some(NameFilter { value: filter.value, mode })
        });
        let descending = match pb::SortDirection::try_from(req.order_direction) {
            Ok(pb::SortDirection::Asc) => false,
            Ok(pb::SortDirection::Desc | pb::SortDirection::Unspecified) => true,
            Err(_) => {
                violations.push("order_direction", "is not a known direction");
                true
            }
        };
        let input = ListApiKeys {
            page_size: req.page_size,
            page_token: req.page_token,
            offset: req.offset,
            include_total: req.include_total,
            active_only: req.active_only,
            name,
            scope: req.scope,
            descending,
        };
        for violation in input.violations() {
            violations.push(&violation.field, &violation.description);
        }
        violations.finish().map_err(to_status)?;
        let page = api_keys::list(&self.state.db, input, self.state.clock.now())
            .await
            .map_err(to_status)?;
        Ok(Response::new(ListApiKeysResponse {
            api_keys: page.api_keys.into_iter().map(to_proto).collect(),
            next_page_token: page.next_page_token,
            total_size: page.total_size.map_or(0, |n| i64::try_from(n).unwrap_or(i64::MAX)),
        }))
    }

    async fn update_api_key(
        &self,
        request: Request<UpdateApiKeyRequest>,
    ) -> Result<Response<UpdateApiKeyResponse>, Status> {
        let ctx = authenticated_context(&request)?;
        let req = request.into_inner();
        let mut violations = Violations::default();
        let paths = req.update_mask.map(|mask| mask.paths).unwrap_or_default();
        let Some(key) = req.api_key else {
            return Err(invalid(FieldViolation::new("api_key", "is required")));
        };
        let id = violations.check(id_from("api_key.id", &key.id));
        let input = UpdateApiKey {
            id: id.unwrap_or_default(),
            paths,
            name: key.name,
            description: key.description,
            scopes: key.scopes,
        };
        for violation in input.violations() {
            violations.push(&violation.field, &violation.description);
        }
        violations.finish().map_err(to_status)?;
        let now = self.state.clock.now();
        let key = api_keys::update(&self.state.db, &ctx, input, now).await.map_err(to_status)?;
        Ok(Response::new(UpdateApiKeyResponse { api_key: Some(to_proto(key)) }))
    }

    async fn revoke_api_key(
        &self,
        request: Request<RevokeApiKeyRequest>,
    ) -> Result<Response<RevokeApiKeyResponse>, Status> {
        let ctx = authenticated_context(&request)?;
        let req = request.get_ref();
        let id = id_from("id", &req.id).map_err(invalid)?;
        let now = self.state.clock.now();
        let key = api_keys::revoke(&self.state.db, &ctx, id, req.validate_only, now)
            .await
            .map_err(to_status)?;
        Ok(Response::new(RevokeApiKeyResponse { api_key: Some(to_proto(key)) }))
    }
}

fn invalid(violation: FieldViolation) -> Status {
    to_status(DomainError::Validation(vec![violation]))
}

fn match_mode(mode: i32) -> Result<MatchMode, FieldViolation> {
    match pb::MatchMode::try_from(mode) {
        Ok(pb::MatchMode::Unspecified | pb::MatchMode::Equals) => Ok(MatchMode::Equals),
        Ok(pb::MatchMode::StartsWith) => Ok(MatchMode::StartsWith),
        Ok(pb::MatchMode::Contains) => Ok(MatchMode::Contains),
        Err(_) => Err(FieldViolation::new("name.mode", "is not a known match mode")),
    }
}

fn to_proto(key: api_keys::ApiKey) -> pb::ApiKey {
    pb::ApiKey {
        id: key.id.to_string(),
        name: key.name,
        description: key.description,
        prefix: key.prefix,
        scopes: key.scopes,
        created_at: Some(timestamp(key.created_at)),
        updated_at: Some(timestamp(key.updated_at)),
        expires_at: timestamp_opt(key.expires_at),
        revoked_at: timestamp_opt(key.revoked_at),
        last_used_at: timestamp_opt(key.last_used_at),
        created_by: Some(actor(key.created_by)),
        is_active: key.is_active,
    }
}

fn actor(actor: Actor) -> pb::Actor {
    let kind = match actor {
        Actor::Admin(_) => pb::ActorType::Admin,
        Actor::ApiKey(_) => pb::ActorType::ApiKey,
        Actor::User(_) => pb::ActorType::User,
        Actor::Anonymous => pb::ActorType::Anonymous,
        Actor::System => pb::ActorType::System,
    };
    pb::Actor { r#type: kind as i32, id: actor.id().map(|id| id.to_string()).unwrap_or_default() }
}
