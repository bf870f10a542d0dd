//! ApiKeysService: thin adapter over `warden_core::api_keys`. Each handler
//! builds the context, converts the request (collecting every field
//! violation), calls one use case and converts the answer back.

mod convert;

use tonic::{Request, Response, Status};
use warden_core::{api_keys::ApiKey, context::Actor};
use warden_proto::v1::{
    self as pb, CreateApiKeyRequest, CreateApiKeyResponse, GetApiKeyRequest, GetApiKeyResponse,
    ListApiKeysRequest, ListApiKeysResponse, RevokeApiKeyRequest, RevokeApiKeyResponse,
    UpdateApiKeyRequest, UpdateApiKeyResponse,
};

use crate::{
    grpc::{
        convert::{timestamp, timestamp_opt},
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
        let api_keys = &self.state.api_keys;
        let input =
            convert::create_api_key(request.into_inner(), api_keys.now()).map_err(to_status)?;
        let created = api_keys.create(&ctx, input).await.map_err(to_status)?;
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
        let id = convert::api_key_id("id", &request.get_ref().id).map_err(to_status)?;
        let key = self.state.api_keys.get(id).await.map_err(to_status)?;
        Ok(Response::new(GetApiKeyResponse { api_key: Some(to_proto(key)) }))
    }

    async fn list_api_keys(
        &self,
        request: Request<ListApiKeysRequest>,
    ) -> Result<Response<ListApiKeysResponse>, Status> {
        authenticated_context(&request)?;
        let (query, page) =
            convert::list_api_keys(request.get_ref(), &self.state.page_key).map_err(to_status)?;
        let page = self.state.api_keys.list(&query, &page).await.map_err(to_status)?;
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
        let input = convert::update_api_key(request.into_inner()).map_err(to_status)?;
        let key = self.state.api_keys.update(&ctx, input).await.map_err(to_status)?;
        Ok(Response::new(UpdateApiKeyResponse { api_key: Some(to_proto(key)) }))
    }

    async fn revoke_api_key(
        &self,
        request: Request<RevokeApiKeyRequest>,
    ) -> Result<Response<RevokeApiKeyResponse>, Status> {
        let ctx = authenticated_context(&request)?;
        let req = request.get_ref();
        let id = convert::api_key_id("id", &req.id).map_err(to_status)?;
        let key =
            self.state.api_keys.revoke(&ctx, id, req.validate_only).await.map_err(to_status)?;
        Ok(Response::new(RevokeApiKeyResponse { api_key: Some(to_proto(key)) }))
    }
}

fn to_proto(key: ApiKey) -> pb::ApiKey {
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
