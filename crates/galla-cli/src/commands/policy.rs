//! `galla-cli policy`: the shop's session policy (idle timeouts, discount limits, who needs
//! two-step sign-in).

use clap::Subcommand;
use galla_client::{DataDir, Role};

use crate::Cli;
use crate::commands::seat::parse_role;
use crate::session::{Failure, json, open, sign_in};

#[derive(Subcommand)]
pub(crate) enum PolicyCommand {
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

pub(crate) fn run(cli: &Cli, dir: &DataDir, c: &PolicyCommand) -> Result<(), Failure> {
    match c {
        PolicyCommand::Show { json: as_json } => {
            let as_json = *as_json;
            let t = open(dir)?;
            let token = sign_in(cli, &t)?;
            let p = t.policy(&token)?;
            if as_json {
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
        PolicyCommand::Set {
            idle,
            discount,
            require,
            drop,
        } => {
            let t = open(dir)?;
            let token = sign_in(cli, &t)?;
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
    }
}
