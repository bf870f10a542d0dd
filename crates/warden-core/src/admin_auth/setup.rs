//! The first admin: `Setup` over gRPC, or `warden bootstrap-admin` from a Job.
//! Both lock the instance row first, so exactly one of any number of
//! concurrent attempts creates the admin, on SQLite and PostgreSQL alike.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, PaginatorTrait, Set,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::{AdminAuth, FirstAdmin, SignedIn};
use crate::{
    audit::{self, Event},
    auth::sessions,
    context::Context,
    entity::{admins, instance},
    error::{DomainError, DomainResult},
    scope::AdminRole,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetupStatus {
    pub needs_setup: bool,
    pub has_admin: bool,
}

/// What `bootstrap-admin` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bootstrap {
    Created(Uuid),
    AlreadySetUp,
}

/// Serializes admin-set changes: bumps the instance row, which takes its row
/// lock (PostgreSQL) or the write lock (SQLite) before anything is read.
pub(super) async fn lock_admins<C: ConnectionTrait>(conn: &C) -> DomainResult<instance::Model> {
    instance::Entity::update_many()
        .col_expr(instance::Column::AdminGuard, Expr::col(instance::Column::AdminGuard).add(1))
        .exec(conn)
        .await?;
    instance::Entity::find_by_id(1)
        .one(conn)
        .await?
        .ok_or_else(|| DomainError::internal(std::io::Error::other("instance row missing")))
}

impl AdminAuth {
    pub async fn setup_status(&self) -> DomainResult<SetupStatus> {
        let has_admin = admins::Entity::find().count(&self.db).await? > 0;
        Ok(SetupStatus { needs_setup: !has_admin, has_admin })
    }

    /// Creates the first admin (dashboard_admin) and signs them in.
    pub async fn setup(&self, ctx: &Context, first: FirstAdmin) -> DomainResult<SignedIn> {
        // Cheap refusal before the expensive hash; the locked check below decides.
        if self.setup_status().await?.has_admin {
            return Err(DomainError::SetupAlreadyDone);
        }
        let hash = self.auth.passwords().hash(first.password.secret()).await?;
        let now = self.now();

        let txn = crate::db::begin_write(&self.db).await?;
        let admin = create_first_admin(&txn, &first, hash, now).await?;
        let session =
            sessions::open(&txn, sessions::ADMIN, admin.id, &ctx.call, now, self.refresh_ttl())
                .await?;
        let refresh_token = sessions::mint_refresh(&txn, &session, now).await?;
        let ctx = Context { actor: crate::context::Actor::Admin(admin.id), ..ctx.clone() };
        audit::record(&txn, &ctx, Event::new("admin.setup").target("admin", admin.id), now).await?;
        txn.commit().await?;

        let access = self.auth.tokens().issue(
            crate::auth::tokens::access::Subject::Admin,
            admin.id,
            session.id,
            &self.auth.tokens().settings().admin_audience,
            now,
        )?;
        Ok(SignedIn {
            admin: admin.into(),
            access_token: access.token,
            refresh_token,
            expires_in: access.expires_in,
        })
    }

    /// Idempotent first-admin creation for automation: succeeds and changes
    /// nothing when an admin already exists.
    pub async fn bootstrap(&self, first: FirstAdmin) -> DomainResult<Bootstrap> {
        if self.setup_status().await?.has_admin {
            return Ok(Bootstrap::AlreadySetUp);
        }
        let hash = self.auth.passwords().hash(first.password.secret()).await?;
        let now = self.now();
        let txn = crate::db::begin_write(&self.db).await?;
        let admin = match create_first_admin(&txn, &first, hash, now).await {
            Ok(admin) => admin,
            Err(DomainError::SetupAlreadyDone) => return Ok(Bootstrap::AlreadySetUp),
            Err(err) => return Err(err),
        };
        audit::record(
            &txn,
            &Context::system(),
            Event::new("admin.bootstrap").target("admin", admin.id),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(Bootstrap::Created(admin.id))
    }
}

/// Inside the caller's transaction: lock, check no admin exists, insert.
async fn create_first_admin<C: ConnectionTrait>(
    txn: &C,
    first: &FirstAdmin,
    password_hash: String,
    now: DateTime<Utc>,
) -> DomainResult<admins::Model> {
    let instance = lock_admins(txn).await?;
    if instance.setup_completed_at.is_some() || admins::Entity::find().count(txn).await? > 0 {
        return Err(DomainError::SetupAlreadyDone);
    }
    let admin = admins::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(first.email.as_str().to_owned()),
        email_normalized: Set(first.email.normalized().to_owned()),
        name: Set(first.name.as_str().to_owned()),
        password_hash: Set(password_hash),
        role: Set(AdminRole::DashboardAdmin.as_str().to_owned()),
        is_active: Set(true),
        failed_login_count: Set(0),
        locked_until: Set(None),
        last_failed_at: Set(None),
        tokens_valid_after: Set(now),
        last_login_at: Set(Some(now)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await
    .map_err(crate::unique::map_write_error)?;
    let mut instance: instance::ActiveModel = instance.into();
    instance.setup_completed_at = Set(Some(now));
    instance.update(txn).await?;
    Ok(admin)
}
