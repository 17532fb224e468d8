//! Device-signed requests and audit ingestion through the real server (TLS 1.3, PostgreSQL):
//! chains continue, resends are harmless, proofs and checkpoints verify with the key the
//! terminal got at enrollment; forged, replayed, stale, revoked, wiped, wrong-tenant, oversized
//! and malformed requests are refused with the right status and write nothing; equivocation
//! quarantines the device and alerts the owner; rate limits answer 429 with Retry-After.

mod common;
mod support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use galla_proto::api::*;
use galla_proto::audit::AuditRecord;
use galla_proto::checkpoint::{Checkpoint, NoteVerifier};
use galla_proto::merkle::{self, Hash};
use reqwest::{Method, StatusCode};
use support::{Cloud, Terminal, cloud, shop_with_terminal};
use uuid::Uuid;

fn verified(terminal: &Terminal, note: &str) -> Checkpoint {
    let enrolled = terminal.enrolled.as_ref().unwrap();
    NoteVerifier::from_vkey(&enrolled.log_verifier_key)
        .unwrap()
        .verify_checkpoint(note, &enrolled.log_origin)
        .expect("the checkpoint verifies with the key from enrollment")
}

fn hashes(proof: &[String]) -> Vec<Hash> {
    proof
        .iter()
        .map(|h| BASE64.decode(h).unwrap().try_into().unwrap())
        .collect()
}

async fn log_size(cloud: &Cloud, tenant: Uuid) -> i64 {
    cloud
        .db
        .in_tenant(tenant, async |tx| {
            Ok(tx
                .query_one("SELECT size FROM log_state", &[])
                .await?
                .get(0))
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn pushes_continue_the_chain_resends_are_harmless_and_every_proof_verifies() {
    let cloud = cloud().await;
    let (tenant, token, mut one) = shop_with_terminal(&cloud, 1).await;
    let code = cloud.issue_code(&token, None).await;
    let mut two = Terminal::new(2);
    two.enroll(&cloud, &code.code).await;

    one.write(5);
    let a = one.push(&cloud, 0..3).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let first: AuditPushResponse = a.json();
    assert_eq!((first.head_seq, first.appended), (3, 3));
    let cp3 = verified(&one, &first.checkpoint);
    assert_eq!(cp3.size, 3);

    // Records 1-3 again with 4-5: only the new two count.
    let a = one.push(&cloud, 0..5).await;
    let second: AuditPushResponse = a.json();
    assert_eq!((second.head_seq, second.appended), (5, 2));
    two.write(4);
    let a = two.push(&cloud, 0..4).await;
    let third: AuditPushResponse = a.json();
    let cp9 = verified(&two, &third.checkpoint);
    assert_eq!(cp9.size, 9);
    // An identical resend of everything changes nothing.
    let again: AuditPushResponse = one.push(&cloud, 0..5).await.json();
    assert_eq!((again.head_seq, again.appended), (5, 0));
    assert_eq!(verified(&one, &again.checkpoint).size, 9);
    assert_eq!(cloud.count(tenant, "audit_record").await, 9);

    // The newest checkpoint, served on its own, is the same.
    let a = one.get(&cloud, PATH_LOG_CHECKPOINT).await;
    assert_eq!(a.json::<CheckpointResponse>().checkpoint, third.checkpoint);

    // Each terminal's own records are in the log, provably.
    for (terminal, n) in [(&mut one, 5u64), (&mut two, 4)] {
        for seq in 1..=n {
            let a = terminal
                .get(
                    &cloud,
                    &format!("{PATH_LOG_INCLUSION}?seq={seq}&tree_size=9"),
                )
                .await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.body);
            let proof: InclusionResponse = a.json();
            let leaf = merkle::leaf_hash(&terminal.chain[seq as usize - 1].encoded);
            merkle::verify_inclusion(proof.leaf_index, 9, &leaf, &hashes(&proof.proof), &cp9.root)
                .unwrap_or_else(|e| panic!("record {seq}: {e}"));
        }
    }
    // The log only grew: 3 -> 9 is consistent.
    let a = one
        .get(&cloud, &format!("{PATH_LOG_CONSISTENCY}?from=3&to=9"))
        .await;
    let proof: ConsistencyResponse = a.json();
    merkle::verify_consistency(3, 9, &hashes(&proof.proof), &cp3.root, &cp9.root).unwrap();
    // Asking beyond the log, or for a record it does not have, is a clear refusal.
    let a = one
        .get(&cloud, &format!("{PATH_LOG_CONSISTENCY}?from=3&to=10"))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = one
        .get(&cloud, &format!("{PATH_LOG_CONSISTENCY}?from=0&to=9"))
        .await;
    assert_eq!(
        a.status,
        StatusCode::BAD_REQUEST,
        "no proof from the empty log"
    );
    let a = one
        .get(&cloud, &format!("{PATH_LOG_INCLUSION}?seq=6&tree_size=9"))
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = one
        .get(&cloud, &format!("{PATH_LOG_INCLUSION}?seq=x"))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn chain_breaks_are_refused_and_nothing_is_written() {
    let cloud = cloud().await;
    let (tenant, _, mut terminal) = shop_with_terminal(&cloud, 1).await;
    terminal.write(8);
    assert_eq!(terminal.push(&cloud, 0..5).await.status, StatusCode::OK);

    // A gap: 7 before 6.
    let a = terminal.push(&cloud, 6..7).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (StatusCode::CONFLICT, "chain_broken")
    );
    assert!(
        a.body["message"]
            .as_str()
            .unwrap()
            .contains("expected sequence 6"),
        "{}",
        a.body
    );

    // (A validly signed record 6 that does not follow record 5 is not a break but a second
    // history: see the equivocation test.)
    let key = terminal.key.clone();

    // Record 6 signed by another key, or claiming another device.
    let other = Terminal::new(7).key;
    let body = Terminal::push_body(&[terminal.chain[5].record.clone().sign(&other).unwrap()]);
    let r = terminal.signed(&cloud, Method::POST, PATH_AUDIT, &body);
    assert_eq!(cloud.send(r).await.code(), "chain_broken");
    let mut foreign = terminal.chain[5].record.clone();
    foreign.device_id = Uuid::now_v7();
    let body = Terminal::push_body(&[foreign.sign(&key).unwrap()]);
    let r = terminal.signed(&cloud, Method::POST, PATH_AUDIT, &body);
    assert_eq!(cloud.send(r).await.code(), "chain_broken");

    // Out-of-order seqs in one batch, an empty batch, garbage bytes.
    let mut body: serde_json::Value =
        serde_json::from_slice(&Terminal::push_body(&terminal.chain[5..7])).unwrap();
    body["records"].as_array_mut().unwrap().reverse();
    let r = terminal.signed(
        &cloud,
        Method::POST,
        PATH_AUDIT,
        body.to_string().as_bytes(),
    );
    assert_eq!(cloud.send(r).await.status, StatusCode::BAD_REQUEST);
    for bad in [
        serde_json::json!({ "records": [] }),
        serde_json::json!({ "records": [{ "seq": 6, "record": "!!", "signature": "AA==" }] }),
        serde_json::json!({ "records": [{ "seq": 6, "record": "AAAA", "signature": BASE64.encode([0u8; 64]) }] }),
    ] {
        let r = terminal.signed(&cloud, Method::POST, PATH_AUDIT, bad.to_string().as_bytes());
        let a = cloud.send(r).await;
        assert!(a.status.is_client_error(), "{bad}: {}", a.status);
    }

    assert_eq!(cloud.count(tenant, "audit_record").await, 5);
    assert_eq!(log_size(&cloud, tenant).await, 5);
    // The honest continuation is still welcome.
    let a = terminal.push(&cloud, 5..8).await;
    assert_eq!(a.json::<AuditPushResponse>().head_seq, 8);

    // A big batch has its signatures checked on several threads: one bad signature deep in it
    // still refuses the whole batch, naming the record.
    let more = terminal.write(300);
    let mut batch = terminal.chain[more.clone()].to_vec();
    batch[250].signature[10] ^= 1;
    let r = terminal.signed(
        &cloud,
        Method::POST,
        PATH_AUDIT,
        &Terminal::push_body(&batch),
    );
    let a = cloud.send(r).await;
    assert_eq!(a.code(), "chain_broken", "{}", a.body);
    assert!(
        a.body["message"].as_str().unwrap().contains("259"),
        "{}",
        a.body
    );
    assert_eq!(cloud.count(tenant, "audit_record").await, 8);
    let a = terminal.push(&cloud, more).await;
    assert_eq!(a.json::<AuditPushResponse>().head_seq, 308);
}

#[tokio::test]
async fn equivocation_quarantines_the_device_and_alerts_the_owner() {
    let cloud = cloud().await;
    let (tenant, token, mut terminal) = shop_with_terminal(&cloud, 1).await;
    terminal.write(5);
    assert_eq!(terminal.push(&cloud, 0..3).await.status, StatusCode::OK);

    // A client bug that resends record 5's bytes as number 3 is a bad record, not evidence.
    let mut body: serde_json::Value =
        serde_json::from_slice(&Terminal::push_body(&terminal.chain[4..5])).unwrap();
    body["records"][0]["seq"] = 3.into();
    let r = terminal.signed(
        &cloud,
        Method::POST,
        PATH_AUDIT,
        body.to_string().as_bytes(),
    );
    let a = cloud.send(r).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (StatusCode::CONFLICT, "chain_broken")
    );
    assert_eq!(cloud.count(tenant, "owner_alert").await, 0);

    // A second, validly signed record 2 with other contents.
    let mut fork: AuditRecord = terminal.chain[1].record.clone();
    fork.entity_id = "A1/26-27/999999".into();
    let fork = fork.sign(&terminal.key).unwrap();
    let body = Terminal::push_body(std::slice::from_ref(&fork));
    let r = terminal.signed(&cloud, Method::POST, PATH_AUDIT, &body);
    let a = cloud.send(r).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (StatusCode::CONFLICT, "equivocation")
    );

    let alerts: Vec<OwnerAlert> = cloud
        .owner(Method::GET, PATH_OWNER_ALERTS, &token, None)
        .await
        .json();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].kind, AlertKind::Equivocation);
    assert_eq!(alerts[0].device_id, Some(terminal.device_id));
    let evidence: Vec<u8> = cloud
        .db
        .in_tenant(tenant, async |tx| {
            Ok(tx
                .query_one("SELECT evidence FROM owner_alert", &[])
                .await?
                .get(0))
        })
        .await
        .unwrap();
    assert_eq!(
        evidence, fork.encoded,
        "the second record is kept as evidence"
    );
    let devices: Vec<DeviceSummary> = cloud
        .owner(Method::GET, PATH_OWNER_DEVICES, &token, None)
        .await
        .json();
    assert!(devices[0].quarantined);

    // Quarantined: even the honest next record is refused, and nothing was added.
    let a = terminal.push(&cloud, 3..4).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (StatusCode::FORBIDDEN, "device_quarantined")
    );
    assert_eq!(cloud.count(tenant, "audit_record").await, 3);
    // Nor does it read anything of the shop: its feed, the log, its own status (issue 21).
    for path in [
        format!("{PATH_SYNC_CHANGES}?after=0"),
        PATH_LOG_CHECKPOINT.to_owned(),
        PATH_DEVICE_STATUS.to_owned(),
    ] {
        let a = terminal.get(&cloud, &path).await;
        assert_eq!(
            (a.status, a.code().as_str()),
            (StatusCode::FORBIDDEN, "device_quarantined"),
            "{path}"
        );
    }

    // A terminal that rewrote record 3 and re-signed its chain from there pushes record 4 of
    // the new history: it follows a record 3 the server never accepted. That, too, is two
    // histories signed by one key.
    let (_, _, mut rewriter) = shop_with_terminal(&cloud, 2).await;
    rewriter.write(3);
    assert_eq!(rewriter.push(&cloud, 0..3).await.status, StatusCode::OK);
    rewriter.write(1);
    let key = rewriter.key.clone();
    let mut third = rewriter.chain[2].record.clone();
    third.entity_id = "A1/26-27/000999".into();
    rewriter.chain[2] = third.sign(&key).unwrap();
    let mut fourth = rewriter.chain[3].record.clone();
    fourth.prev_hash = rewriter.chain[2].hash;
    rewriter.chain[3] = fourth.sign(&key).unwrap();
    let a = rewriter.push(&cloud, 3..4).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (StatusCode::CONFLICT, "equivocation")
    );
    let a = rewriter.push(&cloud, 3..4).await;
    assert_eq!(a.code(), "device_quarantined");

    // Every tenant table now has rows, and with no tenant set the server's role sees none.
    let (client, conn) = tokio_postgres::connect(
        &cloud
            .cluster
            .connection_string(galla_cloud::db::APP_ROLE, galla_cloud::db::DATABASE),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    for table in common::TENANT_TABLES {
        assert!(cloud.count(tenant, table).await > 0, "{table} has rows");
        let seen: i64 = client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(seen, 0, "{table} without a tenant");
    }
}

#[tokio::test]
async fn forged_replayed_stale_revoked_wiped_wrong_tenant_and_bad_bodies_are_refused() {
    let cloud = cloud().await;
    let (tenant, token, mut terminal) = shop_with_terminal(&cloud, 1).await;
    let (other_tenant, _, mut other) = shop_with_terminal(&cloud, 2).await;
    terminal.write(3);
    other.write(1);
    assert_eq!(other.push(&cloud, 0..1).await.status, StatusCode::OK);

    // Replay: the same signed request twice.
    let body = Terminal::push_body(&terminal.chain[0..1]);
    let request = terminal.signed(&cloud, Method::POST, PATH_AUDIT, &body);
    let replay = request.try_clone().unwrap();
    assert_eq!(cloud.send(request).await.status, StatusCode::OK);
    let a = cloud.send(replay).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (StatusCode::UNAUTHORIZED, "replayed")
    );

    // Forged: signed by a key that is not the device's.
    let mut forger = Terminal::new(9);
    forger.tenant_id = terminal.tenant_id;
    forger.device_id = terminal.device_id;
    let body = Terminal::push_body(&terminal.chain[1..2]);
    let r = forger.signed(&cloud, Method::POST, PATH_AUDIT, &body);
    let a = cloud.send(r).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );

    // Wrong tenant: a valid device naming another shop is nobody there.
    let mut lost = Terminal::new(1);
    lost.tenant_id = other_tenant;
    lost.device_id = terminal.device_id;
    let r = lost.signed(&cloud, Method::POST, PATH_AUDIT, &body);
    assert_eq!(cloud.send(r).await.status, StatusCode::UNAUTHORIZED);
    let a = lost
        .get(&cloud, &format!("{PATH_LOG_INCLUSION}?seq=1&tree_size=1"))
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);

    // Stale: the clock moved on more than five minutes between signing and arrival.
    let r = terminal.signed(&cloud, Method::POST, PATH_AUDIT, &body);
    cloud.clock.advance_ms(5 * 60 * 1000 + 1);
    let a = cloud.send(r).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (StatusCode::UNAUTHORIZED, "clock_skew")
    );

    // Missing headers; a body changed after signing.
    let a = cloud
        .send(cloud.http.post(cloud.url(PATH_AUDIT)).body(body.clone()))
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let r = terminal
        .signed(&cloud, Method::POST, PATH_AUDIT, &body)
        .body(Terminal::push_body(&terminal.chain[1..3]));
    assert_eq!(cloud.send(r).await.status, StatusCode::UNAUTHORIZED);

    // Oversized and malformed bodies.
    let huge = vec![b' '; galla_cloud::server::MAX_BODY_BYTES + 1];
    let r = terminal.signed(&cloud, Method::POST, PATH_AUDIT, &huge);
    let a = cloud.send(r).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
    for bad in [&b"{\"records\": ["[..], b"{\"recs\": []}", b"[]"] {
        let r = terminal.signed(&cloud, Method::POST, PATH_AUDIT, bad);
        let a = cloud.send(r).await;
        assert_eq!(
            (a.status, a.code().as_str()),
            (StatusCode::BAD_REQUEST, "bad_request")
        );
    }
    let a = terminal.get(&cloud, "/v1/no-such-thing").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);

    // Nothing of any of that was written, in either shop.
    assert_eq!(cloud.count(tenant, "audit_record").await, 1);
    assert_eq!(cloud.count(other_tenant, "audit_record").await, 1);
    assert_eq!(log_size(&cloud, tenant).await, 1);

    // Wipe: told so on its next contact, which is recorded.
    let code = cloud.issue_code(&token, None).await;
    let mut spare = Terminal::new(3);
    spare.enroll(&cloud, &code.code).await;
    assert_eq!(
        spare.get(&cloud, PATH_DEVICE_STATUS).await.status,
        StatusCode::OK
    );
    // A stolen terminal is revoked and marked for wipe: it must still hear the wipe.
    for action in ["revoke", "wipe"] {
        let path = format!("{PATH_OWNER_DEVICES}/{}/{action}", spare.device_id);
        assert_eq!(
            cloud.owner(Method::POST, &path, &token, None).await.status,
            StatusCode::NO_CONTENT
        );
    }
    let a = spare.get(&cloud, PATH_DEVICE_STATUS).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (StatusCode::FORBIDDEN, "wipe_requested")
    );
    let told: Option<i64> = cloud
        .db
        .in_tenant(tenant, async |tx| {
            Ok(tx
                .query_one(
                    "SELECT wipe_told_at_ms FROM device WHERE device_id = $1",
                    &[&spare.device_id],
                )
                .await?
                .get(0))
        })
        .await
        .unwrap();
    assert!(told.is_some());

    // Revoked: refused from the very next request.
    let status: DeviceStatus = terminal.get(&cloud, PATH_DEVICE_STATUS).await.json();
    assert_eq!((status.series_code.as_str(), status.audit_seq), ("T1", 1));
    let path = format!("{PATH_OWNER_DEVICES}/{}/revoke", terminal.device_id);
    assert_eq!(
        cloud.owner(Method::POST, &path, &token, None).await.status,
        StatusCode::NO_CONTENT
    );
    let a = terminal.push(&cloud, 1..2).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (StatusCode::FORBIDDEN, "device_revoked")
    );
    assert_eq!(cloud.count(tenant, "audit_record").await, 1);
    // Another shop's owner cannot revoke it (nor learn it exists).
    let path = format!("{PATH_OWNER_DEVICES}/{}/revoke", other.device_id);
    assert_eq!(
        cloud.owner(Method::POST, &path, &token, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other.get(&cloud, PATH_DEVICE_STATUS).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn every_address_and_every_device_has_its_own_token_bucket() {
    let cloud = support::cloud_with(galla_cloud::rate_limit::RateLimitConfig {
        per_device_per_second: 1,
        per_device_burst: 3,
        sensitive_per_minute: 100,
        ..Default::default()
    })
    .await;
    let (_, _, mut terminal) = shop_with_terminal(&cloud, 1).await;
    for _ in 0..3 {
        assert_eq!(
            terminal.get(&cloud, PATH_DEVICE_STATUS).await.status,
            StatusCode::OK
        );
    }
    let a = terminal.get(&cloud, PATH_DEVICE_STATUS).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    assert_eq!(a.headers["retry-after"], "1");

    let cloud = support::cloud_with(galla_cloud::rate_limit::RateLimitConfig {
        per_address_per_second: 1,
        per_address_burst: 4,
        ..Default::default()
    })
    .await;
    for _ in 0..4 {
        let a = cloud.send(cloud.http.get(cloud.url("/healthz"))).await;
        assert_eq!(a.status, StatusCode::OK);
    }
    let a = cloud.send(cloud.http.get(cloud.url("/healthz"))).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(a.headers.contains_key("retry-after"));
}

/// A client that sends headers and then stalls its body gets 408 when the request timeout
/// (two seconds in tests) runs out, and holds nothing open past it.
#[tokio::test]
async fn a_request_that_stalls_is_cut_off_at_the_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let cloud = cloud().await;
    let mut tls = raw_tls(&cloud).await;
    tls.write_all(
        b"POST /v1/tenants HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"shop_name\":",
    )
    .await
    .unwrap();
    let mut answer = String::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        tls.read_to_string(&mut answer),
    )
    .await;
    assert!(read.is_ok(), "the server let a stalled request hang");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

/// A TLS 1.3 connection to the test cloud, trusting its dev CA.
async fn raw_tls(cloud: &Cloud) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, ServerName};
    use std::sync::Arc;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(cloud.dir.path().join("tls/dev-ca.pem")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(cloud.addr).await.unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_request_from_no_enrolled_device_is_refused_before_its_body_is_read() {
    use galla_proto::request_auth::{RequestParts, sign_request};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let cloud = cloud().await;
    // Well-formed, freshly signed headers, by a key no shop enrolled, announcing a 4 MiB body
    // of which only the first bytes ever come: the server must answer without waiting for it.
    let body = vec![b' '; 4 * 1024 * 1024];
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let headers = sign_request(
        &stranger,
        RequestParts {
            method: "POST",
            path_and_query: PATH_AUDIT,
            body: &body,
        },
        Uuid::now_v7(),
        Uuid::now_v7(),
        cloud.clock_ms(),
        [7; 16],
    );
    let mut request = format!(
        "POST {PATH_AUDIT} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers.to_pairs() {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut tls = raw_tls(&cloud).await;
    tls.write_all(request.as_bytes()).await.unwrap();
    tls.write_all(&body[..1024]).await.unwrap();
    tls.flush().await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        let mut buf = [0u8; 4096];
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            match tls.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        read.is_ok(),
        "the server waited for the body of an unknown device: {answer}"
    );
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
}
