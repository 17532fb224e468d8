//! `galla-cli sync`: one sync with the shop's cloud now. Exit 1 when the cloud's log failed
//! a check (an alarm for the owner).

use galla_client::DataDir;

use crate::session::{Failure, open_with_keychain};

pub(crate) fn run(dir: &DataDir, as_json: bool) -> Result<(), Failure> {
    let (t, keychain) = open_with_keychain(dir)?;
    let r = t.sync_pass(&keychain)?;
    if as_json {
        println!(
            "{}",
            serde_json::json!({
                "pushed": r.pushed,
                "server_seq": r.server_seq,
                "checkpoint_size": r.checkpoint_size,
                "pulled": {
                    "written": r.pulled.written,
                    "kept_local": r.pulled.kept_local,
                    "skipped": r.pulled.skipped,
                },
                "alarms": r.alarms,
            })
        );
    } else {
        println!(
            "sent {} record{}; the cloud holds this terminal's chain to {}",
            r.pushed,
            if r.pushed == 1 { "" } else { "s" },
            r.server_seq
        );
        println!("cloud log checked to {} records", r.checkpoint_size);
        println!(
            "took in {} rows ({} kept for this terminal's unsent changes, {} not for this version)",
            r.pulled.written, r.pulled.kept_local, r.pulled.skipped
        );
        for a in &r.alarms {
            println!("ALARM {}: {}", a.kind, a.detail);
        }
    }
    if r.alarms.is_empty() {
        Ok(())
    } else {
        Err(Failure::Found(
            "the cloud's log failed a check: the owner must see this (galla-cli audit, the sync screen)"
                .into(),
        ))
    }
}
