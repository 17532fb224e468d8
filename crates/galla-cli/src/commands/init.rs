//! `galla-cli init`: create a standalone shop (tenant, owner seat, this terminal), its keys
//! in the OS keychain.

use std::sync::Arc;

use clap::Args;
use galla_client::{DataDir, NewShop, OsKeychain, SecretStore, SystemClock, Terminal};

use crate::Cli;
use crate::session::{Failure, read_new_secret};

#[derive(Args, Clone)]
pub(crate) struct InitArgs {
    #[arg(long)]
    pub(crate) shop_name: String,
    #[arg(long)]
    pub(crate) owner_name: String,
    /// The shop's GSTIN, if registered.
    #[arg(long)]
    pub(crate) gstin: Option<String>,
    /// GST state code (taken from the GSTIN when given).
    #[arg(long)]
    pub(crate) state_code: Option<u8>,
    #[arg(long, default_value = "Counter 1")]
    pub(crate) terminal_name: String,
    /// This terminal's invoice-series prefix.
    #[arg(long, default_value = "T1")]
    pub(crate) series: String,
    /// Read the owner's passphrase from the first line of standard input instead of prompting.
    #[arg(long)]
    pub(crate) passphrase_stdin: bool,
}

pub(crate) fn run(cli: &Cli, dir: &DataDir, a: &InitArgs) -> Result<(), Failure> {
    let a = a.clone();
    let keychain = OsKeychain::connect()?;
    let shop = NewShop {
        shop_name: a.shop_name,
        gstin: a.gstin,
        state_code: a.state_code,
        owner_name: a.owner_name,
        owner_passphrase: read_new_secret(
            a.passphrase_stdin || cli.secret_stdin,
            "Owner passphrase: ",
        )?,
        terminal_name: a.terminal_name,
        series_code: a.series,
    };
    let (t, _owner) = Terminal::init(dir, &keychain, Arc::new(SystemClock), &shop)?;
    let s = t.status()?;
    println!("Created shop {:?} in {}", s.shop_name, s.data_dir);
    println!(
        "Terminal {:?}, invoice series {}",
        s.terminal_name, s.series_code
    );
    println!("Keys are in the {} (never on disk).", keychain.backend());
    Ok(())
}
