//! UsersService: ImportUsers, ImportSocialUser, ListIdentities, UnlinkIdentity.

use tonic::{Request, Response, Status};
use warden_core::{
    FieldViolation,
    users::import::{ImportSummary, OnConflict},
};
use warden_proto::v1 as pb;

use super::{
    convert::{self, Rules},
    to_proto,
};
use crate::{
    grpc::{read_ahead, request::authenticated_context},
    state::AppState,
    status::to_status,
};

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
    let chosen = convert::on_conflict(&first).map_err(to_status)?.unwrap_or(OnConflict::Fail);
    let mut importer = state.users.importer(&ctx, chosen);
    let row =
        |message: pb::ImportUsersRequest| convert::import_row(message, &Rules::of(&state.users));
    importer.push(row(first)).await.map_err(to_status)?;
    let convert = |message: pb::ImportUsersRequest| {
        let later = convert::on_conflict(&message).map_err(to_status)?;
        if later.is_some_and(|later| later != chosen) {
            let changed =
                FieldViolation::new("on_conflict", "must not change after the first message");
            return Err(to_status(changed.into()));
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
    let rules = Rules::of(&state.users);
    let input = convert::import_social_user(request.into_inner(), &rules).map_err(to_status)?;
    let imported = state.users.import_social_user(&ctx, input).await.map_err(to_status)?;
    Ok(Response::new(pb::ImportSocialUserResponse {
        user: Some(to_proto::user(imported.user)),
        social_account: Some(to_proto::identity(imported.identity)),
    }))
}

pub async fn list_identities(
    state: &AppState,
    request: Request<pb::ListIdentitiesRequest>,
) -> Result<Response<pb::ListIdentitiesResponse>, Status> {
    authenticated_context(&request)?;
    let user_id = convert::user_id("user_id", &request.get_ref().user_id).map_err(to_status)?;
    let identities = state.users.list_identities(user_id).await.map_err(to_status)?;
    Ok(Response::new(pb::ListIdentitiesResponse {
        identities: identities.into_iter().map(to_proto::identity).collect(),
    }))
}

pub async fn unlink_identity(
    state: &AppState,
    request: Request<pb::UnlinkIdentityRequest>,
) -> Result<Response<pb::UnlinkIdentityResponse>, Status> {
    let ctx = authenticated_context(&request)?;
    let req = request.get_ref();
    let (user_id, identity_id) = convert::unlink_identity(req).map_err(to_status)?;
    let unlinked = state
        .users
        .unlink_identity(&ctx, user_id, identity_id, req.force, req.validate_only)
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::UnlinkIdentityResponse {
        identity: Some(to_proto::identity(unlinked.identity)),
        user: Some(to_proto::user(unlinked.user)),
    }))
}
