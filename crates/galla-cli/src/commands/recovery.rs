//! `galla-cli recovery-kit` and `galla-cli recover`: the owner seals this terminal's keys
//! under a code printed once; the code puts them back in a keychain that lost them.

use std::sync::Arc;

use galla_client::{DataDir, OsKeychain, SecretStore, SystemClock, Terminal};

use crate::Cli;
use crate::session::{Failure, open, read_secret, sign_in};

/// `recovery-kit`: make the kit and print its code.
pub(crate) fn make(cli: &Cli, dir: &DataDir) -> Result<(), Failure> {
    let t = open(dir)?;
    let owner = sign_in(cli, &t)?;
    let code = t.create_recovery_kit(&owner)?;
    let s = t.status()?;
    println!(
        "Recovery code for {:?}, {:?}:",
        s.shop_name, s.terminal_name
    );
    println!();
    println!("    {}", code.expose());
    println!();
    println!("Write it down now and keep it away from the till: it is not shown again.");
    println!(
        "The kit is {}; a copy of the data folder carries it. This code replaces any earlier one.",
        galla_client::recovery::kit_path(dir).display()
    );
    Ok(())
}

/// `recover`: the keys back from the kit and the code.
pub(crate) fn recover(cli: &Cli, dir: &DataDir) -> Result<(), Failure> {
    let keychain = OsKeychain::connect()?;
    let code = read_secret(cli.secret_stdin, "Recovery code: ")?;
    let t = Terminal::recover(dir, &keychain, Arc::new(SystemClock), &code)?;
    let s = t.status()?;
    println!(
        "Keys restored to the {} for {:?}, {:?}: the shop opens again.",
        keychain.backend(),
        s.shop_name,
        s.terminal_name
    );
    Ok(())
}
