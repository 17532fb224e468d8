//! `galla-cli audit`: verify the chain (naming the first bad record), or export it as CSV.

use std::path::PathBuf;

use clap::Subcommand;
use galla_client::DataDir;

use crate::Cli;
use crate::session::{Failure, io, json, open, report_chain, sign_in};

#[derive(Subcommand)]
pub(crate) enum AuditCommand {
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

pub(crate) fn run(cli: &Cli, dir: &DataDir, c: &AuditCommand) -> Result<(), Failure> {
    match c {
        AuditCommand::Verify { json: as_json } => {
            let as_json = *as_json;
            let t = open(dir)?;
            let token = sign_in(cli, &t)?;
            let r = t.verify_audit(&token)?;
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
        AuditCommand::Export { csv } => {
            let t = open(dir)?;
            let token = sign_in(cli, &t)?;
            let file = galla_client::export_file::create_private(csv).map_err(io)?;
            let r = t.export_audit_csv(&token, std::io::BufWriter::new(file))?;
            println!("wrote the audit trail to {}", csv.display());
            report_chain(&r)
        }
    }
}
