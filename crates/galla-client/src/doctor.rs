//! `doctor`: check each layer in turn (keychain, keys, database, schema, pages, audit chain) and
//! say which one is at fault, without stopping at the first failure where later checks still help.

use std::sync::Arc;

use serde::Serialize;

use crate::clock::Clock;
use crate::error::Result;
use crate::keychain::SecretStore;
use crate::keys::TerminalKeys;
use crate::store;
use crate::terminal::{DataDir, Terminal};

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
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
    DoctorReport { checks }
}
