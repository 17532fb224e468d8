//! Billing at scale, on SQLCipher and on an unencrypted twin with the same workload: finalizing
//! a 10-line invoice with 0, 100k, 1M invoices already stored, barcode lookup and name search
//! over a large catalogue, and phone lookup over many customers. Prints medians, p99s and ratios.
//!
//! Each store runs in a child process of its own. SQLite as bundled here is built with
//! `SQLITE_ENABLE_MEMORY_MANAGEMENT`, which makes the page cache one pool for the whole process;
//! two stores in one process evict each other's pages and the comparison measures that instead
//! of encryption (the first version of this bench did, and reported 7x on lookups).
//!
//! Prefilling uses the real finalize, with `synchronous = OFF` while filling (a million fsyncs
//! would take hours) and FULL again for every timed call.
//!
//! Run (sizes by environment; defaults are a quick run, issue 4's aims are at 0/100k/1M
//! invoices, 500k products, 1M customers):
//!
//! ```sh
//! GALLA_BENCH_INVOICES=0,100000,1000000 GALLA_BENCH_PRODUCTS=500000 \
//!   GALLA_BENCH_CUSTOMERS=1000000 \
//!   scripts/keyring-session.sh cargo bench -p galla-client --features bench --bench billing
//! ```

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use galla_client::{
    DataDir, FinalizeRequest, NewShop, OsKeychain, PaymentInput, ProductRef, SecretString,
    SessionToken, SystemClock, Terminal,
};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn shop() -> NewShop {
    NewShop {
        shop_name: "Bench Mobiles".into(),
        gstin: Some("27AAPFU0939F1ZV".into()),
        state_code: None,
        owner_name: "Owner".into(),
        owner_passphrase: SecretString::new("bench passphrase"),
        terminal_name: "Counter 1".into(),
        series_code: "B1".into(),
    }
}

/// xorshift64*: reproducible picks.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64) as usize
    }
}

fn gs1(body: &str) -> String {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

const WORDS: [&str; 12] = [
    "redmi",
    "galaxy",
    "cover",
    "charger",
    "cable",
    "earphones",
    "tempered",
    "glass",
    "साबुन",
    "चाय",
    "சோப்பு",
    "battery",
];

fn products_csv(n: usize) -> String {
    let mut s = String::from("sku,name,barcodes,hsn,gst_rate,price\n");
    for i in 0..n {
        let name = format!(
            "{} {} model {i}",
            WORDS[i % WORDS.len()],
            WORDS[(i / 7) % WORDS.len()]
        );
        s.push_str(&format!(
            "P{i},{name},{},8517,18,{}\n",
            gs1(&format!("89{i:010}")),
            99 + i % 900
        ));
    }
    s
}

fn customers_csv(n: usize) -> String {
    let mut s = String::from("name,phone\n");
    for i in 0..n {
        s.push_str(&format!("Customer {i},9{i:09}\n"));
    }
    s
}

struct Stats {
    median: Duration,
    p99: Duration,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    let n = v.len().max(1);
    Stats {
        median: v[n / 2],
        p99: v[(n * 99 / 100).min(n - 1)],
    }
}

fn sell(t: &Terminal, owner: &SessionToken, skus: &[String]) -> Duration {
    for s in skus {
        t.add_product_to_cart(owner, &ProductRef::Sku(s.clone()), 1)
            .unwrap();
    }
    let total: i64 = t
        .current_cart(owner)
        .unwrap()
        .unwrap()
        .lines
        .iter()
        .map(|l| l.unit_price_paise)
        .sum();
    let rounded = (total + 50) / 100 * 100;
    let req = FinalizeRequest {
        payments: vec![PaymentInput::Cash {
            amount_paise: rounded,
            tendered_paise: None,
        }],
        ..Default::default()
    };
    let start = Instant::now();
    t.finalize(owner, &req).unwrap();
    start.elapsed()
}

fn main() {
    match std::env::var("GALLA_BENCH_STORE") {
        Ok(kind) => measure_one(&kind),
        Err(_) => compare(),
    }
}

const STORES: [&str; 2] = ["SQLCipher", "SQLite"];

/// Runs each store in its own process and prints the table with ratios.
fn compare() {
    let exe = std::env::current_exe().expect("own path");
    let mut results: Vec<BTreeMap<String, (u64, u64)>> = Vec::new();
    let mut order: Vec<String> = Vec::new();
    for kind in STORES {
        let out = Command::new(&exe)
            .env("GALLA_BENCH_STORE", kind)
            .stderr(Stdio::inherit())
            .output()
            .expect("run the measuring child");
        assert!(out.status.success(), "{kind} run failed");
        let mut map = BTreeMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let f: Vec<&str> = line.split('\t').collect();
            if let ["RESULT", key, median, p99] = f[..] {
                if !order.iter().any(|k| k == key) {
                    order.push(key.to_string());
                }
                map.insert(
                    key.to_string(),
                    (median.parse().unwrap(), p99.parse().unwrap()),
                );
            }
        }
        results.push(map);
    }
    println!(
        "{} products, {} customers, {} samples per measure",
        env("GALLA_BENCH_PRODUCTS", 50_000),
        env("GALLA_BENCH_CUSTOMERS", 50_000),
        env("GALLA_BENCH_SAMPLES", 300)
    );
    println!("| measure | SQLCipher median | p99 | SQLite median | p99 | ratio (median) |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let ms = |ns: u64| format!("{:.3} ms", ns as f64 / 1e6);
    for key in &order {
        let (e, p) = (results[0][key], results[1][key]);
        println!(
            "| {key} | {} | {} | {} | {} | {:.2}x |",
            ms(e.0),
            ms(e.1),
            ms(p.0),
            ms(p.1),
            e.0 as f64 / p.0 as f64
        );
    }
    for key in order.iter().filter(|k| k.starts_with("finalize")) {
        println!(
            "{key}: {:.0} invoices/s on SQLCipher (from the median)",
            1e9 / results[0][key].0 as f64
        );
    }
}

fn report(key: &str, v: Vec<Duration>) {
    let s = stats(v);
    println!(
        "RESULT\t{key}\t{}\t{}",
        s.median.as_nanos(),
        s.p99.as_nanos()
    );
}

fn measure_one(kind: &str) {
    let checkpoints: Vec<usize> = std::env::var("GALLA_BENCH_INVOICES")
        .unwrap_or_else(|_| "0,2000".into())
        .split(',')
        .map(|n| {
            n.trim()
                .parse()
                .expect("GALLA_BENCH_INVOICES: numbers, comma-separated")
        })
        .collect();
    let products = env("GALLA_BENCH_PRODUCTS", 50_000);
    let customers = env("GALLA_BENCH_CUSTOMERS", 50_000);
    let samples = env("GALLA_BENCH_SAMPLES", 300);
    let kc = OsKeychain::connect()
        .unwrap_or_else(|e| panic!("run inside scripts/keyring-session.sh: {e}"));
    let tmp = tempfile::tempdir().unwrap();
    let dir = DataDir::new(tmp.path().join("shop"));
    let clock = Arc::new(SystemClock);
    let (t, owner) = match kind {
        "SQLCipher" => Terminal::init(&dir, &kc, clock, &shop()),
        _ => Terminal::init_plaintext_for_benchmark(&dir, &kc, clock, &shop()),
    }
    .unwrap();

    let start = Instant::now();
    let r = t
        .import_products_csv(&owner, products_csv(products).as_bytes())
        .unwrap();
    assert_eq!(r.imported, products, "{:?}", r.errors.first());
    let p = start.elapsed();
    let start = Instant::now();
    let r = t
        .import_customers_csv(&owner, customers_csv(customers).as_bytes())
        .unwrap();
    assert_eq!(r.imported, customers, "{:?}", r.errors.first());
    eprintln!(
        "{kind}: imported {products} products in {p:?}, {customers} customers in {:?}",
        start.elapsed()
    );

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut timed = |f: &dyn Fn(usize)| {
        (0..samples * 4)
            .map(|_| {
                let k = rng.below(1 << 30);
                let start = Instant::now();
                f(k);
                start.elapsed()
            })
            .collect::<Vec<_>>()
    };
    let barcode = timed(&|k| {
        let code = gs1(&format!("89{:010}", k % products));
        assert!(t.product_by_barcode(&owner, &code).unwrap().is_some());
    });
    report("barcode lookup", barcode);
    let search = timed(&|k| {
        let w = WORDS[k % WORDS.len()];
        let prefix: String = w.chars().take(3).collect();
        let q = format!("{prefix} model {}", k % 50);
        let _ = t.search_products(&owner, &q, 20).unwrap();
    });
    report("name search (3 prefixes, top 20)", search);
    let phone = timed(&|k| {
        let p = format!("9{:09}", k % customers);
        assert_eq!(t.find_customers_by_phone(&owner, &p).unwrap().len(), 1);
    });
    report("phone lookup (blind index)", phone);

    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut stored = 0;
    for target in checkpoints {
        let start = Instant::now();
        t.set_durable_for_benchmark(false).unwrap();
        while stored < target {
            sell(&t, &owner, &[format!("P{}", (stored * 7919) % products)]);
            stored += 1;
            if stored % 100_000 == 0 {
                eprintln!("{kind}: {stored} invoices stored ({:?})", start.elapsed());
            }
        }
        t.set_durable_for_benchmark(true).unwrap();
        let times = (0..samples)
            .map(|_| {
                let skus: Vec<String> = (0..10)
                    .map(|_| format!("P{}", rng.below(products)))
                    .collect();
                sell(&t, &owner, &skus)
            })
            .collect();
        stored += samples;
        report(
            &format!("finalize (10 lines) after {target} invoices"),
            times,
        );
    }
}
