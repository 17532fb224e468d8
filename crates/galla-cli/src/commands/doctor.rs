//! `galla-cli doctor`: keychain, keys, database, schema, pages and audit chain, one by one.

use std::sync::Arc;

use galla_client::{DataDir, OsKeychain, SecretStore, SystemClock, doctor};

use crate::session::{Failure, json};

pub(crate) fn run(dir: &DataDir, as_json: bool) -> Result<(), Failure> {
    let keychain = OsKeychain::connect().map(|k| Arc::new(k) as Arc<dyn SecretStore>);
    let report = doctor(dir, keychain, Arc::new(SystemClock));
    if as_json {
        println!("{}", json(&report));
    } else {
        for c in &report.checks {
            println!(
                "{} {:<12} {}",
                match (c.ok, c.warning) {
                    (false, _) => "FAIL",
                    (true, true) => "WARN",
                    (true, false) => "ok  ",
                },
                c.name,
                c.detail
            );
        }
    }
    if report.healthy() {
        Ok(())
    } else {
        Err(Failure::Found("doctor found a problem (see above)".into()))
    }
}
