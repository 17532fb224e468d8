//! The catalogue on the real encrypted store: products in any script found by name prefix,
//! barcodes in either UPC-A or EAN-13 form, duplicates refused, and CSV imports that write every
//! row or none, naming each bad row.

mod common;

use common::Fixture;
use galla_client::{Error, InputError, NewProduct, PriceBasis, ProductRef};

fn product(sku: &str, name: &str, barcodes: &[&str]) -> NewProduct {
    NewProduct {
        sku: sku.into(),
        name: name.into(),
        barcodes: barcodes.iter().map(|b| b.to_string()).collect(),
        hsn: Some("8517".into()),
        gst_rate_bp: 1800,
        price_paise: 1_299_900,
        price_basis: Some(PriceBasis::Inclusive),
        ..Default::default()
    }
}

#[test]
fn products_are_found_by_barcode_sku_and_name_prefix_in_any_script() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    t.add_product(
        &owner,
        &product("RN13", "Redmi Note 13 5G", &["036000291452"]),
    )
    .unwrap();
    t.add_product(
        &owner,
        &product("SOAP1", "लक्स साबुन 100g", &["4006381333931"]),
    )
    .unwrap();
    t.add_product(&owner, &product("SOAP2", "சந்தன சோப்பு", &[]))
        .unwrap();

    let by_upc = t
        .product_by_barcode(&owner, "036000291452")
        .unwrap()
        .unwrap();
    let by_ean = t
        .product_by_barcode(&owner, "0036000291452")
        .unwrap()
        .unwrap();
    assert_eq!(by_upc, by_ean);
    assert_eq!(by_upc.sku, "RN13");
    assert_eq!(by_upc.barcodes, ["0036000291452"]);
    assert!(
        t.product_by_barcode(&owner, "8901234567890")
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        t.product_by_barcode(&owner, "4006381333932"),
        Err(Error::Invalid(_))
    ));
    assert_eq!(
        t.product_by_sku(&owner, " SOAP2 ").unwrap().unwrap().name,
        "சந்தன சோப்பு"
    );

    // A search box finds by an exact code first: a scanned barcode (in either form) or a SKU
    // finds its product, which a name search alone does not; words still find names after it.
    let finds = |q: &str| -> Vec<String> {
        t.find_products(&owner, q, 10)
            .unwrap()
            .into_iter()
            .map(|p| p.sku)
            .collect()
    };
    assert!(
        t.search_products(&owner, "4006381333931", 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(finds("4006381333931"), ["SOAP1"]);
    assert_eq!(finds(" 0036000291452 "), ["RN13"]);
    assert_eq!(
        finds("soap2"),
        ["SOAP2"],
        "the SKU once, not again as a word"
    );
    let by_words: Vec<String> = t
        .search_products(&owner, "soap", 10)
        .unwrap()
        .into_iter()
        .map(|p| p.sku)
        .collect();
    assert_eq!(by_words.len(), 2);
    assert_eq!(
        finds("soap"),
        by_words,
        "no code matches: the name search as it is"
    );
    assert_eq!(
        finds("8901234567890"),
        Vec::<String>::new(),
        "an unknown code"
    );
    assert_eq!(
        finds("4006381333932"),
        Vec::<String>::new(),
        "a bad check digit"
    );
    assert_eq!(finds(""), Vec::<String>::new());

    let names = |q: &str| -> Vec<String> {
        t.search_products(&owner, q, 10)
            .unwrap()
            .into_iter()
            .map(|p| p.sku)
            .collect()
    };
    assert_eq!(names("red"), ["RN13"]);
    assert_eq!(names("redmi 5g"), ["RN13"]);
    assert_eq!(
        names("साबु"),
        ["SOAP1"],
        "a Devanagari prefix, vowel signs inside the word"
    );
    assert_eq!(names("சோப்"), ["SOAP2"]);
    let mut by_sku = names("soap");
    by_sku.sort();
    assert_eq!(by_sku, ["SOAP1", "SOAP2"], "SKUs are searchable too");
    assert!(names("nokia").is_empty());
    assert!(names("\"* OR").is_empty(), "FTS syntax is taken literally");
}

#[test]
fn an_edited_product_is_found_by_its_new_name_and_barcodes_and_a_sale_in_progress_keeps_its_price()
{
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    let id = t
        .add_product(&owner, &product("RN13", "Redmi Note 13", &["036000291452"]))
        .unwrap();
    t.add_product(&owner, &product("G54", "Moto G54", &["4006381333931"]))
        .unwrap();
    let cart = t
        .add_product_to_cart(&owner, &ProductRef::Sku("RN13".into()), 1)
        .unwrap();
    assert_eq!(cart.lines[0].unit_price_paise, 1_299_900);

    let edited = NewProduct {
        name: "Redmi Note 13 Pro".into(),
        price_paise: 1_199_900,
        barcodes: vec!["8901234567890".into()],
        stock: Some(4),
        ..product("RN13", "", &[])
    };
    t.update_product(&owner, id, &edited).unwrap();
    let p = t.product_by_id(&owner, id).unwrap().unwrap();
    assert_eq!(
        (p.name.as_str(), p.price_paise, p.stock),
        ("Redmi Note 13 Pro", 1_199_900, None),
        "an edit never sets the stock count back"
    );
    t.set_stock_count(&owner, id, Some(4)).unwrap();
    assert!(t.set_stock_count(&owner, id, Some(-1)).is_err());
    let p = t.product_by_id(&owner, id).unwrap().unwrap();
    assert_eq!(p.stock, Some(4));
    assert_eq!(p.barcodes, ["8901234567890"]);
    assert!(
        t.product_by_barcode(&owner, "036000291452")
            .unwrap()
            .is_none()
    );
    assert_eq!(
        t.product_by_barcode(&owner, "8901234567890")
            .unwrap()
            .unwrap()
            .id,
        id
    );
    let found = t.search_products(&owner, "pro", 10).unwrap();
    assert_eq!(found.len(), 1, "the name index follows the edit");
    assert_eq!(
        t.current_cart(&owner).unwrap().unwrap().lines[0].unit_price_paise,
        1_299_900,
        "the sale already rung up keeps its price"
    );

    // Another product's SKU or barcode, an unknown product, a bad field: refused, nothing changes.
    assert!(matches!(
        t.update_product(&owner, id, &product("G54", "Clash", &[])),
        Err(Error::Invalid(InputError::Conflict(m))) if m.contains("G54")
    ));
    assert!(matches!(
        t.update_product(&owner, id, &product("RN13", "Clash", &["4006381333931"])),
        Err(Error::Invalid(InputError::Conflict(_)))
    ));
    assert!(matches!(
        t.update_product(&owner, uuid::Uuid::now_v7(), &edited),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        t.update_product(
            &owner,
            id,
            &NewProduct {
                price_paise: -1,
                ..edited.clone()
            }
        ),
        Err(Error::Invalid(_))
    ));
    assert_eq!(t.product_by_id(&owner, id).unwrap().unwrap(), p);
}

#[test]
fn duplicates_and_bad_fields_are_refused_and_write_nothing() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    t.add_product(&owner, &product("RN13", "Redmi Note 13", &["036000291452"]))
        .unwrap();
    let before = t.status().unwrap().audit_records;
    assert!(matches!(
        t.add_product(&owner, &product("RN13", "Again", &[])),
        Err(Error::Invalid(InputError::Conflict(m))) if m.contains("SKU")
    ));
    assert!(matches!(
        t.add_product(&owner, &product("OTHER", "Same code", &["0036000291452"])),
        Err(Error::Invalid(InputError::Conflict(m))) if m.contains("barcode")
    ));
    let mut bad = product("X1", "Bad", &[]);
    bad.gst_rate_bp = 10_001;
    assert!(matches!(
        t.add_product(&owner, &bad),
        Err(Error::Invalid(_))
    ));
    let mut bad = product("X2", "Bad", &[]);
    bad.price_paise = -1;
    assert!(matches!(
        t.add_product(&owner, &bad),
        Err(Error::Invalid(_))
    ));
    let bad = product("X 3", "Bad", &[]);
    assert!(matches!(
        t.add_product(&owner, &bad),
        Err(Error::Invalid(_))
    ));
    let mut bad = product("X4", "Bad", &[]);
    bad.hsn = Some("851".into());
    assert!(matches!(
        t.add_product(&owner, &bad),
        Err(Error::Invalid(_))
    ));
    let bad = product("X5", &"n".repeat(201), &[]);
    assert!(matches!(
        t.add_product(&owner, &bad),
        Err(Error::Invalid(InputError::TooLong { .. }))
    ));
    assert_eq!(t.status().unwrap().audit_records, before);
}

const HEADER: &str = "sku,name,barcodes,hsn,gst_rate,cess_rate,price,price_basis,unit,serialized,imeis_per_unit,stock\n";

#[test]
fn a_csv_with_any_bad_row_imports_nothing_and_names_every_bad_row() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    t.add_product(
        &owner,
        &product("EXISTING", "Already here", &["4006381333931"]),
    )
    .unwrap();
    let before = t.status().unwrap().audit_records;
    let csv = format!(
        "{HEADER}\
         OK1,Good cover,,3926,18,,149,,pcs,no,,10\n\
         BAD1,Wrong rate,,3926,180,,149,,pcs,no,,\n\
         BAD2,Wrong code,8901234567894,3926,18,,149,,pcs,no,,\n\
         OK1,Duplicate sku,,3926,18,,149,,pcs,no,,\n\
         EXISTING,Clash,,3926,18,,149,,pcs,no,,\n\
         BAD3,Paisa fraction,,3926,18,,149.999,,pcs,no,,\n\
         BAD4,Code clash,4006381333931,3926,18,,149,,pcs,no,,\n\
         BAD5,Not a phone,,8517,18,,9999,,pcs,maybe,,\n"
    );
    let r = t.import_products_csv(&owner, csv.as_bytes()).unwrap();
    assert_eq!((r.imported, r.rows), (0, 8));
    let got: Vec<(u64, &str)> = r
        .errors
        .iter()
        .map(|e| (e.line, e.field.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (3, "gst_rate"),
            (4, "barcodes"),
            (5, "sku"),
            (6, "sku"),
            (7, "price"),
            (8, "barcodes"),
            (9, "serialized")
        ]
    );
    assert!(r.errors[0].message.contains("180"), "{:?}", r.errors[0]);
    assert!(r.errors[2].message.contains("line 2"), "{:?}", r.errors[2]);
    assert_eq!(t.status().unwrap().audit_records, before, "nothing written");
    assert!(t.product_by_sku(&owner, "OK1").unwrap().is_none());
}

#[test]
fn a_good_csv_imports_every_row_in_one_transaction_of_several_records() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    let mut csv = String::from(HEADER);
    for i in 0..1_200 {
        let body = format!("890{i:09}");
        let digits: Vec<u8> = body.bytes().map(|b| b - b'0').collect();
        let check = galla_domain_check(&digits);
        csv.push_str(&format!(
            "P{i},Phone case {i},{body}{check},3926,18,0,\"1,299.50\",inclusive,pcs,no,,5\n"
        ));
    }
    csv.push_str("PH1,Redmi 13C,,8517,18,,\"9,999\",inclusive,pcs,yes,2,\n");
    let before = t.status().unwrap().audit_records;
    let r = t.import_products_csv(&owner, csv.as_bytes()).unwrap();
    assert!(
        r.errors.is_empty(),
        "{:?}",
        &r.errors[..r.errors.len().min(3)]
    );
    assert_eq!(r.imported, 1_201);
    let records = t.status().unwrap().audit_records - before;
    assert_eq!(records, 3, "1,201 rows in records of at most 500");
    assert!(t.verify_audit(&owner).unwrap().is_intact());
    let p = t.product_by_sku(&owner, "P77").unwrap().unwrap();
    assert_eq!(
        (p.price_paise, p.stock, p.gst_rate_bp),
        (129_950, Some(5), 1800)
    );
    let phone = t.product_by_sku(&owner, "PH1").unwrap().unwrap();
    assert!(phone.serialized);
    assert_eq!(phone.imeis_per_unit, 2);
    assert_eq!(
        t.search_products(&owner, "phone case 11", 5).unwrap().len(),
        5
    );
}

/// GS1 check digit, written out here independently of the engine.
fn galla_domain_check(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(*d) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

#[test]
fn a_prefix_matching_hundreds_of_products_answers_with_the_closest_names_first() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    let mut csv = String::from("sku,name,barcodes,hsn,gst_rate,price\n");
    for i in 0..400 {
        csv.push_str(&format!("C{i},Cable type C braided {i} metre,,,18,199\n"));
        if i == 350 {
            // Past the first matches in index order: found by its name's prefix.
            csv.push_str("SHORT,Cable,,,18,99\n");
        }
    }
    assert_eq!(
        t.import_products_csv(&owner, csv.as_bytes())
            .unwrap()
            .imported,
        401
    );
    let found = t.search_products(&owner, "cab", 5).unwrap();
    assert_eq!(found.len(), 5);
    // Over the ranking cap: of the first matches, the shortest names (closest to the typing).
    assert_eq!(found[0].name, "Cable");
    assert!(found.windows(2).all(|w| w[0].name.len() <= w[1].name.len()));
    assert!(found.iter().all(|p| p.name.starts_with("Cable")));
    // Narrowed under the cap, the matches are complete.
    let found = t.search_products(&owner, "cab 37", 50).unwrap();
    let mut skus: Vec<_> = found.iter().map(|p| p.sku.as_str()).collect();
    skus.sort_unstable();
    let mut want = vec!["C37".to_string()];
    want.extend((370..380).map(|i| format!("C{i}")));
    assert_eq!(skus, want);
    let found = t.search_products(&owner, "braided 3", 200).unwrap();
    assert_eq!(found.len(), 111, "3, 30-39, 300-399");
}

#[test]
fn names_starting_with_the_typing_come_first_then_the_shortest() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    let csv = "sku,name,barcodes,hsn,gst_rate,price\n\
               A,USB cable,,,18,99\n\
               B,Cable organiser for desks,,,18,99\n\
               C,Braided USB-C cable 2 metre,,,18,99\n\
               D,cable tie,,,18,99\n";
    assert_eq!(
        t.import_products_csv(&owner, csv.as_bytes())
            .unwrap()
            .imported,
        4
    );
    let skus: Vec<String> = t
        .search_products(&owner, "CABLE", 10)
        .unwrap()
        .into_iter()
        .map(|p| p.sku)
        .collect();
    assert_eq!(
        skus,
        ["D", "B", "A", "C"],
        "prefix (any case) first, then length"
    );
}

#[test]
fn a_code_is_a_barcode_when_it_is_one_else_a_sku() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    let csv = "sku,name,barcodes,hsn,gst_rate,price\n\
               RN13,Redmi Note 13,8901030865275,,18,14999\n\
               8901030865278X,Odd SKU,,,18,99\n";
    assert_eq!(
        t.import_products_csv(&owner, csv.as_bytes())
            .unwrap()
            .imported,
        2
    );
    let sku = |code: &str| t.product_by_code(&owner, code).unwrap().map(|p| p.sku);
    assert_eq!(
        sku(" 8901030865275 ").as_deref(),
        Some("RN13"),
        "scanned barcode"
    );
    assert_eq!(sku("rn13").as_deref(), None, "SKUs are exact");
    assert_eq!(sku("RN13").as_deref(), Some("RN13"), "typed SKU");
    assert_eq!(sku("8901030865278X").as_deref(), Some("8901030865278X"));
    assert_eq!(
        sku("8901030865279"),
        None,
        "a bad check digit is no product"
    );
}
