//! A sale is one signed record (issue 20): ringing it up, changing quantities and discounts,
//! capturing IMEIs, setting terms, holding and resuming write the cart durably but make no
//! record; the finalize record carries the sale's history. What an owner looks for stays on
//! the record by itself: a line taken off, units taken off, a sale thrown away, a price
//! changed from the catalogue's (with its own permission).

mod common;

use common::Fixture;
use galla_client::{
    Error, FinalizeRequest, NewProduct, PaymentInput, PriceBasis, ProductRef, SaleEdit, SaleTerms,
    SessionToken, Terminal,
};
use galla_proto::AuditRecord;
use serde_json::Value as Json;

fn stock(t: &Terminal, owner: &SessionToken) {
    for (sku, price, serialized) in [("COVER", 29_900, false), ("RN13", 1_499_900, true)] {
        t.add_product(
            owner,
            &NewProduct {
                sku: sku.into(),
                name: sku.into(),
                hsn: Some(if serialized { "8517" } else { "3926" }.into()),
                gst_rate_bp: 1800,
                price_paise: price,
                price_basis: Some(PriceBasis::Inclusive),
                serialized,
                imeis_per_unit: Some(1),
                stock: Some(10),
                ..Default::default()
            },
        )
        .unwrap();
    }
}

/// The records after `after`: (action, entity type, after images).
fn records_after(t: &Terminal, after: i64) -> Vec<(String, String, Json)> {
    t.with_reader(|conn| {
        let mut stmt = conn.prepare("SELECT record FROM audit_log WHERE seq > ? ORDER BY seq")?;
        let rows = stmt.query_map([after], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for bytes in rows {
            let r = AuditRecord::decode(&bytes?).unwrap();
            let after = r
                .after
                .map(|a| serde_json::from_slice(&a).unwrap())
                .unwrap_or(Json::Null);
            out.push((r.action, r.entity_type, after));
        }
        Ok(out)
    })
    .unwrap()
}

fn head(t: &Terminal) -> i64 {
    t.with_reader(|c| {
        Ok(
            c.query_row("SELECT coalesce(max(seq), 0) FROM audit_log", [], |r| {
                r.get(0)
            })?,
        )
    })
    .unwrap()
}

/// The image of `table` in a record's after images.
fn image<'a>(after: &'a Json, table: &str) -> Vec<&'a Json> {
    after
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with(&format!("{table}/")))
        .map(|(_, v)| v)
        .collect()
}

fn cash(t: &Terminal, s: &SessionToken) -> FinalizeRequest {
    let due = t.quote_cart(s, &SaleTerms::default()).unwrap().total_paise;
    FinalizeRequest {
        payments: vec![PaymentInput::Cash {
            amount_paise: due,
            tendered_paise: None,
        }],
        ..Default::default()
    }
}

#[test]
fn ringing_up_makes_no_record_and_the_finalize_record_carries_the_sale_history() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    stock(&t, &owner);
    let before = head(&t);

    let cart = t
        .add_product_to_cart(&owner, &ProductRef::Sku("COVER".into()), 1)
        .unwrap();
    let cover = cart.lines[0].line_id;
    t.set_line_quantity(&owner, cover, 3).unwrap();
    t.set_line_discount(&owner, cover, 500).unwrap();
    let cart = t
        .add_product_to_cart(&owner, &ProductRef::Sku("RN13".into()), 1)
        .unwrap();
    t.set_line_imeis(&owner, cart.lines[1].line_id, &["490154203237518".into()])
        .unwrap();
    t.set_sale_terms(
        &owner,
        &SaleTerms {
            place_of_supply: Some(27),
            ..Default::default()
        },
    )
    .unwrap();
    t.hold_cart(&owner).unwrap();
    t.resume_cart(&owner, cart.cart_id).unwrap();
    assert!(
        records_after(&t, before).is_empty(),
        "no edit of a sale is a record of its own"
    );

    let req = cash(&t, &owner);
    let inv = t.finalize(&owner, &req).unwrap();
    let records = records_after(&t, before);
    assert_eq!(records.len(), 1, "a sale is one record");
    let (action, entity, after) = &records[0];
    assert_eq!(
        (action.as_str(), entity.as_str()),
        ("invoice.finalize", "invoice")
    );
    assert_eq!(image(after, "invoice").len(), 1);
    assert_eq!(image(after, "invoice_line").len(), 2);
    assert_eq!(image(after, "invoice_imei").len(), 1);
    assert!(image(after, "cart").is_empty() && image(after, "cart_line").is_empty());
    let sale = image(after, "sale");
    assert_eq!(sale.len(), 1, "the sale's history is in its record");
    let events: Vec<&str> = sale[0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["opened", "held", "resumed"]);
    assert_eq!(inv.lines[0].quantity, 3);
    // No null column is imaged: the record says what the row holds.
    let row = image(after, "invoice")[0].as_object().unwrap();
    assert!(row.values().all(|v| !v.is_null()), "{row:?}");
}

#[test]
fn a_void_a_lowered_quantity_a_discard_and_a_price_override_stay_on_the_record() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    stock(&t, &owner);
    let asha = common::counter_staff(&t, &owner);

    // A line taken off after it was rung up, and units taken off another.
    let cart = t
        .add_product_to_cart(&asha, &ProductRef::Sku("COVER".into()), 4)
        .unwrap();
    let cover = cart.lines[0].line_id;
    let cart = t
        .add_product_to_cart(&asha, &ProductRef::Sku("COVER".into()), 1)
        .unwrap();
    let before = head(&t);
    t.remove_cart_line(&asha, cart.lines[1].line_id).unwrap();
    t.set_line_quantity(&asha, cover, 1).unwrap();
    t.set_line_quantity(&asha, cover, 2).unwrap();
    let records = records_after(&t, before);
    let actions: Vec<&str> = records.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        actions,
        ["cart.remove_line", "cart.reduce_quantity"],
        "raising one is no record"
    );
    let void = image(&records[0].2, "sale_event")[0];
    assert_eq!(
        (
            void["kind"].as_str(),
            void["quantity"].as_i64(),
            void["amount_paise"].as_i64()
        ),
        (Some("void_line"), Some(1), Some(29_900))
    );
    let lowered = image(&records[1].2, "sale_event")[0];
    assert_eq!(
        (
            lowered["kind"].as_str(),
            lowered["quantity"].as_i64(),
            lowered["amount_paise"].as_i64()
        ),
        (Some("void_units"), Some(3), Some(3 * 29_900))
    );
    assert_eq!(records[0].1, "cart", "the void names the sale");

    // A price override needs its permission: the clerk may not, the owner may.
    let refused = t.set_line_price(&asha, cover, 19_900);
    assert!(
        matches!(refused, Err(Error::PermissionDenied { .. })),
        "{refused:?}"
    );
    t.hold_cart(&asha).unwrap();
    t.resume_cart(&owner, cart.cart_id).unwrap();
    let before = head(&t);
    let view = t
        .edit_sale(
            &owner,
            &SaleEdit::SetPrice {
                line_id: cover,
                unit_price_paise: 19_900,
            },
        )
        .unwrap();
    assert_eq!(view.cart.lines[0].unit_price_paise, 19_900);
    assert_eq!(
        view.quote.unwrap().total_paise,
        2 * 19_900,
        "the answer carries the new price"
    );
    let records = records_after(&t, before);
    assert_eq!(records.len(), 1);
    let over = image(&records[0].2, "sale_event")[0];
    assert_eq!(
        (
            records[0].0.as_str(),
            over["kind"].as_str(),
            over["unit_price_paise"].as_i64(),
            over["amount_paise"].as_i64()
        ),
        (
            "cart.price_override",
            Some("price_override"),
            Some(19_900),
            Some(29_900)
        ),
        "the override keeps the price it replaced"
    );

    // A sale thrown away: what was on it stays on the record, with its history.
    let before = head(&t);
    t.discard_cart(&owner).unwrap();
    let records = records_after(&t, before);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].0, "cart.discard");
    let discarded = image(&records[0].2, "sale_event");
    assert_eq!(discarded.len(), 1);
    assert_eq!(discarded[0]["quantity"].as_i64(), Some(2));
    assert_eq!(image(&records[0].2, "sale").len(), 1);
    assert!(t.current_cart(&owner).unwrap().is_none());

    // The facts are append-only, like invoices.
    let raw = fx.raw();
    assert!(
        raw.execute("UPDATE sale_event SET quantity = 0", [])
            .is_err()
    );
    assert!(raw.execute("DELETE FROM sale_event", []).is_err());
}

#[test]
fn one_call_answers_a_scan_with_the_sale_and_its_quote() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    stock(&t, &owner);
    let view = t
        .edit_sale(
            &owner,
            &SaleEdit::RingUp {
                product: ProductRef::Code("COVER".into()),
                quantity: 2,
            },
        )
        .unwrap();
    assert_eq!(view.cart.lines.len(), 1);
    let quote = view.quote.expect("a priced sale");
    assert_eq!(quote, t.quote_cart(&owner, &SaleTerms::default()).unwrap());
    assert_eq!(quote.total_paise, 59_800);
    assert!(view.quote_problem.is_none());
    // A code that is no barcode or SKU is not found, and the sale stays as it was.
    let missing = t.edit_sale(
        &owner,
        &SaleEdit::RingUp {
            product: ProductRef::Code("NOPE".into()),
            quantity: 1,
        },
    );
    assert!(matches!(missing, Err(Error::NotFound(_))), "{missing:?}");
    assert_eq!(t.current_sale(&owner).unwrap().unwrap().cart.lines.len(), 1);
}
