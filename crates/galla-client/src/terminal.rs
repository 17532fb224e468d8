//! The facade the desktop app and the CLI both call: set up a shop, open it, and run the
//! engine's operations against the encrypted store. Every operation is a one-line delegation
//! to the engine with an operation value from its feature's module (`ops` names them all);
//! nothing here reads or writes a table.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use galla_domain::{Override, Role};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

use crate::audit::{self, AuditPage, AuditQuery, AuditReport};
use crate::catalogue::{self, ImportReport, NewProduct, Product};
use crate::clock::Clock;
use crate::credit_notes::{self, CreditNote, NewCreditNote, Settlement};
use crate::crypto::{self, ColumnCipher, SecretKey, SecretString};
use crate::customers::{self, CustomerChanges, CustomerView, NewCustomer};
use crate::day_close::{self, DayReport};
use crate::engine::session::{
    SecondFactor, SecondFactorSetup, SessionInfo, SessionToken, SignedIn,
};
use crate::engine::{self, Engine, Env, Founder, Record};
use crate::error::{Error, InputError, Result, required};
use crate::invoices::{self, Invoice, InvoiceSummary};
use crate::keychain::{MemoryKeychain, SecretStore};
use crate::keys::TerminalKeys;
use crate::ledger::{self, LedgerPayment, Statement};
use crate::ops::Op;
use crate::policy::{self, ShopPolicy};
use crate::receipt::{PrintReceipt, Receipt};
use crate::sale::{
    self, Cart, FinalizeRequest, NewCartLine, ProductRef, Quote, SaleTerms, SaleView,
};
use crate::seats::admin::{self, NewSecret, NewSupportSeat, SeatToAdd};
use crate::seats::{self, NewSeat, RosterEntry, SeatDetails, SecretKind, SecurityEvent};
use crate::secret_hash;
use crate::shop::{self, ShopDetails, ShopSettings};
use crate::store::{self, Store};

pub const DB_FILE: &str = "galla.db";
pub const INSTALL_FILE: &str = "install.json";
pub const PURPOSE_PII: &str = "pii";
pub const PURPOSE_BLIND: &str = "blind-index";

/// The folder holding one terminal's database and its (non-secret) install id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct InstallFile {
    format: u32,
    install_id: Uuid,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataDir { root: root.into() }
    }

    /// The per-user default: `~/.local/share/galla` on Linux, the platform's equivalent elsewhere.
    pub fn default_for_user() -> Result<Self> {
        directories::ProjectDirs::from("in", "Galla", "galla")
            .map(|d| DataDir::new(d.data_dir()))
            .ok_or_else(|| {
                Error::Io(std::io::Error::other(
                    "no home directory to keep Galla's data in; pass --data-dir",
                ))
            })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn db_path(&self) -> PathBuf {
        self.root.join(DB_FILE)
    }

    fn install_path(&self) -> PathBuf {
        self.root.join(INSTALL_FILE)
    }

    /// The install id, which names this terminal's keychain entries.
    pub fn install_id(&self) -> Result<Option<Uuid>> {
        match std::fs::read(self.install_path()) {
            Ok(bytes) => {
                let f: InstallFile =
                    serde_json::from_slice(&bytes).map_err(|e| Error::DatabaseDamaged {
                        detail: format!("{} is unreadable ({e})", self.install_path().display()),
                    })?;
                Ok(Some(f.install_id))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) fn create(&self) -> Result<()> {
        std::fs::create_dir_all(&self.root)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.root, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }

    /// This folder's install id, made and written now if it has none yet.
    pub(crate) fn install_id_or_new(&self) -> Result<Uuid> {
        if let Some(existing) = self.install_id()? {
            return Ok(existing);
        }
        let new = Uuid::now_v7();
        self.write_install(new)?;
        Ok(new)
    }

    fn write_install(&self, install_id: Uuid) -> Result<()> {
        let tmp = self.root.join(format!("{INSTALL_FILE}.tmp"));
        let body = serde_json::to_vec_pretty(&InstallFile {
            format: 1,
            install_id,
        })
        .map_err(|_| Error::Internal("encoding the install file"))?;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&body)?;
        f.sync_all()?;
        std::fs::rename(&tmp, self.install_path())?;
        Ok(())
    }

    pub(crate) fn unfinished_db_path(&self) -> PathBuf {
        self.root.join(format!("{DB_FILE}.new"))
    }

    /// Removes what an interrupted or failed init left behind (never `galla.db` itself).
    pub(crate) fn remove_unfinished(&self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(self.root.join(format!("{DB_FILE}.new{suffix}")));
        }
    }

    /// Closes the finished `galla.db.new` (its WAL checkpointed into the file) and makes it
    /// `galla.db`, durably: until this rename there is no shop here, after it a whole one.
    pub(crate) fn put_in_place(&self, finished: Store) -> Result<()> {
        drop(finished);
        std::fs::rename(self.unfinished_db_path(), self.db_path())?;
        sync_dir(self.root())
    }
}

/// Makes a rename in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// What the first-run screen or `galla-cli init` asks for.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewShop {
    pub shop_name: String,
    pub gstin: Option<String>,
    pub state_code: Option<u8>,
    pub owner_name: String,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub owner_passphrase: SecretString,
    pub terminal_name: String,
    pub series_code: String,
}

/// What the status bar shows.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Status {
    pub shop_name: String,
    pub terminal_name: String,
    pub series_code: String,
    pub tenant_id: Uuid,
    pub device_id: Uuid,
    pub schema_version: i64,
    pub supported_schema_version: i64,
    pub keychain_backend: String,
    pub audit_records: u64,
    pub data_dir: String,
    pub sync: SyncState,
    pub recovery_kit: RecoveryKitState,
}

/// Whether the owner made a recovery kit for this terminal, and whether its file is still in
/// the data folder (a kit made and then deleted cannot recover anything).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RecoveryKitState {
    pub made_at_ms: Option<i64>,
    pub on_disk: bool,
}

/// What the sync status area shows. A standalone shop keeps every change in its outbox, in
/// order, ready for the day it links to a cloud tenant.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncState {
    /// Linked to a cloud tenant; false for a standalone shop.
    pub linked: bool,
    /// The tenant server, when linked.
    pub server_url: Option<String>,
    /// The last contact succeeded (false before the first, or after a failure).
    pub online: bool,
    /// Changes not yet acknowledged by the server.
    pub queued_operations: u64,
    /// When the oldest of them was made (Unix ms).
    pub oldest_queued_at_ms: Option<i64>,
    pub last_attempt_ms: Option<i64>,
    pub last_success_ms: Option<i64>,
    /// Why the last attempt failed, in words for the shop.
    pub last_error: Option<String>,
    /// `active`, or `revoked` / `quarantined` as the server last said.
    pub standing: String,
    /// Alarms about the cloud's log (rewritten, forged, a record missing): the owner must look.
    pub alarms: u64,
    /// The size of the cloud log's newest checkpoint this terminal verified.
    pub checkpoint_size: u64,
}

/// An open terminal: its engine (store, keys, column cipher, live sessions) and its folder.
pub struct Terminal {
    engine: Engine,
    dir: DataDir,
    install_id: Uuid,
    terminal_name: String,
    keychain_backend: String,
}

impl std::fmt::Debug for Terminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminal")
            .field("dir", &self.dir)
            .field("tenant_id", &self.tenant_id())
            .field("device_id", &self.device_id())
            .finish_non_exhaustive()
    }
}

/// A terminal's invoice-series prefix: 1-4 letters or digits, starting with a letter, so that
/// `A1/25-26/000123` style numbers stay within GST's 16 characters (CGST Rule 46(b)).
fn series_code(value: &str) -> Result<String, InputError> {
    let v = value.trim().to_ascii_uppercase();
    let ok = (1..=4).contains(&v.len())
        && v.starts_with(|c: char| c.is_ascii_uppercase())
        && v.chars().all(|c| c.is_ascii_alphanumeric());
    if !ok {
        return Err(InputError::Rejected {
            field: "series_code",
            reason: "must be 1-4 letters or digits starting with a letter, like T1 or A".into(),
        });
    }
    Ok(v)
}

/// Facts about this install that shop creation records.
struct Install {
    install_id: Uuid,
    keychain_backend: String,
    encrypted: bool,
}

struct ValidShop {
    shop_name: String,
    gstin: Option<galla_domain::Gstin>,
    state_code: Option<u8>,
    owner_name: String,
    terminal_name: String,
    series_code: String,
    /// Argon2id PHC string of the owner's passphrase (the passphrase itself is not kept).
    owner_secret_hash: String,
}

impl NewShop {
    fn validate(&self) -> Result<ValidShop, InputError> {
        secret_hash::check_passphrase(self.owner_passphrase.expose())?;
        let (gstin, state_code) =
            crate::shop::registration(self.gstin.as_deref(), self.state_code)?;
        Ok(ValidShop {
            shop_name: required("shop_name", &self.shop_name, 120)?,
            gstin,
            state_code,
            owner_name: required("owner_name", &self.owner_name, 80)?,
            terminal_name: required("terminal_name", &self.terminal_name, 60)?,
            series_code: series_code(&self.series_code)?,
            owner_secret_hash: String::new(),
        })
    }
}

impl Terminal {
    /// Creates a standalone shop in `dir`: keys in the keychain, the encrypted database, the
    /// tenant, this terminal and the owner's seat. Returns the terminal and the owner's
    /// session (the owner has just chosen the passphrase).
    pub fn init(
        dir: &DataDir,
        keychain: &dyn SecretStore,
        clock: Arc<dyn Clock>,
        shop: &NewShop,
    ) -> Result<(Terminal, SessionToken)> {
        Terminal::init_with(dir, keychain, clock, shop, true)
    }

    /// [`Terminal::init`] on an unencrypted database, for the benchmark that prices SQLCipher.
    /// Everything else (keys, column encryption, signing) is identical.
    #[cfg(feature = "bench")]
    pub fn init_plaintext_for_benchmark(
        dir: &DataDir,
        keychain: &dyn SecretStore,
        clock: Arc<dyn Clock>,
        shop: &NewShop,
    ) -> Result<(Terminal, SessionToken)> {
        Terminal::init_with(dir, keychain, clock, shop, false)
    }

    /// See [`Store::set_durable_for_benchmark`].
    #[cfg(feature = "bench")]
    pub fn set_durable_for_benchmark(&self, durable: bool) -> Result<()> {
        self.engine
            .with_store(|s| s.set_durable_for_benchmark(durable))
    }

    #[cfg(feature = "bench")]
    pub fn page_counters_for_benchmark(&self) -> [i64; 3] {
        self.engine
            .with_store(|s| Ok(s.page_counters_for_benchmark()))
            .unwrap_or_default()
    }

    /// See [`Store::wal_pages_for_benchmark`].
    #[cfg(feature = "bench")]
    pub fn wal_pages_for_benchmark(&self, from: u64) -> Result<(Vec<u32>, u64)> {
        self.engine.with_store(|s| s.wal_pages_for_benchmark(from))
    }

    #[cfg(feature = "bench")]
    pub fn set_wal_autocheckpoint_for_benchmark(&self, pages: i64) -> Result<()> {
        self.engine
            .with_store(|s| s.set_wal_autocheckpoint_for_benchmark(pages))
    }

    #[cfg(feature = "bench")]
    pub fn page_owners_for_benchmark(
        &self,
        pages: &std::collections::BTreeSet<u32>,
    ) -> Result<std::collections::BTreeMap<u32, String>> {
        self.engine
            .with_store(|s| s.page_owners_for_benchmark(pages))
    }

    /// The database's size in bytes (its pages, WAL frames not yet checkpointed included).
    #[cfg(feature = "bench")]
    pub fn db_bytes_for_benchmark(&self) -> Result<u64> {
        self.engine.with_store(|s| {
            let pages: i64 = s
                .reader()
                .query_row("PRAGMA page_count", [], |r| r.get(0))?;
            Ok(pages as u64 * store::PAGE_SIZE)
        })
    }

    /// How many audit records the chain holds.
    #[cfg(feature = "bench")]
    pub fn audit_records_for_benchmark(&self) -> Result<u64> {
        self.engine.with_store(|s| {
            let n: i64 =
                s.reader()
                    .query_row("SELECT coalesce(max(seq), 0) FROM audit_log", [], |r| {
                        r.get(0)
                    })?;
            Ok(n as u64)
        })
    }

    #[cfg(feature = "bench")]
    pub fn set_cache_kib_for_benchmark(&self, kib: i64) -> Result<()> {
        self.engine
            .with_store(|s| s.set_cache_kib_for_benchmark(kib))
    }

    fn init_with(
        dir: &DataDir,
        keychain: &dyn SecretStore,
        clock: Arc<dyn Clock>,
        shop: &NewShop,
        encrypted: bool,
    ) -> Result<(Terminal, SessionToken)> {
        let mut valid = shop.validate()?;
        if dir.db_path().exists() {
            return Err(Error::AlreadyInitialised {
                data_dir: dir.root().to_path_buf(),
            });
        }
        // Hashing can fail; do it before anything touches the disk or the keychain.
        valid.owner_secret_hash = secret_hash::hash(shop.owner_passphrase.expose())?;
        dir.create()?;
        let install_id = dir.install_id_or_new()?;
        // No galla.db exists, so any keys filed for this install belong to an interrupted
        // init that never completed a database: replacing them loses nothing.
        let keys = TerminalKeys::create(keychain, install_id)?;
        let install = Install {
            install_id,
            keychain_backend: keychain.backend(),
            encrypted,
        };
        let result = Terminal::create_database(dir, keys, clock, &valid, install);
        dir.remove_unfinished();
        result
    }

    /// Builds the whole shop in `galla.db.new` and renames it into place only when complete,
    /// so `galla.db` never exists half made, whenever the process stops.
    fn create_database(
        dir: &DataDir,
        keys: TerminalKeys,
        clock: Arc<dyn Clock>,
        shop: &ValidShop,
        install: Install,
    ) -> Result<(Terminal, SessionToken)> {
        let Install {
            install_id,
            keychain_backend,
            encrypted,
        } = install;
        dir.remove_unfinished();
        let unfinished = dir.unfinished_db_path();
        let mut store = if encrypted {
            Store::create(&unfinished, &keys.db)?
        } else {
            Self::plaintext_store(&unfinished)?
        };
        let tenant_id = Uuid::now_v7();
        let device_id = Uuid::now_v7();
        let owner_id = Uuid::now_v7();
        let pii = SecretKey::random()?;
        let blind = SecretKey::random()?;
        let wrapped = [
            (
                PURPOSE_PII,
                1,
                crypto::wrap_key(&keys.wrap, tenant_id, PURPOSE_PII, 1, &pii)?,
            ),
            (
                PURPOSE_BLIND,
                1,
                crypto::wrap_key(&keys.wrap, tenant_id, PURPOSE_BLIND, 1, &blind)?,
            ),
        ];
        let cipher = ColumnCipher::new(tenant_id, BTreeMap::from([(1, pii)]), blind)
            .ok_or(Error::Internal("a new shop without a data key"))?;
        let env = Env {
            tenant_id,
            device_id,
            series_code: shop.series_code.clone(),
            cipher,
            rates: galla_domain::RateSchedule::bundled(),
            clock,
            device_public: keys.device_public(),
        };
        engine::found(
            &mut store,
            &env,
            &keys.device,
            Founder::Owner(owner_id),
            Record::new("shop.create", "tenant", tenant_id),
            |cx| {
                crate::shop::insert_tenant(
                    cx,
                    &shop.shop_name,
                    shop.gstin.as_ref(),
                    shop.state_code,
                )?;
                crate::shop::insert_device(
                    cx,
                    &shop.terminal_name,
                    &shop.series_code,
                    keys.device_public().as_bytes(),
                )?;
                crate::seats::insert_owner(
                    cx,
                    owner_id,
                    &shop.owner_name,
                    &shop.owner_secret_hash,
                )?;
                crate::shop::insert_tenant_keys(cx, &wrapped)
            },
        )?;
        dir.put_in_place(store)?;
        let store = if encrypted {
            Store::open(&dir.db_path(), &keys.db)?
        } else {
            Self::open_plaintext_store(dir)?
        };
        let terminal = Terminal {
            engine: Engine::new(store, env, keys, shop.shop_name.clone(), false),
            dir: dir.clone(),
            install_id,
            terminal_name: shop.terminal_name.clone(),
            keychain_backend,
        };
        let token = terminal.engine.start_session(owner_id)?;
        Ok((terminal, token))
    }

    #[cfg(feature = "bench")]
    fn plaintext_store(path: &Path) -> Result<Store> {
        Store::create_plaintext(path)
    }

    #[cfg(feature = "bench")]
    fn open_plaintext_store(dir: &DataDir) -> Result<Store> {
        Store::open_plaintext(&dir.db_path())
    }

    #[cfg(not(feature = "bench"))]
    fn plaintext_store(_path: &Path) -> Result<Store> {
        Err(Error::Internal(
            "an unencrypted store exists only in benchmark builds",
        ))
    }

    #[cfg(not(feature = "bench"))]
    fn open_plaintext_store(_dir: &DataDir) -> Result<Store> {
        Err(Error::Internal(
            "an unencrypted store exists only in benchmark builds",
        ))
    }

    /// Opens the shop in `dir` with the keys from the keychain.
    pub fn open(
        dir: &DataDir,
        keychain: &dyn SecretStore,
        clock: Arc<dyn Clock>,
    ) -> Result<Terminal> {
        let not_initialised = || Error::NotInitialised {
            data_dir: dir.root().to_path_buf(),
        };
        let install_id = dir.install_id()?.ok_or_else(not_initialised)?;
        if !dir.db_path().exists() {
            return Err(not_initialised());
        }
        let keys = TerminalKeys::load(keychain, install_id)?;
        let store = Store::open(&dir.db_path(), &keys.db)?;
        let conn = store.reader();
        let tenant: Option<(String, String)> = conn
            .query_row("SELECT id, name FROM tenant LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let (tenant_id, shop_name) = tenant.ok_or_else(not_initialised)?;
        let damaged = |detail: String| Error::DatabaseDamaged { detail };
        let tenant_id = Uuid::parse_str(&tenant_id).map_err(|_| damaged("tenant id".into()))?;
        // A linked shop's database also holds the other terminals' device rows (pulled): this
        // terminal is the one whose key the keychain holds.
        type DeviceRow = (String, String, String, Option<i64>);
        let own: Option<DeviceRow> = conn
            .query_row(
                "SELECT id, name, series_code, disabled_at_ms FROM device
                 WHERE tenant_id = ? AND public_key = ?",
                rusqlite::params![tenant_id.to_string(), keys.device_public().as_bytes()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((device_id, terminal_name, series_code, disabled_at)) = own else {
            let devices: i64 = conn.query_row(
                "SELECT count(*) FROM device WHERE tenant_id = ?",
                [tenant_id.to_string()],
                |r| r.get(0),
            )?;
            return Err(damaged(if devices == 0 {
                "this terminal's device row is missing".into()
            } else {
                "the device key in the keychain is not the one this database was created with"
                    .into()
            }));
        };
        let device_id = Uuid::parse_str(&device_id).map_err(|_| damaged("device id".into()))?;
        let mut data_keys = BTreeMap::new();
        let mut blind = None;
        let mut stmt =
            conn.prepare("SELECT purpose, version, wrapped FROM tenant_key WHERE tenant_id = ?")?;
        let mut rows = stmt.query([tenant_id.to_string()])?;
        while let Some(r) = rows.next()? {
            let purpose: String = r.get(0)?;
            let version: u32 = r.get(1)?;
            let wrapped: Vec<u8> = r.get(2)?;
            let key = crypto::unwrap_key(&keys.wrap, tenant_id, &purpose, version, &wrapped).ok_or_else(|| {
                damaged(format!("tenant {purpose} key v{version} does not unwrap with this terminal's wrap key"))
            })?;
            match purpose.as_str() {
                PURPOSE_PII => {
                    data_keys.insert(version, key);
                }
                PURPOSE_BLIND => blind = Some(key),
                _ => {}
            }
        }
        drop(rows);
        drop(stmt);
        let blind =
            blind.ok_or_else(|| damaged("the tenant's blind-index key is missing".into()))?;
        let cipher = ColumnCipher::new(tenant_id, data_keys, blind)
            .ok_or_else(|| damaged("the tenant's data keys are missing".into()))?;
        let env = Env {
            tenant_id,
            device_id,
            series_code,
            cipher,
            rates: galla_domain::RateSchedule::bundled(),
            clock,
            device_public: keys.device_public(),
        };
        Ok(Terminal {
            engine: Engine::new(store, env, keys, shop_name, disabled_at.is_some()),
            dir: dir.clone(),
            install_id,
            terminal_name,
            keychain_backend: keychain.backend(),
        })
    }

    /// The engine, for the sync loop's entries (`sync`).
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The signal the sync loop waits on; every committed write rings it.
    pub fn sync_signal(&self) -> Arc<crate::signal::SyncSignal> {
        self.engine.sync_signal()
    }

    pub fn install_id(&self) -> Uuid {
        self.install_id
    }
    pub(crate) fn dir(&self) -> &DataDir {
        &self.dir
    }
    pub fn tenant_id(&self) -> Uuid {
        self.engine.env().tenant_id
    }
    pub fn device_id(&self) -> Uuid {
        self.engine.env().device_id
    }
    /// Now, by the terminal's clock (injectable; tests set it), in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.engine.env().clock.now_ms()
    }
    pub fn data_dir(&self) -> &DataDir {
        &self.dir
    }

    /// Shop, terminal, schema and keychain: public, for the lock screen ([`Op::Status`]).
    pub fn status(&self) -> Result<Status> {
        self.engine.read(|conn| self.status_in(conn))
    }

    fn status_in(&self, conn: &rusqlite::Connection) -> Result<Status> {
        let audit_records: i64 =
            conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM audit_log", [], |r| {
                r.get(0)
            })?;
        let schema_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        // Only a test's store, capped at an older schema, lacks the sync tables.
        let (link, state, alarms) = if schema_version >= crate::sync::SCHEMA_VERSION {
            let alarms: i64 =
                conn.query_row("SELECT count(*) FROM sync_alarm", [], |r| r.get(0))?;
            (
                crate::sync::load_link(conn)?,
                crate::sync::load_state(conn)?,
                alarms,
            )
        } else {
            (None, Default::default(), 0)
        };
        // Records go up in sequence order and the server says how far it holds them, so what
        // waits is the run after that: one primary-key probe for its age, since this runs
        // every second.
        let queued = (audit_records - state.server_seq as i64).max(0) as u64;
        let oldest_ms: Option<i64> = match queued {
            0 => None,
            _ => conn
                .query_row(
                    "SELECT time_ms FROM audit_log WHERE seq = ?",
                    [state.server_seq as i64 + 1],
                    |r| r.get(0),
                )
                .optional()?,
        };
        Ok(Status {
            sync: SyncState {
                linked: link.is_some(),
                server_url: link.map(|l| l.server_url),
                online: state.last_success_ms.is_some() && state.last_error.is_none(),
                queued_operations: queued,
                oldest_queued_at_ms: oldest_ms,
                last_attempt_ms: state.last_attempt_ms,
                last_success_ms: state.last_success_ms,
                last_error: state.last_error,
                standing: state.standing,
                alarms: alarms as u64,
                checkpoint_size: state.checkpoint_size,
            },
            shop_name: self.engine.shop_name(),
            terminal_name: self.terminal_name.clone(),
            series_code: self.engine.env().series_code.clone(),
            tenant_id: self.tenant_id(),
            device_id: self.device_id(),
            schema_version,
            supported_schema_version: store::supported_schema_version(),
            keychain_backend: self.keychain_backend.clone(),
            audit_records: audit_records as u64,
            data_dir: self.dir.root().display().to_string(),
            recovery_kit: RecoveryKitState {
                made_at_ms: if schema_version >= crate::recovery::SCHEMA_VERSION {
                    crate::recovery::made_at(conn, self.device_id())?
                } else {
                    None
                },
                on_disk: crate::recovery::has_kit(&self.dir),
            },
        })
    }

    // ---- Sessions (the engine's own entries)

    /// Signs a seat in at this till. A seat with two-step sign-in must give its second factor
    /// in the same call (the roster says which seats do). If the same seat has a locked
    /// session here, it is replaced and its held sale comes back to it.
    pub fn sign_in(
        &self,
        seat_id: Uuid,
        secret: &SecretString,
        second: Option<&SecondFactor>,
    ) -> Result<SignedIn> {
        self.engine.sign_in(seat_id, secret, second)
    }

    /// The same seat returns to its locked session with its secret; its held sale comes back.
    pub fn unlock(&self, token: &SessionToken, secret: &SecretString) -> Result<SessionInfo> {
        self.engine.unlock(token, secret)
    }

    /// Confirms the seat's secret again, for the sensitive acts of the next five minutes.
    pub fn reauthenticate(
        &self,
        token: &SessionToken,
        secret: &SecretString,
    ) -> Result<SessionInfo> {
        self.engine.reauthenticate(token, secret)
    }

    /// The signed-in seat and what it may do. Does not count as activity, so the UI may poll it.
    pub fn session_info(&self, token: &SessionToken) -> Result<SessionInfo> {
        self.engine.session_info(token, Op::SessionInfo)
    }

    /// The UI reports activity (a key or a click) so the session does not idle out.
    pub fn touch(&self, token: &SessionToken) -> Result<SessionInfo> {
        self.engine.session_info(token, Op::Touch)
    }

    /// Locks the screen now (stepping away, or a quick switch to another seat); the sale is held.
    pub fn lock(&self, token: &SessionToken) -> Result<()> {
        self.engine.lock_screen(token)
    }

    /// Ends the session; a sale in progress is held for later.
    pub fn sign_out(&self, token: &SessionToken) -> Result<()> {
        self.engine.sign_out(token)
    }

    /// Locks idle sessions and ends expired or revoked ones, holding their sales (the desktop
    /// calls this every second).
    pub fn lock_idle_sessions(&self) -> Result<usize> {
        self.engine.lock_idle_sessions()
    }

    /// The seat tiles of the lock screen: every seat that may sign in now.
    pub fn roster(&self) -> Result<Vec<RosterEntry>> {
        self.engine.roster()
    }

    pub fn live_sessions(&self) -> usize {
        self.engine.live_sessions()
    }

    /// Starts setting up two-step sign-in for the signed-in seat.
    pub fn begin_second_factor(&self, token: &SessionToken) -> Result<SecondFactorSetup> {
        let shop_name = self.engine.shop_name();
        self.engine
            .execute(token, seats::second_factor::BeginSecondFactor { shop_name })
    }

    /// Finishes the set-up with a code from the app; returns the recovery codes, shown once.
    pub fn confirm_second_factor(
        &self,
        token: &SessionToken,
        code: &SecretString,
    ) -> Result<Vec<SecretString>> {
        let shop_name = self.engine.shop_name();
        let code = code.clone();
        self.engine.execute(
            token,
            seats::second_factor::ConfirmSecondFactor { code, shop_name },
        )
    }

    // ---- Audit

    /// Walks the whole audit chain with this device's key from the keychain.
    pub fn verify_audit(&self, token: &SessionToken) -> Result<AuditReport> {
        self.engine.query(token, audit::VerifyAudit(None))
    }

    /// Verifies only the records after `from`, a checkpoint of an earlier walk.
    pub fn verify_audit_since(
        &self,
        token: &SessionToken,
        from: audit::Checkpoint,
    ) -> Result<AuditReport> {
        self.engine.query(token, audit::VerifyAudit(Some(from)))
    }

    /// The chain walk for `doctor`, which reports only whether it holds (no records).
    pub(crate) fn verify_audit_for_doctor(&self) -> Result<AuditReport> {
        let key = self.engine.keys().device_public();
        let (tenant, device) = (self.tenant_id(), self.device_id());
        self.engine
            .read(|conn| audit::verify(conn, key, tenant, device, None))
    }

    /// What `doctor` runs, without a session: for tests of a damaged store, where signing in
    /// (which writes) is not what is being tested. Feature `test-support` only.
    #[cfg(feature = "test-support")]
    pub fn verify_audit_unchecked(&self) -> Result<AuditReport> {
        self.verify_audit_for_doctor()
    }

    /// One page of the audit log, newest first, for the audit screen.
    pub fn audit_entries(&self, token: &SessionToken, query: &AuditQuery) -> Result<AuditPage> {
        self.engine.query(token, audit::AuditEntries(query.clone()))
    }

    /// Writes the audit log as CSV and reports whether it verified.
    pub fn export_audit_csv(&self, token: &SessionToken, out: impl Write) -> Result<AuditReport> {
        let mut out = out;
        self.engine.query(token, audit::ExportAudit(&mut out))
    }

    /// SQLCipher's page-level HMAC check plus SQLite's quick check, for `doctor`. Public like
    /// [`Op::Status`]: it names damaged pages, never their content.
    pub fn integrity_problems(&self) -> Result<Vec<String>> {
        self.engine.integrity_problems()
    }

    /// Runs a read-only query on the store, for tests and benchmarks only (feature
    /// `test-support`): the app and the CLI cannot reach it. Writes are refused.
    #[cfg(feature = "test-support")]
    pub fn with_reader<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> Result<T>) -> Result<T> {
        self.engine.read(f)
    }

    // ---- Customers

    pub fn add_customer(&self, token: &SessionToken, new: &NewCustomer) -> Result<Uuid> {
        self.engine
            .execute(token, customers::AddCustomer::new(new)?)
    }

    /// Corrects a customer: the fields given change, the rest stay (no change, no write).
    pub fn update_customer(
        &self,
        token: &SessionToken,
        customer_id: Uuid,
        changes: &CustomerChanges,
    ) -> Result<()> {
        let changes = changes.clone();
        self.engine.execute(
            token,
            customers::UpdateCustomer {
                id: customer_id,
                changes,
            },
        )
    }

    /// A customer's profile, contact details masked (for every seat: see `reveal_customer`).
    pub fn customer(&self, token: &SessionToken, customer_id: Uuid) -> Result<CustomerView> {
        self.engine
            .query(token, customers::GetCustomer(customer_id))
    }

    /// One customer's contact details in full, each look recorded.
    pub fn reveal_customer(&self, token: &SessionToken, customer_id: Uuid) -> Result<CustomerView> {
        self.engine
            .execute(token, customers::RevealCustomer(customer_id))
    }

    /// Customers with a word of their name starting with each typed word (any script).
    pub fn search_customers(
        &self,
        token: &SessionToken,
        typed: &str,
        limit: usize,
    ) -> Result<Vec<CustomerView>> {
        let typed = typed.to_owned();
        self.engine
            .query(token, customers::FindCustomers::Name { typed, limit })
    }

    /// An exact phone number (by its blind index) if it is one and someone has it, else words
    /// of the name.
    pub fn lookup_customers(
        &self,
        token: &SessionToken,
        typed: &str,
        limit: usize,
    ) -> Result<Vec<CustomerView>> {
        let typed = typed.to_owned();
        self.engine
            .query(token, customers::FindCustomers::Typed { typed, limit })
    }

    /// Exact lookup by phone number, however it is typed.
    pub fn find_customers_by_phone(
        &self,
        token: &SessionToken,
        phone: &str,
    ) -> Result<Vec<CustomerView>> {
        self.engine
            .query(token, customers::FindCustomers::phone(phone)?)
    }

    /// Exact lookup by GSTIN.
    pub fn find_customers_by_gstin(
        &self,
        token: &SessionToken,
        gstin: &str,
    ) -> Result<Vec<CustomerView>> {
        self.engine
            .query(token, customers::FindCustomers::gstin(gstin)?)
    }

    /// Every customer with PII in full, as CSV, recorded before a byte is written.
    pub fn export_customers_csv(&self, token: &SessionToken, out: impl Write) -> Result<usize> {
        let all = self.engine.execute(token, customers::ExportCustomers)?;
        customers::write_csv(&all, out)?;
        Ok(all.len())
    }

    /// Imports customers from CSV, all or nothing.
    pub fn import_customers_csv(
        &self,
        token: &SessionToken,
        input: impl std::io::Read,
    ) -> Result<ImportReport> {
        // Refused before the file is read, not after.
        self.engine.check(token, Op::ImportCustomers)?;
        let csv = customers::CustomerCsv::read(input)?;
        self.engine
            .execute(token, customers::ImportCustomers::new(csv))
    }

    /// How much udhaar a customer may run up (`None`: none without a seat allowed to exceed).
    pub fn set_credit_limit(
        &self,
        token: &SessionToken,
        customer_id: Uuid,
        limit_paise: Option<i64>,
    ) -> Result<()> {
        self.engine.execute(
            token,
            customers::SetCreditLimit::new(customer_id, limit_paise)?,
        )
    }

    // ---- Udhaar

    /// Records a payment against a customer's udhaar; answers with their statement.
    pub fn record_ledger_payment(
        &self,
        token: &SessionToken,
        customer_id: Uuid,
        payment: &LedgerPayment,
    ) -> Result<Statement> {
        self.engine.execute(
            token,
            ledger::RecordLedgerPayment::new(customer_id, payment)?,
        )
    }

    /// A customer's udhaar between two instants.
    pub fn ledger_statement(
        &self,
        token: &SessionToken,
        customer_id: Uuid,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Statement> {
        self.engine.query(
            token,
            ledger::LedgerStatement {
                customer: customer_id,
                from_ms,
                to_ms,
            },
        )
    }

    // ---- Catalogue

    pub fn add_product(&self, token: &SessionToken, new: &NewProduct) -> Result<Uuid> {
        self.engine.execute(token, catalogue::AddProduct::new(new)?)
    }

    /// Saves an edited product (every field but the stock count).
    pub fn update_product(
        &self,
        token: &SessionToken,
        id: Uuid,
        edited: &NewProduct,
    ) -> Result<()> {
        self.engine
            .execute(token, catalogue::UpdateProduct::new(id, edited)?)
    }

    /// Records a stock count (from counting the shelf), or stops counting with `None`.
    pub fn set_stock_count(
        &self,
        token: &SessionToken,
        id: Uuid,
        count: Option<i64>,
    ) -> Result<()> {
        self.engine
            .execute(token, catalogue::SetStockCount::new(id, count)?)
    }

    fn one_product(
        &self,
        token: &SessionToken,
        find: catalogue::FindProducts,
    ) -> Result<Option<Product>> {
        Ok(self.engine.query(token, find)?.pop())
    }

    /// The product a scanned or typed barcode belongs to (UPC-A and EAN-13 forms alike).
    pub fn product_by_barcode(&self, token: &SessionToken, code: &str) -> Result<Option<Product>> {
        self.one_product(token, catalogue::FindProducts::barcode(code)?)
    }

    /// A barcode when it is one (a valid check digit) and known, else a SKU.
    pub fn product_by_code(&self, token: &SessionToken, code: &str) -> Result<Option<Product>> {
        self.one_product(token, catalogue::FindProducts::Code(code.to_owned()))
    }

    pub fn product_by_id(&self, token: &SessionToken, id: Uuid) -> Result<Option<Product>> {
        self.one_product(token, catalogue::FindProducts::Id(id))
    }

    pub fn product_by_sku(&self, token: &SessionToken, sku: &str) -> Result<Option<Product>> {
        self.one_product(token, catalogue::FindProducts::Sku(sku.to_owned()))
    }

    /// The product whose barcode or SKU is exactly what was typed, first, then name matches.
    pub fn find_products(
        &self,
        token: &SessionToken,
        typed: &str,
        limit: usize,
    ) -> Result<Vec<Product>> {
        let typed = typed.to_owned();
        self.engine
            .query(token, catalogue::FindProducts::Find { typed, limit })
    }

    /// Products whose name or SKU has words starting with each typed word, best match first.
    pub fn search_products(
        &self,
        token: &SessionToken,
        typed: &str,
        limit: usize,
    ) -> Result<Vec<Product>> {
        let typed = typed.to_owned();
        self.engine
            .query(token, catalogue::FindProducts::Search { typed, limit })
    }

    /// Imports products from CSV, all or nothing.
    pub fn import_products_csv(
        &self,
        token: &SessionToken,
        input: impl std::io::Read,
    ) -> Result<ImportReport> {
        // Refused before the file is read, not after.
        self.engine.check(token, Op::ImportCatalogue)?;
        // One day's rates for the whole file, even one imported across midnight.
        let csv = catalogue::ProductCsv::read(input, &self.engine.env().rates, self.now_ms())?;
        self.engine
            .execute(token, catalogue::ImportProducts::new(csv))
    }

    // ---- Sales

    /// The session's sale, opening one if there is none.
    pub fn open_cart(&self, token: &SessionToken) -> Result<Cart> {
        self.engine.execute(token, sale::OpenCart)
    }

    /// The session's current sale, if any.
    pub fn current_cart(&self, token: &SessionToken) -> Result<Option<Cart>> {
        self.engine.query(token, sale::CurrentCart)
    }

    /// The session's sale with its price, if it has one (what the billing screen shows).
    pub fn current_sale(&self, token: &SessionToken) -> Result<Option<SaleView>> {
        self.engine.query(token, sale::CurrentSale)
    }

    /// Changes the session's sale and answers with it and its price: one call per scan.
    pub fn edit_sale(&self, token: &SessionToken, edit: &sale::SaleEdit) -> Result<SaleView> {
        use sale::{SaleEdit as E, WithQuote as Q};
        let e = &self.engine;
        match edit {
            E::RingUp { product, quantity } => {
                e.execute(token, Q(sale::RingUp::new(product, *quantity)?))
            }
            E::SetQuantity { line_id, quantity } => {
                e.execute(token, Q(sale::SetLineQuantity::new(*line_id, *quantity)?))
            }
            E::SetDiscount {
                line_id,
                discount_bp,
            } => e.execute(
                token,
                Q(sale::SetLineDiscount::new(*line_id, *discount_bp)?),
            ),
            E::SetPrice {
                line_id,
                unit_price_paise,
            } => e.execute(
                token,
                Q(sale::SetLinePrice::new(*line_id, *unit_price_paise)?),
            ),
            E::SetImeis { line_id, imeis } => {
                e.execute(token, Q(sale::SetLineImeis::new(*line_id, imeis)?))
            }
            E::RemoveLine { line_id } => e.execute(token, Q(sale::RemoveCartLine(*line_id))),
            E::SetTerms { terms } => e.execute(token, Q(sale::SetSaleTerms::new(terms)?)),
            E::Hold => e.execute(token, Q(sale::HoldCart)),
            E::Resume { cart_id } => e.execute(token, Q(sale::ResumeCart(*cart_id))),
        }
    }

    pub fn add_cart_line(&self, token: &SessionToken, line: &NewCartLine) -> Result<Cart> {
        self.engine.execute(token, sale::AddCartLine::new(line)?)
    }

    /// Rings up a catalogue product (opening a sale if there is none).
    pub fn add_product_to_cart(
        &self,
        token: &SessionToken,
        product: &ProductRef,
        quantity: u32,
    ) -> Result<Cart> {
        self.engine
            .execute(token, sale::RingUp::new(product, quantity)?)
    }

    /// Takes a line off the sale (a void, recorded).
    pub fn remove_cart_line(&self, token: &SessionToken, line_id: Uuid) -> Result<Cart> {
        self.engine.execute(token, sale::RemoveCartLine(line_id))
    }

    /// Changes a line's quantity (lowering it is a void, recorded).
    pub fn set_line_quantity(
        &self,
        token: &SessionToken,
        line_id: Uuid,
        quantity: i64,
    ) -> Result<Cart> {
        self.engine
            .execute(token, sale::SetLineQuantity::new(line_id, quantity)?)
    }

    /// A line discount in basis points, within the seat's limit (0 removes it).
    pub fn set_line_discount(
        &self,
        token: &SessionToken,
        line_id: Uuid,
        discount_bp: u32,
    ) -> Result<Cart> {
        self.engine
            .execute(token, sale::SetLineDiscount::new(line_id, discount_bp)?)
    }

    /// Sells a line at another price than the catalogue's (recorded).
    pub fn set_line_price(
        &self,
        token: &SessionToken,
        line_id: Uuid,
        unit_price_paise: i64,
    ) -> Result<Cart> {
        self.engine
            .execute(token, sale::SetLinePrice::new(line_id, unit_price_paise)?)
    }

    /// Records the IMEIs of a serialized line.
    pub fn set_line_imeis(
        &self,
        token: &SessionToken,
        line_id: Uuid,
        imeis: &[String],
    ) -> Result<Cart> {
        self.engine
            .execute(token, sale::SetLineImeis::new(line_id, imeis)?)
    }

    /// Sets the sale's customer, place of supply and bill discount.
    pub fn set_sale_terms(&self, token: &SessionToken, terms: &SaleTerms) -> Result<Cart> {
        self.engine.execute(token, sale::SetSaleTerms::new(terms)?)
    }

    /// Parks the session's sale so the till can serve the next customer.
    pub fn hold_cart(&self, token: &SessionToken) -> Result<Cart> {
        self.engine.execute(token, sale::HoldCart)
    }

    /// Takes up a held sale; the session's own open sale, if any, is held first.
    pub fn resume_cart(&self, token: &SessionToken, cart_id: Uuid) -> Result<Cart> {
        self.engine.execute(token, sale::ResumeCart(cart_id))
    }

    /// Every held sale, oldest first.
    pub fn held_carts(&self, token: &SessionToken) -> Result<Vec<Cart>> {
        self.engine.query(token, sale::HeldCarts)
    }

    /// Throws away the session's sale (what was on it stays on the record).
    pub fn discard_cart(&self, token: &SessionToken) -> Result<()> {
        self.engine.execute(token, sale::DiscardCart)
    }

    /// The session's sale priced as finalize would price it now.
    pub fn quote_cart(&self, token: &SessionToken, terms: &SaleTerms) -> Result<Quote> {
        self.engine.query(token, sale::QuoteCart(terms.clone()))
    }

    /// Finalizes the session's sale into an invoice.
    pub fn finalize(&self, token: &SessionToken, req: &FinalizeRequest) -> Result<Invoice> {
        self.engine
            .execute(token, sale::finalize::Finalize::new(req)?)
    }

    // ---- Invoices, returns, receipts, the day

    /// An invoice by its number (`T1/25-26/000123`).
    pub fn invoice_by_number(&self, token: &SessionToken, number: &str) -> Result<Invoice> {
        self.engine.query(
            token,
            invoices::InvoiceByNumber(invoices::document_number("number", number)?),
        )
    }

    /// The invoices screen's search: a number, an IMEI sold, or a customer.
    pub fn find_invoices(
        &self,
        token: &SessionToken,
        typed: &str,
        limit: usize,
    ) -> Result<Vec<InvoiceSummary>> {
        self.engine
            .query(token, invoices::FindInvoices::new(typed, limit)?)
    }

    /// Every invoice that sold this IMEI.
    pub fn invoices_by_imei(&self, token: &SessionToken, imei: &str) -> Result<Vec<Invoice>> {
        let imei = galla_domain::Imei::parse(imei).map_err(|e| InputError::Rejected {
            field: "imei",
            reason: e.to_string(),
        })?;
        self.engine.query(token, invoices::InvoicesByImei(imei))
    }

    /// Issues a credit note against an invoice of this shop.
    pub fn issue_credit_note(
        &self,
        token: &SessionToken,
        new: &NewCreditNote,
    ) -> Result<CreditNote> {
        self.engine
            .execute(token, credit_notes::IssueCreditNote::new(new)?)
    }

    /// Cancels a whole invoice nothing has been returned from (a credit note for all of it).
    pub fn cancel_invoice(
        &self,
        token: &SessionToken,
        invoice_number: &str,
        reason: &str,
        settlement: Settlement,
    ) -> Result<CreditNote> {
        self.engine.execute(
            token,
            credit_notes::CancelInvoice::new(invoice_number, reason, settlement)?,
        )
    }

    /// The receipt of invoice `number`, `columns` characters wide.
    pub fn receipt(&self, token: &SessionToken, number: &str, columns: u32) -> Result<Receipt> {
        self.engine
            .execute(token, PrintReceipt::invoice(number, columns)?)
    }

    /// The printed credit note `number`, `columns` characters wide.
    pub fn credit_note_receipt(
        &self,
        token: &SessionToken,
        number: &str,
        columns: u32,
    ) -> Result<Receipt> {
        self.engine
            .execute(token, PrintReceipt::credit_note(number, columns)?)
    }

    /// The day's report: the stored one if the day is closed, otherwise the figures so far.
    pub fn day_report(&self, token: &SessionToken, day: Date) -> Result<DayReport> {
        self.engine.query(token, day_close::GetDayReport(day))
    }

    /// Closes the day: computes the report once and stores it.
    pub fn close_day(&self, token: &SessionToken, day: Date) -> Result<DayReport> {
        self.engine.execute(token, day_close::CloseDay(day))
    }

    // ---- The shop and its seats

    pub fn shop_settings(&self, token: &SessionToken) -> Result<ShopSettings> {
        self.engine.query(token, shop::GetShopSettings)
    }

    /// Saves the shop's details. Bills already issued keep what they said.
    pub fn set_shop_settings(&self, token: &SessionToken, details: &ShopDetails) -> Result<()> {
        self.engine
            .execute(token, shop::SetShopSettings::new(details)?)
    }

    /// Disables this terminal: only seats that may enable it again stay or sign in.
    pub fn disable_terminal(&self, token: &SessionToken) -> Result<()> {
        self.engine
            .execute(token, shop::SetTerminalDisabled::<true>)
    }

    pub fn enable_terminal(&self, token: &SessionToken) -> Result<()> {
        self.engine
            .execute(token, shop::SetTerminalDisabled::<false>)
    }

    /// Adds a seat. The new seat may hold only access the adding seat holds itself.
    pub fn add_seat(&self, token: &SessionToken, new: &NewSeat) -> Result<Uuid> {
        let seat = SeatToAdd::seat(new)?;
        // Refused before the (deliberately slow) hash, and checked again after it.
        self.engine.check(token, seat.op())?;
        self.engine.execute(token, seat.with_secret(&new.secret)?)
    }

    /// Grants support access for a window: a seat whose every act is stamped `support`.
    pub fn grant_support(&self, token: &SessionToken, new: &NewSupportSeat) -> Result<Uuid> {
        let seat = SeatToAdd::support(new)?;
        self.engine.check(token, seat.op())?;
        self.engine
            .execute(token, admin::GrantSupport(seat.with_secret(&new.secret)?))
    }

    /// Replaces a seat's roles and overrides (deny wins over any grant).
    pub fn set_seat_access(
        &self,
        token: &SessionToken,
        seat_id: Uuid,
        roles: &[Role],
        overrides: &[Override],
    ) -> Result<()> {
        self.engine
            .execute(token, admin::SetSeatAccess::new(seat_id, roles, overrides)?)
    }

    /// Sets a new PIN or passphrase for a seat and clears its back-off.
    pub fn reset_seat_secret(
        &self,
        token: &SessionToken,
        seat_id: Uuid,
        kind: SecretKind,
        secret: &SecretString,
    ) -> Result<()> {
        seats::check_secret(kind, secret.expose())?;
        self.engine.check(token, Op::ResetSeatSecret)?;
        let secret = NewSecret::hash(kind, secret)?;
        self.engine.execute(
            token,
            admin::ResetSeatSecret {
                seat: seat_id,
                secret,
            },
        )
    }

    /// The signed-in seat changes its own PIN or passphrase, proving the current one.
    pub fn change_own_secret(
        &self,
        token: &SessionToken,
        current: &SecretString,
        kind: SecretKind,
        new: &SecretString,
    ) -> Result<()> {
        seats::check_secret(kind, new.expose())?;
        let seat = self.engine.prove_own_secret(token, current)?;
        let secret = NewSecret::hash(kind, new)?;
        self.engine
            .execute(token, admin::ChangeOwnSecret { seat, secret })
    }

    /// Removes a seat's second factor and recovery codes (a lost phone).
    pub fn reset_second_factor(&self, token: &SessionToken, seat_id: Uuid) -> Result<()> {
        self.engine
            .execute(token, admin::ResetSecondFactor(seat_id))
    }

    /// Revokes a seat: its sessions here end at once (a sale in progress is held).
    pub fn revoke_seat(&self, token: &SessionToken, seat_id: Uuid) -> Result<()> {
        self.engine.execute(token, admin::RevokeSeat(seat_id))
    }

    /// Ends every session of a seat, here now and elsewhere when the others sync.
    pub fn sign_out_everywhere(&self, token: &SessionToken, seat_id: Uuid) -> Result<()> {
        self.engine
            .execute(token, admin::SignOutEverywhere(seat_id))
    }

    /// Every seat, revoked ones included, for the owner's seats screen.
    pub fn seat_details(&self, token: &SessionToken) -> Result<Vec<SeatDetails>> {
        self.engine.query(token, admin::GetSeatDetails)
    }

    /// The shop's session policy as it applies now.
    pub fn policy(&self, token: &SessionToken) -> Result<ShopPolicy> {
        self.engine.query(token, policy::GetPolicy)
    }

    /// Sets idle timeouts, discount limits and which roles need a second factor.
    pub fn set_policy(&self, token: &SessionToken, policy: &ShopPolicy) -> Result<()> {
        self.engine.execute(token, policy::SetPolicy::new(policy)?)
    }

    /// Suspicious sign-ins, recovery codes used: newest first.
    pub fn security_events(&self, token: &SessionToken) -> Result<Vec<SecurityEvent>> {
        self.engine.query(token, seats::SecurityEvents)
    }

    pub fn acknowledge_security_event(&self, token: &SessionToken, event_id: Uuid) -> Result<()> {
        self.engine
            .execute(token, seats::AcknowledgeSecurityEvent(event_id))
    }

    // ---- The recovery kit

    /// Makes this terminal's recovery kit (replacing any earlier one) and returns its code, to
    /// be shown once and written down by the owner. Owner only, after a recent sign-in;
    /// audited as `recovery_kit.create`. The kit is written first as `recovery.kit.new` and
    /// put in place only once its record committed.
    pub fn create_recovery_kit(&self, token: &SessionToken) -> Result<SecretString> {
        self.engine.check(token, Op::CreateRecoveryKit)?;
        let owner = crate::recovery::KitOwner {
            install_id: self.install_id,
            tenant_id: self.tenant_id(),
            device_id: self.device_id(),
        };
        let code =
            crate::recovery::write_new_kit(&self.dir, &owner, self.engine.keys(), self.now_ms())?;
        if let Err(e) = self
            .engine
            .execute(token, crate::recovery::RecordRecoveryKit)
        {
            crate::recovery::discard_new_kit(&self.dir);
            return Err(e);
        }
        crate::recovery::put_kit_in_place(&self.dir)?;
        tracing::info!(device = %self.device_id(), "recovery kit made");
        Ok(code)
    }

    /// Puts this folder's keys back in `keychain` from its recovery kit and the owner's code,
    /// then opens the shop. The keys are proven against the database (it opens, its device
    /// row has this device key, the tenant keys unwrap) before the keychain is written, so a
    /// wrong kit never replaces anything.
    pub fn recover(
        dir: &DataDir,
        keychain: &dyn SecretStore,
        clock: Arc<dyn Clock>,
        code: &SecretString,
    ) -> Result<Terminal> {
        let (keys, owner) = crate::recovery::open_kit(dir, code)?;
        let trial = MemoryKeychain::default();
        keys.file(&trial, owner.install_id)?;
        let proven = Terminal::open(dir, &trial, clock.clone())?;
        if (proven.tenant_id(), proven.device_id()) != (owner.tenant_id, owner.device_id) {
            return Err(Error::RecoveryKitNotThisTerminal);
        }
        drop(proven);
        keys.file(keychain, owner.install_id)?;
        tracing::warn!(install = %owner.install_id, "keys restored to the keychain from the recovery kit");
        Terminal::open(dir, keychain, clock)
    }
}
