//! `worktrace-server`: `serve` runs the API; `admin …` bootstraps and manages the
//! organisation from the command line (first admin, users, teams, memberships, enrollment
//! tokens, device revocation). Every change is audited under the admin named by `--by`, or
//! under "server CLI" where `--by` may be left out.
//!
//! A thin edge over the library: parse, resolve settings, call, print. Passwords are read from
//! standard input, never from arguments (they would show in the process list).

#![forbid(unsafe_code)]

mod admin_cli;
mod releases_cli;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use worktrace_server::config::{self, FileConfig, ServeConfig};
use worktrace_server::http;
use worktrace_server::store;

#[derive(Debug, Parser)]
#[command(
    name = "worktrace-server",
    version,
    about = "The Worktrace company server"
)]
struct Cli {
    #[command(flatten)]
    db: DbArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct DbArgs {
    /// TOML settings file (keys: listen, data_dir, database_url, secure_cookies, tls_cert,
    /// tls_key, retention_days, max_clock_skew_secs, alerts_per_device_hour, ...).
    #[arg(long, global = true, env = "WORKTRACE_SERVER_CONFIG")]
    config: Option<PathBuf>,
    /// Where the embedded SQLite database lives (default: the platform data directory).
    #[arg(long, global = true, env = "WORKTRACE_SERVER_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A PostgreSQL URL (postgres://user:pass@host/db) or a SQLite path/URL.
    #[arg(long, global = true, env = "WORKTRACE_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API.
    Serve(ServeArgs),
    /// Manage the organisation from the command line.
    #[command(subcommand)]
    Admin(admin_cli::AdminCommand),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8900).
    #[arg(long, env = "WORKTRACE_SERVER_LISTEN")]
    listen: Option<String>,
    /// Mark cookies Secure: set when users reach the server over HTTPS through a proxy (always
    /// on with --tls-cert).
    #[arg(long)]
    secure_cookies: bool,
    /// Serve HTTPS with this certificate chain (PEM; the server's certificate first).
    #[arg(long, env = "WORKTRACE_SERVER_TLS_CERT", value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM, unencrypted).
    #[arg(long, env = "WORKTRACE_SERVER_TLS_KEY", value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// Take client addresses from X-Forwarded-For (only behind a trusted proxy).
    #[arg(long)]
    trust_forwarded_for: bool,
    /// Days back a device's items may be dated; older ones are not stored (default 400).
    #[arg(long, env = "WORKTRACE_RETENTION_DAYS")]
    retention_days: Option<u32>,
    /// Seconds a device's clock may run ahead of the server's (default 600).
    #[arg(long, env = "WORKTRACE_MAX_CLOCK_SKEW_SECS")]
    max_clock_skew_secs: Option<u64>,
    /// Alerts of one PC listed one by one in the inbox per hour; more are counted on one
    /// line (default 20).
    #[arg(long, env = "WORKTRACE_ALERTS_PER_DEVICE_HOUR")]
    alerts_per_device_hour: Option<u32>,
    /// Log format.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
}

fn database_url(db: &DbArgs, file: &FileConfig) -> anyhow::Result<String> {
    if let Some(url) = db
        .database_url
        .clone()
        .or_else(|| file.database_url.clone())
    {
        return Ok(url);
    }
    let dir = match db.data_dir.clone().or_else(|| file.data_dir.clone()) {
        Some(d) => d,
        None => config::default_data_dir()?,
    };
    Ok(config::sqlite_url(&dir))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(%e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(%e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down; letting requests in flight finish");
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let file = match &cli.db.config {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    };
    let url = database_url(&cli.db, &file)?;
    match cli.command {
        Command::Serve(args) => {
            init_logs(args.log_format == "json");
            let mut cfg = ServeConfig::with_database(url);
            if let Some(listen) = args.listen.as_deref().or(file.listen.as_deref()) {
                cfg.listen = config::parse_listen(listen)?;
            }
            cfg.secure_cookies = args.secure_cookies || file.secure_cookies.unwrap_or(false);
            cfg.tls = config::tls_files(
                args.tls_cert.or(file.tls_cert),
                args.tls_key.or(file.tls_key),
            )?;
            cfg.trust_forwarded_for =
                args.trust_forwarded_for || file.trust_forwarded_for.unwrap_or(false);
            if let Some(v) = file.body_limit_bytes {
                cfg.body_limit_bytes = v;
            }
            if let Some(v) = file.session_ttl_secs {
                cfg.session_ttl_secs = v;
            }
            if let Some(v) = file.session_idle_secs {
                cfg.session_idle_secs = v;
            }
            if let Some(v) = file.login_max_failures {
                cfg.login_max_failures = v;
            }
            if let Some(v) = file.login_address_max_failures {
                cfg.login_address_max_failures = v;
            }
            if let Some(v) = file.login_hash_permits {
                cfg.login_hash_permits = v.max(1);
            }
            if let Some(v) = file.login_window_secs {
                cfg.login_window_secs = v;
            }
            if let Some(v) = args.retention_days.or(file.retention_days) {
                cfg.retention_days = v;
            }
            if let Some(v) = args.max_clock_skew_secs.or(file.max_clock_skew_secs) {
                cfg.max_clock_skew_secs = v;
            }
            if let Some(v) = args.alerts_per_device_hour.or(file.alerts_per_device_hour) {
                cfg.alerts_per_device_hour = v;
            }
            let server = http::start(cfg).await?;
            println!("worktrace-server listening on {}", server.url());
            shutdown_signal().await;
            server.shutdown().await?;
        }
        Command::Admin(cmd) => {
            init_logs(false);
            let store = store::open(&url).await?;
            admin_cli::admin(
                store,
                cmd,
                ServeConfig::with_database("").password_memory_kib,
            )
            .await?;
        }
    }
    Ok(())
}
