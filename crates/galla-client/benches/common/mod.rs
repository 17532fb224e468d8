//! What the encrypted-versus-plain benches share: each store is measured in a child process of
//! its own, because the bundled SQLite is built with `SQLITE_ENABLE_MEMORY_MANAGEMENT`, which
//! makes the page cache one pool per process. Two stores in one process evict each other's
//! pages, and a comparison made that way measures the eviction, not the encryption.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

pub const STORES: [&str; 2] = ["SQLCipher", "SQLite"];

pub fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The store this process measures, when it is a child; `None` in the parent.
pub fn child_store() -> Option<String> {
    std::env::var("GALLA_BENCH_STORE").ok()
}

pub struct Stats {
    pub median: Duration,
    pub p99: Duration,
}

pub fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    let n = v.len().max(1);
    Stats {
        median: v[n / 2],
        p99: v[(n * 99 / 100).min(n - 1)],
    }
}

/// A child's figure, for the parent to read.
pub fn report(key: &str, v: Vec<Duration>) {
    let s = stats(v);
    println!(
        "RESULT\t{key}\t{}\t{}",
        s.median.as_nanos(),
        s.p99.as_nanos()
    );
}

/// A child's line of text the parent prints as it is.
pub fn note(text: &str) {
    println!("NOTE\t{text}");
}

/// Runs this binary once per store and prints one table: medians, p99s and the ratio.
pub fn compare_in_children() {
    let exe = std::env::current_exe().expect("own path");
    let mut results: Vec<BTreeMap<String, (u64, u64)>> = Vec::new();
    let mut order: Vec<String> = Vec::new();
    for kind in STORES {
        let out = Command::new(&exe)
            .env("GALLA_BENCH_STORE", kind)
            .stderr(Stdio::inherit())
            .output()
            .expect("run the measuring child");
        assert!(out.status.success(), "{kind} run failed");
        let mut map = BTreeMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let f: Vec<&str> = line.split('\t').collect();
            match f[..] {
                ["RESULT", key, median, p99] => {
                    if !order.iter().any(|k| k == key) {
                        order.push(key.to_string());
                    }
                    map.insert(
                        key.to_string(),
                        (median.parse().unwrap(), p99.parse().unwrap()),
                    );
                }
                ["NOTE", text] => println!("{kind}: {text}"),
                _ => {}
            }
        }
        results.push(map);
    }
    println!("| measure | SQLCipher median | p99 | SQLite median | p99 | ratio (median) |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let ms = |ns: u64| format!("{:.3} ms", ns as f64 / 1e6);
    for key in &order {
        let (Some(e), Some(p)) = (results[0].get(key), results[1].get(key)) else {
            let (store, v) = if let Some(e) = results[0].get(key) {
                ("SQLCipher", e)
            } else {
                ("SQLite", &results[1][key])
            };
            println!("| {key} ({store} only) | {} | {} | | | |", ms(v.0), ms(v.1));
            continue;
        };
        println!(
            "| {key} | {} | {} | {} | {} | {:.2}x |",
            ms(e.0),
            ms(e.1),
            ms(p.0),
            ms(p.1),
            e.0 as f64 / p.0 as f64
        );
    }
}
