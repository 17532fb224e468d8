//! The signal between the store and the sync loop: every committed audited write rings it,
//! "sync now" rings it, and the loop waits on it. Its own module because both the store (below
//! the engine) and the sync loop (above it) use it.

use std::sync::{Condvar, Mutex};

/// What wakes the loop.
#[derive(Debug, Default)]
pub(crate) struct Signals {
    /// Bumped by every committed write.
    pub(crate) writes: u64,
    /// "Sync now": skips a back-off wait too.
    pub(crate) asked: bool,
    pub(crate) stop: bool,
}

/// Shared between the store (which bumps `writes` on every commit), the UI and the loop.
#[derive(Debug, Default)]
pub struct SyncSignal {
    signals: Mutex<Signals>,
    pub(crate) changed: Condvar,
}

impl SyncSignal {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Signals> {
        self.signals.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A write committed: there is something to send.
    pub fn wrote(&self) {
        self.lock().writes += 1;
        self.changed.notify_all();
    }

    /// Someone pressed "sync now".
    pub fn ask(&self) {
        self.lock().asked = true;
        self.changed.notify_all();
    }

    pub(crate) fn stop(&self) {
        self.lock().stop = true;
        self.changed.notify_all();
    }
}
