//! Billing at scale, on SQLCipher and on an unencrypted twin in the same run: finalizing a
//! 10-line invoice with many invoices already stored, barcode lookup and name search over a
//! large catalogue, and phone lookup over many customers. Prints medians, p99s and ratios.
//!
//! Run (sizes by environment; defaults are a quick run, issue 4's aims are at 1M invoices,
//! 500k products, 1M customers):
//!
//! ```sh
//! GALLA_BENCH_INVOICES=100000 GALLA_BENCH_PRODUCTS=500000 GALLA_BENCH_CUSTOMERS=1000000 \
//!   scripts/keyring-session.sh cargo bench -p galla-client --features bench --bench billing
//! ```

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

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
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
    let invoices = env("GALLA_BENCH_INVOICES", 5_000);
    let products = env("GALLA_BENCH_PRODUCTS", 50_000);
    let customers = env("GALLA_BENCH_CUSTOMERS", 50_000);
    let samples = env("GALLA_BENCH_SAMPLES", 300);
    let kc = OsKeychain::connect()
        .unwrap_or_else(|e| panic!("run inside scripts/keyring-session.sh: {e}"));
    let tmp = tempfile::tempdir().unwrap();
    let clock = Arc::new(SystemClock);
    let (enc, enc_owner) = Terminal::init(
        &DataDir::new(tmp.path().join("enc")),
        &kc,
        clock.clone(),
        &shop(),
    )
    .unwrap();
    let (plain, plain_owner) = Terminal::init_plaintext_for_benchmark(
        &DataDir::new(tmp.path().join("plain")),
        &kc,
        clock.clone(),
        &shop(),
    )
    .unwrap();
    let stores = [
        ("SQLCipher", &enc, &enc_owner),
        ("SQLite", &plain, &plain_owner),
    ];

    let pcsv = products_csv(products);
    let ccsv = customers_csv(customers);
    for (name, t, owner) in stores {
        let start = Instant::now();
        let r = t.import_products_csv(owner, pcsv.as_bytes()).unwrap();
        assert_eq!(r.imported, products, "{:?}", r.errors.first());
        let p = start.elapsed();
        let start = Instant::now();
        let r = t.import_customers_csv(owner, ccsv.as_bytes()).unwrap();
        assert_eq!(r.imported, customers, "{:?}", r.errors.first());
        eprintln!(
            "{name}: imported {products} products in {p:?}, {customers} customers in {:?}",
            start.elapsed()
        );
    }

    // Fill with one-line invoices, then time 10-line finalizes (only the finalize call).
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let start = Instant::now();
    for i in 0..invoices {
        for (_, t, owner) in stores {
            let sku = format!("P{}", (i * 7919) % products);
            sell(t, owner, &[sku]);
        }
    }
    eprintln!(
        "filled {invoices} invoices per store in {:?}",
        start.elapsed()
    );
    let (mut fin_enc, mut fin_plain) = (Vec::new(), Vec::new());
    for _ in 0..samples {
        let skus: Vec<String> = (0..10)
            .map(|_| format!("P{}", rng.below(products)))
            .collect();
        fin_enc.push(sell(&enc, &enc_owner, &skus));
        fin_plain.push(sell(&plain, &plain_owner, &skus));
    }

    let mut lookups = |f: &dyn Fn(&Terminal, &SessionToken, usize)| {
        let (mut e, mut p) = (Vec::new(), Vec::new());
        for _ in 0..samples * 4 {
            let k = rng.below(1 << 30);
            for (out, t, owner) in [(&mut e, &enc, &enc_owner), (&mut p, &plain, &plain_owner)] {
                let start = Instant::now();
                f(t, owner, k);
                out.push(start.elapsed());
            }
        }
        (stats(e), stats(p))
    };
    let barcode = lookups(&|t, o, k| {
        let code = gs1(&format!("89{:010}", k % products));
        assert!(t.product_by_barcode(o, &code).unwrap().is_some());
    });
    let search = lookups(&|t, o, k| {
        let w = WORDS[k % WORDS.len()];
        let prefix: String = w.chars().take(3).collect();
        let q = format!("{prefix} model {}", k % 50);
        let _ = t.search_products(o, &q, 20).unwrap();
    });
    let phone = lookups(&|t, o, k| {
        let p = format!("9{:09}", k % customers);
        assert_eq!(t.find_customers_by_phone(o, &p).unwrap().len(), 1);
    });

    let (fe, fp) = (stats(fin_enc), stats(fin_plain));
    println!(
        "finalize a 10-line invoice, {samples} samples, after {invoices} invoices; {products} products, {customers} customers"
    );
    println!("| measure | SQLCipher median | p99 | SQLite median | p99 | ratio (median) |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let row = |name: &str, e: &Stats, p: &Stats| {
        println!(
            "| {name} | {} | {} | {} | {} | {:.2}x |",
            ms(e.median),
            ms(e.p99),
            ms(p.median),
            ms(p.p99),
            e.median.as_secs_f64() / p.median.as_secs_f64()
        );
    };
    row("finalize (10 lines)", &fe, &fp);
    row("barcode lookup", &barcode.0, &barcode.1);
    row("name search (prefix, 3 words)", &search.0, &search.1);
    row("phone lookup (blind index)", &phone.0, &phone.1);
    println!(
        "finalize throughput (SQLCipher, median): {:.0} invoices/s",
        1.0 / fe.median.as_secs_f64()
    );
}
