//! The `warden` command line. Flags are the last configuration layer.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::config::Overrides;

/// `warden` alone prints the help: starting a server and creating `./data`
/// is something to ask for (`warden serve`), not a side effect of a typo.
#[derive(Debug, Parser)]
#[command(
    name = "warden",
    version,
    about = "Identity administration over gRPC",
    arg_required_else_help = true,
    after_help = "With no configuration at all, `warden serve` listens on 127.0.0.1:50051 \
                  and keeps an SQLite database in ./data."
)]
pub struct Cli {
    /// A TOML configuration file (also `WARDEN_CONFIG`).
    #[arg(long, global = true, env = "WARDEN_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
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

// The defaults are written out in the help (flags stay unset so the file and
// the environment can still decide); a test keeps them equal to Config's.
#[derive(Debug, Clone, Default, Args)]
pub struct DatabaseFlags {
    /// Address to listen on (`WARDEN_LISTEN`); port 0 picks a free port
    /// [default: 127.0.0.1:50051]
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Directory for the embedded SQLite database (`WARDEN_DATA_DIR`)
    /// [default: ./data]
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` or `sqlite://…` (`WARDEN_DATABASE_URL`) [default: SQLite
    /// in the data directory]
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::config::Config;

    #[test]
    fn the_help_shows_the_real_defaults() {
        let defaults = Config::default();
        let mut command = Cli::command();
        let serve = command.find_subcommand_mut("serve").expect("serve").render_long_help();
        let serve = serve.to_string();
        assert!(serve.contains(&defaults.listen.to_string()), "{serve}");
        assert!(serve.contains(&defaults.data_dir.display().to_string()), "{serve}");
        let top = Cli::command().render_long_help().to_string();
        assert!(top.contains(&defaults.listen.to_string()), "{top}");
        assert!(top.contains(&defaults.data_dir.display().to_string()), "{top}");
    }

    #[test]
    fn a_subcommand_is_required() {
        let err = Cli::try_parse_from(["warden"]).expect_err("no subcommand");
        assert_eq!(err.kind(), clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand);
    }
}
