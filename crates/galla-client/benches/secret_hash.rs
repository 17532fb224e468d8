//! Prices the Argon2id parameters seat secrets are hashed with, next to the other OWASP
//! settings, as one verification costs at the till (sign-in, unlock, re-authentication).
//! Prints medians; the chosen row is what `secret_hash` uses.
//!
//! Run: `cargo bench -p galla-client --bench secret_hash`

use std::time::{Duration, Instant};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::var("GALLA_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    println!("Argon2id verification of a 6-digit PIN, median of {rounds}:");
    println!(
        "{:<34} {:>10} {:>14}",
        "parameters", "verify", "guesses/s/core"
    );
    for (label, m_kib, t, chosen) in [
        ("m=19 MiB, t=2, p=1 (Galla)", 19 * 1024, 2, true),
        ("m=46 MiB, t=1, p=1 (OWASP alt.)", 46 * 1024, 1, false),
        ("m=64 MiB, t=3, p=1", 64 * 1024, 3, false),
    ] {
        let argon = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(m_kib, t, 1, None).unwrap(),
        );
        let phc = argon.hash_password(b"739102").unwrap().to_string();
        let parsed = PasswordHash::new(&phc).unwrap();
        let times: Vec<Duration> = (0..rounds)
            .map(|_| {
                let start = Instant::now();
                assert!(argon.verify_password(b"739102", &parsed).is_ok());
                start.elapsed()
            })
            .collect();
        let m = median(times);
        println!(
            "{:<34} {:>8.1} ms {:>14.1}{}",
            label,
            m.as_secs_f64() * 1e3,
            1.0 / m.as_secs_f64(),
            if chosen { "  <- used" } else { "" }
        );
    }
    // A live check that the engine's own hash uses the row marked "used".
    let h = galla_client::secret_hash::hash("739102").unwrap();
    assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
}
