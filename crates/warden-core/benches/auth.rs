//! Hot paths of authentication: access-token verification with and without
//! the verified-signature cache, and password checks for a known account
//! versus an unknown one (which must cost the same).
//!
//! `cargo bench -p warden-core --bench auth`

#![allow(clippy::unwrap_used, missing_docs)]

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use uuid::Uuid;
use warden_core::{
    auth::{
        password::{PasswordSettings, Passwords},
        tokens::{
            TokenSettings,
            access::{AccessTokens, Subject},
            keys::KeyRing,
        },
    },
    secret::SecretString,
};

fn token_verification(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ring = runtime.block_on(async {
        let db = warden_core::db::connect("sqlite::memory:", &Default::default()).await.unwrap();
        warden_core::db::migrate(&db).await.unwrap();
        KeyRing::open(&db, Utc::now()).await.unwrap()
    });
    let cached = AccessTokens::new(ring.clone(), TokenSettings::default(), Default::default());
    let uncached = AccessTokens::new(
        ring,
        TokenSettings { verify_cache_seconds: 0, ..TokenSettings::default() },
        Default::default(),
    );
    let now = Utc::now();
    let token =
        cached.issue(Subject::Admin, Uuid::now_v7(), Uuid::now_v7(), "warden-admin", now).unwrap();

    let mut group = c.benchmark_group("access_token_verify");
    group.bench_function("signature_checked_every_time", |b| {
        b.iter(|| uncached.verify(&token.token, "warden-admin", now).unwrap())
    });
    group.bench_function("cached_after_first_check", |b| {
        b.iter(|| cached.verify(&token.token, "warden-admin", now).unwrap())
    });
    group.finish();
    c.bench_function("access_token_issue", |b| {
        b.iter(|| {
            cached.issue(Subject::Admin, Uuid::nil(), Uuid::nil(), "warden-admin", now).unwrap()
        })
    });
}

fn password_checks(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let passwords = Passwords::new(&PasswordSettings::default()).unwrap();
    let password = SecretString::new("correct horse battery staple".into());
    let stored = runtime.block_on(passwords.hash(&password)).unwrap();
    let wrong = SecretString::new("wrong password entirely".into());

    let mut group = c.benchmark_group("argon2id_default_params");
    group.sample_size(20);
    group.bench_function("wrong_password_known_account", |b| {
        b.to_async(&runtime).iter(|| passwords.verify(&wrong, Some(&stored)))
    });
    group.bench_function("unknown_account_dummy_hash", |b| {
        b.to_async(&runtime).iter(|| passwords.verify(&wrong, None))
    });
    group.finish();
}

criterion_group!(benches, token_verification, password_checks);
criterion_main!(benches);
