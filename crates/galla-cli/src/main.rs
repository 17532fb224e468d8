//! `galla-cli`: the terminal engine without a window, for set-up, health checks and audits.
//!
//! Exit status: 0 success, 1 a check found a problem (broken chain, unhealthy doctor),
//! 2 the command could not run (bad input, no keychain, no shop). Errors go to stderr and
//! never carry secrets.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use galla_client::{
    AuditReport, DataDir, NewShop, OsKeychain, SecretStore, SecretString, SystemClock, Terminal,
    doctor,
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
}

#[derive(Args)]
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
    let keychain = OsKeychain::connect()?;
    Ok(Terminal::open(dir, &keychain, Arc::new(SystemClock))?)
}

fn read_passphrase(from_stdin: bool) -> Result<SecretString, Failure> {
    let io = |e: std::io::Error| Failure::Error(e.into());
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(io)?;
        let secret = SecretString::new(line.trim_end_matches(['\r', '\n']));
        line.clear();
        return Ok(secret);
    }
    let first = SecretString::new(rpassword::prompt_password("Owner passphrase: ").map_err(io)?);
    let again = SecretString::new(rpassword::prompt_password("Again: ").map_err(io)?);
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
    match cli.command {
        Command::Init(a) => {
            let keychain = OsKeychain::connect()?;
            let shop = NewShop {
                shop_name: a.shop_name,
                gstin: a.gstin,
                state_code: a.state_code,
                owner_name: a.owner_name,
                owner_passphrase: read_passphrase(a.passphrase_stdin)?,
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
        Command::Doctor { json: as_json } => {
            let keychain = OsKeychain::connect().map(|k| Arc::new(k) as Arc<dyn SecretStore>);
            let report = doctor(&dir, keychain, Arc::new(SystemClock));
            if as_json {
                println!("{}", json(&report));
            } else {
                for c in &report.checks {
                    println!(
                        "{} {:<12} {}",
                        if c.ok { "ok  " } else { "FAIL" },
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
            let r = open(&dir)?.verify_audit()?;
            if as_json {
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
            let file = std::fs::File::create(&csv).map_err(|e| Failure::Error(e.into()))?;
            let r = t.export_audit_csv(std::io::BufWriter::new(file))?;
            println!("wrote the audit trail to {}", csv.display());
            report_chain(&r)
        }
    }
}
