//! Shared setup for the client's integration tests: a real Secret Service keychain, a fresh
//! data folder per test, and a raw SQLCipher connection for tampering like an attacker would.
#![allow(dead_code)]

use std::sync::Arc;

use galla_client::keys::TerminalKeys;
use galla_client::{
    DataDir, ManualClock, NewCustomer, NewShop, OsKeychain, Role, SecretString, SessionToken,
    Terminal,
};
use rusqlite::Connection;

/// 2025-11-21 10:00 IST, a fixed instant for stamps.
pub const T0_MS: i64 = 1_763_699_400_000;

/// The real OS keychain. These tests must run inside `scripts/keyring-session.sh` (the README's
/// test command does this); without a keychain they fail rather than silently pass.
pub fn keychain() -> OsKeychain {
    OsKeychain::connect().unwrap_or_else(|e| {
        panic!("these tests need a real Secret Service: run them through scripts/keyring-session.sh ({e})")
    })
}

pub fn shop() -> NewShop {
    NewShop {
        shop_name: "Sharma Mobiles".into(),
        gstin: Some("27AAPFU0939F1ZV".into()),
        state_code: None,
        owner_name: "Ravi Sharma".into(),
        owner_passphrase: SecretString::new(OWNER_PASSPHRASE),
        terminal_name: "Counter 1".into(),
        series_code: "T1".into(),
    }
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub data: DataDir,
    pub keychain: OsKeychain,
    pub clock: Arc<ManualClock>,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path().join("galla"));
        Fixture {
            dir,
            data,
            keychain: keychain(),
            clock: Arc::new(ManualClock::at(T0_MS)),
        }
    }

    pub fn init(&self) -> (Terminal, SessionToken) {
        Terminal::init(&self.data, &self.keychain, self.clock.clone(), &shop()).unwrap()
    }

    pub fn open(&self) -> galla_client::Result<Terminal> {
        Terminal::open(&self.data, &self.keychain, self.clock.clone())
    }

    pub fn keys(&self) -> TerminalKeys {
        TerminalKeys::load(&self.keychain, self.data.install_id().unwrap().unwrap()).unwrap()
    }

    /// A connection with the key but without the engine's write gate: what someone holding the
    /// key and a SQLite shell could do.
    pub fn raw(&self) -> Connection {
        let conn = Connection::open(self.data.db_path()).unwrap();
        let hex = self.keys().db.to_hex();
        conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex.as_str()))
            .unwrap();
        conn
    }

    pub fn file_bytes(&self) -> Vec<u8> {
        let mut all = std::fs::read(self.data.db_path()).unwrap();
        if let Ok(wal) = std::fs::read(self.data.db_path().with_extension("db-wal")) {
            all.extend(wal);
        }
        all
    }
}

/// The passphrase `shop()` gives the owner.
pub const OWNER_PASSPHRASE: &str = "correct horse battery";

/// Signs the owner in, as after a restart.
pub fn sign_in_owner(t: &Terminal) -> SessionToken {
    let owner = t
        .roster()
        .unwrap()
        .into_iter()
        .find(|s| s.roles.contains(&Role::Owner))
        .expect("the shop has an owner seat");
    t.sign_in(owner.seat_id, &SecretString::new(OWNER_PASSPHRASE), None)
        .unwrap()
        .token
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Adds a counter-staff seat "Asha" (PIN 482915) and signs it in.
pub fn counter_staff(t: &Terminal, owner: &SessionToken) -> SessionToken {
    let seat = t
        .add_seat(
            owner,
            &galla_client::NewSeat {
                display_name: "Asha".into(),
                roles: vec![Role::CounterStaff],
                overrides: vec![],
                secret_kind: galla_client::SecretKind::Pin,
                secret: SecretString::new("482915"),
            },
        )
        .unwrap();
    t.sign_in(seat, &SecretString::new("482915"), None)
        .unwrap()
        .token
}

/// A customer with just a name and a phone number, as typed at the counter.
pub fn customer(name: &str, phone: &str) -> NewCustomer {
    NewCustomer {
        name: name.into(),
        phone: Some(phone.into()),
        ..Default::default()
    }
}
