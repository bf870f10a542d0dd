//! `warden-load`: measures Warden's RPCs under load. It starts nothing: it
//! seeds a database (`seed`), waits for a running server (`wait`), and runs
//! a bounded number of calls of one RPC at a fixed concurrency (`bench`),
//! printing requests/s and latency percentiles, or one long ImportUsers
//! stream and its in-process ceiling (`import`), printing rows/s. `run.sh` beside this crate
//! ties the three together for SQLite and PostgreSQL.

mod bench;
mod calls;
mod import;
mod seed;

use std::{path::PathBuf, process::ExitCode, time::Duration};

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "warden-load", about = "Load measurement for Warden's gRPC API")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Seeds users straight into the database and prints a fresh API key
    /// holding every scope (the only line on stdout).
    Seed(SeedArgs),
    /// Waits until the server at `--addr` answers health SERVING.
    Wait {
        #[arg(long, env = "LOAD_ADDR", default_value = "http://127.0.0.1:50051")]
        addr: String,
        #[arg(long, default_value_t = 60)]
        timeout_seconds: u64,
    },
    /// Calls one RPC `--requests` times from `--concurrency` workers.
    Bench(BenchArgs),
    /// Streams `--rows` pre-hashed users through one ImportUsers call, or
    /// (`--direct`) through the in-process Importer: the ceiling.
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[arg(long, env = "LOAD_ADDR", default_value = "http://127.0.0.1:50051")]
    pub addr: String,
    #[arg(long, env = "LOAD_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Rows in the stream.
    #[arg(long, default_value_t = 100_000)]
    pub rows: u64,
    /// Skip gRPC: run the same rows through warden-core's Importer on
    /// `--database-url` (the ceiling for the RPC).
    #[arg(long)]
    pub direct: bool,
    #[arg(long)]
    pub database_url: Option<String>,
    /// Printed in the result line, e.g. `sqlite`.
    #[arg(long, default_value = "")]
    pub label: String,
}

#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// `sqlite://…` or `postgres://…`: the database the server uses.
    #[arg(long, env = "WARDEN_DATABASE_URL")]
    pub database_url: String,
    /// Users wanted in total; nothing is added when the table already has them.
    #[arg(long, default_value_t = 100_000)]
    pub users: u64,
    /// Users per transaction.
    #[arg(long, default_value_t = 1_000)]
    pub batch: u64,
    /// Writes up to 1,000 seeded user ids here, one a line (for GetUser).
    #[arg(long)]
    pub ids_out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Rpc {
    GetUser,
    ListUsers,
    CreateUser,
}

/// Which filtered page ListUsers asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFilter {
    /// `email STARTS_WITH load0NNN` (about 100 matches among 100,000 seeded users).
    EmailPrefix,
    /// `role = admin` and `is_active = true` (a tenth of the seeded users).
    Role,
    /// Free `search` for a family name (CONTAINS over email and names).
    Search,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// The server, e.g. `http://127.0.0.1:50051`.
    #[arg(long, env = "LOAD_ADDR", default_value = "http://127.0.0.1:50051")]
    pub addr: String,
    /// A raw `wdn_…` API key (from `seed`, or CreateApiKey).
    #[arg(long, env = "LOAD_API_KEY", hide_env_values = true)]
    pub api_key: String,
    #[arg(long, value_enum)]
    pub rpc: Rpc,
    /// Measured calls (after the warm-up).
    #[arg(long, default_value_t = 20_000)]
    pub requests: u64,
    /// Calls in flight at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// HTTP/2 connections the workers share.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Unmeasured calls first (connection set-up, caches, JIT-free warm-up).
    #[arg(long, default_value_t = 200)]
    pub warmup: u64,
    /// GetUser: ids to look up, one a line (`seed --ids-out`).
    #[arg(long)]
    pub ids_file: Option<PathBuf>,
    /// ListUsers: how many users were seeded (bounds the email prefixes).
    #[arg(long, default_value_t = 100_000)]
    pub seeded_users: u64,
    #[arg(long, value_enum, default_value_t = ListFilter::EmailPrefix)]
    pub filter: ListFilter,
    #[arg(long, default_value_t = 50)]
    pub page_size: i32,
    /// Printed in the result line, e.g. `sqlite`.
    #[arg(long, default_value = "")]
    pub label: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("warden-load: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Seed(args) => seed::run(args).await,
            Command::Wait { addr, timeout_seconds } => {
                bench::wait_serving(&addr, Duration::from_secs(timeout_seconds)).await
            }
            Command::Bench(args) => bench::run(args).await,
            Command::Import(args) => import::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("warden-load: {err:#}");
            ExitCode::FAILURE
        }
    }
}
