//! The facade the desktop app and the CLI both call: set up a shop, open it, and run the
//! engine's operations against the encrypted store.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use galla_domain::Role;
use rusqlite::OptionalExtension;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::audit::{self, AuditPage, AuditQuery, AuditReport};
use crate::clock::Clock;
use crate::crypto::{self, ColumnCipher, SecretKey, SecretString};
use crate::customers::{self, Customer, CustomerView, NewCustomer};
use crate::error::{Error, InputError, Result, required};
use crate::keychain::SecretStore;
use crate::keys::TerminalKeys;
use crate::ops::Op;
use crate::secret_hash;
use crate::sessions::{SessionToken, Sessions};
use crate::store::{self, Store};
use crate::write::{Actor, Field, Operation, Signer, UnitOfWork};

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
        .map_err(|e| Error::Storage(e.to_string()))?;
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

/// This terminal's own `device` row, as creating a shop and enrolling both write it.
pub(crate) fn insert_device(
    uow: &mut UnitOfWork<'_>,
    tenant_id: Uuid,
    device_id: Uuid,
    name: &str,
    series_code: &str,
    public_key: &[u8; 32],
    now_ms: i64,
) -> Result<()> {
    uow.insert(
        "device",
        &device_id.to_string(),
        &[
            ("id", id(device_id)),
            ("tenant_id", id(tenant_id)),
            ("name", Value::Text(name.to_owned())),
            ("series_code", Value::Text(series_code.to_owned())),
            ("public_key", Value::Blob(public_key.to_vec())),
            ("created_at_ms", Value::Integer(now_ms)),
        ],
    )
}

/// The tenant's keys as this terminal keeps them, each wrapped under its own wrap key:
/// `(purpose, version, wrapped)`.
pub(crate) fn insert_tenant_keys(
    uow: &mut UnitOfWork<'_>,
    tenant_id: Uuid,
    wrapped: &[(&str, u32, Vec<u8>)],
    now_ms: i64,
) -> Result<()> {
    for (purpose, version, blob) in wrapped {
        let fields: [Field; 5] = [
            ("tenant_id", id(tenant_id)),
            ("purpose", Value::Text((*purpose).into())),
            ("version", Value::Integer((*version).into())),
            ("wrapped", Value::Blob(blob.clone())),
            ("created_at_ms", Value::Integer(now_ms)),
        ];
        uow.insert(
            "tenant_key",
            &format!("{tenant_id}/{purpose}/{version}"),
            &fields,
        )?;
    }
    Ok(())
}

fn pragma_rows(conn: &rusqlite::Connection, pragma: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(pragma)?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
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

/// An open terminal: the store, its keys, the tenant's column cipher and the live sessions.
pub struct Terminal {
    store: Mutex<Store>,
    pub(crate) keys: TerminalKeys,
    pub(crate) cipher: ColumnCipher,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) sessions: Mutex<Sessions>,
    /// Mirrors `device.disabled_at_ms`, read on every call.
    pub(crate) disabled: AtomicBool,
    /// Set when the owner's wipe erased this terminal's keys: nothing more is served.
    pub(crate) wiped: AtomicBool,
    dir: DataDir,
    install_id: Uuid,
    pub(crate) tenant_id: Uuid,
    pub(crate) device_id: Uuid,
    /// Refreshed when the owner renames the shop (status, TOTP labels).
    pub(crate) shop_name: std::sync::RwLock<String>,
    terminal_name: String,
    pub(crate) series_code: String,
    /// GST rates by HSN and date (`galla-domain/data/gst-rates.csv`).
    pub(crate) rates: galla_domain::RateSchedule,
    keychain_backend: String,
}

impl std::fmt::Debug for Terminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminal")
            .field("dir", &self.dir)
            .field("tenant_id", &self.tenant_id)
            .field("device_id", &self.device_id)
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
    pub(crate) series_code: String,
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

fn id(v: Uuid) -> Value {
    Value::Text(v.to_string())
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
        self.store().set_durable_for_benchmark(durable)
    }

    #[cfg(feature = "bench")]
    pub fn page_counters_for_benchmark(&self) -> [i64; 3] {
        self.store().page_counters_for_benchmark()
    }

    /// See [`Store::wal_pages_for_benchmark`].
    #[cfg(feature = "bench")]
    pub fn wal_pages_for_benchmark(&self, from: u64) -> Result<(Vec<u32>, u64)> {
        self.store().wal_pages_for_benchmark(from)
    }

    #[cfg(feature = "bench")]
    pub fn set_wal_autocheckpoint_for_benchmark(&self, pages: i64) -> Result<()> {
        self.store().set_wal_autocheckpoint_for_benchmark(pages)
    }

    #[cfg(feature = "bench")]
    pub fn page_owners_for_benchmark(
        &self,
        pages: &std::collections::BTreeSet<u32>,
    ) -> Result<std::collections::BTreeMap<u32, String>> {
        self.store().page_owners_for_benchmark(pages)
    }

    #[cfg(feature = "bench")]
    pub fn set_cache_kib_for_benchmark(&self, kib: i64) -> Result<()> {
        self.store().set_cache_kib_for_benchmark(kib)
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
            .ok_or_else(|| Error::Storage("no data key".into()))?;
        let now = clock.now_ms();
        let gstin_ct = shop
            .gstin
            .as_ref()
            .map(|g| crate::shop::encrypt_gstin(&cipher, tenant_id, g))
            .transpose()?;
        let owner = Actor {
            seat_id: Some(owner_id),
            role: Role::Owner.name().into(),
        };
        let signer = Signer {
            tenant_id,
            device_id,
            key: &keys.device,
        };
        let op = Operation {
            action: "shop.create",
            entity_type: "tenant",
            entity_id: tenant_id.to_string(),
        };
        store.write(&signer, clock.as_ref(), &owner, op, |uow| {
            uow.insert(
                "tenant",
                &tenant_id.to_string(),
                &[
                    ("id", id(tenant_id)),
                    ("name", Value::Text(shop.shop_name.clone())),
                    ("gstin_ct", gstin_ct.map_or(Value::Null, Value::Blob)),
                    (
                        "state_code",
                        shop.state_code
                            .map_or(Value::Null, |s| Value::Integer(s.into())),
                    ),
                    ("created_at_ms", Value::Integer(now)),
                ],
            )?;
            insert_device(
                uow,
                tenant_id,
                device_id,
                &shop.terminal_name,
                &shop.series_code,
                keys.device_public().as_bytes(),
                now,
            )?;
            uow.insert(
                "seat",
                &owner_id.to_string(),
                &[
                    ("id", id(owner_id)),
                    ("tenant_id", id(tenant_id)),
                    ("display_name", Value::Text(shop.owner_name.clone())),
                    (
                        "roles",
                        Value::Text(serde_json::json!([Role::Owner]).to_string()),
                    ),
                    ("secret_hash", Value::Text(shop.owner_secret_hash.clone())),
                    ("created_at_ms", Value::Integer(now)),
                ],
            )?;
            insert_tenant_keys(uow, tenant_id, &wrapped, now)
        })?;
        dir.put_in_place(store)?;
        let store = if encrypted {
            Store::open(&dir.db_path(), &keys.db)?
        } else {
            Self::open_plaintext_store(dir)?
        };
        let terminal = Terminal {
            store: Mutex::new(store),
            keys,
            cipher,
            clock,
            sessions: Mutex::new(Sessions::default()),
            disabled: AtomicBool::new(false),
            wiped: AtomicBool::new(false),
            dir: dir.clone(),
            install_id,
            tenant_id,
            device_id,
            shop_name: std::sync::RwLock::new(shop.shop_name.clone()),
            terminal_name: shop.terminal_name.clone(),
            series_code: shop.series_code.clone(),
            keychain_backend,
            rates: galla_domain::RateSchedule::bundled(),
        };
        let token = terminal.start_session(owner_id, now)?;
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
        Err(Error::Storage(
            "an unencrypted store exists only in benchmark builds".into(),
        ))
    }

    #[cfg(not(feature = "bench"))]
    fn open_plaintext_store(_dir: &DataDir) -> Result<Store> {
        Err(Error::Storage(
            "an unencrypted store exists only in benchmark builds".into(),
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
        Ok(Terminal {
            store: Mutex::new(store),
            keys,
            cipher,
            clock,
            sessions: Mutex::new(Sessions::default()),
            disabled: AtomicBool::new(disabled_at.is_some()),
            wiped: AtomicBool::new(false),
            dir: dir.clone(),
            install_id,
            tenant_id,
            device_id,
            shop_name: std::sync::RwLock::new(shop_name),
            terminal_name,
            series_code,
            keychain_backend: keychain.backend(),
            rates: galla_domain::RateSchedule::bundled(),
        })
    }

    pub(crate) fn shop_name(&self) -> std::sync::RwLockReadGuard<'_, String> {
        self.shop_name.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads the shop's name again after something may have changed it (its settings saved
    /// here, or a rename pulled from another counter): the status line, the sign-in screen and
    /// new authenticator entries show it.
    pub(crate) fn reload_shop_name(&self, conn: &rusqlite::Connection) -> Result<()> {
        let name: String = conn.query_row(
            "SELECT name FROM tenant WHERE id = ?",
            [self.tenant_id.to_string()],
            |r| r.get(0),
        )?;
        *self.shop_name.write().unwrap_or_else(|p| p.into_inner()) = name;
        Ok(())
    }

    /// The signal the sync loop waits on; every committed write rings it.
    pub fn sync_signal(&self) -> Arc<crate::sync::worker::SyncSignal> {
        self.store().sync_signal.clone()
    }

    pub(crate) fn is_disabled(&self) -> bool {
        self.disabled.load(Ordering::SeqCst)
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave a half-written transaction (SQLite rolls
        // it back), so the store stays usable.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn signer(&self) -> Signer<'_> {
        Signer {
            tenant_id: self.tenant_id,
            device_id: self.device_id,
            key: &self.keys.device,
        }
    }

    pub fn install_id(&self) -> Uuid {
        self.install_id
    }

    pub(crate) fn dir(&self) -> &DataDir {
        &self.dir
    }
    pub fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
    pub fn device_id(&self) -> Uuid {
        self.device_id
    }
    /// Now, by the terminal's clock (injectable; tests set it), in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn data_dir(&self) -> &DataDir {
        &self.dir
    }

    /// Shop, terminal, schema and keychain: public, for the lock screen ([`Op::Status`]).
    pub fn status(&self) -> Result<Status> {
        let store = self.store();
        let audit_records: i64 =
            store
                .reader()
                .query_row("SELECT COALESCE(MAX(seq), 0) FROM audit_log", [], |r| {
                    r.get(0)
                })?;
        // Entries are sent in sequence order, so the unsent ones are the run from the first
        // unsent to the last: two index probes, not a count, since this runs every second.
        let (first_unsent, oldest_ms, last): (Option<i64>, Option<i64>, Option<i64>) =
            store.reader().query_row(
                "SELECT (SELECT seq FROM outbox WHERE sent_at_ms IS NULL ORDER BY seq LIMIT 1),
                        (SELECT created_at_ms FROM outbox WHERE sent_at_ms IS NULL
                         ORDER BY seq LIMIT 1),
                        (SELECT MAX(seq) FROM outbox)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
        let queued = match (first_unsent, last) {
            (Some(first), Some(last)) => (last - first + 1).max(0) as u64,
            _ => 0,
        };
        let schema_version = store.schema_version()?;
        // Only a test's store, capped at an older schema, lacks the sync tables.
        let (link, state, alarms) = if schema_version >= crate::sync::SCHEMA_VERSION {
            let alarms: i64 =
                store
                    .reader()
                    .query_row("SELECT count(*) FROM sync_alarm", [], |r| r.get(0))?;
            (
                crate::sync::load_link(store.reader())?,
                crate::sync::load_state(store.reader())?,
                alarms,
            )
        } else {
            (None, Default::default(), 0)
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
            shop_name: self.shop_name().clone(),
            terminal_name: self.terminal_name.clone(),
            series_code: self.series_code.clone(),
            tenant_id: self.tenant_id,
            device_id: self.device_id,
            schema_version,
            supported_schema_version: store::supported_schema_version(),
            keychain_backend: self.keychain_backend.clone(),
            audit_records: audit_records as u64,
            data_dir: self.dir.root().display().to_string(),
            recovery_kit: RecoveryKitState {
                made_at_ms: if schema_version >= crate::recovery::SCHEMA_VERSION {
                    self.recovery_kit_made_at(store.reader())?
                } else {
                    None
                },
                on_disk: crate::recovery::has_kit(&self.dir),
            },
        })
    }

    /// Walks the whole audit chain with this device's key from the keychain.
    pub fn verify_audit(&self, token: &SessionToken) -> Result<AuditReport> {
        let (_auth, store) = self.authorize(token, Op::VerifyAudit)?;
        self.verify_audit_in(&store, None)
    }

    /// Verifies only the records after `from`, a checkpoint of an earlier walk
    /// ([`AuditReport::checkpoint`]): cheap enough to run at every start on a large store.
    pub fn verify_audit_since(
        &self,
        token: &SessionToken,
        from: audit::Checkpoint,
    ) -> Result<AuditReport> {
        let (_auth, store) = self.authorize(token, Op::VerifyAudit)?;
        self.verify_audit_in(&store, Some(from))
    }

    /// The chain walk for `doctor`, which reports only whether it holds (no records).
    pub(crate) fn verify_audit_for_doctor(&self) -> Result<AuditReport> {
        self.verify_audit_in(&self.store(), None)
    }

    /// What `doctor` runs, without a session: for tests of a damaged store, where signing in
    /// (which writes) is not what is being tested. Feature `test-support` only.
    #[cfg(feature = "test-support")]
    pub fn verify_audit_unchecked(&self) -> Result<AuditReport> {
        self.verify_audit_for_doctor()
    }

    fn verify_audit_in(
        &self,
        store: &Store,
        from: Option<audit::Checkpoint>,
    ) -> Result<AuditReport> {
        let key = self.keys.device_public();
        audit::verify(store.reader(), key, self.tenant_id, self.device_id, from)
    }

    /// One page of the audit log, newest first, for the audit screen.
    pub fn audit_entries(&self, token: &SessionToken, query: &AuditQuery) -> Result<AuditPage> {
        let (_auth, store) = self.authorize(token, Op::AuditEntries)?;
        audit::entries(store.reader(), query)
    }

    /// Writes the audit log as CSV and reports whether it verified.
    pub fn export_audit_csv(&self, token: &SessionToken, out: impl Write) -> Result<AuditReport> {
        let (_auth, store) = self.authorize(token, Op::ExportAudit)?;
        audit::export_csv(
            store.reader(),
            self.keys.device_public(),
            self.tenant_id,
            self.device_id,
            out,
        )
    }

    /// SQLCipher's page-level HMAC check plus SQLite's quick check, for `doctor`. Public like
    /// [`Op::Status`]: it names damaged pages, never their content.
    pub fn integrity_problems(&self) -> Result<Vec<String>> {
        let store = self.store();
        let conn = store.reader();
        // SQLCipher's check names each page whose HMAC fails; SQLite's own check would only
        // report the same damage less precisely, so it runs only on a cipher-clean file.
        let problems = pragma_rows(conn, "PRAGMA cipher_integrity_check")?;
        if !problems.is_empty() {
            return Ok(problems);
        }
        let quick = pragma_rows(conn, "PRAGMA quick_check")?;
        Ok(quick.into_iter().filter(|q| q != "ok").collect())
    }

    pub fn add_customer(&self, token: &SessionToken, new: &NewCustomer) -> Result<Uuid> {
        let valid = new.validate()?;
        let (auth, mut store) = self.authorize(token, Op::AddCustomer)?;
        let customer_id = Uuid::now_v7();
        let now = auth.now;
        let op = Operation {
            action: "customer.create",
            entity_type: "customer",
            entity_id: customer_id.to_string(),
        };
        let (tenant_id, signer) = (self.tenant_id, self.signer());
        store.write(&signer, self.clock.as_ref(), &auth.actor, op, |uow| {
            customers::insert(uow, &self.cipher, tenant_id, customer_id, &valid, now)
        })?;
        Ok(customer_id)
    }

    /// Corrects a customer: the fields given change, the rest stay. Validated as a new customer
    /// is; only the columns whose value changes are written, so an edit of the name on one
    /// counter and of the phone on another both survive the cloud's merge. No change, no write.
    pub fn update_customer(
        &self,
        token: &SessionToken,
        customer_id: Uuid,
        changes: &customers::CustomerChanges,
    ) -> Result<()> {
        let (auth, mut store) = self.authorize(token, Op::EditCustomer)?;
        let now_customer = self
            .customers_where(&store, "id = ?2", customer_id.to_string())?
            .pop()
            .ok_or_else(|| Error::NotFound(format!("customer {customer_id}")))?;
        let valid = changes.applied_to(&now_customer)?;
        let mut fields =
            customers::changed_fields(&self.cipher, customer_id, &now_customer, &valid)?;
        if fields.is_empty() {
            return Ok(());
        }
        fields.push(("updated_at_ms", Value::Integer(auth.now)));
        let op = Operation {
            action: "customer.update",
            entity_type: "customer",
            entity_id: customer_id.to_string(),
        };
        let signer = self.signer();
        store.write(&signer, self.clock.as_ref(), &auth.actor, op, |uow| {
            uow.update(customers::TABLE, &customer_id.to_string(), &fields)
        })
    }

    /// A customer's profile, contact details masked (for every seat: see `reveal_customer`).
    pub fn customer(&self, token: &SessionToken, customer_id: Uuid) -> Result<CustomerView> {
        let (_auth, store) = self.authorize(token, Op::ViewCustomer)?;
        self.customers_where(&store, "id = ?2", customer_id.to_string())?
            .pop()
            .map(CustomerView::masked)
            .ok_or_else(|| Error::NotFound(format!("customer {customer_id}")))
    }

    /// One customer's contact details in full, shown on purpose by a seat allowed to see them.
    /// Each look is an audited operation (`customer.reveal`, a `pii_access` row naming the seat
    /// and the customer), so who read whose phone number is in the trail the owner reads and
    /// the cloud keeps; views are otherwise masked, so nothing is read in passing.
    pub fn reveal_customer(&self, token: &SessionToken, customer_id: Uuid) -> Result<CustomerView> {
        let (auth, mut store) = self.authorize(token, Op::RevealCustomer)?;
        let customer = self
            .customers_where(&store, "id = ?2", customer_id.to_string())?
            .pop()
            .ok_or_else(|| Error::NotFound(format!("customer {customer_id}")))?;
        self.record_pii_access(&mut store, &auth, Some(customer_id), 1, "customer.reveal")?;
        Ok(CustomerView::revealed(customer))
    }

    /// Records a look at customers' contact details: one customer's (`customer`), or an export
    /// of `count` customers (`None`), audited as `action`.
    pub(crate) fn record_pii_access(
        &self,
        store: &mut Store,
        auth: &crate::sessions::Authorized,
        customer: Option<Uuid>,
        count: usize,
        action: &'static str,
    ) -> Result<()> {
        let seat = auth
            .actor
            .seat_id()
            .ok_or_else(|| Error::Storage("a look at customer details needs a seat".into()))?;
        let id = Uuid::now_v7();
        let (entity_type, entity_id, kind) = match customer {
            Some(c) => ("customer", c.to_string(), "reveal"),
            None => ("tenant", self.tenant_id.to_string(), "export"),
        };
        let signer = self.signer();
        store.write(
            &signer,
            self.clock.as_ref(),
            &auth.actor,
            Operation {
                action,
                entity_type,
                entity_id,
            },
            |uow| {
                uow.insert(
                    "pii_access",
                    &id.to_string(),
                    &[
                        ("id", Value::Text(id.to_string())),
                        ("tenant_id", Value::Text(self.tenant_id.to_string())),
                        ("seat_id", Value::Text(seat.to_string())),
                        ("at_ms", Value::Integer(auth.now)),
                        ("kind", Value::Text(kind.into())),
                        (
                            "customer_id",
                            customer.map_or(Value::Null, |c| Value::Text(c.to_string())),
                        ),
                        ("customers", Value::Integer(count as i64)),
                    ],
                )
            },
        )
    }

    /// This tenant's customers matching `clause` (over `?2`), decrypted, oldest first.
    pub(crate) fn customers_where(
        &self,
        store: &Store,
        clause: &str,
        value: impl rusqlite::ToSql,
    ) -> Result<Vec<Customer>> {
        let sql = format!(
            "{} WHERE tenant_id = ?1 AND {clause} ORDER BY created_at_ms",
            customers::SELECT
        );
        let mut stmt = store.reader().prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params![self.tenant_id.to_string(), value])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(customers::decrypt_row(&self.cipher, r)?);
        }
        Ok(out)
    }

    fn find_customers(
        &self,
        token: &SessionToken,
        clause: &str,
        bidx: Vec<u8>,
    ) -> Result<Vec<CustomerView>> {
        let (_auth, store) = self.authorize(token, Op::FindCustomers)?;
        Ok(self
            .customers_where(&store, clause, bidx)?
            .into_iter()
            .map(CustomerView::masked)
            .collect())
    }

    /// Customers with a word of their name starting with each typed word (any script).
    pub fn search_customers(
        &self,
        token: &SessionToken,
        typed: &str,
        limit: usize,
    ) -> Result<Vec<CustomerView>> {
        let (_auth, store) = self.authorize(token, Op::FindCustomers)?;
        let Some(q) = crate::catalogue::fts_query(typed) else {
            return Ok(Vec::new());
        };
        let clause = format!(
            "rowid IN (SELECT rowid FROM customer_fts WHERE customer_fts MATCH ?2 ORDER BY rank LIMIT {})",
            limit.clamp(1, 200)
        );
        Ok(self
            .customers_where(&store, &clause, q)?
            .into_iter()
            .map(CustomerView::masked)
            .collect())
    }

    /// What a clerk types to find a customer: an exact phone number (by its blind index) if it
    /// is one and someone has it, else words of the name.
    pub fn lookup_customers(
        &self,
        token: &SessionToken,
        typed: &str,
        limit: usize,
    ) -> Result<Vec<CustomerView>> {
        let (_auth, store) = self.authorize(token, Op::FindCustomers)?;
        Ok(self
            .customers_matching(&store, typed, limit)?
            .into_iter()
            .map(CustomerView::masked)
            .collect())
    }

    /// [`Terminal::lookup_customers`] on a store the caller already holds.
    pub(crate) fn customers_matching(
        &self,
        store: &Store,
        typed: &str,
        limit: usize,
    ) -> Result<Vec<Customer>> {
        if let Ok(p) = galla_domain::Phone::parse(typed) {
            let bidx = self.cipher.blind_index(customers::BIDX_PHONE, p.as_e164());
            let found = self.customers_where(store, "phone_bidx = ?2", bidx)?;
            if !found.is_empty() {
                return Ok(found);
            }
        }
        let Some(q) = crate::catalogue::fts_query(typed) else {
            return Ok(Vec::new());
        };
        let clause = format!(
            "rowid IN (SELECT rowid FROM customer_fts WHERE customer_fts MATCH ?2 ORDER BY rank LIMIT {})",
            limit.clamp(1, 200)
        );
        self.customers_where(store, &clause, q)
    }

    /// Exact lookup by phone number, however it is typed.
    pub fn find_customers_by_phone(
        &self,
        token: &SessionToken,
        phone: &str,
    ) -> Result<Vec<CustomerView>> {
        let p = galla_domain::Phone::parse(phone).map_err(InputError::from)?;
        let bidx = self.cipher.blind_index(customers::BIDX_PHONE, p.as_e164());
        self.find_customers(token, "phone_bidx = ?2", bidx)
    }

    /// Exact lookup by GSTIN.
    pub fn find_customers_by_gstin(
        &self,
        token: &SessionToken,
        gstin: &str,
    ) -> Result<Vec<CustomerView>> {
        let g = galla_domain::Gstin::parse(gstin).map_err(InputError::from)?;
        let bidx = self.cipher.blind_index(customers::BIDX_GSTIN, g.as_str());
        self.find_customers(token, "gstin_bidx = ?2", bidx)
    }

    /// Every customer with PII in full, as CSV (a sensitive act: confirmed within 5 minutes).
    /// Recorded (`customers.export`, with the count) before a byte is written: an export that
    /// fails half-way still took the details out.
    pub fn export_customers_csv(&self, token: &SessionToken, out: impl Write) -> Result<usize> {
        let (auth, mut store) = self.authorize(token, Op::ExportCustomers)?;
        let all = self.customers_where(&store, "1 = 1 OR ?2 IS NULL", rusqlite::types::Null)?;
        self.record_pii_access(&mut store, &auth, None, all.len(), "customers.export")?;
        customers::write_csv(&all, out)?;
        Ok(all.len())
    }

    /// Runs a read-only query on the store, for tests and benchmarks only (feature
    /// `test-support`): the app and the CLI cannot reach it. Writes are refused.
    #[cfg(feature = "test-support")]
    pub fn with_reader<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> Result<T>) -> Result<T> {
        f(self.store().reader())
    }

    /// A session for a seat that has just proved itself another way (the owner at shop creation).
    fn start_session(&self, seat_id: Uuid, now: i64) -> Result<SessionToken> {
        self.new_session(seat_id, now, None)
    }
}
