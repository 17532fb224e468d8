//! `galla-cli enroll`: join a shop that is on its cloud, as a new terminal in an empty data
//! folder, with the one-time code the owner issued (read from standard input or a prompt, so
//! it stays out of the shell's history).

use std::path::Path;
use std::sync::Arc;

use galla_client::{DataDir, EnrollTerminal, OsKeychain, SystemClock, Terminal};

use crate::Cli;
use crate::session::{Failure, read_secret, refused};

pub(crate) fn run(
    cli: &Cli,
    dir: &DataDir,
    server: &str,
    ca: &Path,
    name: &str,
) -> Result<(), Failure> {
    let keychain = OsKeychain::connect()?;
    let ca_pem = std::fs::read_to_string(ca).map_err(|e| {
        refused(format!(
            "cannot read the CA certificate {}: {e}",
            ca.display()
        ))
    })?;
    let code = read_secret(cli.secret_stdin, "Enrollment code: ")?;
    let request = EnrollTerminal {
        server_url: server.to_owned(),
        ca_pem,
        code: code.expose().to_owned(),
        terminal_name: name.to_owned(),
    };
    let t = Terminal::enroll(dir, &keychain, Arc::new(SystemClock), &request)?;
    let s = t.status()?;
    println!(
        "Joined {:?} as {:?}, invoice series {}",
        s.shop_name, s.terminal_name, s.series_code
    );
    println!("The shop's seats sign in here with the secrets they already have.");
    Ok(())
}
