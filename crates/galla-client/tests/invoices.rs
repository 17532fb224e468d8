//! Finalizing sales on the real encrypted store: numbering per terminal series and financial
//! year (no gaps, no duplicates, even from two connections at once), taxes, IMEIs, payments,
//! and invoices that stay facts.

mod common;

use std::sync::Arc;

use common::Fixture;
use galla_client::{
    Clock, Error, FinalizeRequest, InputError, NewProduct, PaymentInput, PriceBasis, ProductRef,
    SaleTerms, SessionToken, Terminal,
};

const PHONE_IMEIS: [&str; 2] = ["490154203237518", "356938035643809"];

fn stock(t: &Terminal, owner: &SessionToken) {
    let cover = NewProduct {
        sku: "COVER".into(),
        name: "Back cover".into(),
        barcodes: vec!["4006381333931".into()],
        hsn: Some("3926".into()),
        gst_rate_bp: 1800,
        price_paise: 29_900,
        price_basis: Some(PriceBasis::Inclusive),
        ..Default::default()
    };
    t.add_product(owner, &cover).unwrap();
    let phone = NewProduct {
        sku: "RN13".into(),
        name: "Redmi Note 13".into(),
        hsn: Some("8517".into()),
        gst_rate_bp: 1800,
        price_paise: 1_499_900,
        price_basis: Some(PriceBasis::Inclusive),
        serialized: true,
        imeis_per_unit: Some(2),
        ..Default::default()
    };
    t.add_product(owner, &phone).unwrap();
}

fn cash(amount: i64, tendered: i64) -> FinalizeRequest {
    FinalizeRequest {
        payments: vec![PaymentInput::Cash {
            amount_paise: amount,
            tendered_paise: Some(tendered),
        }],
        ..Default::default()
    }
}

#[test]
fn a_phone_and_a_cover_make_invoice_one_of_the_series_with_imeis_and_change() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    stock(&t, &owner);
    t.add_product_to_cart(&owner, &ProductRef::Barcode("4006381333931".into()), 2)
        .unwrap();
    let cart = t
        .add_product_to_cart(&owner, &ProductRef::Sku("RN13".into()), 1)
        .unwrap();
    let phone_line = cart.lines[1].line_id;
    assert_eq!(cart.lines[1].imeis_required, 2);

    // Without its IMEIs the phone cannot be sold.
    assert!(matches!(
        t.finalize(&owner, &cash(1_559_700, 1_560_000)),
        Err(Error::Invalid(InputError::Conflict(m))) if m.contains("needs 2 IMEI")
    ));
    assert!(matches!(
        t.set_line_imeis(&owner, phone_line, &["490154203237517".into()]),
        Err(Error::Invalid(_))
    ));
    t.set_line_imeis(&owner, phone_line, &PHONE_IMEIS.map(String::from))
        .unwrap();
    // Payments must add up to the bill.
    assert!(matches!(
        t.finalize(&owner, &cash(1_000, 1_000)),
        Err(Error::Invalid(_))
    ));
    let inv = t.finalize(&owner, &cash(1_559_700, 1_600_000)).unwrap();
    assert_eq!(inv.number, "T1/25-26/000001");
    assert_eq!(inv.financial_year, "2025-26");
    assert_eq!(
        inv.total_paise, 1_559_700,
        "2 × 299 + 14,999, MRP-inclusive"
    );
    assert_eq!(inv.cgst_paise, inv.sgst_paise);
    assert_eq!(inv.igst_paise, 0);
    assert_eq!(
        inv.taxable_paise + inv.cgst_paise + inv.sgst_paise,
        inv.subtotal_paise
    );
    assert_eq!(inv.payments[0].change_paise, Some(40_300));
    assert_eq!(inv.lines[1].imeis, PHONE_IMEIS);
    assert!(
        t.current_cart(&owner).unwrap().is_none(),
        "the cart became the invoice"
    );

    // The IMEIs are sold: found by IMEI, refused in a new sale.
    assert_eq!(
        t.invoices_by_imei(&owner, PHONE_IMEIS[1]).unwrap()[0].number,
        inv.number
    );
    let cart = t
        .add_product_to_cart(&owner, &ProductRef::Sku("RN13".into()), 1)
        .unwrap();
    assert!(matches!(
        t.set_line_imeis(&owner, cart.lines[0].line_id, &PHONE_IMEIS.map(String::from)),
        Err(Error::Invalid(InputError::Conflict(m))) if m.contains("already sold")
    ));
    t.discard_cart(&owner).unwrap();

    t.add_product_to_cart(&owner, &ProductRef::Sku("COVER".into()), 1)
        .unwrap();
    let card_number = FinalizeRequest {
        payments: vec![PaymentInput::Card {
            amount_paise: 29_900,
            reference: "4111 1111 1111 1111".into(),
        }],
        ..Default::default()
    };
    assert!(matches!(
        t.finalize(&owner, &card_number),
        Err(Error::Invalid(_))
    ));
    let split = FinalizeRequest {
        payments: vec![
            PaymentInput::Upi {
                amount_paise: 20_000,
                reference: "UPI-417823650912".into(),
            },
            PaymentInput::Cash {
                amount_paise: 9_900,
                tendered_paise: None,
            },
        ],
        ..Default::default()
    };
    let second = t.finalize(&owner, &split).unwrap();
    assert_eq!(second.number, "T1/25-26/000002");
    assert_eq!(t.invoice_by_number(&owner, "T1/25-26/000001").unwrap(), inv);
    assert!(t.verify_audit(&owner).unwrap().is_intact());

    // A finalized invoice is a fact, even for someone with the key and a SQL shell.
    let raw = fx.raw();
    for sql in [
        "UPDATE invoice SET total_paise = 1",
        "DELETE FROM invoice_line",
        "DELETE FROM invoice_imei",
        "UPDATE payment SET amount_paise = 1",
    ] {
        let err = raw.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("cannot be"), "{sql}: {err}");
    }
}

#[test]
fn the_series_restarts_on_1_april_ist() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    stock(&t, &owner);
    // 2026-03-31 23:58 IST: months later, so the owner signs in again.
    fx.clock.set_ms(1_774_981_680_000);
    let owner = common::sign_in_owner(&t);
    let sell = || {
        t.add_product_to_cart(&owner, &ProductRef::Sku("COVER".into()), 1)
            .unwrap();
        t.finalize(&owner, &cash(29_900, 29_900)).unwrap().number
    };
    assert_eq!(sell(), "T1/25-26/000001");
    assert_eq!(sell(), "T1/25-26/000002");
    fx.clock.advance_ms(3 * 60_000); // 00:01 IST on 1 April
    assert_eq!(sell(), "T1/26-27/000001");
    assert_eq!(fx.clock.now_ms(), 1_774_981_860_000);
}

#[test]
fn two_connections_finalizing_at_once_never_share_or_skip_a_number() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    stock(&t, &owner);
    drop(t);
    let per_thread = 15;
    let handles: Vec<_> = (0..3)
        .map(|_| {
            // Each thread opens the store itself: separate SQLite connections, as two
            // processes (the app and `galla-cli bill`) would have.
            let t = Arc::new(fx.open().unwrap());
            let owner = common::sign_in_owner(&t);
            std::thread::spawn(move || {
                let mut numbers = Vec::new();
                for _ in 0..per_thread {
                    t.add_product_to_cart(&owner, &ProductRef::Sku("COVER".into()), 1)
                        .unwrap();
                    numbers.push(t.finalize(&owner, &cash(29_900, 29_900)).unwrap().number);
                }
                numbers
            })
        })
        .collect();
    let mut all: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort();
    let expected: Vec<String> = (1..=3 * per_thread)
        .map(|n| format!("T1/25-26/{n:06}"))
        .collect();
    assert_eq!(all, expected);
}

#[test]
fn the_quote_the_till_shows_is_what_finalize_charges() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    stock(&t, &owner);
    t.open_cart(&owner).unwrap();
    let empty = t.quote_cart(&owner, &SaleTerms::default()).unwrap();
    assert_eq!((empty.total_paise, empty.lines.len()), (0, 0));
    t.add_product_to_cart(&owner, &ProductRef::Sku("COVER".into()), 1)
        .unwrap();
    let cart = t
        .add_product_to_cart(&owner, &ProductRef::Sku("RN13".into()), 1)
        .unwrap();
    let (cover, phone) = (cart.lines[0].line_id, cart.lines[1].line_id);

    // While the IMEIs are missing the total is already known; what blocks the sale is listed.
    let quote = t.quote_cart(&owner, &SaleTerms::default()).unwrap();
    assert_eq!(quote.total_paise, 1_529_800);
    assert_eq!(quote.lines.len(), 2);
    assert_eq!(quote.lines[1].line_id, phone);
    assert_eq!(quote.lines[1].gst_rate_bp, 1800);
    assert_eq!(
        quote.lines.iter().map(|l| l.total_paise).sum::<i64>(),
        quote.subtotal_paise
    );
    assert_eq!(quote.problems.len(), 1, "{:?}", quote.problems);
    assert!(quote.problems[0].contains("needs 2 IMEI"));

    // A quantity change is priced, and a phone line now needs two IMEIs per unit.
    let cart = t.set_line_quantity(&owner, cover, 3).unwrap();
    assert_eq!(cart.lines[0].quantity, 3);
    let cart = t.set_line_quantity(&owner, phone, 2).unwrap();
    assert_eq!(cart.lines[1].imeis_required, 4);
    t.set_line_imeis(
        &owner,
        phone,
        &[
            PHONE_IMEIS[0].into(),
            PHONE_IMEIS[1].into(),
            "352099001761481".into(),
        ],
    )
    .unwrap();
    assert!(
        matches!(
            t.set_line_quantity(&owner, phone, 1),
            Err(Error::Invalid(InputError::Conflict(m))) if m.contains("remove IMEIs first")
        ),
        "3 IMEIs captured cannot fit 1 phone"
    );
    for bad in [0, -1, 100_001] {
        assert!(matches!(
            t.set_line_quantity(&owner, cover, bad),
            Err(Error::Invalid(InputError::Rejected {
                field: "quantity",
                ..
            }))
        ));
    }
    t.set_line_imeis(&owner, phone, &PHONE_IMEIS.map(String::from))
        .unwrap();
    let cart = t.set_line_quantity(&owner, phone, 1).unwrap();
    assert_eq!(cart.lines[1].imeis_required, 2);

    let terms = SaleTerms {
        bill_discount: galla_client::Discount::Amount(galla_client::Money::from_paise(1_000)),
        ..Default::default()
    };
    let quote = t.quote_cart(&owner, &terms).unwrap();
    assert!(quote.problems.is_empty(), "{:?}", quote.problems);
    assert!(quote.bill_discount_paise > 0);
    let mut req = cash(quote.total_paise, quote.total_paise);
    req.bill_discount = terms.bill_discount;
    let invoice = t.finalize(&owner, &req).unwrap();
    assert_eq!(invoice.total_paise, quote.total_paise);
    assert_eq!(invoice.taxable_paise, quote.taxable_paise);
    assert_eq!(invoice.cgst_paise, quote.cgst_paise);
    assert_eq!(invoice.round_off_paise, quote.round_off_paise);
    assert_eq!(invoice.lines[0].quantity, 3);
}

#[test]
fn a_held_sale_resumes_with_its_customer_place_of_supply_and_bill_discount() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    stock(&t, &owner);
    let ravi = t
        .add_customer(&owner, &common::customer("Ravi Kumar", "98450 12345"))
        .unwrap();
    let cart = t
        .add_product_to_cart(&owner, &ProductRef::Sku("COVER".into()), 2)
        .unwrap();
    assert_eq!(cart.terms, SaleTerms::default(), "a new sale has no terms");
    let agreed = SaleTerms {
        customer_id: Some(ravi),
        place_of_supply: Some(29),
        bill_discount: galla_client::Discount::Percent(1_000),
        ..Default::default()
    };
    let cart = t.set_sale_terms(&owner, &agreed).unwrap();
    assert_eq!(cart.terms, agreed);
    let quoted = t.quote_cart(&owner, &cart.terms).unwrap();
    assert_eq!(quoted.bill_discount_paise, 5_980, "10% of 2 × ₹299");
    assert_eq!(quoted.supply, galla_client::Supply::InterState);

    // Terms are the sale's own scratch state: kept with it, never a signed record of their own
    // (the sale's one record is its finalize).
    let raw = fx.raw();
    let records = || -> i64 {
        raw.query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'cart.terms'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    t.set_sale_terms(&owner, &agreed).unwrap();
    assert_eq!(records(), 0);

    // Parked and taken up by a clerk: the terms come back with the lines.
    t.hold_cart(&owner).unwrap();
    assert_eq!(t.held_carts(&owner).unwrap()[0].terms, agreed);
    let asha = common::counter_staff(&t, &owner);
    let resumed = t.resume_cart(&asha, cart.cart_id).unwrap();
    assert_eq!(
        (resumed.terms.clone(), resumed.lines.len()),
        (agreed.clone(), 1)
    );
    // The clerk is held to her own 5% limit: the owner's 10% is shown, not granted to her.
    assert!(matches!(
        t.quote_cart(&asha, &resumed.terms),
        Err(Error::DiscountAboveLimit {
            asked_bp: 1_000,
            limit_bp: 500
        })
    ));
    assert!(matches!(
        t.set_sale_terms(
            &asha,
            &SaleTerms {
                bill_discount: galla_client::Discount::Percent(600),
                ..agreed.clone()
            }
        ),
        Err(Error::DiscountAboveLimit { .. })
    ));
    let within = SaleTerms {
        bill_discount: galla_client::Discount::Amount(galla_client::Money::from_paise(2_000)),
        ..agreed.clone()
    };
    let cart = t.set_sale_terms(&asha, &within).unwrap();
    assert_eq!(cart.terms, within);

    // Bad terms are refused and change nothing.
    for (bad, field) in [
        (
            SaleTerms {
                bill_discount: galla_client::Discount::Percent(0),
                ..within.clone()
            },
            "bill_discount",
        ),
        (
            SaleTerms {
                bill_discount: galla_client::Discount::Percent(10_001),
                ..within.clone()
            },
            "bill_discount",
        ),
        (
            SaleTerms {
                bill_discount: galla_client::Discount::Amount(galla_client::Money::from_paise(-5)),
                ..within.clone()
            },
            "bill_discount",
        ),
        (
            SaleTerms {
                place_of_supply: Some(0),
                ..within.clone()
            },
            "place_of_supply",
        ),
    ] {
        let got = t.set_sale_terms(&asha, &bad);
        assert!(
            matches!(&got, Err(Error::Invalid(InputError::Rejected { field: f, .. })) if *f == field),
            "{bad:?}: {got:?}"
        );
    }
    assert!(matches!(
        t.set_sale_terms(
            &asha,
            &SaleTerms {
                customer_id: Some(uuid::Uuid::now_v7()),
                ..within.clone()
            }
        ),
        Err(Error::NotFound(_))
    ));
    assert_eq!(t.current_cart(&asha).unwrap().unwrap().terms, within);

    // What was agreed is what is billed.
    let quote = t.quote_cart(&asha, &within).unwrap();
    let mut req = cash(quote.total_paise, quote.total_paise);
    req.customer_id = within.customer_id;
    req.place_of_supply = within.place_of_supply;
    req.bill_discount = within.bill_discount;
    let invoice = t.finalize(&asha, &req).unwrap();
    assert_eq!(invoice.customer_id, Some(ravi));
    assert_eq!(invoice.place_of_supply, 29);
    assert_eq!(invoice.total_paise, 59_800 - 2_000);
}
