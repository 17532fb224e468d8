//! The CLI as a person runs it: separate processes against the real Secret Service, so keys
//! must survive process restarts, and every failure must be a sentence, not a panic.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{cli, text};

const PASSPHRASE: &str = "correct horse battery";

fn init(data: &Path) -> Output {
    cli(
        data,
        &[
            "init",
            "--shop-name",
            "Lakshmi Stores",
            "--owner-name",
            "Lakshmi",
            "--gstin",
            "29AAFCC9980M1ZR",
            "--passphrase-stdin",
        ],
        Some(&format!("{PASSPHRASE}\n")),
    )
}

#[test]
fn init_then_doctor_status_verify_and_export_in_separate_processes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("shop");
    let out = init(&data);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Lakshmi Stores"));
    assert!(!text(&out.stdout).contains(PASSPHRASE) && !text(&out.stderr).contains(PASSPHRASE));

    let out = cli(&data, &["doctor"], None);
    let report = text(&out.stdout);
    assert!(out.status.success(), "{report}{}", text(&out.stderr));
    for check in [
        "keychain",
        "install",
        "keys",
        "database",
        "schema",
        "pages",
        "audit chain",
    ] {
        assert!(
            report
                .lines()
                .any(|l| l.starts_with("ok") && l.contains(check)),
            "{check} missing in\n{report}"
        );
    }
    assert!(report.contains("Secret Service"));
    // No kit yet: a warning that says what to do, not a failure (the exit status was 0).
    assert!(
        report.lines().any(|l| l.starts_with("WARN")
            && l.contains("recovery kit")
            && l.contains("none made")
            && l.contains("galla-cli recovery-kit")),
        "{report}"
    );

    let out = cli(&data, &["status", "--json"], None);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["shop_name"], "Lakshmi Stores");
    assert_eq!(status["series_code"], "T1");
    assert_eq!(status["audit_records"], 1);

    // Reading the audit trail signs in as the owner (the only owner: no --seat needed).
    let out = cli(&data, &["audit", "verify", "--json"], None);
    assert_eq!(out.status.code(), Some(2), "no secret, no audit");
    assert!(text(&out.stderr).contains("wrong PIN, passphrase or code"));
    let out = cli(
        &data,
        &["audit", "verify", "--json"],
        Some(&format!("{PASSPHRASE}\n")),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        r["verified"], 3,
        "shop.create, the failed and the good sign-in"
    );
    assert!(r["problem"].is_null());

    let csv_path = tmp.path().join("audit.csv");
    let out = cli(
        &data,
        &["audit", "export", "--csv", csv_path.to_str().unwrap()],
        Some(&format!("{PASSPHRASE}\n")),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&csv_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o600,
            "the export is the user's alone, whatever the umask"
        );
    }
    let mut rd = csv::Reader::from_path(&csv_path).unwrap();
    let rows: Vec<csv::StringRecord> = rd.records().collect::<Result<_, _>>().unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| &r[4]).collect();
    assert_eq!(
        actions,
        [
            "shop.create",
            "session.sign_in_failed",
            "session.sign_in",
            "session.sign_in"
        ]
    );
    assert!(rows.iter().all(|r| &r[11] == "yes"));
    assert!(
        !std::fs::read_to_string(&csv_path)
            .unwrap()
            .contains("29AAFCC9980M1ZR"),
        "GSTIN stays encrypted"
    );
}

#[test]
fn a_second_init_is_refused_and_the_shop_is_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("shop");
    assert!(init(&data).status.success());
    let before = std::fs::read(data.join("install.json")).unwrap();
    let out = init(&data);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("already set up"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read(data.join("install.json")).unwrap(), before);
    let verify = cli(
        &data,
        &["audit", "verify"],
        Some(&format!("{PASSPHRASE}\n")),
    );
    assert!(verify.status.success(), "{}", text(&verify.stderr));
}

#[test]
fn bad_input_is_a_sentence_and_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("shop");
    let out = cli(
        &data,
        &[
            "init",
            "--shop-name",
            "X",
            "--owner-name",
            "Y",
            "--gstin",
            "29AAFCC9980M1ZX",
            "--passphrase-stdin",
        ],
        Some("long enough pass\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("GSTIN check character"),
        "{}",
        text(&out.stderr)
    );
    let out = cli(
        &data,
        &[
            "init",
            "--shop-name",
            "X",
            "--owner-name",
            "Y",
            "--passphrase-stdin",
        ],
        Some("short\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("at least 8 characters"));
    assert!(!data.join("galla.db").exists());
}

#[test]
fn commands_on_a_folder_without_a_shop_say_how_to_create_one() {
    let tmp = tempfile::tempdir().unwrap();
    let out = cli(tmp.path(), &["audit", "verify"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("galla-cli init"),
        "{}",
        text(&out.stderr)
    );
    let out = cli(tmp.path(), &["doctor"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("FAIL install"));
}

#[test]
fn without_a_keychain_the_cli_stops_with_what_to_install() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("shop");
    assert!(init(&data).status.success());
    for args in [
        &["status"][..],
        &["audit", "verify"],
        &[
            "init",
            "--shop-name",
            "A",
            "--owner-name",
            "B",
            "--passphrase-stdin",
        ],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_galla-cli"))
            .arg("--data-dir")
            .arg(
                tmp.path()
                    .join(if args[0] == "init" { "other" } else { "shop" }),
            )
            .args(args)
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                format!("unix:path={}/no-bus", tmp.path().display()),
            )
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("no usable OS keychain") && err.contains("gnome-keyring"),
            "{err}"
        );
        assert!(!err.contains("panicked"));
    }
    assert!(
        !tmp.path().join("other").join("galla.db").exists(),
        "no key, no database"
    );
}

#[test]
fn a_deleted_keychain_entry_is_reported_by_doctor_and_refused_by_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("shop");
    assert!(init(&data).status.success());
    let install = galla_client::DataDir::new(&data)
        .install_id()
        .unwrap()
        .unwrap();
    let status = Command::new("secret-tool")
        .args([
            "clear",
            "service",
            galla_client::keychain::KEYCHAIN_SERVICE,
            "username",
        ])
        .arg(galla_client::keys::account(
            install,
            galla_client::keys::WRAP_KEY,
        ))
        .status()
        .expect("secret-tool (libsecret-tools) is installed by the test command");
    assert!(status.success());
    let out = cli(&data, &["doctor"], None);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("FAIL") && l.contains("keys") && l.contains("wrap-key")),
        "{report}"
    );
    let out = cli(&data, &["status"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("recovery kit"));
}

#[test]
fn the_cli_signs_in_as_a_seat_and_the_engine_decides_what_it_may_do() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("shop");
    assert!(init(&data).status.success());
    let owner_then_pin = format!("{PASSPHRASE}\n482915\n");
    let out = cli(
        &data,
        &["seat", "add", "--name", "Asha", "--role", "counter_staff"],
        Some(&owner_then_pin),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cli(&data, &["seat", "list"], None);
    assert!(text(&out.stdout).contains("Asha"), "{}", text(&out.stdout));

    // Counter staff may not read the audit trail: refused by the engine, exit 2.
    let out = cli(
        &data,
        &["--seat", "Asha", "audit", "verify"],
        Some("482915\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("may not verify the audit trail"),
        "{}",
        text(&out.stderr)
    );
    // Nor add seats.
    let out = cli(
        &data,
        &[
            "--seat", "Asha", "seat", "add", "--name", "Mallory", "--role", "owner",
        ],
        Some("482915\n650193\n"),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    let out = cli(
        &data,
        &["seat", "revoke", "Asha"],
        Some(&format!("{PASSPHRASE}\n")),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cli(
        &data,
        &["--seat", "Asha", "audit", "verify"],
        Some("482915\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no seat named"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stderr).contains("482915"));
}

#[test]
fn the_owner_sets_the_session_policy_from_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("shop");
    assert!(init(&data).status.success());
    let pass = format!("{PASSPHRASE}\n");
    let out = cli(
        &data,
        &[
            "policy",
            "set",
            "--idle",
            "counter_staff=120",
            "--discount",
            "manager=1500",
        ],
        Some(&pass),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cli(&data, &["policy", "show", "--json"], Some(&pass));
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["idle_timeout_ms"]["counter_staff"], 120_000);
    assert_eq!(p["discount_limit_bp"]["manager"], 1500);
    // Out of range: refused with the allowed range, nothing changed.
    let out = cli(&data, &["policy", "set", "--idle", "owner=5"], Some(&pass));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("30 seconds to 12 hours"),
        "{}",
        text(&out.stderr)
    );
    let out = cli(&data, &["policy", "set", "--idle", "boss=60"], Some(&pass));
    assert_eq!(out.status.code(), Some(2));
    let out = cli(&data, &["policy", "show"], Some(&pass));
    assert!(
        text(&out.stdout).contains("counter_staff       120 s"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn the_owner_sets_the_shop_tax_registration_from_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("shop");
    assert!(init(&data).status.success());
    let pass = format!("{PASSPHRASE}\n");
    let out = cli(
        &data,
        &[
            "shop",
            "set",
            "--turnover",
            "above-5-crore",
            "--address",
            "12 MG Road, Pune",
        ],
        Some(&pass),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cli(&data, &["shop", "show", "--json"], Some(&pass));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["turnover_band"], "above_5_crore");
    assert_eq!(s["address"], "12 MG Road, Pune");
    assert_eq!(s["composition"], false);
    // The composition scheme ends far below ₹5 crore: refused, nothing changed.
    let out = cli(&data, &["shop", "set", "--composition", "yes"], Some(&pass));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("composition"),
        "{}",
        text(&out.stderr)
    );
    let out = cli(&data, &["shop", "set", "--turnover", "lots"], Some(&pass));
    assert_eq!(out.status.code(), Some(2));
    let out = cli(&data, &["shop", "show"], Some(&pass));
    assert!(
        text(&out.stdout).contains("above 5 crore"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn check_says_valid_or_invalid_with_the_reason_and_needs_no_shop() {
    let tmp = tempfile::tempdir().unwrap();
    let none = tmp.path().join("no-shop");
    for (args, code, says) in [
        (
            &["check", "gstin", " 27aapfu0939f1zv "][..],
            0,
            "valid GSTIN: 27AAPFU0939F1ZV (state 27)",
        ),
        (&["check", "gstin", "27AAPFU0939F1ZX"], 1, "invalid GSTIN"),
        (
            &["check", "imei", "490154203237518"],
            0,
            "valid IMEI: 490154203237518",
        ),
        (&["check", "imei", "490154203237517"], 1, "check digit"),
        (&["check", "imei", "4901542032375101"], 0, "IMEISV"),
        (&["check", "barcode", "036000291452"], 0, "0036000291452"),
        (&["check", "barcode", "4006381333932"], 1, "invalid barcode"),
    ] {
        let out = cli(&none, args, None);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            text(&out.stderr)
        );
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(all.contains(says), "{args:?}: {all}");
    }
    assert!(!none.exists(), "checking creates nothing");
}

#[test]
fn importing_products_is_all_or_nothing_with_a_line_by_line_report() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("shop");
    assert!(init(&data).status.success());
    let pass = format!("{PASSPHRASE}\n");
    let bad = tmp.path().join("bad.csv");
    std::fs::write(
        &bad,
        "sku,name,gst_rate,price\nA1,Cover,18,149\nA2,Glass,18,1.005\n",
    )
    .unwrap();
    let out = cli(
        &data,
        &["import", "products", bad.to_str().unwrap()],
        Some(&pass),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("line 3: price"),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stderr).contains("nothing was imported"));
    let good = tmp.path().join("good.csv");
    std::fs::write(
        &good,
        "sku,name,gst_rate,price\nA1,Cover,18,149\nA2,Glass,18,99.50\n",
    )
    .unwrap();
    let out = cli(
        &data,
        &["import", "products", good.to_str().unwrap()],
        Some(&pass),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("imported 2 products"));
}

#[test]
fn headless_billing_turns_a_json_cart_into_an_invoice_and_a_bad_one_into_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("shop");
    assert!(init(&data).status.success());
    let pass = format!("{PASSPHRASE}\n");
    let csv = tmp.path().join("p.csv");
    std::fs::write(
        &csv,
        "sku,name,gst_rate,price,serialized\nCOVER,Back cover,18,299,no\nPH,Phone,18,\"9,999\",yes\n",
    )
    .unwrap();
    assert!(
        cli(
            &data,
            &["import", "products", csv.to_str().unwrap()],
            Some(&pass)
        )
        .status
        .success()
    );

    let bad = tmp.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"lines": [{"product": {"by": "sku", "value": "NOPE"}, "quantity": 1}],
            "payments": [{"mode": "cash", "amount_paise": 29900}]}"#,
    )
    .unwrap();
    let out = cli(&data, &["bill", bad.to_str().unwrap()], Some(&pass));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no such product"),
        "{}",
        text(&out.stderr)
    );
    let no_imei = tmp.path().join("no-imei.json");
    std::fs::write(
        &no_imei,
        r#"{"lines": [{"product": {"by": "sku", "value": "PH"}, "quantity": 1}],
            "payments": [{"mode": "cash", "amount_paise": 999900}]}"#,
    )
    .unwrap();
    let out = cli(&data, &["bill", no_imei.to_str().unwrap()], Some(&pass));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("IMEI"), "{}", text(&out.stderr));

    let good = tmp.path().join("good.json");
    std::fs::write(
        &good,
        r#"{"lines": [{"product": {"by": "sku", "value": "COVER"}, "quantity": 2},
                      {"product": {"by": "sku", "value": "PH"}, "quantity": 1,
                       "imeis": ["490154203237518"]}],
            "payments": [{"mode": "cash", "amount_paise": 1059700, "tendered_paise": 1060000}]}"#,
    )
    .unwrap();
    let out = cli(&data, &["bill", good.to_str().unwrap()], Some(&pass));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let inv: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let number = inv["number"].as_str().unwrap().to_owned();
    assert!(
        number.ends_with("/000001"),
        "the failed bills took no number: {number}"
    );
    assert_eq!(inv["total_paise"], 1_059_700);
    assert_eq!(inv["payments"][0]["change_paise"], 300);

    let out = cli(&data, &["invoice", "show", &number, "--json"], Some(&pass));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["lines"][1]["imeis"][0], "490154203237518");

    // The bill as printed, on 58 mm paper: the number, the phone's IMEI, the total.
    let out = cli(
        &data,
        &["invoice", "receipt", &number, "--columns", "32"],
        Some(&pass),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let receipt = text(&out.stdout);
    for expected in [&number, "TAX INVOICE", "IMEI 490154203237518", "10,597.00"] {
        assert!(
            receipt.contains(expected),
            "{expected} missing from\n{receipt}"
        );
    }
    assert!(
        receipt.lines().all(|l| l.chars().count() <= 32),
        "{receipt}"
    );
    let out = cli(
        &data,
        &["invoice", "receipt", &number, "--columns", "500"],
        Some(&pass),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("58 mm paper: 32"),
        "{}",
        text(&out.stderr)
    );

    // A cover comes back (at the till, in another process); its credit note prints here.
    let note = {
        let keychain = galla_client::OsKeychain::connect().unwrap();
        let t = galla_client::Terminal::open(
            &galla_client::DataDir::new(&data),
            &keychain,
            std::sync::Arc::new(galla_client::SystemClock),
        )
        .unwrap();
        let owner = t.roster().unwrap()[0].seat_id;
        let token = t
            .sign_in(owner, &galla_client::SecretString::new(PASSPHRASE), None)
            .unwrap()
            .token;
        t.issue_credit_note(
            &token,
            &galla_client::NewCreditNote {
                invoice_number: number.clone(),
                reason: "returned: torn".into(),
                lines: vec![galla_client::ReturnLine {
                    line_no: 1,
                    quantity: 1,
                    imeis: vec![],
                }],
                settlement: galla_client::Settlement::RefundCash,
            },
        )
        .unwrap()
        .number
    };
    let out = cli(&data, &["invoice", "credit-note", &note], Some(&pass));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    for expected in [
        "CREDIT NOTE",
        &note,
        &number,
        "returned: torn",
        "Refunded in cash",
    ] {
        assert!(
            printed.contains(expected),
            "{expected} missing from\n{printed}"
        );
    }
}

#[test]
fn the_day_report_is_shown_and_an_unfinished_day_cannot_be_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("shop");
    assert!(init(&data).status.success());
    let pass = format!("{PASSPHRASE}\n");
    let out = cli(
        &data,
        &["report", "day", "2020-01-01", "--json"],
        Some(&pass),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["sales"]["total_paise"], 0);
    assert_eq!(r["closed"], false);
    let out = cli(
        &data,
        &["report", "day", "2020-01-01", "--close", "--json"],
        Some(&pass),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["closed"], true);
    let out = cli(
        &data,
        &["report", "day", "2999-01-01", "--close"],
        Some(&pass),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not over yet"),
        "{}",
        text(&out.stderr)
    );
    let out = cli(&data, &["report", "day", "01/01/2020"], Some(&pass));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn importing_customers_from_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("shop");
    assert!(init(&data).status.success());
    let pass = format!("{PASSPHRASE}\n");
    let f = tmp.path().join("c.csv");
    std::fs::write(&f, "name,phone,gstin\nAsha,9876543210,\nBala,9876543210,\n").unwrap();
    let out = cli(
        &data,
        &["import", "customers", f.to_str().unwrap()],
        Some(&pass),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("line 3: phone"),
        "{}",
        text(&out.stdout)
    );
    std::fs::write(
        &f,
        "name,phone,gstin\nAsha,9876543210,\nBala,,29AAFCC9980M1ZR\n",
    )
    .unwrap();
    let out = cli(
        &data,
        &["import", "customers", f.to_str().unwrap()],
        Some(&pass),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("imported 2 customers"));
}

#[test]
fn a_recovery_kit_made_at_the_cli_brings_back_a_lost_keychain() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("shop");
    assert!(init(&data).status.success());
    let out = cli(&data, &["recovery-kit"], Some(&format!("{PASSPHRASE}\n")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    let code = printed
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 29 && l.split('-').count() == 5)
        .unwrap_or_else(|| panic!("no code in\n{printed}"))
        .to_owned();
    assert!(printed.contains("not shown again"));
    let out = cli(&data, &["doctor"], None);
    assert!(out.status.success());
    let report = text(&out.stdout);
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("ok") && l.contains("recovery kit") && l.contains("made on")),
        "{report}"
    );
    assert!(!report.contains(&code), "the doctor never shows the code");

    // The keychain loses this install's keys: the shop no longer opens, and says what to do.
    let dir = galla_client::DataDir::new(&data);
    let install = dir.install_id().unwrap().unwrap();
    let keychain = galla_client::OsKeychain::connect().unwrap();
    galla_client::keys::TerminalKeys::erase(&keychain, install).unwrap();
    let out = cli(&data, &["status"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("recovery kit"),
        "{}",
        text(&out.stderr)
    );

    let mut wrong = code.clone();
    wrong.replace_range(0..1, if code.starts_with('Z') { "Y" } else { "Z" });
    let out = cli(&data, &["recover"], Some(&format!("{wrong}\n")));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("does not open this kit"));
    assert!(
        !text(&out.stderr).contains(&wrong),
        "the code typed is not echoed"
    );

    let out = cli(&data, &["recover"], Some(&format!("{code}\n")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Keys restored"));
    let out = cli(&data, &["status", "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["shop_name"], "Lakshmi Stores");
    assert_eq!(status["recovery_kit"]["on_disk"], true);

    // A kit made and then deleted from the folder recovers nothing: the doctor warns.
    std::fs::remove_file(galla_client::recovery::kit_path(&dir)).unwrap();
    let out = cli(&data, &["doctor", "--json"], None);
    assert!(
        out.status.success(),
        "a missing kit is a warning, not a failure"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kit = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "recovery kit")
        .unwrap();
    assert_eq!(kit["ok"], true);
    assert_eq!(kit["warning"], true);
    assert!(
        kit["detail"]
            .as_str()
            .unwrap()
            .contains("no longer in the data folder"),
        "{kit}"
    );
}
