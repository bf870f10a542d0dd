//! `warden`: serve gRPC, or run an operator command (migrate, bootstrap-admin,
//! keys rotate).

use clap::Parser;
use tokio::signal::unix::{Signal, SignalKind};
use warden_server::{
    admin,
    cli::{Cli, Command, KeysCommand},
    config, startup, telemetry,
};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let command = cli.command;
    let flags = command.database_flags().overrides();
    let config = match config::load(cli.config.as_deref(), &flags) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("warden: {err}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("warden: cannot start the async runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(command, config)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "warden failed");
            eprintln!("warden: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: config::Config) -> anyhow::Result<()> {
    // An operator command prints one human line on stdout; its logs go to stderr.
    let logs = match command {
        Command::Serve(_) => telemetry::LogOutput::Stdout,
        _ => telemetry::LogOutput::Stderr,
    };
    let _telemetry = telemetry::init(&config.log, logs)?;
    let line = match command {
        Command::Serve(_) => {
            // Listen for SIGTERM before "warden is serving" is logged: a
            // signal that arrives in between would otherwise kill the
            // process without the NOT_SERVING drain.
            let mut sigterm = tokio::signal::unix::signal(SignalKind::terminate())?;
            let server = startup::start(config).await?;
            shutdown_signal(&mut sigterm).await?;
            return server.shutdown().await;
        }
        Command::Migrate(_) => admin::migrate(&config).await?,
        Command::BootstrapAdmin(flags) => admin::bootstrap(&config, &flags).await?,
        Command::Keys(KeysCommand::Rotate(_)) => admin::rotate_keys(&config).await?,
    };
    println!("{line}");
    Ok(())
}

/// SIGTERM (Kubernetes) or Ctrl-C.
async fn shutdown_signal(sigterm: &mut Signal) -> anyhow::Result<()> {
    tokio::select! {
        _ = sigterm.recv() => tracing::info!("SIGTERM received"),
        result = tokio::signal::ctrl_c() => {
            result?;
            tracing::info!("interrupt received");
        }
    }
    Ok(())
}
