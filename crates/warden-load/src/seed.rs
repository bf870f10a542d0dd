//! Seeding: users written straight through the domain's own insert (the same
//! field rules and unique indexes as CreateUser, without argon2 per row), in
//! batched transactions, plus an API key to call the server with.

use std::{io::Write, time::Instant};

use anyhow::{Context as _, bail};
use chrono::{Duration, Utc};
use sea_orm::{EntityTrait, PaginatorTrait, TransactionTrait};
use warden_core::{
    api_keys::{self, NewApiKey},
    db::{self, PoolSettings},
    entity::users,
    scope::ScopeSet,
    users::fields::{self, NewUser, UserFields},
};

use crate::SeedArgs;

pub const GIVEN_NAMES: &[&str] = &[
    "Ada", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Keiko",
    "Liam", "Maya", "Nora", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tariq",
];
/// Searches pick from these (each is about 1/40 of the seeded users).
pub const FAMILY_NAMES: &[&str] = &[
    "Andersen",
    "Baptiste",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hoffmann",
    "Ivanova",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Quispe",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Silva",
    "Nguyen",
    "Kim",
    "Haddad",
    "Murphy",
    "Costa",
    "Larsen",
    "Romano",
    "Becker",
    "Sato",
    "Kaur",
    "Mensah",
    "Duarte",
    "Popescu",
];
const PLANS: &[&str] = &["free", "pro", "team"];

/// The seeded user number `i`'s email: `load000042@seed.example.com`.
pub fn email(i: u64) -> String {
    format!("load{i:06}@seed.example.com")
}

pub async fn run(args: SeedArgs) -> anyhow::Result<()> {
    if args.batch == 0 {
        bail!("--batch must be at least 1");
    }
    let pool = PoolSettings { max_connections: 2, ..PoolSettings::default() };
    let conn =
        db::connect(&args.database_url, &pool).await.context("connecting to the database")?;
    // The server migrates on start too; doing it here lets seeding run first.
    db::migrate(&conn).await.context("migrating")?;

    let existing = users::Entity::find().count(&conn).await?;
    let now = Utc::now();
    let started = Instant::now();
    let step = (args.users / 1_000).max(1);
    let mut ids = Vec::new();
    if existing >= args.users {
        eprintln!("seed: {existing} users already present; adding none");
    } else {
        let mut i = existing;
        while i < args.users {
            let end = (i + args.batch).min(args.users);
            let txn = conn.begin().await?;
            for n in i..end {
                let valid = user_fields(n)?;
                // Spread over the past: one user a minute, newest last.
                let created = now - Duration::minutes((args.users - n) as i64);
                let user = fields::seed(&txn, &valid, created)
                    .await
                    .with_context(|| format!("inserting {}", email(n)))?;
                if n % step == 0 {
                    ids.push(user.id);
                }
            }
            txn.commit().await?;
            i = end;
            if i % 10_000 == 0 || i == args.users {
                eprintln!("seed: {i}/{} users ({:.1?})", args.users, started.elapsed());
            }
        }
    }
    // As ImportUsers does after a bulk write: plans for the seeded sizes.
    db::analyze_users_tables(&conn).await.context("analyzing the seeded tables")?;
    if let Some(path) = &args.ids_out {
        if ids.is_empty() {
            // Already seeded: take ids from the table instead.
            use sea_orm::{QueryOrder, QuerySelect};
            ids = users::Entity::find()
                .order_by_asc(users::Column::Id)
                .limit(1_000)
                .all(&conn)
                .await?
                .into_iter()
                .map(|u| u.id)
                .collect();
        }
        let text: String = ids.iter().map(|id| format!("{id}\n")).collect();
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }

    let key = NewApiKey {
        name: format!("warden-load {}", now.format("%Y%m%dT%H%M%S")),
        description: "minted by warden-load seed".to_owned(),
        scopes: ScopeSet::all(),
        expires_at: Some(now + Duration::days(1)),
        created_by: None,
    };
    let (_, raw) = api_keys::insert(&conn, key, now).await.context("minting the API key")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", raw.raw.expose())?;
    Ok(())
}

fn user_fields(n: u64) -> anyhow::Result<NewUser> {
    let i = n as usize;
    let input = UserFields {
        email: email(n),
        given_name: GIVEN_NAMES[i % GIVEN_NAMES.len()].to_owned(),
        family_name: FAMILY_NAMES[(i / 7) % FAMILY_NAMES.len()].to_owned(),
        metadata: serde_json::json!({ "plan": PLANS[i % PLANS.len()], "seed": true }),
        roles: if n.is_multiple_of(10) {
            vec!["admin".into(), "user".into()]
        } else {
            vec!["user".into()]
        },
        email_verified: n.is_multiple_of(2),
        ..UserFields::default()
    };
    NewUser::parse("", &input, 16 * 1024)
        .map_err(|invalid| anyhow::anyhow!("seed user {n} is invalid: {invalid:?}"))
}
