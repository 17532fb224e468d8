//! A fault-injecting TCP proxy for the sync chaos test (issue 7): it sits between terminals and
//! the cloud and, per connection, refuses it, delays it, or cuts the response part-way, as a
//! seeded generator decides, so a failing run replays from its printed seed.
//!
//! It works on bytes, below TLS, which is what real networks do to a sync: a connection
//! refused, a slow link, an answer lost after the server acted on the request. Duplicated
//! *deliveries* come from that last fault: the terminal never hears the answer and sends the
//! request again, so the server sees it twice. (Duplicating bytes inside one TLS connection
//! would only break its MAC, which tests nothing of Galla.)

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

/// How often each fault strikes, in parts per thousand of connections.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Accept and close at once.
    pub refuse_per_mille: u32,
    /// Forward the request, then only part of the response, then close both sides.
    pub cut_response_per_mille: u32,
    /// Delay each forwarded chunk by up to this many milliseconds (0: never).
    pub max_delay_ms: u64,
}

/// What happens to one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Refuse,
    /// Pass at most this many response bytes, then close.
    CutAfter(usize),
    Pass,
}

/// The decisions, in connection order, from a seed: the same seed gives the same fates.
pub struct Plan {
    rng: StdRng,
    faults: Faults,
}

impl Plan {
    pub fn new(seed: u64, faults: Faults) -> Plan {
        Plan {
            rng: StdRng::seed_from_u64(seed),
            faults,
        }
    }

    pub fn next_fate(&mut self) -> (Fate, u64) {
        let roll = self.rng.random_range(0..1000);
        let fate = if roll < self.faults.refuse_per_mille {
            Fate::Refuse
        } else if roll < self.faults.refuse_per_mille + self.faults.cut_response_per_mille {
            // Anywhere from inside the TLS handshake to deep into the body.
            Fate::CutAfter(self.rng.random_range(0..16 * 1024))
        } else {
            Fate::Pass
        };
        let delay = if self.faults.max_delay_ms == 0 {
            0
        } else {
            self.rng.random_range(0..=self.faults.max_delay_ms)
        };
        (fate, delay)
    }
}

/// Counts of what the proxy did, for the test's report.
#[derive(Debug, Default)]
pub struct Tally {
    pub connections: AtomicU64,
    pub refused: AtomicU64,
    pub cut: AtomicU64,
}

/// A running proxy: `addr` forwards to the upstream it was started with until dropped.
pub struct FaultProxy {
    pub addr: SocketAddr,
    pub tally: Arc<Tally>,
    plan: Arc<Mutex<Plan>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream` with the faults of `plan`.
    pub async fn start(upstream: SocketAddr, plan: Plan) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let tally = Arc::new(Tally::default());
        let plan = Arc::new(Mutex::new(plan));
        let counts = tally.clone();
        let fates = plan.clone();
        let task = tokio::spawn(async move {
            let plan = fates;
            while let Ok((client, _)) = listener.accept().await {
                let (fate, delay_ms) = plan.lock().await.next_fate();
                counts.connections.fetch_add(1, Ordering::Relaxed);
                let counts = counts.clone();
                tokio::spawn(async move {
                    match fate {
                        Fate::Refuse => {
                            counts.refused.fetch_add(1, Ordering::Relaxed);
                            drop(client);
                        }
                        Fate::CutAfter(limit) => {
                            counts.cut.fetch_add(1, Ordering::Relaxed);
                            let _ = relay(client, upstream, Some(limit), delay_ms).await;
                        }
                        Fate::Pass => {
                            let _ = relay(client, upstream, None, delay_ms).await;
                        }
                    }
                });
            }
        });
        Ok(FaultProxy {
            addr,
            tally,
            plan,
            task,
        })
    }

    /// Changes the faults for connections from now on (the seeded sequence goes on), so a test
    /// can let the network heal before it checks the outcome.
    pub async fn set_faults(&self, faults: Faults) {
        self.plan.lock().await.faults = faults;
    }
}

/// Copies both ways; the upstream-to-client direction stops after `limit` bytes when given,
/// and then both connections are closed (the client sees the answer end part-way).
async fn relay(
    client: TcpStream,
    upstream: SocketAddr,
    limit: Option<usize>,
    delay_ms: u64,
) -> std::io::Result<()> {
    let server = TcpStream::connect(upstream).await?;
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let delay = Duration::from_millis(delay_ms);
    let up = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = client_read.read(&mut buf).await?;
            if n == 0 {
                return server_write.shutdown().await;
            }
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            server_write.write_all(&buf[..n]).await?;
        }
    };
    let down = async {
        let mut buf = vec![0u8; 16 * 1024];
        let mut left = limit.unwrap_or(usize::MAX);
        loop {
            let n = server_read.read(&mut buf).await?;
            if n == 0 {
                return client_write.shutdown().await;
            }
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let n = n.min(left);
            client_write.write_all(&buf[..n]).await?;
            left -= n;
            if left == 0 {
                // The cut: nothing more reaches the client, and the connection ends.
                return Err(std::io::Error::other("response cut by the fault proxy"));
            }
        }
    };
    // Whichever direction ends first (or fails) ends the connection.
    tokio::select! {
        r = up => r,
        r = down => r,
    }
}
