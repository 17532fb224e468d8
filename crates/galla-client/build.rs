//! Embeds the numbered SQL files of `migrations/client/` in order, so a new file is picked up
//! without touching code and the binary never reads SQL from disk at run time.
//!
//! Every path this script hands to cargo is relative to the package root, never absolute: the
//! target directory is shared between checkouts (CI reuses it), and cargo gives the same build
//! unit to the same package in two checkouts. An absolute `rerun-if-changed` would watch the
//! other checkout's files and keep a stale list of migrations (a binary one migration short).

use std::{env, fs, path::PathBuf};

/// The migrations folder, relative to this package's root.
const MIGRATIONS: &str = "../../migrations/client";

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join(MIGRATIONS);
    println!("cargo:rerun-if-changed={MIGRATIONS}");
    println!("cargo:rerun-if-changed=build.rs");
    let mut files: Vec<(u32, String)> = fs::read_dir(&dir)
        .expect("migrations/client exists")
        .map(|e| e.expect("readable migrations dir").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let number: u32 = name
                .split('_')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| {
                    panic!("migration {name} must start with its number, e.g. 0002_")
                });
            (number, name)
        })
        .collect();
    files.sort();
    for (i, (n, name)) in files.iter().enumerate() {
        assert_eq!(
            *n as usize,
            i + 1,
            "migrations must be numbered 1, 2, 3... without gaps: {name}"
        );
        println!("cargo:rerun-if-changed={MIGRATIONS}/{name}");
    }
    // Resolved against the manifest directory when the crate compiles, so the generated file is
    // the same in every checkout and always reads this checkout's SQL.
    let body: String = files
        .iter()
        .map(|(_, name)| {
            format!(
                "    include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{MIGRATIONS}/{name}\")),\n"
            )
        })
        .collect();
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("migrations.rs");
    fs::write(
        out,
        format!("/// The client schema migrations, in order.\npub const CLIENT_MIGRATIONS: &[&str] = &[\n{body}];\n"),
    )
    .unwrap();
}
