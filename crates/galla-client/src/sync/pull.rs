//! Pulling the shop's shared state from the cloud's change feed (issue 7).
//!
//! Pages are staged in `pull_inbox` as they arrive (bookkeeping: a pull cut off half-way
//! resumes where it stopped), and applied only once the feed is complete, all in one
//! transaction, so the till never stands between two states of the shop. Applying never
//! reverts this terminal's unsynced writes: a row that one of its own records not yet held by
//! the cloud changed is left as it is here (the next push takes the local edit to the cloud,
//! which merges it, and a later pull brings the merged row back).
//!
//! What a pulled row does, by table (the cloud's `shared::policy` decides what it sends):
//! facts (invoices, ledger entries, ...) are inserted if new and never changed; other rows
//! (customers, products, seats, the shop's settings, other terminals) replace the local row,
//! except for the columns each terminal keeps for itself (a product's stock), and a null row
//! deletes it. Column names are checked against the local table, values against its types
//! by SQLite's STRICT tables, and a row without a value for a required column is skipped, not
//! guessed: a cloud running a newer schema cannot make this terminal write nonsense.
//! A merged row stamped from the future (its `hlc` beyond this terminal's clock plus the drift
//! bound) is not taken either: the cloud refuses such stamps, so one can only come from a
//! breached cloud or from before it did, and taking it would make the row's every later edit
//! here lose to it (issue 21). It is counted, and logged with its table and id.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use galla_proto::api::ChangesResponse;
use galla_proto::hlc::HlcTimestamp;
use rusqlite::types::Value;
use serde_json::Value as Json;

use crate::error::{Error, Result};
// How each table is shared, and which columns a pull keeps (`local`): the registry.
use galla_proto::tables::{self, Merge};

/// What one apply did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Rows written (inserted, replaced or deleted).
    pub written: u64,
    /// Rows left alone because this terminal's unsynced writes changed them.
    pub kept_local: u64,
    /// Rows this terminal cannot take (an unknown table, a required column missing).
    pub skipped: u64,
    /// Merged rows not taken because their stamp is from the future.
    pub from_the_future: u64,
}

fn protocol(detail: String) -> Error {
    Error::CloudProtocol { detail }
}

/// Checks a page against the cursor it was asked from: its changes ascend from after it, and
/// its next cursor is not behind them.
pub(crate) fn check_page(after: i64, page: &ChangesResponse) -> Result<()> {
    let mut last = after;
    for r in &page.rows {
        if r.change <= last {
            return Err(protocol(format!(
                "the change feed went backwards ({} after {last})",
                r.change
            )));
        }
        last = r.change;
    }
    if page.next < last {
        return Err(protocol(format!(
            "the change feed's cursor {} is behind its rows ({last})",
            page.next
        )));
    }
    Ok(())
}

/// Checks a page against the cursor it was asked from and stages it.
pub(crate) fn stage(
    tx: &rusqlite::Transaction<'_>,
    after: i64,
    page: &ChangesResponse,
) -> Result<()> {
    check_page(after, page)?;
    for r in &page.rows {
        let row = serde_json::to_string(&r.row).map_err(|e| protocol(e.to_string()))?;
        tx.prepare_cached(
            "INSERT OR REPLACE INTO pull_inbox (change, tbl, row_id, row, device_id)
             VALUES (?, ?, ?, ?, ?)",
        )?
        .execute(rusqlite::params![
            r.change,
            r.table,
            r.id,
            row,
            r.device_id.to_string()
        ])?;
    }
    tx.execute(
        "UPDATE sync_state SET pull_staged = ? WHERE id = 1",
        [page.next],
    )?;
    Ok(())
}

/// A local table's columns: each name and whether it needs a value (NOT NULL without default).
type Columns = Rc<Vec<(String, bool)>>;

fn to_value(v: &Json) -> Option<Value> {
    Some(match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Integer(i64::from(*b)),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Real(n.as_f64()?),
        },
        Json::String(s) => Value::Text(s.clone()),
        Json::Object(m) => Value::Blob(BASE64.decode(m.get("$b64")?.as_str()?).ok()?),
        Json::Array(_) => return None,
    })
}

/// Applies pulled rows, one at a time, inside the caller's transaction. Table shapes and the
/// statements for each set of columns a row carries are worked out once per pull, not per row
/// (an initial pull is a million rows of a few tables).
pub(crate) struct Applier<'u> {
    /// The `table/id` keys this terminal's records not yet held by the cloud changed.
    unsynced: &'u HashSet<String>,
    /// This terminal's clock, for the drift check of pulled stamps.
    now_ms: i64,
    columns: HashMap<String, Columns>,
    statements: HashMap<(String, Vec<bool>), String>,
    pub applied: Applied,
    /// The first few `table/id` keys of rows not taken for a stamp from the future: the
    /// evidence for the owner's alarm.
    pub from_the_future: Vec<String>,
}

impl<'u> Applier<'u> {
    pub(crate) fn new(unsynced: &'u HashSet<String>, now_ms: i64) -> Applier<'u> {
        Applier {
            unsynced,
            now_ms,
            columns: HashMap::new(),
            statements: HashMap::new(),
            applied: Applied::default(),
            from_the_future: Vec::new(),
        }
    }

    fn columns(&mut self, tx: &rusqlite::Transaction<'_>, table: &str) -> Result<Columns> {
        if let Some(c) = self.columns.get(table) {
            return Ok(c.clone());
        }
        let mut stmt = tx.prepare(&format!("PRAGMA table_info({table})"))?;
        let cols: Vec<(String, bool)> = stmt
            .query_map([], |r| {
                let name: String = r.get(1)?;
                let not_null: bool = r.get(3)?;
                let default: Option<String> = r.get(4)?;
                let pk: i64 = r.get(5)?;
                Ok((name, (not_null && default.is_none()) || pk > 0))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let cols = Rc::new(cols);
        self.columns.insert(table.to_owned(), cols.clone());
        Ok(cols)
    }

    /// Applies one row of `table` (a null `row` deletes a replaced table's row).
    pub(crate) fn row(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        table: &str,
        id: &str,
        row: &Json,
    ) -> Result<()> {
        let out = &mut self.applied;
        // Facts are inserted once and never changed by a pull; every other shared row is
        // replaced (or deleted), keeping the table's local columns.
        let Some(shared) = tables::shared(table) else {
            out.skipped += 1;
            return Ok(());
        };
        let fact = shared.merge == Merge::Fact;
        let local = shared.local;
        if !fact && !self.unsynced.is_empty() && self.unsynced.contains(&format!("{table}/{id}")) {
            out.kept_local += 1;
            return Ok(());
        }
        let Json::Object(row) = row else {
            if !fact {
                out.written +=
                    tx.execute(&format!("DELETE FROM {table} WHERE id = ?"), [id])? as u64;
            }
            return Ok(());
        };
        if let Some(text) = row.get(tables::STAMP_COLUMN).and_then(Json::as_str) {
            match HlcTimestamp::decode(text) {
                None => {
                    out.skipped += 1;
                    return Ok(());
                }
                Some(t) if t.is_from_the_future(self.now_ms) => {
                    tracing::warn!(
                        table,
                        id,
                        "a pulled row's stamp is from the future; not taken"
                    );
                    out.from_the_future += 1;
                    if self.from_the_future.len() < 20 {
                        self.from_the_future.push(format!("{table}/{id}"));
                    }
                    return Ok(());
                }
                Some(_) => {}
            }
        }
        let cols = self.columns(tx, table)?;
        let out = &mut self.applied;
        let mut present = Vec::with_capacity(cols.len());
        let mut values = Vec::with_capacity(cols.len());
        let mut complete = true;
        for (name, required) in cols.iter() {
            if local.contains(&name.as_str()) {
                present.push(false);
                continue;
            }
            match row.get(name).map(to_value) {
                Some(Some(v)) => {
                    if *required && v == Value::Null {
                        complete = false;
                    }
                    present.push(true);
                    values.push(v);
                }
                Some(None) => {
                    complete = false;
                    present.push(false);
                }
                None => {
                    if *required {
                        complete = false;
                    }
                    present.push(false);
                }
            }
        }
        if !complete || values.is_empty() || row.get("id").and_then(Json::as_str) != Some(id) {
            out.skipped += 1;
            return Ok(());
        }
        let key = (table.to_owned(), present);
        if !self.statements.contains_key(&key) {
            let names: Vec<&str> = cols
                .iter()
                .zip(&key.1)
                .filter(|(_, p)| **p)
                .map(|((n, _), _)| n.as_str())
                .collect();
            let marks = vec!["?"; names.len()].join(", ");
            let sql = if fact {
                format!(
                    "INSERT OR IGNORE INTO {table} ({}) VALUES ({marks})",
                    names.join(", ")
                )
            } else {
                let sets: Vec<String> = names
                    .iter()
                    .filter(|n| **n != "id")
                    .map(|n| format!("{n} = excluded.{n}"))
                    .collect();
                format!(
                    "INSERT INTO {table} ({}) VALUES ({marks}) ON CONFLICT (id) DO UPDATE SET {}",
                    names.join(", "),
                    sets.join(", ")
                )
            };
            self.statements.insert(key.clone(), sql);
        }
        let sql = &self.statements[&key];
        self.applied.written += tx
            .prepare_cached(sql)?
            .execute(rusqlite::params_from_iter(values))? as u64;
        Ok(())
    }
}

/// Applies everything staged, in change order, and moves the applied cursor to the staged one.
/// `unsynced` holds the `table/id` keys this terminal's records not yet held by the cloud
/// changed. Returns what was done and the keys of rows not taken for a stamp from the future.
pub(crate) fn apply(
    tx: &rusqlite::Transaction<'_>,
    unsynced: &HashSet<String>,
    now_ms: i64,
) -> Result<(Applied, Vec<String>)> {
    let mut applier = Applier::new(unsynced, now_ms);
    {
        let mut stmt = tx.prepare("SELECT tbl, row_id, row FROM pull_inbox ORDER BY change")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (table, id, row): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let row: Json = serde_json::from_str(&row).map_err(|e| Error::DatabaseDamaged {
                detail: format!("a staged pulled row is not JSON: {e}"),
            })?;
            applier.row(tx, &table, &id, &row)?;
        }
    }
    tx.execute("DELETE FROM pull_inbox", [])?;
    tx.execute(
        "UPDATE sync_state SET pull_cursor = pull_staged WHERE id = 1",
        [],
    )?;
    Ok((applier.applied, applier.from_the_future))
}

/// The `table/id` keys changed by this terminal's records after `server_seq` (not yet held by
/// the cloud, so not yet in what it sends back).
pub(crate) fn unsynced_keys(
    conn: &rusqlite::Connection,
    server_seq: u64,
) -> Result<HashSet<String>> {
    let mut stmt = conn.prepare("SELECT record FROM audit_log WHERE seq > ? ORDER BY seq")?;
    let mut rows = stmt.query([server_seq as i64])?;
    let mut keys = HashSet::new();
    while let Some(r) = rows.next()? {
        let bytes: Vec<u8> = r.get(0)?;
        let record = galla_proto::audit::AuditRecord::decode(&bytes).map_err(|e| {
            Error::DatabaseDamaged {
                detail: format!("an audit record does not decode: {e}"),
            }
        })?;
        for image in [record.before, record.after].into_iter().flatten() {
            if let Ok(Json::Object(m)) = serde_json::from_slice::<Json>(&image) {
                keys.extend(m.into_iter().map(|(k, _)| k));
            }
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;
    use crate::store::Store;
    use galla_proto::api::SharedRow;
    use serde_json::json;

    fn page(rows: Vec<(i64, &str, &str, Json)>) -> ChangesResponse {
        let next = rows.last().map_or(0, |r| r.0);
        ChangesResponse {
            rows: rows
                .into_iter()
                .map(|(change, table, id, row)| SharedRow {
                    change,
                    table: table.into(),
                    id: id.into(),
                    row,
                    device_id: uuid::Uuid::nil(),
                })
                .collect(),
            next,
            complete: true,
        }
    }

    /// 2026-11-21 10:00 IST.
    const NOW: i64 = 1_795_240_800_000;

    fn names(store: &Store) -> Vec<String> {
        let mut stmt = store
            .reader()
            .prepare("SELECT name FROM tenant ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn a_pull_replaces_shared_rows_but_keeps_unsynced_ones_and_skips_what_it_cannot_take() {
        let dir = tempfile::tempdir().unwrap();
        let mut store =
            Store::create(&dir.path().join("t.db"), &SecretKey::random().unwrap()).unwrap();
        let shop = |id: &str, name: &str| json!({"id": id, "name": name, "created_at_ms": 1});
        store
            .bookkeeping(|tx| {
                stage(
                    tx,
                    0,
                    &page(vec![
                        (1, "tenant", "t1", shop("t1", "First")),
                        (2, "tenant", "t2", shop("t2", "Second")),
                        (3, "tenant", "t3", json!({"id": "t3"})),
                        (4, "cart", "c1", json!({"id": "c1"})),
                        (5, "audit_log", "1", json!({"id": "1"})),
                    ]),
                )
            })
            .unwrap();
        let (applied, _) = store
            .apply_pulled(|tx| apply(tx, &HashSet::new(), NOW))
            .unwrap();
        assert_eq!(
            applied,
            Applied {
                written: 2,
                kept_local: 0,
                skipped: 3,
                from_the_future: 0,
            }
        );
        assert_eq!(names(&store), ["First", "Second"]);

        // t1 was edited here and the edit is not in the cloud yet: it is kept.
        store
            .bookkeeping(|tx| {
                stage(
                    tx,
                    5,
                    &page(vec![
                        (6, "tenant", "t1", shop("t1", "Cloud's t1")),
                        (7, "tenant", "t2", shop("t2", "Cloud's t2")),
                    ]),
                )
            })
            .unwrap();
        let unsynced: HashSet<String> = ["tenant/t1".to_owned()].into();
        let (applied, _) = store.apply_pulled(|tx| apply(tx, &unsynced, NOW)).unwrap();
        assert_eq!(
            applied,
            Applied {
                written: 1,
                kept_local: 1,
                skipped: 0,
                from_the_future: 0,
            }
        );
        assert_eq!(names(&store), ["First", "Cloud's t2"]);
        let (cursor, inbox): (i64, i64) = store
            .reader()
            .query_row(
                "SELECT pull_cursor, (SELECT count(*) FROM pull_inbox) FROM sync_state",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((cursor, inbox), (7, 0));

        // A feed that goes backwards is refused and stages nothing.
        let err = store
            .bookkeeping(|tx| stage(tx, 7, &page(vec![(3, "tenant", "t1", shop("t1", "x"))])))
            .unwrap_err();
        assert!(matches!(err, Error::CloudProtocol { .. }), "{err:?}");
    }

    #[test]
    fn a_row_stamped_from_the_future_is_not_taken() {
        use galla_proto::hlc::{HlcTimestamp, MAX_DRIFT_MS};
        let dir = tempfile::tempdir().unwrap();
        let mut store =
            Store::create(&dir.path().join("t.db"), &SecretKey::random().unwrap()).unwrap();
        let stamp = |wall_ms: i64, counter: u32| {
            HlcTimestamp {
                wall_ms,
                counter,
                device: uuid::Uuid::from_u128(7),
            }
            .encode()
            .unwrap()
        };
        let customer = |id: &str, name: &str, hlc: &str| {
            json!({"id": id, "tenant_id": "t1", "name": name, "state_code": 27,
                   "created_at_ms": 1, "updated_at_ms": 1, "hlc": hlc})
        };
        store
            .bookkeeping(|tx| {
                stage(
                    tx,
                    0,
                    &page(vec![
                        (
                            1,
                            "tenant",
                            "t1",
                            json!({"id": "t1", "name": "Shop", "created_at_ms": 1}),
                        ),
                        (
                            2,
                            "customer",
                            "c1",
                            customer("c1", "Asha", &stamp(NOW - 1_000, 0)),
                        ),
                        // Just inside the drift bound: another till's clock a little ahead.
                        (
                            3,
                            "customer",
                            "c2",
                            customer("c2", "Bina", &stamp(NOW + MAX_DRIFT_MS, 3)),
                        ),
                        // Beyond it, and the stamp that once stopped every till.
                        (
                            4,
                            "customer",
                            "c3",
                            customer("c3", "Chetan", &stamp(NOW + MAX_DRIFT_MS + 1, 0)),
                        ),
                        (
                            5,
                            "customer",
                            "c4",
                            customer(
                                "c4",
                                "Dev",
                                &format!("7fffffffffffffff-ffffffff-{}", uuid::Uuid::from_u128(7)),
                            ),
                        ),
                        (6, "customer", "c5", customer("c5", "Esha", "not a stamp")),
                    ]),
                )
            })
            .unwrap();
        let (applied, keys) = store
            .apply_pulled(|tx| apply(tx, &HashSet::new(), NOW))
            .unwrap();
        assert_eq!(
            applied,
            Applied {
                written: 3,
                kept_local: 0,
                skipped: 1,
                from_the_future: 2,
            }
        );
        assert_eq!(keys, ["customer/c3", "customer/c4"]);
        let taken: Vec<String> = store
            .reader()
            .prepare("SELECT id FROM customer ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(taken, ["c1", "c2"]);
    }

    #[test]
    fn applying_never_touches_this_terminals_own_records() {
        let dir = tempfile::tempdir().unwrap();
        let mut store =
            Store::create(&dir.path().join("t.db"), &SecretKey::random().unwrap()).unwrap();
        for sql in [
            "INSERT INTO audit_log (seq) VALUES (1)",
            "DELETE FROM outbox",
            "DELETE FROM doc_series",
            "INSERT INTO cloud_link (id) VALUES (1)",
            "UPDATE sync_alarm SET detail = ''",
        ] {
            let refused = store.apply_pulled(|tx| Ok(tx.execute(sql, [])?));
            let message = format!("{:?}", refused.expect_err(sql));
            assert!(message.contains("not authorized"), "{sql}: {message}");
        }
    }
}
