//! A shop created by the previous Galla (schema 1: no seat sign-in, sessions or carts) opens
//! with this one: the pending migration runs in one transaction, the owner signs in with the
//! passphrase chosen back then, the old audit chain still verifies and new seats can be added.
//!
//! A test binary of its own: it caps migrations process-wide while building the old shop.

mod common;

use std::sync::atomic::Ordering;

use common::Fixture;
use galla_client::store::SCHEMA_LIMIT_FOR_TESTS;
use galla_client::{NewSeat, Role, SecretKind, SecretString};

#[test]
fn a_schema_1_shop_upgrades_and_its_owner_signs_in() {
    let fx = Fixture::new();
    SCHEMA_LIMIT_FOR_TESTS.store(1, Ordering::SeqCst);
    let (t, _owner) = fx.init();
    assert_eq!(t.status().unwrap().schema_version, 1);
    drop(t);
    SCHEMA_LIMIT_FOR_TESTS.store(0, Ordering::SeqCst);

    let t = fx.open().unwrap();
    let status = t.status().unwrap();
    assert_eq!(status.schema_version, status.supported_schema_version);
    assert!(status.schema_version >= 2);
    let roster = t.roster().unwrap();
    assert_eq!(roster.len(), 1);
    assert_eq!(roster[0].secret_kind, SecretKind::Passphrase);
    let owner = common::sign_in_owner(&t);
    let report = t.verify_audit(&owner).unwrap();
    assert!(report.is_intact());
    assert_eq!(
        report.verified, 2,
        "shop.create from schema 1, then the sign-in"
    );
    t.add_seat(
        &owner,
        &NewSeat {
            display_name: "Asha".into(),
            roles: vec![Role::CounterStaff],
            overrides: vec![],
            secret_kind: SecretKind::Pin,
            secret: SecretString::new("482915"),
        },
    )
    .unwrap();
    t.open_cart(&owner).unwrap();
}
