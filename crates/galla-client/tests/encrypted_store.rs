//! The encrypted store over the real keychain: nothing readable on disk, PII encrypted per
//! column and bound to its row, and every way of opening it wrongly named precisely.

mod common;

use common::{Fixture, contains};
use galla_client::keys::{self, TerminalKeys};
use galla_client::{Error, NewCustomer, SecretStore};

const MARKER: &str = "ZQXJ-MARKER-7731";

fn customer_with_marker() -> NewCustomer {
    NewCustomer {
        name: format!("Asha {MARKER}"),
        phone: Some("98765 43210".into()),
        email: Some(format!("{}@example.in", MARKER.to_lowercase())),
        address: Some(format!("12 {MARKER} Road, Pune")),
        gstin: Some("29AAFCC9980M1ZR".into()),
        state_code: Some(29),
        marketing_consent: true,
    }
}

#[test]
fn no_plaintext_reaches_the_file_and_pii_columns_stay_ciphertext_with_the_key() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    let id = t.add_customer(&owner, &customer_with_marker()).unwrap();
    assert_eq!(
        t.customer(&owner, id).unwrap().name,
        format!("Asha {MARKER}")
    );
    drop(t);

    let bytes = fx.file_bytes();
    assert!(bytes.len() > 4096);
    for needle in [
        MARKER,
        "Sharma Mobiles",
        "9876543210",
        "SQLite format 3",
        "29AAFCC9980M1ZR",
    ] {
        assert!(
            !contains(&bytes, needle.as_bytes()),
            "{needle} found in the raw file"
        );
    }

    // With the key, the file opens, the name is there, and the PII columns are still ciphertext.
    let raw = fx.raw();
    let (name, phone, email, address, gstin): (String, Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>) = raw
        .query_row(
            "SELECT name, phone_ct, email_ct, address_ct, gstin_ct FROM customer",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert!(name.contains(MARKER));
    for ct in [&phone, &email, &address, &gstin] {
        assert!(
            !contains(ct, MARKER.as_bytes()) && !contains(ct, MARKER.to_lowercase().as_bytes())
        );
        assert!(!contains(ct, b"9876543210") && !contains(ct, b"29AAFCC"));
        assert_eq!(ct[0], 1, "column format 1");
    }
    // ... and so is the audit record's image of the row.
    let after: Vec<u8> = raw
        .query_row(
            "SELECT record FROM audit_log WHERE action = 'customer.create'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        contains(&after, MARKER.as_bytes()),
        "name is not PII and appears in the image"
    );
    assert!(
        !contains(&after, b"9876543210") && !contains(&after, MARKER.to_lowercase().as_bytes())
    );
}

#[test]
fn same_phone_twice_gives_different_ciphertexts_and_equal_blind_index() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    let a = t
        .add_customer(&owner, &common::customer("A", "9876543210"))
        .unwrap();
    let b = t
        .add_customer(&owner, &common::customer("B", "+91 98765-43210"))
        .unwrap();
    let raw = fx.raw();
    let row = |id: uuid::Uuid| -> (Vec<u8>, Vec<u8>) {
        raw.query_row(
            "SELECT phone_ct, phone_bidx FROM customer WHERE id = ?",
            [id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    let (ct_a, bidx_a) = row(a);
    let (ct_b, bidx_b) = row(b);
    assert_ne!(ct_a, ct_b);
    assert_eq!(bidx_a, bidx_b);
    let found: Vec<_> = t
        .find_customers_by_phone(&owner, "098765 43210")
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(found, vec![a, b]);
    assert_eq!(
        t.find_customers_by_gstin(&owner, "29AAFCC9980M1ZR")
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn a_ciphertext_moved_to_another_row_does_not_decrypt() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    let a = t
        .add_customer(&owner, &common::customer("A", "9876543210"))
        .unwrap();
    let b = t
        .add_customer(&owner, &common::customer("B", "9123456780"))
        .unwrap();
    let raw = fx.raw();
    raw.execute(
        "UPDATE customer SET phone_ct = (SELECT phone_ct FROM customer WHERE id = ?1) WHERE id = ?2",
        [a.to_string(), b.to_string()],
    )
    .unwrap();
    // And into another column of the same row.
    raw.execute(
        "UPDATE customer SET email_ct = phone_ct WHERE id = ?1",
        [a.to_string()],
    )
    .unwrap();
    match t.customer(&owner, b) {
        Err(Error::Undecryptable {
            table: "customer",
            column: "phone_ct",
            row_id,
        }) => assert_eq!(row_id, b.to_string()),
        other => panic!("expected Undecryptable, got {other:?}"),
    }
    assert!(matches!(
        t.customer(&owner, a),
        Err(Error::Undecryptable {
            column: "email_ct",
            ..
        })
    ));
}

#[test]
fn keys_persist_in_the_keychain_across_reopen() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    let id = t.add_customer(&owner, &customer_with_marker()).unwrap();
    drop(t);
    // A fresh connection to the Secret Service, as a restarted process would make.
    let fresh = common::keychain();
    let t = galla_client::Terminal::open(&fx.data, &fresh, fx.clock.clone()).unwrap();
    let owner = common::sign_in_owner(&t);
    assert_eq!(
        t.reveal_customer(&owner, id).unwrap().phone.unwrap(),
        "+919876543210"
    );
    assert_eq!(
        t.status().unwrap().keychain_backend,
        "Secret Service (freedesktop.org)"
    );
}

#[test]
fn a_deleted_keychain_entry_is_a_clear_error() {
    let fx = Fixture::new();
    drop(fx.init());
    let install = fx.data.install_id().unwrap().unwrap();
    fx.keychain
        .delete(&keys::account(install, keys::DB_KEY))
        .unwrap();
    let err = fx.open().unwrap_err();
    assert!(
        matches!(
            err,
            Error::KeyMissing {
                entry: "db-key",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("recovery kit"));
}

#[test]
fn a_wrong_key_is_named_not_a_crash() {
    let fx = Fixture::new();
    drop(fx.init());
    let install = fx.data.install_id().unwrap().unwrap();
    fx.keychain
        .set(&keys::account(install, keys::DB_KEY), &[0x42; 32])
        .unwrap();
    assert!(matches!(
        fx.open().unwrap_err(),
        Error::KeyDoesNotOpenDatabase { .. }
    ));
    fx.keychain
        .set(&keys::account(install, keys::DB_KEY), &[0x42; 7])
        .unwrap();
    assert!(matches!(
        fx.open().unwrap_err(),
        Error::KeyDamaged { entry: "db-key" }
    ));
}

#[test]
fn truncated_and_tampered_files_are_named() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    for i in 0..200 {
        let c = common::customer(&format!("Customer {i}"), &format!("98{i:08}"));
        t.add_customer(&owner, &c).unwrap();
    }
    drop(t); // closes the last connection: WAL is checkpointed into the main file
    let path = fx.data.db_path();
    let original = std::fs::read(&path).unwrap();
    assert!(original.len() >= 4096 * 8);

    std::fs::write(&path, &original[..original.len() - 100]).unwrap();
    assert!(matches!(
        fx.open().unwrap_err(),
        Error::DatabaseTruncated { .. }
    ));

    std::fs::write(&path, &original[..4096 * 2]).unwrap();
    let err = fx
        .open()
        .map(|t| t.verify_audit_unchecked())
        .err()
        .map(|e| e.to_string());
    assert!(
        err.is_some(),
        "a database cut to two pages must not open cleanly"
    );

    // One byte changed inside a data page: SQLCipher's page HMAC catches it.
    let mut tampered = original.clone();
    let at = original.len() - 4096 * 2 + 100;
    tampered[at] ^= 0x01;
    std::fs::write(&path, &tampered).unwrap();
    let outcome = fx.open().and_then(|t| {
        let problems = t.integrity_problems()?;
        if problems.is_empty() {
            t.verify_audit_unchecked().map(|_| ())
        } else {
            Err(Error::DatabaseDamaged {
                detail: problems.join(";"),
            })
        }
    });
    assert!(
        matches!(outcome, Err(Error::DatabaseDamaged { .. })),
        "{outcome:?}"
    );

    // The first page changed: indistinguishable from a wrong key, and said so.
    let mut first = original.clone();
    first[20] ^= 0xff;
    std::fs::write(&path, &first).unwrap();
    assert!(matches!(
        fx.open().unwrap_err(),
        Error::KeyDoesNotOpenDatabase { .. }
    ));

    std::fs::write(&path, &original).unwrap();
    assert!(
        fx.open()
            .unwrap()
            .verify_audit_unchecked()
            .unwrap()
            .is_intact()
    );
}

#[test]
fn a_database_newer_than_the_app_is_refused() {
    let fx = Fixture::new();
    drop(fx.init());
    fx.raw().execute_batch("PRAGMA user_version = 99").unwrap();
    match fx.open().unwrap_err() {
        Error::DatabaseTooNew {
            found: 99,
            supported,
        } => assert_eq!(supported, galla_client::store::supported_schema_version()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_store_uses_wal_with_full_sync() {
    let fx = Fixture::new();
    let (t, _) = fx.init();
    let (mode, sync): (String, i64) = t
        .with_reader(|c| {
            Ok((
                c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                c.query_row("PRAGMA synchronous", [], |r| r.get(0))?,
            ))
        })
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(sync, 2, "synchronous=FULL");
}

#[test]
fn writes_outside_the_unit_of_work_are_refused() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    let id = t.add_customer(&owner, &customer_with_marker()).unwrap();
    let attempts = [
        "UPDATE customer SET name = 'x'",
        "DELETE FROM customer",
        "INSERT INTO outbox (seq, created_at_ms, payload) VALUES (99, 0, x'00')",
        "DROP TRIGGER audit_log_no_update",
        "CREATE TABLE sneaky (x)",
        "PRAGMA user_version = 7",
    ];
    for sql in attempts {
        let r = t.with_reader(|c| c.execute_batch(sql).map_err(Error::from));
        assert!(r.is_err(), "{sql} was allowed");
    }
    assert_eq!(
        t.customer(&owner, id).unwrap().name,
        format!("Asha {MARKER}")
    );
    assert!(t.verify_audit(&owner).unwrap().is_intact());
}

#[test]
fn bad_input_is_refused_and_writes_nothing() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    let before = t.status().unwrap().audit_records;
    let bad = [
        NewCustomer {
            name: "  ".into(),
            ..Default::default()
        },
        NewCustomer {
            name: "x".repeat(201),
            ..Default::default()
        },
        NewCustomer {
            name: "A".into(),
            phone: Some("12345".into()),
            ..Default::default()
        },
        NewCustomer {
            name: "A".into(),
            gstin: Some("27AAPFU0939F1ZW".into()),
            ..Default::default()
        },
        NewCustomer {
            name: "A".into(),
            email: Some("not-an-email".into()),
            ..Default::default()
        },
        NewCustomer {
            name: "A".into(),
            state_code: Some(55),
            ..Default::default()
        },
    ];
    for c in bad {
        let err = t.add_customer(&owner, &c).unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    }
    assert_eq!(t.status().unwrap().audit_records, before);
}

#[test]
fn init_refuses_bad_shop_details_and_an_existing_shop() {
    let fx = Fixture::new();
    let mut s = common::shop();
    s.owner_passphrase = galla_client::SecretString::new("short");
    assert!(matches!(
        galla_client::Terminal::init(&fx.data, &fx.keychain, fx.clock.clone(), &s),
        Err(Error::Invalid(_))
    ));
    assert!(
        !fx.data.db_path().exists(),
        "nothing is created for bad input"
    );
    let mut s = common::shop();
    s.state_code = Some(29); // GSTIN says 27
    assert!(matches!(
        galla_client::Terminal::init(&fx.data, &fx.keychain, fx.clock.clone(), &s),
        Err(Error::Invalid(_))
    ));
    drop(fx.init());
    assert!(matches!(
        galla_client::Terminal::init(&fx.data, &fx.keychain, fx.clock.clone(), &common::shop()),
        Err(Error::AlreadyInitialised { .. })
    ));
    assert!(fx.open().is_ok());
}

#[test]
fn erasing_the_keys_makes_the_shop_unopenable() {
    let fx = Fixture::new();
    drop(fx.init());
    let install = fx.data.install_id().unwrap().unwrap();
    TerminalKeys::erase(&fx.keychain, install).unwrap();
    assert!(matches!(fx.open().unwrap_err(), Error::KeyMissing { .. }));
}

#[test]
fn an_interrupted_init_can_be_run_again() {
    let fx = Fixture::new();
    drop(fx.init());
    // What a crash part-way through init leaves: the install id, only some of the keys, and a
    // half-made database under its temporary name, but no galla.db.
    let install = fx.data.install_id().unwrap().unwrap();
    std::fs::rename(fx.data.db_path(), fx.data.root().join("galla.db.new")).unwrap();
    fx.keychain
        .delete(&keys::account(install, keys::WRAP_KEY))
        .unwrap();
    assert!(matches!(
        fx.open().unwrap_err(),
        Error::NotInitialised { .. }
    ));

    let (t, owner) = fx.init();
    t.add_customer(&owner, &common::customer("After retry", "9876543210"))
        .unwrap();
    drop(t);
    assert!(!fx.data.root().join("galla.db.new").exists());
    assert_eq!(
        fx.data.install_id().unwrap(),
        Some(install),
        "the install id is kept"
    );
    let t = fx.open().unwrap();
    assert_eq!(t.verify_audit_unchecked().unwrap().verified, 2);
}
