//! The audit log as stored: append-only by trigger, every change audited and outboxed, and any
//! edit of any record named at that record by the verifier.

mod common;

use common::Fixture;
use galla_client::{Error, SessionToken, Terminal};
use proptest::prelude::*;
use rusqlite::Connection;

fn populated(n: usize) -> (Fixture, Terminal, SessionToken) {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    for i in 0..n {
        fx.clock.advance_ms(1000);
        let c = common::customer(&format!("C{i}"), &format!("9{i:09}"));
        t.add_customer(&owner, &c).unwrap();
    }
    (fx, t, owner)
}

fn drop_guards(raw: &Connection) {
    raw.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .unwrap();
}

#[test]
fn update_and_delete_of_audit_records_abort_even_with_the_key() {
    let (fx, t, owner) = populated(3);
    let raw = fx.raw();
    let e = raw
        .execute("UPDATE audit_log SET action = 'x' WHERE seq = 2", [])
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    let e = raw
        .execute("DELETE FROM audit_log WHERE seq = 4", [])
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    let e = raw
        .execute("DELETE FROM outbox WHERE seq = 1", [])
        .unwrap_err();
    assert!(e.to_string().contains("unsent"), "{e}");
    assert_eq!(t.verify_audit(&owner).unwrap().verified, 4);
}

#[test]
fn every_change_has_one_audit_record_and_only_redacted_secrets_get_an_outbox_entry() {
    let (fx, t, owner) = populated(5);
    let raw = fx.raw();
    let audit: Vec<(i64, String, String)> = raw
        .prepare("SELECT seq, action, entity_id FROM audit_log ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let outbox: Vec<(i64, Vec<u8>)> = raw
        .prepare("SELECT seq, payload FROM outbox ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // The signed record carries the images; the outbox only redacted secrets: the owner's
    // passphrase hash when the shop is created, and no entry at all for a customer.
    let outbox_seqs: Vec<i64> = outbox.iter().map(|o| o.0).collect();
    assert_eq!(outbox_seqs, [1]);
    assert!(String::from_utf8_lossy(&outbox[0].1).contains("$argon2id"));
    assert_eq!(audit.len(), 6);
    assert_eq!(audit[0].1, "shop.create");
    // Every customer row is the subject of exactly one audit record.
    let customers: Vec<String> = raw
        .prepare("SELECT id FROM customer ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut audited: Vec<String> = audit
        .iter()
        .filter(|a| a.1 == "customer.create")
        .map(|a| a.2.clone())
        .collect();
    audited.sort();
    assert_eq!(customers, audited);
    let r = t.verify_audit(&owner).unwrap();
    assert!(r.is_intact() && r.verified == 6, "{r:?}");
}

#[test]
fn a_missing_record_is_reported_as_a_gap() {
    let (fx, t, owner) = populated(5);
    let raw = fx.raw();
    drop_guards(&raw);
    raw.execute_batch("PRAGMA foreign_keys = OFF; DELETE FROM audit_log WHERE seq = 3;")
        .unwrap();
    let r = t.verify_audit(&owner).unwrap();
    assert_eq!(r.bad_seq, Some(3));
    assert_eq!(r.verified, 2);
    assert!(
        r.problem
            .unwrap()
            .contains("missing: expected sequence 3, found 4")
    );
}

/// Each column an attacker could edit, and how to edit it.
const EDITS: &[&str] = &[
    "UPDATE audit_log SET signature = zeroblob(64) WHERE seq = ?1",
    "UPDATE audit_log SET hash = zeroblob(32) WHERE seq = ?1",
    "UPDATE audit_log SET action = 'customer.erase' WHERE seq = ?1",
    "UPDATE audit_log SET role = 'support' WHERE seq = ?1",
    "UPDATE audit_log SET seat_id = NULL WHERE seq = ?1",
    "UPDATE audit_log SET time_ms = time_ms + 1 WHERE seq = ?1",
    "UPDATE audit_log SET entity_id = 'other' WHERE seq = ?1",
    "UPDATE audit_log SET tenant_id = 'other' WHERE seq = ?1",
];

fn flip_byte(raw: &Connection, seq: i64, column: &str, at: usize) {
    let mut bytes: Vec<u8> = raw
        .query_row(
            &format!("SELECT {column} FROM audit_log WHERE seq = ?"),
            [seq],
            |r| r.get(0),
        )
        .unwrap();
    let i = at % bytes.len();
    bytes[i] ^= 0x20;
    raw.execute(
        &format!("UPDATE audit_log SET {column} = ? WHERE seq = ?"),
        rusqlite::params![bytes, seq],
    )
    .unwrap();
}

#[test]
fn every_kind_of_edit_is_named_at_its_record() {
    for (i, edit) in EDITS.iter().enumerate() {
        let (fx, t, owner) = populated(6);
        let seq = 2 + (i as i64 % 5);
        let raw = fx.raw();
        drop_guards(&raw);
        raw.execute(edit, [seq])
            .unwrap_or_else(|e| panic!("{edit}: {e}"));
        let r = t.verify_audit(&owner).unwrap();
        assert_eq!(r.bad_seq, Some(seq as u64), "{edit}: {r:?}");
        assert_eq!(
            t.export_audit_csv(&owner, std::io::sink()).unwrap().bad_seq,
            Some(seq as u64)
        );
    }
}

#[test]
fn a_record_with_bytes_appended_or_a_field_rewritten_is_named() {
    let (fx, t, owner) = populated(4);
    let raw = fx.raw();
    drop_guards(&raw);
    let mut record: Vec<u8> = raw
        .query_row("SELECT record FROM audit_log WHERE seq = 3", [], |r| {
            r.get(0)
        })
        .unwrap();
    record.push(0);
    raw.execute("UPDATE audit_log SET record = ? WHERE seq = 3", [&record])
        .unwrap();
    assert_eq!(t.verify_audit(&owner).unwrap().bad_seq, Some(3));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    /// Change one byte of any stored record: verify names exactly that record.
    #[test]
    fn one_changed_byte_anywhere_is_named(seq in 1i64..=6, column in 0usize..3, at in 0usize..10_000) {
        let (fx, t, owner) = populated(5);
        let raw = fx.raw();
        drop_guards(&raw);
        flip_byte(&raw, seq, ["record", "signature", "hash"][column], at);
        let r = t.verify_audit(&owner).unwrap();
        prop_assert_eq!(r.bad_seq, Some(seq as u64), "{:?}", r);
    }
}

#[test]
fn export_writes_every_record_with_its_verification() {
    let (_fx, t, owner) = populated(3);
    let mut out = Vec::new();
    let r = t.export_audit_csv(&owner, &mut out).unwrap();
    assert!(r.is_intact());
    let text = String::from_utf8(out).unwrap();
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = rd.records().collect::<Result<_, _>>().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(&rows[0][4], "shop.create");
    assert_eq!(&rows[1][4], "customer.create");
    assert_eq!(&rows[1][1], "2025-11-21T04:30:01Z");
    assert!(rows.iter().all(|r| &r[11] == "yes"));
    assert!(
        !text.contains("9000000001"),
        "PII stays ciphertext in the export"
    );
}

#[test]
fn verify_reports_tenant_mismatch_as_alteration_not_a_panic() {
    let (fx, t, owner) = populated(1);
    let raw = fx.raw();
    drop_guards(&raw);
    raw.execute("UPDATE audit_log SET record = x'' WHERE seq = 2", [])
        .unwrap();
    let r = t.verify_audit(&owner).unwrap();
    assert_eq!(r.bad_seq, Some(2));
    assert!(!matches!(t.verify_audit(&owner), Err(Error::AuditChain(_))));
}

#[test]
fn incremental_verification_checks_what_follows_the_checkpoint() {
    let (fx, t, owner) = populated(3);
    let first = t.verify_audit(&owner).unwrap();
    let checkpoint = first.checkpoint().unwrap();
    assert_eq!(checkpoint.verified, 4);
    t.add_customer(&owner, &common::customer("Later", "9111111111"))
        .unwrap();
    let next = t.verify_audit_since(&owner, checkpoint).unwrap();
    assert!(next.is_intact());
    assert_eq!(next.verified, 5);

    let raw = fx.raw();
    drop_guards(&raw);
    // An edit after the checkpoint is caught by the incremental walk...
    raw.execute("UPDATE audit_log SET action = 'x' WHERE seq = 5", [])
        .unwrap();
    assert_eq!(
        t.verify_audit_since(&owner, checkpoint).unwrap().bad_seq,
        Some(5)
    );
    raw.execute(
        "UPDATE audit_log SET action = 'customer.create' WHERE seq = 5",
        [],
    )
    .unwrap();
    // ...an edit before it is left to the full walk, which still names it.
    raw.execute("UPDATE audit_log SET role = 'x' WHERE seq = 2", [])
        .unwrap();
    assert!(
        t.verify_audit_since(&owner, checkpoint)
            .unwrap()
            .is_intact()
    );
    assert_eq!(t.verify_audit(&owner).unwrap().bad_seq, Some(2));
}

#[test]
fn the_audit_screen_reads_newest_first_narrowed_by_seat_action_and_time_a_page_at_a_time() {
    use galla_client::AuditQuery;
    let (fx, t, owner) = populated(5);
    let owner_seat = t.session_info(&owner).unwrap().seat_id;
    fx.clock.advance_ms(1000);
    let asha = common::counter_staff(&t, &owner);
    let asha_seat = t.session_info(&asha).unwrap().seat_id;
    fx.clock.advance_ms(1000);
    t.add_customer(&asha, &common::customer("Meena", "9811111111"))
        .unwrap();

    let all = t.audit_entries(&owner, &AuditQuery::default()).unwrap();
    let seqs: Vec<i64> = all.entries.iter().map(|e| e.seq).collect();
    let mut newest_first = seqs.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(seqs, newest_first);
    assert!(!all.more);
    assert_eq!(all.entries[0].action, "customer.create");
    assert_eq!(all.entries[0].seat_name.as_deref(), Some("Asha"));
    assert_eq!(all.entries[0].role, "counter_staff");

    // By seat: only Asha's records, which include her own sign-in.
    let hers = t
        .audit_entries(
            &owner,
            &AuditQuery {
                seat_id: Some(asha_seat),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(!hers.entries.is_empty());
    assert!(hers.entries.iter().all(|e| e.seat_id == Some(asha_seat)));
    assert!(hers.entries.iter().any(|e| e.action == "customer.create"));

    // By action family and by exact action; a family never matches a longer word.
    let family = |a: &str| {
        t.audit_entries(
            &owner,
            &AuditQuery {
                action: Some(a.into()),
                ..Default::default()
            },
        )
        .unwrap()
        .entries
    };
    assert_eq!(family("customer").len(), 6);
    assert_eq!(family("customer.create").len(), 6);
    assert!(
        family("customer.create")
            .iter()
            .all(|e| e.action == "customer.create")
    );
    assert!(family("custom").is_empty());
    assert!(
        family(" seat ")
            .iter()
            .all(|e| e.action.starts_with("seat."))
    );
    assert!(!family("seat").is_empty());

    // By time: [from, to) in Unix ms.
    let first_customer = family("customer.create").last().unwrap().time_ms;
    let window = t
        .audit_entries(
            &owner,
            &AuditQuery {
                from_ms: Some(first_customer),
                to_ms: Some(first_customer + 1000),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(window.entries.len(), 1);
    assert_eq!(window.entries[0].seat_id, Some(owner_seat));

    // Pages: each ends where the next begins, and together they are the whole log.
    let mut paged = Vec::new();
    let mut before = None;
    loop {
        let page = t
            .audit_entries(
                &owner,
                &AuditQuery {
                    before_seq: before,
                    limit: Some(4),
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(page.entries.len() <= 4);
        paged.extend(page.entries.iter().map(|e| e.seq));
        if !page.more {
            break;
        }
        before = page.entries.last().map(|e| e.seq);
    }
    assert_eq!(paged, seqs);

    // Bad filters are refused with the field named; counter staff may not read the trail.
    for bad in [
        AuditQuery {
            action: Some("seat'; --".into()),
            ..Default::default()
        },
        AuditQuery {
            from_ms: Some(10),
            to_ms: Some(10),
            ..Default::default()
        },
        AuditQuery {
            limit: Some(0),
            ..Default::default()
        },
        AuditQuery {
            limit: Some(galla_client::audit::MAX_AUDIT_PAGE + 1),
            ..Default::default()
        },
    ] {
        let e = t.audit_entries(&owner, &bad).unwrap_err();
        assert!(matches!(e, Error::Invalid(_)), "{bad:?}: {e:?}");
    }
    assert!(matches!(
        t.audit_entries(&asha, &AuditQuery::default()),
        Err(Error::PermissionDenied { .. })
    ));
}

#[test]
fn the_sync_status_counts_the_records_the_server_does_not_hold_and_their_age() {
    let (fx, t, owner) = populated(0);
    let created = t.status().unwrap().sync;
    assert!(!created.linked, "a standalone shop");
    assert_eq!(created.queued_operations, 1, "the shop's creation waits");
    let first_at = created.oldest_queued_at_ms.unwrap();
    for i in 0..4 {
        fx.clock.advance_ms(1000);
        t.add_customer(
            &owner,
            &common::customer(&format!("C{i}"), &format!("98{i:08}")),
        )
        .unwrap();
    }
    let s = t.status().unwrap().sync;
    assert_eq!(s.queued_operations, 5);
    assert_eq!(
        s.oldest_queued_at_ms,
        Some(first_at),
        "the oldest is still the first"
    );
    // Once the server holds the first two, the run starts at the third.
    let raw = fx.raw();
    raw.execute("UPDATE sync_state SET server_seq = 2", [])
        .unwrap();
    let s = t.status().unwrap().sync;
    assert_eq!(s.queued_operations, 3);
    assert!(s.oldest_queued_at_ms.unwrap() > first_at);
}
