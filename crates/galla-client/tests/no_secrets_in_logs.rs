//! No session token, PIN, passphrase, secret hash, TOTP secret or recovery code reaches the
//! logs or an error message. Every log line the engine emits at TRACE level during a day of
//! seat work (sign-ins good and bad, lockout, second factor, resets, revocation) is captured,
//! together with every error's Display and Debug, and searched for each secret.
//!
//! One test per file: it installs the process-wide log subscriber.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{Fixture, OWNER_PASSPHRASE};
use galla_client::{
    Clock, NewSeat, Role, SecondFactor, SecretKind, SecretString, SessionToken, Terminal,
};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const PIN: &str = "739102";
const NEW_PIN: &str = "846203";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn secrets_never_reach_logs_or_error_strings() {
    let captured = Captured::default();
    let sink = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .init();

    let fx = Fixture::new();
    let (t, owner): (Terminal, SessionToken) = fx.init();
    let mut errors: Vec<String> = Vec::new();
    let mut note = |r: Result<(), galla_client::Error>| {
        if let Err(e) = r {
            errors.push(format!("{e} | {e:?}"));
        }
    };

    let staff = t
        .add_seat(
            &owner,
            &NewSeat {
                display_name: "Asha".into(),
                roles: vec![Role::CounterStaff],
                overrides: vec![],
                secret_kind: SecretKind::Pin,
                secret: SecretString::new(PIN),
            },
        )
        .unwrap();
    // Wrong PINs into a lockout, then the right one refused while locked.
    for wrong in ["111222", "222333", "333444", "444555", "555666"] {
        note(t.sign_in(staff, &SecretString::new(wrong), None).map(drop));
    }
    note(t.sign_in(staff, &SecretString::new(PIN), None).map(drop));
    fx.clock.advance_ms(30_000);
    let signed = t.sign_in(staff, &SecretString::new(PIN), None).unwrap();
    let staff_token = signed.token;
    let debug_views = format!(
        "{signed_session:?} {staff_token:?}",
        signed_session = signed.session
    );

    // The owner sets up a second factor and uses a recovery code.
    let setup = t.begin_second_factor(&owner).unwrap();
    let code = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(setup.secret_base32.expose()).unwrap())
        .build()
        .unwrap()
        .generate((fx.clock.now_ms() / 1000) as u64)
        .to_string();
    note(
        t.confirm_second_factor(&owner, &SecretString::new("000000"))
            .map(drop),
    );
    let codes = t
        .confirm_second_factor(&owner, &SecretString::new(&code))
        .unwrap();
    let debug_views = format!("{debug_views} {setup:?} {codes:?}");
    let owner_seat = t.session_info(&owner).unwrap().seat_id;
    let pass = SecretString::new(OWNER_PASSPHRASE);
    note(t.sign_in(owner_seat, &pass, None).map(drop));
    let bad = SecondFactor::RecoveryCode(SecretString::new("AAAA-BBBB-CCCC-DDDD"));
    note(t.sign_in(owner_seat, &pass, Some(&bad)).map(drop));
    let good = SecondFactor::RecoveryCode(SecretString::new(codes[0].expose()));
    let owner2 = t.sign_in(owner_seat, &pass, Some(&good)).unwrap().token;
    note(t.sign_in(owner_seat, &pass, Some(&good)).map(drop));

    // Resets, wrong current secrets, revocation, a dead token.
    note(t.reset_seat_secret(
        &owner2,
        staff,
        SecretKind::Pin,
        &SecretString::new("123456"),
    ));
    t.reset_seat_secret(&owner2, staff, SecretKind::Pin, &SecretString::new(NEW_PIN))
        .unwrap();
    note(t.change_own_secret(
        &staff_token,
        &SecretString::new(PIN),
        SecretKind::Pin,
        &SecretString::new(PIN),
    ));
    note(
        t.reauthenticate(&staff_token, &SecretString::new(PIN))
            .map(drop),
    );
    t.revoke_seat(&owner2, staff).unwrap();
    note(t.touch(&staff_token).map(drop));
    note(
        t.sign_in(staff, &SecretString::new(NEW_PIN), None)
            .map(drop),
    );
    note(
        t.unlock(&owner, &SecretString::new("wrong passphrase"))
            .map(drop),
    );

    // The stored secrets, read back with the key, to search for.
    let (hashes, totp_ct): (Vec<String>, Vec<Vec<u8>>) = t
        .with_reader(|c| {
            let mut st = c.prepare("SELECT secret_hash, totp_ct FROM seat")?;
            let rows: Vec<(String, Option<Vec<u8>>)> = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok((
                rows.iter().map(|r| r.0.clone()).collect(),
                rows.into_iter().filter_map(|r| r.1).collect(),
            ))
        })
        .unwrap();
    assert_eq!(hashes.len(), 2);
    assert_eq!(totp_ct.len(), 1);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("failed sign-in"),
        "the engine does log: {logs}"
    );
    assert!(errors.len() >= 12, "{errors:#?}");
    let haystack = format!("{logs}\n{}\n{debug_views}", errors.join("\n"));

    let mut secrets: Vec<(String, String)> = vec![
        ("staff PIN".into(), PIN.into()),
        ("new staff PIN".into(), NEW_PIN.into()),
        ("owner passphrase".into(), OWNER_PASSPHRASE.into()),
        ("TOTP secret".into(), setup.secret_base32.expose().into()),
        ("TOTP URI".into(), setup.otpauth_uri.expose().into()),
    ];
    for (who, token) in [
        ("owner", &owner),
        ("owner again", &owner2),
        ("staff", &staff_token),
    ] {
        let raw = token.expose_for_tests();
        secrets.push((format!("{who} token (hex)"), hex(&raw)));
        secrets.push((format!("{who} token (bytes)"), format!("{raw:?}")));
    }
    for (i, h) in hashes.iter().enumerate() {
        secrets.push((format!("hash {i}"), h.clone()));
        // The salt and digest parts alone, too.
        for part in h.split('$').filter(|p| p.len() > 16) {
            secrets.push((format!("hash {i} part"), part.into()));
        }
    }
    secrets.push(("TOTP ciphertext".into(), hex(&totp_ct[0])));
    for (i, c) in codes.iter().enumerate() {
        secrets.push((format!("recovery code {i}"), c.expose().into()));
        secrets.push((format!("recovery code {i}"), c.expose().replace('-', "")));
    }
    for (what, s) in &secrets {
        assert!(
            !haystack.contains(s.as_str()),
            "{what} appears in logs or errors"
        );
    }
}
