//! Admin passwords after setup: change (knowing the current one), and reset
//! by a single-use, expiring token mailed through the outbox.

use chrono::Duration;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::Expr};
use uuid::Uuid;

use super::{AdminAuth, PasswordChange, ResetConfirmation, find_by_email, session::caller};
use crate::{
    audit::{self, Event},
    auth::password::Verified,
    auth::sessions,
    auth::tokens::refresh,
    context::{Actor, Context},
    entity::{admins, verification_tokens},
    error::{DomainError, DomainResult},
    notify,
    secret::digest,
    values::Email,
};

const RESET_PURPOSE: &str = "admin_password_reset";

impl AdminAuth {
    /// Sets a new password after checking the current one; every other
    /// session of the admin is revoked. Returns how many.
    pub async fn change_password(
        &self,
        ctx: &Context,
        change: &PasswordChange,
    ) -> DomainResult<u64> {
        let (admin_id, session_id) = caller(ctx)?;
        let admin = super::find_by_id(&self.db, admin_id).await?;
        if self.auth.passwords().verify(&change.current, Some(&admin.password_hash)).await?
            == Verified::NoMatch
        {
            // The caller is signed in; a wrong current password is bad input.
            return Err(DomainError::Validation(vec![crate::FieldViolation::new(
                "current_password",
                "is incorrect",
            )]));
        }
        let hash = self.auth.passwords().hash(change.new.secret()).await?;
        let now = self.now();
        let txn = crate::db::begin_write(&self.db).await?;
        let mut model: admins::ActiveModel = admin.into();
        model.password_hash = Set(hash);
        model.updated_at = Set(now);
        model.update(&txn).await?;
        let revoked = sessions::revoke_all(
            &txn,
            sessions::ADMIN,
            admin_id,
            Some(session_id),
            "password_change",
            now,
        )
        .await?;
        let event = Event::new("admin.password_change")
            .target("admin", admin_id)
            .meta("revoked_sessions", revoked);
        audit::record(&txn, ctx, event, now).await?;
        txn.commit().await?;
        Ok(revoked)
    }

    /// Always succeeds and says nothing about whether the email exists. When
    /// it does, a reset token is made and its link mailed via the outbox.
    pub async fn request_password_reset(&self, ctx: &Context, email: &Email) -> DomainResult<()> {
        let now = self.now();
        let txn = crate::db::begin_write(&self.db).await?;
        let admin = find_by_email(&txn, email.normalized()).await?.filter(|a| a.is_active);
        let mut event = Event::new("admin.password_reset_request");
        if let Some(admin) = admin {
            // The token is minted when the mail is sent: the outbox never holds it.
            let ttl_seconds = i64::try_from(self.reset.token_ttl_seconds).unwrap_or(i64::MAX / 2);
            let token_id = Uuid::now_v7();
            verification_tokens::ActiveModel {
                id: Set(token_id),
                purpose: Set(RESET_PURPOSE.to_owned()),
                principal_type: Set(sessions::ADMIN.to_owned()),
                principal_id: Set(admin.id),
                token_digest: Set(refresh::placeholder_digest()),
                created_at: Set(now),
                expires_at: Set(now + Duration::seconds(ttl_seconds)),
                consumed_at: Set(None),
            }
            .insert(&txn)
            .await?;
            let template = notify::Template::AdminPasswordReset {
                link_template: self.reset.link_template.clone(),
                ttl_seconds,
            };
            notify::enqueue_with_token(&txn, &admin.email, template, token_id, now).await?;
            event = event.target("admin", admin.id);
        }
        audit::record(&txn, ctx, event, now).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Consumes a reset token and sets the password. Every token issued to the
    /// admin before now stops working, and every session is revoked.
    pub async fn confirm_password_reset(
        &self,
        ctx: &Context,
        confirmation: &ResetConfirmation,
    ) -> DomainResult<()> {
        let token = &confirmation.token;
        let hash = self.auth.passwords().hash(confirmation.password.secret()).await?;
        let now = self.now();
        let txn = crate::db::begin_write(&self.db).await?;
        let stored = verification_tokens::Entity::find()
            .filter(verification_tokens::Column::TokenDigest.eq(digest(token.expose().as_bytes())))
            .filter(verification_tokens::Column::Purpose.eq(RESET_PURPOSE))
            .one(&txn)
            .await?
            .ok_or(DomainError::InvalidCredentials)?;
        if stored.consumed_at.is_some() {
            return Err(DomainError::TokenRevoked);
        }
        if stored.expires_at <= now {
            return Err(DomainError::TokenExpired);
        }
        // Single use even under concurrency: only one caller flips consumed_at.
        let consumed = verification_tokens::Entity::update_many()
            .col_expr(verification_tokens::Column::ConsumedAt, Expr::value(now))
            .filter(verification_tokens::Column::Id.eq(stored.id))
            .filter(verification_tokens::Column::ConsumedAt.is_null())
            .exec(&txn)
            .await?;
        if consumed.rows_affected != 1 {
            return Err(DomainError::TokenRevoked);
        }
        // The admin was deleted since: the token is worthless, not a lookup miss.
        let admin = match super::find_by_id(&txn, stored.principal_id).await {
            Err(DomainError::NotFound { .. }) => return Err(DomainError::InvalidCredentials),
            other => other?,
        };
        let admin_id = admin.id;
        // Every other reset token issued to the admin dies with this reset.
        verification_tokens::Entity::update_many()
            .col_expr(verification_tokens::Column::ConsumedAt, Expr::value(now))
            .filter(verification_tokens::Column::Purpose.eq(RESET_PURPOSE))
            .filter(verification_tokens::Column::PrincipalType.eq(sessions::ADMIN))
            .filter(verification_tokens::Column::PrincipalId.eq(admin_id))
            .filter(verification_tokens::Column::ConsumedAt.is_null())
            .exec(&txn)
            .await?;
        let mut model: admins::ActiveModel = admin.into();
        model.password_hash = Set(hash);
        model.tokens_valid_after = Set(now);
        model.failed_login_count = Set(0);
        model.locked_until = Set(None);
        model.updated_at = Set(now);
        model.update(&txn).await?;
        let revoked =
            sessions::revoke_all(&txn, sessions::ADMIN, admin_id, None, "password_reset", now)
                .await?;
        let ctx = Context { actor: Actor::Admin(admin_id), ..ctx.clone() };
        let event = Event::new("admin.password_reset")
            .target("admin", admin_id)
            .meta("revoked_sessions", revoked);
        audit::record(&txn, &ctx, event, now).await?;
        txn.commit().await?;
        Ok(())
    }
}
