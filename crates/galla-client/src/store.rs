//! The SQLCipher database: opening it with the raw key, proving the key fits, migrating, and
//! the write gate that makes the unit of work the only code able to change a table.
//!
//! The gate is SQLite's authorizer: outside a unit of work every INSERT, UPDATE or DELETE is
//! refused at prepare time, and schema changes are refused always once migrations ran.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use galla_proto::tables::{self, Kept};
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{M, Migrations};
use zeroize::Zeroizing;

use crate::crypto::SecretKey;
use crate::error::{Error, Result};

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// SQLCipher 4's default page size; a database file is always a whole number of pages.
pub const PAGE_SIZE: u64 = 4096;

/// The newest schema version this build knows.
pub fn supported_schema_version() -> i64 {
    CLIENT_MIGRATIONS.len() as i64
}

/// Stops migrations at an older version, so a test can build a database as an earlier Galla
/// left it and prove the upgrade (feature `test-support`; 0 = no limit). Process-wide: only
/// for a test binary of its own.
#[cfg(feature = "test-support")]
pub static SCHEMA_LIMIT_FOR_TESTS: std::sync::atomic::AtomicI64 =
    std::sync::atomic::AtomicI64::new(0);

/// Schema versions whose migration rebuilds tables (`0021_lean_sale_tables.sql`).
const REBUILDING_MIGRATIONS: &[i64] = &[21];

fn schema_target() -> i64 {
    #[cfg(feature = "test-support")]
    {
        let limit = SCHEMA_LIMIT_FOR_TESTS.load(Ordering::SeqCst);
        if limit > 0 {
            return limit.min(supported_schema_version());
        }
    }
    supported_schema_version()
}

pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
    writing: Arc<AtomicBool>,
    /// Open while the sync loop records what it did (see [`Store::bookkeeping`]).
    bookkeeping: Arc<AtomicBool>,
    /// Open while the sync loop applies pulled shared state (see [`Store::apply_pulled`]).
    applying: Arc<AtomicBool>,
    /// Stamps edits of rows merged across terminals (`write::MERGED_TABLES`); resumed from the
    /// newest stamp in the store at the first write, and after every pull.
    pub(crate) hlc: Option<galla_proto::hlc::Hlc>,
    stamping: bool,
    /// Told of every committed write, so the sync loop sends it.
    pub(crate) sync_signal: Arc<crate::signal::SyncSignal>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Sets the raw SQLCipher key. The statement text holds the key, so its error is replaced by
/// a fixed message and the text is wiped.
pub(crate) fn apply_key(conn: &Connection, key: &SecretKey) -> Result<()> {
    let hex = key.to_hex();
    let sql = Zeroizing::new(format!("PRAGMA key = \"x'{}'\";", hex.as_str()));
    conn.execute_batch(&sql).map_err(|_| Error::Crypto {
        what: "SQLCipher refused the key statement",
    })
}

impl Store {
    /// Creates a new encrypted database; the file must not exist.
    pub fn create(path: &Path, key: &SecretKey) -> Result<Store> {
        Store::create_with(path, Some(key))
    }

    /// An unencrypted twin of [`Store::create`], compiled only for the benchmark that measures
    /// SQLCipher's cost against the same workload. The app and CLI cannot reach it.
    #[cfg(feature = "bench")]
    pub fn create_plaintext(path: &Path) -> Result<Store> {
        Store::create_with(path, None)
    }

    fn create_with(path: &Path, key: Option<&SecretKey>) -> Result<Store> {
        if path.exists() {
            return Err(Error::AlreadyInitialised {
                data_dir: path.parent().unwrap_or(path).to_path_buf(),
            });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        Store::finish_open(conn, path, key)
    }

    /// Opens an existing database, naming what is wrong if it cannot.
    pub fn open(path: &Path, key: &SecretKey) -> Result<Store> {
        let size = match std::fs::metadata(path) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotInitialised {
                    data_dir: path.parent().unwrap_or(path).to_path_buf(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        if size == 0 || size % PAGE_SIZE != 0 {
            return Err(Error::DatabaseTruncated {
                path: path.to_path_buf(),
                size,
            });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        Store::finish_open(conn, path, Some(key))
    }

    /// Opens the unencrypted twin made by [`Store::create_plaintext`] (benchmark only).
    #[cfg(feature = "bench")]
    pub fn open_plaintext(path: &Path) -> Result<Store> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        Store::finish_open(conn, path, None)
    }

    /// Benchmark only: prefilling a million invoices with an fsync per commit would take hours,
    /// so the bench fills with `synchronous = OFF` and measures with it back at FULL.
    #[cfg(feature = "bench")]
    pub fn set_durable_for_benchmark(&self, durable: bool) -> Result<()> {
        let mode = if durable { "FULL" } else { "OFF" };
        self.pragma_for_benchmark(&format!("PRAGMA synchronous = {mode}"))
    }

    /// Benchmark only: runs a PRAGMA the authorizer refuses at run time, with the authorizer
    /// lifted for that statement alone.
    #[cfg(feature = "bench")]
    fn pragma_for_benchmark(&self, sql: &str) -> Result<()> {
        self.conn
            .authorizer(None::<fn(AuthContext<'_>) -> Authorization>)?;
        let set = self.conn.execute_batch(sql);
        self.install_authorizer()?;
        Ok(set?)
    }

    /// Benchmark only: the writer connection's page-cache counters since the last call
    /// (hits, misses, pages written), to see where SQLCipher's per-page work goes.
    #[cfg(feature = "bench")]
    pub fn page_counters_for_benchmark(&self) -> [i64; 3] {
        use rusqlite::ffi;
        let ops = [
            ffi::SQLITE_DBSTATUS_CACHE_HIT,
            ffi::SQLITE_DBSTATUS_CACHE_MISS,
            ffi::SQLITE_DBSTATUS_CACHE_WRITE,
        ];
        ops.map(|op| {
            let (mut cur, mut hi) = (0, 0);
            // SAFETY: the handle is this store's open connection, used from its own thread.
            unsafe { ffi::sqlite3_db_status(self.conn.handle(), op, &mut cur, &mut hi, 1) };
            i64::from(cur)
        })
    }

    /// Benchmark only: the database pages written to the WAL from byte `from` on, and the
    /// WAL's length now. A WAL frame's header (page number, commit size, salts, checksums) is
    /// not encrypted, only the page, so this reads the same on both stores. Checkpoints must
    /// be off while it is used ([`Store::set_wal_autocheckpoint_for_benchmark`]), or the WAL
    /// restarts under the reader.
    #[cfg(feature = "bench")]
    pub fn wal_pages_for_benchmark(&self, from: u64) -> Result<(Vec<u32>, u64)> {
        const HEADER: u64 = 32;
        const FRAME_HEADER: u64 = 24;
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        let len = std::fs::metadata(&wal)?.len();
        if from >= len {
            return Ok((Vec::new(), len));
        }
        let bytes = std::fs::read(&wal)?;
        let len = bytes.len() as u64;
        let frame = FRAME_HEADER + PAGE_SIZE;
        let mut at = from.max(HEADER);
        let mut pages = Vec::new();
        while at + frame <= len {
            let h = &bytes[at as usize..at as usize + 4];
            pages.push(u32::from_be_bytes([h[0], h[1], h[2], h[3]]));
            at += frame;
        }
        Ok((pages, len))
    }

    /// Benchmark only: `PRAGMA wal_autocheckpoint` (0 = never), to read frames as written. The
    /// WAL is checkpointed and emptied first, so the next commit's frames start the file (a
    /// writer otherwise restarts a checkpointed WAL from its beginning, under the reader).
    #[cfg(feature = "bench")]
    pub fn set_wal_autocheckpoint_for_benchmark(&self, pages: i64) -> Result<()> {
        self.pragma_for_benchmark("PRAGMA wal_checkpoint(TRUNCATE)")?;
        self.pragma_for_benchmark(&format!("PRAGMA wal_autocheckpoint = {pages}"))
    }

    /// Benchmark only: which b-tree (table or index, by name) each of `pages` belongs to, from
    /// the `dbstat` table, with `(overflow)` for a record's overflow pages. A page not found
    /// (freed, or the header page) is named by its number.
    #[cfg(feature = "bench")]
    pub fn page_owners_for_benchmark(
        &self,
        pages: &std::collections::BTreeSet<u32>,
    ) -> Result<std::collections::BTreeMap<u32, String>> {
        self.conn
            .authorizer(None::<fn(AuthContext<'_>) -> Authorization>)?;
        let found = (|| -> rusqlite::Result<Vec<(u32, String)>> {
            let mut stmt = self
                .conn
                .prepare("SELECT pageno, name, pagetype FROM dbstat")?;
            let rows = stmt.query_map([], |r| {
                let kind: String = r.get(2)?;
                let name: String = r.get(1)?;
                let name = if kind == "overflow" {
                    format!("{name} (overflow)")
                } else {
                    name
                };
                Ok((r.get::<_, u32>(0)?, name))
            })?;
            rows.collect()
        })();
        self.install_authorizer()?;
        let mut owners: std::collections::BTreeMap<u32, String> = found?
            .into_iter()
            .filter(|(p, _)| pages.contains(p))
            .collect();
        for p in pages {
            owners
                .entry(*p)
                .or_insert_with(|| format!("page {p} (header or free)"));
        }
        Ok(owners)
    }

    /// Benchmark only: sets the page cache size (KiB) to compare settings in one build.
    #[cfg(feature = "bench")]
    pub fn set_cache_kib_for_benchmark(&self, kib: i64) -> Result<()> {
        self.pragma_for_benchmark(&format!("PRAGMA cache_size = -{kib}"))
    }

    fn finish_open(mut conn: Connection, path: &Path, key: Option<&SecretKey>) -> Result<Store> {
        if let Some(key) = key {
            apply_key(&conn, key)?;
        }
        // The first read proves the key: SQLCipher checks page 1's HMAC here.
        let probe: rusqlite::Result<i64> =
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0));
        match probe {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ffi::ErrorCode::NotADatabase =>
            {
                return Err(Error::KeyDoesNotOpenDatabase {
                    path: path.to_path_buf(),
                });
            }
            Err(e) => return Err(e.into()),
        }
        // WAL + FULL: a commit the app acknowledged is on disk before the call returns.
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Storage(format!(
                "could not switch to WAL journaling (got {mode})"
            )));
        }
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA trusted_schema = OFF;
             PRAGMA cell_size_check = ON;",
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // rusqlite keeps 16 prepared statements by default; billing alone uses more than that,
        // and re-parsing on every call cost a tenth of a finalize (profiled).
        conn.set_prepared_statement_cache_capacity(256);

        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let supported = supported_schema_version();
        if found > supported {
            return Err(Error::DatabaseTooNew { found, supported });
        }
        let target = schema_target();
        if found < target {
            let migrations = Migrations::new(
                CLIENT_MIGRATIONS
                    .iter()
                    .enumerate()
                    .map(
                        |(i, sql)| match REBUILDING_MIGRATIONS.contains(&(i as i64 + 1)) {
                            true => M::up(sql).foreign_key_check(),
                            false => M::up(sql),
                        },
                    )
                    .collect(),
            );
            // A migration that rebuilds a table (create the new one, copy, drop the old, rename)
            // must run with foreign keys off: dropping a parent would otherwise fail. The pragma
            // cannot change inside the migrations' transaction, so it is off around it, and a
            // rebuilding migration checks every foreign key before the upgrade commits.
            conn.execute_batch("PRAGMA foreign_keys = OFF")?;
            let migrated = migrations.to_version(&mut conn, target as usize);
            conn.execute_batch("PRAGMA foreign_keys = ON")?;
            migrated?;
        }

        let store = Store {
            conn,
            path: path.to_path_buf(),
            writing: Arc::new(AtomicBool::new(false)),
            bookkeeping: Arc::new(AtomicBool::new(false)),
            applying: Arc::new(AtomicBool::new(false)),
            hlc: None,
            stamping: target.max(found) >= 13,
            sync_signal: Arc::default(),
        };
        store.install_authorizer()?;
        Ok(store)
    }

    fn install_authorizer(&self) -> Result<()> {
        let (writing, bookkeeping, applying) = (
            self.writing.clone(),
            self.bookkeeping.clone(),
            self.applying.clone(),
        );
        self.conn.authorizer(Some(move |ctx: AuthContext<'_>| {
            authorize(&writing, &bookkeeping, &applying, &ctx)
        }))?;
        Ok(())
    }

    /// Runs `f` in one transaction that may write only the sync loop's own records: its
    /// state, its alarms, and which outbox entries the server acknowledged. Everything else
    /// stays refused, so this is no second way to change shop data (DESIGN.md invariant 1),
    /// and a sync does not make a new audit record (which would be one more thing to sync).
    pub(crate) fn bookkeeping<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        self.bookkeeping.store(true, Ordering::SeqCst);
        let _closed_after = WriteGate(self.bookkeeping.clone());
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` in one transaction that may write the shop's shared tables as the cloud has
    /// them, and the pull's own bookkeeping, but never this terminal's own records: its audit
    /// chain and outbox, its keys, its series counters, its carts, its sign-in guards. Pulled
    /// rows are other terminals' audited operations (in their chains, and the cloud's log); so
    /// applying them is not an operation of this terminal and makes no record of its own.
    /// Foreign keys are checked at commit, since a whole feed lands at once.
    pub(crate) fn apply_pulled<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        self.applying.store(true, Ordering::SeqCst);
        let _closed_after = WriteGate(self.applying.clone());
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch("PRAGMA defer_foreign_keys = ON")?;
        let out = f(&tx)?;
        tx.commit()?;
        // The clock resumes from the newest stamp, pulled ones included.
        self.hlc = None;
        Ok(out)
    }

    /// Whether the schema has the merged tables' `hlc` columns (13 on).
    pub(crate) fn stamps_merged_rows(&self) -> bool {
        self.stamping
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// The connection for reading. Writes through it are refused by the authorizer.
    pub fn reader(&self) -> &Connection {
        &self.conn
    }

    /// Opens the write gate for the lifetime of the returned guard (used by the unit of work).
    pub(crate) fn open_gate(&self) -> WriteGate {
        self.writing.store(true, Ordering::SeqCst);
        WriteGate(self.writing.clone())
    }
}

pub(crate) struct WriteGate(Arc<AtomicBool>);

impl Drop for WriteGate {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// PRAGMAs that may set a value at run time; all others may only be read.
/// (`table_info` only reads, with an argument; `defer_foreign_keys` lasts one transaction.)
const SETTABLE_PRAGMAS: &[&str] = &[
    "wal_checkpoint",
    "optimize",
    "table_info",
    "defer_foreign_keys",
];

/// Tables only the sync loop's bookkeeping writes (besides `outbox.sent_at_ms`): the registry's
/// `Kept::Bookkeeping` ones.
fn is_bookkeeping_table(table: &str) -> bool {
    tables::terminal_only(table).is_some_and(|t| matches!(t.kept, Kept::Bookkeeping { .. }))
}

/// Applying pulled state writes shared tables, the search indexes their triggers keep and the
/// pull's own bookkeeping; never this terminal's own records and secrets (the registry's
/// `tables::pull_may_write`).
fn is_applying(action: &AuthAction<'_>) -> bool {
    match *action {
        AuthAction::Insert { table_name }
        | AuthAction::Delete { table_name }
        | AuthAction::Update { table_name, .. } => tables::pull_may_write(table_name),
        _ => false,
    }
}

fn is_bookkeeping(action: &AuthAction<'_>) -> bool {
    match *action {
        AuthAction::Delete { table_name } => table_name == "pull_inbox",
        AuthAction::Insert { table_name } => is_bookkeeping_table(table_name),
        AuthAction::Update {
            table_name,
            column_name,
        } => {
            (table_name == "sync_state") || (table_name == "outbox" && column_name == "sent_at_ms")
        }
        _ => false,
    }
}

fn authorize(
    writing: &AtomicBool,
    bookkeeping: &AtomicBool,
    applying: &AtomicBool,
    ctx: &AuthContext<'_>,
) -> Authorization {
    use AuthAction as A;
    match ctx.action {
        A::Insert { .. } | A::Update { .. } | A::Delete { .. } => {
            if writing.load(Ordering::SeqCst)
                || (bookkeeping.load(Ordering::SeqCst) && is_bookkeeping(&ctx.action))
                || (applying.load(Ordering::SeqCst) && is_applying(&ctx.action))
            {
                Authorization::Allow
            } else {
                Authorization::Deny
            }
        }
        A::Pragma {
            pragma_name,
            pragma_value,
        } => {
            if pragma_value.is_none()
                || SETTABLE_PRAGMAS
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(pragma_name))
            {
                Authorization::Allow
            } else {
                Authorization::Deny
            }
        }
        A::CreateIndex { .. }
        | A::CreateTable { .. }
        | A::CreateTrigger { .. }
        | A::CreateView { .. }
        | A::CreateTempIndex { .. }
        | A::CreateTempTable { .. }
        | A::CreateTempTrigger { .. }
        | A::CreateTempView { .. }
        | A::CreateVtable { .. }
        | A::DropIndex { .. }
        | A::DropTable { .. }
        | A::DropTrigger { .. }
        | A::DropView { .. }
        | A::DropTempIndex { .. }
        | A::DropTempTable { .. }
        | A::DropTempTrigger { .. }
        | A::DropTempView { .. }
        | A::DropVtable { .. }
        | A::AlterTable { .. }
        | A::Attach { .. }
        | A::Detach { .. }
        | A::Reindex { .. } => Authorization::Deny,
        _ => Authorization::Allow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::random().unwrap();
        let store = Store::create(&dir.path().join("t.db"), &key).unwrap();
        (dir, store)
    }

    /// The sync loop's bookkeeping gate opens its own tables and `outbox.sent_at_ms`, and
    /// nothing else: it is not a second way to change shop data.
    #[test]
    fn bookkeeping_writes_only_the_sync_records() {
        let (_dir, mut store) = store();
        store
            .bookkeeping(|tx| {
                tx.execute("UPDATE sync_state SET last_error = 'x' WHERE id = 1", [])?;
                tx.execute(
                    "INSERT INTO sync_alarm (kind, detail, evidence, raised_at_ms)
                     VALUES ('bad_checkpoint', 'd', 'e', 1)",
                    [],
                )?;
                tx.execute("UPDATE outbox SET sent_at_ms = 1 WHERE seq = 1", [])?;
                Ok(())
            })
            .unwrap();
        for sql in [
            "INSERT INTO tenant (id, name, created_at_ms) VALUES ('t', 'n', 1)",
            "UPDATE outbox SET payload = x'00' WHERE seq = 1",
            "DELETE FROM outbox WHERE seq = 1",
            "UPDATE audit_log SET role = 'x'",
            "INSERT INTO cloud_link (id, server_url, ca_pem, log_origin, log_vkey, linked_at_ms)
             VALUES (1, 'https://x', 'pem', 'o', 'v', 1)",
        ] {
            let refused = store.bookkeeping(|tx| Ok(tx.execute(sql, [])?));
            assert!(refused.is_err(), "bookkeeping ran: {sql}");
        }
        // Closed again afterwards: not even the sync tables outside it.
        assert!(
            store
                .conn
                .execute("UPDATE sync_state SET last_error = NULL", [])
                .is_err()
        );
    }

    /// Issue 21, deliver 6: every table a migration makes is named in the table registry
    /// (`galla_proto::tables`), as shared or as this terminal's own, exactly once; and every
    /// table the registry names exists. A migration that adds a table fails here until the
    /// registry says how it is shared.
    #[test]
    fn every_table_of_a_fresh_store_is_in_the_registry() {
        let (_dir, store) = store();
        let names: Vec<String> = store
            .conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let unnamed: Vec<&String> = names
            .iter()
            .filter(|n| tables::shared(n).is_some() == tables::terminal_only(n).is_some())
            .collect();
        assert!(
            unnamed.is_empty(),
            "not named exactly once in galla_proto::tables: {unnamed:?}"
        );
        let registered = tables::SHARED_TABLES
            .iter()
            .map(|t| t.name)
            .chain(tables::TERMINAL_TABLES.iter().map(|t| t.name));
        for name in registered {
            assert!(
                names.iter().any(|n| n == name),
                "the registry names {name}, the store has none"
            );
        }
    }
}
