//! ImportUsers' write path: 10,000 rows carrying pre-hashed argon2id PHC
//! strings, imported into a fresh SQLite file (WAL, as `warden serve` runs
//! it) through the same `Importer` the RPC drives: parsing each row (as the
//! adapter does), per-batch conflict queries, multi-row inserts and one
//! audit row per 500 rows.
//! Creating and migrating the database is not timed.
//!
//! `cargo bench -p warden-core --bench import`

#![allow(clippy::unwrap_used, missing_docs)]

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use warden_core::{
    auth::{
        Auth,
        password::{PasswordSettings, Passwords},
        tokens::{access::AccessTokens, keys::KeyRing},
    },
    clock::SystemClock,
    context::Context,
    secret::SecretString,
    users::{
        UserSettings, Users,
        fields::{NewUser, UserFields},
        import::{ImportRow, ImportedPassword, OnConflict},
    },
};

const ROWS: usize = 10_000;

/// The rows as a caller sends them; each is parsed inside the timed loop.
fn rows() -> Vec<UserFields> {
    (0..ROWS)
        .map(|i| UserFields {
            email: format!("user{i:05}@example.com"),
            given_name: "Imported".into(),
            family_name: format!("User {i}"),
            roles: vec!["member".into()],
            email_verified: true,
            ..Default::default()
        })
        .collect()
}

/// One row, parsed as the gRPC adapter parses it.
fn parse(users: &Users, fields: &UserFields, hash: &str) -> ImportRow {
    let policy = users.password_policy();
    ImportRow {
        user: NewUser::parse("", fields, users.settings().max_metadata_bytes).unwrap(),
        password: ImportedPassword::parse(&policy, String::new(), hash, &[]).unwrap(),
        identities: Vec::new(),
        created_at: None,
        is_active: None,
    }
}

/// A migrated SQLite file of its own; the directory lives as long as the value.
async fn fresh_users(passwords: &Passwords) -> (Users, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = warden_core::db::sqlite_url_in(dir.path());
    let db = warden_core::db::connect(&url, &Default::default()).await.unwrap();
    warden_core::db::migrate(&db).await.unwrap();
    let auth = Auth::new(
        db.clone(),
        Arc::new(SystemClock),
        passwords.clone(),
        AccessTokens::new(
            KeyRing::open(&db, chrono::Utc::now()).await.unwrap(),
            Default::default(),
            Default::default(),
        ),
        Default::default(),
        Default::default(),
    );
    let users = Users::new(auth, UserSettings::default());
    (users, dir)
}

fn import_users(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let passwords = Passwords::new(&PasswordSettings::default()).unwrap();
    let hash =
        runtime.block_on(passwords.hash(&SecretString::new("imported password".into()))).unwrap();
    let input = rows();

    let mut group = c.benchmark_group("import_users_sqlite");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("10000_rows_prehashed_argon2id", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let passwords = passwords.clone();
            let (input, hash) = (input.clone(), hash.clone());
            async move {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    let (users, _dir) = fresh_users(&passwords).await;
                    let rows = input.clone();
                    let start = Instant::now();
                    let mut importer = users.importer(&Context::system(), OnConflict::Fail);
                    for fields in &rows {
                        importer.push(Ok(parse(&users, fields, &hash))).await.unwrap();
                    }
                    let summary = importer.finish().await.unwrap();
                    spent += start.elapsed();
                    assert_eq!(summary.created, ROWS as i64);
                }
                spent
            }
        })
    });
    group.finish();
}

criterion_group!(benches, import_users);
criterion_main!(benches);
