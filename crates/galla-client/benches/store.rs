//! Prices the encrypted store: opening it (keychain fetch + SQLCipher open + migration check +
//! tenant-key unwrap) and one write-path transaction (row + signed audit record + outbox, PII
//! encrypted, WAL with synchronous=FULL), encrypted against the same workload unencrypted, in one
//! run. Prints figures for docs/benchmarks.md; asserts nothing about time.
//!
//!   scripts/keyring-session.sh cargo bench -p galla-client --features bench --bench store
//!
//! `GALLA_BENCH_WRITES` (default 3000) and `GALLA_BENCH_OPENS` (default 40) set the sample sizes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use galla_client::keys::TerminalKeys;
use galla_client::{
    DataDir, NewCustomer, NewShop, OsKeychain, SecretString, SystemClock, Terminal,
};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Stats {
    median: Duration,
    p99: Duration,
    mean: Duration,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    let n = v.len();
    Stats {
        median: v[n / 2],
        p99: v[(n * 99 / 100).min(n - 1)],
        mean: v.iter().sum::<Duration>() / n as u32,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

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
    let writes = env("GALLA_BENCH_WRITES", 3000);
    let opens = env("GALLA_BENCH_OPENS", 40);
    let kc = OsKeychain::connect()
        .unwrap_or_else(|e| panic!("run inside scripts/keyring-session.sh: {e}"));
    let tmp = tempfile::tempdir().unwrap();
    let enc_dir = DataDir::new(tmp.path().join("encrypted"));
    let plain_dir = DataDir::new(tmp.path().join("plain"));
    let clock = Arc::new(SystemClock);
    let (enc, owner): (Terminal, galla_client::SessionToken) =
        Terminal::init(&enc_dir, &kc, clock.clone(), &shop()).unwrap();
    let (plain, plain_owner) =
        Terminal::init_plaintext_for_benchmark(&plain_dir, &kc, clock.clone(), &shop()).unwrap();

    // Interleave in blocks so both stores see the same machine noise.
    let (mut enc_t, mut plain_t) = (Vec::with_capacity(writes), Vec::with_capacity(writes));
    for block in 0..writes.div_ceil(100) {
        for (t, owner, out) in [
            (&enc, &owner, &mut enc_t),
            (&plain, &plain_owner, &mut plain_t),
        ] {
            for i in block * 100..((block + 1) * 100).min(writes) {
                let c = customer(i);
                let start = Instant::now();
                t.add_customer(owner, &c).unwrap();
                out.push(start.elapsed());
            }
        }
    }
    assert!(enc.verify_audit(&owner).unwrap().is_intact());

    // The session check alone (what every operation does before it acts), interleaved too.
    let (mut enc_check, mut plain_check) = (Vec::new(), Vec::new());
    for _ in 0..writes.div_ceil(100) {
        for (t, owner, out) in [
            (&enc, &owner, &mut enc_check),
            (&plain, &plain_owner, &mut plain_check),
        ] {
            for _ in 0..100 {
                let start = Instant::now();
                t.touch(owner).unwrap();
                out.push(start.elapsed());
            }
        }
    }
    let (version, memory_security): (String, String) = enc
        .with_reader(|c| {
            Ok((
                c.query_row("PRAGMA cipher_version", [], |r| r.get(0))?,
                c.query_row("PRAGMA cipher_memory_security", [], |r| r.get(0))?,
            ))
        })
        .unwrap();
    drop(enc);
    drop(plain);

    let install = enc_dir.install_id().unwrap().unwrap();
    let (mut fetch_t, mut open_t) = (Vec::new(), Vec::new());
    for _ in 0..opens {
        let start = Instant::now();
        drop(TerminalKeys::load(&kc, install).unwrap());
        fetch_t.push(start.elapsed());
        let start = Instant::now();
        drop(Terminal::open(&enc_dir, &kc, clock.clone()).unwrap());
        open_t.push(start.elapsed());
    }

    let (e, p) = (stats(enc_t), stats(plain_t));
    let (f, o) = (stats(fetch_t), stats(open_t));
    let (ec, pc) = (stats(enc_check), stats(plain_check));
    println!("SQLCipher {version}, cipher_memory_security={memory_security}");
    println!(
        "write path, {writes} transactions each (customer row + signed audit record + outbox; PII column-encrypted; WAL, synchronous=FULL)"
    );
    println!("| store | median | p99 | mean |");
    println!("| --- | --- | --- | --- |");
    println!(
        "| SQLCipher (encrypted) | {} | {} | {} |",
        ms(e.median),
        ms(e.p99),
        ms(e.mean)
    );
    println!(
        "| SQLite (unencrypted twin) | {} | {} | {} |",
        ms(p.median),
        ms(p.p99),
        ms(p.mean)
    );
    println!(
        "| ratio encrypted/plain | {:.2}x | {:.2}x | {:.2}x |",
        e.median.as_secs_f64() / p.median.as_secs_f64(),
        e.p99.as_secs_f64() / p.p99.as_secs_f64(),
        e.mean.as_secs_f64() / p.mean.as_secs_f64()
    );
    println!();
    println!("session check alone (`touch`: session, seat row, policy), {writes} calls each");
    println!("| store | median | p99 | mean |");
    println!("| --- | --- | --- | --- |");
    for (name, x) in [("SQLCipher", &ec), ("SQLite", &pc)] {
        println!(
            "| {name} | {} | {} | {} |",
            ms(x.median),
            ms(x.p99),
            ms(x.mean)
        );
    }
    println!();
    println!(
        "open, {opens} times, database with {} audit records",
        writes + 1
    );
    println!("| step | median | p99 |");
    println!("| --- | --- | --- |");
    println!(
        "| keychain fetch (3 entries, Secret Service) | {} | {} |",
        ms(f.median),
        ms(f.p99)
    );
    println!(
        "| Terminal::open (fetch + SQLCipher open + migration check + key unwrap) | {} | {} |",
        ms(o.median),
        ms(o.p99)
    );
}
