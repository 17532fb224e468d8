//! The attack matrix of issue 21: what one stolen terminal (its device key and its database
//! key, docs/security.md's "key + SQLite shell" adversary) or a breached cloud (a superuser on
//! its PostgreSQL) can do to the shop. One test per attack, each against the real cloud (private
//! PostgreSQL, TLS 1.3), real terminals and the real keychain; each asserts the attack is
//! refused, every till keeps billing and signing in, and the owner sees an alert.
//!
//! Run through `scripts/keyring-session.sh` (the README's test command does).

use galla_client::{
    Clock as _, CustomerChanges, NewCustomer, NewProduct, Role, SecretString, Terminal,
};
use galla_proto::hlc::{HlcTimestamp, MAX_DRIFT_MS};
use serde_json::json;
use uuid::Uuid;

mod common;
use common::*;

const STAFF_PIN: &str = "482916";

/// A linked shop: the owner's till with a product, a customer and a PIN seat, synced.
struct Shop {
    a: std::sync::Arc<Terminal>,
    owner: galla_client::SessionToken,
    totp: totp_rs::Totp,
    tenant: Uuid,
    customer: Uuid,
    staff: Uuid,
}

fn shop(w: &World) -> Shop {
    let (a, owner, _) = w.shop("a");
    a.add_product(
        &owner,
        &NewProduct {
            sku: "COVER".into(),
            name: "Back cover".into(),
            hsn: Some("3926".into()),
            gst_rate_bp: 1800,
            price_paise: 29_900,
            ..Default::default()
        },
    )
    .unwrap();
    let customer = a
        .add_customer(
            &owner,
            &NewCustomer {
                name: "Asha Patil".into(),
                phone: Some("9812345678".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let staff = pin_seat(&a, &owner, "Ravi", Role::CounterStaff, STAFF_PIN);
    let totp = w.link(&a, &owner);
    a.sync_pass(w.keychain.as_ref()).unwrap();
    let tenant = a.tenant_id();
    Shop {
        a,
        owner,
        totp,
        tenant,
        customer,
        staff,
    }
}

/// The till still works for everyone: the clerk signs in, corrects a customer and sells, and
/// the till syncs.
fn keeps_billing_and_signing_in(w: &World, t: &Terminal, shop: &Shop, note: &str) {
    let clerk = t
        .sign_in(shop.staff, &SecretString::new(STAFF_PIN), None)
        .unwrap_or_else(|e| panic!("{note}: the clerk cannot sign in: {e}"))
        .token;
    t.update_customer(
        &clerk,
        shop.customer,
        &CustomerChanges {
            email: Some(format!("asha.{}@example.in", t.device_id().simple())),
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("{note}: a customer cannot be corrected: {e}"));
    sell_cover(t, &clerk);
    t.sync_pass(w.keychain.as_ref())
        .unwrap_or_else(|e| panic!("{note}: the till cannot sync: {e}"));
}

/// The stamp that once stopped every till: the largest time a stamp can hold.
fn overflowing_stamp(device: Uuid) -> String {
    format!("7fffffffffffffff-ffffffff-{device}")
}

fn stamp_at(wall_ms: i64, device: Uuid) -> String {
    HlcTimestamp {
        wall_ms,
        counter: 0,
        device,
    }
    .encode()
    .unwrap()
}

fn alerts(w: &World, tenant: Uuid, kind: &str) -> i64 {
    w.count(
        tenant,
        &format!("SELECT count(*) FROM owner_alert WHERE kind = '{kind}'"),
    )
}

#[test]
fn a_stolen_terminal_cannot_stop_every_till_with_a_stamp_from_the_future() {
    let w = World::new();
    let shop = shop(&w);
    let (b, b_data) = w.enroll_till(shop.tenant, &shop.totp, "b");
    b.sync_pass(w.keychain.as_ref()).unwrap();
    let mut thief = w.steal(&b, &b_data);
    let key = format!("customer/{}", shop.customer);
    let before = w.shared_row(shop.tenant, "customer", &shop.customer.to_string());
    let now = w.clock.now_ms();

    // Each attack is one record continuing the stolen terminal's chain, signed with its key.
    let with_stamp = |hlc: String| {
        let mut after = before.clone();
        after["name"] = json!("Mallory");
        after["hlc"] = json!(hlc);
        after
    };
    let mut tenant_renamed = w.shared_row(shop.tenant, "tenant", &shop.tenant.to_string());
    tenant_renamed["name"] = json!("Mallory's Mobiles");
    let attacks = [
        (
            "an overflowing HLC stamp",
            thief.record(
                now,
                "customer.update",
                ("customer", &shop.customer.to_string()),
                json!({ &key: before }),
                json!({ &key: with_stamp(overflowing_stamp(thief.device_id)) }),
            ),
        ),
        (
            "a stamp just past the drift bound",
            thief.record(
                now,
                "customer.update",
                ("customer", &shop.customer.to_string()),
                json!({ &key: before }),
                json!({ &key: with_stamp(stamp_at(now + MAX_DRIFT_MS + 60_000, thief.device_id)) }),
            ),
        ),
        (
            "a record's own time a day ahead",
            thief.record(
                now + 86_400_000,
                "shop.update",
                ("tenant", &shop.tenant.to_string()),
                json!({ format!("tenant/{}", shop.tenant): w.shared_row(shop.tenant, "tenant", &shop.tenant.to_string()) }),
                json!({ format!("tenant/{}", shop.tenant): tenant_renamed }),
            ),
        ),
    ];
    for (n, (what, record)) in attacks.iter().enumerate() {
        let (status, body) = thief.push(&w, &[record]);
        assert_eq!(status, 422, "{what} was not refused: {body}");
        assert_eq!(body["code"], "clock_skew", "{what}: {body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("ahead of the cloud's clock")),
            "{what}: {body}"
        );
        // The thief retries: still refused, and the owner is not alerted twice for one record.
        let (again, _) = thief.push(&w, &[record]);
        assert_eq!(again, 422, "{what}");
        assert_eq!(
            alerts(&w, shop.tenant, "clock_ahead"),
            n as i64 + 1,
            "{what}"
        );
    }
    assert_eq!(
        w.shared_row(shop.tenant, "customer", &shop.customer.to_string())["name"],
        "Asha Patil",
        "nothing of a refused record reaches the shop's books"
    );
    assert_eq!(
        w.count(
            shop.tenant,
            &format!(
                "SELECT count(*) FROM audit_record WHERE device_id = '{}' AND seq >= {}",
                thief.device_id, thief.next_seq
            )
        ),
        0
    );

    // Every till goes on: the owner's, and the stolen terminal itself, whose own next record
    // takes the number the refused ones asked for.
    keeps_billing_and_signing_in(&w, &shop.a, &shop, "counter 1");
    keeps_billing_and_signing_in(&w, &b, &shop, "counter 2");
    // The owner sees the alerts at the counter.
    shop.a.sync_pass(w.keychain.as_ref()).unwrap();
    let seen = shop.a.cloud_alerts(&shop.owner).unwrap();
    let clock_alerts: Vec<_> = seen.iter().filter(|a| a.kind == "clock_ahead").collect();
    assert_eq!(clock_alerts.len(), 3, "{seen:?}");
    assert!(
        clock_alerts
            .iter()
            .all(|a| a.terminal.as_deref() == Some("b") && a.detail.contains("revoke it")),
        "each names the counter and what to do: {clock_alerts:?}"
    );
}

#[test]
fn a_breached_cloud_cannot_stop_a_till_with_a_stamp_from_the_future() {
    let w = World::new();
    let shop = shop(&w);
    let id = shop.customer.to_string();

    // A superuser on the cloud's database writes a customer row carrying the overflowing stamp
    // into the change feed, as if a terminal's edit had won with it.
    let mut planted = w.shared_row(shop.tenant, "customer", &id);
    planted["name"] = json!("Mallory");
    planted["hlc"] = json!(overflowing_stamp(Uuid::now_v7()));
    w.change_elsewhere(shop.tenant, "customer", &id, planted);

    let report = shop.a.sync_pass(w.keychain.as_ref()).unwrap();
    assert_eq!(report.pulled.from_the_future, 1, "{report:?}");
    let alarm = report
        .alarms
        .iter()
        .find(|a| a.kind == "future_stamp")
        .unwrap_or_else(|| panic!("no alarm for the owner: {report:?}"));
    assert!(
        alarm.detail.contains(&format!("customer/{id}")),
        "{alarm:?}"
    );
    assert_eq!(
        shop.a.sync_alarms(&shop.owner).unwrap().len(),
        1,
        "kept for the owner"
    );
    assert_eq!(
        shop.a.customer(&shop.owner, shop.customer).unwrap().name,
        "Asha Patil",
        "the planted row is not taken"
    );
    keeps_billing_and_signing_in(&w, &shop.a, &shop, "counter 1");
}

/// Issue 21, deliver 4: a stolen terminal's key signs records in the name of any seat it has
/// read off a lock screen. The cloud takes an edit of a merged table only from a seat on the
/// roster, not revoked, holding the table's writer right: the shop's name in a clerk's name,
/// a seat nobody has, or no seat at all is refused, and the owner told. (In the owner's own
/// name it still passes: that needs the seat's signature, deliver 1.)
#[test]
fn a_stolen_terminal_cannot_change_the_shops_settings_in_a_clerks_name() {
    let w = World::new();
    let shop = shop(&w);
    let (b, b_data) = w.enroll_till(shop.tenant, &shop.totp, "b");
    b.sync_pass(w.keychain.as_ref()).unwrap();
    let mut thief = w.steal(&b, &b_data);
    let tenant_id = shop.tenant.to_string();
    let key = format!("tenant/{tenant_id}");
    let tenant = w.shared_row(shop.tenant, "tenant", &tenant_id);
    let mut renamed = tenant.clone();
    renamed["name"] = json!("Mallory's Mobiles");
    let now = w.clock.now_ms();
    let mut records = Vec::new();
    for seat in [Some(shop.staff), Some(Uuid::now_v7()), None] {
        let r = thief.record_as(
            seat,
            now,
            "shop.update",
            ("tenant", &tenant_id),
            json!({ &key: tenant }),
            json!({ &key: renamed }),
        );
        thief.advance(&r);
        records.push(r);
    }
    let (status, body) = thief.push(&w, &records.iter().collect::<Vec<_>>());
    assert_eq!(
        status, 200,
        "the records are signed, so the log takes them: {body}"
    );
    assert_eq!(
        w.shared_row(shop.tenant, "tenant", &tenant_id)["name"],
        tenant["name"],
        "the shop's books keep its name"
    );
    assert_eq!(alerts(&w, shop.tenant, "change_refused"), 3);

    // The owner's till pulls nothing of it, keeps billing, and shows the alerts.
    keeps_billing_and_signing_in(&w, &shop.a, &shop, "counter 1");
    assert_eq!(
        shop.a.shop_settings(&shop.owner).unwrap().name,
        tenant["name"].as_str().unwrap()
    );
    let seen = shop.a.cloud_alerts(&shop.owner).unwrap();
    let refused: Vec<_> = seen.iter().filter(|a| a.kind == "change_refused").collect();
    assert_eq!(refused.len(), 3, "{seen:?}");
    assert!(
        refused.iter().any(|a| a
            .detail
            .contains("Ravi, whose seat does not hold the right (EditSettings)")),
        "{refused:?}"
    );
}

/// Issue 21, deliver 4: facts stay facts. A clerk sells on a till that is offline while the
/// owner revokes her seat elsewhere; the sale reaches the cloud after the revocation. The
/// goods left the shop, so the invoice is in the books, and the owner is told whose it was.
#[test]
fn a_sale_by_a_seat_revoked_while_its_till_was_offline_is_kept_and_flagged() {
    let w = World::new();
    let shop = shop(&w);
    let (b, _b_data) = w.enroll_till(shop.tenant, &shop.totp, "b");
    b.sync_pass(w.keychain.as_ref()).unwrap();
    let clerk = b
        .sign_in(shop.staff, &SecretString::new(STAFF_PIN), None)
        .unwrap()
        .token;
    // The owner revokes Ravi on counter 1; counter 2 has not heard yet.
    shop.a.revoke_seat(&shop.owner, shop.staff).unwrap();
    shop.a.sync_pass(w.keychain.as_ref()).unwrap();
    let number = sell_cover(&b, &clerk);
    b.sync_pass(w.keychain.as_ref()).unwrap();
    assert_eq!(
        w.count(
            shop.tenant,
            &format!("SELECT count(*) FROM shared_row WHERE tbl = 'invoice' AND data->>'number' = '{number}'"),
        ),
        1,
        "the sale is in the shop's books"
    );
    assert_eq!(alerts(&w, shop.tenant, "revoked_seat_fact"), 1);
    shop.a.sync_pass(w.keychain.as_ref()).unwrap();
    let seen = shop.a.cloud_alerts(&shop.owner).unwrap();
    let flagged: Vec<_> = seen
        .iter()
        .filter(|a| a.kind == "revoked_seat_fact")
        .collect();
    assert!(
        flagged.len() == 1
            && flagged[0].detail.contains("Ravi, whose seat is revoked")
            && flagged[0].terminal.as_deref() == Some("b"),
        "{seen:?}"
    );
    // Counter 2 has now heard: Ravi cannot sign in there any more.
    b.sync_pass(w.keychain.as_ref()).unwrap();
    assert!(
        b.sign_in(shop.staff, &SecretString::new(STAFF_PIN), None)
            .is_err()
    );
}
