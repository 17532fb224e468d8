//! `galla-cli`: the terminal engine without a window, for set-up, health checks and audits.
//!
//! Commands that read or change shop data sign in as a seat first (`--seat`, default the
//! shop's only owner) and go through the same session and permission checks as the app.
//! Secrets are prompted for, or read one per line from standard input (`--secret-stdin`, or
//! whenever standard input is not a terminal): first the seat's own, then any new one.
//!
//! Exit status: 0 success, 1 a check found a problem (broken chain, unhealthy doctor),
//! 2 the command could not run (bad input, no keychain, no shop, refused). Errors go to stderr
//! and never carry secrets.

mod commands;
mod session;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use commands::{
    audit::AuditCommand, check::CheckCommand, import::ImportCommand, init::InitArgs,
    invoice::InvoiceCommand, policy::PolicyCommand, report::ReportCommand, seat::SeatCommand,
    shop::ShopCommand,
};
use session::{Failure, data_dir};

#[derive(Parser)]
#[command(
    name = "galla-cli",
    version,
    about = "Galla till: headless administration"
)]
pub(crate) struct Cli {
    /// Folder holding this terminal's encrypted database (default: the per-user data folder).
    #[arg(long, global = true, env = "GALLA_DATA_DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// The seat to act as, by name (default: the shop's owner, when there is only one).
    #[arg(long, global = true, env = "GALLA_SEAT")]
    pub(crate) seat: Option<String>,
    /// Read secrets from standard input, one per line, instead of prompting.
    #[arg(long, global = true)]
    pub(crate) secret_stdin: bool,
    /// The code from the seat's authenticator app, for seats with two-step sign-in.
    #[arg(long, global = true)]
    pub(crate) code: Option<String>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a standalone shop: tenant, owner seat and this terminal, keys in the OS keychain.
    Init(InitArgs),
    /// Check keychain, keys, database, schema, pages and audit chain, one by one.
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// Shop, terminal, schema and keychain in one glance.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Seats: who may sign in at this shop's tills.
    #[command(subcommand)]
    Seat(SeatCommand),
    /// The shop's session policy: idle timeouts, discount limits, who needs two-step sign-in.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// The shop's details and tax registration: GSTIN and state, turnover band, composition.
    #[command(subcommand)]
    Shop(ShopCommand),
    /// Bill headlessly: a cart as JSON in, the finalized invoice as JSON out (for integrations).
    Bill {
        /// A JSON file: {"lines": [{"product": {"by": "sku"|"barcode", "value": ...},
        /// "quantity": N, "imeis": [...], "discount_bp": N}], "payments": [{"mode": "cash",
        /// "amount_paise": N, "tendered_paise": N} | {"mode": "upi"|"card", "amount_paise": N,
        /// "reference": "..."}], "customer_id", "place_of_supply", "ship_to_customer",
        /// "bill_discount"}
        file: PathBuf,
    },
    /// Invoices.
    #[command(subcommand)]
    Invoice(InvoiceCommand),
    /// Reports.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Import from CSV, all rows or none; every bad row is named (exit 1 when any is bad).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Check an identifier as the till would: exit 0 valid (printed normalised), 1 invalid
    /// (with the reason). Needs no shop.
    #[command(subcommand)]
    Check(CheckCommand),
    /// Join a shop that is on its cloud, as a new terminal in an empty data folder, with the
    /// one-time code the owner issued. The code is read from standard input (or a prompt), so
    /// it stays out of the shell's history; a failed attempt may be retried with the same code.
    Enroll {
        /// `https://host[:port]` of the shop's cloud.
        #[arg(long)]
        server: String,
        /// The cloud's CA certificate (a PEM file), pinned from now on.
        #[arg(long)]
        ca: PathBuf,
        /// What this till is called in the shop, e.g. "Counter 3".
        #[arg(long)]
        name: String,
    },
    /// One sync with the shop's cloud now: send what is queued, check the cloud's log, take in
    /// the shop's news. Exit 1 when the cloud's log failed a check (an alarm for the owner).
    Sync {
        #[arg(long)]
        json: bool,
    },
    /// Make this terminal's recovery kit (owner): its keys sealed in `recovery.kit` beside the
    /// database under a code printed once. Write the code down and keep it away from the till;
    /// with it, `galla-cli recover` puts the keys back if the keychain loses them. A new kit
    /// replaces the old one, and the old code stops working.
    RecoveryKit,
    /// Put this terminal's keys back in a keychain that lost them, from the recovery kit in the
    /// data folder and the owner's code (read from standard input, or a prompt).
    Recover,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("GALLA_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Found(msg)) => {
            eprintln!("problem: {msg}");
            ExitCode::from(1)
        }
        Err(Failure::Error(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs the command line's subcommand: each is a module of `commands`.
fn run(cli: Cli) -> Result<(), Failure> {
    use commands::*;
    let dir = data_dir(&cli)?;
    match &cli.command {
        Command::Init(a) => init::run(&cli, &dir, a),
        Command::Enroll { server, ca, name } => enroll::run(&cli, &dir, server, ca, name),
        Command::RecoveryKit => recovery::make(&cli, &dir),
        Command::Recover => recovery::recover(&cli, &dir),
        Command::Sync { json } => sync::run(&dir, *json),
        Command::Doctor { json } => doctor::run(&dir, *json),
        Command::Status { json } => status::run(&dir, *json),
        Command::Audit(c) => audit::run(&cli, &dir, c),
        Command::Bill { file } => bill::run(&cli, &dir, file),
        Command::Report(c) => report::run(&cli, &dir, c),
        Command::Invoice(c) => invoice::run(&cli, &dir, c),
        Command::Import(c) => import::run(&cli, &dir, c),
        Command::Check(c) => check::run(c),
        Command::Shop(c) => shop::run(&cli, &dir, c),
        Command::Policy(c) => policy::run(&cli, &dir, c),
        Command::Seat(c) => seat::run(&cli, &dir, c),
    }
}
