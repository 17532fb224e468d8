//! The shop's settings and what they change on a bill, on the real encrypted store: HSN digits
//! by turnover band (Notification 78/2020), the composition scheme's bill of supply (Rule 49),
//! and the place of supply for goods sent to a customer in another state (IGST Act s. 10).

mod common;

use common::Fixture;
use galla_client::{
    Error, FinalizeRequest, InputError, NewCustomer, NewProduct, PaymentInput, PriceBasis,
    ProductRef, SessionToken, ShopDetails, Terminal,
};
use galla_domain::TurnoverBand;
use galla_domain::gst::{DocumentKind, Supply};

fn product(t: &Terminal, owner: &SessionToken, sku: &str, hsn: Option<&str>) {
    t.add_product(
        owner,
        &NewProduct {
            sku: sku.into(),
            name: format!("Item {sku}"),
            hsn: hsn.map(str::to_owned),
            gst_rate_bp: 1800,
            price_paise: 11_800,
            price_basis: Some(PriceBasis::Inclusive),
            ..Default::default()
        },
    )
    .unwrap();
}

fn cash(amount: i64) -> FinalizeRequest {
    FinalizeRequest {
        payments: vec![PaymentInput::Cash {
            amount_paise: amount,
            tendered_paise: None,
        }],
        ..Default::default()
    }
}

fn details(band: TurnoverBand, composition: bool) -> ShopDetails {
    ShopDetails {
        name: "Sharma Mobiles".into(),
        gstin: Some(" 27aapfu0939f1zv ".into()),
        state_code: None,
        address: Some("12 MG Road, Pune".into()),
        turnover_band: band,
        composition,
    }
}

fn registered_buyer(t: &Terminal, owner: &SessionToken, state: Option<u8>) -> uuid::Uuid {
    t.add_customer(
        owner,
        &NewCustomer {
            name: "Patil Traders".into(),
            gstin: Some("29AAFCC9980M1ZR".into()),
            state_code: state,
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn settings_show_what_was_saved_and_only_a_seat_with_the_right_may_change_them() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    let s = t.shop_settings(&owner).unwrap();
    assert_eq!(s.name, "Sharma Mobiles");
    assert_eq!(s.gstin.as_deref(), Some("27AAPFU0939F1ZV"));
    assert_eq!(s.state_code, Some(27));
    assert_eq!(s.turnover_band, TurnoverBand::UpTo5Crore);
    assert!(!s.composition);
    assert_eq!(s.series_code, "T1");

    let staff = common::counter_staff(&t, &owner);
    assert_eq!(t.shop_settings(&staff).unwrap().name, "Sharma Mobiles");
    assert!(matches!(
        t.set_shop_settings(&staff, &details(TurnoverBand::Above5Crore, false)),
        Err(Error::PermissionDenied { .. })
    ));

    t.set_shop_settings(
        &owner,
        &ShopDetails {
            name: "Sharma Mobiles & Accessories".into(),
            ..details(TurnoverBand::Above5Crore, false)
        },
    )
    .unwrap();
    assert_eq!(
        t.status().unwrap().shop_name,
        "Sharma Mobiles & Accessories",
        "the status line shows the new name at once"
    );
    t.set_shop_settings(&owner, &details(TurnoverBand::Above5Crore, false))
        .unwrap();
    let s = t.shop_settings(&owner).unwrap();
    assert_eq!(s.turnover_band, TurnoverBand::Above5Crore);
    assert_eq!(s.address.as_deref(), Some("12 MG Road, Pune"));
    assert_eq!(
        s.gstin.as_deref(),
        Some("27AAPFU0939F1ZV"),
        "trimmed, upper-cased"
    );

    // Bad settings are refused with the field, and nothing changes.
    let wrong_state = ShopDetails {
        state_code: Some(29),
        ..details(TurnoverBand::UpTo5Crore, false)
    };
    assert!(matches!(
        t.set_shop_settings(&owner, &wrong_state),
        Err(Error::Invalid(InputError::Rejected {
            field: "state_code",
            ..
        }))
    ));
    assert!(matches!(
        t.set_shop_settings(&owner, &details(TurnoverBand::Above5Crore, true)),
        Err(Error::Invalid(InputError::Rejected {
            field: "composition",
            ..
        }))
    ));
    let unregistered_composition = ShopDetails {
        gstin: None,
        state_code: Some(27),
        ..details(TurnoverBand::UpTo5Crore, true)
    };
    assert!(matches!(
        t.set_shop_settings(&owner, &unregistered_composition),
        Err(Error::Invalid(InputError::Rejected {
            field: "composition",
            ..
        }))
    ));
    let bad_gstin = ShopDetails {
        gstin: Some("27AAPFU0939F1ZX".into()),
        ..details(TurnoverBand::UpTo5Crore, false)
    };
    assert!(matches!(
        t.set_shop_settings(&owner, &bad_gstin),
        Err(Error::Invalid(_))
    ));
    assert_eq!(
        t.shop_settings(&owner).unwrap().turnover_band,
        TurnoverBand::Above5Crore
    );
}

#[test]
fn hsn_digits_follow_the_turnover_band_and_the_buyer() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    product(&t, &owner, "NOHSN", None);
    product(&t, &owner, "HSN4", Some("8517"));
    product(&t, &owner, "HSN6", Some("851713"));
    let buyer = registered_buyer(&t, &owner, Some(27));

    // Up to ₹5 crore: a walk-in sale needs no HSN; a registered buyer's invoice needs 4 digits.
    t.add_product_to_cart(&owner, &ProductRef::Sku("NOHSN".into()), 1)
        .unwrap();
    t.finalize(&owner, &cash(11_800)).unwrap();
    t.add_product_to_cart(&owner, &ProductRef::Sku("NOHSN".into()), 1)
        .unwrap();
    let b2b = FinalizeRequest {
        customer_id: Some(buyer),
        ..cash(11_800)
    };
    match t.finalize(&owner, &b2b) {
        Err(Error::Invalid(InputError::Conflict(m))) => {
            assert!(m.contains("line 1") && m.contains("4 digits"), "{m}")
        }
        other => panic!("expected an HSN refusal, got {other:?}"),
    }
    t.discard_cart(&owner).unwrap();
    t.add_product_to_cart(&owner, &ProductRef::Sku("HSN4".into()), 1)
        .unwrap();
    assert_eq!(
        t.finalize(&owner, &b2b).unwrap().doc_kind,
        DocumentKind::TaxInvoice
    );

    // Above ₹5 crore: six digits on every invoice, walk-in or not.
    t.set_shop_settings(&owner, &details(TurnoverBand::Above5Crore, false))
        .unwrap();
    t.add_product_to_cart(&owner, &ProductRef::Sku("HSN4".into()), 1)
        .unwrap();
    assert!(matches!(
        t.finalize(&owner, &cash(11_800)),
        Err(Error::Invalid(InputError::Conflict(m))) if m.contains("6 digits")
    ));
    t.discard_cart(&owner).unwrap();
    t.add_product_to_cart(&owner, &ProductRef::Sku("HSN6".into()), 1)
        .unwrap();
    t.finalize(&owner, &cash(11_800)).unwrap();

    // A shop with neither GSTIN nor state cannot tell CGST from IGST: it does not bill.
    let nowhere = ShopDetails {
        gstin: None,
        state_code: None,
        ..details(TurnoverBand::UpTo5Crore, false)
    };
    t.set_shop_settings(&owner, &nowhere).unwrap();
    t.add_product_to_cart(&owner, &ProductRef::Sku("HSN6".into()), 1)
        .unwrap();
    assert!(matches!(
        t.finalize(&owner, &cash(11_800)),
        Err(Error::Invalid(InputError::Conflict(m))) if m.contains("state")
    ));
}

#[test]
fn a_composition_dealer_issues_a_bill_of_supply_without_tax_and_it_keeps_its_declaration() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    product(&t, &owner, "SOAP", Some("3926"));
    t.set_shop_settings(&owner, &details(TurnoverBand::UpTo5Crore, true))
        .unwrap();

    t.add_product_to_cart(&owner, &ProductRef::Sku("SOAP".into()), 2)
        .unwrap();
    let inv = t.finalize(&owner, &cash(23_600)).unwrap();
    assert_eq!(inv.doc_kind, DocumentKind::BillOfSupply);
    assert_eq!(
        (
            inv.cgst_paise,
            inv.sgst_paise,
            inv.igst_paise,
            inv.cess_paise
        ),
        (0, 0, 0, 0),
        "a composition dealer collects no tax"
    );
    assert_eq!(inv.taxable_paise, 23_600);
    assert_eq!(
        inv.total_paise, 23_600,
        "the shelf price is the whole price"
    );
    assert_eq!(inv.lines[0].gst_rate_bp, 0);
    assert_eq!(
        inv.declaration.as_deref(),
        Some(DocumentKind::COMPOSITION_DECLARATION)
    );

    // Sending goods to another state is not open to a composition dealer.
    let buyer = registered_buyer(&t, &owner, Some(29));
    t.add_product_to_cart(&owner, &ProductRef::Sku("SOAP".into()), 1)
        .unwrap();
    let shipped = FinalizeRequest {
        customer_id: Some(buyer),
        ship_to_customer: true,
        ..cash(11_800)
    };
    assert!(matches!(
        t.finalize(&owner, &shipped),
        Err(Error::Invalid(InputError::Rejected {
            field: "place_of_supply",
            ..
        }))
    ));
    t.discard_cart(&owner).unwrap();

    assert_eq!(inv.supplier.gstin.as_deref(), Some("27AAPFU0939F1ZV"));
    assert_eq!(inv.supplier.address.as_deref(), Some("12 MG Road, Pune"));

    // Leaving the scheme (and moving shop) changes new bills, never old ones.
    let moved = ShopDetails {
        address: Some("4 FC Road, Pune".into()),
        ..details(TurnoverBand::UpTo5Crore, false)
    };
    t.set_shop_settings(&owner, &moved).unwrap();
    let again = t.invoice_by_number(&owner, &inv.number).unwrap();
    assert_eq!(again.doc_kind, DocumentKind::BillOfSupply);
    assert_eq!(again.declaration, inv.declaration);
    assert_eq!(again.supplier, inv.supplier);
    t.add_product_to_cart(&owner, &ProductRef::Sku("SOAP".into()), 1)
        .unwrap();
    let taxed = t.finalize(&owner, &cash(11_800)).unwrap();
    assert_eq!(taxed.doc_kind, DocumentKind::TaxInvoice);
    assert_eq!(taxed.declaration, None);
    assert_eq!(taxed.cgst_paise + taxed.sgst_paise, 1_800);
}

#[test]
fn goods_sent_to_a_customer_in_another_state_carry_igst() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    product(&t, &owner, "HSN4", Some("8517"));
    let karnataka = registered_buyer(&t, &owner, Some(29));
    let no_state = t
        .add_customer(&owner, &common::customer("Meera", "9876543210"))
        .unwrap();

    // Over the counter the sale is intra-state, wherever the buyer lives.
    t.add_product_to_cart(&owner, &ProductRef::Sku("HSN4".into()), 1)
        .unwrap();
    let counter = FinalizeRequest {
        customer_id: Some(karnataka),
        ..cash(11_800)
    };
    let inv = t.finalize(&owner, &counter).unwrap();
    assert_eq!(inv.supply, Supply::IntraState);
    assert_eq!(inv.place_of_supply, 27);

    t.add_product_to_cart(&owner, &ProductRef::Sku("HSN4".into()), 1)
        .unwrap();
    let ship = |customer| FinalizeRequest {
        customer_id: Some(customer),
        ship_to_customer: true,
        ..cash(11_800)
    };
    assert!(matches!(
        t.finalize(&owner, &ship(no_state)),
        Err(Error::Invalid(InputError::Rejected {
            field: "ship_to_customer",
            ..
        }))
    ));
    let walk_in_ship = FinalizeRequest {
        ship_to_customer: true,
        ..cash(11_800)
    };
    assert!(matches!(
        t.finalize(&owner, &walk_in_ship),
        Err(Error::Invalid(InputError::Rejected {
            field: "ship_to_customer",
            ..
        }))
    ));
    let contradicting = FinalizeRequest {
        place_of_supply: Some(33),
        ..ship(karnataka)
    };
    assert!(matches!(
        t.finalize(&owner, &contradicting),
        Err(Error::Invalid(InputError::Rejected {
            field: "place_of_supply",
            ..
        }))
    ));
    let inv = t.finalize(&owner, &ship(karnataka)).unwrap();
    assert_eq!(inv.supply, Supply::InterState);
    assert_eq!(inv.place_of_supply, 29);
    assert_eq!(inv.igst_paise, 1_800);
    assert_eq!(inv.cgst_paise + inv.sgst_paise, 0);
    assert_eq!(inv.total_paise, 11_800);
}

/// 2025-09-21 23:55 IST: five minutes before the GST rate reform came into force.
const EVE_OF_REFORM_MS: i64 = 1_758_479_100_000;

#[test]
fn the_rate_schedule_in_force_on_the_day_of_sale_decides_the_tax() {
    let fx = Fixture::new();
    fx.clock.set_ms(EVE_OF_REFORM_MS);
    let (t, owner) = fx.init();
    // Before the reform the bundled schedule has no row for soap: the catalogue's 18% stands.
    product(&t, &owner, "SOAP", Some("3401"));
    t.add_product_to_cart(&owner, &ProductRef::Sku("SOAP".into()), 1)
        .unwrap();
    let before = t.finalize(&owner, &cash(11_800)).unwrap();
    assert_eq!(before.lines[0].gst_rate_bp, 1800);

    // Rung up before midnight, paid after: the day of sale is the reform's, soap is 5%.
    t.add_product_to_cart(&owner, &ProductRef::Sku("SOAP".into()), 1)
        .unwrap();
    fx.clock.advance_ms(6 * 60 * 1000);
    let after = t.finalize(&owner, &cash(11_800)).unwrap();
    assert_eq!(after.lines[0].gst_rate_bp, 500);
    assert_eq!(after.taxable_paise, 11_238, "₹118 inclusive of 5%");
    assert_eq!(after.total_paise, 11_800);

    // From now on a product that says 18% for soap is refused, by form or by file.
    let stale = NewProduct {
        sku: "SOAP2".into(),
        name: "Soap, big".into(),
        hsn: Some("34011190".into()),
        gst_rate_bp: 1800,
        price_paise: 5_000,
        ..Default::default()
    };
    match t.add_product(&owner, &stale) {
        Err(Error::Invalid(InputError::Rejected {
            field: "gst_rate",
            reason,
        })) => {
            assert!(reason.contains("5% GST"), "{reason}")
        }
        other => panic!("expected the stale rate refused, got {other:?}"),
    }
    t.add_product(
        &owner,
        &NewProduct {
            gst_rate_bp: 500,
            ..stale
        },
    )
    .unwrap();
    let report = t
        .import_products_csv(
            &owner,
            "sku,name,barcodes,hsn,gst_rate,price\nSOAP3,Soap small,,3401,18,20\n".as_bytes(),
        )
        .unwrap();
    assert_eq!(report.imported, 0);
    assert_eq!(report.errors[0].field, "gst_rate");
}
