//! `galla-cli seat`: the seats that may sign in, adding one, revoking one, a new secret.

use clap::{Subcommand, ValueEnum};
use galla_client::{DataDir, NewSeat, Role, SecretKind};

use crate::Cli;
use crate::session::{Failure, json, open, read_new_secret, seat_named, sign_in};

#[derive(Subcommand)]
pub(crate) enum SeatCommand {
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
pub(crate) enum Kind {
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

pub(crate) fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("{s:?} is not a role"))
}

pub(crate) fn run(cli: &Cli, dir: &DataDir, c: &SeatCommand) -> Result<(), Failure> {
    match c {
        SeatCommand::List { json: as_json } => {
            let as_json = *as_json;
            let roster = open(dir)?.roster()?;
            if as_json {
                println!("{}", json(&roster));
            } else {
                for s in roster {
                    let roles: Vec<&str> = s.roles.iter().map(|r| r.name()).collect();
                    println!("{:<24} {}", s.display_name, roles.join(", "));
                }
            }
            Ok(())
        }
        SeatCommand::Add {
            name,
            roles,
            secret,
        } => {
            let t = open(dir)?;
            let token = sign_in(cli, &t)?;
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
        SeatCommand::Revoke { name } => {
            let t = open(dir)?;
            let token = sign_in(cli, &t)?;
            let id = seat_named(&t, &token, name)?;
            t.revoke_seat(&token, id)?;
            println!("revoked seat {name:?}: it can no longer sign in");
            Ok(())
        }
        SeatCommand::ResetSecret { name, secret } => {
            let t = open(dir)?;
            let token = sign_in(cli, &t)?;
            let id = seat_named(&t, &token, name)?;
            let new = read_new_secret(cli.secret_stdin, &format!("{name}'s new secret: "))?;
            t.reset_seat_secret(&token, id, (*secret).into(), &new)?;
            println!("set a new secret for {name:?}");
            Ok(())
        }
    }
}
