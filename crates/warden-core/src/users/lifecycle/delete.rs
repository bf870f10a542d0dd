//! DeleteUser: the user and every row that hangs off it, in one transaction.
//!
//! Sessions and verification tokens are polymorphic (`principal_type`), so
//! they have no foreign key and are deleted here explicitly; identities, MFA
//! devices and roles do cascade in the schema, but are deleted explicitly too
//! so each kind can be counted. Audit events are kept: they are the record of
//! what happened to the user, and `audit_events` has no foreign key.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    QueryTrait, sea_query::SelectStatement,
};
use uuid::Uuid;

use super::{find, lock};
use crate::{
    audit::{self, Event},
    auth::sessions::USER,
    context::Context,
    entity::{
        mfa_devices, refresh_tokens, sessions, user_identities, user_roles, users,
        verification_tokens,
    },
    error::DomainResult,
    users::Users,
    values::UserId,
};

/// Rows removed with the user, by kind. Trusted devices, recovery codes and
/// challenge sessions have no tables yet, so the answer reports them as 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeletedRecords {
    pub sessions: u64,
    pub refresh_tokens: u64,
    pub verification_tokens: u64,
    pub mfa_devices: u64,
    pub identities: u64,
}

fn session_ids(user_id: Uuid) -> SelectStatement {
    sessions::Entity::find()
        .select_only()
        .column(sessions::Column::Id)
        .filter(sessions::Column::PrincipalType.eq(USER))
        .filter(sessions::Column::PrincipalId.eq(user_id))
        .into_query()
}

impl Users {
    /// DeleteUser. With `validate_only` the same counts come from counting
    /// (no lock, no write, no audit row).
    pub async fn delete_user(
        &self,
        ctx: &Context,
        id: UserId,
        validate_only: bool,
    ) -> DomainResult<DeletedRecords> {
        let id = id.uuid();
        if validate_only {
            find(&self.db, id).await?;
            return count(&self.db, id).await;
        }
        let now = self.now();
        let txn = crate::db::begin_write(&self.db).await?;
        lock(&txn, id).await?;
        let records = DeletedRecords {
            refresh_tokens: refresh_tokens::Entity::delete_many()
                .filter(refresh_tokens::Column::SessionId.in_subquery(session_ids(id)))
                .exec(&txn)
                .await?
                .rows_affected,
            sessions: sessions::Entity::delete_many()
                .filter(sessions::Column::PrincipalType.eq(USER))
                .filter(sessions::Column::PrincipalId.eq(id))
                .exec(&txn)
                .await?
                .rows_affected,
            verification_tokens: verification_tokens::Entity::delete_many()
                .filter(verification_tokens::Column::PrincipalType.eq(USER))
                .filter(verification_tokens::Column::PrincipalId.eq(id))
                .exec(&txn)
                .await?
                .rows_affected,
            mfa_devices: mfa_devices::Entity::delete_many()
                .filter(mfa_devices::Column::UserId.eq(id))
                .exec(&txn)
                .await?
                .rows_affected,
            identities: user_identities::Entity::delete_many()
                .filter(user_identities::Column::UserId.eq(id))
                .exec(&txn)
                .await?
                .rows_affected,
        };
        user_roles::Entity::delete_many()
            .filter(user_roles::Column::UserId.eq(id))
            .exec(&txn)
            .await?;
        users::Entity::delete_by_id(id).exec(&txn).await?;
        // Counts only: the user's personal data leaves with the row.
        let event = Event::new("user.delete")
            .target("user", id)
            .meta("sessions", records.sessions)
            .meta("refresh_tokens", records.refresh_tokens)
            .meta("verification_tokens", records.verification_tokens)
            .meta("mfa_devices", records.mfa_devices)
            .meta("identities", records.identities);
        audit::record(&txn, ctx, event, now).await?;
        txn.commit().await?;
        Ok(records)
    }
}

/// What [`Users::delete_user`] would remove, counted with the same filters.
async fn count<C: ConnectionTrait>(conn: &C, id: Uuid) -> DomainResult<DeletedRecords> {
    Ok(DeletedRecords {
        refresh_tokens: refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::SessionId.in_subquery(session_ids(id)))
            .count(conn)
            .await?,
        sessions: sessions::Entity::find()
            .filter(sessions::Column::PrincipalType.eq(USER))
            .filter(sessions::Column::PrincipalId.eq(id))
            .count(conn)
            .await?,
        verification_tokens: verification_tokens::Entity::find()
            .filter(verification_tokens::Column::PrincipalType.eq(USER))
            .filter(verification_tokens::Column::PrincipalId.eq(id))
            .count(conn)
            .await?,
        mfa_devices: mfa_devices::Entity::find()
            .filter(mfa_devices::Column::UserId.eq(id))
            .count(conn)
            .await?,
        identities: user_identities::Entity::find()
            .filter(user_identities::Column::UserId.eq(id))
            .count(conn)
            .await?,
    })
}
