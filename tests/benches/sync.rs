//! Prices sync end to end (issue 7): how many of a terminal's operations one sync pass takes
//! to the cloud per second, and how long a new terminal takes to pull a shop of a million
//! shared rows when it enrolls.
//!
//! Both run the real parts: a private PostgreSQL (fsync=off, see `pg_cluster.rs`), the cloud
//! over TLS 1.3 on loopback, and a real terminal on SQLCipher with durable writes, all in this
//! process and on this machine's cores. The terminal's keys live in an in-memory keychain (the
//! keychain is not what is measured).
//!
//! 1. Push: a standalone shop makes `GALLA_BENCH_OPS` operations offline (cash sales of one or
//!    two lines, with a new customer every tenth), links, and one timed `sync_pass` sends them
//!    all: the outbox read, the batches over TLS, the server's chain check, audit insert,
//!    Merkle append, checkpoint and shared-state derivation, the terminal's consistency and
//!    inclusion checks, and the pull of the shared state the push produced back onto the
//!    terminal. Operations per second are the operations over that whole pass.
//! 2. Initial pull: `GALLA_BENCH_PULL_ROWS` customer rows are added to the tenant's shared
//!    state (copies of a real pushed customer with new ids, written by SQL: pushing them would
//!    price the push again), and a new terminal enrolls with a code; the timed call is the
//!    whole `Terminal::enroll`: redeeming the code, paging the change feed, staging, applying
//!    in one transaction, and the terminal's first audited write.
//!
//! Run: `cargo bench -p galla-tests --bench sync`
//! Sizes: `GALLA_BENCH_OPS` (default 20,000) and `GALLA_BENCH_PULL_ROWS` (default 1,000,000).
//! `GALLA_BENCH_COMPRESSION=pglz` stores the large values with PostgreSQL's default compression
//! instead of the schema's lz4, to price that choice.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use galla_client::{
    DataDir, EnrollTerminal, FinalizeRequest, LinkRequest, MemoryKeychain, NewCustomer, NewProduct,
    NewShop, PaymentInput, ProductRef, SaleTerms, SecretString, SystemClock, Terminal,
};
use galla_cloud::testing::TestCloud;

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v
            .replace(['_', ','], "")
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a whole number")),
        Err(_) => default,
    }
}

/// Sets the compression of the columns the schema stores with lz4 (as the database's owner).
async fn set_compression(cloud: &TestCloud, method: &str) {
    assert!(
        matches!(method, "pglz" | "lz4"),
        "GALLA_BENCH_COMPRESSION is pglz or lz4"
    );
    let (client, conn) = tokio_postgres::connect(
        &cloud
            .cluster
            .connection_string(galla_cloud::db::OWNER_ROLE, galla_cloud::db::DATABASE),
        tokio_postgres::NoTls,
    )
    .await
    .expect("an owner connection");
    tokio::spawn(conn);
    client
        .batch_execute(&format!(
            "ALTER TABLE audit_record ALTER COLUMN record SET COMPRESSION {method};
             ALTER TABLE shared_row ALTER COLUMN data SET COMPRESSION {method};
             ALTER TABLE shared_row ALTER COLUMN stamps SET COMPRESSION {method};"
        ))
        .await
        .expect("the compression set");
    println!("large values compressed with {method}");
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_millis() as i64
}

fn main() {
    let ops = env_usize("GALLA_BENCH_OPS", 20_000);
    let pull_rows = env_usize("GALLA_BENCH_PULL_ROWS", 1_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let cloud = rt.block_on(TestCloud::start(&dir.path().join("cloud"), now_ms()));
    if let Ok(method) = std::env::var("GALLA_BENCH_COMPRESSION") {
        rt.block_on(set_compression(&cloud, &method));
    }
    // The terminals sign requests with the real time; the test cloud's clock follows it.
    let running = Arc::new(AtomicBool::new(true));
    let ticker = {
        let (clock, running) = (cloud.clock.clone(), running.clone());
        std::thread::spawn(move || {
            while running.load(Ordering::Relaxed) {
                clock.set_ms(now_ms());
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let keychain = MemoryKeychain::default();

    // 1. Push.
    let (shop, owner) = Terminal::init(
        &DataDir::new(dir.path().join("a")),
        &keychain,
        Arc::new(SystemClock),
        &NewShop {
            shop_name: "Bench Mobiles".into(),
            gstin: Some("27AAPFU0939F1ZV".into()),
            state_code: None,
            owner_name: "Owner".into(),
            owner_passphrase: SecretString::new("bench passphrase"),
            terminal_name: "Counter 1".into(),
            series_code: "B1".into(),
        },
    )
    .expect("a shop");
    for (sku, price) in [("COVER", 29_900), ("CABLE", 19_900)] {
        shop.add_product(
            &owner,
            &NewProduct {
                sku: sku.into(),
                name: sku.to_lowercase(),
                hsn: Some("8517".into()),
                gst_rate_bp: 1800,
                price_paise: price,
                ..Default::default()
            },
        )
        .expect("a product");
    }
    let filling = Instant::now();
    let (mut made, mut sales) = (0, 0);
    while made < ops {
        if made % 10 == 9 {
            shop.add_customer(
                &owner,
                &NewCustomer {
                    name: format!("Customer {made}"),
                    phone: Some(format!("9{:09}", made)),
                    ..Default::default()
                },
            )
            .expect("a customer");
        } else {
            shop.add_product_to_cart(&owner, &ProductRef::Sku("COVER".into()), 1)
                .expect("a line");
            if made % 2 == 0 {
                shop.add_product_to_cart(&owner, &ProductRef::Sku("CABLE".into()), 2)
                    .expect("a line");
            }
            let total = shop
                .quote_cart(&owner, &SaleTerms::default())
                .expect("a quote")
                .total_paise;
            shop.finalize(
                &owner,
                &FinalizeRequest {
                    payments: vec![PaymentInput::Cash {
                        amount_paise: total,
                        tendered_paise: None,
                    }],
                    ..Default::default()
                },
            )
            .expect("a sale");
            sales += 1;
        }
        made += 1;
    }
    let made_records = shop.status().expect("status").audit_records;
    println!(
        "made {ops} operations offline ({sales} sales) in {:.1} s ({made_records} audit records \
         in the chain with the shop's set-up: {:.2} per operation)",
        filling.elapsed().as_secs_f64(),
        made_records as f64 / ops as f64
    );
    shop.link_cloud(
        &owner,
        &LinkRequest {
            server_url: cloud.url(),
            ca_pem: cloud.ca_pem.clone(),
            owner_passphrase: SecretString::new("cloud owner passphrase"),
        },
    )
    .expect("linked");
    let records = shop.status().expect("status").audit_records;
    let start = Instant::now();
    let report = shop.sync_pass(&keychain).expect("a sync pass");
    let took = start.elapsed().as_secs_f64();
    assert_eq!(report.pushed, records, "every record was sent");
    println!(
        "push: one sync pass sent {} records ({ops} operations, {sales} sales) in {took:.2} s: \
         {:.0} operations/s, {:.0} sales/s, {:.0} records/s; it pulled back {} shared rows",
        report.pushed,
        ops as f64 / took,
        sales as f64 / took,
        report.pushed as f64 / took,
        report.pulled.written
    );

    // 2. Initial pull.
    let tenant = shop.tenant_id();
    let filling = Instant::now();
    let n = pull_rows as i64;
    rt.block_on(cloud.db.in_tenant(tenant, async |tx| {
        tx.execute(
            "WITH template AS (
                 SELECT data, stamps, device_id FROM shared_row
                 WHERE tbl = 'customer' AND data IS NOT NULL LIMIT 1
             ), feed AS (
                 UPDATE change_feed SET last_change = last_change + $2
                 WHERE tenant_id = $1 RETURNING last_change - $2 AS base
             ), ids AS (
                 SELECT g, gen_random_uuid()::text AS id FROM generate_series(1, $2) g
             )
             INSERT INTO shared_row (tenant_id, tbl, row_id, data, stamps, device_id, change)
             SELECT $1, 'customer', ids.id,
                    (template.data - 'phone_ct' - 'phone_bidx' - 'email_ct' - 'address_ct'
                        - 'gstin_ct' - 'gstin_bidx')
                      || jsonb_build_object('id', ids.id, 'name', 'Pulled customer ' || ids.g),
                    template.stamps, template.device_id, feed.base + ids.g
             FROM ids, template, feed",
            &[&tenant, &n],
        )
        .await?;
        Ok(())
    }))
    .expect("the synthetic rows");
    println!(
        "added {pull_rows} customer rows to the shared state in {:.1} s",
        filling.elapsed().as_secs_f64()
    );
    let code = rt
        .block_on(galla_cloud::api::enroll::issue(cloud.state(), tenant, None))
        .expect("a code");
    let start = Instant::now();
    let joined = Terminal::enroll(
        &DataDir::new(dir.path().join("b")),
        &keychain,
        Arc::new(SystemClock),
        &EnrollTerminal {
            server_url: cloud.url(),
            ca_pem: cloud.ca_pem.clone(),
            code: code.code,
            terminal_name: "Counter 2".into(),
        },
    )
    .expect("enrolled");
    let took = start.elapsed().as_secs_f64();
    let customers: i64 = joined
        .with_reader(|c| Ok(c.query_row("SELECT count(*) FROM customer", [], |r| r.get(0))?))
        .expect("a count");
    let total: i64 = joined
        .with_reader(|c| {
            Ok(c.query_row(
                "SELECT (SELECT count(*) FROM customer) + (SELECT count(*) FROM invoice)
                      + (SELECT count(*) FROM invoice_line) + (SELECT count(*) FROM payment)
                      + (SELECT count(*) FROM product) + (SELECT count(*) FROM seat)",
                [],
                |r| r.get(0),
            )?)
        })
        .expect("a count");
    assert!(
        customers as usize >= pull_rows,
        "every pulled customer arrived"
    );
    println!(
        "initial pull: a new terminal enrolled and took {total} rows ({customers} customers) in \
         {took:.1} s: {:.0} rows/s",
        total as f64 / took
    );
    running.store(false, Ordering::Relaxed);
    let _ = ticker.join();
}
