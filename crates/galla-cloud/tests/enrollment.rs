//! Onboarding and enrollment through the real server (TLS 1.3, PostgreSQL): a shop signs up,
//! its owner signs in with passphrase and TOTP (each code once, lockout after five failures),
//! issues one-time codes that expire, and terminals redeem them with a proof of their device
//! key and receive their ids, series, the tenant's keys, the roster and the log key. A
//! standalone shop links with its own ids and keys and uploads its history.

mod common;
mod support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::Signer as _;
use galla_proto::api::*;
use reqwest::{Method, StatusCode};
use support::{Cloud, PASSPHRASE, Terminal, cloud};
use uuid::Uuid;

async fn sign_in(cloud: &Cloud, tenant: Uuid, passphrase: &str, code: String) -> support::Answer {
    cloud
        .post(
            PATH_OWNER_SESSION,
            &OwnerSignIn {
                tenant_id: tenant,
                passphrase: passphrase.into(),
                totp_code: code,
            },
        )
        .await
}

/// A tenant key as (purpose, version, bytes).
type Key = (KeyPurpose, u32, Vec<u8>);

fn keys_of(enrolled: &EnrollResponse) -> Vec<Key> {
    enrolled
        .keys
        .iter()
        .map(|k| (k.purpose, k.version, BASE64.decode(&k.key).unwrap()))
        .collect()
}

#[tokio::test]
async fn a_shop_signs_up_its_owner_signs_in_and_terminals_enroll_with_one_time_codes() {
    let cloud = cloud().await;
    let (created, totp) = cloud.create_shop(None).await;
    let tenant = created.tenant_id;
    assert!(
        created
            .owner_totp_uri
            .starts_with("otpauth://totp/Galla:Ravi%20Sharma?")
    );
    assert!(created.enrolled.is_none());

    // The passphrase and the code must both be right, and a code works once.
    cloud.clock.advance_ms(30_000);
    let code = cloud.code_at(&totp, 0);
    let wrong = sign_in(&cloud, tenant, "not the passphrase", code.clone()).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.code(), "unauthenticated");
    let wrong = sign_in(&cloud, tenant, PASSPHRASE, "000000".into()).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let ok = sign_in(&cloud, tenant, PASSPHRASE, code.clone()).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let token = ok.json::<OwnerSession>().token;
    let replay = sign_in(&cloud, tenant, PASSPHRASE, code).await;
    assert_eq!(
        replay.status,
        StatusCode::UNAUTHORIZED,
        "a used code is refused"
    );
    let unknown = sign_in(&cloud, Uuid::now_v7(), PASSPHRASE, cloud.code_at(&totp, 1)).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        unknown.body["message"], wrong.body["message"],
        "no shop is revealed"
    );

    // Terminal 1: the next free series, the tenant's keys, the roster, the log's key.
    let first_code = cloud.issue_code(&token, None).await;
    assert_eq!(first_code.series_code, "T1");
    assert_eq!(first_code.code.len(), 11);
    let mut one = Terminal::new(1);
    let a = one.enroll(&cloud, &first_code.code.to_lowercase()).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let e1 = one.enrolled.clone().unwrap();
    assert_eq!((e1.tenant_id, e1.series_code.as_str()), (tenant, "T1"));
    let keys = keys_of(&e1);
    assert_eq!(
        keys.iter()
            .map(|(p, v, k)| (*p, *v, k.len()))
            .collect::<Vec<_>>(),
        vec![(KeyPurpose::BlindIndex, 1, 32), (KeyPurpose::Data, 1, 32)]
    );
    assert_eq!(e1.seats.len(), 1);
    assert_eq!(e1.seats[0].seat_id, created.owner_seat_id);
    assert_eq!(e1.seats[0].roles, vec!["owner"]);
    assert_eq!(e1.log_origin, format!("galla-cloud.test/{tenant}"));
    assert!(e1.log_verifier_key.starts_with("galla-cloud.test+"));

    // The code is spent: another terminal cannot use it.
    let mut intruder = Terminal::new(9);
    let again = intruder.enroll(&cloud, &first_code.code).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert_eq!(cloud.count(tenant, "device").await, 1);

    // Terminal 2 with a chosen series gets the same keys; T1 cannot be chosen again.
    let clash = cloud
        .owner(
            Method::POST,
            PATH_OWNER_ENROLLMENT_CODES,
            &token,
            Some(&serde_json::json!({ "series_code": "T1" })),
        )
        .await;
    assert_eq!(clash.status, StatusCode::CONFLICT, "{}", clash.body);
    let bad_series = cloud
        .owner(
            Method::POST,
            PATH_OWNER_ENROLLMENT_CODES,
            &token,
            Some(&serde_json::json!({ "series_code": "b-2" })),
        )
        .await;
    assert_eq!(bad_series.status, StatusCode::BAD_REQUEST);
    let second_code = cloud.issue_code(&token, Some("B2")).await;
    let mut two = Terminal::new(2);
    assert_eq!(
        two.enroll(&cloud, &second_code.code).await.status,
        StatusCode::CREATED
    );
    let e2 = two.enrolled.clone().unwrap();
    assert_eq!(e2.series_code, "B2");
    assert_eq!(keys_of(&e2), keys);
    assert_ne!(e2.device_id, e1.device_id);

    // The same device key cannot enroll twice.
    let third_code = cloud.issue_code(&token, None).await;
    assert_eq!(third_code.series_code, "T2");
    let dup = Terminal::new(1).enroll(&cloud, &third_code.code).await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.body);

    let devices = cloud
        .owner(Method::GET, PATH_OWNER_DEVICES, &token, None)
        .await;
    let devices: Vec<DeviceSummary> = devices.json();
    assert_eq!(
        devices
            .iter()
            .map(|d| d.series_code.as_str())
            .collect::<Vec<_>>(),
        vec!["T1", "B2"]
    );

    // The database holds the tenant's keys wrapped, never as they were handed out.
    let stored: Vec<Vec<u8>> = cloud
        .db
        .in_tenant(tenant, async |tx| {
            Ok(tx
                .query("SELECT wrapped FROM tenant_key", &[])
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect())
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    for wrapped in &stored {
        for (_, _, key) in &keys {
            assert!(!wrapped.windows(32).any(|w| w == key.as_slice()));
        }
    }
}

#[tokio::test]
async fn codes_expire_and_bad_proofs_malformed_codes_and_stale_tokens_are_refused() {
    let cloud = cloud().await;
    let (created, totp) = cloud.create_shop(None).await;
    let token = cloud.owner_sign_in(created.tenant_id, &totp).await;

    let code = cloud.issue_code(&token, None).await;
    cloud.clock.advance_ms(15 * 60 * 1000 + 1);
    let late = Terminal::new(1).enroll(&cloud, &code.code).await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED, "expired");
    assert!(
        late.body["message"]
            .as_str()
            .unwrap()
            .contains("ask the owner for a new one")
    );

    // The owner's token lived 15 minutes too.
    let stale = cloud
        .owner(Method::GET, PATH_OWNER_DEVICES, &token, None)
        .await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
    let token = cloud.owner_sign_in(created.tenant_id, &totp).await;
    let mut tampered = token.clone();
    tampered.pop();
    tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
    for bad in [tampered.as_str(), "nonsense", ""] {
        let a = cloud
            .owner(Method::GET, PATH_OWNER_DEVICES, bad, None)
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{bad}");
    }
    // Another shop's id in front of this shop's secret is nobody.
    let (other, _) = cloud.create_shop(None).await;
    let (_, secret) = token.split_once('.').unwrap();
    let swapped = format!("{}.{secret}", other.tenant_id);
    let a = cloud
        .owner(Method::GET, PATH_OWNER_DEVICES, &swapped, None)
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);

    let code = cloud.issue_code(&token, None).await;
    // A proof made with another key does not enroll this one.
    let honest = Terminal::new(1);
    let mut request = honest.enroll_request(&code.code);
    request.proof = Terminal::new(2).enroll_request(&code.code).proof;
    let forged = cloud.post(PATH_ENROLL, &request).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    for (bad_code, status) in [
        ("ABC", StatusCode::BAD_REQUEST),
        // U is not in Crockford base32; I, L and O read as 1, 1 and 0 (a well-formed code
        // that was never issued).
        ("UUUUU-UUUUU", StatusCode::BAD_REQUEST),
        ("IIIII-OOOOO", StatusCode::UNAUTHORIZED),
        ("00000-00000", StatusCode::UNAUTHORIZED),
    ] {
        let a = cloud
            .post(PATH_ENROLL, &Terminal::new(3).enroll_request(bad_code))
            .await;
        assert_eq!(a.status, status, "{bad_code}: {}", a.body);
    }
    let malformed = cloud
        .post(PATH_ENROLL, &serde_json::json!({ "code": 5 }))
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.code(), "bad_request");
    assert_eq!(cloud.count(created.tenant_id, "device").await, 0);
    // The genuine terminal still can.
    let a = Terminal::new(1).enroll(&cloud, &code.code).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
}

#[tokio::test]
async fn five_wrong_sign_ins_lock_that_source_out_for_fifteen_minutes() {
    let cloud = cloud().await;
    let (created, totp) = cloud.create_shop(None).await;
    let tenant = created.tenant_id;
    for _ in 0..5 {
        cloud.clock.advance_ms(30_000);
        let a = sign_in(
            &cloud,
            tenant,
            "a wrong passphrase",
            cloud.code_at(&totp, 0),
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    cloud.clock.advance_ms(30_000);
    let locked = sign_in(&cloud, tenant, PASSPHRASE, cloud.code_at(&totp, 0)).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(locked.code(), "sign_in_locked");
    assert!(
        locked.body["message"]
            .as_str()
            .unwrap()
            .contains("15 minutes"),
        "{}",
        locked.body
    );
    // The lock is on that source, not on the owner: a stranger who knows the tenant id cannot
    // lock the owner out from everywhere.
    let elsewhere = support::https_client(
        &cloud.dir.path().join("tls/dev-ca.pem"),
        Some("127.0.0.2".parse().unwrap()),
    );
    let request = OwnerSignIn {
        tenant_id: tenant,
        passphrase: PASSPHRASE.into(),
        totp_code: cloud.code_at(&totp, 0),
    };
    let a = cloud
        .send(elsewhere.post(cloud.url(PATH_OWNER_SESSION)).json(&request))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);

    // Six wrong guesses at once are each counted: five fail, the sixth finds the lock.
    let (other, _) = cloud.create_shop(None).await;
    let guess = || {
        sign_in(
            &cloud,
            other.tenant_id,
            "a wrong passphrase",
            "123456".into(),
        )
    };
    let answers = tokio::join!(guess(), guess(), guess(), guess(), guess(), guess());
    let answers = [
        answers.0, answers.1, answers.2, answers.3, answers.4, answers.5,
    ];
    assert_eq!(
        answers
            .iter()
            .filter(|a| a.code() == "sign_in_locked")
            .count(),
        1,
        "{:?}",
        answers.iter().map(|a| a.code()).collect::<Vec<_>>()
    );

    cloud.clock.advance_ms(15 * 60 * 1000);
    let ok = sign_in(&cloud, tenant, PASSPHRASE, cloud.code_at(&totp, 0)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}

#[tokio::test]
async fn sign_up_refuses_bad_input_and_the_sensitive_routes_are_rate_limited() {
    let cloud = support::cloud_with(galla_cloud::rate_limit::RateLimitConfig {
        sensitive_per_minute: 3,
        ..Default::default()
    })
    .await;
    let request = |passphrase: &str, shop: &str| CreateTenantRequest {
        shop_name: shop.into(),
        owner_name: "Ravi".into(),
        owner_passphrase: passphrase.into(),
        link: None,
    };
    let short = cloud.post(PATH_TENANTS, &request("short", "Shop")).await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(
        !short.body.to_string().contains("short\""),
        "the passphrase is not echoed"
    );
    let unnamed = cloud.post(PATH_TENANTS, &request(PASSPHRASE, "  ")).await;
    assert_eq!(unnamed.status, StatusCode::BAD_REQUEST);
    let ok = cloud.post(PATH_TENANTS, &request(PASSPHRASE, "Shop")).await;
    assert_eq!(ok.status, StatusCode::CREATED);
    let limited = cloud.post(PATH_TENANTS, &request(PASSPHRASE, "Shop")).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.code(), "rate_limited");
    assert!(limited.headers.contains_key("retry-after"));
    let limited = cloud
        .post(PATH_ENROLL, &Terminal::new(1).enroll_request("00000-00000"))
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
}

/// A standalone shop's terminal, as it exists before linking: its own tenant id, device id,
/// keys, seats and a history of audit records.
fn standalone(seed: u8) -> (Terminal, LinkShop, Vec<Key>) {
    let mut terminal = Terminal::new(seed);
    terminal.tenant_id = Uuid::now_v7();
    terminal.device_id = Uuid::now_v7();
    terminal.write(40);
    let keys = vec![
        (KeyPurpose::BlindIndex, 1, vec![5u8; 32]),
        (KeyPurpose::Data, 1, vec![6u8; 32]),
        (KeyPurpose::Data, 2, vec![7u8; 32]),
    ];
    let public = terminal.key.verifying_key().to_bytes();
    let link = LinkShop {
        tenant_id: terminal.tenant_id,
        device_id: terminal.device_id,
        keys: keys
            .iter()
            .map(|(purpose, version, key)| TenantKey {
                purpose: *purpose,
                version: *version,
                key: BASE64.encode(key),
            })
            .collect(),
        device_public_key: terminal.public_b64(),
        series_code: "A1".into(),
        proof: BASE64.encode(
            terminal
                .key
                .sign(&link_proof_message(
                    terminal.tenant_id,
                    terminal.device_id,
                    &public,
                ))
                .to_bytes(),
        ),
        seats: vec![SeatSummary {
            seat_id: Uuid::now_v7(),
            display_name: "Asha".into(),
            roles: vec!["counter_staff".into()],
            revoked: false,
        }],
        owner_seat_id: Uuid::now_v7(),
    };
    (terminal, link, keys)
}

#[tokio::test]
async fn a_standalone_shop_links_with_its_own_ids_and_keys_and_uploads_its_history() {
    let cloud = cloud().await;
    let (mut terminal, link, keys) = standalone(4);

    // A proof by another key links nothing.
    let mut forged = link.clone();
    forged.proof = standalone(5).1.proof;
    let a = cloud
        .post(
            PATH_TENANTS,
            &CreateTenantRequest {
                shop_name: "Sharma Mobiles".into(),
                owner_name: "Ravi".into(),
                owner_passphrase: PASSPHRASE.into(),
                link: Some(forged),
            },
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(cloud.count(terminal.tenant_id, "tenant").await, 0);

    let (created, totp) = cloud.create_shop(Some(link.clone())).await;
    assert_eq!(created.tenant_id, terminal.tenant_id);
    assert_eq!(created.owner_seat_id, link.owner_seat_id);
    let enrolled = created
        .enrolled
        .clone()
        .expect("the linking terminal is enrolled");
    assert_eq!(enrolled.device_id, terminal.device_id);
    assert_eq!(enrolled.series_code, "A1");
    assert_eq!(keys_of(&enrolled), keys);
    terminal.adopt(enrolled);

    // Its history goes up as ordinary audit records, from sequence 1.
    let a = terminal.push(&cloud, 0..25).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let a = terminal.push(&cloud, 25..40).await;
    assert_eq!(a.json::<AuditPushResponse>().head_seq, 40);

    // A second terminal joins by code and gets the shop's own keys and roster.
    let token = cloud.owner_sign_in(created.tenant_id, &totp).await;
    let code = cloud.issue_code(&token, None).await;
    let mut second = Terminal::new(6);
    assert_eq!(
        second.enroll(&cloud, &code.code).await.status,
        StatusCode::CREATED
    );
    let e2 = second.enrolled.clone().unwrap();
    assert_eq!(keys_of(&e2), keys);
    let mut names: Vec<_> = e2.seats.iter().map(|s| s.display_name.as_str()).collect();
    names.sort();
    assert_eq!(names, vec!["Asha", "Ravi Sharma"]);

    // Linking the same shop again is refused.
    let again = cloud
        .post(
            PATH_TENANTS,
            &CreateTenantRequest {
                shop_name: "Sharma Mobiles".into(),
                owner_name: "Ravi".into(),
                owner_passphrase: PASSPHRASE.into(),
                link: Some(link),
            },
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
}

/// Issue 21: someone who knows the passphrase and holds many addresses cannot try code after
/// code. Wrong codes with the right passphrase are counted for the tenant, whatever the
/// source: the fifth locks owner sign-in for 15 minutes, the tenth (with no sign-in between)
/// for 30, and the owner is told each time; a right code clears the count.
#[tokio::test]
async fn wrong_codes_with_the_right_passphrase_lock_the_tenant_with_a_doubling_back_off() {
    let cloud = cloud().await;
    let (created, totp) = cloud.create_shop(None).await;
    let tenant = created.tenant_id;
    let request = |code: String| OwnerSignIn {
        tenant_id: tenant,
        passphrase: PASSPHRASE.into(),
        totp_code: code,
    };
    let right = cloud.code_at(&totp, 0);
    let wrong_code = if right == "000000" {
        "000001"
    } else {
        "000000"
    }
    .to_owned();
    // Each guess from its own address: the per-source lock never trips.
    let mut address = 10u8;
    let mut from_new_address = async |code: String| {
        address += 1;
        let client = support::https_client(
            &cloud.dir.path().join("tls/dev-ca.pem"),
            Some(format!("127.0.{address}.1").parse().unwrap()),
        );
        cloud
            .send(
                client
                    .post(cloud.url(PATH_OWNER_SESSION))
                    .json(&request(code)),
            )
            .await
    };
    let guessing = async |cloud: &Cloud| {
        cloud
            .db
            .in_tenant(tenant, async |tx| {
                Ok(tx
                    .query_one(
                        "SELECT count(*) FROM owner_alert WHERE kind = 'second_factor_guessing'",
                        &[],
                    )
                    .await?
                    .get::<_, i64>(0))
            })
            .await
            .unwrap()
    };
    for _ in 0..5 {
        let a = from_new_address(wrong_code.clone()).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);
    }
    assert_eq!(guessing(&cloud).await, 1);
    let locked = from_new_address(cloud.code_at(&totp, 0)).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.body
    );
    assert_eq!(locked.code(), "sign_in_locked");
    assert!(
        locked.body["message"]
            .as_str()
            .unwrap()
            .contains("15 minutes"),
        "{}",
        locked.body
    );

    // Unlocked after 15 minutes; five more wrong codes lock it for 30.
    cloud.clock.advance_ms(15 * 60 * 1000);
    for _ in 0..5 {
        let a = from_new_address(wrong_code.clone()).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);
    }
    assert_eq!(guessing(&cloud).await, 2);
    cloud.clock.advance_ms(15 * 60 * 1000);
    let still = from_new_address(cloud.code_at(&totp, 0)).await;
    assert_eq!(
        still.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        still.body
    );
    cloud.clock.advance_ms(15 * 60 * 1000);
    let ok = from_new_address(cloud.code_at(&totp, 0)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);

    // The count starts again after a sign-in: four wrong codes lock nothing.
    cloud.clock.advance_ms(30_000);
    for _ in 0..4 {
        let a = from_new_address(wrong_code.clone()).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    cloud.clock.advance_ms(30_000);
    let ok = from_new_address(cloud.code_at(&totp, 0)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(guessing(&cloud).await, 2);
}
