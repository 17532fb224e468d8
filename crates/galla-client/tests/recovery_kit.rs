//! The recovery kit on the real keychain and the real encrypted store: a keychain that lost the
//! terminal's keys gets them back from the kit and the owner's code, and nothing else does:
//! a wrong or mistyped code, another folder's kit, an altered kit, an old kit's code.

mod common;

use base64::Engine;
use common::Fixture;
use galla_client::keys::{self, TerminalKeys};
use galla_client::{Error, SecretStore, SecretString, Terminal};

fn lose_keychain(fx: &Fixture) {
    let install = fx.data.install_id().unwrap().unwrap();
    TerminalKeys::erase(&fx.keychain, install).unwrap();
}

fn recover(fx: &Fixture, code: &str) -> galla_client::Result<Terminal> {
    Terminal::recover(
        &fx.data,
        &fx.keychain,
        fx.clock.clone(),
        &SecretString::new(code),
    )
}

fn kit_path(fx: &Fixture) -> std::path::PathBuf {
    galla_client::recovery::kit_path(&fx.data)
}

/// Another code of the right shape, differing from `code` in its last symbol.
fn another_code(code: &str) -> String {
    let mut other = code.to_owned();
    let last = other.pop().unwrap();
    other.push(if last == 'Z' { 'Y' } else { 'Z' });
    other
}

#[test]
fn a_lost_keychain_is_restored_from_the_kit_and_the_owners_code() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    let ravi = t
        .add_customer(&owner, &common::customer("Ravi Kumar", "98450 12345"))
        .unwrap();
    let before = t.status().unwrap();
    assert_eq!(
        (before.recovery_kit.made_at_ms, before.recovery_kit.on_disk),
        (None, false)
    );

    let code = t.create_recovery_kit(&owner).unwrap();
    let status = t.status().unwrap();
    assert_eq!(status.recovery_kit.made_at_ms, Some(common::T0_MS));
    assert!(status.recovery_kit.on_disk);
    assert_eq!(
        status.audit_records,
        before.audit_records + 1,
        "making a kit is one audited operation"
    );
    let action: String = fx
        .raw()
        .query_row(
            "SELECT action FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(action, "recovery_kit.create");

    // The kit holds no key in any readable form, and only its owner may read the file.
    let kit = std::fs::read(kit_path(&fx)).unwrap();
    let install = fx.data.install_id().unwrap().unwrap();
    for entry in [keys::DB_KEY, keys::WRAP_KEY, keys::DEVICE_KEY] {
        let key = fx
            .keychain
            .get(&keys::account(install, entry))
            .unwrap()
            .unwrap();
        for form in [
            key.to_vec(),
            hex::encode(&key[..]).into_bytes(),
            base64::engine::general_purpose::STANDARD
                .encode(&key[..])
                .into_bytes(),
        ] {
            assert!(!common::contains(&kit, &form), "{entry} is in the kit");
        }
    }
    assert!(!common::contains(&kit, code.expose().as_bytes()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(kit_path(&fx))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    drop(t);

    // The keychain loses the keys (a reset login keyring, the folder copied to a new laptop).
    lose_keychain(&fx);
    assert!(matches!(fx.open().unwrap_err(), Error::KeyMissing { .. }));

    // A slip of the pen is named at once; a wrong code opens nothing; neither writes anything.
    assert!(matches!(
        recover(&fx, "7K2QM-0A1BC"),
        Err(Error::RecoveryCodeMalformed)
    ));
    assert!(matches!(
        recover(&fx, &another_code(code.expose())),
        Err(Error::RecoveryCodeWrong)
    ));
    assert!(
        fx.keychain
            .get(&keys::account(install, keys::DB_KEY))
            .unwrap()
            .is_none()
    );

    // The right code, typed in lower case without its dashes, puts everything back.
    let typed = code.expose().replace('-', "").to_lowercase();
    let t = recover(&fx, &typed).unwrap();
    let owner = common::sign_in_owner(&t);
    assert_eq!(t.customer(&owner, ravi).unwrap().name, "Ravi Kumar");
    // The chain goes on under the same device key: the next write verifies with the rest.
    t.add_customer(&owner, &common::customer("Asha Devi", "98450 54321"))
        .unwrap();
    let report = t.verify_audit(&owner).unwrap();
    let records = t.status().unwrap().audit_records;
    assert!(records >= before.audit_records + 2);
    assert_eq!((report.verified, report.problem), (records, None));
    drop(t);
    assert!(fx.open().is_ok(), "the keychain holds the keys again");
}

#[test]
fn a_kit_opens_only_with_its_newest_code_in_its_own_folder_and_unaltered() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    assert!(matches!(
        recover(&fx, "7K2QM-0A1BC-DEFGH-JKMNP-QRSTV"),
        Err(Error::NoRecoveryKit { .. })
    ));
    let first = t.create_recovery_kit(&owner).unwrap();
    let second = t.create_recovery_kit(&owner).unwrap();
    assert_ne!(first.expose(), second.expose());
    drop(t);
    lose_keychain(&fx);
    assert!(
        matches!(recover(&fx, first.expose()), Err(Error::RecoveryCodeWrong)),
        "a new kit replaces the old one, and its code"
    );

    // Another shop's folder (its own install) does not take this kit.
    let other = Fixture::new();
    drop(other.init());
    std::fs::copy(kit_path(&fx), kit_path(&other)).unwrap();
    assert!(matches!(
        recover(&other, second.expose()),
        Err(Error::RecoveryKitNotThisTerminal)
    ));

    // Altered: the sealed keys, or the ids they are bound to, and the code no longer opens it.
    let pristine = std::fs::read_to_string(kit_path(&fx)).unwrap();
    let kit: serde_json::Value = serde_json::from_str(&pristine).unwrap();
    let mut flipped = kit.clone();
    let sealed = kit["sealed"].as_str().unwrap();
    let mut bytes = base64::engine::general_purpose::STANDARD
        .decode(sealed)
        .unwrap();
    bytes[20] ^= 1;
    flipped["sealed"] = base64::engine::general_purpose::STANDARD
        .encode(&bytes)
        .into();
    let mut moved = kit.clone();
    moved["device_id"] = uuid::Uuid::now_v7().to_string().into();
    for altered in [flipped, moved] {
        std::fs::write(kit_path(&fx), altered.to_string()).unwrap();
        assert!(matches!(
            recover(&fx, second.expose()),
            Err(Error::RecoveryCodeWrong)
        ));
    }
    // Not a kit at all, or one asking for 4 GiB of Argon2 memory: refused before any work.
    let mut greedy = kit.clone();
    greedy["argon2id"]["m_kib"] = (4u64 << 20).into();
    for junk in [
        "not json".to_owned(),
        greedy.to_string(),
        " ".repeat(10_000),
    ] {
        std::fs::write(kit_path(&fx), junk).unwrap();
        assert!(matches!(
            recover(&fx, second.expose()),
            Err(Error::RecoveryKitDamaged { .. })
        ));
    }
    assert!(matches!(fx.open().unwrap_err(), Error::KeyMissing { .. }));

    std::fs::write(kit_path(&fx), pristine).unwrap();
    assert!(recover(&fx, second.expose()).is_ok());
}

#[test]
fn only_the_owner_makes_a_kit() {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    let clerk = common::counter_staff(&t, &owner);
    assert!(matches!(
        t.create_recovery_kit(&clerk),
        Err(Error::PermissionDenied { .. })
    ));
    assert!(!t.status().unwrap().recovery_kit.on_disk);
}
