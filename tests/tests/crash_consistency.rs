//! Crash consistency of the one write path: a child writes through the engine and is SIGKILLed
//! at random moments: customers, sales with a line taken off and held, sales with units taken
//! off and finalized. After every kill the store must open, the audit chain verify, every write
//! the child reported be present (the customer, the void's record, the held sale with its
//! line, the invoice), nothing partial exist, and audit and outbox agree.
//!
//! `GALLA_CRASH_SEED=N` replays a run; `GALLA_CRASH_KILLS=N` changes the count. The long run
//! (1,000 kills) is `cargo test -p galla-tests --test crash_consistency -- --ignored`.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use galla_client::keys::TerminalKeys;
use galla_client::{DataDir, NewShop, OsKeychain, SecretString, SystemClock, Terminal};
use rusqlite::Connection;

const PASSPHRASE: &str = "crash test passphrase";

/// xorshift64*: enough randomness for kill timing, and replayable from the printed seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn keychain() -> OsKeychain {
    OsKeychain::connect().unwrap_or_else(|e| panic!("run through scripts/keyring-session.sh: {e}"))
}

fn raw(dir: &DataDir, keychain: &OsKeychain) -> Connection {
    let keys = TerminalKeys::load(keychain, dir.install_id().unwrap().unwrap()).unwrap();
    let conn = Connection::open(dir.db_path()).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA key = \"x'{}'\";",
        keys.db.to_hex().as_str()
    ))
    .unwrap();
    conn
}

fn ids(conn: &Connection, sql: &str) -> Vec<String> {
    conn.prepare(sql)
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn run(kills: u32) {
    let seed = std::env::var("GALLA_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    let kills = std::env::var("GALLA_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(kills);
    println!("crash consistency: seed {seed}, {kills} kills (replay with GALLA_CRASH_SEED={seed})");
    let mut rng = Rng(seed);

    let tmp = tempfile::tempdir().unwrap();
    let dir = DataDir::new(tmp.path().join("shop"));
    let kc = keychain();
    let shop = NewShop {
        shop_name: "Crash Test Kirana".into(),
        gstin: None,
        state_code: Some(27),
        owner_name: "Owner".into(),
        owner_passphrase: SecretString::new(PASSPHRASE),
        terminal_name: "Counter 1".into(),
        series_code: "C1".into(),
    };
    let (t, owner) = Terminal::init(&dir, &kc, Arc::new(SystemClock), &shop).unwrap();
    t.add_product(
        &owner,
        &galla_client::NewProduct {
            sku: "CRASH".into(),
            name: "Screen guard".into(),
            hsn: Some("3926".into()),
            gst_rate_bp: 1800,
            price_paise: 19_900,
            ..Default::default()
        },
    )
    .unwrap();
    let seat_id = t.roster().unwrap()[0].seat_id;
    drop(t);
    let seat = seat_id.to_string();

    let mut acknowledged: HashSet<String> = HashSet::new();
    let mut checkpoint: Option<galla_client::audit::Checkpoint> = None;
    let mut kills_mid_run = 0;
    for round in 0..kills {
        let mut child = Command::new(env!("CARGO_BIN_EXE_galla-crash-writer"))
            .arg(dir.root())
            .arg(&seat)
            .env("GALLA_CRASH_PASSPHRASE", PASSPHRASE)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let reader =
            std::thread::spawn(move || stdout.lines().map_while(Result::ok).collect::<Vec<_>>());
        // Wait until the child is writing, then kill at a random moment within its writes.
        std::thread::sleep(Duration::from_millis(30 + rng.below(120)));
        std::thread::sleep(Duration::from_micros(rng.below(5_000)));
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        let printed = reader.join().unwrap();
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert!(
            status.code().is_none(),
            "round {round}: the child exited by itself ({status}): {stderr}"
        );
        if !printed.is_empty() {
            kills_mid_run += 1;
        }
        acknowledged.extend(printed);

        // After the kill: the store opens and the chain verifies...
        let t = Terminal::open(&dir, &kc, Arc::new(SystemClock))
            .unwrap_or_else(|e| panic!("round {round} (seed {seed}): store does not open: {e}"));
        // Only the tail can change across a crash: verify from the last round's checkpoint, and
        // walk the whole chain every 100 rounds and at the end.
        let full = round % 100 == 99 || round + 1 == kills;
        let owner = t
            .sign_in(seat_id, &SecretString::new(PASSPHRASE), None)
            .unwrap_or_else(|e| panic!("round {round} (seed {seed}): owner cannot sign in: {e}"))
            .token;
        let report = match checkpoint {
            Some(c) if !full => t.verify_audit_since(&owner, c).unwrap(),
            _ => t.verify_audit(&owner).unwrap(),
        };
        assert!(
            report.is_intact(),
            "round {round} (seed {seed}): {report:?}"
        );
        checkpoint = report.checkpoint();
        if full {
            println!(
                "round {}: {} records verified, {} writes acknowledged",
                round + 1,
                report.verified,
                acknowledged.len()
            );
        }
        drop(t);
        let conn = raw(&dir, &kc);
        let customers: HashSet<String> = ids(&conn, "SELECT 'customer ' || id FROM customer")
            .into_iter()
            .collect();
        let voids: HashSet<String> = ids(
            &conn,
            "SELECT 'void ' || cart_id || ' ' || line_no FROM sale_event WHERE kind = 'void_line'",
        )
        .into_iter()
        .collect();
        // A held sale is there, held, with the line that was not taken off.
        let held: HashSet<String> = ids(
            &conn,
            "SELECT 'held ' || id FROM cart
             WHERE status = 'held' AND (SELECT count(*) FROM cart_line l WHERE l.cart_id = cart.id) = 1",
        )
        .into_iter()
        .collect();
        let invoices: HashSet<String> = ids(&conn, "SELECT 'invoice ' || number FROM invoice")
            .into_iter()
            .collect();
        // ...every acknowledged write is there...
        let present: HashSet<String> = customers
            .iter()
            .chain(&voids)
            .chain(&held)
            .chain(&invoices)
            .cloned()
            .collect();
        let lost: Vec<_> = acknowledged.difference(&present).collect();
        assert!(
            lost.is_empty(),
            "round {round} (seed {seed}): acknowledged but lost: {lost:?}"
        );
        // ...a void is its record, an invoice its record and its unit taken off...
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(
            count("SELECT count(*) FROM sale_event WHERE kind = 'void_line'"),
            count("SELECT count(*) FROM audit_log WHERE action = 'cart.remove_line'"),
            "round {round} (seed {seed}): voids and their records differ"
        );
        assert_eq!(
            count("SELECT count(*) FROM invoice"),
            count("SELECT count(*) FROM audit_log WHERE action = 'invoice.finalize'"),
            "round {round} (seed {seed}): invoices and their records differ"
        );
        assert_eq!(
            count(
                "SELECT count(*) FROM invoice i WHERE (SELECT quantity FROM invoice_line l
                 WHERE l.invoice_id = i.id) = 2 AND EXISTS (SELECT 1 FROM sale_event e
                 WHERE e.kind = 'void_units' AND e.quantity = 1
                   AND e.at_ms <= i.issued_at_ms)"
            ),
            count("SELECT count(*) FROM invoice"),
            "round {round} (seed {seed}): a finalized sale lost its lowered quantity or its void"
        );
        // A sale's edits are no records of their own.
        assert_eq!(
            count(
                "SELECT count(*) FROM audit_log WHERE action IN ('cart.open', 'cart.add_line', 'cart.hold')"
            ),
            0
        );
        // ...nothing partial: each customer row has its audit record and vice versa...
        let audited: HashSet<String> = ids(
            &conn,
            "SELECT 'customer ' || entity_id FROM audit_log WHERE action = 'customer.create'",
        )
        .into_iter()
        .collect();
        assert_eq!(
            customers, audited,
            "round {round} (seed {seed}): rows and audit records differ"
        );
        // ...and the outbox holds an entry for exactly the records that redact a secret (the
        // shop's creation, with the owner's passphrase hash), never one without its record.
        let audit_seqs = ids(
            &conn,
            "SELECT CAST(seq AS TEXT) FROM audit_log ORDER BY seq",
        );
        let redacting = ids(
            &conn,
            "SELECT CAST(seq AS TEXT) FROM audit_log WHERE instr(record, CAST('$redacted' AS BLOB)) > 0 ORDER BY seq",
        );
        let outbox_seqs = ids(&conn, "SELECT CAST(seq AS TEXT) FROM outbox ORDER BY seq");
        assert!(!redacting.is_empty(), "the shop's creation redacts a hash");
        assert_eq!(
            redacting, outbox_seqs,
            "round {round} (seed {seed}): audit and outbox differ"
        );
        assert_eq!(audit_seqs.len(), report.verified as usize);
    }
    println!(
        "{} writes acknowledged across {kills} kills ({kills_mid_run} kills while writing)",
        acknowledged.len()
    );
    assert!(
        kills_mid_run * 2 >= kills,
        "most kills must land while the child is writing"
    );
}

#[test]
fn survives_sigkill_at_random_moments() {
    run(50);
}

#[test]
#[ignore = "long run: 1,000 kills, several minutes"]
fn survives_a_thousand_sigkills() {
    run(1000);
}
