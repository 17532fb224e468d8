//! `galla-cli shop`: the shop's details and tax registration (GSTIN and state, turnover
//! band, composition).

use clap::Subcommand;
use galla_client::DataDir;

use crate::Cli;
use crate::session::{Failure, json, open, sign_in};

#[derive(Subcommand)]
pub(crate) enum ShopCommand {
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

pub(crate) fn run(cli: &Cli, dir: &DataDir, c: &ShopCommand) -> Result<(), Failure> {
    match c {
        ShopCommand::Show { json: as_json } => {
            let as_json = *as_json;
            let t = open(dir)?;
            let token = sign_in(cli, &t)?;
            let s = t.shop_settings(&token)?;
            if as_json {
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
        ShopCommand::Set {
            name,
            gstin,
            state,
            address,
            turnover,
            composition,
        } => {
            let t = open(dir)?;
            let token = sign_in(cli, &t)?;
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
    }
}
