//! ListIdentities and UnlinkIdentity. Unlinking never leaves a user without a
//! way to sign in (no password and no other identity) unless forced.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    audit::{self, Event},
    context::Context,
    entity::{user_identities, users},
    error::{DomainError, DomainResult},
    users::{Identity, User, Users, view},
    values::{IdentityId, UserId},
};

/// What UnlinkIdentity removed (or, with `validate_only`, would remove).
#[derive(Debug, Clone)]
pub struct Unlinked {
    pub identity: Identity,
    pub user: User,
}

impl Users {
    /// The user's identities, oldest first.
    pub async fn list_identities(&self, user_id: UserId) -> DomainResult<Vec<Identity>> {
        let user_id = user_id.uuid();
        find_user(&self.db, user_id).await?;
        let rows = user_identities::Entity::find()
            .filter(user_identities::Column::UserId.eq(user_id))
            .order_by_asc(user_identities::Column::CreatedAt)
            .order_by_asc(user_identities::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(Identity::from).collect())
    }

    pub async fn unlink_identity(
        &self,
        ctx: &Context,
        user_id: UserId,
        identity_id: IdentityId,
        force: bool,
        validate_only: bool,
    ) -> DomainResult<Unlinked> {
        let (user_id, identity_id) = (user_id.uuid(), identity_id.uuid());
        let now = self.now();
        if validate_only {
            let (user, identity, _) = check(&self.db, user_id, identity_id, force).await?;
            let user = view::load_one(&self.db, user, now).await?;
            return Ok(Unlinked { identity: identity.into(), user });
        }
        let txn = crate::db::begin_write(&self.db).await?;
        // Write first: it locks the user's row, so two unlinks of the same
        // user's last two identities cannot both pass the check below.
        let touched = users::Entity::update_many()
            .col_expr(users::Column::UpdatedAt, Expr::value(now))
            .filter(users::Column::Id.eq(user_id))
            .exec(&txn)
            .await?;
        if touched.rows_affected == 0 {
            return Err(DomainError::NotFound { resource: "user" });
        }
        let (user, identity, was_last) = check(&txn, user_id, identity_id, force).await?;
        user_identities::Entity::delete_by_id(identity.id).exec(&txn).await?;
        let event = Event::new("user.identity_unlink")
            .target("user", user_id)
            .meta("identity_id", identity.id.to_string())
            .meta("provider", identity.provider.clone())
            .meta("forced_last_sign_in_method", was_last);
        audit::record(&txn, ctx, event, now).await?;
        txn.commit().await?;
        let user = view::load_one(&self.db, user, now).await?;
        Ok(Unlinked { identity: identity.into(), user })
    }
}

/// The user, the identity, and whether it is the user's last way to sign
/// in (allowed only with `force`).
async fn check<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    identity_id: Uuid,
    force: bool,
) -> DomainResult<(users::Model, user_identities::Model, bool)> {
    let user = find_user(conn, user_id).await?;
    let identity = user_identities::Entity::find_by_id(identity_id)
        .filter(user_identities::Column::UserId.eq(user_id))
        .one(conn)
        .await?
        .ok_or(DomainError::NotFound { resource: "identity" })?;
    let linked = user_identities::Entity::find()
        .filter(user_identities::Column::UserId.eq(user_id))
        .count(conn)
        .await?;
    let last = user.password_hash.is_none() && linked <= 1;
    if last && !force {
        return Err(DomainError::LastSignInMethod);
    }
    Ok((user, identity, last))
}

async fn find_user<C: ConnectionTrait>(conn: &C, user_id: Uuid) -> DomainResult<users::Model> {
    users::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .ok_or(DomainError::NotFound { resource: "user" })
}
