//! The UI's TypeScript types, generated from the Rust types the commands take and return, so
//! the two sides cannot drift: `ui/src/lib/bindings.ts` is checked against this on every test
//! run. After changing a type: `GALLA_WRITE_BINDINGS=1 cargo test -p galla-desktop bindings`.

use galla_client as c;
use ts_rs::{Config, TS};

use crate::commands;

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/ui/src/lib/bindings.ts");

fn declare<T: TS>(cfg: &Config, out: &mut String) {
    if let Some(docs) = T::docs() {
        out.push_str(&docs);
    }
    out.push_str("export ");
    out.push_str(&T::decl(cfg));
    out.push_str("\n\n");
}

fn generate() -> String {
    // Money and counts are i64 in Rust; every amount a shop handles is far below 2^53.
    let cfg = Config::new().with_large_int("number");
    let mut out = String::from(
        "// Generated from the Rust types by src-tauri/src/bindings.rs. Do not edit: after a\n\
         // change to a type run `GALLA_WRITE_BINDINGS=1 cargo test -p galla-desktop bindings`.\n\n",
    );
    macro_rules! all {
        ($($t:ty),* $(,)?) => { $(declare::<$t>(&cfg, &mut out);)* };
    }
    all!(
        commands::AppStatus,
        commands::LockedSeat,
        commands::CommandError,
        c::ErrorCode,
        c::Status,
        c::SyncState,
        c::RecoveryKitState,
        c::NewShop,
        c::EnrollTerminal,
        c::AuditReport,
        c::RosterEntry,
        c::SecretKind,
        c::Role,
        c::Permission,
        c::SessionInfo,
        c::Restriction,
        c::SecondFactor,
        c::Product,
        c::PriceBasis,
        c::ProductRef,
        c::Cart,
        c::CartLine,
        c::CartStatus,
        c::SaleTerms,
        c::SaleView,
        c::Discount,
        c::Money,
        c::Quote,
        c::QuoteLine,
        c::DocumentKind,
        c::Supply,
        c::FinalizeRequest,
        c::PaymentInput,
        c::Invoice,
        c::InvoiceLine,
        c::Payment,
        c::Supplier,
        c::Receipt,
        crate::admin_commands::AuditExport,
        c::SeatDetails,
        c::NewSeat,
        c::Override,
        c::NewSupportSeat,
        c::SecurityEvent,
        c::ShopPolicy,
        c::ShopSettings,
        c::ShopDetails,
        c::TurnoverBand,
        c::AuditQuery,
        c::AuditEntry,
        c::AuditPage,
        crate::admin_commands::PolicyView,
        c::GstState,
        c::InvoiceSummary,
        c::NewCreditNote,
        c::ReturnLine,
        c::Settlement,
        c::CreditNote,
        c::CreditNoteLine,
        c::NewCustomer,
        c::CustomerChanges,
        c::CustomerView,
        c::LedgerPayment,
        c::LedgerEntry,
        c::Statement,
        c::DayReport,
        c::NumberRange,
        c::TaxTotals,
        c::HsnRow,
        c::NewProduct,
        c::ImportReport,
        c::RowError,
        c::LinkRequest,
        c::CloudAlert,
        c::AlertResolution,
        c::LinkOutcome,
        c::SyncAlarm,
    );
    let commands = commands_interface(&out);
    out.push_str(&commands);
    out.trim_end().to_owned() + "\n"
}

/// The files that hold `#[tauri::command]` functions.
const COMMAND_FILES: [&str; 4] = [
    "src-tauri/src/commands.rs",
    "src-tauri/src/admin_commands.rs",
    "src-tauri/src/counter_commands.rs",
    "src-tauri/src/sync_commands.rs",
];

/// A Rust type of a command's argument or result as TypeScript, by the same rules ts-rs uses
/// for the payload types (which must be declared: `declared` lists them).
fn ts_type(ty: &syn::Type, declared: &str) -> String {
    match ty {
        syn::Type::Reference(r) => ts_type(&r.elem, declared),
        syn::Type::Tuple(t) if t.elems.is_empty() => "null".into(),
        syn::Type::Path(p) => {
            let seg = p.path.segments.last().expect("a type has a name");
            let name = seg.ident.to_string();
            let inner = || match &seg.arguments {
                syn::PathArguments::AngleBracketed(a) => a
                    .args
                    .iter()
                    .filter_map(|g| match g {
                        syn::GenericArgument::Type(t) => Some(ts_type(t, declared)),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
                _ => Vec::new(),
            };
            match name.as_str() {
                "String" | "str" | "Uuid" | "SecretString" => "string".into(),
                "bool" => "boolean".into(),
                "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "f64" => {
                    "number".into()
                }
                "Vec" => format!("Array<{}>", inner()[0]),
                "Option" => format!("{} | null", inner()[0]),
                _ => {
                    assert!(
                        declared.contains(&format!("export type {name} =")),
                        "{name} is used by a command but not generated: add it to all! above"
                    );
                    name
                }
            }
        }
        other => panic!(
            "a command uses a type bindings.rs cannot name: {}",
            quote::ToTokens::to_token_stream(other)
        ),
    }
}

/// `line_id` → `lineId`: Tauri's default naming of command arguments.
fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `export interface Commands`: every command's arguments and result, read from the Rust
/// signatures, so `api.ts` cannot call a command with the wrong arguments or expect the wrong
/// result without failing its type check.
fn commands_interface(declared: &str) -> String {
    let mut entries = Vec::new();
    for file in COMMAND_FILES {
        let path = format!("{}/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("read a command file");
        let parsed = syn::parse_file(&text).expect("command files parse");
        for item in parsed.items {
            let syn::Item::Fn(f) = item else { continue };
            let is_command = f.attrs.iter().any(|a| {
                let p = a.path();
                p.segments.len() == 2
                    && p.segments[0].ident == "tauri"
                    && p.segments[1].ident == "command"
            });
            if !is_command {
                continue;
            }
            let mut args = Vec::new();
            for input in &f.sig.inputs {
                let syn::FnArg::Typed(arg) = input else {
                    continue;
                };
                let syn::Pat::Ident(ident) = arg.pat.as_ref() else {
                    panic!("{}: arguments are plain names", f.sig.ident)
                };
                let injected = matches!(arg.ty.as_ref(), syn::Type::Path(p)
                    if p.path.segments.last().is_some_and(|s| s.ident == "State" || s.ident == "AppHandle"));
                if !injected {
                    args.push(format!(
                        "{}: {}",
                        camel(&ident.ident.to_string()),
                        ts_type(&arg.ty, declared)
                    ));
                }
            }
            let returns = match &f.sig.output {
                syn::ReturnType::Default => "null".to_owned(),
                syn::ReturnType::Type(_, ty) => {
                    // Result<T, CommandError> resolves to T (the error is thrown).
                    let ok: &syn::Type = match ty.as_ref() {
                        syn::Type::Path(p)
                            if p.path.segments.last().is_some_and(|s| s.ident == "Result") =>
                        {
                            match &p.path.segments.last().unwrap().arguments {
                                syn::PathArguments::AngleBracketed(a) => match a.args.first() {
                                    Some(syn::GenericArgument::Type(t)) => t,
                                    _ => panic!("{}: Result<T, CommandError>", f.sig.ident),
                                },
                                _ => panic!("{}: Result<T, CommandError>", f.sig.ident),
                            }
                        }
                        other => other,
                    };
                    ts_type(ok, declared)
                }
            };
            let args = if args.is_empty() {
                "Record<string, never>".to_owned()
            } else {
                format!("{{ {} }}", args.join("; "))
            };
            entries.push(format!(
                "  {}: {{ args: {args}; returns: {returns} }};",
                f.sig.ident
            ));
        }
    }
    format!(
        "/**\n * Every command the page may call: its arguments (camelCase, as Tauri names them) and\n * what it returns. Read from the `#[tauri::command]` functions' signatures.\n */\nexport interface Commands {{\n{}\n}}\n",
        entries.join("\n")
    )
}

#[test]
fn bindings_match_the_rust_types() {
    let fresh = generate();
    if std::env::var_os("GALLA_WRITE_BINDINGS").is_some() {
        std::fs::write(FILE, &fresh).expect("write ui/src/lib/bindings.ts");
        return;
    }
    let committed = std::fs::read_to_string(FILE).unwrap_or_default();
    assert!(
        committed == fresh,
        "ui/src/lib/bindings.ts is out of date: run \
         GALLA_WRITE_BINDINGS=1 cargo test -p galla-desktop bindings, and commit it"
    );
}
