//! `doctor`: check each layer in turn (keychain, keys, database, schema, pages, audit chain) and
//! say which one is at fault, without stopping at the first failure where later checks still help.
//! It also warns of what is not broken but leaves the shop exposed: no recovery kit, so a lost
//! keychain would lose the shop.

use std::sync::Arc;

use serde::Serialize;

use crate::clock::Clock;
use crate::error::Result;
use crate::keychain::SecretStore;
use crate::keys::TerminalKeys;
use crate::store;
use crate::terminal::{DataDir, RecoveryKitState, Terminal};

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    /// Working, but something the owner should do: not a failure of the store.
    pub warning: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DoctorReport {
    pub checks: Vec<Check>,
}

impl DoctorReport {
    pub fn healthy(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

pub fn doctor(
    dir: &DataDir,
    keychain: Result<Arc<dyn SecretStore>>,
    clock: Arc<dyn Clock>,
) -> DoctorReport {
    let mut checks = Vec::new();
    let mut check = |name, r: Result<String>| {
        let ok = r.is_ok();
        checks.push(Check {
            name,
            ok,
            warning: false,
            detail: r.unwrap_or_else(|e| e.to_string()),
        });
        ok
    };
    let keychain = match keychain {
        Ok(k) => {
            check("keychain", Ok(format!("reachable: {}", k.backend())));
            k
        }
        Err(e) => {
            check("keychain", Err(e));
            return DoctorReport { checks };
        }
    };
    let install = dir.install_id();
    let install_id = match install {
        Ok(Some(id)) => {
            check(
                "install",
                Ok(format!("{} (data in {})", id, dir.root().display())),
            );
            id
        }
        Ok(None) => {
            check(
                "install",
                Err(crate::Error::NotInitialised {
                    data_dir: dir.root().to_path_buf(),
                }),
            );
            return DoctorReport { checks };
        }
        Err(e) => {
            check("install", Err(e));
            return DoctorReport { checks };
        }
    };
    if !check(
        "keys",
        TerminalKeys::load(keychain.as_ref(), install_id).map(|k| {
            format!(
                "database, wrap and device keys present (device public key {})",
                hex::encode(k.device_public().as_bytes())
            )
        }),
    ) {
        return DoctorReport { checks };
    }
    let terminal = match Terminal::open(dir, keychain.as_ref(), clock) {
        Ok(t) => {
            check(
                "database",
                Ok(format!(
                    "{} opens with the keychain key",
                    dir.db_path().display()
                )),
            );
            t
        }
        Err(e) => {
            check("database", Err(e));
            return DoctorReport { checks };
        }
    };
    check(
        "schema",
        terminal.status().map(|s| {
            format!(
                "version {} (this build supports up to {})",
                s.schema_version,
                store::supported_schema_version()
            )
        }),
    );
    check(
        "pages",
        terminal.integrity_problems().and_then(|p| {
            if p.is_empty() {
                Ok("every page authenticates (cipher_integrity_check, quick_check)".into())
            } else {
                Err(crate::Error::DatabaseDamaged {
                    detail: p.join("; "),
                })
            }
        }),
    );
    check(
        "audit chain",
        terminal
            .verify_audit_for_doctor()
            .and_then(|r| match r.problem {
                None => Ok(format!("{} records verify", r.verified)),
                Some(p) => Err(crate::Error::DatabaseDamaged {
                    detail: format!("{} records verify, then: {p}", r.verified),
                }),
            }),
    );
    checks.push(match terminal.status() {
        Ok(s) => recovery_kit_check(&s.recovery_kit),
        Err(e) => Check {
            name: "recovery kit",
            ok: false,
            warning: false,
            detail: e.to_string(),
        },
    });
    DoctorReport { checks }
}

/// A warning, not a failure, when there is no kit to recover the keys with: nothing is broken
/// yet, but a lost keychain would make the shop's data unreadable.
fn recovery_kit_check(kit: &RecoveryKitState) -> Check {
    const MAKE_ONE: &str =
        "the owner makes one in Settings → Recovery kit, or with `galla-cli recovery-kit`";
    let made = kit
        .made_at_ms
        .map(|ms| match galla_domain::fiscal::ist_date(ms) {
            Ok(day) => day.to_string(),
            Err(_) => format!("at {ms} ms"),
        });
    let (warning, detail) = match (made, kit.on_disk) {
        (None, _) => (
            true,
            format!(
                "none made: if the keychain loses this terminal's keys, the shop's data cannot \
                 be opened; {MAKE_ONE}"
            ),
        ),
        (Some(day), false) => (
            true,
            format!(
                "made on {day}, but recovery.kit is no longer in the data folder, so it cannot \
                 recover anything; {MAKE_ONE}"
            ),
        ),
        (Some(day), true) => (
            false,
            format!("made on {day}; recovery.kit is in the data folder, its code kept apart"),
        ),
    };
    Check {
        name: "recovery kit",
        ok: true,
        warning,
        detail,
    }
}
