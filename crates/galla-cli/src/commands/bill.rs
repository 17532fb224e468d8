//! `galla-cli bill`: bill headlessly, a cart as JSON in, the finalized invoice as JSON out.

use std::path::Path;

use galla_client::{DataDir, SessionToken, Terminal};

use crate::Cli;
use crate::session::{Failure, io, json, open, sign_in};

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
            let line =
                cart.lines
                    .last()
                    .map(|x| x.line_id)
                    .ok_or(galla_client::Error::Internal(
                        "the line just added is missing",
                    ))?;
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

pub(crate) fn run(cli: &Cli, dir: &DataDir, file: &Path) -> Result<(), Failure> {
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
    let t = open(dir)?;
    let token = sign_in(cli, &t)?;
    let invoice = bill(&t, &token, &parsed)?;
    println!("{}", json(&invoice));
    Ok(())
}
