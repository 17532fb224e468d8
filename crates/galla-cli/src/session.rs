//! What the CLI's commands share: how a command fails (exit 1 or 2), finding and opening the
//! shop, reading secrets, signing in as a seat, printing.

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;

use galla_client::{
    AuditReport, DataDir, OsKeychain, Role, SecondFactor, SecretKind, SecretString, SessionToken,
    SystemClock, Terminal,
};

use crate::Cli;

/// Why a command stopped.
pub(crate) enum Failure {
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

pub(crate) fn data_dir(cli: &Cli) -> Result<DataDir, Failure> {
    Ok(match &cli.data_dir {
        Some(p) => DataDir::new(p),
        None => DataDir::default_for_user()?,
    })
}

pub(crate) fn open(dir: &DataDir) -> Result<Terminal, Failure> {
    Ok(open_with_keychain(dir)?.0)
}

/// The terminal and the keychain it opened with (a sync pass needs it again).
pub(crate) fn open_with_keychain(dir: &DataDir) -> Result<(Terminal, OsKeychain), Failure> {
    let keychain = OsKeychain::connect()?;
    let t = Terminal::open(dir, &keychain, Arc::new(SystemClock))?;
    Ok((t, keychain))
}

pub(crate) fn io(e: std::io::Error) -> Failure {
    Failure::Error(e.into())
}

/// One secret: the next line of standard input, or a prompt without echo.
pub(crate) fn read_secret(from_stdin: bool, prompt: &str) -> Result<SecretString, Failure> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = zeroize::Zeroizing::new(String::new());
        std::io::stdin().lock().read_line(&mut line).map_err(io)?;
        return Ok(SecretString::new(line.trim_end_matches(['\r', '\n'])));
    }
    Ok(SecretString::new(
        rpassword::prompt_password(prompt).map_err(io)?,
    ))
}

/// A new secret: typed twice at a terminal, one line from standard input otherwise.
pub(crate) fn read_new_secret(from_stdin: bool, prompt: &str) -> Result<SecretString, Failure> {
    if from_stdin || !std::io::stdin().is_terminal() {
        return read_secret(true, prompt);
    }
    let first = read_secret(false, prompt)?;
    let again = read_secret(false, "Again: ")?;
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

/// Signs in as `--seat` (or the only owner), as the app's lock screen would.
pub(crate) fn sign_in(cli: &Cli, t: &Terminal) -> Result<SessionToken, Failure> {
    let roster = t.roster()?;
    let seat = match &cli.seat {
        Some(name) => roster
            .iter()
            .find(|s| s.display_name.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                refused(format!(
                    "no seat named {name:?} may sign in here; `galla-cli seat list` shows the seats"
                ))
            })?,
        None => {
            let owners: Vec<_> = roster
                .iter()
                .filter(|s| s.roles.contains(&Role::Owner))
                .collect();
            match owners.as_slice() {
                [one] => *one,
                _ => {
                    return Err(refused(
                        "this shop has several owners: say which with --seat NAME".into(),
                    ));
                }
            }
        }
    };
    let what = match seat.secret_kind {
        SecretKind::Pin => "PIN",
        SecretKind::Passphrase => "passphrase",
    };
    let secret = read_secret(
        cli.secret_stdin,
        &format!("{}'s {what}: ", seat.display_name),
    )?;
    let second = if seat.second_factor {
        let code = match &cli.code {
            Some(c) => SecretString::new(c.as_str()),
            None => read_secret(
                cli.secret_stdin,
                "Code from the authenticator app (or a recovery code): ",
            )?,
        };
        Some(if code.expose().trim().len() > 8 {
            SecondFactor::RecoveryCode(code)
        } else {
            SecondFactor::Code(code)
        })
    } else {
        None
    };
    Ok(t.sign_in(seat.seat_id, &secret, second.as_ref())?.token)
}

pub(crate) fn refused(msg: String) -> Failure {
    Failure::Error(galla_client::InputError::Conflict(msg).into())
}

pub(crate) fn seat_named(
    t: &Terminal,
    token: &SessionToken,
    name: &str,
) -> Result<uuid::Uuid, Failure> {
    t.seat_details(token)?
        .into_iter()
        .find(|s| s.revoked_at_ms.is_none() && s.display_name.eq_ignore_ascii_case(name.trim()))
        .map(|s| s.seat_id)
        .ok_or_else(|| refused(format!("no seat named {name:?}")))
}

/// Prints an import's outcome; any bad row is a problem found (exit 1), nothing imported.
pub(crate) fn report_import(
    r: &galla_client::ImportReport,
    as_json: bool,
    what: &str,
) -> Result<(), Failure> {
    if as_json {
        println!("{}", json(r));
    } else if r.errors.is_empty() {
        println!("imported {} {what}", r.imported);
    } else {
        for e in &r.errors {
            println!("line {}: {}: {}", e.line, e.field, e.message);
        }
    }
    if r.errors.is_empty() {
        Ok(())
    } else {
        Err(Failure::Found(format!(
            "{} of {} rows are bad; nothing was imported",
            r.errors.len(),
            r.rows
        )))
    }
}

pub(crate) fn report_chain(r: &AuditReport) -> Result<(), Failure> {
    match &r.problem {
        None => Ok(()),
        Some(p) => Err(Failure::Found(format!(
            "{} records verify, then: {p}",
            r.verified
        ))),
    }
}

pub(crate) fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}
