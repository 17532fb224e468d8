//! A private PostgreSQL cluster in a folder of its own, for `galla-cloud dev` and the tests:
//! Debian's `postgresql` binaries, listening only on a Unix socket in that folder, on a port
//! chosen by the caller. `initdb` refuses to run as root, so as root every server command runs
//! as the `postgres` user (`runuser -u postgres --`) and the folder is handed to it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The superuser `initdb` creates; only bootstrap uses it.
pub const SUPERUSER: &str = "postgres";

/// A running cluster; stopped (fast shutdown) when dropped.
pub struct PgCluster {
    bin: PathBuf,
    data: PathBuf,
    socket_dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

fn is_root() -> bool {
    // The effective uid, without a libc dependency: /proc/self/status's Uid line.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// The folder of `initdb` and `pg_ctl`: `GALLA_PG_BIN`, else the newest Debian install.
fn find_bin() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("GALLA_PG_BIN").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .filter(|(v, _)| *v >= 15)
        .map(|(_, b)| b)
        .ok_or_else(|| Error::Setup {
            what: "PostgreSQL 15 or newer was not found under /usr/lib/postgresql".into(),
            fix: "install it: sudo apt install postgresql (or set GALLA_PG_BIN to its bin folder)"
                .into(),
        })
}

impl PgCluster {
    /// Creates a cluster under `root` (its `data` and `socket` folders) unless one is there,
    /// and starts it on `port`.
    pub fn start(root: &Path, port: u16) -> Result<PgCluster> {
        let bin = find_bin()?;
        let as_postgres = is_root();
        let data = root.join("data");
        let socket_dir = root.join("socket");
        std::fs::create_dir_all(&socket_dir)?;
        let cluster = PgCluster {
            bin,
            data,
            socket_dir,
            port,
            as_postgres,
        };
        if as_postgres {
            cluster.run(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(root),
            )?;
        }
        if !cluster.data.join("PG_VERSION").exists() {
            cluster.run(
                cluster
                    .server_command("initdb")
                    .arg("-D")
                    .arg(&cluster.data)
                    .args([
                        "-U",
                        SUPERUSER,
                        "--auth=trust",
                        "--encoding=UTF8",
                        "--no-sync",
                    ]),
            )?;
        }
        let options = format!(
            "-c listen_addresses='' -c unix_socket_directories='{}' -p {} -c fsync=off",
            cluster.socket_dir.display(),
            port
        );
        cluster.run(
            cluster
                .server_command("pg_ctl")
                .arg("-D")
                .arg(&cluster.data)
                .args(["-o", &options, "-l"])
                .arg(root.join("server.log"))
                .args(["-w", "-t", "30", "start"]),
        )?;
        cluster.wait_ready()?;
        Ok(cluster)
    }

    /// A libpq-style connection string for `user` and `database` over the private socket.
    pub fn connection_string(&self, user: &str, database: &str) -> String {
        format!(
            "host={} port={} user={user} dbname={database}",
            self.socket_dir.display(),
            self.port
        )
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn server_command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn run(&self, command: &mut Command) -> Result<()> {
        let out = command.stdin(Stdio::null()).output()?;
        if out.status.success() {
            return Ok(());
        }
        Err(Error::Setup {
            what: format!(
                "{:?} failed: {}",
                command.get_program(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            fix: "see the message above; the cluster's log is server.log in its folder".into(),
        })
    }

    fn wait_ready(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = Command::new(self.bin.join("pg_isready"))
                .arg("-h")
                .arg(&self.socket_dir)
                .args(["-p", &self.port.to_string(), "-q"])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::Setup {
                    what: "the private PostgreSQL did not become ready in 30 s".into(),
                    fix: "read server.log in the cluster's folder".into(),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let mut stop = self.server_command("pg_ctl");
        stop.arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let _ = stop.status();
    }
}
