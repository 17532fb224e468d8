//! The database side of tenant isolation. Migrations run as the owner role; the server logs in
//! as `galla_app`, which owns nothing and bypasses nothing, and every unit of work is one
//! transaction whose first statement sets `app.tenant_id` for that transaction only (never a
//! session-level SET, which would leak the tenant into the next user of a pooled connection).

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::{NoTls, Transaction};
use uuid::Uuid;

use crate::error::{Error, Result};

/// The role that owns the schema and runs migrations.
pub const OWNER_ROLE: &str = "galla_owner";
/// The role the server logs in as: NOSUPERUSER, NOBYPASSRLS, owns nothing.
pub const APP_ROLE: &str = "galla_app";
/// The database a private cluster creates.
pub const DATABASE: &str = "galla";

mod embedded {
    refinery::embed_migrations!("../../migrations/cloud");
}

/// Parses a connection string and refuses one that leaves this machine. The server talks to
/// PostgreSQL without TLS, which is safe only over a Unix socket or loopback: over a network a
/// passive listener would read every tenant's shared state and an active one could answer as
/// the database (issue 21). So a database elsewhere is refused with what to do, not reached in
/// the clear.
pub fn local_config(url: &str) -> Result<tokio_postgres::Config> {
    use tokio_postgres::config::Host;
    let config: tokio_postgres::Config = url.parse()?;
    // The parser has already taken a URL's IPv6 host out of its brackets.
    let loopback = |name: &str| {
        name.eq_ignore_ascii_case("localhost")
            || name
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    };
    let remote_host = config.get_hosts().iter().find_map(|h| match h {
        Host::Tcp(name) if !loopback(name) => Some(name.clone()),
        _ => None,
    });
    let remote_addr = config
        .get_hostaddrs()
        .iter()
        .find(|ip| !ip.is_loopback())
        .map(|ip| ip.to_string());
    match remote_host.or(remote_addr) {
        None => Ok(config),
        Some(host) => Err(Error::Config(format!(
            "the database URL names {host}, which is not this machine; Galla's cloud connects \
             to PostgreSQL without TLS, so it reaches only a database on a Unix socket or on \
             loopback (127.0.0.1, ::1, localhost): run PostgreSQL beside the server, or tunnel \
             to it over a channel you trust and point the URL at the tunnel's local end"
        ))),
    }
}

/// Creates the two roles and the database on a fresh cluster, as its superuser. Production
/// does this once by hand (see docs/architecture.md); `galla-cloud dev` and tests call it.
pub async fn bootstrap(superuser: &str) -> Result<()> {
    let (client, conn) = local_config(superuser)?.connect(NoTls).await?;
    tokio::spawn(conn);
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&DATABASE])
        .await?
        .is_some();
    if exists {
        return Ok(());
    }
    // One statement each: CREATE DATABASE may not share an (implicit) transaction.
    for statement in [
        format!("CREATE ROLE {OWNER_ROLE} LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB"),
        format!("CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB"),
        format!("CREATE DATABASE {DATABASE} OWNER {OWNER_ROLE}"),
    ] {
        client.batch_execute(&statement).await?;
    }
    Ok(())
}

/// Brings the schema up to date, connected as the owner role.
pub async fn migrate(owner: &str) -> Result<()> {
    let (mut client, conn) = local_config(owner)?.connect(NoTls).await?;
    tokio::spawn(conn);
    embedded::migrations::runner()
        .run_async(&mut client)
        .await
        .map_err(|e| Error::Migration(e.to_string()))?;
    Ok(())
}

/// The server's connection pool, logged in as the application role.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
}

impl Db {
    pub fn connect(app: &str, max_connections: usize) -> Result<Db> {
        let config = local_config(app)?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_connections)
            .build()
            .map_err(|e| Error::Pool(e.to_string()))?;
        Ok(Db { pool })
    }

    /// Whether the database answers (for readiness): one round trip on a pooled connection.
    pub async fn ping(&self) -> Result<()> {
        let client = self
            .pool
            .get()
            .await
            .map_err(|e| Error::Pool(e.to_string()))?;
        client.execute("SELECT 1", &[]).await?;
        Ok(())
    }

    /// Runs `work` in one transaction scoped to `tenant`: the transaction's first statement is
    /// `select set_config('app.tenant_id', $1, true)`, so row-level security shows and accepts
    /// only that tenant's rows, and the setting ends with the transaction. Commits when `work`
    /// succeeds, rolls back otherwise.
    pub async fn in_tenant<T>(
        &self,
        tenant: Uuid,
        work: impl AsyncFnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        self.tenant_tx(tenant, work).await
    }

    /// `in_tenant` for work with an error type of its own (an API refusal, say).
    pub async fn tenant_tx<T, E: From<Error>>(
        &self,
        tenant: Uuid,
        work: impl AsyncFnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.transaction(Some(tenant), work).await
    }

    /// A transaction with no tenant set: every tenant table shows and accepts nothing. Only for
    /// the one routing table (`enrollment_route`), which maps a live code to its tenant.
    pub async fn untenanted_tx<T, E: From<Error>>(
        &self,
        work: impl AsyncFnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.transaction(None, work).await
    }

    async fn transaction<T, E: From<Error>>(
        &self,
        tenant: Option<Uuid>,
        work: impl AsyncFnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut client = self
            .pool
            .get()
            .await
            .map_err(|e| Error::Pool(e.to_string()))?;
        let tx = client.transaction().await.map_err(Error::from)?;
        if let Some(tenant) = tenant {
            tx.execute(
                "SELECT set_config('app.tenant_id', $1, true)",
                &[&tenant.to_string()],
            )
            .await
            .map_err(Error::from)?;
        }
        let out = work(&tx).await?;
        tx.commit().await.map_err(Error::from)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_on_this_machine_is_reached() {
        for url in [
            "host=/run/postgresql user=galla_app dbname=galla",
            "postgresql://galla_app@localhost/galla",
            "postgresql://galla_app@127.0.0.1:5433/galla",
            "postgresql://galla_app@[::1]/galla",
            "postgresql://galla_app@%2Ftmp%2Fpg/galla",
            "host=localhost hostaddr=127.0.0.1 user=galla_app",
        ] {
            assert!(local_config(url).is_ok(), "{url} is local");
        }
    }

    #[test]
    fn a_database_elsewhere_is_refused_without_quoting_the_password() {
        for (url, host) in [
            (
                "postgresql://galla_app:hunter2@db.example.com/galla",
                "db.example.com",
            ),
            (
                "postgresql://galla_app:hunter2@10.0.0.7:5432/galla",
                "10.0.0.7",
            ),
            (
                "host=localhost,db.internal user=galla_app password=hunter2",
                "db.internal",
            ),
            (
                "host=localhost hostaddr=192.0.2.1 password=hunter2",
                "192.0.2.1",
            ),
        ] {
            let message = local_config(url).unwrap_err().to_string();
            assert!(message.contains(host), "{message}");
            assert!(message.contains("without TLS"), "{message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
    }
}
