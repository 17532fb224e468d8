//! The engine: the one lock over the store and the live sessions, and the entries every
//! operation goes through.
//!
//! An operation is a value ([`crate::ops::Command`] or [`crate::ops::Query`]) that declares
//! its [`Op`] (the permission gate), its audit record, and a `run` over a context. The engine
//! takes its lock in one place ([`Engine::lock`]), checks the session and the gate, opens the
//! transaction, runs the operation with a [`WriteCx`] or [`ReadCx`], applies what it asked of
//! the sessions ([`Effects`]), and commits, all under that lock. A context holds no engine and
//! no lock, so nothing that runs under the lock can call an engine entry again: the nested
//! call that used to deadlock cannot be written.
//!
//! Besides operations, the engine has named entries for what is no seat's operation: the
//! sign-in attempts (`session`), the reads the lock screen and `doctor` make without a session,
//! and the sync loop's bookkeeping and its application of pulled state.

pub(crate) mod context;
pub(crate) mod session;
pub(crate) mod write;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use ed25519_dalek::SigningKey;
use uuid::Uuid;

pub(crate) use context::{Authorized, Effects, Env, ReadCx, SessionEnd, WriteCx};
pub(crate) use write::{Actor, Record, Signer};

use crate::error::Result;
use crate::keys::TerminalKeys;
use crate::ops::{Command, Op, Query};
use crate::signal::SyncSignal;
use crate::store::Store;
use session::Sessions;

/// The store and the sessions: what the lock guards.
pub(crate) struct State {
    store: Store,
    sessions: Sessions,
}

/// An open terminal's engine.
pub(crate) struct Engine {
    state: Mutex<State>,
    env: Env,
    keys: TerminalKeys,
    /// The shop's name, for the status line and new authenticator entries; read again after
    /// a change here or a pull.
    shop_name: RwLock<String>,
    /// Mirrors `device.disabled_at_ms`.
    disabled: AtomicBool,
    /// The owner's wipe erased this terminal's keys: nothing more is served.
    wiped: AtomicBool,
    sync_signal: Arc<SyncSignal>,
}

impl Engine {
    pub(crate) fn new(
        store: Store,
        env: Env,
        keys: TerminalKeys,
        shop_name: String,
        disabled: bool,
    ) -> Engine {
        let sync_signal = store.sync_signal.clone();
        Engine {
            state: Mutex::new(State {
                store,
                sessions: Sessions::default(),
            }),
            env,
            keys,
            shop_name: RwLock::new(shop_name),
            disabled: AtomicBool::new(disabled),
            wiped: AtomicBool::new(false),
            sync_signal,
        }
    }

    /// The engine's lock, taken here and nowhere else. A panic while it was held cannot leave
    /// a half-written transaction (SQLite rolls it back), so the state stays usable.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn env(&self) -> &Env {
        &self.env
    }

    /// The terminal's root keys, for what only the terminal itself does with them (its
    /// recovery kit, signing requests to its cloud).
    pub(crate) fn keys(&self) -> &TerminalKeys {
        &self.keys
    }

    pub(crate) fn device_key(&self) -> &SigningKey {
        &self.keys.device
    }

    pub(crate) fn sync_signal(&self) -> Arc<SyncSignal> {
        self.sync_signal.clone()
    }

    pub(crate) fn shop_name(&self) -> String {
        self.shop_name
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn is_disabled(&self) -> bool {
        self.disabled.load(Ordering::SeqCst)
    }

    pub(crate) fn is_wiped(&self) -> bool {
        self.wiped.load(Ordering::SeqCst)
    }

    /// From now on nothing is served (the keys are gone).
    pub(crate) fn mark_wiped(&self) {
        self.wiped.store(true, Ordering::SeqCst);
    }

    fn signer(&self) -> Signer<'_> {
        Signer {
            tenant_id: self.env.tenant_id,
            device_id: self.env.device_id,
            key: &self.keys.device,
        }
    }

    /// Runs a command for the seat of `token`: the session and `C::OP` checked, then `run` in
    /// one transaction with its audit record, its effects on the sessions applied as it
    /// commits, all under the lock.
    pub(crate) fn execute<C: Command>(
        &self,
        token: &session::SessionToken,
        cmd: C,
    ) -> Result<C::Output> {
        let mut state = self.lock();
        let who = self.authorize(&mut state, token, C::OP)?;
        let record = cmd
            .record(&self.env)
            .map(|r| r.resolve(who.seat_id, who.cart));
        self.write(&mut state, &who, record, |cx| cmd.run(cx))
    }

    /// Runs a query for the seat of `token`, after the session and `Q::OP` are checked.
    pub(crate) fn query<Q: Query>(&self, token: &session::SessionToken, q: Q) -> Result<Q::Output> {
        let mut state = self.lock();
        let who = self.authorize(&mut state, token, Q::OP)?;
        q.run(&ReadCx::new(state.store.reader(), &self.env, &who))
    }

    /// Checks that the seat of `token` may do `op` now, without doing it: for refusing before
    /// slow work outside the lock (hashing a new PIN, reading a file), which the operation
    /// itself then checks again.
    pub(crate) fn check(&self, token: &session::SessionToken, op: Op) -> Result<()> {
        let mut state = self.lock();
        self.authorize(&mut state, token, op).map(drop)
    }

    /// One write for `who`: the record (if any), the effects, the commit.
    fn write<T>(
        &self,
        state: &mut State,
        who: &Authorized,
        record: Option<Record>,
        f: impl FnOnce(&mut WriteCx<'_, '_>) -> Result<T>,
    ) -> Result<T> {
        let State { store, sessions } = state;
        let mut effects = Effects::default();
        let signer = self.signer();
        let out = store.write(
            &signer,
            self.env.clock.as_ref(),
            &who.actor,
            record,
            |uow| {
                let conn = uow.conn();
                let mut cx = WriteCx::new(ReadCx::new(conn, &self.env, who), uow, &mut effects);
                let out = f(&mut cx)?;
                // Sessions this write ends hold their sales in the same transaction.
                self.hold_for_ending(sessions, &mut cx)?;
                Ok(out)
            },
        )?;
        self.apply(state, who, effects)?;
        Ok(out)
    }

    /// Session-less reads: the lock screen's status and roster, `doctor`, the sync loop's view
    /// of what to send.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> Result<T>) -> Result<T> {
        let state = self.lock();
        f(state.store.reader())
    }

    /// The sync loop's own records (state, alarms, acknowledged entries): see
    /// `Store::bookkeeping`. No audit record: recording a sync would make one more to sync.
    pub(crate) fn bookkeeping<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        self.lock().store.bookkeeping(f)
    }

    /// Applies pulled shared state in one transaction (see `Store::apply_pulled`); `f` reads
    /// what must stay as this terminal has it under the same lock. The shop's name is read
    /// again if anything was written.
    pub(crate) fn apply_pulled<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<(T, bool)>,
    ) -> Result<T> {
        let mut state = self.lock();
        let (out, wrote) = state.store.apply_pulled(f)?;
        if wrote {
            self.reload_shop_name(state.store.reader())?;
        }
        Ok(out)
    }

    fn reload_shop_name(&self, conn: &rusqlite::Connection) -> Result<()> {
        let name = crate::shop::name(conn, self.env.tenant_id)?;
        *self.shop_name.write().unwrap_or_else(|p| p.into_inner()) = name;
        Ok(())
    }

    /// SQLCipher's page-level HMAC check plus SQLite's quick check.
    pub(crate) fn integrity_problems(&self) -> Result<Vec<String>> {
        self.read(|conn| {
            let rows = |pragma: &str| -> Result<Vec<String>> {
                let mut stmt = conn.prepare(pragma)?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            };
            // SQLCipher's check names each page whose HMAC fails; SQLite's own check would
            // only report the same damage less precisely, so it runs only on a clean file.
            let problems = rows("PRAGMA cipher_integrity_check")?;
            if !problems.is_empty() {
                return Ok(problems);
            }
            Ok(rows("PRAGMA quick_check")?
                .into_iter()
                .filter(|q| q != "ok")
                .collect())
        })
    }

    /// The store, for the benchmarks' page counters and settings (feature `bench`).
    #[cfg(feature = "bench")]
    pub(crate) fn with_store<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        f(&self.lock().store)
    }

    /// A cart id's owner in the live sessions, for tests of the engine's bookkeeping.
    pub(crate) fn live_sessions(&self) -> usize {
        self.lock().sessions.count()
    }
}

/// Who makes a new store's first record: the owner creating the shop, or an enrollment (the
/// owner's one-time code is the authority; nobody has signed in on the terminal yet).
pub(crate) enum Founder {
    Owner(Uuid),
    Enrollment,
}

/// The first audited write of a store being built (`galla.db.new`), before it is open as a
/// terminal: shop creation and enrollment. Nobody is signed in, so the engine names the actor.
pub(crate) fn found<T>(
    store: &mut Store,
    env: &Env,
    key: &SigningKey,
    founder: Founder,
    record: Record,
    f: impl FnOnce(&mut WriteCx<'_, '_>) -> Result<T>,
) -> Result<T> {
    use galla_domain::{Access, Role};
    let now = env.clock.now_ms();
    let (actor, seat_id, roles) = match founder {
        Founder::Owner(seat) => (
            Actor::seat(seat, Role::Owner.name()),
            seat,
            vec![Role::Owner],
        ),
        Founder::Enrollment => (Actor::system("enrollment"), Uuid::nil(), vec![]),
    };
    let who = Authorized {
        actor,
        access: Access::with_default_limits(&roles, &[]),
        seat_id,
        key: [0; 32],
        cart: None,
        now,
        last_auth_at: now,
        pending_totp: None,
    };
    let signer = Signer {
        tenant_id: env.tenant_id,
        device_id: env.device_id,
        key,
    };
    let mut effects = Effects::default();
    store.write(
        &signer,
        env.clock.as_ref(),
        &who.actor,
        Some(record),
        |uow| {
            let conn = uow.conn();
            let mut cx = WriteCx::new(ReadCx::new(conn, env, &who), uow, &mut effects);
            f(&mut cx)
        },
    )
}
