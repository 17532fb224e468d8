//! The background sync loop: one thread per open terminal that runs a pass when something was
//! written, when asked ("sync now"), and periodically; after a failure it retries on its own
//! with exponential back-off and full jitter (so a shop's terminals coming back together do not
//! knock on the server in step), never waiting for the next sale to try again.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::keychain::SecretStore;
pub use crate::signal::SyncSignal;
use crate::terminal::Terminal;

use super::cloud_client::is_transient;

/// When passes run.
#[derive(Debug, Clone, Copy)]
pub struct SyncSchedule {
    /// A pass at least this often while all is well (pull and checkpoint checks need it even
    /// when nothing is sold).
    pub period: Duration,
    /// The first retry after a failure waits up to this long; each further failure doubles it.
    pub backoff_base: Duration,
    /// The longest wait between retries.
    pub backoff_cap: Duration,
    /// Writes within this long of each other go in one pass (a sale is several records).
    pub settle: Duration,
}

impl Default for SyncSchedule {
    fn default() -> Self {
        SyncSchedule {
            period: Duration::from_secs(60),
            backoff_base: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(300),
            settle: Duration::from_millis(300),
        }
    }
}

impl SyncSchedule {
    /// The wait after `failures` failures in a row: uniform in [0, min(cap, base * 2^(n-1))].
    pub fn backoff(&self, failures: u32, random: u64) -> Duration {
        let shift = failures.saturating_sub(1).min(20);
        let ceiling = self
            .backoff_base
            .saturating_mul(1u32 << shift)
            .min(self.backoff_cap);
        let ms = ceiling.as_millis() as u64;
        if ms == 0 {
            return Duration::ZERO;
        }
        // Never zero: a server that is down should not be asked again at once.
        Duration::from_millis((random % ms).max(ms / 10).max(1))
    }
}

/// How the last pass went, for tests and the status area (the store keeps the same in
/// `sync_state`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoopState {
    pub passes: u64,
    pub failures_in_a_row: u32,
    /// The loop ended: the terminal was wiped or removed from the cloud.
    pub finished: bool,
}

/// The running loop; stops (and joins) when dropped.
pub struct SyncWorker {
    signal: Arc<SyncSignal>,
    state: Arc<Mutex<LoopState>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SyncWorker {
    /// Starts the loop for `terminal`; `keychain` is where a wipe erases its keys from.
    pub fn start(
        terminal: Arc<Terminal>,
        keychain: Arc<dyn SecretStore>,
        schedule: SyncSchedule,
    ) -> SyncWorker {
        let signal = terminal.sync_signal();
        let state = Arc::new(Mutex::new(LoopState::default()));
        let thread = {
            let (signal, state) = (signal.clone(), state.clone());
            std::thread::Builder::new()
                .name("galla-sync".into())
                .spawn(move || run(&terminal, keychain.as_ref(), schedule, &signal, &state))
                .expect("a thread for the sync loop")
        };
        SyncWorker {
            signal,
            state,
            thread: Some(thread),
        }
    }

    /// "Sync now".
    pub fn sync_now(&self) {
        self.signal.ask();
    }

    pub fn state(&self) -> LoopState {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Drop for SyncWorker {
    fn drop(&mut self) {
        self.signal.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    let _ = crate::crypto::fill_random(&mut b);
    u64::from_le_bytes(b)
}

fn run(
    terminal: &Terminal,
    keychain: &dyn SecretStore,
    schedule: SyncSchedule,
    signal: &SyncSignal,
    state: &Mutex<LoopState>,
) {
    let mut failures = 0u32;
    let mut seen_writes = signal.lock().writes;
    // The first pass runs at once: a terminal opening after a night offline sends at start.
    let mut wait = Duration::ZERO;
    let mut wake_on_write = true;
    loop {
        // Wait for the deadline, a write (unless backing off), "sync now", or stop.
        {
            let deadline = Instant::now() + wait;
            let mut s = signal.lock();
            loop {
                if s.stop {
                    return;
                }
                if s.asked {
                    s.asked = false;
                    break;
                }
                if wake_on_write && s.writes != seen_writes {
                    break;
                }
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                s = signal
                    .changed
                    .wait_timeout(s, deadline - now)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
        }
        // Let a burst of writes (one sale's records) land before sending.
        if !schedule.settle.is_zero() {
            std::thread::sleep(schedule.settle);
        }
        seen_writes = signal.lock().writes;
        let outcome = terminal.sync_pass(keychain);
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        st.passes += 1;
        match outcome {
            Ok(_) => {
                failures = 0;
                wait = schedule.period;
                wake_on_write = true;
            }
            Err(Error::TerminalWiped)
            | Err(Error::CloudRefused {
                code: galla_proto::api::ErrorCode::DeviceRevoked,
                ..
            }) => {
                st.finished = true;
                st.failures_in_a_row = failures + 1;
                return;
            }
            Err(Error::NotLinked) => {
                // Nothing to do until the shop links; "sync now" or a write looks again.
                failures = 0;
                wait = schedule.period;
                wake_on_write = true;
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                wait = schedule.backoff(failures, random_u64());
                // A failing server is not asked again on every sale; "sync now" still is.
                wake_on_write = false;
                if !is_transient(&e) {
                    tracing::warn!(error = %e, "sync failed; retrying after a back-off");
                }
            }
        }
        st.failures_in_a_row = failures;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn backoff_stays_within_its_ceiling_and_above_zero(failures in 1u32..64, random: u64) {
            let s = SyncSchedule::default();
            let wait = s.backoff(failures, random);
            let ceiling = s.backoff_base.saturating_mul(1 << (failures - 1).min(20)).min(s.backoff_cap);
            prop_assert!(wait <= ceiling);
            prop_assert!(wait >= ceiling / 10);
        }
    }

    #[test]
    fn backoff_grows_then_caps() {
        let s = SyncSchedule::default();
        // The largest draw: one millisecond under the ceiling.
        let top = |n: u32, ceiling_ms: u64| s.backoff(n, ceiling_ms - 1);
        assert_eq!(top(1, 2_000), Duration::from_millis(1_999));
        assert_eq!(top(3, 8_000), Duration::from_millis(7_999));
        assert_eq!(top(30, 300_000), Duration::from_millis(299_999), "capped");
        // The smallest draw is a tenth of the ceiling, never an immediate retry.
        assert_eq!(s.backoff(30, 0), Duration::from_secs(30));
    }
}
