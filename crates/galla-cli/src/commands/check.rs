//! `galla-cli check`: an identifier as the till would check it (exit 0 valid, 1 invalid).
//! Needs no shop.

use clap::Subcommand;

use crate::session::Failure;

#[derive(Subcommand)]
pub(crate) enum CheckCommand {
    /// A GSTIN: format, state code and mod-36 check character.
    Gstin { value: String },
    /// An IMEI (15 digits, Luhn) or IMEISV (16 digits).
    Imei { value: String },
    /// An EAN-13 or UPC-A barcode.
    Barcode { value: String },
}

pub(crate) fn run(c: &CheckCommand) -> Result<(), Failure> {
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
