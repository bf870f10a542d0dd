//! Writing one ImportUsers batch: plan every row against what exists (one
//! query per kind of user key, one for identities), then one transaction with
//! multi-row inserts and one audit row. If a concurrent writer makes a unique
//! index fire anyway, the batch is redone row by row, each in a savepoint, so
//! only the conflicting rows fail.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, QueryFilter, QuerySelect, Set, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use super::{NewIdentity, OnConflict, bulk::Prepared};
use crate::{
    audit::{self, Event},
    context::Context,
    entity::{user_identities, user_roles, users},
    error::{Conflict, DomainError, DomainResult},
    unique::conflict_of,
    users::Users,
};

/// Rows per INSERT statement for the narrow tables (keeps every statement
/// well under SQLite's and PostgreSQL's bind-parameter limits).
const ROLE_ROWS_PER_INSERT: usize = 5_000;
const IDENTITY_ROWS_PER_INSERT: usize = 1_000;
const USER_ROWS_PER_INSERT: usize = 500;

pub(super) const DISABLED_ON_IMPORT: &str = "imported as inactive";

/// What happened to one batch.
#[derive(Debug, Default)]
pub(super) struct BatchOutcome {
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
    /// `(row_index, email, why)`.
    pub failed: Vec<(i64, String, DomainError)>,
}

#[derive(Debug, Clone)]
enum Plan {
    Insert,
    /// Overwrite this user; link only the identities it does not have yet.
    Update {
        user_id: Uuid,
        new_identities: Vec<NewIdentity>,
    },
    Skip,
    /// Fails with this conflict's reason.
    Fail(Conflict),
    /// The UPSERT target was deleted meanwhile: NOT_FOUND.
    Missing,
}

/// Owners of the keys a batch uses, as they are before it is written.
#[derive(Debug, Default)]
struct Existing {
    by_email: HashMap<String, Uuid>,
    by_username: HashMap<String, Uuid>,
    by_phone: HashMap<String, Uuid>,
    by_identity: HashMap<(String, String), Uuid>,
}

pub(super) async fn batch(
    users: &Users,
    ctx: &Context,
    on_conflict: OnConflict,
    batch_no: u32,
    rows: Vec<Prepared>,
) -> DomainResult<BatchOutcome> {
    // Read before the transaction: on SQLite a transaction that reads first
    // cannot later take the write lock if another writer got in between.
    let existing = existing(&users.db, &rows).await?;
    let mut plans: Vec<Plan> = rows.iter().map(|row| plan(row, on_conflict, &existing)).collect();
    let now = users.now();
    let txn = crate::db::begin_write(&users.db).await?;
    let all: Vec<usize> = (0..rows.len()).collect();
    let fast = txn.begin().await?;
    match write(&fast, &rows, &plans, &all, now).await {
        Ok(missing) => {
            fast.commit().await?;
            mark_missing(&mut plans, missing);
        }
        Err(err) if conflict_of(&err).is_some() => {
            fast.rollback().await?;
            tracing::debug!(
                batch = batch_no,
                "a concurrent writer took keys of this batch; writing it row by row"
            );
            for i in all {
                if matches!(plans[i], Plan::Insert | Plan::Update { .. }) {
                    plans[i] = row_alone(&txn, &rows[i], &plans[i], on_conflict, now).await?;
                }
            }
        }
        Err(err) => return Err(err.into()),
    }

    let mut outcome = BatchOutcome::default();
    for (row, plan) in rows.iter().zip(plans) {
        match plan {
            Plan::Insert => outcome.created += 1,
            Plan::Update { .. } => outcome.updated += 1,
            Plan::Skip => outcome.skipped += 1,
            Plan::Fail(conflict) => outcome.failed.push((
                row.index,
                row.user.email.as_str().to_owned(),
                DomainError::AlreadyExists(conflict),
            )),
            Plan::Missing => outcome.failed.push((
                row.index,
                row.user.email.as_str().to_owned(),
                DomainError::NotFound { resource: "user" },
            )),
        }
    }
    if outcome.created + outcome.updated > 0 {
        let event = Event::new("user.import")
            .meta("batch", batch_no)
            .meta("first_row", rows.first().map_or(0, |r| r.index))
            .meta("last_row", rows.last().map_or(0, |r| r.index))
            .meta("on_conflict", on_conflict.as_str())
            .meta("created", outcome.created)
            .meta("updated", outcome.updated)
            .meta("skipped", outcome.skipped)
            .meta("failed", outcome.failed.len() as i64);
        audit::record(&txn, ctx, event, now).await?;
    }
    txn.commit().await?;
    Ok(outcome)
}

/// Writes one row in its own savepoint, after a concurrent writer made the
/// batch's unique indexes fire. A conflicting row is planned again against
/// what now exists (an UPSERT then updates the user that appeared); what
/// still conflicts is skipped or fails with the index's reason.
async fn row_alone(
    txn: &DatabaseTransaction,
    row: &Prepared,
    planned: &Plan,
    on_conflict: OnConflict,
    now: DateTime<Utc>,
) -> DomainResult<Plan> {
    let mut plan = planned.clone();
    for attempt in 0..2 {
        let one = txn.begin().await?;
        match write(&one, std::slice::from_ref(row), std::slice::from_ref(&plan), &[0], now).await {
            Ok(missing) => {
                one.commit().await?;
                return Ok(if missing.is_empty() { plan } else { Plan::Missing });
            }
            Err(err) => {
                let Some(conflict) = conflict_of(&err) else { return Err(err.into()) };
                one.rollback().await?;
                let gave_up = match on_conflict {
                    OnConflict::Skip => Plan::Skip,
                    _ => Plan::Fail(conflict),
                };
                if attempt == 1 {
                    return Ok(gave_up);
                }
                let now_existing = existing(txn, std::slice::from_ref(row)).await?;
                plan = match self::plan(row, on_conflict, &now_existing) {
                    // The index saw a conflict this transaction cannot (yet) see.
                    Plan::Insert => return Ok(gave_up),
                    other @ Plan::Update { .. } => other,
                    settled => return Ok(settled),
                };
            }
        }
    }
    Ok(plan)
}

/// Rows whose UPSERT target vanished (deleted meanwhile) fail as NOT_FOUND.
fn mark_missing(plans: &mut [Plan], missing: Vec<usize>) {
    for i in missing {
        plans[i] = Plan::Missing;
    }
}

async fn existing<C>(conn: &C, rows: &[Prepared]) -> DomainResult<Existing>
where
    C: ConnectionTrait + TransactionTrait,
{
    let emails: Vec<&str> = rows.iter().map(|r| r.user.email.normalized()).collect();
    let usernames: Vec<&str> =
        rows.iter().filter_map(|r| r.user.username.as_ref().map(|u| u.normalized())).collect();
    let phones: Vec<&str> =
        rows.iter().filter_map(|r| r.user.phone.as_ref().map(|p| p.as_str())).collect();
    let keys = [
        (users::Column::EmailNormalized, emails),
        (users::Column::UsernameNormalized, usernames),
        (users::Column::Phone, phones),
    ];
    let owners = if conn.get_database_backend() == DbBackend::Postgres {
        // The trigram GIN indexes answer `=` too, and while their statistics
        // are still empty (a fresh database, a bulk import before VACUUM)
        // the planner took `idx_users_email_trgm` for `email IN (…500)`:
        // 2.5–10 s per batch at 2,500–10,000 users (BENCHMARKS.md). GIN is
        // only read through bitmap scans; without them, the unique b-trees.
        let txn = conn.begin().await?;
        txn.execute_unprepared("SET LOCAL enable_bitmapscan = off").await?;
        let owners = owners_of(&txn, keys).await?;
        txn.commit().await?;
        owners
    } else {
        owners_of(conn, keys).await?
    };
    let mut found = Existing::default();
    for (id, email, username, phone) in owners {
        found.by_email.insert(email, id);
        found.by_username.extend(username.map(|u| (u, id)));
        found.by_phone.extend(phone.map(|p| (p, id)));
    }

    // Grouped by provider so the (provider, provider_user_id) index serves it.
    let mut by_provider: HashMap<&str, Vec<&str>> = HashMap::new();
    for identity in rows.iter().flat_map(|r| &r.identities) {
        by_provider.entry(&identity.provider).or_default().push(&identity.provider_user_id);
    }
    if !by_provider.is_empty() {
        let mut any = Condition::any();
        for (provider, subjects) in by_provider {
            any = any.add(
                Condition::all()
                    .add(user_identities::Column::Provider.eq(provider))
                    .add(user_identities::Column::ProviderUserId.is_in(subjects)),
            );
        }
        let linked: Vec<(Uuid, String, String)> = user_identities::Entity::find()
            .select_only()
            .columns([
                user_identities::Column::UserId,
                user_identities::Column::Provider,
                user_identities::Column::ProviderUserId,
            ])
            .filter(any)
            .into_tuple()
            .all(conn)
            .await?;
        found.by_identity.extend(linked.into_iter().map(|(id, p, s)| ((p, s), id)));
    }
    Ok(found)
}

type Owner = (Uuid, String, Option<String>, Option<String>);

/// The users holding any of the keys: one query per kind of key, so each
/// is a plain lookup in that column's unique index.
async fn owners_of<C: ConnectionTrait>(
    conn: &C,
    keys: [(users::Column, Vec<&str>); 3],
) -> DomainResult<Vec<Owner>> {
    let mut owners = Vec::new();
    for (column, values) in keys.into_iter().filter(|(_, values)| !values.is_empty()) {
        let found: Vec<Owner> = users::Entity::find()
            .select_only()
            .columns([
                users::Column::Id,
                users::Column::EmailNormalized,
                users::Column::UsernameNormalized,
                users::Column::Phone,
            ])
            .filter(column.is_in(values))
            .into_tuple()
            .all(conn)
            .await?;
        owners.extend(found);
    }
    Ok(owners)
}

fn plan(row: &Prepared, on_conflict: OnConflict, existing: &Existing) -> Plan {
    let user = &row.user;
    let email_owner = existing.by_email.get(user.email.normalized()).copied();
    let target = if on_conflict == OnConflict::Upsert { email_owner } else { None };
    let owners = [
        (Conflict::Email, email_owner),
        (
            Conflict::Username,
            user.username.as_ref().and_then(|u| existing.by_username.get(u.normalized())).copied(),
        ),
        (
            Conflict::Phone,
            user.phone.as_ref().and_then(|p| existing.by_phone.get(p.as_str())).copied(),
        ),
    ]
    .into_iter()
    .chain(
        row.identities
            .iter()
            .map(|i| (Conflict::SocialAccount, existing.by_identity.get(&i.key()).copied())),
    );
    let mut conflict = None;
    for (kind, owner) in owners {
        if owner.is_some() && owner != target {
            conflict = Some(kind);
            break;
        }
    }
    match (conflict, on_conflict, target) {
        (Some(_), OnConflict::Skip, _) => Plan::Skip,
        (Some(kind), _, _) => Plan::Fail(kind),
        (None, _, Some(user_id)) => Plan::Update {
            user_id,
            new_identities: row
                .identities
                .iter()
                .filter(|i| !existing.by_identity.contains_key(&i.key()))
                .cloned()
                .collect(),
        },
        (None, _, None) => Plan::Insert,
    }
}

/// Writes the rows `which` as planned. Returns the UPSERT rows whose user no
/// longer exists.
async fn write<C: ConnectionTrait>(
    conn: &C,
    rows: &[Prepared],
    plans: &[Plan],
    which: &[usize],
    now: DateTime<Utc>,
) -> Result<Vec<usize>, DbErr> {
    let mut new_users = Vec::new();
    let mut roles = Vec::new();
    let mut identities = Vec::new();
    let mut replaced_roles = Vec::new();
    let mut missing = Vec::new();
    for &i in which {
        let row = &rows[i];
        let (user_id, links) = match &plans[i] {
            Plan::Insert => {
                let id = Uuid::now_v7();
                new_users.push(new_user(id, row, now));
                (id, row.identities.as_slice())
            }
            Plan::Update { user_id, new_identities } => {
                let updated = users::Entity::update_many()
                    .set(overwrite(row, now))
                    .filter(users::Column::Id.eq(*user_id))
                    .exec(conn)
                    .await?;
                if updated.rows_affected == 0 {
                    missing.push(i);
                    continue;
                }
                replaced_roles.push(*user_id);
                (*user_id, new_identities.as_slice())
            }
            Plan::Skip | Plan::Fail(_) | Plan::Missing => continue,
        };
        roles.extend(row.user.roles.as_slice().iter().map(|role| user_roles::ActiveModel {
            user_id: Set(user_id),
            role: Set(role.clone()),
        }));
        identities.extend(links.iter().map(|link| identity_row(user_id, link, now)));
    }
    insert_chunked::<users::Entity, _, _>(conn, new_users, USER_ROWS_PER_INSERT).await?;
    if !replaced_roles.is_empty() {
        user_roles::Entity::delete_many()
            .filter(user_roles::Column::UserId.is_in(replaced_roles))
            .exec(conn)
            .await?;
    }
    insert_chunked::<user_roles::Entity, _, _>(conn, roles, ROLE_ROWS_PER_INSERT).await?;
    insert_chunked::<user_identities::Entity, _, _>(conn, identities, IDENTITY_ROWS_PER_INSERT)
        .await?;
    Ok(missing)
}

async fn insert_chunked<E, A, C>(
    conn: &C,
    mut rows: Vec<A>,
    per_statement: usize,
) -> Result<(), DbErr>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E>,
    C: ConnectionTrait,
{
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(per_statement));
        E::insert_many(rows).exec_without_returning(conn).await?;
        rows = rest;
    }
    Ok(())
}

fn new_user(id: Uuid, row: &Prepared, now: DateTime<Utc>) -> users::ActiveModel {
    let active = row.is_active.unwrap_or(true);
    let mut model = row.user.new_row(id, row.password_hash.clone(), now);
    model.is_active = Set(active);
    model.disabled_reason = Set((!active).then(|| DISABLED_ON_IMPORT.to_owned()));
    model.created_at = Set(row.created_at.unwrap_or(now));
    model
}

/// UPSERT: the row's fields replace the user's; a missing password hash,
/// `is_active` or `created_at` leaves the stored one. Existing sessions are
/// not revoked here (DisableUser / SetPassword do that).
fn overwrite(row: &Prepared, now: DateTime<Utc>) -> users::ActiveModel {
    let mut model = users::ActiveModel { updated_at: Set(now), ..row.user.own_columns() };
    if let Some(hash) = &row.password_hash {
        model.password_hash = Set(Some(hash.clone()));
    }
    if let Some(active) = row.is_active {
        model.is_active = Set(active);
        model.disabled_reason = Set((!active).then(|| DISABLED_ON_IMPORT.to_owned()));
        model.disabled_until = Set(None);
    }
    // A replaced password or a disable ends the tokens issued before it.
    if row.password_hash.is_some() || row.is_active == Some(false) {
        model.tokens_valid_after = Set(now);
    }
    if let Some(created_at) = row.created_at {
        model.created_at = Set(created_at);
    }
    model
}

pub(super) fn identity_row(
    user_id: Uuid,
    identity: &NewIdentity,
    now: DateTime<Utc>,
) -> user_identities::ActiveModel {
    user_identities::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        provider: Set(identity.provider.clone()),
        provider_user_id: Set(identity.provider_user_id.clone()),
        provider_email: Set(identity.provider_email.clone()),
        profile: Set(identity.profile.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    }
}
