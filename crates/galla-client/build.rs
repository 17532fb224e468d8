//! Embeds the numbered SQL files of `migrations/client/` in order, so a new file is picked up
//! without touching code and the binary never reads SQL from disk at run time.

use std::{env, fs, path::PathBuf};

fn main() {
    let dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../migrations/client");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<(u32, PathBuf)> = fs::read_dir(&dir)
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
            (number, p)
        })
        .collect();
    files.sort();
    for (i, (n, p)) in files.iter().enumerate() {
        assert_eq!(
            *n as usize,
            i + 1,
            "migrations must be numbered 1, 2, 3... without gaps: {}",
            p.display()
        );
        println!("cargo:rerun-if-changed={}", p.display());
    }
    let body: String = files
        .iter()
        .map(|(_, p)| format!("    include_str!({:?}),\n", p.canonicalize().unwrap()))
        .collect();
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("migrations.rs");
    fs::write(out, format!("/// The client schema migrations, in order.\npub const CLIENT_MIGRATIONS: &[&str] = &[\n{body}];\n")).unwrap();
}
