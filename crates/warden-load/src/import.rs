//! ImportUsers throughput: `--rows` pre-hashed (bcrypt) users streamed over
//! gRPC in one call, and, with `--direct`, the ceiling for the same rows: the
//! same `Importer` the RPC drives, called in-process on the same database,
//! with no gRPC at all. Each run uses fresh emails, so runs can follow one
//! another on one database.

use std::{sync::Arc, time::Instant};

use anyhow::{Context as _, bail};
use tonic::{Request, metadata::MetadataValue};
use warden_core::{
    auth::{Auth, password::PasswordSettings},
    clock::SystemClock,
    context::Context,
    db,
    users::{
        UserSettings, Users,
        fields::{NewUser, UserFields},
        import::{ImportRow, ImportedPassword, OnConflict},
    },
};
use warden_proto::v1::{self as pb, users_service_client::UsersServiceClient};

use crate::ImportArgs;

/// What every row shares: a bcrypt hash (cost 10) and a run id for unique emails.
struct Rows {
    hash: String,
    run: String,
}

impl Rows {
    fn new() -> anyhow::Result<Self> {
        let hash = bcrypt::hash("an imported password", 10).context("bcrypt")?;
        let run = uuid::Uuid::now_v7().simple().to_string();
        Ok(Self { hash, run: run[run.len() - 8..].to_owned() })
    }

    fn email(&self, i: u64) -> String {
        format!("imp{}.{i:07}@import.example.com", self.run)
    }

    fn message(&self, i: u64) -> pb::ImportUsersRequest {
        pb::ImportUsersRequest {
            email: self.email(i),
            given_name: "Imported".into(),
            family_name: format!("User {i}"),
            roles: vec!["member".into()],
            email_verified: true,
            password_hash: self.hash.clone(),
            ..Default::default()
        }
    }

    /// The row as the RPC's conversion would make it (parsing is part of the
    /// measured work, as it is over gRPC).
    fn core_row(&self, users: &Users, i: u64) -> anyhow::Result<ImportRow> {
        let fields = UserFields {
            email: self.email(i),
            given_name: "Imported".into(),
            family_name: format!("User {i}"),
            roles: vec!["member".into()],
            email_verified: true,
            ..Default::default()
        };
        let invalid = |e| anyhow::anyhow!("{e:?}");
        let policy = users.password_policy();
        Ok(ImportRow {
            user: NewUser::parse("", &fields, users.settings().max_metadata_bytes)
                .map_err(invalid)?,
            password: ImportedPassword::parse(&policy, String::new(), &self.hash, &[])
                .map_err(invalid)?,
            identities: Vec::new(),
            created_at: None,
            is_active: None,
        })
    }
}

pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    if args.rows == 0 {
        bail!("--rows must be at least 1");
    }
    let rows = Rows::new()?;
    let (how, started, created) = if args.direct {
        let url = args.database_url.as_deref().context("--direct needs --database-url")?;
        let conn = db::connect(url, &Default::default()).await.context("connecting")?;
        let (tokens, lockout, counters) = Default::default();
        let auth = Auth::open(
            conn,
            Arc::new(SystemClock),
            &PasswordSettings::default(),
            tokens,
            lockout,
            counters,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let users = Users::new(auth, UserSettings::default());
        let started = Instant::now();
        let mut importer = users.importer(&Context::system(), OnConflict::Fail);
        for i in 0..args.rows {
            let row = rows.core_row(&users, i)?;
            importer.push(Ok(row)).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
        }
        let summary = importer.finish().await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
        ("in-process Importer (ceiling)", started, summary.created)
    } else {
        let key = args.api_key.as_deref().context("over gRPC needs --api-key")?;
        let authorization: MetadataValue<_> =
            format!("Bearer {}", key.trim()).parse().context("the API key is not header text")?;
        let mut client = UsersServiceClient::new(crate::bench::connect(&args.addr).await?)
            .max_decoding_message_size(64 * 1024 * 1024);
        let messages = (0..args.rows).map(|i| rows.message(i)).collect::<Vec<_>>();
        let mut request = Request::new(tokio_stream::iter(messages));
        request.metadata_mut().insert("authorization", authorization);
        let started = Instant::now();
        let summary = client.import_users(request).await.context("ImportUsers")?.into_inner();
        if summary.failed_count > 0 {
            bail!("{} rows failed, the first: {:?}", summary.failed_count, summary.failed_rows[0]);
        }
        ("ImportUsers over gRPC", started, summary.created_count)
    };
    let secs = started.elapsed().as_secs_f64();
    if created != args.rows as i64 {
        bail!("{created} of {} rows created", args.rows);
    }
    let per_second = args.rows as f64 / secs;
    println!(
        "Import {label}: {rows} pre-hashed rows via {how} in {secs:.2} s: {per_second:.0} rows/s",
        label = args.label,
        rows = args.rows,
    );
    let mode = if args.direct { "direct" } else { "grpc" };
    println!(
        "RESULT rpc=ImportUsers mode={mode} label={} rows={} secs={secs:.2} rows_per_s={per_second:.0}",
        args.label, args.rows
    );
    Ok(())
}
