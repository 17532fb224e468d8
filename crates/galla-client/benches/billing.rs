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

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{env, report};
use galla_client::{
    DataDir, FinalizeRequest, NewShop, OsKeychain, PaymentInput, ProductRef, SecretString,
    SessionToken, SystemClock, Terminal,
};

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

/// A 10-line sale's products, picked at random from the catalogue.
fn ten_skus(rng: &mut Rng, products: usize) -> Vec<String> {
    (0..10)
        .map(|_| format!("P{}", rng.below(products)))
        .collect()
}

/// Rings `skus` up, one each, and says how the sale is paid: cash, the total to the rupee.
fn ring_up(t: &Terminal, owner: &SessionToken, skus: &[String]) -> FinalizeRequest {
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
    FinalizeRequest {
        payments: vec![PaymentInput::Cash {
            amount_paise: (total + 50) / 100 * 100,
            tendered_paise: None,
        }],
        ..Default::default()
    }
}

/// One sale; the finalize alone is timed, and its page-cache counters are added to `pages`.
fn sell(t: &Terminal, owner: &SessionToken, skus: &[String], pages: &mut [i64; 3]) -> Duration {
    let req = ring_up(t, owner, skus);
    t.page_counters_for_benchmark();
    let start = Instant::now();
    t.finalize(owner, &req).unwrap();
    let took = start.elapsed();
    for (sum, n) in pages.iter_mut().zip(t.page_counters_for_benchmark()) {
        *sum += n;
    }
    took
}

fn main() {
    match common::child_store() {
        Some(kind) => measure_one(&kind),
        None => {
            println!(
                "{} products, {} customers, {} samples per measure",
                env("GALLA_BENCH_PRODUCTS", 50_000),
                env("GALLA_BENCH_CUSTOMERS", 50_000),
                env("GALLA_BENCH_SAMPLES", 300)
            );
            common::compare_in_children();
        }
    }
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
    if let Ok(kib) = std::env::var("GALLA_BENCH_CACHE_KIB") {
        let kib = kib.parse().expect("GALLA_BENCH_CACHE_KIB: a number of KiB");
        t.set_cache_kib_for_benchmark(kib).unwrap();
        common::note(&format!("page cache {kib} KiB"));
    }

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
        // 1 to 50: a number that starts some product numbers, so every search finds some.
        let q = format!("{prefix} model {}", k % 50 + 1);
        let found = t.search_products(&owner, &q, 20).unwrap();
        assert!(!found.is_empty(), "{q} found nothing");
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
        let (bytes_before, records_before, from) = (
            t.db_bytes_for_benchmark().unwrap(),
            t.audit_records_for_benchmark().unwrap(),
            stored,
        );
        while stored < target {
            sell(
                &t,
                &owner,
                &[format!("P{}", (stored * 7919) % products)],
                &mut [0; 3],
            );
            stored += 1;
            if stored % 100_000 == 0 {
                eprintln!("{kind}: {stored} invoices stored ({:?})", start.elapsed());
            }
        }
        if stored > from {
            let sales = (stored - from) as f64;
            let bytes = t.db_bytes_for_benchmark().unwrap() - bytes_before;
            let records = t.audit_records_for_benchmark().unwrap() - records_before;
            common::note(&format!(
                "filling to {target} (one-line sales): {:.2} signed records and {:.0} database bytes per sale",
                records as f64 / sales,
                bytes as f64 / sales
            ));
        }
        t.set_durable_for_benchmark(true).unwrap();
        let records_before = t.audit_records_for_benchmark().unwrap();
        let mut pages = [0i64; 3];
        let times = (0..samples)
            .map(|_| sell(&t, &owner, &ten_skus(&mut rng, products), &mut pages))
            .collect();
        common::note(&format!(
            "per finalize after {target}: {} cache hits, {} misses, {} pages written; {:.2} signed records per 10-line sale",
            pages[0] / samples as i64,
            pages[1] / samples as i64,
            pages[2] / samples as i64,
            (t.audit_records_for_benchmark().unwrap() - records_before) as f64 / samples as f64
        ));
        stored += samples;
        report(
            &format!("finalize (10 lines) after {target} invoices"),
            times,
        );
        stored += pages_by_btree(&t, &owner, &mut rng, products, target);
    }
}

/// Which tables and indexes a 10-line finalize writes pages of: 20 finalizes with checkpoints
/// off, their WAL frames mapped to b-trees by `dbstat`. Returns the sales it made.
fn pages_by_btree(
    t: &Terminal,
    owner: &SessionToken,
    rng: &mut Rng,
    products: usize,
    after: usize,
) -> usize {
    const SALES: usize = 20;
    t.set_wal_autocheckpoint_for_benchmark(0).unwrap();
    let mut written: Vec<u32> = Vec::new();
    for _ in 0..SALES {
        let req = ring_up(t, owner, &ten_skus(rng, products));
        let (_, from) = t.wal_pages_for_benchmark(u64::MAX).unwrap();
        t.finalize(owner, &req).unwrap();
        written.extend(t.wal_pages_for_benchmark(from).unwrap().0);
    }
    let owners = t
        .page_owners_for_benchmark(&written.iter().copied().collect())
        .unwrap();
    let mut by_owner: std::collections::BTreeMap<&str, usize> = Default::default();
    for p in &written {
        *by_owner.entry(owners[p].as_str()).or_default() += 1;
    }
    let mut rows: Vec<_> = by_owner.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let list: Vec<String> = rows
        .iter()
        .map(|(name, n)| format!("{name} {:.1}", *n as f64 / SALES as f64))
        .collect();
    common::note(&format!(
        "WAL frames per finalize after {after}: {:.1} = {}",
        written.len() as f64 / SALES as f64,
        list.join(", ")
    ));
    t.set_wal_autocheckpoint_for_benchmark(1000).unwrap();
    SALES
}
