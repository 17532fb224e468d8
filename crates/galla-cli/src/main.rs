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

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use galla_client::{
    AuditReport, DataDir, EnrollTerminal, NewSeat, NewShop, OsKeychain, Role, SecondFactor,
    SecretKind, SecretStore, SecretString, SessionToken, SystemClock, Terminal, doctor,
};

#[derive(Parser)]
#[command(
    name = "galla-cli",
    version,
    about = "Galla till: headless administration"
)]
struct Cli {
    /// Folder holding this terminal's encrypted database (default: the per-user data folder).
    #[arg(long, global = true, env = "GALLA_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The seat to act as, by name (default: the shop's owner, when there is only one).
    #[arg(long, global = true, env = "GALLA_SEAT")]
    seat: Option<String>,
    /// Read secrets from standard input, one per line, instead of prompting.
    #[arg(long, global = true)]
    secret_stdin: bool,
    /// The code from the seat's authenticator app, for seats with two-step sign-in.
    #[arg(long, global = true)]
    code: Option<String>,
    #[command(subcommand)]
    command: Command,
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

#[derive(Subcommand)]
enum ReportCommand {
    /// One IST day of this terminal: totals by mode and tax head, HSN summary, numbers used.
    Day {
        /// YYYY-MM-DD
        date: String,
        /// Close the day: store the report for good (only once the day is over).
        #[arg(long)]
        close: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum InvoiceCommand {
    /// One invoice by its number, e.g. T1/25-26/000123.
    Show {
        number: String,
        #[arg(long)]
        json: bool,
    },
    /// The bill as printed for the customer (Rule 46), for a receipt printer or a reprint.
    Receipt {
        number: String,
        /// Characters a line: 32 for 58 mm paper, 42 or 48 for 80 mm.
        #[arg(long, default_value_t = 42)]
        columns: u32,
    },
    /// A credit note as printed (Rule 53), by its own number.
    CreditNote {
        number: String,
        /// Characters a line: 32 for 58 mm paper, 42 or 48 for 80 mm.
        #[arg(long, default_value_t = 42)]
        columns: u32,
    },
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BillLine {
    product: galla_client::ProductRef,
    quantity: u32,
    #[serde(default)]
    imeis: Vec<String>,
    #[serde(default)]
    discount_bp: u32,
}

#[derive(serde::Deserialize)]
struct BillFile {
    lines: Vec<BillLine>,
    #[serde(flatten)]
    finalize: galla_client::FinalizeRequest,
}

/// Rings the file's lines into a fresh cart and finalizes it; on any error the cart is
/// discarded, so a failed bill leaves nothing behind.
fn bill(
    t: &Terminal,
    token: &SessionToken,
    file: &BillFile,
) -> galla_client::Result<galla_client::Invoice> {
    if file.lines.is_empty() || file.lines.len() > 500 {
        return Err(galla_client::InputError::Rejected {
            field: "lines",
            reason: "a bill has 1 to 500 lines".into(),
        }
        .into());
    }
    if t.current_cart(token)?.is_some() {
        t.hold_cart(token)?;
    }
    let result = (|| {
        for l in &file.lines {
            let cart = t.add_product_to_cart(token, &l.product, l.quantity)?;
            let line = cart.lines.last().map(|x| x.line_id).ok_or_else(|| {
                galla_client::Error::Storage("the line just added is missing".into())
            })?;
            if !l.imeis.is_empty() {
                t.set_line_imeis(token, line, &l.imeis)?;
            }
            if l.discount_bp > 0 {
                t.set_line_discount(token, line, l.discount_bp)?;
            }
        }
        t.finalize(token, &file.finalize)
    })();
    if result.is_err() {
        let _ = t.discard_cart(token);
    }
    result
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Customers: name,phone,gstin,email,address,state_code,marketing_consent.
    Customers {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Products: sku,name,barcodes,hsn,gst_rate,cess_rate,price,price_basis,unit,serialized,
    /// imeis_per_unit,stock (rates in %, price in rupees, barcodes separated by spaces or |).
    Products {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum CheckCommand {
    /// A GSTIN: format, state code and mod-36 check character.
    Gstin { value: String },
    /// An IMEI (15 digits, Luhn) or IMEISV (16 digits).
    Imei { value: String },
    /// An EAN-13 or UPC-A barcode.
    Barcode { value: String },
}

#[derive(Subcommand)]
enum ShopCommand {
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Change only what is given; the rest stays as it is.
    Set {
        #[arg(long)]
        name: Option<String>,
        /// The shop's GSTIN; an empty value removes it.
        #[arg(long)]
        gstin: Option<String>,
        /// State code (01-38, 97), when the shop has no GSTIN.
        #[arg(long)]
        state: Option<u8>,
        #[arg(long)]
        address: Option<String>,
        /// Aggregate turnover band: up-to-5-crore or above-5-crore (sets HSN digits required).
        #[arg(long, value_parser = parse_band)]
        turnover: Option<galla_domain::TurnoverBand>,
        /// In the composition scheme: yes or no (bills of supply, no tax collected).
        #[arg(long, value_parser = parse_yes_no)]
        composition: Option<bool>,
    },
}

fn parse_band(text: &str) -> Result<galla_domain::TurnoverBand, String> {
    galla_domain::TurnoverBand::parse(text)
        .ok_or_else(|| format!("{text:?}: say up-to-5-crore or above-5-crore"))
}

fn parse_yes_no(text: &str) -> Result<bool, String> {
    galla_client::catalogue::parse_yes_no("composition", text).map_err(|e| e.to_string())
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// The policy as it applies to each role.
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Change the policy (owner); unchanged roles keep their setting.
    Set {
        /// ROLE=SECONDS, e.g. counter_staff=300 (30 s to 12 h). Repeat for several roles.
        #[arg(long = "idle", value_parser = parse_role_number)]
        idle: Vec<(Role, u64)>,
        /// ROLE=BASIS_POINTS, e.g. counter_staff=500 (5%).
        #[arg(long = "discount", value_parser = parse_role_number)]
        discount: Vec<(Role, u64)>,
        /// A role whose seats must use an authenticator app to sign in.
        #[arg(long = "require-second-factor", value_parser = parse_role)]
        require: Vec<Role>,
        /// A role that no longer needs one.
        #[arg(long = "drop-second-factor", value_parser = parse_role)]
        drop: Vec<Role>,
    },
}

fn parse_role_number(s: &str) -> Result<(Role, u64), String> {
    let (role, n) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: write ROLE=NUMBER"))?;
    let n = n
        .trim()
        .parse()
        .map_err(|_| format!("{n:?} is not a whole number"))?;
    Ok((parse_role(role.trim())?, n))
}

#[derive(Subcommand)]
enum SeatCommand {
    /// The seats that may sign in (no sign-in needed: the lock screen shows the same).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add a seat; its new PIN or passphrase is read after the acting seat's secret.
    Add {
        #[arg(long)]
        name: String,
        /// A role; repeat for several (owner, manager, counter_staff, accountant,
        /// stock_keeper, read_only).
        #[arg(long = "role", required = true, value_parser = parse_role)]
        roles: Vec<Role>,
        #[arg(long, value_enum, default_value = "pin")]
        secret: Kind,
    },
    /// Revoke a seat: it can no longer sign in, and its sessions end.
    Revoke { name: String },
    /// Set a new PIN or passphrase for a seat (read after the acting seat's secret).
    ResetSecret {
        name: String,
        #[arg(long, value_enum, default_value = "pin")]
        secret: Kind,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    Pin,
    Passphrase,
}

impl From<Kind> for SecretKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Pin => SecretKind::Pin,
            Kind::Passphrase => SecretKind::Passphrase,
        }
    }
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("{s:?} is not a role"))
}

#[derive(Args, Clone)]
struct InitArgs {
    #[arg(long)]
    shop_name: String,
    #[arg(long)]
    owner_name: String,
    /// The shop's GSTIN, if registered.
    #[arg(long)]
    gstin: Option<String>,
    /// GST state code (taken from the GSTIN when given).
    #[arg(long)]
    state_code: Option<u8>,
    #[arg(long, default_value = "Counter 1")]
    terminal_name: String,
    /// This terminal's invoice-series prefix.
    #[arg(long, default_value = "T1")]
    series: String,
    /// Read the owner's passphrase from the first line of standard input instead of prompting.
    #[arg(long)]
    passphrase_stdin: bool,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the chain: signatures, links, gaps. Names the first bad record.
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// Write every record as CSV, each marked verified or not.
    Export {
        #[arg(long, value_name = "FILE")]
        csv: PathBuf,
    },
}

enum Failure {
    /// A check ran and found a problem (exit 1).
    Found(String),
    /// The command could not run (exit 2).
    Error(galla_client::Error),
}

impl From<galla_client::Error> for Failure {
    fn from(e: galla_client::Error) -> Self {
        Failure::Error(e)
    }
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

fn data_dir(cli: &Cli) -> Result<DataDir, Failure> {
    Ok(match &cli.data_dir {
        Some(p) => DataDir::new(p),
        None => DataDir::default_for_user()?,
    })
}

fn open(dir: &DataDir) -> Result<Terminal, Failure> {
    Ok(open_with_keychain(dir)?.0)
}

/// The terminal and the keychain it opened with (a sync pass needs it again).
fn open_with_keychain(dir: &DataDir) -> Result<(Terminal, OsKeychain), Failure> {
    let keychain = OsKeychain::connect()?;
    let t = Terminal::open(dir, &keychain, Arc::new(SystemClock))?;
    Ok((t, keychain))
}

fn io(e: std::io::Error) -> Failure {
    Failure::Error(e.into())
}

/// One secret: the next line of standard input, or a prompt without echo.
fn read_secret(from_stdin: bool, prompt: &str) -> Result<SecretString, Failure> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = zeroize::Zeroizing::new(String::new());
        std::io::stdin().lock().read_line(&mut line).map_err(io)?;
        return Ok(SecretString::new(line.trim_end_matches(['\r', '\n'])));
    }
    Ok(SecretString::new(
        rpassword::prompt_password(prompt).map_err(io)?,
    ))
}

/// A new secret: typed twice at a terminal, one line from standard input otherwise.
fn read_new_secret(from_stdin: bool, prompt: &str) -> Result<SecretString, Failure> {
    if from_stdin || !std::io::stdin().is_terminal() {
        return read_secret(true, prompt);
    }
    let first = read_secret(false, prompt)?;
    let again = read_secret(false, "Again: ")?;
    if first.expose() != again.expose() {
        return Err(Failure::Error(
            galla_client::InputError::Rejected {
                field: "passphrase",
                reason: "the two entries differ".into(),
            }
            .into(),
        ));
    }
    Ok(first)
}

/// Signs in as `--seat` (or the only owner), as the app's lock screen would.
fn sign_in(cli: &Cli, t: &Terminal) -> Result<SessionToken, Failure> {
    let roster = t.roster()?;
    let seat = match &cli.seat {
        Some(name) => roster
            .iter()
            .find(|s| s.display_name.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                refused(format!(
                    "no seat named {name:?} may sign in here; `galla-cli seat list` shows the seats"
                ))
            })?,
        None => {
            let owners: Vec<_> = roster
                .iter()
                .filter(|s| s.roles.contains(&Role::Owner))
                .collect();
            match owners.as_slice() {
                [one] => *one,
                _ => {
                    return Err(refused(
                        "this shop has several owners: say which with --seat NAME".into(),
                    ));
                }
            }
        }
    };
    let what = match seat.secret_kind {
        SecretKind::Pin => "PIN",
        SecretKind::Passphrase => "passphrase",
    };
    let secret = read_secret(
        cli.secret_stdin,
        &format!("{}'s {what}: ", seat.display_name),
    )?;
    let second = if seat.second_factor {
        let code = match &cli.code {
            Some(c) => SecretString::new(c.as_str()),
            None => read_secret(
                cli.secret_stdin,
                "Code from the authenticator app (or a recovery code): ",
            )?,
        };
        Some(if code.expose().trim().len() > 8 {
            SecondFactor::RecoveryCode(code)
        } else {
            SecondFactor::Code(code)
        })
    } else {
        None
    };
    Ok(t.sign_in(seat.seat_id, &secret, second.as_ref())?.token)
}

fn refused(msg: String) -> Failure {
    Failure::Error(galla_client::InputError::Conflict(msg).into())
}

fn seat_named(t: &Terminal, token: &SessionToken, name: &str) -> Result<uuid::Uuid, Failure> {
    t.seat_details(token)?
        .into_iter()
        .find(|s| s.revoked_at_ms.is_none() && s.display_name.eq_ignore_ascii_case(name.trim()))
        .map(|s| s.seat_id)
        .ok_or_else(|| refused(format!("no seat named {name:?}")))
}

/// Prints an import's outcome; any bad row is a problem found (exit 1), nothing imported.
fn report_import(r: &galla_client::ImportReport, as_json: bool, what: &str) -> Result<(), Failure> {
    if as_json {
        println!("{}", json(r));
    } else if r.errors.is_empty() {
        println!("imported {} {what}", r.imported);
    } else {
        for e in &r.errors {
            println!("line {}: {}: {}", e.line, e.field, e.message);
        }
    }
    if r.errors.is_empty() {
        Ok(())
    } else {
        Err(Failure::Found(format!(
            "{} of {} rows are bad; nothing was imported",
            r.errors.len(),
            r.rows
        )))
    }
}

fn report_chain(r: &AuditReport) -> Result<(), Failure> {
    match &r.problem {
        None => Ok(()),
        Some(p) => Err(Failure::Found(format!(
            "{} records verify, then: {p}",
            r.verified
        ))),
    }
}

fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn run(cli: Cli) -> Result<(), Failure> {
    let dir = data_dir(&cli)?;
    match &cli.command {
        Command::Init(a) => {
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
            let (t, _owner) = Terminal::init(&dir, &keychain, Arc::new(SystemClock), &shop)?;
            let s = t.status()?;
            println!("Created shop {:?} in {}", s.shop_name, s.data_dir);
            println!(
                "Terminal {:?}, invoice series {}",
                s.terminal_name, s.series_code
            );
            println!("Keys are in the {} (never on disk).", keychain.backend());
            Ok(())
        }
        Command::Enroll { server, ca, name } => {
            let keychain = OsKeychain::connect()?;
            let ca_pem = std::fs::read_to_string(ca).map_err(|e| {
                refused(format!(
                    "cannot read the CA certificate {}: {e}",
                    ca.display()
                ))
            })?;
            let code = read_secret(cli.secret_stdin, "Enrollment code: ")?;
            let request = EnrollTerminal {
                server_url: server.clone(),
                ca_pem,
                code: code.expose().to_owned(),
                terminal_name: name.clone(),
            };
            let t = Terminal::enroll(&dir, &keychain, Arc::new(SystemClock), &request)?;
            let s = t.status()?;
            println!(
                "Joined {:?} as {:?}, invoice series {}",
                s.shop_name, s.terminal_name, s.series_code
            );
            println!("The shop's seats sign in here with the secrets they already have.");
            Ok(())
        }
        Command::RecoveryKit => {
            let t = open(&dir)?;
            let owner = sign_in(&cli, &t)?;
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
                galla_client::recovery::kit_path(&dir).display()
            );
            Ok(())
        }
        Command::Recover => {
            let keychain = OsKeychain::connect()?;
            let code = read_secret(cli.secret_stdin, "Recovery code: ")?;
            let t = Terminal::recover(&dir, &keychain, Arc::new(SystemClock), &code)?;
            let s = t.status()?;
            println!(
                "Keys restored to the {} for {:?}, {:?}: the shop opens again.",
                keychain.backend(),
                s.shop_name,
                s.terminal_name
            );
            Ok(())
        }
        Command::Sync { json: as_json } => {
            let (t, keychain) = open_with_keychain(&dir)?;
            let r = t.sync_pass(&keychain)?;
            if *as_json {
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
        Command::Doctor { json: as_json } => {
            let as_json = *as_json;
            let keychain = OsKeychain::connect().map(|k| Arc::new(k) as Arc<dyn SecretStore>);
            let report = doctor(&dir, keychain, Arc::new(SystemClock));
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
        Command::Status { json: as_json } => {
            let as_json = *as_json;
            let s = open(&dir)?.status()?;
            if as_json {
                println!("{}", json(&s));
            } else {
                println!("shop:      {}", s.shop_name);
                println!("terminal:  {} (series {})", s.terminal_name, s.series_code);
                println!(
                    "schema:    {} of {}",
                    s.schema_version, s.supported_schema_version
                );
                println!("keychain:  {}", s.keychain_backend);
                println!("audit:     {} records", s.audit_records);
                println!("data:      {}", s.data_dir);
            }
            Ok(())
        }
        Command::Audit(AuditCommand::Verify { json: as_json }) => {
            let t = open(&dir)?;
            let token = sign_in(&cli, &t)?;
            let r = t.verify_audit(&token)?;
            if *as_json {
                println!("{}", json(&r));
            } else if r.is_intact() {
                println!(
                    "audit chain intact: {} records, head {}",
                    r.verified,
                    r.head_hash.as_deref().unwrap_or("-")
                );
            }
            report_chain(&r)
        }
        Command::Audit(AuditCommand::Export { csv }) => {
            let t = open(&dir)?;
            let token = sign_in(&cli, &t)?;
            let file = std::fs::File::create(csv).map_err(io)?;
            let r = t.export_audit_csv(&token, std::io::BufWriter::new(file))?;
            println!("wrote the audit trail to {}", csv.display());
            report_chain(&r)
        }
        Command::Bill { file } => {
            let text = std::fs::read_to_string(file).map_err(io)?;
            let parsed: BillFile = serde_json::from_str(&text).map_err(|e| {
                Failure::Error(
                    galla_client::InputError::Rejected {
                        field: "bill file",
                        reason: format!("is not a bill: {e}"),
                    }
                    .into(),
                )
            })?;
            let t = open(&dir)?;
            let token = sign_in(&cli, &t)?;
            let invoice = bill(&t, &token, &parsed)?;
            println!("{}", json(&invoice));
            Ok(())
        }
        Command::Report(ReportCommand::Day {
            date,
            close,
            json: as_json,
        }) => {
            let day =
                galla_client::day_close::parse_day(date).map_err(|e| Failure::Error(e.into()))?;
            let t = open(&dir)?;
            let token = sign_in(&cli, &t)?;
            let r = if *close {
                t.close_day(&token, day)?
            } else {
                t.day_report(&token, day)?
            };
            if *as_json {
                println!("{}", json(&r));
            } else {
                let m = |p: i64| galla_domain::Money::from_paise(p).to_string();
                println!(
                    "day {} ({})",
                    r.day,
                    if r.closed { "closed" } else { "open" }
                );
                if let Some(i) = &r.invoices {
                    println!("invoices      {} to {} ({})", i.first, i.last, i.count);
                }
                if let Some(c) = &r.credit_notes {
                    println!("credit notes  {} to {} ({})", c.first, c.last, c.count);
                }
                println!(
                    "sales         {} (taxable {}, CGST {}, SGST {}, IGST {}, cess {})",
                    m(r.sales.total_paise),
                    m(r.sales.taxable_paise),
                    m(r.sales.cgst_paise),
                    m(r.sales.sgst_paise),
                    m(r.sales.igst_paise),
                    m(r.sales.cess_paise)
                );
                println!("returns       {}", m(r.returns.total_paise));
                for (mode, amount) in &r.payments_by_mode {
                    println!("paid {mode:<8} {}", m(*amount));
                }
                println!("cash expected {}", m(r.expected_cash_paise));
            }
            Ok(())
        }
        Command::Invoice(InvoiceCommand::Show {
            number,
            json: as_json,
        }) => {
            let t = open(&dir)?;
            let token = sign_in(&cli, &t)?;
            let inv = t.invoice_by_number(&token, number)?;
            if *as_json {
                println!("{}", json(&inv));
            } else {
                println!("{} ({})", inv.number, inv.financial_year);
                for l in &inv.lines {
                    println!(
                        "{:>3} {:<30} {:>4} x {:>12} {:>12}",
                        l.line_no,
                        l.description,
                        l.quantity,
                        galla_domain::Money::from_paise(l.unit_price_paise).to_string(),
                        galla_domain::Money::from_paise(l.total_paise).to_string()
                    );
                }
                println!("total {}", galla_domain::Money::from_paise(inv.total_paise));
            }
            Ok(())
        }
        Command::Invoice(InvoiceCommand::Receipt { number, columns }) => {
            let t = open(&dir)?;
            let token = sign_in(&cli, &t)?;
            print!("{}", t.receipt(&token, number, *columns)?.text);
            Ok(())
        }
        Command::Invoice(InvoiceCommand::CreditNote { number, columns }) => {
            let t = open(&dir)?;
            let token = sign_in(&cli, &t)?;
            print!("{}", t.credit_note_receipt(&token, number, *columns)?.text);
            Ok(())
        }
        Command::Import(what) => {
            let (file, as_json) = match what {
                ImportCommand::Customers { file, json }
                | ImportCommand::Products { file, json } => (file, *json),
            };
            let t = open(&dir)?;
            let token = sign_in(&cli, &t)?;
            let f = std::io::BufReader::new(std::fs::File::open(file).map_err(io)?);
            let (r, noun) = match what {
                ImportCommand::Customers { .. } => {
                    (t.import_customers_csv(&token, f)?, "customers")
                }
                ImportCommand::Products { .. } => (t.import_products_csv(&token, f)?, "products"),
            };
            report_import(&r, as_json, noun)
        }
        Command::Check(c) => {
            use galla_domain::{Barcode, Gstin, Imei, ImeiSv};
            let (kind, result) = match c {
                CheckCommand::Gstin { value } => (
                    "GSTIN",
                    Gstin::parse(value)
                        .map(|g| format!("{} (state {:02})", g.as_str(), g.state_code()))
                        .map_err(|e| e.to_string()),
                ),
                CheckCommand::Imei { value } => (
                    "IMEI",
                    Imei::parse(value)
                        .map(|i| format!("{} (TAC {})", i.as_str(), i.tac()))
                        .or_else(|e| match ImeiSv::parse(value) {
                            Ok(sv) => Ok(format!("{} (IMEISV, no check digit)", sv.as_str())),
                            Err(_) => Err(e.to_string()),
                        }),
                ),
                CheckCommand::Barcode { value } => (
                    "barcode",
                    Barcode::parse(value)
                        .map(|b| b.as_str().to_owned())
                        .map_err(|e| e.to_string()),
                ),
            };
            match result {
                Ok(normalised) => {
                    println!("valid {kind}: {normalised}");
                    Ok(())
                }
                Err(reason) => Err(Failure::Found(format!("invalid {kind}: {reason}"))),
            }
        }
        Command::Shop(ShopCommand::Show { json: as_json }) => {
            let t = open(&dir)?;
            let token = sign_in(&cli, &t)?;
            let s = t.shop_settings(&token)?;
            if *as_json {
                println!("{}", json(&s));
            } else {
                let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
                println!("name         {}", s.name);
                println!("GSTIN        {}", or_none(&s.gstin));
                println!(
                    "state        {}",
                    s.state_code.map_or("-".into(), |c| format!("{c:02}"))
                );
                println!("address      {}", or_none(&s.address));
                println!(
                    "turnover     {}",
                    s.turnover_band.as_str().replace('_', " ")
                );
                println!("composition  {}", if s.composition { "yes" } else { "no" });
                println!(
                    "terminal     {} (series {})",
                    s.terminal_name, s.series_code
                );
            }
            Ok(())
        }
        Command::Shop(ShopCommand::Set {
            name,
            gstin,
            state,
            address,
            turnover,
            composition,
        }) => {
            let t = open(&dir)?;
            let token = sign_in(&cli, &t)?;
            let s = t.shop_settings(&token)?;
            // A new GSTIN brings its own state; removing the GSTIN keeps the state it had.
            let state_code = match (gstin.as_deref().map(str::trim), state) {
                (_, Some(st)) => Some(*st),
                (Some(g), None) if !g.is_empty() => None,
                _ => s.state_code,
            };
            let details = galla_client::ShopDetails {
                name: name.clone().unwrap_or(s.name),
                gstin: gstin.clone().or(s.gstin),
                state_code,
                address: address.clone().or(s.address),
                turnover_band: turnover.unwrap_or(s.turnover_band),
                composition: composition.unwrap_or(s.composition),
            };
            t.set_shop_settings(&token, &details)?;
            println!("shop settings saved");
            Ok(())
        }
        Command::Policy(PolicyCommand::Show { json: as_json }) => {
            let t = open(&dir)?;
            let token = sign_in(&cli, &t)?;
            let p = t.policy(&token)?;
            if *as_json {
                println!("{}", json(&p));
            } else {
                println!(
                    "{:<14} {:>10} {:>10} {:>8}",
                    "role", "idle", "discount", "2-step"
                );
                for r in Role::ALL.into_iter().filter(|r| *r != Role::Support) {
                    println!(
                        "{:<14} {:>8} s {:>9}% {:>8}",
                        r.name(),
                        p.idle_timeout_for(r) / 1000,
                        f64::from(p.discount_limit_for(r)) / 100.0,
                        if p.second_factor_roles.contains(&r) {
                            "yes"
                        } else {
                            "no"
                        }
                    );
                }
            }
            Ok(())
        }
        Command::Policy(PolicyCommand::Set {
            idle,
            discount,
            require,
            drop,
        }) => {
            let t = open(&dir)?;
            let token = sign_in(&cli, &t)?;
            let mut p = t.policy(&token)?;
            for (r, secs) in idle {
                let ms = i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX);
                p.idle_timeout_ms.insert(*r, ms);
            }
            for (r, bp) in discount {
                p.discount_limit_bp
                    .insert(*r, u32::try_from(*bp).unwrap_or(u32::MAX));
            }
            p.second_factor_roles.extend(require.iter().copied());
            for r in drop {
                p.second_factor_roles.remove(r);
            }
            t.set_policy(&token, &p)?;
            println!("session policy updated");
            Ok(())
        }
        Command::Seat(SeatCommand::List { json: as_json }) => {
            let roster = open(&dir)?.roster()?;
            if *as_json {
                println!("{}", json(&roster));
            } else {
                for s in roster {
                    let roles: Vec<&str> = s.roles.iter().map(|r| r.name()).collect();
                    println!("{:<24} {}", s.display_name, roles.join(", "));
                }
            }
            Ok(())
        }
        Command::Seat(SeatCommand::Add {
            name,
            roles,
            secret,
        }) => {
            let t = open(&dir)?;
            let token = sign_in(&cli, &t)?;
            let new = NewSeat {
                display_name: name.clone(),
                roles: roles.clone(),
                overrides: Vec::new(),
                secret_kind: (*secret).into(),
                secret: read_new_secret(cli.secret_stdin, &format!("{name}'s new secret: "))?,
            };
            t.add_seat(&token, &new)?;
            println!("added seat {name:?}");
            Ok(())
        }
        Command::Seat(SeatCommand::Revoke { name }) => {
            let t = open(&dir)?;
            let token = sign_in(&cli, &t)?;
            let id = seat_named(&t, &token, name)?;
            t.revoke_seat(&token, id)?;
            println!("revoked seat {name:?}: it can no longer sign in");
            Ok(())
        }
        Command::Seat(SeatCommand::ResetSecret { name, secret }) => {
            let t = open(&dir)?;
            let token = sign_in(&cli, &t)?;
            let id = seat_named(&t, &token, name)?;
            let new = read_new_secret(cli.secret_stdin, &format!("{name}'s new secret: "))?;
            t.reset_seat_secret(&token, id, (*secret).into(), &new)?;
            println!("set a new secret for {name:?}");
            Ok(())
        }
    }
}
