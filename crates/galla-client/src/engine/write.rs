//! The one write path (DESIGN.md invariant 1).
//!
//! A business operation runs inside [`Store::write`]: its row changes, one signed audit record
//! describing them (before and after images) and one outbox entry for sync are committed in a
//! single SQLite transaction, or none of them are. The store's authorizer refuses writes from
//! anywhere else, so there is no second path to forget.
//!
//! The one exception is this terminal's scratch state, a sale being rung up ([`is_local`]):
//! its rows are written in the same transactions, durably (a held sale survives a crash), but
//! they are not shared and make no image, so ringing up a sale is not a chain of signed
//! records. What the owner needs of a sale's history goes into its finalize record, and the
//! edits that matter on their own (a line taken off after it was rung up, a discarded sale)
//! are audited rows of their own (`sale_event`).

use base64::Engine;
use ed25519_dalek::SigningKey;
use galla_proto::tables::{self, Kept, Merge};
use galla_proto::{AuditRecord, GENESIS_HASH};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use crate::clock::Clock;
use crate::error::{Error, Result};
pub(crate) use crate::rows::Field;
use crate::rows::TableRow;
use crate::store::Store;

/// This terminal's scratch state, a sale being rung up (`Kept::Scratch` in the table
/// registry): written in the unit of work's transaction like any row, never imaged, never
/// shared (see the module comment).
fn is_local(table: &str) -> bool {
    tables::terminal_only(table).is_some_and(|t| t.kept == Kept::Scratch)
}

/// Who is acting: stamped into every audit record. Only the engine makes one (the session
/// check, a sign-in attempt, shop creation and enrollment), so no write happens without a
/// seat that was allowed to make it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    seat_id: Option<Uuid>,
    role: String,
}

impl Actor {
    /// A seat, stamped with its role (`Terminal`'s session check, or a sign-in attempt).
    pub(in crate::engine) fn seat(seat_id: Uuid, role: impl Into<String>) -> Actor {
        Actor {
            seat_id: Some(seat_id),
            role: role.into(),
        }
    }

    /// No seat: the terminal itself (enrollment, where the owner's code is the authority).
    pub(in crate::engine) fn system(role: &str) -> Actor {
        Actor {
            seat_id: None,
            role: role.into(),
        }
    }
}

/// Columns whose values never enter an audit record (which is exported and shown): a shared
/// table's `secret` columns in the registry (secret hashes, second-factor secrets). The audit
/// image holds a digest instead, so a change is still visible; the outbox, inside the encrypted
/// store, carries only these values for sync (everything else travels in the signed record).
fn secret_columns(table: &str) -> &'static [&'static str] {
    tables::shared(table).map_or(&[], |t| t.secret)
}

/// The real values of `table`'s redacted columns in `image` (those present and not null).
pub(crate) fn redacted_values(table: &str, image: &Json) -> Map<String, Json> {
    values_of(secret_columns(table), image)
}

fn values_of(columns: &[&str], image: &Json) -> Map<String, Json> {
    let mut out = Map::new();
    let Json::Object(row) = image else { return out };
    for c in columns {
        if let Some(v) = row.get(*c)
            && !v.is_null()
        {
            out.insert((*c).to_owned(), v.clone());
        }
    }
    out
}

fn redact(table: &str, image: &mut Json) {
    redact_columns(secret_columns(table), image);
}

fn redact_columns(columns: &[&str], image: &mut Json) {
    let Json::Object(row) = image else { return };
    for c in columns {
        if let Some(v) = row.get_mut(*c)
            && !v.is_null()
        {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(v.to_string().as_bytes());
            let mut m = Map::new();
            m.insert(
                "$redacted".into(),
                Json::String(format!("sha256:{}", hex::encode(&digest[..16]))),
            );
            *v = Json::Object(m);
        }
    }
}

/// Stamps an edit of a row of a `Merge::Stamped` table (the registry): every insert and
/// update that changes a shared column stamps the row's `hlc` column with this terminal's
/// hybrid logical clock, so the cloud can tell which edit of a field came last. Changing only
/// local and touch columns is no edit (a sale's stock count leaves the stamp alone).
fn stamped(table: &str, fields: &[Field], stamp: Option<&str>) -> Option<Vec<Field>> {
    let shared = tables::shared(table).filter(|t| t.merge == Merge::Stamped)?;
    let stamp = stamp?;
    if !shared.is_edit(fields.iter().map(|(c, _)| *c)) {
        return None;
    }
    let mut out: Vec<Field> = fields
        .iter()
        .filter(|(c, _)| *c != tables::STAMP_COLUMN)
        .cloned()
        .collect();
    out.push((tables::STAMP_COLUMN, Value::Text(stamp.to_owned())));
    Some(out)
}

/// What is being done, as the audit trail names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Dotted verb, e.g. `customer.create`.
    pub action: &'static str,
    pub entity_type: &'static str,
    pub entity_id: String,
}

impl Record {
    /// A record about the seat whose session runs the operation (its own PIN, its own second
    /// factor): the engine names the seat once it has checked the session.
    pub(crate) fn of_acting_seat(action: &'static str) -> Record {
        Record {
            action,
            entity_type: "seat",
            entity_id: String::new(),
        }
    }

    /// A record about the session's sale in progress (a line taken off it, the sale thrown
    /// away): the engine names the sale once it has checked the session.
    pub(crate) fn of_session_cart(action: &'static str) -> Record {
        Record {
            action,
            entity_type: "cart",
            entity_id: String::new(),
        }
    }

    /// Names the acting seat or the session's sale in a record made by
    /// [`Record::of_acting_seat`] or [`Record::of_session_cart`].
    pub(in crate::engine) fn resolve(mut self, seat: Uuid, cart: Option<Uuid>) -> Record {
        if self.entity_id.is_empty() {
            match self.entity_type {
                "seat" => self.entity_id = seat.to_string(),
                "cart" => self.entity_id = cart.map(|c| c.to_string()).unwrap_or_default(),
                _ => {}
            }
        }
        self
    }

    pub(crate) fn new(
        action: &'static str,
        entity_type: &'static str,
        entity_id: impl ToString,
    ) -> Record {
        Record {
            action,
            entity_type,
            entity_id: entity_id.to_string(),
        }
    }
}

/// The identity that signs: tenant, this device and its key.
pub struct Signer<'k> {
    pub tenant_id: Uuid,
    pub device_id: Uuid,
    pub key: &'k SigningKey,
}

/// The row changes of one operation, collected as the operation runs.
pub struct UnitOfWork<'t> {
    tx: &'t rusqlite::Transaction<'t>,
    before: Map<String, Json>,
    after: Map<String, Json>,
    /// The redacted columns' real values by image key, for the outbox (see [`REDACTED`]).
    secrets: Map<String, Json>,
    /// This operation's HLC stamp for merged rows (`None` on a store older than schema 13).
    stamp: Option<String>,
    chain: Chain<'t>,
}

/// Where the next audit record of this transaction goes, and who signs it.
struct Chain<'t> {
    signer: &'t Signer<'t>,
    actor: &'t Actor,
    time_ms: i64,
    seq: u64,
    prev_hash: [u8; 32],
    /// Records appended so far in this transaction.
    appended: u64,
}

fn image_key(table: &str, id: &str) -> String {
    format!("{table}/{id}")
}

fn to_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Integer(i) => Json::from(*i),
        Value::Real(f) => Json::from(*f),
        Value::Text(s) => Json::String(s.clone()),
        Value::Blob(b) => {
            let mut m = Map::new();
            m.insert(
                "$b64".into(),
                Json::String(base64::engine::general_purpose::STANDARD.encode(b)),
            );
            Json::Object(m)
        }
    }
}

fn row_json(row: &Row<'_>) -> rusqlite::Result<Json> {
    let stmt = row.as_ref();
    let mut m = Map::new();
    for i in 0..stmt.column_count() {
        let name = stmt.column_name(i)?.to_owned();
        let v: Value = row.get(i)?;
        m.insert(name, to_json(&v));
    }
    Ok(Json::Object(m))
}

impl<'t> UnitOfWork<'t> {
    /// Inserts `row` into its table.
    pub(crate) fn insert<R: TableRow>(&mut self, row: &R) -> Result<()> {
        self.insert_into(R::TABLE, &row.key(), &row.fields())
    }

    /// Updates columns of the row of `R`'s table with primary key `id`.
    pub(crate) fn update<R: TableRow>(&mut self, id: &str, fields: &[Field]) -> Result<()> {
        debug_assert!(
            fields.iter().all(|(c, _)| R::COLUMNS.contains(c)),
            "a column {} does not declare",
            R::TABLE
        );
        self.update_in(R::TABLE, id, fields)
    }

    /// Deletes the row of `R`'s table with primary key `id`.
    pub(crate) fn delete<R: TableRow>(&mut self, id: &str) -> Result<()> {
        self.delete_from(R::TABLE, id)
    }

    /// Inserts a row; `id` names it in the audit images (its primary key, or a composite).
    fn insert_into(&mut self, table: &'static str, id: &str, fields: &[Field]) -> Result<()> {
        // A NULL is what an absent column holds (no nullable column has a default), so it is
        // neither bound nor imaged: the row is the same, the record shorter, and a row struct
        // can be written to a store from before some of its columns.
        let present: Vec<Field> = fields
            .iter()
            .filter(|(_, v)| *v != Value::Null)
            .cloned()
            .collect();
        let with_stamp = stamped(table, &present, self.stamp.as_deref());
        let fields = with_stamp.as_deref().unwrap_or(&present);
        let cols: Vec<&str> = fields.iter().map(|(c, _)| *c).collect();
        let marks = vec!["?"; fields.len()].join(", ");
        let sql = format!("INSERT INTO {table} ({}) VALUES ({marks})", cols.join(", "));
        self.tx
            .prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(fields.iter().map(|(_, v)| v)))?;
        if is_local(table) {
            return Ok(());
        }
        let mut m = Map::new();
        for (c, v) in fields {
            m.insert((*c).to_owned(), to_json(v));
        }
        self.record_after(table, id, Json::Object(m));
        Ok(())
    }

    fn record_after(&mut self, table: &str, id: &str, mut image: Json) {
        let key = image_key(table, id);
        let secret = secret_columns(table);
        if !secret.is_empty() {
            let values = values_of(secret, &image);
            if values.is_empty() {
                self.secrets.remove(&key);
            } else {
                self.secrets.insert(key.clone(), Json::Object(values));
            }
            redact_columns(secret, &mut image);
        }
        self.after.insert(key, image);
    }

    /// Deletes the row with primary key `id`, recording its last image.
    fn delete_from(&mut self, table: &'static str, id: &str) -> Result<()> {
        if is_local(table) {
            let n = self
                .tx
                .prepare_cached(&format!("DELETE FROM {table} WHERE id = ?"))?
                .execute([id])?;
            if n == 0 {
                return Err(Error::NotFound(format!("{table} {id}")));
            }
            return Ok(());
        }
        let mut image = self
            .row_image(table, id)?
            .ok_or_else(|| Error::NotFound(format!("{table} {id}")))?;
        self.tx
            .prepare_cached(&format!("DELETE FROM {table} WHERE id = ?"))?
            .execute([id])?;
        let key = image_key(table, id);
        redact(table, &mut image);
        self.before.entry(key.clone()).or_insert(image);
        self.secrets.remove(&key);
        self.after.insert(key, Json::Null);
        Ok(())
    }

    /// Updates columns of the row with primary key `id`, recording the whole row before and after.
    fn update_in(&mut self, table: &'static str, id: &str, fields: &[Field]) -> Result<()> {
        let with_stamp = stamped(table, fields, self.stamp.as_deref());
        let fields = with_stamp.as_deref().unwrap_or(fields);
        if is_local(table) {
            let sets: Vec<String> = fields.iter().map(|(c, _)| format!("{c} = ?")).collect();
            let sql = format!("UPDATE {table} SET {} WHERE id = ?", sets.join(", "));
            let id_value = Value::Text(id.to_owned());
            let n = self
                .tx
                .prepare_cached(&sql)?
                .execute(rusqlite::params_from_iter(
                    fields
                        .iter()
                        .map(|(_, v)| v)
                        .chain(std::iter::once(&id_value)),
                ))?;
            if n == 0 {
                return Err(Error::NotFound(format!("{table} {id}")));
            }
            return Ok(());
        }
        let mut image = self
            .row_image(table, id)?
            .ok_or_else(|| Error::NotFound(format!("{table} {id}")))?;
        let sets: Vec<String> = fields.iter().map(|(c, _)| format!("{c} = ?")).collect();
        let sql = format!("UPDATE {table} SET {} WHERE id = ?", sets.join(", "));
        let id_value = Value::Text(id.to_owned());
        let values = fields
            .iter()
            .map(|(_, v)| v)
            .chain(std::iter::once(&id_value));
        self.tx
            .prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(values))?;
        let key = image_key(table, id);
        self.before.entry(key).or_insert_with(|| {
            let mut b = image.clone();
            redact(table, &mut b);
            b
        });
        // STRICT tables store exactly what was bound, so the after image is the before image
        // with these fields set: no second read.
        if let Json::Object(row) = &mut image {
            for (c, v) in fields {
                row.insert((*c).to_owned(), to_json(v));
            }
        }
        self.record_after(table, id, image);
        Ok(())
    }

    /// Adds an image that names no row (see `WriteCx::note`).
    pub(crate) fn note(&mut self, key: String, image: Json) {
        self.after.insert(key, image);
    }

    /// The transaction, for reads an operation needs to decide what to write.
    pub(crate) fn conn(&self) -> &'t rusqlite::Connection {
        self.tx
    }

    fn row_image(&self, table: &'static str, id: &str) -> Result<Option<Json>> {
        let sql = format!("SELECT * FROM {table} WHERE id = ?");
        Ok(self
            .tx
            .prepare_cached(&sql)?
            .query_row([id], row_json)
            .optional()?)
    }
}

/// The images as canonical JSON bytes: serde_json's `Map` is ordered by key, so equal images
/// always serialise identically.
fn canonical(images: &Map<String, Json>) -> Result<Option<Vec<u8>>> {
    if images.is_empty() {
        return Ok(None);
    }
    serde_json::to_vec(images)
        .map(Some)
        .map_err(|_| Error::Internal("encoding an audit image"))
}

/// One audit record's worth of a unit of work.
struct Part {
    op: Record,
    before: Map<String, Json>,
    after: Map<String, Json>,
    secrets: Map<String, Json>,
}

impl UnitOfWork<'_> {
    /// Closes the images collected so far into their own audit record under `op`, for an
    /// operation too large for one record (a catalogue import): every part is a consecutive
    /// record of the same transaction, so they commit, or fail, together. The record is
    /// written at once, so a large import holds one part's images in memory, not all of them.
    pub(crate) fn seal(&mut self, op: Record) -> Result<()> {
        if self.before.is_empty() && self.after.is_empty() {
            return Ok(());
        }
        let part = Part {
            op,
            before: std::mem::take(&mut self.before),
            after: std::mem::take(&mut self.after),
            secrets: std::mem::take(&mut self.secrets),
        };
        let c = &mut self.chain;
        c.prev_hash = append_record(
            self.tx,
            c.signer,
            c.actor,
            c.time_ms,
            c.seq,
            c.prev_hash,
            part,
        )?;
        c.seq += 1;
        c.appended += 1;
        Ok(())
    }
}

impl Store {
    /// The next HLC stamp of this terminal, resuming the clock from the newest stamp in the
    /// store (pulled ones too) when it has none yet. Only stamps within the drift bound of this
    /// terminal's clock count: a stamp from the future (a stolen till's, or one from when some
    /// till's clock was wrong) is passed over, not adopted, so no stored row can drag this
    /// clock ahead or stop it (issue 21).
    fn next_stamp(&mut self, device: uuid::Uuid, now_ms: i64) -> Result<Option<String>> {
        use galla_proto::hlc::{Hlc, HlcTimestamp};
        if !self.stamps_merged_rows() {
            return Ok(None);
        }
        if self.hlc.is_none() {
            let horizon = HlcTimestamp::horizon(now_ms).encode();
            let newest: Option<String> = self.conn.query_row(
                "SELECT max(m) FROM (SELECT max(hlc) AS m FROM customer WHERE hlc <= ?1
                                     UNION ALL SELECT max(hlc) FROM product WHERE hlc <= ?1)",
                [horizon],
                |r| r.get(0),
            )?;
            let newest = newest.as_deref().and_then(HlcTimestamp::decode);
            self.hlc = Some(Hlc::resume_from(device, newest, now_ms));
        }
        let hlc = self.hlc.as_mut().expect("set above");
        let stamp = hlc.now(now_ms).map_err(|e| Error::Clock {
            detail: format!("the edit clock: {e}"),
        })?;
        Ok(stamp.encode())
    }

    /// Runs `f` as one audited, signed, outboxed transaction. On any error nothing is written.
    /// The rows it changes are described by one record named `op` (or several, where it
    /// seals parts); an operation that changed only scratch rows ([`LOCAL_TABLES`]), or
    /// nothing, makes none. A write with no `op` may change only scratch rows.
    pub(crate) fn write<T>(
        &mut self,
        signer: &Signer<'_>,
        clock: &dyn Clock,
        actor: &Actor,
        op: Option<Record>,
        f: impl FnOnce(&mut UnitOfWork<'_>) -> Result<T>,
    ) -> Result<T> {
        let time_ms = clock.now_ms();
        let stamp = self.next_stamp(signer.device_id, time_ms)?;
        let _gate = self.open_gate();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let head: Option<(i64, Vec<u8>)> = tx
            .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (seq, prev_hash) = match head {
            None => (1u64, GENESIS_HASH),
            Some((last, hash)) => (
                last as u64 + 1,
                hash.try_into().map_err(|_| Error::DatabaseDamaged {
                    detail: format!("audit record {last} has a malformed hash"),
                })?,
            ),
        };
        let appended;
        let out = {
            let mut uow = UnitOfWork {
                tx: &tx,
                before: Map::new(),
                after: Map::new(),
                secrets: Map::new(),
                stamp,
                chain: Chain {
                    signer,
                    actor,
                    time_ms,
                    seq,
                    prev_hash,
                    appended: 0,
                },
            };
            let out = f(&mut uow)?;
            match op {
                Some(op) => uow.seal(op)?,
                None if uow.before.is_empty() && uow.after.is_empty() => {}
                None => {
                    return Err(Error::Internal(
                        "an operation that declares no audit record changed shared rows",
                    ));
                }
            }
            appended = uow.chain.appended;
            out
        };
        tx.commit()?;
        if appended > 0 {
            self.sync_signal.wrote();
        }
        Ok(out)
    }
}

/// Signs one record after `prev_hash` and inserts it with its outbox entry; returns its hash.
fn append_record(
    tx: &rusqlite::Transaction<'_>,
    signer: &Signer<'_>,
    actor: &Actor,
    time_ms: i64,
    seq: u64,
    prev_hash: [u8; 32],
    part: Part,
) -> Result<[u8; 32]> {
    let Part {
        op,
        before,
        after,
        secrets,
    } = part;
    // The signed record carries the operation and its images; an outbox entry only what the
    // record may not: the redacted columns' values. Most operations (every sale) have none and
    // get no entry, which keeps a sale's write to the pages it must touch; the push sends the
    // chain after what the server holds, with any entry beside its record.
    let payload = if secrets.is_empty() {
        None
    } else {
        Some(
            serde_json::to_vec(&serde_json::json!({ "secrets": secrets }))
                .map_err(|_| Error::Internal("encoding an outbox entry"))?,
        )
    };
    let signed = AuditRecord {
        tenant_id: signer.tenant_id,
        device_id: signer.device_id,
        seq,
        prev_hash,
        time_ms,
        seat_id: actor.seat_id,
        role: actor.role.clone(),
        action: op.action.to_owned(),
        entity_type: op.entity_type.to_owned(),
        entity_id: op.entity_id.clone(),
        before: canonical(&before)?,
        after: canonical(&after)?,
    }
    .sign(signer.key)
    .map_err(|e| Error::RecordTooLarge {
        detail: e.to_string(),
    })?;
    tx.prepare_cached(
        "INSERT INTO audit_log (seq, tenant_id, device_id, time_ms, seat_id, role, action,
                                entity_type, entity_id, record, hash, signature)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        seq as i64,
        signer.tenant_id.to_string(),
        signer.device_id.to_string(),
        time_ms,
        actor.seat_id.map(|s| s.to_string()),
        actor.role,
        op.action,
        op.entity_type,
        op.entity_id,
        signed.encoded,
        signed.hash.as_slice(),
        signed.signature.as_slice(),
    ])?;
    if let Some(payload) = payload {
        tx.prepare_cached("INSERT INTO outbox (seq, created_at_ms, payload) VALUES (?, ?, ?)")?
            .execute(params![seq as i64, time_ms, payload])?;
    }
    Ok(signed.hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::crypto::SecretKey;

    /// A fresh encrypted store with a device key, an owner and a clock, writing on one tenant.
    struct Fixture {
        _dir: tempfile::TempDir,
        store: Store,
        key: SigningKey,
        tenant_id: Uuid,
        device_id: Uuid,
        clock: ManualClock,
        actor: Actor,
    }

    impl Fixture {
        fn new(t0_ms: i64) -> Fixture {
            let dir = tempfile::tempdir().unwrap();
            let key = SecretKey::random().unwrap();
            let store = Store::create(&dir.path().join("t.db"), &key).unwrap();
            Fixture {
                _dir: dir,
                store,
                key: SigningKey::from_bytes(&[5; 32]),
                tenant_id: Uuid::now_v7(),
                device_id: Uuid::now_v7(),
                clock: ManualClock::at(t0_ms),
                actor: Actor::system("owner"),
            }
        }

        fn tenant(&self) -> String {
            self.tenant_id.to_string()
        }

        /// Runs `f` as an operation on the tenant row.
        fn write<T>(
            &mut self,
            action: &'static str,
            f: impl FnOnce(&mut UnitOfWork<'_>) -> Result<T>,
        ) -> Result<T> {
            let signer = Signer {
                tenant_id: self.tenant_id,
                device_id: self.device_id,
                key: &self.key,
            };
            let op = Record {
                action,
                entity_type: "tenant",
                entity_id: self.tenant_id.to_string(),
            };
            self.store
                .write(&signer, &self.clock, &self.actor, Some(op), f)
        }

        fn record(&self, seq: i64) -> AuditRecord {
            let sql = "SELECT record FROM audit_log WHERE seq = ?";
            let bytes: Vec<u8> = self
                .store
                .reader()
                .query_row(sql, [seq], |r| r.get(0))
                .unwrap();
            AuditRecord::decode(&bytes).unwrap()
        }
    }

    fn tenant_row(id: &str, name: &str) -> [Field; 3] {
        [
            ("id", Value::Text(id.to_owned())),
            ("name", Value::Text(name.to_owned())),
            ("created_at_ms", Value::Integer(1)),
        ]
    }

    #[test]
    fn an_update_records_the_whole_row_before_and_after_and_makes_no_outbox_entry() {
        let mut fx = Fixture::new(1_000);
        let tenant = fx.tenant();
        fx.write("shop.create", |uow| {
            uow.insert_into("tenant", &tenant, &tenant_row(&tenant, "Old Name"))
        })
        .unwrap();
        fx.clock.advance_ms(5);
        fx.write("shop.rename", |uow| {
            uow.update_in(
                "tenant",
                &tenant,
                &[("name", Value::Text("New Name".into()))],
            )
        })
        .unwrap();

        let r = fx.record(2);
        assert_eq!(
            (r.seq, r.time_ms, r.action.as_str()),
            (2, 1_005, "shop.rename")
        );
        assert_eq!(
            r.prev_hash,
            galla_proto::audit::record_hash(&fx.record(1).encode().unwrap())
        );
        let before: Json = serde_json::from_slice(&r.before.unwrap()).unwrap();
        let after: Json = serde_json::from_slice(&r.after.unwrap()).unwrap();
        let image = format!("tenant/{tenant}");
        assert_eq!(before[&image]["name"], "Old Name");
        assert_eq!(after[&image]["name"], "New Name");
        assert_eq!(
            after[&image]["created_at_ms"], 1,
            "the whole row, not just the changed column"
        );
        let entries: i64 = fx
            .store
            .reader()
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            entries, 0,
            "the record carries the images; nothing is redacted, so no outbox entry"
        );
    }

    #[test]
    fn a_stored_stamp_from_the_future_neither_stops_nor_drags_the_clock() {
        use galla_proto::hlc::{HlcTimestamp, MAX_DRIFT_MS};
        let now = 1_795_240_800_000;
        let mut fx = Fixture::new(now);
        let tenant = fx.tenant();
        fx.write("shop.create", |uow| {
            uow.insert_into("tenant", &tenant, &tenant_row(&tenant, "Shop"))
        })
        .unwrap();
        let other = Uuid::from_u128(66);
        let near = HlcTimestamp {
            wall_ms: now + 60_000,
            counter: 2,
            device: other,
        };
        // Pulled rows (the pull resets the clock): one a stolen till pushed before the cloud
        // refused such stamps, and one from a till whose clock is a minute fast.
        fx.store
            .apply_pulled(|tx| {
                for (id, hlc) in [
                    ("c-poison", format!("7fffffffffffffff-ffffffff-{other}")),
                    ("c-near", near.encode().unwrap()),
                ] {
                    tx.execute(
                        "INSERT INTO customer (id, tenant_id, name, created_at_ms, updated_at_ms, hlc)
                         VALUES (?, ?, 'x', 1, 1, ?)",
                        rusqlite::params![id, tenant, hlc],
                    )?;
                }
                Ok(())
            })
            .unwrap();
        assert!(fx.store.hlc.is_none());
        let stamp = fx
            .store
            .next_stamp(fx.device_id, now)
            .expect("the clock still stamps")
            .and_then(|s| HlcTimestamp::decode(&s))
            .unwrap();
        assert!(stamp > near, "edits still order after a plausible stamp");
        assert!(stamp.wall_ms <= now + MAX_DRIFT_MS && stamp.device == fx.device_id);
        // And the write path itself, stamping a customer edit.
        fx.write("customer.update", |uow| {
            uow.update_in("customer", "c-poison", &[("name", Value::Text("y".into()))])
        })
        .expect("writes go on");
    }

    #[test]
    fn only_the_redacted_columns_real_values_are_kept_for_the_outbox() {
        let image = serde_json::json!({
            "id": "s1", "name": "Asha", "secret_hash": "$argon2id$x", "totp_ct": null,
        });
        let values = redacted_values("seat", &image);
        assert_eq!(
            Json::Object(values),
            serde_json::json!({"secret_hash": "$argon2id$x"})
        );
        assert!(redacted_values("customer", &image).is_empty());
        let mut shown = image.clone();
        redact("seat", &mut shown);
        assert_eq!(shown["name"], "Asha");
        assert!(shown["secret_hash"]["$redacted"].is_string());
        assert!(shown["totp_ct"].is_null());
    }

    #[test]
    fn a_failing_operation_writes_nothing() {
        let mut fx = Fixture::new(0);
        let tenant = fx.tenant();
        let err = fx.write("shop.create", |uow| {
            uow.insert_into("tenant", &tenant, &tenant_row(&tenant, "X"))?;
            Err::<(), _>(Error::NotFound("something the operation needed".into()))
        });
        assert!(matches!(err, Err(Error::NotFound(_))));
        let counts: (i64, i64, i64) = fx
            .store
            .reader()
            .query_row(
                "SELECT (SELECT count(*) FROM tenant), (SELECT count(*) FROM audit_log), (SELECT count(*) FROM outbox)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(counts, (0, 0, 0));
    }

    #[test]
    fn sealed_parts_become_consecutive_records_of_one_transaction() {
        let mut fx = Fixture::new(7);
        let tenant = fx.tenant();
        fx.write("shop.create", |uow| {
            uow.insert_into("tenant", &tenant, &tenant_row(&tenant, "Shop"))?;
            uow.seal(Record {
                action: "shop.create_part",
                entity_type: "tenant",
                entity_id: tenant.clone(),
            })?;
            uow.update_in(
                "tenant",
                &tenant,
                &[("name", Value::Text("Renamed".into()))],
            )
        })
        .unwrap();
        let (a, b) = (fx.record(1), fx.record(2));
        assert_eq!(
            (a.action.as_str(), b.action.as_str()),
            ("shop.create_part", "shop.create")
        );
        assert_eq!(
            b.prev_hash,
            galla_proto::audit::record_hash(&a.encode().unwrap())
        );
        let records: i64 = fx
            .store
            .reader()
            .query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))
            .unwrap();
        assert_eq!(records, 2);

        // A failure after a seal writes none of the parts.
        let err = fx.write("shop.rename", |uow| {
            uow.update_in("tenant", &tenant, &[("name", Value::Text("X".into()))])?;
            uow.seal(Record {
                action: "shop.rename_part",
                entity_type: "tenant",
                entity_id: tenant.clone(),
            })?;
            Err::<(), _>(Error::NotFound("later".into()))
        });
        assert!(err.is_err());
        let n: i64 = fx
            .store
            .reader()
            .query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
    }
}
