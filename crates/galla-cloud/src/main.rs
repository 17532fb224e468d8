//! `galla-cloud dev`: a working server for a newcomer in one command (a private PostgreSQL,
//! migrated, a development CA and certificate, keys, HTTPS on localhost). `galla-cloud serve`:
//! the production server against any PostgreSQL 15+, configured from a file and the environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use galla_cloud::clock::SystemClock;
use galla_cloud::config::{self, Config};
use galla_cloud::db::{self, APP_ROLE, DATABASE, OWNER_ROLE};
use galla_cloud::kms::FileKms;
use galla_cloud::pg_cluster::SUPERUSER;
use galla_cloud::rate_limit::{RateLimitConfig, RateLimits};
use galla_cloud::server::{self, AppState};
use galla_cloud::tlog::LogSigner;
use galla_cloud::tls::{self, DevCa};
use galla_cloud::{Db, Error, PgCluster, Result};

#[derive(Parser)]
#[command(
    name = "galla-cloud",
    about = "The cloud tenant Galla terminals sync with"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Starts a development server: its own PostgreSQL under --dir, a dev CA, keys, HTTPS on
    /// --listen.
    Dev {
        #[arg(long, default_value = "galla-cloud-dev")]
        dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// The private PostgreSQL's port (it listens on a Unix socket in --dir only).
        #[arg(long, default_value_t = 54329)]
        pg_port: u16,
    },
    /// Serves with the settings of --config (TOML) and GALLA_CLOUD_* environment variables
    /// (see docs/architecture.md, "cloud configuration").
    Serve {
        #[arg(long, env = "GALLA_CLOUD_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Creates the KMS master key and the checkpoint signing key (0600) if they are missing.
    InitKeys {
        #[arg(long)]
        kms_master_key_file: PathBuf,
        #[arg(long)]
        log_signing_key_file: PathBuf,
    },
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}

async fn run_server(
    addr: SocketAddr,
    tls: Arc<rustls::ServerConfig>,
    state: Arc<AppState>,
) -> Result<()> {
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
        stopper.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    server::serve(addr, tls, state, handle).await
}

fn state(
    db: Db,
    kms_file: &std::path::Path,
    log_key_file: &std::path::Path,
    log_name: &str,
    limits: &RateLimitConfig,
    request_timeout: Duration,
) -> Result<Arc<AppState>> {
    Ok(Arc::new(AppState {
        db,
        clock: Arc::new(SystemClock),
        kms: Arc::new(FileKms::open(kms_file)?),
        log: LogSigner::new(log_name, config::load_signing_key(log_key_file)?)?,
        limits: RateLimits::new(limits),
        request_timeout,
    }))
}

async fn dev(dir: PathBuf, listen: SocketAddr, pg_port: u16) -> Result<()> {
    std::fs::create_dir_all(&dir)?;
    let dir = dir.canonicalize()?;
    let pg_root = dir.join("postgres");
    let cluster = tokio::task::spawn_blocking(move || PgCluster::start(&pg_root, pg_port))
        .await
        .map_err(|e| Error::Setup {
            what: format!("starting PostgreSQL stopped: {e}"),
            fix: "run it again".into(),
        })??;
    db::bootstrap(&cluster.connection_string(SUPERUSER, "postgres")).await?;
    db::migrate(&cluster.connection_string(OWNER_ROLE, DATABASE)).await?;
    let db = Db::connect(&cluster.connection_string(APP_ROLE, DATABASE), 16)?;
    let ca = DevCa::ensure(&dir.join("tls"))?;
    let (kms_file, log_key_file) = (
        dir.join("keys/kms-master.key"),
        dir.join("keys/log-signing.key"),
    );
    config::init_keys(&kms_file, &log_key_file)?;
    let state = state(
        db,
        &kms_file,
        &log_key_file,
        "galla-cloud.dev",
        &RateLimitConfig::default(),
        server::REQUEST_TIMEOUT,
    )?;
    println!("galla-cloud (development) listening on https://{listen}");
    println!("  a terminal trusts this CA: {}", ca.ca_cert.display());
    println!(
        "  its SHA-256 fingerprint (the owner compares it with the one the till shows): {}",
        ca.fingerprint()?
    );
    println!("  checkpoints verify with: {}", state.log.verifier_key());
    println!(
        "  PostgreSQL: {}",
        cluster.connection_string(APP_ROLE, DATABASE)
    );
    println!(
        "  health: curl --cacert {} https://localhost:{}/healthz",
        ca.ca_cert.display(),
        listen.port()
    );
    println!("  a shop signs up with POST /v1/tenants (docs/sync-protocol.md)");
    println!("ready");
    run_server(listen, ca.server_config()?, state).await?;
    drop(cluster);
    Ok(())
}

async fn serve(config_file: Option<PathBuf>) -> Result<()> {
    let config = Config::load(config_file.as_deref(), |k| std::env::var(k).ok())?;
    tracing::info!(?config, "starting");
    if let Some(owner) = &config.migrate_url {
        db::migrate(owner).await?;
    }
    let db = Db::connect(&config.database_url, config.pool_size)?;
    let tls = tls::server_config(
        &std::fs::read(&config.tls_cert)?,
        &std::fs::read(&config.tls_key)?,
    )?;
    let state = state(
        db,
        &config.kms_master_key_file,
        &config.log_signing_key_file,
        &config.log_name,
        &config.rate_limits,
        Duration::from_secs(config.request_timeout_seconds),
    )?;
    run_server(config.listen, tls, state).await
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("GALLA_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Dev {
            dir,
            listen,
            pg_port,
        } => dev(dir, listen, pg_port).await,
        Cmd::Serve { config } => serve(config).await,
        Cmd::InitKeys {
            kms_master_key_file,
            log_signing_key_file,
        } => config::init_keys(&kms_master_key_file, &log_signing_key_file),
    };
    if let Err(e) = result {
        eprintln!("galla-cloud: {e}");
        std::process::exit(1);
    }
}
