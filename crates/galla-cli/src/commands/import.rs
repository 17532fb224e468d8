//! `galla-cli import`: customers or products from CSV, all rows or none; every bad row is
//! named (exit 1 when any is bad).

use std::path::PathBuf;

use clap::Subcommand;
use galla_client::DataDir;

use crate::Cli;
use crate::session::{Failure, io, open, report_import, sign_in};

#[derive(Subcommand)]
pub(crate) enum ImportCommand {
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

pub(crate) fn run(cli: &Cli, dir: &DataDir, what: &ImportCommand) -> Result<(), Failure> {
    let (file, as_json) = match what {
        ImportCommand::Customers { file, json } | ImportCommand::Products { file, json } => {
            (file, *json)
        }
    };
    let t = open(dir)?;
    let token = sign_in(cli, &t)?;
    let f = std::io::BufReader::new(std::fs::File::open(file).map_err(io)?);
    let (r, noun) = match what {
        ImportCommand::Customers { .. } => (t.import_customers_csv(&token, f)?, "customers"),
        ImportCommand::Products { .. } => (t.import_products_csv(&token, f)?, "products"),
    };
    report_import(&r, as_json, noun)
}
