//! Prices the encrypted store: opening it (keychain fetch + SQLCipher open + migration check +
//! tenant-key unwrap) and one write-path transaction (row + signed audit record + outbox, PII
//! encrypted, WAL with synchronous=FULL), encrypted against the same workload unencrypted, each
//! store in a child process of its own (see `common`). Prints figures for docs/benchmarks.md;
//! asserts nothing about time.
//!
//!   scripts/keyring-session.sh cargo bench -p galla-client --features bench --bench store
//!
//! `GALLA_BENCH_WRITES` (default 3000) and `GALLA_BENCH_OPENS` (default 40) set the sample sizes.

mod common;

use std::sync::Arc;
use std::time::Instant;

use common::{env, note, report};

use galla_client::keys::TerminalKeys;
use galla_client::{
    DataDir, NewCustomer, NewShop, OsKeychain, SecretString, SystemClock, Terminal,
};

fn shop() -> NewShop {
    NewShop {
        shop_name: "Bench Stores".into(),
        gstin: Some("27AAPFU0939F1ZV".into()),
        state_code: None,
        owner_name: "Owner".into(),
        owner_passphrase: SecretString::new("benchmark passphrase"),
        terminal_name: "Counter 1".into(),
        series_code: "B1".into(),
    }
}

fn customer(i: usize) -> NewCustomer {
    NewCustomer {
        name: format!("Customer {i}"),
        phone: Some(format!("9{:09}", i)),
        email: Some(format!("c{i}@example.in")),
        address: Some(format!("{i} MG Road, Pune")),
        ..Default::default()
    }
}

fn main() {
    match common::child_store() {
        Some(kind) => measure_one(&kind),
        None => {
            println!(
                "{} write-path transactions per store (customer row + signed audit record + \
                 outbox; PII column-encrypted; WAL, synchronous=FULL)",
                env("GALLA_BENCH_WRITES", 3000)
            );
            common::compare_in_children();
        }
    }
}

fn measure_one(kind: &str) {
    let writes = env("GALLA_BENCH_WRITES", 3000);
    let opens = env("GALLA_BENCH_OPENS", 40);
    let kc = OsKeychain::connect()
        .unwrap_or_else(|e| panic!("run inside scripts/keyring-session.sh: {e}"));
    let tmp = tempfile::tempdir().unwrap();
    let dir = DataDir::new(tmp.path().join("shop"));
    let clock = Arc::new(SystemClock);
    let encrypted = kind == "SQLCipher";
    let (t, owner) = if encrypted {
        Terminal::init(&dir, &kc, clock.clone(), &shop())
    } else {
        Terminal::init_plaintext_for_benchmark(&dir, &kc, clock.clone(), &shop())
    }
    .unwrap();

    let times = (0..writes)
        .map(|i| {
            let c = customer(i);
            let start = Instant::now();
            t.add_customer(&owner, &c).unwrap();
            start.elapsed()
        })
        .collect();
    report("write path (add_customer)", times);
    assert!(t.verify_audit(&owner).unwrap().is_intact());
    // The session check alone: what every operation does before it acts.
    let checks = (0..writes)
        .map(|_| {
            let start = Instant::now();
            t.touch(&owner).unwrap();
            start.elapsed()
        })
        .collect();
    report("session check alone (touch)", checks);
    if !encrypted {
        return;
    }
    let (version, memory_security): (String, String) = t
        .with_reader(|c| {
            Ok((
                c.query_row("PRAGMA cipher_version", [], |r| r.get(0))?,
                c.query_row("PRAGMA cipher_memory_security", [], |r| r.get(0))?,
            ))
        })
        .unwrap();
    note(&format!(
        "SQLCipher {version}, cipher_memory_security={memory_security}"
    ));
    drop(t);
    let install = dir.install_id().unwrap().unwrap();
    let (mut fetch_t, mut open_t) = (Vec::new(), Vec::new());
    for _ in 0..opens {
        let start = Instant::now();
        drop(TerminalKeys::load(&kc, install).unwrap());
        fetch_t.push(start.elapsed());
        let start = Instant::now();
        drop(Terminal::open(&dir, &kc, clock.clone()).unwrap());
        open_t.push(start.elapsed());
    }
    report("keychain fetch (3 entries, Secret Service)", fetch_t);
    report(
        &format!("Terminal::open ({} audit records)", writes + 1),
        open_t,
    );
}
