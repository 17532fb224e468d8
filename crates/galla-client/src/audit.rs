//! Reading the audit log back: verifying the chain (signatures, links, gaps and the copied
//! columns) and exporting it for an accountant or an inspector.
//!
//! Tables: none it writes (the log is written by the engine's write path).

use std::io::Write;

use ed25519_dalek::VerifyingKey;
use galla_proto::audit::record_hash;
use galla_proto::{AuditRecord, ChainBreak, ChainVerifier};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::engine::ReadCx;
use crate::error::{Error, Result};
use crate::ops::{Op, Query};

/// The outcome of walking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditReport {
    /// Records that verified before the first problem (all of them when `problem` is `None`).
    pub verified: u64,
    /// Hex SHA-256 of the last verified record.
    pub head_hash: Option<String>,
    /// The first problem found, naming its record.
    pub problem: Option<String>,
    /// Sequence number of the first bad record, if any.
    pub bad_seq: Option<u64>,
}

impl AuditReport {
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }
}

const ROWS: &str = "SELECT seq, tenant_id, device_id, time_ms, seat_id, role, action, entity_type,
                           entity_id, record, hash, signature
                    FROM audit_log WHERE seq > ?1 ORDER BY seq";

/// How far a chain was verified: enough to resume without re-reading what came before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub verified: u64,
    pub head_hash: [u8; 32],
}

impl AuditReport {
    /// Where the next incremental walk can start (the last good record), if anything verified.
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        let hash = hex::decode(self.head_hash.as_deref()?).ok()?;
        Some(Checkpoint {
            verified: self.verified,
            head_hash: hash.try_into().ok()?,
        })
    }
}

struct StoredRow {
    seq: i64,
    tenant_id: String,
    device_id: String,
    time_ms: i64,
    seat_id: Option<String>,
    role: String,
    action: String,
    entity_type: String,
    entity_id: String,
    record: Vec<u8>,
    hash: Vec<u8>,
    signature: Vec<u8>,
}

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRow> {
    Ok(StoredRow {
        seq: r.get(0)?,
        tenant_id: r.get(1)?,
        device_id: r.get(2)?,
        time_ms: r.get(3)?,
        seat_id: r.get(4)?,
        role: r.get(5)?,
        action: r.get(6)?,
        entity_type: r.get(7)?,
        entity_id: r.get(8)?,
        record: r.get(9)?,
        hash: r.get(10)?,
        signature: r.get(11)?,
    })
}

/// Verifies one stored row against the chain and its signed record; returns the record.
fn check_row(v: &mut ChainVerifier, row: &StoredRow) -> Result<AuditRecord, ChainBreak> {
    let seq = u64::try_from(row.seq).map_err(|_| ChainBreak::Gap {
        expected: v.verified() + 1,
        found: 0,
    })?;
    let rec = v.push(seq, &row.record, &row.signature)?;
    let altered = |detail: &str| ChainBreak::Altered {
        seq,
        detail: detail.to_owned(),
    };
    if row.hash != record_hash(&row.record) {
        return Err(altered("the stored hash does not match the record"));
    }
    if row.tenant_id != rec.tenant_id.to_string() || row.device_id != rec.device_id.to_string() {
        return Err(altered(
            "tenant or device column differs from the signed record",
        ));
    }
    if row.time_ms != rec.time_ms {
        return Err(altered("time column differs from the signed record"));
    }
    if row.seat_id != rec.seat_id.map(|s| s.to_string()) || row.role != rec.role {
        return Err(altered(
            "seat or role column differs from the signed record",
        ));
    }
    if row.action != rec.action
        || row.entity_type != rec.entity_type
        || row.entity_id != rec.entity_id
    {
        return Err(altered(
            "action or entity column differs from the signed record",
        ));
    }
    Ok(rec)
}

/// Walks this device's chain, from the start or from a checkpoint of an earlier walk, and
/// reports the first bad record, if any. Records before the checkpoint are not re-checked.
pub fn verify(
    conn: &Connection,
    key: VerifyingKey,
    tenant_id: Uuid,
    device_id: Uuid,
    from: Option<Checkpoint>,
) -> Result<AuditReport> {
    let mut v = match from {
        None => ChainVerifier::new(key, tenant_id, device_id),
        Some(c) => ChainVerifier::resume(key, tenant_id, device_id, c.verified, c.head_hash),
    };
    let mut stmt = conn.prepare(ROWS)?;
    let mut rows = stmt.query([v.verified() as i64])?;
    let mut problem: Option<ChainBreak> = None;
    while let Some(r) = rows.next()? {
        let row = read_row(r)?;
        if let Err(b) = check_row(&mut v, &row) {
            problem = Some(b);
            break;
        }
    }
    Ok(report(&v, problem))
}

fn report(v: &ChainVerifier, problem: Option<ChainBreak>) -> AuditReport {
    AuditReport {
        verified: v.verified(),
        head_hash: (v.verified() > 0).then(|| hex::encode(v.head_hash())),
        bad_seq: problem.as_ref().map(ChainBreak::seq),
        problem: problem.map(|p| p.to_string()),
    }
}

/// The most records one page of the audit screen reads.
pub const MAX_AUDIT_PAGE: u32 = 1000;
const DEFAULT_AUDIT_PAGE: u32 = 200;
const MAX_ACTION_FILTER: usize = 64;

/// What the audit screen asks for: records newest first, narrowed by seat, action and time,
/// a page at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default, deny_unknown_fields)]
pub struct AuditQuery {
    /// Records made by this seat.
    pub seat_id: Option<Uuid>,
    /// An action (`seat.revoke`) or its family (`seat` matches every `seat.` action).
    pub action: Option<String>,
    /// From this instant (Unix ms, inclusive).
    pub from_ms: Option<i64>,
    /// Up to this instant (Unix ms, exclusive).
    pub to_ms: Option<i64>,
    /// Only records older than this sequence number: the next page after one ending there.
    pub before_seq: Option<i64>,
    /// At most this many records (default 200, at most [`MAX_AUDIT_PAGE`]).
    pub limit: Option<u32>,
}

/// One line of the audit screen: who did what to which thing, and when. The columns are the
/// copies stored beside each signed record; verifying the chain checks that they match it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditEntry {
    pub seq: i64,
    pub time_ms: i64,
    pub seat_id: Option<Uuid>,
    /// The seat's name now (a revoked seat keeps its name); none for the system.
    pub seat_name: Option<String>,
    pub role: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
}

/// One page of [`AuditQuery`]'s records, newest first, and whether older ones remain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass the last entry's `seq` as `before_seq` to read on.
    pub more: bool,
}

impl AuditQuery {
    fn validate(&self) -> std::result::Result<(String, u32), crate::error::InputError> {
        use crate::error::InputError;
        let action = self.action.as_deref().map(str::trim).unwrap_or_default();
        if action.chars().count() > MAX_ACTION_FILTER
            || !action
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        {
            return Err(InputError::Rejected {
                field: "action",
                reason: "an action is letters, digits, `_` and `.`, like seat.revoke".into(),
            });
        }
        if let (Some(from), Some(to)) = (self.from_ms, self.to_ms)
            && from >= to
        {
            return Err(InputError::Rejected {
                field: "to_ms",
                reason: "the end of the period must come after its start".into(),
            });
        }
        let limit = self.limit.unwrap_or(DEFAULT_AUDIT_PAGE);
        if limit == 0 || limit > MAX_AUDIT_PAGE {
            return Err(InputError::Rejected {
                field: "limit",
                reason: format!("a page holds 1 to {MAX_AUDIT_PAGE} records"),
            });
        }
        Ok((action.to_owned(), limit))
    }
}

/// Reads one page of the log for the audit screen. Walks the primary key backwards from the
/// newest record, so the first page costs the same at a million records as at ten.
pub fn entries(conn: &Connection, query: &AuditQuery) -> Result<AuditPage> {
    let (action, limit) = query.validate()?;
    let mut stmt = conn.prepare_cached(
        "SELECT a.seq, a.time_ms, a.seat_id, s.display_name, a.role, a.action, a.entity_type,
                a.entity_id
         FROM audit_log a LEFT JOIN seat s ON s.id = a.seat_id
         WHERE (?1 IS NULL OR a.seat_id = ?1)
           AND (?2 = '' OR a.action = ?2 OR substr(a.action, 1, length(?2) + 1) = ?2 || '.')
           AND (?3 IS NULL OR a.time_ms >= ?3)
           AND (?4 IS NULL OR a.time_ms < ?4)
           AND (?5 IS NULL OR a.seq < ?5)
         ORDER BY a.seq DESC LIMIT ?6",
    )?;
    let mut rows = stmt.query(rusqlite::params![
        query.seat_id.map(|s| s.to_string()),
        action,
        query.from_ms,
        query.to_ms,
        query.before_seq,
        i64::from(limit) + 1,
    ])?;
    let mut entries = Vec::new();
    while let Some(r) = rows.next()? {
        let seat_id: Option<String> = r.get(2)?;
        entries.push(AuditEntry {
            seq: r.get(0)?,
            time_ms: r.get(1)?,
            seat_id: seat_id.and_then(|s| Uuid::parse_str(&s).ok()),
            seat_name: r.get(3)?,
            role: r.get(4)?,
            action: r.get(5)?,
            entity_type: r.get(6)?,
            entity_id: r.get(7)?,
        });
    }
    let more = entries.len() > limit as usize;
    entries.truncate(limit as usize);
    Ok(AuditPage { entries, more })
}

fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// Writes every record as CSV (PII stays as ciphertext inside the images) and verifies as it
/// goes, so the export says whether what it holds is intact.
pub fn export_csv(
    conn: &Connection,
    key: VerifyingKey,
    tenant_id: Uuid,
    device_id: Uuid,
    out: impl Write,
) -> Result<AuditReport> {
    let mut w = csv::Writer::from_writer(out);
    let csv_err = |e: csv::Error| Error::Io(std::io::Error::other(e.to_string()));
    w.write_record([
        "seq",
        "time_utc",
        "seat_id",
        "role",
        "action",
        "entity_type",
        "entity_id",
        "before",
        "after",
        "hash",
        "signature",
        "verified",
    ])
    .map_err(csv_err)?;
    let mut v = ChainVerifier::new(key, tenant_id, device_id);
    let mut problem: Option<ChainBreak> = None;
    let mut stmt = conn.prepare(ROWS)?;
    let mut rows = stmt.query([0i64])?;
    while let Some(r) = rows.next()? {
        let row = read_row(r)?;
        // Verified rows come back decoded; rows after a break are decoded once for display.
        let verified = match problem {
            None => check_row(&mut v, &row).map_err(|b| problem = Some(b)).ok(),
            Some(_) => None,
        };
        let ok = verified.is_some();
        let rec = verified.or_else(|| AuditRecord::decode(&row.record).ok());
        let image = |i: Option<&Vec<u8>>| {
            i.map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        crate::csv_cell::write_row(
            &mut w,
            [
                row.seq.to_string(),
                rfc3339(row.time_ms),
                row.seat_id.clone().unwrap_or_default(),
                row.role.clone(),
                row.action.clone(),
                row.entity_type.clone(),
                row.entity_id.clone(),
                image(rec.as_ref().and_then(|r| r.before.as_ref())),
                image(rec.as_ref().and_then(|r| r.after.as_ref())),
                hex::encode(&row.hash),
                hex::encode(&row.signature),
                if ok { "yes".into() } else { "NO".into() },
            ],
        )
        .map_err(csv_err)?;
    }
    w.flush()?;
    Ok(report(&v, problem))
}

/// Walks the audit chain (from a checkpoint of an earlier walk, or from the start) with this
/// device's key.
pub(crate) struct VerifyAudit(pub(crate) Option<Checkpoint>);

impl Query for VerifyAudit {
    const OP: Op = Op::VerifyAudit;
    type Output = AuditReport;
    fn run(self, cx: &ReadCx<'_>) -> Result<AuditReport> {
        verify(
            cx.conn(),
            cx.device_public(),
            cx.tenant_id(),
            cx.device_id(),
            self.0,
        )
    }
}

/// One page of the audit log, newest first, for the audit screen.
pub(crate) struct AuditEntries(pub(crate) AuditQuery);

impl Query for AuditEntries {
    const OP: Op = Op::AuditEntries;
    type Output = AuditPage;
    fn run(self, cx: &ReadCx<'_>) -> Result<AuditPage> {
        entries(cx.conn(), &self.0)
    }
}

/// The audit log as CSV, verified as it is written.
pub(crate) struct ExportAudit<W>(pub(crate) W);

impl<W: Write> Query for ExportAudit<W> {
    const OP: Op = Op::ExportAudit;
    type Output = AuditReport;
    fn run(self, cx: &ReadCx<'_>) -> Result<AuditReport> {
        export_csv(
            cx.conn(),
            cx.device_public(),
            cx.tenant_id(),
            cx.device_id(),
            self.0,
        )
    }
}
