//! The `warden` command line. Flags are the last configuration layer.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::config::Overrides;

#[derive(Debug, Parser)]
#[command(name = "warden", version, about = "Identity administration over gRPC")]
pub struct Cli {
    /// A TOML configuration file (also `WARDEN_CONFIG`).
    #[arg(long, global = true, env = "WARDEN_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    pub fn command(&self) -> Command {
        self.command.clone().unwrap_or(Command::Serve(DatabaseFlags::default()))
    }
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Apply migrations and serve gRPC until SIGTERM or Ctrl-C.
    Serve(DatabaseFlags),
    /// Apply pending migrations and exit.
    Migrate(DatabaseFlags),
    /// Create the first admin unless one exists (idempotent; for a Job).
    BootstrapAdmin(BootstrapFlags),
    /// Manage JWT signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Clone, Subcommand)]
pub enum KeysCommand {
    /// Add a new signing key; the previous one keeps verifying (and stays in
    /// the JWKS) until the tokens it signed have expired.
    Rotate(DatabaseFlags),
}

#[derive(Debug, Clone, Args)]
pub struct BootstrapFlags {
    #[arg(long)]
    pub email: String,
    /// A file holding the password (a mounted Kubernetes secret).
    #[arg(long)]
    pub password_file: PathBuf,
    #[arg(long, default_value = "Administrator")]
    pub name: String,
    #[command(flatten)]
    pub database: DatabaseFlags,
}

#[derive(Debug, Clone, Default, Args)]
pub struct DatabaseFlags {
    /// Address to listen on (`WARDEN_LISTEN`); port 0 picks a free port.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Directory for the embedded SQLite database (`WARDEN_DATA_DIR`).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` or `sqlite://…` (`WARDEN_DATABASE_URL`).
    #[arg(long)]
    pub database_url: Option<String>,
}

impl Command {
    pub fn database_flags(&self) -> &DatabaseFlags {
        match self {
            Self::Serve(flags) | Self::Migrate(flags) | Self::Keys(KeysCommand::Rotate(flags)) => {
                flags
            }
            Self::BootstrapAdmin(bootstrap) => &bootstrap.database,
        }
    }
}

impl DatabaseFlags {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            listen: self.listen,
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
        }
    }
}
