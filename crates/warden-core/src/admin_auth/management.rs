//! Admin management. Demoting, disabling or deleting admins locks the
//! instance row first and re-counts inside the transaction, so two admins
//! removing each other at once can never leave zero dashboard admins.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, Func, Order},
};
use uuid::Uuid;

use super::{
    AdminAuth, parse_role,
    setup::{lock_admins, validate_name},
};
use crate::{
    audit::{self, Event},
    auth::password::ADMIN_MIN_PASSWORD_CHARS,
    auth::sessions,
    context::Context,
    email,
    entity::admins,
    error::{DomainError, DomainResult, Violations},
    idempotency::{self, RequestKey},
    pagination::{self, Cursor, PageRequest},
    scope::AdminRole,
    secret::SecretString,
    text_filter::TextFilter,
};

#[derive(Debug, Clone)]
pub struct NewAdmin {
    pub email: String,
    pub name: String,
    pub password: SecretString,
    pub password_confirm: SecretString,
    pub role: String,
    pub request_id: String,
}

/// Only the fields named in the update mask are `Some`.
#[derive(Debug, Clone, Default)]
pub struct AdminUpdate {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub is_active: Option<bool>,
    pub password: Option<(SecretString, SecretString)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AdminOrder {
    Email,
    Name,
    #[default]
    CreatedAt,
    UpdatedAt,
    LastLoginAt,
}

#[derive(Debug, Clone, Default)]
pub struct AdminFilter {
    pub email: Option<TextFilter>,
    pub name: Option<TextFilter>,
    pub role: Option<String>,
    pub is_active: Option<bool>,
    pub order: AdminOrder,
    pub descending: bool,
}

#[derive(Debug, Clone)]
pub struct AdminPage {
    pub admins: Vec<admins::Model>,
    pub next_page_token: String,
    pub total_size: Option<u64>,
}

impl AdminAuth {
    pub async fn get_admin(&self, id: Uuid) -> DomainResult<admins::Model> {
        super::find_by_id(&self.db, id).await
    }

    pub async fn list_admins(
        &self,
        filter: &AdminFilter,
        page: &PageRequest,
    ) -> DomainResult<AdminPage> {
        let mut condition = Condition::all();
        if let Some(email) = &filter.email {
            condition = condition.add(email.condition(Expr::col(admins::Column::EmailNormalized)));
        }
        if let Some(name) = &filter.name {
            condition = condition.add(name.condition(Expr::col(admins::Column::Name)));
        }
        if let Some(role) = &filter.role {
            condition = condition.add(admins::Column::Role.eq(role.clone()));
        }
        if let Some(active) = filter.is_active {
            condition = condition.add(admins::Column::IsActive.eq(active));
        }
        let total_size = match page.include_total {
            true => Some(admins::Entity::find().filter(condition.clone()).count(&self.db).await?),
            false => None,
        };
        let sort = sort_expr(filter.order);
        let mut query = admins::Entity::find().filter(condition);
        if let Some(cursor) = &page.cursor {
            let key = cursor_value(filter.order, cursor)?;
            query = query.filter(pagination::after(
                sort.clone(),
                admins::Column::Id,
                key,
                cursor.id,
                filter.descending,
            ));
        }
        let order = if filter.descending { Order::Desc } else { Order::Asc };
        let rows = query
            .order_by(sort, order.clone())
            .order_by(admins::Column::Id, order)
            .offset(page.effective_offset())
            .limit(page.fetch_limit())
            .all(&self.db)
            .await?;
        let (admins, next_page_token) =
            pagination::finish(page, rows, |a| cursor_of(filter.order, a));
        Ok(AdminPage { admins, next_page_token, total_size })
    }

    pub async fn create_admin(&self, ctx: &Context, new: NewAdmin) -> DomainResult<admins::Model> {
        let mut violations = Violations::new();
        let email = violations.check(email::parse("email", &new.email));
        let name = violations.check(validate_name(&new.name));
        // The contract: an empty role means dashboard_viewer.
        let role = match new.role.as_str() {
            "" => Some(AdminRole::DashboardViewer),
            given => violations.check(parse_role("role", given)),
        };
        violations.absorb(self.auth.passwords().check_policy(
            "password",
            &new.password,
            ADMIN_MIN_PASSWORD_CHARS,
            &[&new.email, &new.name],
        ))?;
        if !new.password_confirm.expose().is_empty() && new.password_confirm != new.password {
            violations.push("password_confirm", "must equal password");
        }
        let fingerprint = format!("{}|{}|{}", new.email, new.name, new.role);
        let key = match RequestKey::parse("CreateAdmin", &new.request_id, &fingerprint) {
            Ok(key) => key,
            Err(DomainError::Validation(v)) => {
                v.into_iter().for_each(|v| violations.push(v.field, v.description));
                None
            }
            Err(other) => return Err(other),
        };
        violations.finish()?;
        let (Some(email), Some(name), Some(role)) = (email, name, role) else {
            return Err(DomainError::validation("email", "is required"));
        };
        // Granting a role is granting its scopes: only to a caller holding them.
        ctx.ensure_holds(&role.scopes())?;
        if let Some(key) = &key
            && let Some(existing) = idempotency::find(&self.db, ctx, key).await?
        {
            return super::find_by_id(&self.db, existing).await;
        }
        let hash = self.auth.passwords().hash(&new.password).await?;
        let now = self.now();
        let txn = crate::db::begin_write(&self.db).await?;
        let admin = admins::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(email.given),
            email_normalized: Set(email.normalized),
            name: Set(name),
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
        Ok(admin)
    }

    /// A create that lost a race against a concurrent retry of itself (same
    /// request_id) answers as the winner did; any other error stands.
    async fn replay_or(
        &self,
        ctx: &Context,
        key: Option<&RequestKey>,
        txn: DatabaseTransaction,
        err: DomainError,
    ) -> DomainResult<admins::Model> {
        let (Some(key), DomainError::AlreadyExists(_)) = (key, &err) else {
            return Err(err);
        };
        txn.rollback().await?;
        match idempotency::find(&self.db, ctx, key).await? {
            Some(existing) => super::find_by_id(&self.db, existing).await,
            None => Err(err),
        }
    }

    pub async fn update_admin(
        &self,
        ctx: &Context,
        id: Uuid,
        update: AdminUpdate,
    ) -> DomainResult<admins::Model> {
        let mut violations = Violations::new();
        let email =
            update.email.as_deref().and_then(|e| violations.check(email::parse("admin.email", e)));
        let name = update.name.as_deref().and_then(|n| {
            violations.check(validate_name(n).map_err(|mut v| {
                v.field = "admin.name".into();
                v
            }))
        });
        let role =
            update.role.as_deref().and_then(|r| violations.check(parse_role("admin.role", r)));
        if let Some((password, confirm)) = &update.password {
            violations.absorb(self.auth.passwords().check_policy(
                "password",
                password,
                ADMIN_MIN_PASSWORD_CHARS,
                &[],
            ))?;
            if !confirm.expose().is_empty() && confirm != password {
                violations.push("password_confirm", "must equal password");
            }
        }
        violations.finish()?;
        let hash = match &update.password {
            Some((password, _)) => Some(self.auth.passwords().hash(password).await?),
            None => None,
        };
        let now = self.now();
        if let Some(role) = role {
            ctx.ensure_holds(&role.scopes())?;
        }
        let txn = crate::db::begin_write(&self.db).await?;
        lock_admins(&txn).await?;
        let admin = super::find_by_id(&txn, id).await?;
        ensure_may_manage(ctx, &admin)?;
        let mut changed: Vec<&str> = Vec::new();
        let mut model: admins::ActiveModel = admin.clone().into();
        if let Some(email) = email {
            model.email = Set(email.given);
            model.email_normalized = Set(email.normalized);
            changed.push("email");
        }
        if let Some(name) = name {
            model.name = Set(name);
            changed.push("name");
        }
        if let Some(role) = role {
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
        Ok(updated)
    }

    /// Deletes an admin and revokes its sessions; with `validate_only` only
    /// reports what would happen. Returns the sessions revoked.
    pub async fn delete_admin(
        &self,
        ctx: &Context,
        id: Uuid,
        validate_only: bool,
    ) -> DomainResult<u64> {
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

fn sort_expr(order: AdminOrder) -> Expr {
    match order {
        AdminOrder::Email => Expr::col(admins::Column::EmailNormalized),
        AdminOrder::Name => Expr::col(admins::Column::Name),
        AdminOrder::CreatedAt => Expr::col(admins::Column::CreatedAt),
        AdminOrder::UpdatedAt => Expr::col(admins::Column::UpdatedAt),
        // Never-signed-in admins sort as if at the epoch, so keyset paging holds.
        AdminOrder::LastLoginAt => Expr::expr(Func::coalesce([
            Expr::col(admins::Column::LastLoginAt),
            Expr::value(epoch()),
        ])),
    }
}

fn epoch() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH
}

fn cursor_of(order: AdminOrder, admin: &admins::Model) -> Cursor {
    let key = match order {
        AdminOrder::Email => admin.email_normalized.clone(),
        AdminOrder::Name => admin.name.clone(),
        AdminOrder::CreatedAt => admin.created_at.to_rfc3339(),
        AdminOrder::UpdatedAt => admin.updated_at.to_rfc3339(),
        AdminOrder::LastLoginAt => admin.last_login_at.unwrap_or_else(epoch).to_rfc3339(),
    };
    Cursor { key: Some(key), id: admin.id }
}

fn cursor_value(order: AdminOrder, cursor: &Cursor) -> DomainResult<sea_orm::Value> {
    let bad = || DomainError::validation("page_token", "is not a valid page token");
    let key = cursor.key.clone().ok_or_else(bad)?;
    Ok(match order {
        AdminOrder::Email | AdminOrder::Name => key.into(),
        _ => DateTime::parse_from_rfc3339(&key).map_err(|_| bad())?.with_timezone(&Utc).into(),
    })
}
