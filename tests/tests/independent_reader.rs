//! The terminal database is standard SQLCipher 4: an independent implementation (Python's
//! `sqlcipher3`, which bundles its own SQLCipher 4) cannot read it without the key or with a
//! wrong one, reads it with the raw key from the keychain, and even then sees PII columns only
//! as ciphertext.
//!
//! The interpreter is `$GALLA_PYTHON` (the test command sets up a venv with `sqlcipher3-binary`),
//! else `python3`.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use galla_client::keys::TerminalKeys;
use galla_client::{
    DataDir, NewCustomer, NewShop, OsKeychain, SecretString, SystemClock, Terminal,
};

const MARKER: &str = "QWPL-INDEPENDENT-4411";

const READER: &str = r#"
import json, sys, sqlcipher3
path = sys.argv[1]
key = sys.stdin.readline().strip()
def attempt(pragma):
    c = sqlcipher3.connect(path)
    try:
        if pragma:
            c.execute(pragma)
        rows = c.execute("SELECT name, hex(phone_ct), hex(email_ct) FROM customer").fetchall()
        return {"ok": True, "rows": rows, "version": c.execute("PRAGMA cipher_version").fetchone()[0]}
    except Exception as e:
        return {"ok": False, "error": str(e)}
    finally:
        c.close()
print(json.dumps({
    "no_key": attempt(None),
    "wrong_key": attempt("PRAGMA key = \"x'" + "11" * 32 + "'\""),
    "right_key": attempt("PRAGMA key = \"x'" + key + "'\""),
}))
"#;

#[test]
fn an_independent_sqlcipher4_reader_needs_the_key_and_still_sees_only_pii_ciphertext() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = DataDir::new(tmp.path().join("shop"));
    let kc = OsKeychain::connect()
        .unwrap_or_else(|e| panic!("run through scripts/keyring-session.sh: {e}"));
    let shop = NewShop {
        shop_name: "Reader Test".into(),
        gstin: None,
        state_code: Some(27),
        owner_name: "Owner".into(),
        owner_passphrase: SecretString::new("independent reader"),
        terminal_name: "Counter 1".into(),
        series_code: "R1".into(),
    };
    let (t, owner) = Terminal::init(&dir, &kc, Arc::new(SystemClock), &shop).unwrap();
    t.add_customer(
        &owner,
        &NewCustomer {
            name: format!("Name {MARKER}"),
            phone: Some("9876543210".into()),
            email: Some(format!("{}@example.in", MARKER.to_lowercase())),
            ..Default::default()
        },
    )
    .unwrap();
    drop(t);
    let key = TerminalKeys::load(&kc, dir.install_id().unwrap().unwrap())
        .unwrap()
        .db
        .to_hex();

    let python = std::env::var("GALLA_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut child = Command::new(&python)
        .args(["-c", READER])
        .arg(dir.db_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{python} not runnable: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{}\n", key.as_str()).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{python} failed (install sqlcipher3-binary, e.g. through the README's test command): {stderr}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    for attempt in ["no_key", "wrong_key"] {
        assert_eq!(v[attempt]["ok"], false, "{attempt}: {v}");
        assert!(
            v[attempt]["error"]
                .as_str()
                .unwrap()
                .contains("not a database"),
            "{attempt}: {v}"
        );
    }
    let right = &v["right_key"];
    assert_eq!(right["ok"], true, "{v}");
    assert!(
        right["version"].as_str().unwrap().starts_with('4'),
        "SQLCipher 4 reader: {v}"
    );
    let row = &right["rows"][0];
    assert_eq!(row[0], format!("Name {MARKER}"));
    let phone_hex = row[1].as_str().unwrap();
    let email_hex = row[2].as_str().unwrap();
    assert!(phone_hex.starts_with("01"), "column format 1");
    assert!(!phone_hex.contains(&hex_of("9876543210")));
    assert!(!email_hex.contains(&hex_of(&MARKER.to_lowercase())));
}

fn hex_of(s: &str) -> String {
    s.bytes()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .to_uppercase()
}
