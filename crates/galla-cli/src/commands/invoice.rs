//! `galla-cli invoice`: an invoice by its number, its receipt, a credit note as printed.

use clap::Subcommand;
use galla_client::DataDir;

use crate::Cli;
use crate::session::{Failure, json, open, sign_in};

#[derive(Subcommand)]
pub(crate) enum InvoiceCommand {
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

pub(crate) fn run(cli: &Cli, dir: &DataDir, c: &InvoiceCommand) -> Result<(), Failure> {
    match c {
        InvoiceCommand::Show {
            number,
            json: as_json,
        } => {
            let as_json = *as_json;
            let t = open(dir)?;
            let token = sign_in(cli, &t)?;
            let inv = t.invoice_by_number(&token, number)?;
            if as_json {
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
        InvoiceCommand::Receipt { number, columns } => {
            let t = open(dir)?;
            let token = sign_in(cli, &t)?;
            print!("{}", t.receipt(&token, number, *columns)?.text);
            Ok(())
        }
        InvoiceCommand::CreditNote { number, columns } => {
            let t = open(dir)?;
            let token = sign_in(cli, &t)?;
            print!("{}", t.credit_note_receipt(&token, number, *columns)?.text);
            Ok(())
        }
    }
}
