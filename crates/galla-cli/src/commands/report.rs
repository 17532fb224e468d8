//! `galla-cli report day`: one IST day of this terminal, and closing it.

use clap::Subcommand;
use galla_client::DataDir;

use crate::Cli;
use crate::session::{Failure, json, open, sign_in};

#[derive(Subcommand)]
pub(crate) enum ReportCommand {
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

pub(crate) fn run(cli: &Cli, dir: &DataDir, c: &ReportCommand) -> Result<(), Failure> {
    let ReportCommand::Day {
        date,
        close,
        json: as_json,
    } = c;
    let as_json = *as_json;
    let day = galla_client::day_close::parse_day(date).map_err(|e| Failure::Error(e.into()))?;
    let t = open(dir)?;
    let token = sign_in(cli, &t)?;
    let r = if *close {
        t.close_day(&token, day)?
    } else {
        t.day_report(&token, day)?
    };
    if as_json {
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
