//! What an operation sees while it runs under the engine's lock: a read context (the store's
//! connection, or the open transaction) or a write context (the same, plus the unit of work
//! and the effects to apply once it commits), each with the terminal's fixed facts (tenant,
//! device, series, column cipher, rate schedule, clock) and the authorized seat.
//!
//! Neither holds the engine, the `Terminal` or the lock, so code running under the lock cannot
//! call back into an engine entry: one feature uses another by calling its function with the
//! context it was given.

use std::sync::Arc;

use galla_domain::{Access, RateSchedule};
use rusqlite::Connection;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::write::{Actor, Record, UnitOfWork};
use crate::clock::Clock;
use crate::crypto::ColumnCipher;
use crate::error::Result;
use crate::rows::{Field, TableRow};

/// The terminal's facts every operation may use, fixed while it is open. The device's keys are
/// not here: only the engine signs.
pub(crate) struct Env {
    pub(crate) tenant_id: Uuid,
    pub(crate) device_id: Uuid,
    /// This terminal's invoice series (`T1`; credit notes add `C`).
    pub(crate) series_code: String,
    pub(crate) cipher: ColumnCipher,
    /// GST rates by HSN and date (`galla-domain/data/gst-rates.csv`).
    pub(crate) rates: RateSchedule,
    pub(crate) clock: Arc<dyn Clock>,
    /// This terminal's device key's public half (what its audit records verify with).
    pub(crate) device_public: ed25519_dalek::VerifyingKey,
}

/// Who an operation runs for: the seat whose session the engine just checked, with its merged
/// access, at one instant.
pub(crate) struct Authorized {
    pub(crate) actor: Actor,
    pub(crate) access: Access,
    pub(crate) seat_id: Uuid,
    /// The session's key (the SHA-256 of its token).
    pub(crate) key: [u8; 32],
    /// The session's sale in progress.
    pub(crate) cart: Option<Uuid>,
    pub(crate) now: i64,
    /// The session's last sign-in or re-authentication.
    pub(crate) last_auth_at: i64,
    /// A second factor being set up in this session, not yet confirmed.
    pub(crate) pending_totp: Option<Zeroizing<Vec<u8>>>,
}

/// Reads, with the terminal's facts and the authorized seat.
pub(crate) struct ReadCx<'a> {
    conn: &'a Connection,
    env: &'a Env,
    who: &'a Authorized,
}

impl<'a> ReadCx<'a> {
    pub(super) fn new(conn: &'a Connection, env: &'a Env, who: &'a Authorized) -> ReadCx<'a> {
        ReadCx { conn, env, who }
    }

    /// The store's connection (or the write's transaction): reads only, the authorizer
    /// refuses writes through it.
    pub(crate) fn conn(&self) -> &'a Connection {
        self.conn
    }
    pub(crate) fn tenant_id(&self) -> Uuid {
        self.env.tenant_id
    }
    pub(crate) fn device_id(&self) -> Uuid {
        self.env.device_id
    }
    pub(crate) fn series_code(&self) -> &'a str {
        &self.env.series_code
    }
    pub(crate) fn cipher(&self) -> &'a ColumnCipher {
        &self.env.cipher
    }
    pub(crate) fn rates(&self) -> &'a RateSchedule {
        &self.env.rates
    }
    /// This terminal's device key's public half.
    pub(crate) fn device_public(&self) -> ed25519_dalek::VerifyingKey {
        self.env.device_public
    }
    /// The instant the operation was authorized at (Unix ms): one time for all it does.
    pub(crate) fn now(&self) -> i64 {
        self.who.now
    }
    pub(crate) fn seat_id(&self) -> Uuid {
        self.who.seat_id
    }
    pub(crate) fn access(&self) -> &'a Access {
        &self.who.access
    }
    /// The session's sale in progress.
    pub(crate) fn session_cart(&self) -> Option<Uuid> {
        self.who.cart
    }
    /// When the session last proved its secret.
    pub(crate) fn last_auth_at(&self) -> i64 {
        self.who.last_auth_at
    }
    /// The second factor this session is setting up, if it began one.
    pub(crate) fn pending_totp(&self) -> Option<&'a [u8]> {
        self.who.pending_totp.as_deref().map(Vec::as_slice)
    }
}

/// How a session ends, as the engine tells the seat afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionEnd {
    Revoked,
    SignedOutEverywhere,
}

/// What an operation asks the engine to do to the live sessions once it commits. Sessions live
/// in the engine's memory, which no operation reaches; they say here what should change.
#[derive(Default)]
pub(crate) struct Effects {
    /// The session's sale is now this one (or none).
    pub(crate) cart: Option<Option<Uuid>>,
    /// The session's second factor being set up (or none).
    pub(crate) pending_totp: Option<Option<Zeroizing<Vec<u8>>>>,
    /// Every session of these seats on this terminal ends (their sales held first).
    pub(crate) end_sessions: Vec<(Uuid, SessionEnd)>,
    /// The terminal was disabled (every session ends but those of seats that may enable it)
    /// or enabled.
    pub(crate) disabled: Option<bool>,
    /// The shop's name may have changed.
    pub(crate) shop_renamed: bool,
}

/// Writes: the unit of work in the operation's transaction, its reads, and its effects.
pub(crate) struct WriteCx<'a, 't> {
    read: ReadCx<'a>,
    uow: &'a mut UnitOfWork<'t>,
    effects: &'a mut Effects,
}

impl<'a, 't> WriteCx<'a, 't> {
    pub(super) fn new(
        read: ReadCx<'a>,
        uow: &'a mut UnitOfWork<'t>,
        effects: &'a mut Effects,
    ) -> WriteCx<'a, 't> {
        WriteCx { read, uow, effects }
    }

    pub(crate) fn insert<R: TableRow>(&mut self, row: &R) -> Result<()> {
        self.uow.insert(row)
    }
    pub(crate) fn update<R: TableRow>(&mut self, id: &str, fields: &[Field]) -> Result<()> {
        self.uow.update::<R>(id, fields)
    }
    pub(crate) fn delete<R: TableRow>(&mut self, id: &str) -> Result<()> {
        self.uow.delete::<R>(id)
    }

    /// Closes what was written so far into a record of its own (see `UnitOfWork::seal`).
    pub(crate) fn seal(&mut self, record: Record) -> Result<()> {
        self.uow.seal(record)
    }

    /// Adds a named image that is no row (what the owner needs of a sale's history, in its
    /// finalize record).
    pub(crate) fn note(&mut self, key: String, image: serde_json::Value) {
        self.uow.note(key, image);
    }

    pub(crate) fn effects(&mut self) -> &mut Effects {
        self.effects
    }
}

impl<'a> std::ops::Deref for WriteCx<'a, '_> {
    type Target = ReadCx<'a>;
    fn deref(&self) -> &ReadCx<'a> {
        &self.read
    }
}
