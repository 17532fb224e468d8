//! A standalone shop links to a real cloud (private PostgreSQL, TLS 1.3, the dev CA pinned) and
//! syncs: its whole history arrives once and in order, a retry sends nothing twice, a long
//! stretch offline loses nothing, a forged checkpoint or a rewritten log raises an alarm on the
//! terminal, a revoked terminal stops, and a wiped one erases its keys from the real keychain
//! and its recovery kit from the folder.
//!
//! Run through `scripts/keyring-session.sh` (the README's test command does): the terminals'
//! keys live in a real Secret Service.

use std::time::{Duration, Instant};

use galla_client::keys::TerminalKeys;
use galla_client::{
    DataDir, EnrollTerminal, Error, FinalizeRequest, LinkRequest, NewCustomer, NewProduct,
    PaymentInput, ProductRef, Role, SecretString, SessionToken, SyncSchedule, SyncWorker, Terminal,
};
use galla_proto::api::ErrorCode;

mod common;
use common::*;

fn local_records(t: &Terminal) -> i64 {
    t.status().unwrap().audit_records as i64
}

#[test]
fn a_linked_shop_sends_its_whole_history_once_and_in_order() {
    let w = World::new();
    let (t, owner, _) = w.shop("a");
    add_customers(&t, &owner, 0, 25);
    assert!(matches!(
        t.sync_pass(w.keychain.as_ref()),
        Err(Error::NotLinked)
    ));
    let before = t.status().unwrap().sync;
    assert!(!before.linked && before.queued_operations > 25);

    w.link(&t, &owner);
    let first = t.sync_pass(w.keychain.as_ref()).unwrap();
    let n = local_records(&t);
    assert_eq!(
        first.pushed as i64, n,
        "every record, the link itself included"
    );
    assert_eq!(first.server_seq as i64, n);
    assert_eq!(
        first.checkpoint_size as i64, n,
        "one terminal: the log is its chain"
    );
    assert!(first.alarms.is_empty());
    let tenant = t.tenant_id();
    assert_eq!(w.count(tenant, "SELECT count(*) FROM audit_record"), n);
    assert_eq!(
        w.count(
            tenant,
            "SELECT count(*) FROM audit_record WHERE log_index = seq - 1"
        ),
        n,
        "in order: record k is leaf k-1"
    );
    let s = t.status().unwrap().sync;
    assert!(s.linked && s.online && s.last_error.is_none());
    assert_eq!((s.queued_operations, s.alarms), (0, 0));
    assert_eq!(s.server_url.as_deref(), Some(w.cloud.url().as_str()));

    // Again with nothing new: nothing is sent twice.
    let again = t.sync_pass(w.keychain.as_ref()).unwrap();
    assert_eq!((again.pushed, again.server_seq as i64), (0, n));
    assert_eq!(w.count(tenant, "SELECT count(*) FROM audit_record"), n);

    // New writes go next, and the log still extends the checkpoint the terminal kept.
    add_customers(&t, &owner, 100, 5);
    let next = t.sync_pass(w.keychain.as_ref()).unwrap();
    assert_eq!(next.pushed, 5);
    assert_eq!(next.checkpoint_size as i64, n + 5);
    assert!(next.alarms.is_empty());

    // Linking twice is refused, and says so.
    assert!(matches!(
        t.link_cloud(&owner, &w.link_request()),
        Err(Error::AlreadyLinked)
    ));
}

#[test]
fn a_server_with_another_ca_is_not_trusted_and_nothing_is_linked() {
    let w = World::new();
    let (t, owner, _) = w.shop("a");
    let other = w.dir.path().join("other-ca");
    let ca = galla_cloud::tls::DevCa::ensure(&other).unwrap();
    let request = LinkRequest {
        ca_pem: std::fs::read_to_string(ca.ca_cert).unwrap(),
        ..w.link_request()
    };
    match t.link_cloud(&owner, &request) {
        Err(Error::CloudUnreachable { detail }) => {
            assert!(detail.contains("not signed by the CA pinned"), "{detail}")
        }
        other => panic!("linked through an untrusted certificate: {other:?}"),
    }
    assert!(t.cloud_link().unwrap().is_none());
    // Plain HTTP and junk are refused before anything is sent.
    for (url, ca) in [
        ("http://localhost:1", w.cloud.ca_pem.as_str()),
        ("https://localhost:1", "not a certificate"),
    ] {
        let r = LinkRequest {
            server_url: url.into(),
            ca_pem: ca.into(),
            ..w.link_request()
        };
        assert!(matches!(t.link_cloud(&owner, &r), Err(Error::Invalid(_))));
    }
}

#[test]
fn thousands_of_writes_made_offline_all_arrive_in_order_when_the_cloud_is_back() {
    let mut w = World::new();
    let (t, owner, _) = w.shop("a");
    w.link(&t, &owner);
    t.sync_pass(w.keychain.as_ref()).unwrap();
    let linked_at = local_records(&t);

    w.rt.block_on(w.cloud.stop());
    add_customers(&t, &owner, 0, 2_000);
    match t.sync_pass(w.keychain.as_ref()) {
        Err(Error::CloudUnreachable { .. }) => {}
        other => panic!("synced with the server down: {other:?}"),
    }
    let s = t.status().unwrap().sync;
    assert!(!s.online && s.last_error.is_some());
    assert!(s.queued_operations >= 2_000);

    w.rt.block_on(w.cloud.restart());
    let back = t.sync_pass(w.keychain.as_ref()).unwrap();
    let n = local_records(&t);
    assert_eq!(back.pushed as i64, n - linked_at);
    assert!(back.pushed >= 2_000);
    let tenant = t.tenant_id();
    assert_eq!(
        w.count(
            tenant,
            "SELECT count(*) FROM audit_record WHERE log_index = seq - 1"
        ),
        n
    );
    let s = t.status().unwrap().sync;
    assert!(s.online && s.queued_operations == 0);
}

#[test]
fn a_checkpoint_signed_by_another_key_raises_an_alarm() {
    let mut w = World::new();
    let (t, owner, _) = w.shop("a");
    w.link(&t, &owner);
    let good = t.sync_pass(w.keychain.as_ref()).unwrap();

    let forger = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    w.rt.block_on(w.cloud.restart_with_log_key(forger));
    add_customers(&t, &owner, 0, 1);
    match t.sync_pass(w.keychain.as_ref()) {
        Err(Error::CloudLogAlarm { detail }) => {
            assert!(detail.contains("did not sign"), "{detail}")
        }
        other => panic!("a forged checkpoint passed: {other:?}"),
    }
    let alarms = t.sync_alarms(&owner).unwrap();
    assert_eq!(alarms.len(), 1);
    assert_eq!(alarms[0].kind, "bad_checkpoint");
    let s = t.status().unwrap().sync;
    assert_eq!(s.alarms, 1);
    assert_eq!(
        s.checkpoint_size, good.checkpoint_size,
        "the forged checkpoint is not trusted"
    );
    // Every later pass shows the same forgery: one alarm, not one per pass.
    assert!(t.sync_pass(w.keychain.as_ref()).is_err());
    assert_eq!(t.sync_alarms(&owner).unwrap().len(), 1);
}

#[test]
fn a_rewritten_log_is_caught_at_the_same_size_and_by_the_consistency_proof() {
    let w = World::new();
    let (t, owner, _) = w.shop("a");
    w.link(&t, &owner);
    let trusted = t.sync_pass(w.keychain.as_ref()).unwrap();
    assert_eq!(
        trusted.checkpoint_size, 2,
        "the shop's creation and its link"
    );

    // An operator replaces leaf 0 and re-signs the log with the server's own key.
    w.rt.block_on(
        w.cloud
            .rewrite_log(t.tenant_id(), 0, b"history, as it should have been"),
    );
    match t.sync_pass(w.keychain.as_ref()) {
        Err(Error::CloudLogAlarm { detail }) => {
            assert!(detail.contains("two different logs"), "{detail}")
        }
        other => panic!("a rewritten log passed: {other:?}"),
    }
    // The log grows on the rewritten history: the proof from the trusted checkpoint fails.
    add_customers(&t, &owner, 0, 2);
    match t.sync_pass(w.keychain.as_ref()) {
        Err(Error::CloudLogAlarm { detail }) => {
            assert!(detail.contains("consistency proof fails"), "{detail}")
        }
        other => panic!("a rewritten log passed: {other:?}"),
    }
    let kinds: Vec<String> = t
        .sync_alarms(&owner)
        .unwrap()
        .into_iter()
        .map(|a| a.kind)
        .collect();
    assert_eq!(kinds, ["log_rewritten", "log_rewritten"]);
    assert_eq!(
        t.status().unwrap().sync.checkpoint_size,
        trusted.checkpoint_size
    );
}

#[test]
fn a_revoked_terminal_stops_syncing_and_keeps_its_data() {
    let w = World::new();
    let (t, owner, _) = w.shop("a");
    let totp = w.link(&t, &owner);
    t.sync_pass(w.keychain.as_ref()).unwrap();
    let path = format!("/v1/owner/devices/{}/revoke", t.device_id());
    assert!(w.owner_post(t.tenant_id(), &totp, &path).is_success());

    add_customers(&t, &owner, 0, 3);
    match t.sync_pass(w.keychain.as_ref()) {
        Err(Error::CloudRefused {
            code: ErrorCode::DeviceRevoked,
            ..
        }) => {}
        other => panic!("a revoked terminal synced: {other:?}"),
    }
    let s = t.status().unwrap().sync;
    assert_eq!(s.standing, "revoked");
    assert!(s.queued_operations >= 3, "nothing unsent is dropped");
    // It does not keep knocking: the next pass stops before the network.
    assert!(matches!(
        t.sync_pass(w.keychain.as_ref()),
        Err(Error::CloudRefused {
            code: ErrorCode::DeviceRevoked,
            ..
        })
    ));
}

#[test]
fn a_terminal_marked_for_wipe_erases_its_keys_on_its_next_contact() {
    let w = World::new();
    let (t, owner, data) = w.shop("a");
    let totp = w.link(&t, &owner);
    let code = t.create_recovery_kit(&owner).unwrap();
    t.sync_pass(w.keychain.as_ref()).unwrap();
    let path = format!("/v1/owner/devices/{}/wipe", t.device_id());
    assert!(w.owner_post(t.tenant_id(), &totp, &path).is_success());

    assert!(matches!(
        t.sync_pass(w.keychain.as_ref()),
        Err(Error::TerminalWiped)
    ));
    let install = data.install_id().unwrap().unwrap();
    assert!(matches!(
        TerminalKeys::load(w.keychain.as_ref(), install),
        Err(Error::KeyMissing { .. })
    ));
    assert!(matches!(
        Terminal::open(&data, w.keychain.as_ref(), w.clock.clone()),
        Err(Error::KeyMissing { .. })
    ));
    // The recovery kit went with the keys: not even the owner's code brings them back here.
    assert!(!galla_client::recovery::has_kit(&data));
    assert!(matches!(
        Terminal::recover(&data, w.keychain.as_ref(), w.clock.clone(), &code),
        Err(Error::NoRecoveryKit { .. })
    ));
    // The open terminal serves nothing more.
    assert!(matches!(
        t.add_customer(
            &owner,
            &NewCustomer {
                name: "After".into(),
                ..Default::default()
            }
        ),
        Err(Error::TerminalWiped)
    ));
}

/// Polls `done` until it holds, failing after a long limit (a hung loop, not a slow machine).
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let limit = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(Instant::now() < limit, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_loop_sends_new_writes_and_retries_by_itself_after_an_outage() {
    let mut w = World::new();
    let (t, owner, _) = w.shop("a");
    w.link(&t, &owner);
    let schedule = SyncSchedule {
        period: Duration::from_secs(3600),
        backoff_base: Duration::from_millis(50),
        backoff_cap: Duration::from_millis(400),
        settle: Duration::from_millis(10),
    };
    let worker = SyncWorker::start(t.clone(), w.keychain.clone(), schedule);
    eventually("the first pass sends the history", || {
        t.status().unwrap().sync.queued_operations == 0
    });

    // A write wakes the loop (the period is an hour: only the write can have).
    add_customers(&t, &owner, 0, 3);
    eventually("the write is sent", || {
        t.status().unwrap().sync.queued_operations == 0
    });

    // With the cloud down, writes queue and the loop fails and backs off...
    w.rt.block_on(w.cloud.stop());
    add_customers(&t, &owner, 10, 3);
    eventually("a failure is seen", || {
        worker.state().failures_in_a_row >= 2
    });
    assert!(t.status().unwrap().sync.queued_operations >= 3);
    // ...and when it is back, the loop sends them with no new write to prompt it.
    w.rt.block_on(w.cloud.restart());
    eventually("the queued writes are sent after the outage", || {
        t.status().unwrap().sync.queued_operations == 0
    });
    // The push marks the writes sent before the pass ends (the log check and the pull come
    // after); the pass then counts as a success.
    eventually("the pass after the outage succeeds", || {
        worker.state().failures_in_a_row == 0
    });
    drop(worker);
}

#[test]
fn a_database_missing_records_the_cloud_holds_raises_an_alarm_and_sends_nothing() {
    let w = World::new();
    let (t, owner, data) = w.shop("a");
    w.link(&t, &owner);
    add_customers(&t, &owner, 0, 3);
    let synced = t.sync_pass(w.keychain.as_ref()).unwrap();
    let tenant = t.tenant_id();
    drop(t);

    // Someone with the database key cuts the newest two records (tail truncation: what is
    // left is a valid, shorter chain, which nothing local can tell).
    let install = data.install_id().unwrap().unwrap();
    let keys = TerminalKeys::load(w.keychain.as_ref(), install).unwrap();
    let raw = rusqlite::Connection::open(data.db_path()).unwrap();
    raw.execute_batch(&format!(
        "PRAGMA key = \"x'{}'\"; DROP TRIGGER audit_log_no_delete;
         DELETE FROM outbox WHERE seq > {n}; DELETE FROM audit_log WHERE seq > {n};",
        keys.db.to_hex().as_str(),
        n = synced.server_seq - 2
    ))
    .unwrap();
    drop(raw);

    let t = Terminal::open(&data, w.keychain.as_ref(), w.clock.clone()).unwrap();
    assert!(
        t.verify_audit_unchecked().unwrap().is_intact(),
        "locally it looks whole"
    );
    match t.sync_pass(w.keychain.as_ref()) {
        Err(Error::HistoryBehindCloud {
            local_head,
            server_seq,
        }) => assert_eq!(
            (local_head, server_seq),
            (synced.server_seq - 2, synced.server_seq)
        ),
        other => panic!("a truncated history went unnoticed: {other:?}"),
    }
    let s = t.status().unwrap().sync;
    assert_eq!(s.alarms, 1);
    assert!(
        s.last_error
            .unwrap()
            .contains("restored from an older copy")
    );
    assert_eq!(
        w.count(tenant, "SELECT count(*) FROM audit_record") as u64,
        synced.server_seq,
        "the cloud keeps what it had"
    );
}

#[test]
fn shared_state_comes_back_a_seat_revoked_elsewhere_ends_its_sessions_here() {
    let w = World::new();
    let (t, owner, _) = w.shop("a");
    let staff = pin_seat(&t, &owner, "Asha", Role::CounterStaff, "482916");
    add_customers(&t, &owner, 0, 2);
    let clerk = t
        .sign_in(staff, &SecretString::new("482916"), None)
        .unwrap()
        .token;
    w.link(&t, &owner);
    let first = t.sync_pass(w.keychain.as_ref()).unwrap();
    assert!(
        first.pulled.written > 0,
        "the shop's own state came back: {first:?}"
    );
    let tenant = t.tenant_id();

    // The seat reached the cloud with its real PIN hash (sent beside the record, which only
    // shows a digest), so other terminals can sign it in.
    let mut seat = w.shared_row(tenant, "seat", &staff.to_string());
    assert!(
        seat["secret_hash"]
            .as_str()
            .unwrap()
            .starts_with("$argon2id$")
    );

    // Terminal B revokes the seat and renames a customer.
    w.advance(60_000);
    seat["revoked_at_ms"] = serde_json::json!(t.now_ms());
    w.change_elsewhere(tenant, "seat", &staff.to_string(), seat);
    let customer_id: String = t
        .with_reader(|c| Ok(c.query_row("SELECT id FROM customer LIMIT 1", [], |r| r.get(0))?))
        .unwrap();
    let mut customer = w.shared_row(tenant, "customer", &customer_id);
    customer["name"] = serde_json::json!("Renamed on B");
    w.change_elsewhere(tenant, "customer", &customer_id, customer);

    let report = t.sync_pass(w.keychain.as_ref()).unwrap();
    assert_eq!(report.pulled.written, 2, "{report:?}");
    assert!(
        t.customer(&owner, customer_id.parse().unwrap())
            .unwrap()
            .name
            == "Renamed on B",
        "the customer edit arrived"
    );
    assert!(
        matches!(
            t.add_customer(
                &clerk,
                &NewCustomer {
                    name: "x".into(),
                    ..Default::default()
                }
            ),
            Err(Error::SeatRevoked | Error::NotSignedIn)
        ),
        "the revoked seat's live session ended"
    );
    assert!(
        t.sign_in(staff, &SecretString::new("482916"), None)
            .is_err()
    );
    // Nothing more to apply: a pass with no news writes nothing.
    assert_eq!(t.sync_pass(w.keychain.as_ref()).unwrap().pulled.written, 0);
    assert!(t.verify_audit(&owner).unwrap().is_intact());
}

/// Adds a seat that signs in with a PIN; its id.
#[test]
fn a_terminal_enrolled_with_a_code_gets_the_whole_shop_and_sells_beside_the_first() {
    let w = World::new();
    let (a, owner, _) = w.shop("a");
    let staff = pin_seat(&a, &owner, "Asha", Role::CounterStaff, "482916");
    a.add_product(
        &owner,
        &NewProduct {
            sku: "COVER".into(),
            name: "Back cover".into(),
            barcodes: vec!["8901234567890".into()],
            // A registered buyer's bill needs it.
            hsn: Some("3926".into()),
            gst_rate_bp: 1800,
            price_paise: 29_900,
            ..Default::default()
        },
    )
    .unwrap();
    add_customers(&a, &owner, 0, 3);
    let sold_on_a = sell_cover(&a, &owner);
    // A registered buyer's bill: its copy of the buyer's GSTIN is sealed with the tenant's
    // column key, so any counter of the shop can reprint it.
    let trader = a
        .add_customer(
            &owner,
            &NewCustomer {
                name: "Coastal Traders".into(),
                gstin: Some("29AAFCC9980M1ZR".into()),
                ..Default::default()
            },
        )
        .unwrap();
    a.add_product_to_cart(&owner, &ProductRef::Sku("COVER".into()), 1)
        .unwrap();
    let billed_to_trader = a
        .finalize(
            &owner,
            &FinalizeRequest {
                customer_id: Some(trader),
                payments: vec![PaymentInput::Cash {
                    amount_paise: 29_900,
                    tendered_paise: None,
                }],
                ..Default::default()
            },
        )
        .unwrap()
        .number;
    let totp = w.link(&a, &owner);
    a.sync_pass(w.keychain.as_ref()).unwrap();
    let tenant = a.tenant_id();

    // A mistyped code is caught before it reaches the server.
    let b_dir = DataDir::new(w.dir.path().join("b"));
    let request = |code: &str| EnrollTerminal {
        server_url: w.cloud.url(),
        ca_pem: w.cloud.ca_pem.clone(),
        code: code.into(),
        terminal_name: "Counter 2".into(),
    };
    assert!(matches!(
        Terminal::enroll(
            &b_dir,
            w.keychain.as_ref(),
            w.clock.clone(),
            &request("12345-678")
        ),
        Err(Error::Invalid(_))
    ));
    assert!(!b_dir.db_path().exists());

    // The owner reads the code out; the clerk types it in lower case with a space.
    let code = w.enrollment_code(tenant, &totp);
    let typed = code.to_lowercase().replace('-', " ");
    let b = Terminal::enroll(
        &b_dir,
        w.keychain.as_ref(),
        w.clock.clone(),
        &request(&typed),
    )
    .unwrap();
    let status = b.status().unwrap();
    assert_eq!(b.tenant_id(), tenant);
    assert_ne!(b.device_id(), a.device_id());
    assert_eq!(status.shop_name, "Sharma Mobiles");
    assert_eq!(status.terminal_name, "Counter 2");
    assert_ne!(status.series_code, "T1", "a series of its own");
    assert!(status.sync.linked);

    // The seats sign in here with the secrets they already have; the customers' encrypted
    // fields open with the tenant's keys, and the blind index finds them by phone.
    let clerk = b
        .sign_in(staff, &SecretString::new("482916"), None)
        .unwrap()
        .token;
    let found = b.find_customers_by_phone(&clerk, "9800000001").unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].name, "Customer 1");
    assert!(
        b.invoice_by_number(&clerk, &sold_on_a).is_ok(),
        "A's sale is in B's books"
    );
    let reprint = b.receipt(&clerk, &billed_to_trader, 42).unwrap().text;
    assert!(
        reprint.contains("Coastal Traders") && reprint.contains("Buyer GSTIN"),
        "{reprint}"
    );
    assert!(reprint.contains("29AAFCC9980M1ZR"), "{reprint}");

    // B sells in its own series; after both sync, each has the other's sale.
    let sold_on_b = sell_cover(&b, &clerk);
    assert_ne!(sold_on_b, sold_on_a);
    b.sync_pass(w.keychain.as_ref()).unwrap();
    let pulled = a.sync_pass(w.keychain.as_ref()).unwrap().pulled;
    assert!(pulled.written > 0, "{pulled:?}");
    assert!(a.invoice_by_number(&owner, &sold_on_b).is_ok());

    // The owner renames the shop at counter 1; counter 2 shows the new name after its sync.
    let details = a.shop_settings(&owner).unwrap();
    a.set_shop_settings(
        &owner,
        &galla_client::ShopDetails {
            name: "Sharma Mobiles & Repairs".into(),
            gstin: details.gstin.clone(),
            state_code: details.state_code,
            address: details.address.clone(),
            turnover_band: details.turnover_band,
            composition: details.composition,
        },
    )
    .unwrap();
    a.sync_pass(w.keychain.as_ref()).unwrap();
    b.sync_pass(w.keychain.as_ref()).unwrap();
    assert_eq!(b.status().unwrap().shop_name, "Sharma Mobiles & Repairs");
    assert_eq!(
        w.count(
            tenant,
            "SELECT count(*) FROM shared_row WHERE tbl = 'invoice'"
        ),
        3
    );
    assert!(
        b.verify_audit(&clerk).is_err(),
        "a clerk may not read the audit log"
    );
    let b_owner = b.sign_in(
        a.session_info(&owner).unwrap().seat_id,
        &SecretString::new(OWNER_PASSPHRASE),
        None,
    );
    assert!(
        matches!(b_owner, Err(Error::SecondFactorRequired) | Ok(_)),
        "the owner's seat came over with its credentials: {b_owner:?}"
    );

    // A code is good once.
    let c_dir = DataDir::new(w.dir.path().join("c"));
    assert!(matches!(
        Terminal::enroll(
            &c_dir,
            w.keychain.as_ref(),
            w.clock.clone(),
            &request(&code)
        ),
        Err(Error::CloudRefused { .. })
    ));
    assert!(!c_dir.db_path().exists());
    drop(b);
    // B reopens from its keychain like any terminal.
    let b = Terminal::open(&b_dir, w.keychain.as_ref(), w.clock.clone()).unwrap();
    assert_eq!(b.status().unwrap().terminal_name, "Counter 2");
}

#[test]
fn a_terminal_whose_first_pull_failed_joins_with_the_same_code() {
    let w = World::new();
    let (a, owner, _) = w.shop("a");
    let totp = w.link(&a, &owner);
    let tenant = a.tenant_id();
    let code = w.enrollment_code(tenant, &totp);
    let request = EnrollTerminal {
        server_url: w.cloud.url(),
        ca_pem: w.cloud.ca_pem.clone(),
        code: code.clone(),
        terminal_name: "Counter 2".into(),
    };

    // The owner's terminal has not synced since linking: the code is redeemed, but the shop
    // is not on the cloud yet, and the new terminal says what to do. Nothing is left half-made.
    let b_dir = DataDir::new(w.dir.path().join("b"));
    let first = Terminal::enroll(&b_dir, w.keychain.as_ref(), w.clock.clone(), &request);
    match &first {
        Err(Error::CloudProtocol { detail }) => {
            assert!(detail.contains("try the same code again"), "{detail}")
        }
        other => panic!("expected the shop to be missing, got {other:?}"),
    }
    assert!(!b_dir.db_path().exists());
    let devices = "SELECT count(*) FROM device";
    assert_eq!(w.count(tenant, devices), 2, "the owner's terminal and B");

    // Another terminal cannot take the redeemed code, even now.
    let c_dir = DataDir::new(w.dir.path().join("c"));
    assert!(matches!(
        Terminal::enroll(&c_dir, w.keychain.as_ref(), w.clock.clone(), &request),
        Err(Error::CloudRefused { .. })
    ));

    // The owner's terminal syncs; B tries the same code again and joins as the same device.
    a.sync_pass(w.keychain.as_ref()).unwrap();
    let b = Terminal::enroll(&b_dir, w.keychain.as_ref(), w.clock.clone(), &request).unwrap();
    assert_eq!(b.status().unwrap().shop_name, "Sharma Mobiles");
    assert_eq!(w.count(tenant, devices), 2, "no second device for B");
    let seat = a.session_info(&owner).unwrap().seat_id;
    let on_b = b.sign_in(seat, &SecretString::new(OWNER_PASSPHRASE), None);
    assert!(
        matches!(on_b, Err(Error::SecondFactorRequired) | Ok(_)),
        "{on_b:?}"
    );
    b.sync_pass(w.keychain.as_ref()).unwrap();

    // Once B has sent its first record, the code is spent for good, even for B's own key.
    drop(b);
    std::fs::remove_file(b_dir.db_path()).unwrap();
    assert!(matches!(
        Terminal::enroll(&b_dir, w.keychain.as_ref(), w.clock.clone(), &request),
        Err(Error::CloudRefused { .. })
    ));
}

/// Sells one phone with `imei` for cash on `t`; the invoice number.
fn sell_phone(t: &Terminal, who: &SessionToken, imei: &str) -> String {
    let cart = t
        .add_product_to_cart(who, &ProductRef::Sku("PHONE".into()), 1)
        .unwrap();
    t.set_line_imeis(who, cart.lines[0].line_id, &[imei.to_owned()])
        .unwrap();
    paid_in_cash(t, who, 1_499_900)
}

#[test]
fn one_imei_sold_on_two_offline_counters_stands_twice_and_every_counter_shows_the_conflict() {
    let w = World::new();
    let (a, owner, _) = w.shop("a");
    let manager = pin_seat(&a, &owner, "Manager", Role::Manager, "482916");
    a.add_product(
        &owner,
        &NewProduct {
            sku: "PHONE".into(),
            name: "Redmi Note 13".into(),
            hsn: Some("8517".into()),
            gst_rate_bp: 1800,
            price_paise: 1_499_900,
            serialized: true,
            imeis_per_unit: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    let totp = w.link(&a, &owner);
    a.sync_pass(w.keychain.as_ref()).unwrap();
    let code = w.enrollment_code(a.tenant_id(), &totp);
    let b = Terminal::enroll(
        &DataDir::new(w.dir.path().join("b")),
        w.keychain.as_ref(),
        w.clock.clone(),
        &EnrollTerminal {
            server_url: w.cloud.url(),
            ca_pem: w.cloud.ca_pem.clone(),
            code,
            terminal_name: "Counter 2".into(),
        },
    )
    .unwrap();
    let on_b = b
        .sign_in(manager, &SecretString::new("482916"), None)
        .unwrap()
        .token;

    // Both counters are offline: each sells the same phone.
    let imei = "490154203237518";
    let sold_on_b = sell_phone(&b, &on_b, imei);
    let sold_on_a = sell_phone(&a, &owner, imei);
    b.sync_pass(w.keychain.as_ref()).unwrap();
    a.sync_pass(w.keychain.as_ref()).unwrap();
    b.sync_pass(w.keychain.as_ref()).unwrap();

    // Both sales stand, on the server and on both counters.
    let tenant = a.tenant_id();
    assert_eq!(
        w.count(
            tenant,
            "SELECT count(*) FROM shared_row WHERE tbl = 'invoice'"
        ),
        2
    );
    for (t, who) in [(&*a, &owner), (&b, &on_b)] {
        assert!(t.invoice_by_number(who, &sold_on_a).is_ok());
        assert!(t.invoice_by_number(who, &sold_on_b).is_ok());
    }
    // The owner sees the conflict at either counter, naming the phone and the counter whose
    // sale came second.
    for (t, who) in [(&*a, &owner), (&b, &on_b)] {
        let alerts = t.cloud_alerts(who).unwrap();
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].kind, "imei_conflict");
        assert!(alerts[0].detail.contains(imei), "{}", alerts[0].detail);
        assert_eq!(alerts[0].terminal.as_deref(), Some("Counter 1"));
    }
    // A clerk does not read them.
    let clerk = pin_seat(&a, &owner, "Asha", Role::CounterStaff, "551234");
    let clerk = a
        .sign_in(clerk, &SecretString::new("551234"), None)
        .unwrap()
        .token;
    assert!(matches!(
        a.cloud_alerts(&clerk),
        Err(Error::PermissionDenied { .. })
    ));

    // The owner resolves it at counter 1, saying what was done; a blank note is refused.
    let alert = a.cloud_alerts(&owner).unwrap().remove(0);
    assert_eq!(alert.resolution, None);
    assert!(matches!(
        a.resolve_cloud_alert(&owner, &alert.id, "   "),
        Err(Error::Invalid(_))
    ));
    let note = "Phone was in the drawer: counter 2's sale returned";
    a.resolve_cloud_alert(&owner, &alert.id, note).unwrap();
    let here = a
        .cloud_alerts(&owner)
        .unwrap()
        .remove(0)
        .resolution
        .unwrap();
    assert_eq!(
        (here.resolved_by.as_deref(), here.note.as_str()),
        (Some("Ravi Sharma"), note)
    );
    // Counter 2 shows it resolved, by the same owner, after the two syncs.
    a.sync_pass(w.keychain.as_ref()).unwrap();
    b.sync_pass(w.keychain.as_ref()).unwrap();
    let there = b.cloud_alerts(&on_b).unwrap().remove(0);
    assert_eq!(there.id, alert.id);
    assert_eq!(there.resolution.as_ref(), Some(&here));
    // A manager reads alerts but does not resolve them.
    assert!(matches!(
        b.resolve_cloud_alert(&on_b, &alert.id, "not mine to say"),
        Err(Error::PermissionDenied { .. })
    ));
    // A later note from the owner replaces the first everywhere.
    a.resolve_cloud_alert(&owner, &alert.id, "Customer brought the phone back")
        .unwrap();
    a.sync_pass(w.keychain.as_ref()).unwrap();
    b.sync_pass(w.keychain.as_ref()).unwrap();
    assert_eq!(
        b.cloud_alerts(&on_b).unwrap()[0]
            .resolution
            .as_ref()
            .map(|r| r.note.as_str()),
        Some("Customer brought the phone back")
    );
}

#[test]
fn the_ca_fingerprint_a_till_shows_is_the_one_openssl_computes() {
    let w = World::new();
    let ours = galla_client::ca_fingerprints(&w.cloud.ca_pem).unwrap();
    let pem = w.dir.path().join("ca.pem");
    std::fs::write(&pem, &w.cloud.ca_pem).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(&pem)
        .output()
        .expect("openssl (Debian: apt install openssl)");
    assert!(out.status.success());
    let theirs = String::from_utf8(out.stdout).unwrap();
    let theirs = theirs.trim().rsplit('=').next().unwrap();
    assert_eq!(ours, [theirs]);
    // Not a certificate: refused with the field named, nothing shown.
    assert!(matches!(
        galla_client::ca_fingerprints("-----BEGIN CERTIFICATE-----\nnot base64\n"),
        Err(galla_client::InputError::Rejected {
            field: "ca_pem",
            ..
        })
    ));
}
