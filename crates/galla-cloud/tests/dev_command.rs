//! `galla-cloud dev` as a newcomer runs it: one command gives a migrated private PostgreSQL,
//! a development CA and an HTTPS server that answers; SIGTERM stops it cleanly (and its
//! PostgreSQL with it).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn one_command_gives_a_working_server_that_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_galla-cloud"))
        .args(["dev", "--dir"])
        .arg(dir.path().join("cloud"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--pg-port", &common::free_port().to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut printed = String::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if line == "ready" {
            break;
        }
    }
    assert!(printed.contains("a terminal trusts this CA"), "{printed}");
    let ca = dir.path().join("cloud/tls/dev-ca.pem");
    assert!(ca.exists());

    // The server may still be binding when "ready" prints: retry briefly.
    let deadline = Instant::now() + Duration::from_secs(10);
    let body = loop {
        let out = Command::new("curl")
            .args(["-s", "--tlsv1.3", "--cacert"])
            .arg(&ca)
            .arg(format!("https://localhost:{port}/healthz"))
            .output()
            .expect("curl is installed");
        if out.status.success() || Instant::now() > deadline {
            break String::from_utf8_lossy(&out.stdout).into_owned();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(body, "ok");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "galla-cloud dev did not stop");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
    // Its PostgreSQL stopped with it: the postmaster's pid file is gone.
    assert!(
        !dir.path()
            .join("cloud/postgres/data/postmaster.pid")
            .exists()
    );
}
