//! A shop created by the previous Galla (schema 1: no seat sign-in, sessions or carts) opens
//! with this one: the pending migration runs in one transaction, the owner signs in with the
//! passphrase chosen back then, the old audit chain still verifies and new seats can be added.
//!
//! A shop that has traded under schema 20 (invoices, payments, a held sale, a credit note)
//! keeps every one of them through schema 21's rebuild of the sale tables.
//!
//! A test binary of its own: it caps migrations process-wide while building the old shop, so
//! its tests take turns.

mod common;

use std::sync::Mutex;
use std::sync::atomic::Ordering;

use common::Fixture;
use galla_client::store::SCHEMA_LIMIT_FOR_TESTS;
use galla_client::{
    FinalizeRequest, NewCreditNote, NewProduct, NewSeat, PaymentInput, PriceBasis, ProductRef,
    ReturnLine, Role, SaleTerms, SecretKind, SecretString, Settlement,
};

/// The schema cap is process-wide: one test at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn a_schema_1_shop_upgrades_and_its_owner_signs_in() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let fx = Fixture::new();
    SCHEMA_LIMIT_FOR_TESTS.store(1, Ordering::SeqCst);
    let (t, _owner) = fx.init();
    assert_eq!(t.status().unwrap().schema_version, 1);
    drop(t);
    SCHEMA_LIMIT_FOR_TESTS.store(0, Ordering::SeqCst);

    let t = fx.open().unwrap();
    let status = t.status().unwrap();
    assert_eq!(status.schema_version, status.supported_schema_version);
    assert!(status.schema_version >= 2);
    let roster = t.roster().unwrap();
    assert_eq!(roster.len(), 1);
    assert_eq!(roster[0].secret_kind, SecretKind::Passphrase);
    let owner = common::sign_in_owner(&t);
    let report = t.verify_audit(&owner).unwrap();
    assert!(report.is_intact());
    assert_eq!(
        report.verified, 2,
        "shop.create from schema 1, then the sign-in"
    );
    t.add_seat(
        &owner,
        &NewSeat {
            display_name: "Asha".into(),
            roles: vec![Role::CounterStaff],
            overrides: vec![],
            secret_kind: SecretKind::Pin,
            secret: SecretString::new("482915"),
        },
    )
    .unwrap();
    t.open_cart(&owner).unwrap();
}

#[test]
fn a_schema_20_shop_keeps_its_invoices_payments_held_sale_and_returns_through_the_rebuild() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let fx = Fixture::new();
    SCHEMA_LIMIT_FOR_TESTS.store(20, Ordering::SeqCst);
    let (t, owner) = fx.init();
    assert_eq!(t.status().unwrap().schema_version, 20);
    for (sku, price) in [("TEA", 12_000), ("SUGAR", 4_500)] {
        t.add_product(
            &owner,
            &NewProduct {
                sku: sku.into(),
                name: sku.into(),
                hsn: Some("0902".into()),
                gst_rate_bp: 500,
                price_paise: price,
                price_basis: Some(PriceBasis::Inclusive),
                stock: Some(50),
                ..Default::default()
            },
        )
        .unwrap();
    }
    let ring = |skus: &[(&str, u32)]| {
        for (sku, qty) in skus {
            t.add_product_to_cart(&owner, &ProductRef::Sku((*sku).into()), *qty)
                .unwrap();
        }
        t.quote_cart(&owner, &SaleTerms::default())
            .unwrap()
            .total_paise
    };
    // Two bills, the second paid three ways in an order the receipt must keep.
    let due = ring(&[("TEA", 2), ("SUGAR", 1)]);
    let first = t
        .finalize(
            &owner,
            &FinalizeRequest {
                payments: vec![PaymentInput::Cash {
                    amount_paise: due,
                    tendered_paise: Some(due + 1_000),
                }],
                ..Default::default()
            },
        )
        .unwrap();
    let due = ring(&[("SUGAR", 3), ("TEA", 1)]);
    let second = t
        .finalize(
            &owner,
            &FinalizeRequest {
                payments: vec![
                    PaymentInput::Upi {
                        amount_paise: 5_000,
                        reference: "UPI-REF-000123".into(),
                    },
                    PaymentInput::Cash {
                        amount_paise: 100,
                        tendered_paise: None,
                    },
                    PaymentInput::Card {
                        amount_paise: due - 5_100,
                        reference: "APPROVAL-77".into(),
                    },
                ],
                ..Default::default()
            },
        )
        .unwrap();
    t.issue_credit_note(
        &owner,
        &NewCreditNote {
            invoice_number: first.number.clone(),
            reason: "returned: damaged".into(),
            lines: vec![ReturnLine {
                line_no: 1,
                quantity: 1,
                imeis: vec![],
            }],
            settlement: Settlement::RefundCash,
        },
    )
    .unwrap();
    let (first, second) = (
        t.invoice_by_number(&owner, &first.number).unwrap(),
        t.invoice_by_number(&owner, &second.number).unwrap(),
    );
    assert_eq!(first.lines[0].returned_quantity, 1);
    assert_eq!(second.payments.len(), 3);
    // A sale parked when the old build stopped.
    ring(&[("TEA", 4), ("SUGAR", 2)]);
    let held = t.hold_cart(&owner).unwrap();
    drop(t);
    SCHEMA_LIMIT_FOR_TESTS.store(0, Ordering::SeqCst);

    let t = fx.open().unwrap();
    let status = t.status().unwrap();
    assert_eq!(status.schema_version, status.supported_schema_version);
    assert!(status.schema_version >= 21);
    let owner = common::sign_in_owner(&t);
    // Each invoice reads back as it did: lines in order, payments in the order given, the
    // credit note still pointing at the line it took back.
    assert_eq!(t.invoice_by_number(&owner, &first.number).unwrap(), first);
    assert_eq!(t.invoice_by_number(&owner, &second.number).unwrap(), second);
    // The held sale resumes with its lines, and the shop trades on: the next number follows.
    let resumed = t.resume_cart(&owner, held.cart_id).unwrap();
    assert_eq!(resumed.lines, held.lines);
    assert_eq!(resumed.lines.len(), 2);
    let due = t
        .quote_cart(&owner, &SaleTerms::default())
        .unwrap()
        .total_paise;
    let third = t
        .finalize(
            &owner,
            &FinalizeRequest {
                payments: vec![PaymentInput::Cash {
                    amount_paise: due,
                    tendered_paise: None,
                }],
                ..Default::default()
            },
        )
        .unwrap();
    assert!(third.number.ends_with("000003"), "{}", third.number);
    let report = t.verify_audit(&owner).unwrap();
    assert!(report.is_intact());
    // The rebuilt tables are one b-tree each where they were two or three.
    let fx_raw = fx.raw();
    let count = |sql: &str| -> i64 { fx_raw.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name IN ('cart', 'cart_line', 'payment')"
        ),
        0
    );
    assert_eq!(count("SELECT count(*) FROM pragma_foreign_key_check"), 0);
}
