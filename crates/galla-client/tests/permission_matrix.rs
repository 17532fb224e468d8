//! Every engine operation under every preset role, on the real store: allowed or refused
//! exactly as the matrix below says. The matrix is written out here, independently of
//! `Op::gate` and `Role::grants`; an operation missing from it fails the test, and a new `Op`
//! without a way to run it below does not compile.

mod common;

use common::Fixture;
use galla_client::{
    Clock, Error, FinalizeRequest, NewCartLine, NewCustomer, NewSeat, NewSupportSeat, Op,
    PaymentInput, ProductRef, Role, SecretKind, SecretString, SessionToken, ShopPolicy, Terminal,
};
use uuid::Uuid;

/// Columns: owner, manager, counter staff, accountant, stock keeper, read-only, support.
#[rustfmt::skip]
const MATRIX: &[(Op, &str)] = &[
    (Op::Status,                   "YYYYYYY"),
    (Op::Roster,                   "YYYYYYY"),
    (Op::SignIn,                   "YYYYYYY"),
    (Op::Unlock,                   "YYYYYYY"),
    (Op::SessionInfo,              "YYYYYYY"),
    (Op::Touch,                    "YYYYYYY"),
    (Op::Lock,                     "YYYYYYY"),
    (Op::SignOut,                  "YYYYYYY"),
    (Op::Reauthenticate,           "YYYYYYY"),
    (Op::ChangeOwnSecret,          "YYYYYYY"),
    (Op::BeginSecondFactor,        "YYYYYYY"),
    (Op::ConfirmSecondFactor,      "YYYYYYY"),
    (Op::OpenCart,                 "YYY...."),
    (Op::CurrentCart,              "YYY...."),
    (Op::AddCartLine,              "YYY...."),
    (Op::RemoveCartLine,           "YYY...."),
    (Op::SetLineQuantity,          "YYY...."),
    (Op::QuoteCart,                "YYY...."),
    (Op::SetSaleTerms,             "YYY...."),
    (Op::DiscardCart,              "YYY...."),
    (Op::SetLineDiscount,          "YYY...."),
    (Op::OverridePrice,            "YY....."),
    (Op::HoldCart,                 "YYY...."),
    (Op::ResumeCart,               "YYY...."),
    (Op::HeldCarts,                "YYY...."),
    (Op::Finalize,                 "YYY...."),
    (Op::IssueCreditNote,          "YY....."),
    (Op::CancelInvoice,            "YY....."),
    (Op::ViewInvoices,             "YYYYYYY"),
    (Op::RecordLedgerPayment,      "YYY...."),
    (Op::ViewLedger,               "YYYY.Y."),
    (Op::SetCreditLimit,           "YY....."),
    (Op::DayReport,                "YY.YYYY"),
    (Op::ShopSettings,             "YYYYYYY"),
    (Op::EditShopSettings,         "Y.....Y"),
    (Op::FindProducts,             "YYYYYYY"),
    (Op::EditCatalogue,            "YY..Y.."),
    (Op::ImportCatalogue,          "YY..Y.."),
    (Op::AddCustomer,              "YYY...."),
    (Op::EditCustomer,             "YYY...."),
    (Op::ViewCustomer,             "YYYY.Y."),
    (Op::RevealCustomer,           "YY.Y..."),
    (Op::FindCustomers,            "YYYY.Y."),
    (Op::ImportCustomers,          "YYY...."),
    (Op::ExportCustomers,          "Y......"),
    (Op::SeatDetails,              "Y......"),
    (Op::AddSeat,                  "Y......"),
    (Op::SetSeatAccess,            "Y......"),
    (Op::ResetSeatSecret,          "Y......"),
    (Op::ResetSecondFactor,        "Y......"),
    (Op::SetPolicy,                "Y......"),
    (Op::AcknowledgeSecurityEvent, "Y......"),
    (Op::RevokeSeat,               "YY....."),
    (Op::SignOutEverywhere,        "YY....."),
    (Op::DisableTerminal,          "YY....."),
    (Op::EnableTerminal,           "YY....."),
    (Op::GrantSupport,             "Y......"),
    (Op::CreateRecoveryKit,        "Y......"),
    (Op::SecurityEvents,           "YY.Y.YY"),
    (Op::AuditEntries,             "YY.Y.YY"),
    (Op::VerifyAudit,              "YY.Y.YY"),
    (Op::ExportAudit,              "Y..Y..."),
    (Op::LinkCloud,                "Y......"),
    (Op::SyncNow,                  "YYYYY.Y"),
    (Op::SyncAlarms,               "YY.Y.YY"),
    (Op::CloudAlerts,              "YY.Y.YY"),
    (Op::ResolveCloudAlert,        "Y......"),
];

const ROLES: [Role; 7] = [
    Role::Owner,
    Role::Manager,
    Role::CounterStaff,
    Role::Accountant,
    Role::StockKeeper,
    Role::ReadOnly,
    Role::Support,
];

const PIN: &str = "604817";
const PHONE: &str = "9845012345";

fn secret(s: &str) -> SecretString {
    SecretString::new(s)
}

/// One role's terminal: the owner (for set-up), the seat under test and what its ops need.
struct Ctx {
    t: Terminal,
    clock: std::sync::Arc<galla_client::ManualClock>,
    owner: SessionToken,
    seat: Uuid,
    who: SessionToken,
    customer: Uuid,
    event: Uuid,
    /// An invoice of 10 units the owner sold, for credit notes.
    invoice: String,
    n: u32,
}

impl Ctx {
    fn new(fx: &Fixture, role: Role) -> Ctx {
        let (t, owner) = fx.init();
        let seat = if role == Role::Support {
            t.grant_support(
                &owner,
                &NewSupportSeat {
                    display_name: "Support".into(),
                    secret_kind: SecretKind::Pin,
                    secret: secret(PIN),
                    minutes: 60,
                },
            )
            .unwrap()
        } else {
            t.add_seat(&owner, &new_seat("Under test", role)).unwrap()
        };
        let who = t.sign_in(seat, &secret(PIN), None).unwrap().token;
        let customer = t
            .add_customer(
                &owner,
                &NewCustomer {
                    name: "Priya".into(),
                    phone: Some(PHONE.into()),
                    ..Default::default()
                },
            )
            .unwrap();
        let matrix_product = galla_client::NewProduct {
            sku: "MATRIX".into(),
            name: "Charging cable".into(),
            gst_rate_bp: 1800,
            price_paise: 19_900,
            ..Default::default()
        };
        t.add_product(&owner, &matrix_product).unwrap();
        // Sold on udhaar to the customer, so there is a balance to pay off.
        t.set_credit_limit(&owner, customer, Some(10_000_000))
            .unwrap();
        t.add_product_to_cart(&owner, &ProductRef::Sku("MATRIX".into()), 10)
            .unwrap();
        let invoice = t
            .finalize(
                &owner,
                &FinalizeRequest {
                    customer_id: Some(customer),
                    payments: vec![PaymentInput::Credit {
                        amount_paise: 199_000,
                    }],
                    ..Default::default()
                },
            )
            .unwrap()
            .number;
        let victim = t
            .add_seat(&owner, &new_seat("Target", Role::ReadOnly))
            .unwrap();
        for _ in 0..5 {
            let _ = t.sign_in(victim, &secret("000999"), None);
        }
        let event = t.security_events(&owner).unwrap()[0].id;
        Ctx {
            t,
            clock: fx.clock.clone(),
            owner,
            seat,
            who,
            customer,
            event,
            invoice,
            n: 0,
        }
    }

    /// A fresh read-only seat made by the owner, for acts on another seat.
    fn victim(&mut self) -> Uuid {
        self.n += 1;
        let name = format!("Victim {}", self.n);
        self.t
            .add_seat(&self.owner, &new_seat(&name, Role::ReadOnly))
            .unwrap()
    }

    /// The seat's own sale with one line, if it may bill; a made-up line id otherwise (the
    /// refusal comes before any lookup).
    fn line(&self) -> Uuid {
        let _ = self.t.open_cart(&self.who);
        self.t
            .add_cart_line(&self.who, &item())
            .map(|c| c.lines.last().unwrap().line_id)
            .unwrap_or_else(|_| Uuid::now_v7())
    }
}

fn new_seat(name: &str, role: Role) -> NewSeat {
    NewSeat {
        display_name: name.into(),
        roles: vec![role],
        overrides: vec![],
        secret_kind: SecretKind::Pin,
        secret: secret(PIN),
    }
}

fn item() -> NewCartLine {
    NewCartLine {
        description: "Tempered glass".into(),
        quantity: 2,
        unit_price_paise: 14_900,
    }
}

fn totp_code(base32: &str, now_ms: i64) -> String {
    totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(base32).unwrap())
        .build()
        .unwrap()
        .generate((now_ms / 1000) as u64)
        .to_string()
}

/// Runs `op` as the seat under test. `Ok` when it ran, the engine's error when it did not.
fn run(c: &mut Ctx, op: Op) -> galla_client::Result<()> {
    let t = &c.t;
    match op {
        Op::Status => t.status().map(drop),
        Op::Roster => t.roster().map(drop),
        Op::SignIn => {
            let spare = c.victim();
            c.t.sign_in(spare, &secret(PIN), None).map(drop)
        }
        Op::Unlock => {
            t.lock(&c.who)?;
            t.unlock(&c.who, &secret(PIN)).map(drop)
        }
        Op::SessionInfo => t.session_info(&c.who).map(drop),
        Op::Touch => t.touch(&c.who).map(drop),
        Op::Lock => {
            t.lock(&c.who)?;
            t.unlock(&c.who, &secret(PIN)).map(drop)
        }
        Op::SignOut => {
            c.t.sign_out(&c.who)?;
            c.who = c.t.sign_in(c.seat, &secret(PIN), None)?.token;
            Ok(())
        }
        Op::Reauthenticate => t.reauthenticate(&c.who, &secret(PIN)).map(drop),
        Op::ChangeOwnSecret => {
            t.change_own_secret(&c.who, &secret(PIN), SecretKind::Pin, &secret(PIN))
        }
        Op::BeginSecondFactor => t.begin_second_factor(&c.who).map(drop),
        Op::ConfirmSecondFactor => {
            let setup = t.begin_second_factor(&c.who)?;
            let code = totp_code(setup.secret_base32.expose(), c.clock.now_ms());
            t.confirm_second_factor(&c.who, &secret(&code)).map(drop)
        }
        Op::OpenCart => t.open_cart(&c.who).map(drop),
        Op::CurrentCart => t.current_cart(&c.who).map(drop),
        Op::AddCartLine => {
            let _ = t.open_cart(&c.who);
            t.add_cart_line(&c.who, &item()).map(drop)
        }
        Op::RemoveCartLine => {
            let line = c.line();
            t.remove_cart_line(&c.who, line).map(drop)
        }
        Op::SetLineQuantity => {
            let line = c.line();
            t.set_line_quantity(&c.who, line, 2).map(drop)
        }
        Op::QuoteCart => {
            let _ = t.discard_cart(&c.who);
            let _ = t.add_product_to_cart(&c.who, &ProductRef::Sku("MATRIX".into()), 1);
            t.quote_cart(&c.who, &galla_client::SaleTerms::default())
                .map(drop)
        }
        Op::SetSaleTerms => {
            let _ = t.discard_cart(&c.who);
            let _ = t.add_product_to_cart(&c.who, &ProductRef::Sku("MATRIX".into()), 1);
            let delivered = galla_client::SaleTerms {
                place_of_supply: Some(29),
                ..Default::default()
            };
            t.set_sale_terms(&c.who, &delivered).map(drop)
        }
        Op::DiscardCart => {
            let _ = t.open_cart(&c.who);
            t.discard_cart(&c.who)
        }
        Op::SetLineDiscount => {
            let line = c.line();
            t.set_line_discount(&c.who, line, 100).map(drop)
        }
        Op::OverridePrice => {
            let line = c.line();
            t.set_line_price(&c.who, line, 9_900).map(drop)
        }
        Op::HoldCart => {
            let _ = t.open_cart(&c.who);
            t.hold_cart(&c.who).map(drop)
        }
        Op::ResumeCart => {
            t.open_cart(&c.owner).unwrap();
            let held = t.hold_cart(&c.owner).unwrap().cart_id;
            t.resume_cart(&c.who, held).map(drop)
        }
        Op::HeldCarts => t.held_carts(&c.who).map(drop),
        Op::Finalize => {
            let _ = t.discard_cart(&c.who);
            let _ = t.add_product_to_cart(&c.who, &ProductRef::Sku("MATRIX".into()), 1);
            let pay = FinalizeRequest {
                payments: vec![PaymentInput::Cash {
                    amount_paise: 19_900,
                    tendered_paise: Some(20_000),
                }],
                ..Default::default()
            };
            t.finalize(&c.who, &pay).map(drop)
        }
        Op::CancelInvoice => {
            // A fresh cash sale by the owner, for the seat under test to cancel.
            t.add_product_to_cart(&c.owner, &ProductRef::Sku("MATRIX".into()), 1)?;
            let cash = FinalizeRequest {
                payments: vec![PaymentInput::Cash {
                    amount_paise: 19_900,
                    tendered_paise: None,
                }],
                ..Default::default()
            };
            let number = t.finalize(&c.owner, &cash)?.number;
            t.cancel_invoice(
                &c.who,
                &number,
                "billed twice",
                galla_client::Settlement::RefundCash,
            )
            .map(drop)
        }
        Op::IssueCreditNote => {
            let n = galla_client::NewCreditNote {
                invoice_number: c.invoice.clone(),
                reason: "returned".into(),
                lines: vec![galla_client::ReturnLine {
                    line_no: 1,
                    quantity: 1,
                    imeis: vec![],
                }],
                settlement: galla_client::Settlement::RefundCash,
            };
            t.issue_credit_note(&c.who, &n).map(drop)
        }
        Op::ViewInvoices => t.invoices_by_imei(&c.who, "490154203237518").map(drop),
        Op::RecordLedgerPayment => t
            .record_ledger_payment(
                &c.who,
                c.customer,
                &galla_client::LedgerPayment::Cash { amount_paise: 100 },
            )
            .map(drop),
        Op::ViewLedger => t
            .ledger_statement(&c.who, c.customer, i64::MIN, i64::MAX)
            .map(drop),
        Op::SetCreditLimit => t.set_credit_limit(&c.who, c.customer, Some(1_000_000)),
        Op::DayReport => t
            .day_report(
                &c.who,
                galla_client::day_close::parse_day("2025-11-21").unwrap(),
            )
            .map(drop),
        Op::ShopSettings => t.shop_settings(&c.who).map(drop),
        Op::EditShopSettings => t.set_shop_settings(
            &c.who,
            &galla_client::ShopDetails {
                name: "Sharma Mobiles".into(),
                gstin: Some("27AAPFU0939F1ZV".into()),
                ..Default::default()
            },
        ),
        Op::FindProducts => t.search_products(&c.who, "glass", 10).map(drop),
        Op::EditCatalogue => {
            c.n += 1;
            let p = galla_client::NewProduct {
                sku: format!("SKU-{}", c.n),
                name: "Screen guard".into(),
                gst_rate_bp: 1800,
                price_paise: 19_900,
                ..Default::default()
            };
            c.t.add_product(&c.who, &p).map(drop)
        }
        Op::ImportCatalogue => {
            c.n += 1;
            let csv = format!("sku,name,gst_rate,price\nIMP-{},Back cover,18,149\n", c.n);
            c.t.import_products_csv(&c.who, csv.as_bytes()).map(|r| {
                assert_eq!(r.imported, 1, "{r:?}");
            })
        }
        Op::EditCustomer => t.update_customer(
            &c.who,
            c.customer,
            &galla_client::CustomerChanges {
                address: Some("12 MG Road, Pune".into()),
                ..Default::default()
            },
        ),
        Op::AddCustomer => t
            .add_customer(
                &c.who,
                &NewCustomer {
                    name: "Walk-in".into(),
                    ..Default::default()
                },
            )
            .map(drop),
        Op::ViewCustomer => t.customer(&c.who, c.customer).map(drop),
        Op::RevealCustomer => t.reveal_customer(&c.who, c.customer).map(drop),
        Op::FindCustomers => t.search_customers(&c.who, "pri", 5).map(drop),
        Op::ImportCustomers => {
            c.n += 1;
            let csv = format!("name,phone\nImported {},97{:08}\n", c.n, c.n);
            c.t.import_customers_csv(&c.who, csv.as_bytes()).map(|r| {
                assert_eq!(r.imported, 1, "{r:?}");
            })
        }
        Op::ExportCustomers => t.export_customers_csv(&c.who, std::io::sink()).map(drop),
        Op::SeatDetails => t.seat_details(&c.who).map(drop),
        Op::AddSeat => {
            c.n += 1;
            let name = format!("New {}", c.n);
            c.t.add_seat(&c.who, &new_seat(&name, Role::ReadOnly))
                .map(drop)
        }
        Op::SetSeatAccess => {
            let v = c.victim();
            c.t.set_seat_access(&c.who, v, &[Role::ReadOnly], &[])
        }
        Op::ResetSeatSecret => {
            let v = c.victim();
            c.t.reset_seat_secret(&c.who, v, SecretKind::Pin, &secret("730215"))
        }
        Op::ResetSecondFactor => {
            let v = c.victim();
            c.t.reset_second_factor(&c.who, v)
        }
        Op::SetPolicy => t.set_policy(&c.who, &ShopPolicy::default()),
        Op::AcknowledgeSecurityEvent => t.acknowledge_security_event(&c.who, c.event),
        Op::RevokeSeat => {
            let v = c.victim();
            c.t.revoke_seat(&c.who, v)
        }
        Op::SignOutEverywhere => {
            let v = c.victim();
            c.t.sign_out_everywhere(&c.who, v)
        }
        Op::DisableTerminal => {
            t.disable_terminal(&c.who)?;
            t.enable_terminal(&c.owner)
        }
        Op::EnableTerminal => {
            // Disabling ends the sessions of seats that could not enable it again, so only
            // those that could are tried on a disabled terminal; the rest on an enabled one.
            let may = t
                .session_info(&c.who)?
                .permissions
                .contains(&galla_client::Permission::RevokeSeats);
            if may {
                t.disable_terminal(&c.owner).unwrap();
            }
            t.enable_terminal(&c.who)
        }
        Op::CreateRecoveryKit => c.t.create_recovery_kit(&c.who).map(drop),
        Op::GrantSupport => {
            c.n += 1;
            c.t.grant_support(
                &c.who,
                &NewSupportSeat {
                    display_name: format!("Support {}", c.n),
                    secret_kind: SecretKind::Pin,
                    secret: secret(PIN),
                    minutes: 15,
                },
            )
            .map(drop)
        }
        Op::SecurityEvents => t.security_events(&c.who).map(drop),
        Op::AuditEntries => t.audit_entries(&c.who, &Default::default()).map(drop),
        Op::VerifyAudit => t.verify_audit(&c.who).map(drop),
        Op::ExportAudit => t.export_audit_csv(&c.who, std::io::sink()).map(drop),
        // Past the gate, the request itself is refused before anything leaves the terminal.
        Op::LinkCloud => match t.link_cloud(
            &c.who,
            &galla_client::LinkRequest {
                server_url: "https://localhost:1".into(),
                ca_pem: "not a certificate".into(),
                owner_passphrase: secret("a long enough passphrase"),
            },
        ) {
            Err(Error::Invalid(_)) => Ok(()),
            other => other.map(drop),
        },
        Op::SyncNow => t.sync_now(&c.who),
        Op::SyncAlarms => t.sync_alarms(&c.who).map(drop),
        Op::CloudAlerts => t.cloud_alerts(&c.who).map(drop),
        // Only a pull brings alerts: past the gate, this shop has none to resolve.
        Op::ResolveCloudAlert => match t.resolve_cloud_alert(&c.who, "no-such-alert", "checked") {
            Err(Error::NotFound(_)) => Ok(()),
            other => other,
        },
    }
}

#[test]
fn every_operation_under_every_preset_role_is_allowed_or_refused_as_the_matrix_says() {
    for (op, _) in MATRIX {
        assert!(
            Op::ALL.contains(op),
            "{op:?} is in the matrix but not an Op"
        );
    }
    let mut failures = Vec::new();
    for (col, role) in ROLES.into_iter().enumerate() {
        let fx = Fixture::new();
        let mut c = Ctx::new(&fx, role);
        for &op in Op::ALL {
            let row = MATRIX
                .iter()
                .find(|(o, _)| *o == op)
                .unwrap_or_else(|| panic!("{op:?} has no row in the permission matrix"))
                .1;
            let allowed = row.as_bytes()[col] == b'Y';
            let result = run(&mut c, op);
            match (&result, allowed) {
                (Ok(()), true) | (Err(Error::PermissionDenied { .. }), false) => {}
                _ => failures.push(format!(
                    "{role} / {op:?}: expected {}, got {result:?}",
                    if allowed { "allowed" } else { "refused" }
                )),
            }
        }
        // Refusals changed nothing and the chain still verifies.
        assert!(c.t.verify_audit(&c.owner).unwrap().is_intact(), "{role}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
