//! Admin management. Demoting, disabling or deleting admins locks the
//! instance row first and re-counts inside the transaction, so two admins
//! removing each other at once can never leave zero dashboard admins.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::{Admin, AdminAuth, AdminUpdate, NewAdmin, setup::lock_admins};
use crate::{
    audit::{self, Event},
    auth::sessions,
    context::Context,
    entity::admins,
    error::{DomainError, DomainResult},
    idempotency::{self, RequestKey},
    scope::AdminRole,
    values::AdminId,
};

/// The idempotency operation name for CreateAdmin's `request_id`.
const OPERATION: &str = "CreateAdmin";

impl AdminAuth {
    pub async fn get_admin(&self, id: AdminId) -> DomainResult<Admin> {
        super::load(&self.db, id).await
    }

    pub async fn create_admin(&self, ctx: &Context, new: NewAdmin) -> DomainResult<Admin> {
        let fingerprint =
            format!("{}|{}|{}", new.email.as_str(), new.name.as_str(), new.role.as_str());
        let key = RequestKey::of(OPERATION, new.request_id, &fingerprint);
        let role = new.role;
        // Granting a role is granting its scopes: only to a caller holding them.
        ctx.ensure_holds(&role.scopes())?;
        if let Some(key) = &key
            && let Some(existing) = idempotency::find(&self.db, ctx, key).await?
        {
            return super::load(&self.db, existing.into()).await;
        }
        let hash = self.auth.passwords().hash(new.password.secret()).await?;
        let now = self.now();
        let txn = crate::db::begin_write(&self.db).await?;
        let admin = admins::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(new.email.as_str().to_owned()),
            email_normalized: Set(new.email.normalized().to_owned()),
            name: Set(new.name.as_str().to_owned()),
            password_hash: Set(hash),
            role: Set(role.as_str().to_owned()),
            is_active: Set(true),
            failed_login_count: Set(0),
            locked_until: Set(None),
            last_failed_at: Set(None),
            tokens_valid_after: Set(now),
            last_login_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(crate::unique::map_write_error);
        let admin = match admin {
            Ok(admin) => admin,
            Err(err) => return self.replay_or(ctx, key.as_ref(), txn, err).await,
        };
        if let Some(key) = &key
            && let Err(err) = idempotency::remember(&txn, ctx, key, admin.id, now).await
        {
            return self.replay_or(ctx, Some(key), txn, err).await;
        }
        let event =
            Event::new("admin.create").target("admin", admin.id).meta("role", role.as_str());
        audit::record(&txn, ctx, event, now).await?;
        txn.commit().await?;
        Ok(admin.into())
    }

    /// A create that lost a race against a concurrent retry of itself (same
    /// request_id) answers as the winner did; any other error stands.
    async fn replay_or(
        &self,
        ctx: &Context,
        key: Option<&RequestKey>,
        txn: DatabaseTransaction,
        err: DomainError,
    ) -> DomainResult<Admin> {
        let (Some(key), DomainError::AlreadyExists(_)) = (key, &err) else {
            return Err(err);
        };
        txn.rollback().await?;
        match idempotency::find(&self.db, ctx, key).await? {
            Some(existing) => super::load(&self.db, existing.into()).await,
            None => Err(err),
        }
    }

    pub async fn update_admin(
        &self,
        ctx: &Context,
        id: AdminId,
        update: AdminUpdate,
    ) -> DomainResult<Admin> {
        let hash = match &update.password {
            Some(password) => Some(self.auth.passwords().hash(password.secret()).await?),
            None => None,
        };
        let now = self.now();
        if let Some(role) = update.role {
            ctx.ensure_holds(&role.scopes())?;
        }
        let id = id.uuid();
        let txn = crate::db::begin_write(&self.db).await?;
        lock_admins(&txn).await?;
        let admin = super::find_by_id(&txn, id).await?;
        ensure_may_manage(ctx, &admin)?;
        let mut changed: Vec<&str> = Vec::new();
        let mut model: admins::ActiveModel = admin.clone().into();
        if let Some(email) = &update.email {
            model.email = Set(email.as_str().to_owned());
            model.email_normalized = Set(email.normalized().to_owned());
            changed.push("email");
        }
        if let Some(name) = &update.name {
            model.name = Set(name.as_str().to_owned());
            changed.push("name");
        }
        if let Some(role) = update.role {
            model.role = Set(role.as_str().to_owned());
            changed.push("role");
        }
        if let Some(active) = update.is_active {
            model.is_active = Set(active);
            changed.push("is_active");
        }
        let mut revoked = 0;
        if let Some(hash) = hash {
            model.password_hash = Set(hash);
            model.tokens_valid_after = Set(now);
            changed.push("password");
        }
        model.updated_at = Set(now);
        let updated = model.update(&txn).await.map_err(crate::unique::map_write_error)?;
        ensure_an_admin_remains(&txn).await?;
        if changed.contains(&"password") || (admin.is_active && !updated.is_active) {
            revoked =
                sessions::revoke_all(&txn, sessions::ADMIN, id, None, "admin_update", now).await?;
        }
        let event = Event::new("admin.update")
            .target("admin", id)
            .meta("fields", changed)
            .meta("revoked_sessions", revoked);
        audit::record(&txn, ctx, event, now).await?;
        txn.commit().await?;
        Ok(updated.into())
    }

    /// Deletes an admin and revokes its sessions; with `validate_only` only
    /// reports what would happen. Returns the sessions revoked.
    pub async fn delete_admin(
        &self,
        ctx: &Context,
        id: AdminId,
        validate_only: bool,
    ) -> DomainResult<u64> {
        let id = id.uuid();
        let now = self.now();
        let txn = crate::db::begin_write(&self.db).await?;
        lock_admins(&txn).await?;
        let admin = super::find_by_id(&txn, id).await?;
        ensure_may_manage(ctx, &admin)?;
        admins::Entity::delete_by_id(id).exec(&txn).await?;
        ensure_an_admin_remains(&txn).await?;
        let revoked = if validate_only {
            sessions::count_live(&txn, sessions::ADMIN, id, now).await?
        } else {
            sessions::revoke_all(&txn, sessions::ADMIN, id, None, "admin_deleted", now).await?
        };
        if validate_only {
            txn.rollback().await?;
            return Ok(revoked);
        }
        let event =
            Event::new("admin.delete").target("admin", id).meta("revoked_sessions", revoked);
        audit::record(&txn, ctx, event, now).await?;
        txn.commit().await?;
        Ok(revoked)
    }
}

/// Changing an admin's email or password, disabling or deleting them, is as
/// good as holding their role: a caller must hold every scope it grants, or a
/// narrow `admins:write` key could take over a dashboard_admin.
fn ensure_may_manage(ctx: &Context, admin: &admins::Model) -> DomainResult<()> {
    let held_by_target = admin.role.parse::<AdminRole>().map(AdminRole::scopes).unwrap_or_default();
    ctx.ensure_holds(&held_by_target)
}

/// Inside a locked transaction, after the change: at least one active
/// dashboard_admin must remain.
async fn ensure_an_admin_remains<C: ConnectionTrait>(txn: &C) -> DomainResult<()> {
    let remaining = admins::Entity::find()
        .filter(admins::Column::Role.eq(AdminRole::DashboardAdmin.as_str()))
        .filter(admins::Column::IsActive.eq(true))
        .count(txn)
        .await?;
    if remaining == 0 { Err(DomainError::LastAdmin) } else { Ok(()) }
}
