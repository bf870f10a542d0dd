//! UsersService: ImportUsers, ImportSocialUser, ListIdentities, UnlinkIdentity.

use tonic::{Request, Response, Status};
use uuid::Uuid;
use warden_core::{
    DomainError, FieldViolation,
    secret::SecretString,
    users::{
        fields::UserFields,
        import::{IdentityInput, ImportRow, ImportSummary, OnConflict, SocialImport},
    },
};
use warden_proto::v1 as pb;

use super::to_proto::{self, struct_to_json};
use crate::{
    grpc::{
        convert::{Violations, id_from, time_from},
        read_ahead,
        request::authenticated_context,
    },
    state::AppState,
    status::to_status,
};

fn invalid(violations: Vec<FieldViolation>) -> Status {
    to_status(DomainError::Validation(violations))
}

/// `on_conflict` of one message: `None` when unset (UNSPECIFIED).
fn on_conflict(message: &pb::ImportUsersRequest) -> Result<Option<OnConflict>, Status> {
    use pb::ImportUsersOnConflict as Proto;
    match Proto::try_from(message.on_conflict) {
        Ok(Proto::Unspecified) => Ok(None),
        Ok(Proto::Skip) => Ok(Some(OnConflict::Skip)),
        Ok(Proto::Upsert) => Ok(Some(OnConflict::Upsert)),
        Ok(Proto::Fail) => Ok(Some(OnConflict::Fail)),
        Err(_) => {
            Err(invalid(vec![FieldViolation::new("on_conflict", "must be SKIP, UPSERT or FAIL")]))
        }
    }
}

fn identity_input(identity: pb::Identity) -> IdentityInput {
    IdentityInput {
        provider: identity.provider,
        provider_user_id: identity.provider_user_id,
        provider_email: identity.provider_email,
        profile: struct_to_json(identity.social_metadata.as_ref()),
    }
}

fn row(message: pb::ImportUsersRequest) -> ImportRow {
    let mut violations = Vec::new();
    let created_at = message.created_at.as_ref().and_then(|ts| match time_from("created_at", ts) {
        Ok(time) => Some(time),
        Err(violation) => {
            violations.push(violation);
            None
        }
    });
    ImportRow {
        fields: UserFields {
            email: message.email,
            username: message.username,
            given_name: message.given_name,
            family_name: message.family_name,
            phone: message.phone,
            metadata: struct_to_json(message.metadata.as_ref()),
            roles: message.roles,
            email_verified: message.email_verified,
            phone_verified: message.phone_verified,
            must_change_password: message.must_change_password,
        },
        password_hash: message.password_hash,
        password: (!message.password.is_empty()).then(|| SecretString::new(message.password)),
        identities: message.identities.into_iter().map(identity_input).collect(),
        created_at,
        is_active: message.is_active,
        violations,
    }
}

fn summary(summary: ImportSummary) -> pb::ImportUsersResponse {
    pb::ImportUsersResponse {
        received_count: summary.received,
        created_count: summary.created,
        updated_count: summary.updated,
        skipped_count: summary.skipped,
        failed_count: summary.failed,
        failed_rows: summary
            .failures
            .into_iter()
            .map(|failure| pb::ImportUserRowResult {
                row_index: failure.row_index,
                email: failure.email,
                reason: failure.reason.to_owned(),
                message: failure.message,
                field_violations: failure
                    .field_violations
                    .into_iter()
                    .map(|v| pb::FieldViolation {
                        field: v.field,
                        description: v.description,
                        reason: failure.reason.to_owned(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Rows are written batch by batch as they arrive, and read ahead while a
/// batch is written; a stream that changes `on_conflict` midway is refused
/// from that message on (batches already written stay, each with its audit
/// row).
pub async fn import_users(
    state: &AppState,
    request: Request<tonic::Streaming<pb::ImportUsersRequest>>,
) -> Result<Response<pb::ImportUsersResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let mut stream = request.into_inner();
    let Some(first) = stream.message().await? else {
        return Ok(Response::new(summary(ImportSummary::default())));
    };
    // The first message decides; UNSPECIFIED is FAIL.
    let chosen = on_conflict(&first)?.unwrap_or(OnConflict::Fail);
    let mut importer = state.users.importer(&ctx, chosen);
    importer.push(row(first)).await.map_err(to_status)?;
    let convert = |message: pb::ImportUsersRequest| {
        if on_conflict(&message)?.is_some_and(|later| later != chosen) {
            return Err(invalid(vec![FieldViolation::new(
                "on_conflict",
                "must not change after the first message",
            )]));
        }
        Ok(row(message))
    };
    let (reader, mut rows) = read_ahead::read(stream, convert);
    let writer = async {
        while let Some(row) = rows.next().await {
            importer.push(row).await.map_err(to_status)?;
        }
        Ok(())
    };
    tokio::try_join!(reader, writer)?;
    let done = importer.finish().await.map_err(to_status)?;
    Ok(Response::new(summary(done)))
}

pub async fn import_social_user(
    state: &AppState,
    request: Request<pb::ImportSocialUserRequest>,
) -> Result<Response<pb::ImportSocialUserResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let req = request.into_inner();
    let input = SocialImport {
        fields: UserFields {
            email: req.email,
            username: req.username,
            given_name: req.given_name,
            family_name: req.family_name,
            phone: req.phone,
            metadata: struct_to_json(req.metadata.as_ref()),
            roles: req.roles,
            email_verified: true,
            phone_verified: req.phone_verified,
            must_change_password: req.must_change_password,
        },
        identity: IdentityInput {
            provider: req.provider,
            provider_user_id: req.provider_user_id,
            provider_email: req.provider_email,
            profile: struct_to_json(req.social_metadata.as_ref()),
        },
        password: (!req.password.is_empty()).then(|| SecretString::new(req.password)),
        request_id: req.request_id,
    };
    let imported = state.users.import_social_user(&ctx, input).await.map_err(to_status)?;
    Ok(Response::new(pb::ImportSocialUserResponse {
        user: Some(to_proto::user(&imported.user)),
        social_account: Some(to_proto::identity(&imported.identity)),
    }))
}

pub async fn list_identities(
    state: &AppState,
    request: Request<pb::ListIdentitiesRequest>,
) -> Result<Response<pb::ListIdentitiesResponse>, Status> {
    authenticated_context(&request)?;
    let user_id = id_from("user_id", &request.get_ref().user_id).map_err(|v| invalid(vec![v]))?;
    let identities = state.users.list_identities(user_id).await.map_err(to_status)?;
    Ok(Response::new(pb::ListIdentitiesResponse {
        identities: identities.iter().map(to_proto::identity).collect(),
    }))
}

pub async fn unlink_identity(
    state: &AppState,
    request: Request<pb::UnlinkIdentityRequest>,
) -> Result<Response<pb::UnlinkIdentityResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let req = request.into_inner();
    let mut violations = Violations::new();
    let user_id = violations.check(id_from("user_id", &req.user_id)).unwrap_or(Uuid::nil());
    let identity_id =
        violations.check(id_from("identity_id", &req.identity_id)).unwrap_or(Uuid::nil());
    violations.finish().map_err(to_status)?;
    let unlinked = state
        .users
        .unlink_identity(&ctx, user_id, identity_id, req.force, req.validate_only)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::UnlinkIdentityResponse {
        identity: Some(to_proto::identity(&unlinked.identity)),
        user: Some(to_proto::user(&unlinked.user)),
    }))
}
