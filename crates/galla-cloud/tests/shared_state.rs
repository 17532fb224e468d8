//! The shared state the cloud derives from pushed records, through the real server (TLS 1.3,
//! PostgreSQL): facts once, duplicate numbers kept out of the books with an owner alert, IMEIs
//! sold twice raised as conflicts, customers merged field by field by HLC stamp, seat changes
//! applied only from seats that hold the right, secrets bound to their digests, and the change
//! feed paging to a complete state.

mod common;
mod support;

use galla_proto::api::*;
use galla_proto::hlc::HlcTimestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Digest as _;
use support::{Cloud, Terminal, cloud};
use uuid::Uuid;

struct Shop {
    cloud: Cloud,
    token: String,
    owner: Uuid,
    a: Terminal,
    b: Terminal,
    /// A third terminal that only reads the feed (a terminal is not sent its own facts).
    reader: Terminal,
}

async fn shop() -> Shop {
    let cloud = cloud().await;
    let (created, totp) = cloud.create_shop(None).await;
    let token = cloud.owner_sign_in(created.tenant_id, &totp).await;
    let mut a = Terminal::new(11);
    let mut b = Terminal::new(12);
    let mut reader = Terminal::new(19);
    for (t, series) in [(&mut a, "A1"), (&mut b, "B1"), (&mut reader, "R1")] {
        let code = cloud.issue_code(&token, Some(series)).await;
        let answer = t.enroll(&cloud, &code.code).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    }
    Shop {
        cloud,
        token,
        owner: created.owner_seat_id,
        a,
        b,
        reader,
    }
}

impl Shop {
    async fn push(&mut self, which: char, from: usize) -> support::Answer {
        let t = if which == 'a' {
            &mut self.a
        } else {
            &mut self.b
        };
        let to = t.chain.len();
        t.push(&self.cloud, from..to).await
    }

    /// The whole feed as the reading terminal gets it, paging `limit` rows at a time.
    async fn feed(&mut self, limit: usize) -> (Vec<SharedRow>, usize) {
        Self::feed_of(&mut self.reader, &self.cloud, limit).await
    }

    /// The whole feed as `t` gets it.
    async fn feed_of(t: &mut Terminal, cloud: &Cloud, limit: usize) -> (Vec<SharedRow>, usize) {
        let (mut rows, mut after, mut pages) = (vec![], 0, 0);
        loop {
            let answer = t
                .get(
                    cloud,
                    &format!("{PATH_SYNC_CHANGES}?after={after}&limit={limit}"),
                )
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
            let page: ChangesResponse = answer.json();
            pages += 1;
            for r in &page.rows {
                assert!(r.change > after, "the feed moves forward");
            }
            after = page.next;
            rows.extend(page.rows);
            if page.complete {
                return (rows, pages);
            }
        }
    }

    async fn row(&mut self, table: &str, id: &str) -> Option<Value> {
        let (rows, _) = self.feed(MAX_CHANGES_PAGE).await;
        rows.into_iter()
            .find(|r| r.table == table && r.id == id)
            .map(|r| r.row)
    }

    async fn alerts(&self) -> Vec<OwnerAlert> {
        self.cloud
            .owner(Method::GET, PATH_OWNER_ALERTS, &self.token, None)
            .await
            .json()
    }
}

fn invoice(id: &str, number: &str, device: Uuid) -> Value {
    json!({
        format!("invoice/{id}"): {"id": id, "number": number, "fy": 2026, "device_id": device.to_string(), "total_paise": 11800},
        format!("invoice_line/{id}-1"): {"id": format!("{id}-1"), "invoice_id": id, "line_no": 1, "total_paise": 11800},
        format!("payment/{id}-p"): {"id": format!("{id}-p"), "invoice_id": id, "mode": "cash", "amount_paise": 11800},
    })
}

fn stamp(wall: i64, device: Uuid) -> String {
    HlcTimestamp {
        wall_ms: wall,
        counter: 0,
        device,
    }
    .encode()
    .unwrap()
}

#[tokio::test]
async fn invoices_are_facts_and_a_duplicate_number_stays_out_of_the_books() {
    let mut s = shop().await;
    let owner = Some(s.owner);
    let (da, db) = (s.a.device_id, s.b.device_id);
    s.a.write_op(
        owner,
        "invoice.finalize",
        Value::Null,
        invoice("i-a1", "A1/26-27/000001", da),
    );
    let answer = s.push('a', 0).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    // B, misconfigured with A's series, issues the same number.
    s.b.write_op(
        owner,
        "invoice.finalize",
        Value::Null,
        invoice("i-b1", "A1/26-27/000001", db),
    );
    s.b.write_op(
        owner,
        "invoice.finalize",
        Value::Null,
        invoice("i-b2", "B1/26-27/000001", db),
    );
    let answer = s.push('b', 0).await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "the records are accepted: {}",
        answer.body
    );
    assert_eq!(answer.json::<AuditPushResponse>().head_seq, 2);

    let (rows, _) = s.feed(MAX_CHANGES_PAGE).await;
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    for kept in ["i-a1", "i-a1-1", "i-a1-p", "i-b2", "i-b2-1", "i-b2-p"] {
        assert!(ids.contains(&kept), "{kept} is in the books: {ids:?}");
    }
    for refused in ["i-b1", "i-b1-1", "i-b1-p"] {
        assert!(!ids.contains(&refused), "{refused} is not: {ids:?}");
    }
    let alerts = s.alerts().await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].kind, AlertKind::DuplicateNumber);
    assert_eq!(alerts[0].device_id, Some(db));
    assert!(alerts[0].detail.contains("A1/26-27/000001"));

    // A fact is written once: a later image of the same invoice changes nothing.
    let mut changed = invoice("i-a1", "A1/26-27/000001", da);
    changed["invoice/i-a1"]["total_paise"] = json!(1);
    s.a.write_op(owner, "invoice.finalize", Value::Null, changed);
    assert_eq!(s.push('a', 1).await.status, StatusCode::OK);
    assert_eq!(
        s.row("invoice", "i-a1").await.unwrap()["total_paise"],
        11800
    );
}

#[tokio::test]
async fn one_imei_sold_on_two_terminals_keeps_both_sales_and_alerts_the_owner() {
    let mut s = shop().await;
    let owner = Some(s.owner);
    let imei = "490154203237518";
    let sale = |id: &str, number: &str, device: Uuid| {
        let mut v = invoice(id, number, device);
        v[format!("invoice_imei/{id}-m")] =
            json!({"id": format!("{id}-m"), "invoice_id": id, "imei": imei});
        v
    };
    let (da, db) = (s.a.device_id, s.b.device_id);
    s.a.write_op(
        owner,
        "invoice.finalize",
        Value::Null,
        sale("i-a", "A1/1", da),
    );
    s.b.write_op(
        owner,
        "invoice.finalize",
        Value::Null,
        sale("i-b", "B1/1", db),
    );
    assert_eq!(s.push('a', 0).await.status, StatusCode::OK);
    assert_eq!(s.push('b', 0).await.status, StatusCode::OK);
    assert!(s.row("invoice", "i-a").await.is_some());
    assert!(s.row("invoice", "i-b").await.is_some(), "both sales stand");
    let alerts = s.alerts().await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].kind, AlertKind::ImeiConflict);
    assert!(alerts[0].detail.contains(imei));

    // Returned on both (a credit note each), the phone can be sold again without a conflict.
    for (t, id) in [('a', "cn-a"), ('b', "cn-b")] {
        let term = if t == 'a' { &mut s.a } else { &mut s.b };
        let from = term.chain.len();
        term.write_op(
            owner,
            "credit_note.issue",
            Value::Null,
            json!({
                format!("credit_note/{id}"): {"id": id, "number": format!("{id}/1"), "fy": 2026},
                format!("credit_note_imei/{id}-m"): {"id": format!("{id}-m"), "credit_note_id": id, "imei": imei},
            }),
        );
        assert_eq!(s.push(t, from).await.status, StatusCode::OK);
    }
    s.a.write_op(
        owner,
        "invoice.finalize",
        Value::Null,
        sale("i-a2", "A1/2", da),
    );
    assert_eq!(s.push('a', 2).await.status, StatusCode::OK);
    assert_eq!(s.alerts().await.len(), 1, "no new conflict");
}

#[tokio::test]
async fn customer_edits_merge_field_by_field_by_hlc_whatever_order_they_arrive_in() {
    let mut s = shop().await;
    let owner = Some(s.owner);
    let (da, db) = (s.a.device_id, s.b.device_id);
    let base = json!({"id": "c1", "name": "Asha", "state_code": 29, "phone_ct": {"$b64": "AAEC"}, "hlc": stamp(1_000, da)});
    s.a.write_op(
        owner,
        "customer.create",
        Value::Null,
        json!({"customer/c1": base}),
    );
    assert_eq!(s.push('a', 0).await.status, StatusCode::OK);

    // Both offline: A renames (earlier), B moves the state (later) and also renames (later).
    let mut on_a = base.clone();
    on_a["name"] = json!("Asha Kumari");
    on_a["hlc"] = json!(stamp(2_000, da));
    let mut on_b = base.clone();
    on_b["state_code"] = json!(27);
    on_b["hlc"] = json!(stamp(3_000, db));
    let mut on_a_late = on_a.clone();
    on_a_late["phone_ct"] = json!({"$b64": "AwQF"});
    on_a_late["hlc"] = json!(stamp(4_000, da));
    s.b.write_op(
        owner,
        "customer.update",
        json!({"customer/c1": base}),
        json!({"customer/c1": on_b}),
    );
    s.a.write_op(
        owner,
        "customer.update",
        json!({"customer/c1": base}),
        json!({"customer/c1": on_a}),
    );
    s.a.write_op(
        owner,
        "customer.update",
        json!({"customer/c1": on_a}),
        json!({"customer/c1": on_a_late}),
    );
    // B's later edit arrives first.
    assert_eq!(s.push('b', 0).await.status, StatusCode::OK);
    assert_eq!(s.push('a', 1).await.status, StatusCode::OK);
    let row = s.row("customer", "c1").await.unwrap();
    assert_eq!(row["name"], "Asha Kumari");
    assert_eq!(row["state_code"], 27);
    assert_eq!(
        row["phone_ct"]["$b64"], "AwQF",
        "ciphertext merges as it is"
    );
    assert_eq!(row["hlc"], stamp(4_000, da));
}

fn seat(id: Uuid, roles: &str, revoked: Option<i64>, hash: &str) -> Value {
    let digest = sha2::Sha256::digest(json!(hash).to_string().as_bytes());
    json!({
        "id": id.to_string(), "display_name": "Meena", "roles": roles, "overrides": "[]",
        "revoked_at_ms": revoked,
        "secret_hash": {"$redacted": format!("sha256:{}", hex::encode(&digest[..16]))},
    })
}

async fn push_with_secrets(
    s: &mut Shop,
    index: usize,
    secrets: serde_json::Map<String, Value>,
) -> support::Answer {
    let r = &s.a.chain[index];
    let body = serde_json::to_vec(&AuditPush {
        records: vec![PushedRecord {
            seq: r.record.seq,
            record: base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &r.encoded),
            signature: base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                r.signature,
            ),
            secrets: Some(secrets),
        }],
    })
    .unwrap();
    let request = s.a.signed(&s.cloud, Method::POST, PATH_AUDIT, &body);
    s.cloud.send(request).await
}

#[tokio::test]
async fn seat_changes_apply_only_from_seats_holding_the_right_and_secrets_match_their_digests() {
    let mut s = shop().await;
    let meena = Uuid::now_v7();
    let key = format!("seat/{meena}");
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
    let added = seat(meena, r#"["counter_staff"]"#, None, hash);
    let i = s.a.write_op(
        Some(s.owner),
        "seat.add",
        Value::Null,
        json!({ &key: added }),
    );

    // A secret that does not match the signed digest is refused, and nothing is written.
    let mut forged = serde_json::Map::new();
    forged.insert(key.clone(), json!({"secret_hash": "$argon2id$forged"}));
    let answer = push_with_secrets(&mut s, i, forged).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert_eq!(answer.code(), "bad_request");
    assert!(s.row("seat", &meena.to_string()).await.is_none());

    let mut secrets = serde_json::Map::new();
    secrets.insert(key.clone(), json!({"secret_hash": hash}));
    let answer = push_with_secrets(&mut s, i, secrets).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let row = s.row("seat", &meena.to_string()).await.unwrap();
    assert_eq!(
        row["secret_hash"], hash,
        "the other terminals get the real hash"
    );

    // Counter staff cannot make themselves managers, even offline.
    let promoted = seat(meena, r#"["manager"]"#, None, hash);
    s.a.write_op(
        Some(meena),
        "seat.set_access",
        json!({ &key: added }),
        json!({ &key: promoted }),
    );
    assert_eq!(s.push('a', 1).await.status, StatusCode::OK);
    assert_eq!(
        s.row("seat", &meena.to_string()).await.unwrap()["roles"],
        r#"["counter_staff"]"#
    );
    let alerts = s.alerts().await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].kind, AlertKind::SeatChangeRefused);

    // The owner revokes her: the roster follows, and the new terminal's roster shows it.
    let revoked = seat(meena, r#"["counter_staff"]"#, Some(5), hash);
    s.a.write_op(
        Some(s.owner),
        "seat.revoke",
        json!({ &key: added }),
        json!({ &key: revoked }),
    );
    assert_eq!(s.push('a', 2).await.status, StatusCode::OK);
    let row = s.row("seat", &meena.to_string()).await.unwrap();
    assert_eq!(row["revoked_at_ms"], 5);
    assert_eq!(
        row["secret_hash"], hash,
        "a digest-only column keeps its stored value"
    );
    let mut c = Terminal::new(13);
    let code = s.cloud.issue_code(&s.token, Some("C1")).await;
    assert_eq!(
        c.enroll(&s.cloud, &code.code).await.status,
        StatusCode::CREATED
    );
    let roster = &c.enrolled.as_ref().unwrap().seats;
    let listed = roster
        .iter()
        .find(|x| x.seat_id == meena)
        .expect("on the roster");
    assert!(listed.revoked);
}

#[tokio::test]
async fn the_feed_pages_in_change_order_to_a_complete_state() {
    let mut s = shop().await;
    let owner = Some(s.owner);
    let da = s.a.device_id;
    for n in 0..7 {
        s.a.write_op(
            owner,
            "invoice.finalize",
            Value::Null,
            invoice(&format!("i{n}"), &format!("A1/{n}"), da),
        );
    }
    assert_eq!(s.push('a', 0).await.status, StatusCode::OK);
    let (all, pages) = s.feed(4).await;
    assert_eq!(all.len(), 21);
    assert_eq!(pages, 6, "21 rows in pages of 4, the last one short");
    let mut changes: Vec<i64> = all.iter().map(|r| r.change).collect();
    changes.dedup();
    assert_eq!(changes.len(), 21, "each row once");
    assert!(all.iter().all(|r| r.device_id == da));
    // The terminal that wrote them is not sent its own facts back, but its cursor moves past
    // them all the same.
    let (own, _) = Shop::feed_of(&mut s.a, &s.cloud, 4).await;
    assert!(own.is_empty(), "{own:?}");
    let answer =
        s.a.get(&s.cloud, &format!("{PATH_SYNC_CHANGES}?after=0"))
            .await;
    let page: ChangesResponse = answer.json();
    assert!(page.complete && page.rows.is_empty());
    assert_eq!(page.next, all.last().unwrap().change);

    // A bad cursor is a clear refusal.
    let answer =
        s.a.get(&s.cloud, &format!("{PATH_SYNC_CHANGES}?after=-1"))
            .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let answer = s.a.get(&s.cloud, PATH_SYNC_CHANGES).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_terminal_writes_only_its_own_device_row_and_never_its_key() {
    use base64::Engine as _;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut s = shop().await;
    let row = |t: &Terminal, key: &[u8], disabled: Option<i64>| {
        json!({
            format!("device/{}", t.device_id): {
                "id": t.device_id.to_string(), "tenant_id": t.tenant_id.to_string(),
                "name": "Counter", "series_code": "A1", "public_key": {"$b64": b64(key)},
                "created_at_ms": 1, "disabled_at_ms": disabled,
            }
        })
    };
    let a_key = s.a.key.verifying_key().to_bytes();
    let b_key = s.b.key.verifying_key().to_bytes();
    // A's own row, as enrolling writes it: taken.
    let own = row(&s.a, &a_key, None);
    s.a.write_op(Some(s.owner), "device.enroll", Value::Null, own.clone());
    assert_eq!(s.push('a', 0).await.status, StatusCode::OK);
    let a_id = s.a.device_id.to_string();
    assert!(s.row("device", &a_id).await.is_some());

    // From A's key: B disabled, A's own key replaced, A's row removed. None is applied, and
    // the owner hears of each; A disabling itself is applied.
    let b_id = s.b.device_id.to_string();
    let b_disabled = {
        let mut t = Terminal::new(12);
        t.device_id = s.b.device_id;
        t.tenant_id = s.b.tenant_id;
        row(&t, &b_key, Some(5))
    };
    let from = s.a.chain.len();
    s.a.write_op(Some(s.owner), "device.disable", Value::Null, b_disabled);
    s.a.write_op(
        Some(s.owner),
        "device.update",
        own.clone(),
        row(&s.a, &[9; 32], None),
    );
    s.a.write_op(
        Some(s.owner),
        "device.remove",
        own.clone(),
        json!({ format!("device/{a_id}"): null }),
    );
    s.a.write_op(
        Some(s.owner),
        "device.disable",
        own.clone(),
        row(&s.a, &a_key, Some(7)),
    );
    assert_eq!(s.push('a', from).await.status, StatusCode::OK);
    assert!(
        s.row("device", &b_id).await.is_none(),
        "B's row is B's to write"
    );
    let a_row = s.row("device", &a_id).await.expect("A's row stays");
    assert_eq!(
        a_row["public_key"]["$b64"],
        b64(&a_key),
        "the enrolled key stays"
    );
    assert_eq!(a_row["disabled_at_ms"], 7, "A may disable itself");
    let refused: Vec<OwnerAlert> = s
        .alerts()
        .await
        .into_iter()
        .filter(|a| a.kind == AlertKind::DeviceChangeRefused)
        .collect();
    assert_eq!(refused.len(), 3, "{refused:?}");
    for why in [
        "changed another terminal's row",
        "changed the public key this terminal enrolled with",
        "removed this terminal's row",
    ] {
        assert!(
            refused.iter().any(|a| a.detail.contains(why)),
            "{why}: {refused:?}"
        );
    }
}

#[tokio::test]
async fn a_record_stamped_from_the_future_is_refused_and_listed_for_the_owner() {
    let mut s = shop().await;
    let key = "customer/c1";
    let later = s.cloud.clock_ms() + galla_proto::hlc::MAX_DRIFT_MS + 1;
    s.a.write_op(
        Some(s.owner),
        "customer.add",
        Value::Null,
        json!({ key: {"id": "c1", "name": "Asha", "hlc": stamp(later, s.a.device_id)} }),
    );
    let answer = s.push('a', 0).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.body
    );
    assert_eq!(answer.code(), "clock_skew");
    assert!(s.row("customer", "c1").await.is_none());
    let alerts = s.alerts().await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].kind, AlertKind::ClockAhead);
    assert_eq!(alerts[0].device_id, Some(s.a.device_id));
}

/// Issue 21, deliver 4: an edit of a merged table is taken only from a seat on the roster, not
/// revoked, holding one of the table's writer rights (the registry's `writers`); a sale's stock
/// count needs none. A fact made by a seat revoked in the meantime is taken and flagged.
#[tokio::test]
async fn merged_edits_need_the_writers_right_and_facts_by_a_revoked_seat_are_flagged() {
    let mut s = shop().await;
    let owner = Some(s.owner);
    let da = s.a.device_id;
    let meena = Uuid::now_v7();
    let seat_key = format!("seat/{meena}");
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
    let staff = seat(meena, r#"["counter_staff"]"#, None, hash);
    s.a.write_op(owner, "seat.add", Value::Null, json!({ &seat_key: staff }));
    let customer = json!({"id": "c1", "name": "Asha", "hlc": stamp(1_000, da)});
    s.a.write_op(
        owner,
        "customer.create",
        Value::Null,
        json!({"customer/c1": customer}),
    );
    let product = json!({"id": "p1", "name": "Cover", "price_paise": 29_900, "stock": 10, "hlc": stamp(1_000, da)});
    s.a.write_op(
        owner,
        "product.create",
        Value::Null,
        json!({"product/p1": product}),
    );
    let tenant_id = s.a.tenant_id.to_string();
    let tenant = json!({"id": tenant_id, "name": "Sharma Mobiles"});
    s.a.write_op(
        owner,
        "shop.update",
        Value::Null,
        json!({ format!("tenant/{tenant_id}"): tenant }),
    );
    assert_eq!(s.push('a', 0).await.status, StatusCode::OK);
    assert!(s.alerts().await.is_empty(), "the owner holds every right");

    let edit = |row: &Value, column: &str, value: Value, wall: i64| {
        let mut after = row.clone();
        after[column] = value;
        if after.get("hlc").is_some() {
            after["hlc"] = json!(stamp(wall, da));
        }
        after
    };
    let from = s.a.chain.len();
    // Counter staff may correct a customer, and a sale moves the stock count.
    let renamed = edit(&customer, "name", json!("Asha Patil"), 2_000);
    s.a.write_op(
        Some(meena),
        "customer.update",
        json!({"customer/c1": customer}),
        json!({"customer/c1": renamed}),
    );
    let sold = {
        let mut p = product.clone();
        p["stock"] = json!(9);
        p["updated_at_ms"] = json!(5);
        p
    };
    s.a.write_op(
        Some(meena),
        "invoice.finalize",
        json!({"product/p1": product}),
        json!({"product/p1": sold}),
    );
    // But not a price, the shop's name, or anything in the name of a seat nobody has.
    let repriced = edit(&sold, "price_paise", json!(100), 3_000);
    s.a.write_op(
        Some(meena),
        "product.update",
        json!({"product/p1": sold}),
        json!({"product/p1": repriced}),
    );
    let renamed_shop = edit(&tenant, "name", json!("Mallory's"), 0);
    let tenant_key = format!("tenant/{tenant_id}");
    s.a.write_op(
        Some(meena),
        "shop.update",
        json!({ &tenant_key: tenant }),
        json!({ &tenant_key: renamed_shop }),
    );
    let stranger = Uuid::now_v7();
    let by_stranger = edit(&renamed, "name", json!("Mallory"), 4_000);
    s.a.write_op(
        Some(stranger),
        "customer.update",
        json!({"customer/c1": renamed}),
        json!({"customer/c1": by_stranger}),
    );
    s.a.write_op(
        None,
        "shop.update",
        json!({ &tenant_key: tenant }),
        json!({ &tenant_key: renamed_shop }),
    );
    assert_eq!(s.push('a', from).await.status, StatusCode::OK);

    assert_eq!(s.row("customer", "c1").await.unwrap()["name"], "Asha Patil");
    let p = s.row("product", "p1").await.unwrap();
    assert_eq!(p["price_paise"], 29_900, "the price stays the owner's");
    assert_eq!(
        s.row("tenant", &tenant_id).await.unwrap()["name"],
        "Sharma Mobiles"
    );
    let refused: Vec<OwnerAlert> = s
        .alerts()
        .await
        .into_iter()
        .filter(|a| a.kind == AlertKind::ChangeRefused)
        .collect();
    assert_eq!(refused.len(), 4, "{refused:?}");
    for why in [
        "product.update (this terminal's record 7) changed product/p1 but was made by Meena, whose seat does not hold the right (EditCatalogue)",
        "shop.update (this terminal's record 8) changed tenant/",
        "which is not on the roster",
        "was made by no seat",
    ] {
        assert!(
            refused.iter().any(|a| a.detail.contains(why)),
            "{why}: {refused:?}"
        );
    }

    // The owner revokes her; the sale she made offline before she knew arrives afterwards.
    let from = s.a.chain.len();
    let revoked = seat(meena, r#"["counter_staff"]"#, Some(9), hash);
    s.a.write_op(
        owner,
        "seat.revoke",
        json!({ &seat_key: staff }),
        json!({ &seat_key: revoked }),
    );
    assert_eq!(s.push('a', from).await.status, StatusCode::OK);
    let from = s.b.chain.len();
    s.b.write_op(
        Some(meena),
        "invoice.finalize",
        Value::Null,
        invoice("inv-m", "B1/26-27/000001", s.b.device_id),
    );
    let late = edit(&renamed, "name", json!("Asha P."), 6_000);
    s.b.write_op(
        Some(meena),
        "customer.update",
        json!({"customer/c1": renamed}),
        json!({"customer/c1": late}),
    );
    assert_eq!(s.push('b', from).await.status, StatusCode::OK);
    assert!(
        s.row("invoice", "inv-m").await.is_some(),
        "the sale is in the books"
    );
    assert!(s.row("payment", "inv-m-p").await.is_some());
    assert_eq!(
        s.row("customer", "c1").await.unwrap()["name"],
        "Asha Patil",
        "her later edit is not"
    );
    let alerts = s.alerts().await;
    let flagged: Vec<&OwnerAlert> = alerts
        .iter()
        .filter(|a| a.kind == AlertKind::RevokedSeatFact)
        .collect();
    assert_eq!(flagged.len(), 1, "{alerts:?}");
    assert!(
        flagged[0].detail.contains("invoice.finalize")
            && flagged[0].detail.contains("Meena, whose seat is revoked"),
        "{flagged:?}"
    );
    assert!(
        alerts
            .iter()
            .any(|a| a.kind == AlertKind::ChangeRefused
                && a.detail.contains("whose seat is revoked")),
        "{alerts:?}"
    );
}

/// Issue 21, deliver 1's shared rule: the cloud applies the terminal's own grant rules
/// (`galla_domain::grant_refusal`). A manager given ManageSeats may add counter staff, but not
/// an owner, not a seat holding more than itself, and may not change the owner's seat.
#[tokio::test]
async fn the_cloud_applies_the_terminals_grant_rules() {
    let mut s = shop().await;
    let owner = Some(s.owner);
    let manager = Uuid::now_v7();
    let mut admin = seat(manager, r#"["manager"]"#, None, "h");
    admin["overrides"] = json!(r#"[{"effect":"grant","permission":"manage_seats"}]"#);
    s.a.write_op(
        owner,
        "seat.add",
        Value::Null,
        json!({ format!("seat/{manager}"): admin }),
    );
    assert_eq!(s.push('a', 0).await.status, StatusCode::OK);

    let from = s.a.chain.len();
    let (staff, crowned, exporter) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    s.a.write_op(
        Some(manager),
        "seat.add",
        Value::Null,
        json!({ format!("seat/{staff}"): seat(staff, r#"["counter_staff"]"#, None, "h") }),
    );
    s.a.write_op(
        Some(manager),
        "seat.add",
        Value::Null,
        json!({ format!("seat/{crowned}"): seat(crowned, r#"["owner"]"#, None, "h") }),
    );
    let mut export = seat(exporter, r#"["counter_staff"]"#, None, "h");
    export["overrides"] = json!(r#"[{"effect":"grant","permission":"export_customers"}]"#);
    s.a.write_op(
        Some(manager),
        "seat.add",
        Value::Null,
        json!({ format!("seat/{exporter}"): export }),
    );
    let owner_key = format!("seat/{}", s.owner);
    let owner_row = seat(s.owner, r#"["owner"]"#, None, "h");
    let mut owner_revoked = owner_row.clone();
    owner_revoked["revoked_at_ms"] = json!(9);
    s.a.write_op(
        Some(manager),
        "seat.revoke",
        json!({ &owner_key: owner_row }),
        json!({ &owner_key: owner_revoked }),
    );
    assert_eq!(s.push('a', from).await.status, StatusCode::OK);

    assert!(
        s.row("seat", &staff.to_string()).await.is_some(),
        "counter staff: the manager holds all of it"
    );
    assert!(
        s.row("seat", &crowned.to_string()).await.is_none(),
        "the owner role"
    );
    assert!(
        s.row("seat", &exporter.to_string()).await.is_none(),
        "a permission the manager lacks"
    );
    assert!(
        s.row("seat", &s.owner.to_string()).await.is_none(),
        "the owner's seat holds more than the manager"
    );
    let refused = s
        .alerts()
        .await
        .into_iter()
        .filter(|a| a.kind == AlertKind::SeatChangeRefused)
        .count();
    assert_eq!(refused, 3);
}
