//! The day close: figures by payment mode, tax head and HSN, the numbers used, returns and
//! udhaar received, and a closed day that stays exactly as it was closed.

mod common;

use common::Fixture;
use galla_client::day_close::parse_day;
use galla_client::{
    Error, FinalizeRequest, InputError, LedgerPayment, NewCreditNote, NewProduct, PaymentInput,
    PriceBasis, ProductRef, ReturnLine, Settlement,
};

#[test]
fn a_day_of_sales_closes_into_a_stored_report_that_never_changes() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    for (sku, hsn, price) in [("COVER", "3926", 29_900), ("CABLE", "8544", 19_900)] {
        t.add_product(
            &owner,
            &NewProduct {
                sku: sku.into(),
                name: sku.into(),
                hsn: Some(hsn.into()),
                gst_rate_bp: 1800,
                price_paise: price,
                price_basis: Some(PriceBasis::Inclusive),
                ..Default::default()
            },
        )
        .unwrap();
    }
    let customer = t
        .add_customer(&owner, &common::customer("Meera", "9876543210"))
        .unwrap();
    t.set_credit_limit(&owner, customer, Some(100_000)).unwrap();
    let sell = |sku: &str, qty: u32, req: FinalizeRequest| {
        t.add_product_to_cart(&owner, &ProductRef::Sku(sku.into()), qty)
            .unwrap();
        t.finalize(&owner, &req).unwrap().number
    };
    let cash = |amount| FinalizeRequest {
        payments: vec![PaymentInput::Cash {
            amount_paise: amount,
            tendered_paise: Some(amount + 100),
        }],
        ..Default::default()
    };
    let first = sell("COVER", 2, cash(59_800));
    sell(
        "CABLE",
        1,
        FinalizeRequest {
            payments: vec![PaymentInput::Upi {
                amount_paise: 19_900,
                reference: "UPI-1234567".into(),
            }],
            ..Default::default()
        },
    );
    sell(
        "CABLE",
        1,
        FinalizeRequest {
            customer_id: Some(customer),
            payments: vec![PaymentInput::Credit {
                amount_paise: 19_900,
            }],
            ..Default::default()
        },
    );
    t.issue_credit_note(
        &owner,
        &NewCreditNote {
            invoice_number: first,
            reason: "returned".into(),
            lines: vec![ReturnLine {
                line_no: 1,
                quantity: 1,
                imeis: vec![],
            }],
            settlement: Settlement::RefundCash,
        },
    )
    .unwrap();
    t.record_ledger_payment(
        &owner,
        customer,
        &LedgerPayment::Cash {
            amount_paise: 5_000,
        },
    )
    .unwrap();

    let today = parse_day("2025-11-21").unwrap();
    let open = t.day_report(&owner, today).unwrap();
    assert!(!open.closed);
    let inv = open.invoices.as_ref().unwrap();
    assert_eq!(
        (inv.first.as_str(), inv.last.as_str(), inv.count),
        ("T1/25-26/000001", "T1/25-26/000003", 3)
    );
    assert_eq!(
        open.credit_notes.as_ref().unwrap().first,
        "T1C/25-26/000001"
    );
    assert_eq!(open.sales.total_paise, 59_800 + 19_900 + 19_900);
    assert_eq!(open.sales.cgst_paise, open.sales.sgst_paise);
    assert_eq!(open.payments_by_mode["cash"], 59_800);
    assert_eq!(open.payments_by_mode["upi"], 19_900);
    assert_eq!(open.payments_by_mode["credit"], 19_900);
    assert_eq!(open.refunds_by_settlement["refund_cash"], 29_900);
    assert_eq!(open.udhaar_received_by_mode["cash"], 5_000);
    assert_eq!(open.expected_cash_paise, 59_800 - 29_900 + 5_000);
    let hsn: Vec<(&str, i64)> = open
        .hsn_summary
        .iter()
        .map(|h| (h.hsn.as_str(), h.quantity))
        .collect();
    assert_eq!(hsn, [("3926", 2), ("8544", 2)]);
    let hsn_total: i64 = open.hsn_summary.iter().map(|h| h.taxes.total_paise).sum();
    assert_eq!(hsn_total + open.round_off_paise, open.sales.total_paise);

    assert!(matches!(
        t.close_day(&owner, today),
        Err(Error::Invalid(InputError::Conflict(m))) if m.contains("not over")
    ));
    // The next morning (the owner signs in again: the night was longer than any session).
    fx.clock.advance_ms(16 * 3_600_000);
    let owner = common::sign_in_owner(&t);
    let closed = t.close_day(&owner, today).unwrap();
    assert!(closed.closed);
    assert_eq!(closed.sales, open.sales);
    // A sale the next day changes nothing of the closed day, and closing again is the same.
    t.add_product_to_cart(&owner, &ProductRef::Sku("COVER".into()), 1)
        .unwrap();
    t.finalize(
        &owner,
        &FinalizeRequest {
            payments: vec![PaymentInput::Cash {
                amount_paise: 29_900,
                tendered_paise: None,
            }],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(t.day_report(&owner, today).unwrap(), closed);
    assert_eq!(t.close_day(&owner, today).unwrap(), closed);
    let tomorrow = t
        .day_report(&owner, parse_day("2025-11-22").unwrap())
        .unwrap();
    assert_eq!(tomorrow.invoices.unwrap().first, "T1/25-26/000004");

    let err = fx
        .raw()
        .execute("DELETE FROM day_close", [])
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot be deleted"), "{err}");
    assert!(parse_day("21/11/2025").is_err());
}
