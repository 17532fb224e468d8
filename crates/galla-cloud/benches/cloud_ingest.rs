//! Prices audit ingestion on the cloud (issue 6): how many signed audit records per second the
//! real server accepts end to end, and what the tenant's Merkle log costs to append to and to
//! prove from as it grows to a million leaves. The aim is >= 5,000 records/s on a 2-core machine.
//!
//! Everything is started as the API tests start it, on this machine: a private PostgreSQL
//! (fsync=off, see `pg_cluster.rs`), the server over TLS 1.3 on loopback, and the terminals as
//! reqwest clients in the server's process. The clients share the cores with the server and
//! PostgreSQL (which makes the figures low), and nothing waits for the disk (which makes them
//! high). Records and requests are signed before the clock starts: that is the terminal's work.
//!
//! Run: `cargo bench -p galla-cloud --bench cloud_ingest`
//! Sizes: `GALLA_BENCH_RECORDS` (per ingestion configuration, default 50,000) and
//! `GALLA_BENCH_LEAVES` (the Merkle log's final size, default 1,000,000; a multiple of 1,000).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signer as _, SigningKey};
use galla_cloud::clock::{Clock as _, SystemClock};
use galla_cloud::rate_limit::{RateLimitConfig, RateLimits};
use galla_cloud::server::{self, AppState};
use galla_cloud::tls::DevCa;
use galla_cloud::{Db, PgCluster, tlog};
use galla_proto::api::{self as wire, *};
use galla_proto::audit::{AuditRecord, ChainVerifier, GENESIS_HASH, SignedAuditRecord};
use galla_proto::merkle::{self, Frontier, Hash};
use galla_proto::request_auth::{RequestParts, sign_request};
use reqwest::StatusCode;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::de::DeserializeOwned;
use uuid::Uuid;

const PASSPHRASE: &str = "correct horse battery staple";
/// The size of each record's after image: a small invoice's worth of canonical JSON. (The API
/// tests' records carry 20 bytes; a finalize on the till carries about 12 KB, see
/// docs/benchmarks.md, "Store".)
const IMAGE_BYTES: usize = 1024;
const LOG_BATCH: u64 = 1000;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .replace(['_', ','], "")
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a whole number")),
        Err(_) => default,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// (median, p99) of a sample.
fn median_p99(mut v: Vec<Duration>) -> (Duration, Duration) {
    assert!(!v.is_empty(), "an empty sample");
    v.sort();
    let p99 = ((v.len() * 99).div_ceil(100)).clamp(1, v.len()) - 1;
    (v[v.len() / 2], v[p99])
}

/// A deterministic xorshift: random indexes without a dependency, the same on every run.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

// ---------------------------------------------------------------------------------------------
// The cloud, started as tests/support/mod.rs starts it, with the real clock.

struct Cloud {
    state: Arc<AppState>,
    addr: SocketAddr,
    http: reqwest::Client,
    handle: axum_server::Handle<SocketAddr>,
    // Dropped after the server is told to stop (fields drop in order): stops PostgreSQL.
    _cluster: PgCluster,
    _dir: tempfile::TempDir,
}

impl Cloud {
    async fn start() -> Cloud {
        let dir = tempfile::tempdir().expect("a temp folder");
        let (cluster, db) =
            galla_cloud::testing::migrated_cluster(&dir.path().join("pg"), 16).await;

        let (kms, log_key) = (
            dir.path().join("keys/kms.key"),
            dir.path().join("keys/log.key"),
        );
        galla_cloud::config::init_keys(&kms, &log_key).expect("keys");
        // Limits far above what the bench sends: it measures the work, not the buckets.
        let limits = RateLimitConfig {
            per_address_per_second: 1_000_000,
            per_address_burst: 1_000_000,
            per_device_per_second: 1_000_000,
            per_device_burst: 1_000_000,
            sensitive_per_minute: 10_000,
        };
        let state = Arc::new(AppState {
            db,
            clock: Arc::new(SystemClock),
            kms: Arc::new(galla_cloud::kms::FileKms::open(&kms).expect("kms")),
            log: tlog::LogSigner::new(
                "galla-cloud.bench",
                galla_cloud::config::load_signing_key(&log_key).expect("log key"),
            )
            .expect("log signer"),
            limits: RateLimits::new(&limits),
            request_timeout: server::REQUEST_TIMEOUT,
        });

        let ca = DevCa::ensure(&dir.path().join("tls")).expect("dev CA");
        let addr: SocketAddr = format!("127.0.0.1:{}", galla_cloud::testing::free_port())
            .parse()
            .unwrap();
        let handle = axum_server::Handle::new();
        let served = tokio::spawn(server::serve(
            addr,
            ca.server_config().expect("TLS config"),
            state.clone(),
            handle.clone(),
        ));
        if handle.listening().await.is_none() {
            panic!("the server did not start: {:?}", served.await);
        }
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(&ca.ca_cert).expect("the CA file") {
            roots.add(cert.expect("a CA certificate")).expect("a root");
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("TLS 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .build()
            .expect("an HTTPS client");
        Cloud {
            state,
            addr,
            http,
            handle,
            _cluster: cluster,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    fn db(&self) -> &Db {
        &self.state.db
    }

    /// A new shop with its owner signed in: (tenant, owner token).
    async fn shop(&self, name: &str) -> (Uuid, String) {
        let request = CreateTenantRequest {
            shop_name: name.into(),
            owner_name: "Ravi Sharma".into(),
            owner_passphrase: PASSPHRASE.into(),
            link: None,
        };
        let response = self.http.post(self.url(PATH_TENANTS)).json(&request).send();
        let created: CreateTenantResponse = expect(response, StatusCode::CREATED).await;
        let totp = totp_rs::Totp::from_url(&created.owner_totp_uri).expect("an otpauth URI");
        let now_s = (SystemClock.now_ms() / 1000) as u64;
        let sign_in = OwnerSignIn {
            tenant_id: created.tenant_id,
            passphrase: PASSPHRASE.into(),
            totp_code: totp.generate(now_s).to_string(),
        };
        let response = self
            .http
            .post(self.url(PATH_OWNER_SESSION))
            .json(&sign_in)
            .send();
        let session: OwnerSession = expect(response, StatusCode::OK).await;
        (created.tenant_id, session.token)
    }

    /// Issues a code as the owner and enrolls a terminal with the device key of `seed`.
    async fn enroll(&self, token: &str, seed: u8) -> Device {
        let response = self
            .http
            .post(self.url(PATH_OWNER_ENROLLMENT_CODES))
            .bearer_auth(token)
            .json(&IssueEnrollmentCode::default())
            .send();
        let code: EnrollmentCode = expect(response, StatusCode::CREATED).await;
        let key = SigningKey::from_bytes(&[seed; 32]);
        let public = key.verifying_key().to_bytes();
        let request = EnrollRequest {
            code: code.code.clone(),
            device_public_key: BASE64.encode(public),
            proof: BASE64.encode(
                key.sign(&wire::enroll_proof_message(&code.code, &public))
                    .to_bytes(),
            ),
        };
        let response = self.http.post(self.url(PATH_ENROLL)).json(&request).send();
        let enrolled: EnrollResponse = expect(response, StatusCode::CREATED).await;
        Device {
            key,
            tenant_id: enrolled.tenant_id,
            device_id: enrolled.device_id,
            nonces: 0,
        }
    }

    /// Counts rows of `table` for `tenant`, through the app role and RLS.
    async fn count(&self, tenant: Uuid, table: &str) -> i64 {
        let sql = format!("SELECT count(*) FROM {table} WHERE tenant_id = $1");
        self.db()
            .in_tenant(tenant, async |tx| {
                Ok(tx.query_one(&sql, &[&tenant]).await?.get(0))
            })
            .await
            .unwrap_or_else(|e| panic!("counting {table}: {e}"))
    }
}

impl Drop for Cloud {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

/// The response's JSON when it has the wanted status; anything else stops the bench.
async fn expect<T: DeserializeOwned>(
    response: impl Future<Output = reqwest::Result<reqwest::Response>>,
    want: StatusCode,
) -> T {
    let response = response.await.expect("the request reaches the server");
    let status = response.status();
    let body = response.bytes().await.expect("the response body");
    assert_eq!(status, want, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&body)))
}

// ---------------------------------------------------------------------------------------------
// 1. Ingestion through the real server.

struct Device {
    key: SigningKey,
    tenant_id: Uuid,
    device_id: Uuid,
    nonces: u64,
}

impl Device {
    /// The device's first `n` records, chained and signed as the till signs them.
    fn chain(&self, n: u64) -> Vec<SignedAuditRecord> {
        let note = "x".repeat(IMAGE_BYTES - 40);
        let mut out: Vec<SignedAuditRecord> = Vec::with_capacity(n as usize);
        for seq in 1..=n {
            let record = AuditRecord {
                tenant_id: self.tenant_id,
                device_id: self.device_id,
                seq,
                prev_hash: out.last().map_or(GENESIS_HASH, |r| r.hash),
                time_ms: 1_795_240_800_000 + seq as i64,
                seat_id: None,
                role: "counter_staff".into(),
                action: "invoice.finalize".into(),
                entity_type: "invoice".into(),
                entity_id: format!("T1/26-27/{seq:06}"),
                before: None,
                after: Some(
                    format!("{{\"total_paise\":{:012},\"note\":\"{note}\"}}", seq * 100)
                        .into_bytes(),
                ),
            };
            out.push(record.sign(&self.key).expect("a record"));
        }
        out
    }

    /// `POST /v1/audit` requests for `records` in batches of `batch`, each signed with a fresh
    /// nonce, ready to send: (request, records in it, last seq).
    fn pushes(
        &mut self,
        cloud: &Cloud,
        records: &[SignedAuditRecord],
        batch: usize,
    ) -> Vec<(reqwest::Request, u64, u64)> {
        records
            .chunks(batch)
            .map(|chunk| {
                let body = serde_json::to_vec(&AuditPush {
                    records: chunk
                        .iter()
                        .map(|r| PushedRecord {
                            seq: r.record.seq,
                            record: BASE64.encode(&r.encoded),
                            signature: BASE64.encode(r.signature),
                            secrets: None,
                        })
                        .collect(),
                })
                .expect("a push body");
                self.nonces += 1;
                let mut nonce = [0u8; 16];
                nonce[..8].copy_from_slice(&self.nonces.to_be_bytes());
                nonce[8..].copy_from_slice(&self.device_id.as_bytes()[8..]);
                // The server allows five minutes of skew: a configuration finishes well within.
                let headers = sign_request(
                    &self.key,
                    RequestParts {
                        method: "POST",
                        path_and_query: PATH_AUDIT,
                        body: &body,
                    },
                    self.tenant_id,
                    self.device_id,
                    SystemClock.now_ms(),
                    nonce,
                );
                let mut request = cloud
                    .http
                    .post(cloud.url(PATH_AUDIT))
                    .header("content-type", "application/json");
                for (name, value) in headers.to_pairs() {
                    request = request.header(name, value);
                }
                let request = request.body(body).build().expect("a request");
                let last = chunk.last().expect("a non-empty chunk").record.seq;
                (request, chunk.len() as u64, last)
            })
            .collect()
    }
}

/// Sends one device's pushes in order, each after the previous answer (a terminal's sync
/// loop); returns each request's round-trip time.
async fn push_all(
    http: reqwest::Client,
    pushes: Vec<(reqwest::Request, u64, u64)>,
) -> Vec<Duration> {
    let mut times = Vec::with_capacity(pushes.len());
    for (request, n, last) in pushes {
        let started = Instant::now();
        let answer: AuditPushResponse = expect(http.execute(request), StatusCode::OK).await;
        times.push(started.elapsed());
        assert_eq!(
            (answer.appended, answer.head_seq),
            (n, last),
            "the server did not take the whole batch"
        );
    }
    times
}

struct Config {
    label: &'static str,
    batch: usize,
    /// Devices pushing at once, and whether each is in a shop of its own (so the pushes do not
    /// queue on one tenant's log lock).
    devices: usize,
    separate_shops: bool,
}

async fn ingestion(cloud: &Cloud, records: u64) {
    println!("\n1. Audit ingestion through the server (TLS 1.3, HTTP/1.1, loopback)");
    let sample = Device {
        key: SigningKey::from_bytes(&[201; 32]),
        tenant_id: Uuid::now_v7(),
        device_id: Uuid::now_v7(),
        nonces: 0,
    }
    .chain(1);
    println!(
        "   {records} records of {} bytes (encoded) per configuration; PostgreSQL runs with fsync=off",
        sample[0].encoded.len()
    );
    let configs = [
        Config {
            label: "batch 100, 1 device",
            batch: 100,
            devices: 1,
            separate_shops: false,
        },
        Config {
            label: "batch 1000, 1 device",
            batch: 1000,
            devices: 1,
            separate_shops: false,
        },
        Config {
            label: "batch 100, 2 devices, 1 shop",
            batch: 100,
            devices: 2,
            separate_shops: false,
        },
        Config {
            label: "batch 1000, 2 devices, 1 shop",
            batch: 1000,
            devices: 2,
            separate_shops: false,
        },
        Config {
            label: "batch 100, 2 devices, 2 shops",
            batch: 100,
            devices: 2,
            separate_shops: true,
        },
        Config {
            label: "batch 1000, 2 devices, 2 shops",
            batch: 1000,
            devices: 2,
            separate_shops: true,
        },
    ];
    let (shop_a, token_a) = cloud.shop("Sharma Mobiles").await;
    let (shop_b, token_b) = cloud.shop("Gupta Electronics").await;
    let mut seed = 0u8;
    let mut expected = [(shop_a, 0u64), (shop_b, 0u64)];

    println!(
        "   {:<32} {:>8} {:>8} {:>10} {:>12} {:>12}",
        "configuration", "records", "seconds", "records/s", "request med", "request p99"
    );
    for config in &configs {
        let per_device = records.div_ceil(config.devices as u64);
        let mut loads = Vec::new();
        for d in 0..config.devices {
            seed += 1;
            let second = config.separate_shops && d == 1;
            let token = if second { &token_b } else { &token_a };
            let mut device = cloud.enroll(token, seed).await;
            expected[usize::from(second)].1 += per_device;
            // The terminal's work, before the clock starts.
            let chain = device.chain(per_device);
            loads.push(device.pushes(cloud, &chain, config.batch));
        }
        let started = Instant::now();
        let tasks: Vec<_> = loads
            .into_iter()
            .map(|load| tokio::spawn(push_all(cloud.http.clone(), load)))
            .collect();
        let mut times = Vec::new();
        for task in tasks {
            times.extend(task.await.expect("a pushing task failed"));
        }
        let elapsed = started.elapsed();
        let total = per_device * config.devices as u64;
        let (median, p99) = median_p99(times);
        println!(
            "   {:<32} {:>8} {:>8.2} {:>10.0} {:>9.1} ms {:>9.1} ms",
            config.label,
            total,
            elapsed.as_secs_f64(),
            total as f64 / elapsed.as_secs_f64(),
            ms(median),
            ms(p99)
        );
    }
    // Every record is stored and in its shop's log: the figures above are of real work.
    for (shop, n) in expected {
        assert_eq!(cloud.count(shop, "audit_record").await, n as i64);
        let size = cloud
            .db()
            .in_tenant(shop, async |tx| tlog::size(tx, shop).await)
            .await
            .expect("the log size");
        assert_eq!(size, n, "the log of {shop} holds every record");
    }
}

/// What one record costs the server's CPU before any I/O, on one core: the JSON and base64 of
/// the push, and the chain check (decode, link, Ed25519 verification, SHA-256). A floor that
/// helps read the end-to-end figures.
fn per_record_cpu(records: u64) {
    let n = records.min(20_000);
    let device = Device {
        key: SigningKey::from_bytes(&[200; 32]),
        tenant_id: Uuid::now_v7(),
        device_id: Uuid::now_v7(),
        nonces: 0,
    };
    let chain = device.chain(n);
    let body = serde_json::to_vec(&AuditPush {
        records: chain
            .iter()
            .map(|r| PushedRecord {
                seq: r.record.seq,
                record: BASE64.encode(&r.encoded),
                signature: BASE64.encode(r.signature),
                secrets: None,
            })
            .collect(),
    })
    .expect("a body");

    let started = Instant::now();
    let push: AuditPush = serde_json::from_slice(&body).expect("the body parses");
    let decoded: Vec<(u64, Vec<u8>, Vec<u8>)> = push
        .records
        .into_iter()
        .map(|r| {
            let record = BASE64.decode(&r.record).expect("base64");
            let signature = BASE64.decode(&r.signature).expect("base64");
            (r.seq, record, signature)
        })
        .collect();
    let parse = started.elapsed();

    let started = Instant::now();
    let mut verifier = ChainVerifier::new(
        device.key.verifying_key(),
        device.tenant_id,
        device.device_id,
    );
    for (seq, record, signature) in &decoded {
        verifier
            .push(*seq, record, signature)
            .expect("the chain verifies");
    }
    let verify = started.elapsed();

    let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    println!("\n   Server CPU per record, one core, no I/O ({n} records):");
    println!(
        "     JSON + base64 decode of the push   {:>6.2} µs",
        per(parse)
    );
    println!(
        "     chain check (Ed25519 + SHA-256)    {:>6.2} µs  (one core's ceiling: {:.0} records/s)",
        per(verify),
        n as f64 / verify.as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------------
// 2. The Merkle log.

/// Synthetic leaf `i`: 256 bytes, distinct per index, so proofs can be checked against it.
fn leaf(i: u64) -> Vec<u8> {
    let mut v = vec![0x5a; 256];
    v[..8].copy_from_slice(&i.to_be_bytes());
    v
}

/// Windows of `width` leaves centred on each of `points` and kept within [0, size).
fn windows(points: &[u64], width: u64, size: u64) -> Vec<(u64, u64, u64)> {
    points
        .iter()
        .map(|&p| {
            let start = p.saturating_sub(width / 2).min(size - width);
            (p, start, start + width)
        })
        .collect()
}

/// (a) In memory: `Frontier::append` per leaf, the same work the server does per record.
fn frontier_in_memory(size: u64) {
    println!("\n2a. Frontier::append in memory (leaf hashes computed beforehand)");
    let hashes: Vec<Hash> = (0..size).map(|i| merkle::leaf_hash(&leaf(i))).collect();
    let width = (size / 20).max(1);
    let windows = windows(&[0, size / 10, size / 2, size], width, size);
    // Three passes; each window's figure is the median of the three.
    let mut samples = vec![Vec::new(); windows.len()];
    let mut nodes = 0usize;
    for _ in 0..3 {
        let mut frontier = Frontier::new();
        let mut at = 0u64;
        for (w, &(_, start, end)) in windows.iter().enumerate() {
            for h in &hashes[at as usize..start as usize] {
                nodes += frontier.append(*h).expect("room").len();
            }
            let started = Instant::now();
            for h in &hashes[start as usize..end as usize] {
                nodes += std::hint::black_box(frontier.append(*h).expect("room")).len();
            }
            samples[w].push(started.elapsed());
            at = end;
        }
    }
    assert!(nodes > 0);
    println!("   {:<28} {:>10}", "window (leaves)", "ns/leaf");
    for (&(_, start, end), mut s) in windows.iter().zip(samples) {
        s.sort();
        println!(
            "   {:<28} {:>10.0}",
            format!("{start}..{end}"),
            s[1].as_nanos() as f64 / (end - start) as f64
        );
    }
    let sample = &leaf(0);
    let started = Instant::now();
    for _ in 0..100_000 {
        std::hint::black_box(merkle::leaf_hash(std::hint::black_box(sample)));
    }
    println!(
        "   (leaf_hash of a 256-byte leaf, for comparison: {:.0} ns)",
        started.elapsed().as_nanos() as f64 / 100_000.0
    );
}

/// (b) In PostgreSQL: `tlog::{lock, append, commit}` in one tenant transaction per batch of
/// 1,000 leaves, as `POST /v1/audit` calls them, until the log holds `size` leaves.
async fn log_in_postgres(cloud: &Cloud, size: u64) {
    println!(
        "\n2b. The tenant log in PostgreSQL: batches of {LOG_BATCH} leaves (lock, append, commit)"
    );
    assert!(
        size >= 2 * LOG_BATCH && size.is_multiple_of(LOG_BATCH),
        "GALLA_BENCH_LEAVES must be a multiple of {LOG_BATCH}, at least {}",
        2 * LOG_BATCH
    );
    let db = cloud.db();
    let signer = &cloud.state.log;
    let tenant = Uuid::now_v7();
    db.in_tenant(tenant, async |tx| {
        tx.execute(
            "INSERT INTO tenant (tenant_id, name) VALUES ($1, 'Merkle bench')",
            &[&tenant],
        )
        .await?;
        tlog::create(tx, tenant, signer, SystemClock.now_ms()).await
    })
    .await
    .expect("a tenant with an empty log");

    // The same leaves in memory: the stored log's root must come out the same.
    let mut mirror = Frontier::new();
    let batches = size / LOG_BATCH;
    let mut times = Vec::with_capacity(batches as usize);
    let started_all = Instant::now();
    for b in 0..batches {
        let data: Vec<Vec<u8>> = (b * LOG_BATCH..(b + 1) * LOG_BATCH).map(leaf).collect();
        let leaves: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
        for l in &leaves {
            mirror.append(merkle::leaf_hash(l)).expect("room");
        }
        let started = Instant::now();
        let first = db
            .in_tenant(tenant, async |tx| {
                let mut frontier = tlog::lock(tx, tenant).await?;
                let (first, nodes) = tlog::append(&mut frontier, &leaves)?;
                tlog::commit(tx, tenant, &frontier, &nodes, signer, SystemClock.now_ms()).await?;
                Ok(first)
            })
            .await
            .unwrap_or_else(|e| panic!("appending batch {b}: {e}"));
        times.push(started.elapsed());
        assert_eq!(first, b * LOG_BATCH);
    }
    let total = started_all.elapsed();

    let width = (batches / 10).max(1);
    let points: Vec<u64> = [0, 1, 2, 3, 4].iter().map(|q| batches * q / 4).collect();
    println!(
        "   {:<24} {:>8} {:>10} {:>10}",
        "log size (leaves)", "batches", "median", "p99"
    );
    for (p, start, end) in windows(&points, width, batches) {
        let (median, p99) = median_p99(times[start as usize..end as usize].to_vec());
        println!(
            "   {:<24} {:>8} {:>7.2} ms {:>7.2} ms",
            format!(
                "~{} ({}..{})",
                p * LOG_BATCH,
                start * LOG_BATCH,
                end * LOG_BATCH
            ),
            end - start,
            ms(median),
            ms(p99)
        );
    }
    println!(
        "   {size} leaves in {:.1} s ({:.0} leaves/s)",
        total.as_secs_f64(),
        size as f64 / total.as_secs_f64()
    );

    let nodes = cloud.count(tenant, "log_node").await;
    let expected_nodes = 2 * size - u64::from(size.count_ones());
    assert_eq!(
        nodes as u64, expected_nodes,
        "log_node holds every perfect subtree"
    );
    let (stored_size, root) = checkpoint_root(db, tenant, None).await;
    assert_eq!(
        (stored_size, root),
        (size, mirror.root()),
        "the stored root"
    );
    println!(
        "   log_node rows: {nodes} (2n - popcount(n)); the stored root matches one computed in memory"
    );

    // Proofs at the final size, as the proof endpoints build them, each in its own transaction
    // (the timing is of the tlog call: plan, one query, assemble), and each checked.
    let mut random = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut inclusion = Vec::new();
    let mut consistency = Vec::new();
    let rounds = 200;
    for _ in 0..rounds {
        let index = random.below(size);
        let (proof, took) = db
            .in_tenant(tenant, async |tx| {
                let started = Instant::now();
                let proof = tlog::inclusion_proof(tx, tenant, index, size).await?;
                Ok((proof, started.elapsed()))
            })
            .await
            .expect("an inclusion proof");
        inclusion.push(took);
        merkle::verify_inclusion(index, size, &merkle::leaf_hash(&leaf(index)), &proof, &root)
            .unwrap_or_else(|e| panic!("inclusion proof of {index}: {e}"));

        // From a size a terminal saw: an earlier checkpoint (one per batch).
        let from = (1 + random.below(batches - 1)) * LOG_BATCH;
        let (_, old_root) = checkpoint_root(db, tenant, Some(from)).await;
        let (proof, took) = db
            .in_tenant(tenant, async |tx| {
                let started = Instant::now();
                let proof = tlog::consistency_proof(tx, tenant, from, size).await?;
                Ok((proof, started.elapsed()))
            })
            .await
            .expect("a consistency proof");
        consistency.push(took);
        merkle::verify_consistency(from, size, &proof, &old_root, &root)
            .unwrap_or_else(|e| panic!("consistency proof {from} -> {size}: {e}"));
    }
    println!("   proofs at size {size}, {rounds} random each, all verified:");
    for (label, times) in [
        ("inclusion proof", inclusion),
        ("consistency proof", consistency),
    ] {
        let (median, p99) = median_p99(times);
        println!(
            "     {label:<20} median {:.3} ms, p99 {:.3} ms",
            ms(median),
            ms(p99)
        );
    }
}

/// The stored checkpoint of `size` (the newest when `None`): (size, root).
async fn checkpoint_root(db: &Db, tenant: Uuid, size: Option<u64>) -> (u64, Hash) {
    let size = size.map(|s| s as i64);
    db.in_tenant(tenant, async |tx| {
        let row = tx
            .query_one(
                "SELECT size, root FROM log_checkpoint
                 WHERE tenant_id = $1 AND ($2::bigint IS NULL OR size = $2)
                 ORDER BY size DESC LIMIT 1",
                &[&tenant, &size],
            )
            .await?;
        let root: Hash = row.get::<_, &[u8]>(1).try_into().expect("a 32-byte root");
        Ok((row.get::<_, i64>(0) as u64, root))
    })
    .await
    .expect("a stored checkpoint")
}

#[tokio::main]
async fn main() {
    let records = env_u64("GALLA_BENCH_RECORDS", 50_000);
    let leaves = env_u64("GALLA_BENCH_LEAVES", 1_000_000);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("Galla cloud ingestion bench: {cores} cores, {cpu}");

    let cloud = Cloud::start().await;
    ingestion(&cloud, records).await;
    per_record_cpu(records);
    frontier_in_memory(leaves);
    log_in_postgres(&cloud, leaves).await;
}
