//! `galla-cloud dev`: a working server for a newcomer in one command (a private PostgreSQL,
//! migrated, a development CA and certificate, HTTPS on localhost). `galla-cloud serve`: the
//! production server against any PostgreSQL 15+, configured from the environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use galla_cloud::db::{self, APP_ROLE, DATABASE, OWNER_ROLE};
use galla_cloud::pg_cluster::SUPERUSER;
use galla_cloud::server::{self, AppState};
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
    /// Starts a development server: its own PostgreSQL under --dir, a dev CA, HTTPS on --listen.
    Dev {
        #[arg(long, default_value = "galla-cloud-dev")]
        dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// The private PostgreSQL's port (it listens on a Unix socket in --dir only).
        #[arg(long, default_value_t = 54329)]
        pg_port: u16,
    },
    /// Serves against the PostgreSQL given by the environment: GALLA_CLOUD_DATABASE_URL (as
    /// galla_app), GALLA_CLOUD_MIGRATE_URL (as galla_owner; optional), GALLA_CLOUD_LISTEN,
    /// GALLA_CLOUD_TLS_CERT and GALLA_CLOUD_TLS_KEY (PEM files).
    Serve,
}

fn env(name: &str) -> Result<String> {
    std::env::var(name).map_err(|_| Error::Setup {
        what: format!("{name} is not set"),
        fix: "see `galla-cloud serve --help` for the settings it reads".into(),
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}

async fn run_server(addr: SocketAddr, tls: Arc<rustls::ServerConfig>, db: Db) -> Result<()> {
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
        stopper.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    server::serve(addr, tls, Arc::new(AppState { db }), handle).await
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
    println!("galla-cloud (development) listening on https://{listen}");
    println!("  a terminal trusts this CA: {}", ca.ca_cert.display());
    println!(
        "  PostgreSQL: {}",
        cluster.connection_string(APP_ROLE, DATABASE)
    );
    println!(
        "  health: curl --cacert {} https://localhost:{}/healthz",
        ca.ca_cert.display(),
        listen.port()
    );
    println!("ready");
    run_server(listen, ca.server_config()?, db).await?;
    drop(cluster);
    Ok(())
}

async fn serve() -> Result<()> {
    if let Ok(owner) = std::env::var("GALLA_CLOUD_MIGRATE_URL") {
        db::migrate(&owner).await?;
    }
    let db = Db::connect(&env("GALLA_CLOUD_DATABASE_URL")?, 32)?;
    let listen: SocketAddr = env("GALLA_CLOUD_LISTEN")?
        .parse()
        .map_err(|_| Error::Setup {
            what: "GALLA_CLOUD_LISTEN is not an address".into(),
            fix: "use host:port, e.g. 0.0.0.0:443".into(),
        })?;
    let config = tls::server_config(
        &std::fs::read(env("GALLA_CLOUD_TLS_CERT")?)?,
        &std::fs::read(env("GALLA_CLOUD_TLS_KEY")?)?,
    )?;
    run_server(listen, config, db).await
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
        Cmd::Serve => serve().await,
    };
    if let Err(e) = result {
        eprintln!("galla-cloud: {e}");
        std::process::exit(1);
    }
}
