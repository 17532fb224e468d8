//! A cloud for the desktop end-to-end specs: starts a throwaway cloud (private PostgreSQL, TLS
//! 1.3 with a dev CA), puts a shop on it from a first terminal (its owner, a counter clerk, a
//! product and a sale, linked and synced), issues an enrollment code for one more terminal,
//! raises an owner alert (an IMEI sold twice) for the owner to resolve at that terminal,
//! and prints what that terminal's first-run screen needs as one line of JSON. It serves until
//! its standard input closes.
//!
//! Usage (inside `scripts/keyring-session.sh`): `galla-e2e-cloud DIR`

use std::io::Read as _;
use std::sync::Arc;

use galla_client::{
    DataDir, FinalizeRequest, LinkRequest, NewProduct, NewSeat, NewShop, OsKeychain, PaymentInput,
    ProductRef, Role, SecretKind, SecretString, SystemClock, Terminal,
};
use galla_cloud::testing::TestCloud;

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("galla-e2e-cloud: {what}: {e}");
    std::process::exit(2)
}

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: galla-e2e-cloud DIR");
        std::process::exit(2);
    };
    let dir = std::path::PathBuf::from(dir);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail("runtime", e));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_else(|e| fail("clock", e));
    let cloud = rt.block_on(TestCloud::start(&dir.join("cloud"), now));
    let keychain = OsKeychain::connect().unwrap_or_else(|e| fail("keychain", e));
    let (shop, owner) = Terminal::init(
        &DataDir::new(dir.join("first-terminal")),
        &keychain,
        Arc::new(SystemClock),
        &NewShop {
            shop_name: "Sharma Mobiles".into(),
            gstin: Some("27AAPFU0939F1ZV".into()),
            state_code: None,
            owner_name: "Ravi Sharma".into(),
            owner_passphrase: SecretString::new("correct horse battery"),
            terminal_name: "Counter 1".into(),
            series_code: "T1".into(),
        },
    )
    .unwrap_or_else(|e| fail("shop", e));
    shop.add_seat(
        &owner,
        &NewSeat {
            display_name: "Asha".into(),
            roles: vec![Role::CounterStaff],
            overrides: vec![],
            secret_kind: SecretKind::Pin,
            secret: SecretString::new("482916"),
        },
    )
    .unwrap_or_else(|e| fail("seat", e));
    shop.add_product(
        &owner,
        &NewProduct {
            sku: "COVER".into(),
            name: "Back cover".into(),
            barcodes: vec!["4006381333931".into()],
            hsn: Some("3926".into()),
            gst_rate_bp: 1800,
            price_paise: 29_900,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| fail("product", e));
    shop.add_product_to_cart(&owner, &ProductRef::Sku("COVER".into()), 1)
        .unwrap_or_else(|e| fail("cart", e));
    let sale = shop
        .finalize(
            &owner,
            &FinalizeRequest {
                payments: vec![PaymentInput::Cash {
                    amount_paise: 29_900,
                    tendered_paise: None,
                }],
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| fail("sale", e));
    shop.link_cloud(
        &owner,
        &LinkRequest {
            server_url: cloud.url(),
            ca_pem: cloud.ca_pem.clone(),
            owner_passphrase: SecretString::new("cloud owner passphrase"),
        },
    )
    .unwrap_or_else(|e| fail("link", e));
    shop.sync_pass(&keychain)
        .unwrap_or_else(|e| fail("sync", e));
    let code = rt
        .block_on(galla_cloud::api::enroll::issue(
            cloud.state(),
            shop.tenant_id(),
            None,
        ))
        .unwrap_or_else(|e| fail("code", format!("{e:?}")));
    // Something for the owner to resolve at the new counter, as two counters selling one phone
    // would raise.
    rt.block_on(cloud.raise_alert(
        shop.tenant_id(),
        shop.device_id(),
        "imei_conflict",
        "IMEI 490154203237518 was sold again (invoice T1/26-27/000002) while an earlier sale of it stands",
    ));
    println!(
        "{}",
        serde_json::json!({
            "url": cloud.url(),
            "ca_pem": cloud.ca_pem,
            "code": code.code,
            "series_code": code.series_code,
            "first_invoice": sale.number,
        })
    );
    // Serve until the spec is done with us.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(cloud);
}
