//! The printed bill on the real encrypted store: a walk-in's tax invoice with every line, tax
//! head, the round-off and the change; a registered buyer's GSTIN on theirs, shipped to
//! another state (IGST), with the print on the record; no line wider than the paper; and bad
//! requests refused.

mod common;

use common::{Fixture, contains, counter_staff};
use uuid::Uuid;

use galla_client::{
    CustomerChanges, Error, FinalizeRequest, InputError, NewCreditNote, NewCustomer, NewProduct,
    PaymentInput, PriceBasis, ProductRef, ReturnLine, SessionToken, Settlement, Terminal,
};

fn stock(t: &Terminal, owner: &SessionToken) {
    for (sku, name, price, rate) in [
        ("COVER", "Back cover", 29_900, 1800),
        (
            "CHARGER",
            "Fast charger 33W with a cable of one metre",
            149_900,
            1800,
        ),
        ("SOAP", "लक्स साबुन 100g", 12_000, 500),
    ] {
        t.add_product(
            owner,
            &NewProduct {
                sku: sku.into(),
                name: name.into(),
                hsn: Some(if sku == "SOAP" { "3401" } else { "8517" }.into()),
                gst_rate_bp: rate,
                price_paise: price,
                price_basis: Some(PriceBasis::Inclusive),
                ..Default::default()
            },
        )
        .unwrap();
    }
}

/// A registered buyer in Karnataka.
fn coastal_traders(t: &Terminal, owner: &SessionToken) -> Uuid {
    t.add_customer(
        owner,
        &NewCustomer {
            name: "Coastal Traders".into(),
            gstin: Some("29AAFCC9980M1ZR".into()),
            state_code: Some(29),
            ..Default::default()
        },
    )
    .unwrap()
}

fn sell(t: &Terminal, who: &SessionToken, skus: &[&str], req: FinalizeRequest) -> String {
    for s in skus {
        t.add_product_to_cart(who, &ProductRef::Sku((*s).into()), 1)
            .unwrap();
    }
    t.finalize(who, &req).unwrap().number
}

fn cash(amount: i64, tendered: Option<i64>) -> PaymentInput {
    PaymentInput::Cash {
        amount_paise: amount,
        tendered_paise: tendered,
    }
}

#[test]
fn a_walk_in_gets_a_tax_invoice_with_every_line_each_tax_head_and_the_change() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    stock(&t, &owner);
    let clerk = counter_staff(&t, &owner);
    // ₹299 + ₹1,499 + ₹120 = ₹1,918; paid with ₹2,000.
    let number = sell(
        &t,
        &clerk,
        &["COVER", "CHARGER", "SOAP"],
        FinalizeRequest {
            payments: vec![cash(191_800, Some(200_000))],
            ..Default::default()
        },
    );
    let invoice = t.invoice_by_number(&clerk, &number).unwrap();

    // The clerk who sold it prints it, on 58 mm paper.
    let r = t.receipt(&clerk, &number, 32).unwrap();
    let text = &r.text;
    for line in text.lines() {
        assert!(line.chars().count() <= 32, "{line:?} is wider than 32");
    }
    for expected in [
        "Sharma Mobiles",
        "GSTIN 27AAPFU0939F1ZV",
        "Maharashtra (27)",
        "TAX INVOICE",
        number.as_str(),
        "Place of supply",
        "1. Back cover",
        "HSN 8517, GST 18%",
        "लक्स साबुन 100g",
        "GST 5%",
        "CGST 9%",
        "SGST 9%",
        "CGST 2.5%",
        "SGST 2.5%",
        "Round-off",
        "TOTAL Rs.",
        "1,918.00",
        "Paid by cash",
        "Change",
        "82.00",
        "Reverse charge: No",
        "Authorised signatory",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from\n{text}");
    }
    assert!(!text.contains("IGST") && !text.contains("Buyer"), "{text}");
    // The long name wrapped instead of running off the paper, and nothing of it was lost.
    let squeezed: String = text.split_whitespace().collect();
    assert!(
        squeezed.contains("Fastcharger33Wwithacableofonemetre"),
        "{text}"
    );

    // The tax rows add up to the invoice's tax, and the taxable value is the invoice's.
    let taxes: i64 = text
        .lines()
        .filter(|l| l.starts_with("CGST") || l.starts_with("SGST"))
        .map(|l| paise(l.split_whitespace().last().unwrap()))
        .sum();
    assert_eq!(taxes, invoice.cgst_paise + invoice.sgst_paise);
    let taxable = text
        .lines()
        .find(|l| l.starts_with("Taxable value"))
        .unwrap();
    assert_eq!(
        paise(taxable.split_whitespace().last().unwrap()),
        invoice.taxable_paise
    );

    // 80 mm paper: the same bill, wider lines.
    let wide = t.receipt(&clerk, &number, 48).unwrap();
    assert!(wide.text.lines().any(|l| l.chars().count() == 48));
    assert!(wide.text.lines().all(|l| l.chars().count() <= 48));
}

#[test]
fn a_registered_buyer_gets_their_gstin_on_the_bill_and_the_print_is_on_the_record() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    stock(&t, &owner);
    let buyer_id = coastal_traders(&t, &owner);
    // Shipped to the buyer in Karnataka: inter-state, IGST.
    let number = sell(
        &t,
        &owner,
        &["COVER"],
        FinalizeRequest {
            customer_id: Some(buyer_id),
            ship_to_customer: true,
            payments: vec![cash(29_900, None)],
            ..Default::default()
        },
    );
    let clerk = counter_staff(&t, &owner);
    let text = t.receipt(&clerk, &number, 42).unwrap().text;
    for expected in [
        "Buyer",
        "Coastal Traders",
        "Buyer GSTIN",
        "29AAFCC9980M1ZR",
        "Karnataka (29)",
        "IGST 18%",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from\n{text}");
    }
    assert!(!text.contains("CGST"), "{text}");

    // Who printed whose GSTIN is on the record, without the GSTIN itself.
    let raw = fx.raw();
    let looks: i64 = raw
        .query_row(
            "SELECT count(*) FROM pii_access WHERE kind = 'reveal' AND customer_id = ?",
            [buyer_id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(looks, 1);
    let audited: Vec<String> = raw
        .prepare("SELECT entity_id FROM audit_log WHERE action = 'invoice.receipt'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(audited, [buyer_id.to_string()]);
    let record: Vec<u8> = raw
        .query_row(
            "SELECT record FROM audit_log WHERE action = 'invoice.receipt'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!record.is_empty());
    assert!(!contains(&record, b"29AAFCC9980M1ZR"));

    // The customer's record is corrected later; the bill still names the buyer as issued.
    t.update_customer(
        &owner,
        buyer_id,
        &CustomerChanges {
            name: Some("Sea Traders".into()),
            gstin: Some("27AAPFU0939F1ZV".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let reprint = t.receipt(&clerk, &number, 42).unwrap().text;
    assert!(
        reprint.contains("Coastal Traders") && reprint.contains("29AAFCC9980M1ZR"),
        "{reprint}"
    );
    assert!(!reprint.contains("Sea Traders"), "{reprint}");
    let buyer_gstin = reprint
        .lines()
        .find(|l| l.starts_with("Buyer GSTIN"))
        .unwrap();
    assert!(buyer_gstin.ends_with("29AAFCC9980M1ZR"), "{reprint}");
    // The copy on the invoice is encrypted like the customer's own.
    let copy: Vec<u8> = raw
        .query_row(
            "SELECT buyer_gstin_ct FROM invoice WHERE number = ?",
            [&number],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!contains(&copy, b"29AAFCC9980M1ZR"));

    // A walk-in's bill names nobody and records nothing.
    let walk_in = sell(
        &t,
        &clerk,
        &["COVER"],
        FinalizeRequest {
            payments: vec![cash(29_900, None)],
            ..Default::default()
        },
    );
    t.receipt(&clerk, &walk_in, 42).unwrap();
    let looks: i64 = raw
        .query_row("SELECT count(*) FROM pii_access", [], |r| r.get(0))
        .unwrap();
    assert_eq!(looks, 2, "the first print and the reprint");
}

#[test]
fn an_unregistered_buyers_address_and_state_are_on_a_bill_of_50000_or_more_only() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    stock(&t, &owner);
    let buyer_id = t
        .add_customer(
            &owner,
            &NewCustomer {
                name: "Meena Iyer".into(),
                phone: Some("98450 12345".into()),
                address: Some("4 Temple Street, Pune".into()),
                state_code: Some(27),
                ..Default::default()
            },
        )
        .unwrap();
    let on_credit = |amount| FinalizeRequest {
        customer_id: Some(buyer_id),
        payments: vec![cash(amount, None)],
        ..Default::default()
    };
    // 34 chargers: ₹50,966.
    for _ in 0..34 {
        t.add_product_to_cart(&owner, &ProductRef::Sku("CHARGER".into()), 1)
            .unwrap();
    }
    let big = t.finalize(&owner, &on_credit(5_096_600)).unwrap().number;
    let small = sell(&t, &owner, &["COVER"], on_credit(29_900));

    let text = t.receipt(&owner, &big, 42).unwrap().text;
    for expected in [
        "Meena Iyer",
        "Address: 4 Temple Street, Pune",
        "Buyer state",
        "Maharashtra (27)",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from\n{text}");
    }
    assert!(
        !text.contains("GSTIN 9") && !text.contains("98450"),
        "no phone: {text}"
    );
    let text = t.receipt(&owner, &small, 42).unwrap().text;
    assert!(text.contains("Meena Iyer"), "{text}");
    assert!(
        !text.contains("Temple Street") && !text.contains("Buyer state"),
        "{text}"
    );
    // The small bill keeps no copy of the address at all.
    let kept: Option<Vec<u8>> = fx
        .raw()
        .query_row(
            "SELECT buyer_address_ct FROM invoice WHERE number = ?",
            [&small],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, None);
}

#[test]
fn bad_requests_are_refused_with_what_to_do() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    for columns in [0, 31, 101, u32::MAX] {
        assert!(
            matches!(
                t.receipt(&owner, "T1/26-27/000001", columns),
                Err(Error::Invalid(InputError::Rejected { field: "columns", ref reason }))
                    if reason.contains("58 mm paper: 32")
            ),
            "{columns}"
        );
    }
    assert!(matches!(
        t.receipt(&owner, "0BAD", 42),
        Err(Error::Invalid(InputError::Rejected {
            field: "number",
            ..
        }))
    ));
    assert!(matches!(
        t.receipt(&owner, "T1/26-27/000099", 42),
        Err(Error::NotFound(_))
    ));
}

/// `1,918.00` as paise.
fn paise(amount: &str) -> i64 {
    let digits: String = amount.chars().filter(|c| c.is_ascii_digit()).collect();
    let n: i64 = digits.parse().unwrap();
    if amount.starts_with('-') { -n } else { n }
}

#[test]
fn an_invoice_issued_before_buyers_were_copied_prints_the_customer_as_recorded() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    stock(&t, &owner);
    let buyer_id = coastal_traders(&t, &owner);
    let number = sell(
        &t,
        &owner,
        &["COVER"],
        FinalizeRequest {
            customer_id: Some(buyer_id),
            payments: vec![cash(29_900, None)],
            ..Default::default()
        },
    );
    // As a schema-18 store left it: no copy of the buyer on the invoice.
    fx.raw()
        .execute_batch(
            "DROP TRIGGER invoice_no_update;
             UPDATE invoice SET buyer_name = NULL, buyer_gstin_ct = NULL, buyer_state = NULL,
               buyer_address_ct = NULL;",
        )
        .unwrap();
    let text = t.receipt(&owner, &number, 42).unwrap().text;
    assert!(
        text.contains("Coastal Traders") && text.contains("29AAFCC9980M1ZR"),
        "{text}"
    );
}

#[test]
fn a_credit_note_prints_what_came_back_against_which_invoice_and_how_it_was_refunded() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    stock(&t, &owner);
    t.add_product_to_cart(&owner, &ProductRef::Sku("COVER".into()), 2)
        .unwrap();
    let number = sell(
        &t,
        &owner,
        &["CHARGER"],
        FinalizeRequest {
            payments: vec![cash(209_700, None)],
            ..Default::default()
        },
    );
    let note = t
        .issue_credit_note(
            &owner,
            &NewCreditNote {
                invoice_number: number.clone(),
                reason: "returned: wrong colour".into(),
                lines: vec![ReturnLine {
                    line_no: 1,
                    quantity: 1,
                    imeis: vec![],
                }],
                settlement: Settlement::RefundCash,
            },
        )
        .unwrap();

    let clerk = counter_staff(&t, &owner);
    let text = t
        .credit_note_receipt(&clerk, &note.number, 32)
        .unwrap()
        .text;
    for line in text.lines() {
        assert!(line.chars().count() <= 32, "{line:?} is wider than 32");
    }
    for expected in [
        "CREDIT NOTE",
        note.number.as_str(),
        "Against invoice",
        number.as_str(),
        "Reason: returned: wrong colour",
        "1. Back cover",
        "1 pcs back",
        "HSN 8517, GST 18%",
        "CGST 9%",
        "Refunded in cash",
        "299.00",
        "Authorised signatory",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from\n{text}");
    }
    assert!(
        !text.contains("Fast charger"),
        "only what came back: {text}"
    );
    let taxes: i64 = text
        .lines()
        .filter(|l| l.starts_with("CGST") || l.starts_with("SGST"))
        .map(|l| paise(l.split_whitespace().last().unwrap()))
        .sum();
    assert_eq!(taxes, note.cgst_paise + note.sgst_paise);

    assert!(matches!(
        t.credit_note_receipt(&clerk, "T1/26-27/000099", 42),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        t.credit_note_receipt(&clerk, &note.number, 10),
        Err(Error::Invalid(InputError::Rejected {
            field: "columns",
            ..
        }))
    ));
}
