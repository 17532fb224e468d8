//! Returns and cancellations as credit notes on the real store: never more than was sold,
//! amounts that add back up to the invoice exactly, IMEIs back in stock, their own series.

mod common;

use common::Fixture;
use galla_client::{
    Error, FinalizeRequest, InputError, NewCreditNote, NewProduct, PaymentInput, PriceBasis,
    ProductRef, ReturnLine, SessionToken, Settlement, Terminal,
};

const IMEIS: [&str; 2] = ["490154203237518", "356938035643809"];

/// Sells 3 covers at ₹299.99 and a dual-SIM phone; returns the invoice number and total.
fn sale(t: &Terminal, owner: &SessionToken) -> (String, i64) {
    for (sku, name, price, serialized) in [
        ("COVER", "Back cover", 29_999, false),
        ("PH", "Phone", 1_099_900, true),
    ] {
        t.add_product(
            owner,
            &NewProduct {
                sku: sku.into(),
                name: name.into(),
                gst_rate_bp: 1800,
                price_paise: price,
                price_basis: Some(PriceBasis::Inclusive),
                serialized,
                imeis_per_unit: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
    }
    t.add_product_to_cart(owner, &ProductRef::Sku("COVER".into()), 3)
        .unwrap();
    let cart = t
        .add_product_to_cart(owner, &ProductRef::Sku("PH".into()), 1)
        .unwrap();
    t.set_line_imeis(owner, cart.lines[1].line_id, &IMEIS.map(String::from))
        .unwrap();
    let total = 3 * 29_999 + 1_099_900; // 11,89,897 paise → rounds to ₹11,899
    let inv = t
        .finalize(
            owner,
            &FinalizeRequest {
                payments: vec![PaymentInput::Cash {
                    amount_paise: 1_189_900,
                    tendered_paise: None,
                }],
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(inv.subtotal_paise, total);
    assert_eq!(inv.round_off_paise, 3);
    (inv.number, inv.total_paise)
}

fn note(invoice: &str, lines: Vec<ReturnLine>) -> NewCreditNote {
    NewCreditNote {
        invoice_number: invoice.into(),
        reason: "returned".into(),
        lines,
        settlement: Settlement::RefundCash,
    }
}

fn ret(line_no: i64, quantity: u32, imeis: &[&str]) -> ReturnLine {
    ReturnLine {
        line_no,
        quantity,
        imeis: imeis.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn returns_never_exceed_the_sale_and_add_back_up_to_the_invoice_exactly() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    let (number, total) = sale(&t, &owner);

    let first = t
        .issue_credit_note(&owner, &note(&number, vec![ret(1, 1, &[])]))
        .unwrap();
    assert_eq!(first.number, "T1C/25-26/000001");
    assert_eq!(first.invoice_number, number);
    assert_eq!(first.total_paise, 29_999);
    assert_eq!(first.cgst_paise, first.sgst_paise);

    assert!(matches!(
        t.issue_credit_note(&owner, &note(&number, vec![ret(1, 3, &[])])),
        Err(Error::Invalid(InputError::Conflict(m))) if m.contains("only 2 of 3")
    ));
    // The phone comes back only with its IMEIs, and only those sold on that line.
    assert!(matches!(
        t.issue_credit_note(&owner, &note(&number, vec![ret(2, 1, &[])])),
        Err(Error::Invalid(InputError::Conflict(m))) if m.contains("IMEI")
    ));
    assert!(matches!(
        t.issue_credit_note(&owner, &note(&number, vec![ret(2, 1, &[IMEIS[0], "352099001761481"])])),
        Err(Error::Invalid(InputError::Conflict(m))) if m.contains("not sold")
    ));
    let second = t
        .issue_credit_note(
            &owner,
            &note(&number, vec![ret(1, 2, &[]), ret(2, 1, &IMEIS)]),
        )
        .unwrap();
    assert_eq!(second.number, "T1C/25-26/000002");
    assert_eq!(
        second.round_off_paise, 3,
        "the note that completes the invoice carries its round-off"
    );
    assert_eq!(
        first.total_paise + second.total_paise,
        total,
        "the customer gets back what was paid"
    );
    assert_eq!(second.lines[1].imeis, IMEIS);
    assert!(matches!(
        t.issue_credit_note(&owner, &note(&number, vec![ret(1, 1, &[])])),
        Err(Error::Invalid(InputError::Conflict(_)))
    ));

    // The phone is back in stock: its IMEIs sell again.
    let cart = t
        .add_product_to_cart(&owner, &ProductRef::Sku("PH".into()), 1)
        .unwrap();
    t.set_line_imeis(&owner, cart.lines[0].line_id, &IMEIS.map(String::from))
        .unwrap();

    assert!(matches!(
        t.issue_credit_note(&owner, &note("T1/25-26/999999", vec![ret(1, 1, &[])])),
        Err(Error::NotFound(_))
    ));
    let card = NewCreditNote {
        settlement: Settlement::RefundCard {
            reference: "4111111111111111".into(),
        },
        ..note(&number, vec![ret(1, 1, &[])])
    };
    assert!(matches!(
        t.issue_credit_note(&owner, &card),
        Err(Error::Invalid(_))
    ));
    assert!(t.verify_audit(&owner).unwrap().is_intact());

    let raw = fx.raw();
    for sql in [
        "UPDATE credit_note SET total_paise = 0",
        "DELETE FROM credit_note_line",
    ] {
        let err = raw.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("cannot be"), "{sql}: {err}");
    }
}

#[test]
fn stock_counts_follow_sales_and_returns() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    t.add_product(
        &owner,
        &NewProduct {
            sku: "GLASS".into(),
            name: "Screen guard".into(),
            gst_rate_bp: 1800,
            price_paise: 10_000,
            stock: Some(10),
            ..Default::default()
        },
    )
    .unwrap();
    let stock = || t.product_by_sku(&owner, "GLASS").unwrap().unwrap().stock;
    t.add_product_to_cart(&owner, &ProductRef::Sku("GLASS".into()), 3)
        .unwrap();
    let inv = t
        .finalize(
            &owner,
            &FinalizeRequest {
                payments: vec![PaymentInput::Cash {
                    amount_paise: 30_000,
                    tendered_paise: None,
                }],
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(stock(), Some(7));
    t.issue_credit_note(&owner, &note(&inv.number, vec![ret(1, 1, &[])]))
        .unwrap();
    assert_eq!(stock(), Some(8));
    // Selling more than the count says is never refused: the count goes negative for the owner
    // to correct.
    t.add_product_to_cart(&owner, &ProductRef::Sku("GLASS".into()), 9)
        .unwrap();
    t.finalize(
        &owner,
        &FinalizeRequest {
            payments: vec![PaymentInput::Cash {
                amount_paise: 90_000,
                tendered_paise: None,
            }],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(stock(), Some(-1));
}

#[test]
fn cancelling_an_invoice_takes_everything_back_once_and_only_whole() {
    let fx = common::Fixture::new();
    let (t, owner) = fx.init();
    t.add_product(
        &owner,
        &galla_client::NewProduct {
            sku: "CABLE".into(),
            name: "Charging cable".into(),
            gst_rate_bp: 1800,
            price_paise: 19_900,
            ..Default::default()
        },
    )
    .unwrap();
    let sell = |qty| {
        t.add_product_to_cart(&owner, &galla_client::ProductRef::Sku("CABLE".into()), qty)
            .unwrap();
        t.finalize(
            &owner,
            &galla_client::FinalizeRequest {
                payments: vec![galla_client::PaymentInput::Cash {
                    amount_paise: 19_900 * i64::from(qty),
                    tendered_paise: None,
                }],
                ..Default::default()
            },
        )
        .unwrap()
    };
    let inv = sell(3);
    let note = t
        .cancel_invoice(
            &owner,
            &inv.number,
            "billed twice",
            galla_client::Settlement::RefundCash,
        )
        .unwrap();
    assert_eq!(note.total_paise, inv.total_paise, "all of it, to the paisa");
    assert_eq!(note.reason, "cancelled: billed twice");
    assert_eq!(note.lines[0].quantity, 3);
    // Once cancelled, nothing is left to cancel or return.
    assert!(matches!(
        t.cancel_invoice(
            &owner,
            &inv.number,
            "again",
            galla_client::Settlement::RefundCash
        ),
        Err(galla_client::Error::Invalid(
            galla_client::InputError::Conflict(_)
        ))
    ));

    // A partly returned invoice is not cancelled; the rest goes back as a credit note.
    let inv = sell(2);
    t.issue_credit_note(
        &owner,
        &galla_client::NewCreditNote {
            invoice_number: inv.number.clone(),
            reason: "returned".into(),
            lines: vec![galla_client::ReturnLine {
                line_no: 1,
                quantity: 1,
                imeis: vec![],
            }],
            settlement: galla_client::Settlement::RefundCash,
        },
    )
    .unwrap();
    assert!(matches!(
        t.cancel_invoice(&owner, &inv.number, "changed mind", galla_client::Settlement::RefundCash),
        Err(galla_client::Error::Invalid(galla_client::InputError::Conflict(m))) if m.contains("credit note")
    ));
    assert!(matches!(
        t.cancel_invoice(
            &owner,
            "T1/25-26/999999",
            "x",
            galla_client::Settlement::RefundCash
        ),
        Err(galla_client::Error::NotFound(_))
    ));
}

#[test]
fn the_invoices_screen_finds_by_number_imei_or_customer_and_shows_what_was_returned() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    let (first, _) = sale(&t, &owner);
    // A second sale, on credit-free cash, to a named customer.
    fx.clock.advance_ms(1000);
    let meena = t
        .add_customer(&owner, &common::customer("Meena Iyer", "9811111111"))
        .unwrap();
    t.add_product_to_cart(&owner, &ProductRef::Sku("COVER".into()), 1)
        .unwrap();
    let second = t
        .finalize(
            &owner,
            &FinalizeRequest {
                customer_id: Some(meena),
                payments: vec![PaymentInput::Cash {
                    amount_paise: 30_000,
                    tendered_paise: None,
                }],
                ..Default::default()
            },
        )
        .unwrap()
        .number;

    let numbers = |typed: &str| -> Vec<String> {
        t.find_invoices(&owner, typed, 50)
            .unwrap()
            .into_iter()
            .map(|s| s.number)
            .collect()
    };
    assert_eq!(
        numbers(""),
        vec![second.clone(), first.clone()],
        "newest first"
    );
    assert_eq!(numbers(&first), vec![first.clone()]);
    assert_eq!(numbers(&first.to_lowercase()), vec![first.clone()]);
    assert_eq!(numbers(IMEIS[1]), vec![first.clone()]);
    assert_eq!(numbers("meena"), vec![second.clone()]);
    assert_eq!(numbers("+91 98111 11111"), vec![second.clone()]);
    assert!(numbers("nobody").is_empty());
    assert!(numbers("T1/25-26/999999").is_empty());
    let summary = &t.find_invoices(&owner, &second, 5).unwrap()[0];
    assert_eq!(summary.customer_name.as_deref(), Some("Meena Iyer"));
    assert_eq!((summary.lines, summary.credit_notes), (1, 0));
    assert!(matches!(
        t.find_invoices(&owner, &"x".repeat(101), 5),
        Err(Error::Invalid(_))
    ));

    // One cover back: the invoice counts it per line and its summary counts the note.
    t.issue_credit_note(&owner, &note(&first, vec![ret(1, 1, &[])]))
        .unwrap();
    let inv = t.invoice_by_number(&owner, &first).unwrap();
    assert_eq!(inv.lines[0].returned_quantity, 1);
    assert_eq!(inv.lines[1].returned_quantity, 0);
    assert_eq!(
        t.find_invoices(&owner, &first, 5).unwrap()[0].credit_notes,
        1
    );
}
