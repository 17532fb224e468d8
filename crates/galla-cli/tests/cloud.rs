//! The CLI against a real cloud (private PostgreSQL, TLS 1.3 with its CA pinned): a new till
//! joins a shop with the owner's code through `galla-cli enroll`, and `galla-cli sync` sends
//! and takes in what a sync pass does. Separate processes on the real Secret Service.

mod common;

use std::sync::Arc;

use common::{cli, text};
use galla_client::{
    DataDir, LinkRequest, NewShop, OsKeychain, SecretString, SystemClock, Terminal,
};
use galla_cloud::testing::TestCloud;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn a_till_joins_with_the_owners_code_and_syncs_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // The CLI signs its requests with the real time: the cloud's clock is set to it.
    let cloud = rt.block_on(TestCloud::start(&tmp.path().join("cloud"), now_ms()));
    let keychain = OsKeychain::connect().expect("run through scripts/keyring-session.sh");
    let (shop, owner) = Terminal::init(
        &DataDir::new(tmp.path().join("first")),
        &keychain,
        Arc::new(SystemClock),
        &NewShop {
            shop_name: "Lakshmi Stores".into(),
            gstin: Some("29AAFCC9980M1ZR".into()),
            state_code: None,
            owner_name: "Lakshmi".into(),
            owner_passphrase: SecretString::new("correct horse battery"),
            terminal_name: "Counter 1".into(),
            series_code: "T1".into(),
        },
    )
    .unwrap();
    shop.link_cloud(
        &owner,
        &LinkRequest {
            server_url: cloud.url(),
            ca_pem: cloud.ca_pem.clone(),
            owner_passphrase: SecretString::new("cloud owner passphrase"),
        },
    )
    .unwrap();
    shop.sync_pass(&keychain).unwrap();
    let code = rt
        .block_on(galla_cloud::api::enroll::issue(
            cloud.state(),
            shop.tenant_id(),
            None,
        ))
        .unwrap();
    let ca = tmp.path().join("cloud-ca.pem");
    std::fs::write(&ca, &cloud.ca_pem).unwrap();
    let (url, ca) = (cloud.url(), ca.to_string_lossy().into_owned());
    let joining = tmp.path().join("second");
    let enroll = [
        "enroll",
        "--server",
        &url,
        "--ca",
        &ca,
        "--name",
        "Counter 2",
    ];

    // A standalone folder has nothing to sync with, and says what to do.
    let out = cli(&joining, &["sync"], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).is_empty());

    // A mistyped code is refused before anything is sent; the real one, typed as read out
    // (lower case, a space), joins the shop.
    let out = cli(&joining, &enroll, Some("12345\n"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("ten letters and digits"),
        "{}",
        text(&out.stderr)
    );
    assert!(!joining.join("galla.db").exists());
    let typed = format!("{}\n", code.code.to_lowercase().replace('-', " "));
    let out = cli(&joining, &enroll, Some(&typed));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("Lakshmi Stores") && said.contains("Counter 2"),
        "{said}"
    );
    assert!(said.contains(&code.series_code), "{said}");
    assert!(!said.contains(&code.code) && !text(&out.stderr).contains(&code.code));

    // Its first sync sends its enrollment record; the next has nothing to send.
    let out = cli(&joining, &["sync"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("sent 1 record;"),
        "{}",
        text(&out.stdout)
    );
    let out = cli(&joining, &["sync", "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["pushed"], 0);
    assert_eq!(report["server_seq"], 1);
    assert_eq!(report["alarms"], serde_json::json!([]));
    // The server has the new till's chain.
    let held: i64 = rt
        .block_on(cloud.db.in_tenant(shop.tenant_id(), async |tx| {
            Ok(tx
                .query_one("SELECT count(*) FROM device WHERE audit_seq = 1", &[])
                .await?
                .get(0))
        }))
        .unwrap();
    assert_eq!(held, 1);

    // The code was this till's: a third folder cannot use it.
    let out = cli(&tmp.path().join("third"), &enroll, Some(&typed));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(!tmp.path().join("third").join("galla.db").exists());
}
