//! Udhaar on the real store: credit sales within a customer's limit (exceeding it only by a
//! seat allowed to, and recorded), payments, credit notes settled to the ledger, and a
//! statement whose balance is always the sum of its entries.

mod common;

use common::Fixture;
use galla_client::{
    Error, FinalizeRequest, InputError, LedgerPayment, NewCreditNote, NewProduct, PaymentInput,
    ProductRef, ReturnLine, SessionToken, Settlement, Terminal,
};
use uuid::Uuid;

fn sell_on_credit(
    t: &Terminal,
    who: &SessionToken,
    customer: Option<Uuid>,
    cash: i64,
    credit: i64,
) -> galla_client::Result<String> {
    t.add_product_to_cart(who, &ProductRef::Sku("COVER".into()), 1)?;
    let mut payments = vec![];
    if cash > 0 {
        payments.push(PaymentInput::Cash {
            amount_paise: cash,
            tendered_paise: None,
        });
    }
    payments.push(PaymentInput::Credit {
        amount_paise: credit,
    });
    let r = t.finalize(
        who,
        &FinalizeRequest {
            customer_id: customer,
            payments,
            ..Default::default()
        },
    );
    if r.is_err() {
        let _ = t.discard_cart(who);
    }
    r.map(|i| i.number)
}

#[test]
fn credit_sales_payments_and_returns_keep_the_balance_as_the_sum_of_entries() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    t.add_product(
        &owner,
        &NewProduct {
            sku: "COVER".into(),
            name: "Back cover".into(),
            gst_rate_bp: 1800,
            price_paise: 29_900,
            ..Default::default()
        },
    )
    .unwrap();
    let customer = t
        .add_customer(&owner, &common::customer("Meera", "9876543210"))
        .unwrap();
    let staff = common::counter_staff(&t, &owner);

    // No limit set: no udhaar from the counter; a credit sale names its customer.
    assert!(matches!(
        sell_on_credit(&t, &staff, Some(customer), 0, 29_900),
        Err(Error::CreditLimit { .. })
    ));
    assert!(matches!(
        sell_on_credit(&t, &staff, None, 0, 29_900),
        Err(Error::Invalid(InputError::Conflict(m))) if m.contains("customer")
    ));
    assert!(matches!(
        t.set_credit_limit(&staff, customer, Some(50_000)),
        Err(Error::PermissionDenied { .. })
    ));
    t.set_credit_limit(&owner, customer, Some(50_000)).unwrap();

    let first = sell_on_credit(&t, &staff, Some(customer), 0, 29_900).unwrap();
    // Split: ₹100 cash, ₹199 on udhaar → 49,800 owed, within ₹500.
    sell_on_credit(&t, &staff, Some(customer), 10_000, 19_900).unwrap();
    let over = sell_on_credit(&t, &staff, Some(customer), 0, 29_900);
    assert!(
        matches!(&over, Err(Error::CreditLimit { limit, balance_after })
            if limit.paise() == 50_000 && balance_after.paise() == 79_700),
        "{over:?}"
    );
    fx.clock.advance_ms(60_000);
    // The owner may go over the limit, and the entry says so.
    sell_on_credit(&t, &owner, Some(customer), 0, 29_900).unwrap();

    assert!(matches!(
        t.record_ledger_payment(&staff, customer, &LedgerPayment::Cash { amount_paise: 1_000_000 }),
        Err(Error::Invalid(InputError::Conflict(m))) if m.contains("owes")
    ));
    t.record_ledger_payment(
        &staff,
        customer,
        &LedgerPayment::Upi {
            amount_paise: 20_000,
            reference: "UPI-998877".into(),
        },
    )
    .unwrap();
    t.issue_credit_note(
        &owner,
        &NewCreditNote {
            invoice_number: first.clone(),
            reason: "returned".into(),
            lines: vec![ReturnLine {
                line_no: 1,
                quantity: 1,
                imeis: vec![],
            }],
            settlement: Settlement::LedgerCredit,
        },
    )
    .unwrap();

    let s = t
        .ledger_statement(&staff, customer, i64::MIN, i64::MAX)
        .unwrap();
    let kinds: Vec<(&str, i64, bool)> = s
        .entries
        .iter()
        .map(|e| (e.kind.as_str(), e.amount_paise, e.over_limit))
        .collect();
    assert_eq!(
        kinds,
        [
            ("credit_sale", 29_900, false),
            ("credit_sale", 19_900, false),
            ("credit_sale", 29_900, true),
            ("payment", -20_000, false),
            ("credit_note", -29_900, false),
        ]
    );
    assert_eq!(
        s.closing_balance_paise,
        29_900 + 19_900 + 29_900 - 20_000 - 29_900
    );
    assert_eq!(
        s.entries.last().unwrap().balance_paise,
        s.closing_balance_paise
    );
    assert_eq!(s.entries[0].invoice_number.as_deref(), Some(first.as_str()));
    assert_eq!(s.credit_limit_paise, Some(50_000));

    // A window: the opening balance carries what came before it.
    let third_at = s.entries[2].at_ms;
    let later = t
        .ledger_statement(&staff, customer, third_at, i64::MAX)
        .unwrap();
    assert_eq!(later.opening_balance_paise, 29_900 + 19_900);
    assert_eq!(later.closing_balance_paise, s.closing_balance_paise);

    // Entries are facts.
    let err = fx
        .raw()
        .execute("UPDATE ledger_entry SET amount_paise = 1", [])
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot be changed"), "{err}");
    assert!(t.verify_audit(&owner).unwrap().is_intact());
}
