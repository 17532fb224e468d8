//! Child process for the crash-consistency test: opens the shop in the given folder and writes
//! customers through the unit of work forever, printing each id only after its commit returned.
//! The parent SIGKILLs it at random moments. It signs in as the owner seat with the passphrase
//! in `GALLA_CRASH_PASSPHRASE`.

use std::io::Write;
use std::sync::Arc;

use galla_client::{DataDir, NewCustomer, OsKeychain, SecretString, SystemClock, Terminal};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(seat)) = (args.next(), args.next()) else {
        eprintln!("usage: galla-crash-writer DATA_DIR OWNER_SEAT_ID");
        std::process::exit(2);
    };
    let seat_id = seat.parse().unwrap_or_else(|e| {
        eprintln!("bad seat id: {e}");
        std::process::exit(2)
    });
    let keychain = OsKeychain::connect().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let t =
        Terminal::open(&DataDir::new(dir), &keychain, Arc::new(SystemClock)).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2)
        });
    let passphrase = SecretString::new(std::env::var("GALLA_CRASH_PASSPHRASE").unwrap_or_default());
    let owner = match t.sign_in(seat_id, &passphrase, None) {
        Ok(s) => s.token,
        Err(e) => {
            eprintln!("sign-in failed: {e}");
            std::process::exit(2)
        }
    };
    let stdout = std::io::stdout();
    for i in 0u64.. {
        let c = NewCustomer {
            name: format!("Crash customer {i}"),
            phone: Some(format!("9{:09}", i % 1_000_000_000)),
            address: Some("x".repeat((i % 7 * 70) as usize)), // vary the record size
            ..Default::default()
        };
        match t.add_customer(&owner, &c) {
            Ok(id) => {
                let mut out = stdout.lock();
                let _ = writeln!(out, "{id}");
                let _ = out.flush();
            }
            Err(e) => {
                eprintln!("write failed: {e}");
                std::process::exit(3);
            }
        }
    }
}
