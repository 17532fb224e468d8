//! The engine's shape, checked from its sources (docs/architecture.md, "Boundaries"):
//!
//! - a feature module never names `Terminal` or the `Engine`, never takes a lock, and writes
//!   only its own tables (through row structs it declares; no SQL that writes);
//! - the engine's lock is taken in one place;
//! - ratchets: counts that may only go down (`authorize(` calls, files with `impl Terminal`,
//!   `Storage(` errors). When one goes down, lower its number here.
//!
//! Each check fails on a source that breaks the rule: `rules_catch_what_they_forbid` feeds
//! the checkers such sources.

use std::collections::BTreeSet;
use std::path::Path;

/// Feature modules and the tables each owns. A feature may read any table; it writes only
/// these.
const FEATURES: &[(&str, &[&str])] = &[
    ("audit.rs", &[]),
    ("catalogue.rs", &["product", "product_barcode"]),
    (
        "credit_notes.rs",
        &["credit_note", "credit_note_line", "credit_note_imei"],
    ),
    ("customers.rs", &["customer", "pii_access"]),
    ("day_close.rs", &["day_close"]),
    (
        "invoices.rs",
        &["invoice", "invoice_line", "invoice_imei", "payment"],
    ),
    ("ledger.rs", &["ledger_entry"]),
    ("policy.rs", &["shop_policy"]),
    ("receipt.rs", &[]),
    ("recovery.rs", &["recovery_kit"]),
    ("sale/mod.rs", &["cart", "cart_line", "sale_event"]),
    ("sale/price.rs", &[]),
    ("sale/finalize.rs", &[]),
    (
        "seats/mod.rs",
        &["seat", "seat_guard", "seat_recovery_code", "security_event"],
    ),
    ("seats/admin.rs", &[]),
    ("seats/second_factor.rs", &[]),
    ("series.rs", &["doc_series"]),
    ("shop.rs", &["tenant", "device", "tenant_key"]),
    ("sync/records.rs", &["cloud_link", "alert_resolution"]),
];

/// The feature a module belongs to: a directory's modules share their `mod.rs`'s tables and
/// row structs.
fn feature_of(path: &str) -> &str {
    path.split_once('/').map_or(path, |(dir, _)| dir)
}

/// Upper bounds that may only go down.
const MAX_AUTHORIZE_CALLS: usize = 11;
const MAX_IMPL_TERMINAL_FILES: usize = 3;
const MAX_STORAGE_ERRORS: usize = 5;

fn src() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(src().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every `.rs` file under `src/`, as a path relative to it.
fn all_sources() -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, base, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(&src(), &src(), &mut out);
    out.sort();
    out
}

/// The code of a source without its comments (line comments and doc comments), so prose may
/// name what code may not.
fn code(source: &str) -> String {
    source
        .lines()
        .map(|l| match l.find("//") {
            // A `//` inside a string literal (a URL) is kept.
            Some(i) if l[..i].matches('"').count() % 2 == 0 => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `word` occurs in `text` as an identifier (not inside a longer one).
fn names(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !ident(before) && !ident(after)
    })
}

/// The words following each occurrence of `marker` (up to a non-identifier character).
fn words_after<'a>(text: &'a str, marker: &str) -> Vec<&'a str> {
    text.match_indices(marker)
        .map(|(i, _)| {
            let rest = &text[i + marker.len()..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

/// Tables the source declares row structs of (`table! { struct X in "t", ... }` and manual
/// `const TABLE: &'static str = "t"`), with the structs' names.
fn declared(text: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut tables = BTreeSet::new();
    let mut rows = BTreeSet::new();
    for (i, _) in text.match_indices(" in \"") {
        let head = &text[..i];
        let name = head
            .rsplit(|c: char| c.is_whitespace())
            .next()
            .unwrap_or("");
        let rest = &text[i + 5..];
        let table = &rest[..rest.find('"').unwrap_or(0)];
        if head.trim_end().rsplit(char::is_whitespace).nth(1) == Some("struct") {
            rows.insert(name.to_owned());
            tables.insert(table.to_owned());
        }
    }
    let marker = "const TABLE: &'static str = \"";
    for (i, _) in text.match_indices(marker) {
        let rest = &text[i + marker.len()..];
        tables.insert(rest[..rest.find('"').unwrap_or(0)].to_owned());
    }
    for w in words_after(text, "impl TableRow for ") {
        rows.insert(w.to_owned());
    }
    (tables, rows)
}

/// What is wrong with feature module `path` (its code `text`), given the row structs its
/// feature declares and the tables it owns.
fn feature_problems(
    path: &str,
    text: &str,
    own_rows: &BTreeSet<String>,
    own_tables: &[&str],
) -> Vec<String> {
    let mut out = Vec::new();
    // `base64::Engine` is base64's, not the engine.
    let text_without_base64 = text.replace("base64::Engine", "base64");
    for word in ["Terminal", "Engine"] {
        if names(&text_without_base64, word) {
            out.push(format!(
                "{path} names {word}: a feature runs on its context alone"
            ));
        }
    }
    if text.contains(".lock()") {
        out.push(format!(
            "{path} takes a lock: the engine holds the one lock"
        ));
    }
    for sql in ["INSERT INTO", "DELETE FROM", "INSERT OR", "REPLACE INTO"] {
        if text.contains(sql) {
            out.push(format!(
                "{path} writes SQL ({sql}): write through a row struct"
            ));
        }
    }
    if text.contains("UPDATE ") && text.contains(" SET ") {
        out.push(format!(
            "{path} writes SQL (UPDATE): write through a row struct"
        ));
    }
    let (tables, _) = declared(text);
    for t in &tables {
        if !own_tables.contains(&t.as_str()) {
            out.push(format!(
                "{path} declares a row of {t}, which is not its feature's table"
            ));
        }
    }
    let mut written: Vec<&str> = Vec::new();
    written.extend(words_after(text, ".update::<"));
    written.extend(words_after(text, ".delete::<"));
    written.extend(words_after(text, "cx.insert(&"));
    for w in written {
        // `cx.insert(&row)` of a value built elsewhere in the feature names no type.
        let is_type = w.chars().next().is_some_and(char::is_uppercase);
        if is_type && !own_rows.contains(w) {
            out.push(format!("{path} writes {w}, a row of another feature"));
        }
    }
    out
}

#[test]
fn every_feature_module_runs_on_its_context_and_writes_only_its_own_tables() {
    let mut problems = Vec::new();
    let mut rows_of = std::collections::BTreeMap::<String, BTreeSet<String>>::new();
    for (path, _) in FEATURES {
        let (_, rows) = declared(&code(&read(path)));
        rows_of
            .entry(feature_of(path).to_owned())
            .or_default()
            .extend(rows);
    }
    for (path, _) in FEATURES {
        let feature = feature_of(path);
        let tables: Vec<&str> = FEATURES
            .iter()
            .filter(|(p, _)| feature_of(p) == feature)
            .flat_map(|(_, t)| t.iter().copied())
            .collect();
        problems.extend(feature_problems(
            path,
            &code(&read(path)),
            &rows_of[feature],
            &tables,
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_table_a_row_struct_writes_belongs_to_exactly_one_feature() {
    let mut seen = BTreeSet::new();
    for (path, tables) in FEATURES {
        for t in *tables {
            assert!(seen.insert(*t), "{t} is owned twice (again by {path})");
        }
    }
    // No module outside the features declares a row struct (the engine writes its own log
    // and outbox without one).
    for path in all_sources() {
        if FEATURES.iter().any(|(p, _)| *p == path) || path == "rows.rs" {
            continue;
        }
        let (tables, _) = declared(&code(&read(&path)));
        assert!(
            tables.is_empty(),
            "{path} declares rows of {tables:?}: a table belongs to a feature module"
        );
    }
}

#[test]
fn the_engine_lock_is_taken_in_one_place() {
    // The engine's state is a `Mutex<State>` of engine/mod.rs, locked in `Engine::lock` alone.
    let holders: Vec<String> = all_sources()
        .into_iter()
        .filter(|p| code(&read(p)).contains("Mutex<State>"))
        .collect();
    assert_eq!(
        holders,
        ["engine/mod.rs"],
        "only the engine holds the state's mutex"
    );
    let engine = code(&read("engine/mod.rs"));
    assert_eq!(
        engine.matches(".lock()").count() - engine.matches("self.lock()").count(),
        1,
        "engine/mod.rs locks its state once, in `Engine::lock`; everything else calls it"
    );
    assert!(engine.contains("self.state.lock()"));
}

#[test]
fn ratchets_only_go_down() {
    let sources: Vec<(String, String)> = all_sources()
        .into_iter()
        .map(|p| {
            let c = code(&read(&p));
            (p, c)
        })
        .collect();
    let count =
        |needle: &str| -> usize { sources.iter().map(|(_, c)| c.matches(needle).count()).sum() };
    let authorize = count("authorize(");
    let storage = count("Storage(");
    let impl_terminal = sources
        .iter()
        .filter(|(_, c)| {
            c.lines()
                .any(|l| l.starts_with("impl Terminal {") || l.starts_with("impl Terminal<"))
        })
        .count();
    assert!(
        authorize <= MAX_AUTHORIZE_CALLS,
        "{authorize} `authorize(` calls, more than {MAX_AUTHORIZE_CALLS}: an operation runs through `Engine::execute` or `query`"
    );
    assert!(
        impl_terminal <= MAX_IMPL_TERMINAL_FILES,
        "{impl_terminal} files with `impl Terminal`, more than {MAX_IMPL_TERMINAL_FILES}: a feature is an operation, not a Terminal method"
    );
    assert!(
        storage <= MAX_STORAGE_ERRORS,
        "{storage} `Storage(` errors, more than {MAX_STORAGE_ERRORS}: give the failure a typed error"
    );
}

#[test]
fn rules_catch_what_they_forbid() {
    let own: BTreeSet<String> = ["CustomerRow".to_owned()].into();
    let tables = ["customer"];
    let check = |text: &str| feature_problems("x.rs", &code(text), &own, &tables);
    assert!(check("fn f(cx: &mut WriteCx) { cx.update::<CustomerRow>(id, &[]) }").is_empty());
    assert!(
        check("/// Calls Terminal::open\nfn f() {}").is_empty(),
        "prose may name it"
    );
    for bad in [
        "fn f(t: &Terminal) {}",
        "fn f(e: &crate::engine::Engine) {}",
        "fn f(m: &Mutex<u8>) { m.lock(); }",
        "const Q: &str = \"INSERT INTO customer (id) VALUES (?)\";",
        "const Q: &str = \"UPDATE product SET stock = 1\";",
        "fn f(cx: &mut WriteCx) { cx.update::<ProductRow>(id, &[]) }",
        "fn f(cx: &mut WriteCx) { cx.insert(&InvoiceRow { id }) }",
        "table! { struct P in \"product\", key id { id: Uuid } }",
    ] {
        assert!(!check(bad).is_empty(), "not caught: {bad}");
    }
    assert!(!names("ATerminal", "Terminal") && names("(Terminal)", "Terminal"));
}
