//! Shared state: the shop's books as all its terminals agree on them, derived from the audit
//! records they push (issue 7), in the push's transaction.
//!
//! A record's after images (`"table/id" → row`, as the terminal's SQLite holds it) are the
//! operation's effect; this module decides what each one does to the tenant's shared rows:
//! - **facts** (invoices and their lines, payments and IMEIs, credit notes, ledger entries, day
//!   closes) are written once and never changed. A second invoice or credit note with a number
//!   the year already has is not taken into the books (with everything hanging off it), and
//!   the owner is alerted; the record itself stays in the log, because it was signed.
//!   An IMEI sold by a second invoice while an earlier sale of it stands raises a conflict for
//!   the owner; both sales stand, since both happened.
//! - **merged** rows (customers, products, the shop's settings) take each changed column from
//!   the edit with the later hybrid-logical-clock stamp (`galla_proto::hlc`, device id as the
//!   tie-break), so edits of different fields on two terminals both survive, and every party
//!   picks the same winner whatever order the pushes arrive in.
//! - **seats** (and their recovery codes) are the server's to decide: a change is applied only
//!   if the seat that made it held the right, by the roster as the server has it when the
//!   record arrives; otherwise it is not applied and the owner is alerted. A linked shop's
//!   history from before it linked is taken as it is: the cloud knows nothing better about it.
//!
//! Tables not named here (carts, this terminal's series counters, sign-in guards, sync
//! bookkeeping) are each terminal's own and never shared.

use std::collections::{BTreeSet, HashMap, HashSet};

use galla_domain::access::{Access, GrantRefusal, Override, Permission, Role, grant_refusal};
use galla_proto::audit::AuditRecord;
use galla_proto::hlc::{HlcTimestamp, is_too_far_ahead};
use galla_proto::tables::{self, Merge};
use serde_json::{Map, Value as Json};
use sha2::Digest as _;
use tokio_postgres::Transaction;
use uuid::Uuid;

use crate::api::{ApiError, ApiResult};

/// How one table's rows become shared state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Written once and never changed.
    Fact,
    /// Merged column by column, the later stamp winning. `stamp` names the column holding the
    /// row's HLC stamp; without one, the record's time and device make it. `local` columns
    /// stay each terminal's own (a product's stock is counted per terminal for now).
    Merged {
        stamp: Option<&'static str>,
        local: &'static [&'static str],
    },
    /// Server-authoritative; applied only if the acting seat holds the right.
    Seat,
}

/// The policy of a terminal table by the shared registry (`galla_proto::tables`), or `None`
/// for tables that are not shared or take no pushes (the cloud's own alerts).
pub fn policy(table: &str) -> Option<Policy> {
    let t = tables::shared(table)?;
    Some(match t.merge {
        Merge::Fact => Policy::Fact,
        Merge::Stamped => Policy::Merged {
            stamp: Some(tables::STAMP_COLUMN),
            local: t.local,
        },
        Merge::Latest => Policy::Merged {
            stamp: None,
            local: t.local,
        },
        Merge::Roster => Policy::Seat,
        Merge::CloudOnly => return None,
    })
}

/// Columns of a fact that point at another fact: a refused document takes these with it.
const PARENT_COLUMNS: &[&str] = &["invoice_id", "credit_note_id"];

/// An alert for the owner raised while deriving.
#[derive(Debug, Clone)]
struct Alert {
    kind: &'static str,
    detail: String,
}

/// One shared row as read, changed and written back.
#[derive(Debug, Clone)]
struct Row {
    data: Option<Map<String, Json>>,
    stamps: Map<String, Json>,
    device: Uuid,
    dirty: bool,
}

impl Row {
    /// A row the cloud does not have yet, about to be written by `device`'s record.
    fn new(device: Uuid) -> Row {
        Row {
            data: None,
            stamps: Map::new(),
            device,
            dirty: false,
        }
    }
}

/// A seat as the roster has it, for the rights check.
#[derive(Debug, Clone)]
struct RosterSeat {
    roles: Vec<String>,
    revoked: bool,
    dirty: bool,
    existed: bool,
    display_name: String,
}

/// One record as pushed: the signed record and the redacted values that came with it.
pub struct Pushed<'a> {
    pub record: &'a AuditRecord,
    pub secrets: Option<&'a Map<String, Json>>,
}

fn bad(message: String) -> ApiError {
    ApiError::bad_request(message)
}

fn images(record: &AuditRecord, bytes: &Option<Vec<u8>>) -> ApiResult<Map<String, Json>> {
    match bytes {
        None => Ok(Map::new()),
        Some(b) => match serde_json::from_slice(b) {
            Ok(Json::Object(m)) => Ok(m),
            _ => Err(bad(format!(
                "record {} has images that are not a JSON object",
                record.seq
            ))),
        },
    }
}

/// The digest a terminal shows in place of a redacted value (`write::redact` on the terminal).
fn redaction_digest(value: &Json) -> String {
    let digest = sha2::Sha256::digest(value.to_string().as_bytes());
    format!("sha256:{}", hex::encode(&digest[..16]))
}

/// Puts the pushed secrets back where the record shows their digests; each must match its
/// digest, so what is stored is what the device signed for. A digest without its value leaves
/// the column out (the stored value, if any, stays).
fn restore_secrets(
    seq: u64,
    key: &str,
    row: &mut Map<String, Json>,
    secrets: Option<&Map<String, Json>>,
) -> ApiResult<()> {
    let given = secrets.and_then(|s| s.get(key)).and_then(Json::as_object);
    let redacted: Vec<String> = row
        .iter()
        .filter(|(_, v)| v.get("$redacted").is_some())
        .map(|(c, _)| c.clone())
        .collect();
    for column in redacted {
        let digest = row[&column]["$redacted"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        match given.and_then(|g| g.get(&column)) {
            Some(value) if redaction_digest(value) == digest => {
                row.insert(column, value.clone());
            }
            Some(_) => {
                return Err(bad(format!(
                    "record {seq}: the value sent for {key} {column} does not match its digest in the record"
                )));
            }
            None => {
                row.remove(&column);
            }
        }
    }
    Ok(())
}

fn stamp_of(
    policy_stamp: Option<&str>,
    row: &Map<String, Json>,
    record: &AuditRecord,
) -> ApiResult<String> {
    if let Some(column) = policy_stamp
        && let Some(text) = row.get(column).and_then(Json::as_str)
    {
        return HlcTimestamp::decode(text)
            .map(|_| text.to_owned())
            .ok_or_else(|| bad(format!("record {}: a malformed HLC stamp", record.seq)));
    }
    // The record's place in its device's chain orders a device's writes within one
    // millisecond: the owner's second answer a moment after the first is the later one.
    HlcTimestamp {
        wall_ms: record.time_ms.max(0),
        counter: u32::try_from(record.seq).unwrap_or(u32::MAX),
        device: record.device_id,
    }
    .encode()
    .ok_or_else(|| bad(format!("record {}: a time before 1970", record.seq)))
}

fn split_key(key: &str) -> Option<(&str, &str)> {
    let (table, id) = key.split_once('/')?;
    (!table.is_empty() && !id.is_empty() && id.len() <= 200).then_some((table, id))
}

/// What a seat change needs of the acting seat.
fn seat_right(action: &str) -> Permission {
    match action {
        "seat.revoke" | "seat.sign_out_everywhere" => Permission::RevokeSeats,
        "seat.grant_support" => Permission::GrantSupport,
        _ => Permission::ManageSeats,
    }
}

/// Changes a seat may make to its own row without the right to manage seats: its secret, its
/// second factor, its recovery codes, signing itself out. Not its roles or overrides.
fn only_own_credentials(changed: &BTreeSet<String>) -> bool {
    const ROSTER: &[&str] = &["roles", "overrides", "revoked_at_ms", "support_until_ms"];
    !changed.iter().any(|c| ROSTER.contains(&c.as_str()))
}

/// A pushed record stamped further ahead of the cloud's clock than any honest clock may be
/// (`galla_proto::hlc::MAX_DRIFT_MS`): its time, or the HLC stamp of a merged row in its images.
/// Merged, such a stamp would win every later edit of the row and, pulled, push every till's
/// clock to where it cannot stamp again (issue 21); so the batch is refused and the owner
/// alerted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromTheFuture {
    pub seq: u64,
    pub action: String,
    pub ahead_ms: i64,
}

/// What deriving a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Derived {
    /// The records' effect is in the shared state.
    Done,
    /// Nothing was read or written: a record is stamped from the future.
    Refused(FromTheFuture),
}

/// The first stamp of `record` from the future, if any: its own time, or the stamp column of a
/// merged row in either image (a deletion is stamped by its before image).
fn from_the_future(
    record: &AuditRecord,
    before: &Map<String, Json>,
    after: &Map<String, Json>,
    now_ms: i64,
) -> Option<FromTheFuture> {
    let refused = |wall_ms: i64| FromTheFuture {
        seq: record.seq,
        action: record.action.clone(),
        ahead_ms: wall_ms.saturating_sub(now_ms),
    };
    if is_too_far_ahead(record.time_ms, now_ms) {
        return Some(refused(record.time_ms));
    }
    for (key, image) in before.iter().chain(after) {
        let Some((table, _)) = split_key(key) else {
            continue;
        };
        let Some(Policy::Merged {
            stamp: Some(column),
            ..
        }) = policy(table)
        else {
            continue;
        };
        if let Some(t) = image
            .get(column)
            .and_then(Json::as_str)
            .and_then(HlcTimestamp::decode)
            && t.is_from_the_future(now_ms)
        {
            return Some(refused(t.wall_ms));
        }
    }
    None
}

/// Why a pushed image of `device/<id>` is not taken, if it is not (issue 21): a terminal writes
/// only its own row, never removes it, and never changes the public key it enrolled with (a
/// stolen terminal's key could otherwise disable another counter, or give it a key that makes
/// it refuse to open).
fn device_row_refusal(
    id: &str,
    device: Uuid,
    device_key: &[u8; 32],
    after: Option<&Map<String, Json>>,
) -> Option<&'static str> {
    if id != device.to_string() {
        return Some("changed another terminal's row");
    }
    let Some(after) = after else {
        return Some("removed this terminal's row");
    };
    let key = after.get("public_key")?;
    let bytes = key.get("$b64").and_then(Json::as_str).and_then(|b| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.decode(b).ok()
    });
    (bytes.as_deref() != Some(&device_key[..]))
        .then_some("changed the public key this terminal enrolled with")
}

/// Why a seat's edit of a merged row (customers, products, settings, devices, alert answers)
/// is not taken, if it is not (issue 21, deliver 4): the acting seat, by the roster as the
/// cloud has it when the record arrives, must be on it, not revoked, and hold one of the
/// table's writer rights (`galla_proto::tables`). Changing only local and touch columns is no
/// edit (a sale moves a product's stock with `Bill` alone); a terminal enrolls its own device
/// row by no seat, the owner's code being the authority.
fn merged_edit_refusal(
    table: &str,
    seat_id: Option<Uuid>,
    before: Option<&Map<String, Json>>,
    after: Option<&Map<String, Json>>,
    roster: &HashMap<Uuid, RosterSeat>,
    overrides: &HashMap<Uuid, Vec<Override>>,
) -> Option<String> {
    let shared = tables::shared(table)?;
    let changed = changed_columns(before, after);
    if after.is_some() && !shared.is_edit(changed.iter().map(String::as_str)) {
        return None;
    }
    let Some(actor) = seat_id else {
        return (table != "device" || before.is_some()).then(|| "was made by no seat".to_owned());
    };
    let seat = match standing(actor, roster) {
        Ok(seat) => seat,
        Err(who) => return Some(format!("was made by {who}")),
    };
    let access = access(seat, overrides.get(&actor));
    (!shared.writers.iter().any(|p| access.allows(*p))).then(|| {
        let rights: Vec<String> = shared.writers.iter().map(|p| format!("{p:?}")).collect();
        format!(
            "was made by {}, whose seat does not hold the right ({})",
            seat.display_name,
            rights.join(" or ")
        )
    })
}

/// Why a fact (a sale, a return, a ledger entry) is flagged to the owner, if it is: it was made
/// by a seat revoked by the time it reached the cloud, or one the roster never had. It is taken
/// all the same (issue 21, deliver 4): the goods left the shop.
fn fact_flag(seat_id: Option<Uuid>, roster: &HashMap<Uuid, RosterSeat>) -> Option<String> {
    standing(seat_id?, roster).err()
}

/// `actor`'s seat if it stands on the roster; otherwise who it is, as the owner reads it (a
/// seat the roster never had, or one revoked).
fn standing(actor: Uuid, roster: &HashMap<Uuid, RosterSeat>) -> Result<&RosterSeat, String> {
    match roster.get(&actor) {
        None => Err(format!("seat {actor}, which is not on the roster")),
        Some(seat) if seat.revoked => Err(format!("{}, whose seat is revoked", seat.display_name)),
        Some(seat) => Ok(seat),
    }
}

/// Derives the shared state of `pushed` (fresh, verified records of one device, whose enrolled
/// key is `device_key`, in order). A record stamped from the future refuses the whole batch
/// before anything is read.
pub async fn derive(
    tx: &Transaction<'_>,
    tenant: Uuid,
    device: Uuid,
    device_key: &[u8; 32],
    pushed: &[Pushed<'_>],
    now_ms: i64,
) -> ApiResult<Derived> {
    // Stamps beyond this are from the future (see `FromTheFuture`, `merge`).
    let horizon = HlcTimestamp::horizon(now_ms).encode().unwrap_or_default();
    // Parse everything first: a malformed image refuses the push before anything is read.
    struct Parsed {
        before: Map<String, Json>,
        after: Map<String, Json>,
    }
    let mut parsed = Vec::with_capacity(pushed.len());
    let mut keys: HashSet<(String, String)> = HashSet::new();
    let mut numbers: HashSet<(String, i64, String)> = HashSet::new();
    let mut imeis: HashSet<String> = HashSet::new();
    for p in pushed {
        let r = p.record;
        let before = images(r, &r.before)?;
        let mut after = images(r, &r.after)?;
        if let Some(refused) = from_the_future(r, &before, &after, now_ms) {
            return Ok(Derived::Refused(refused));
        }
        for (key, image) in after.iter_mut() {
            // Keys that do not name a row ("table/id") are no shared state.
            let Some((table, _)) = split_key(key) else {
                continue;
            };
            if policy(table).is_none() {
                continue;
            }
            if let Json::Object(row) = image {
                restore_secrets(r.seq, key, row, p.secrets)?;
                match table {
                    "invoice" | "credit_note" => {
                        if let (Some(fy), Some(number)) = (
                            row.get("fy").and_then(Json::as_i64),
                            row.get("number").and_then(Json::as_str),
                        ) {
                            numbers.insert((table.to_owned(), fy, number.to_owned()));
                        }
                    }
                    "invoice_imei" | "credit_note_imei" => {
                        if let Some(imei) = row.get("imei").and_then(Json::as_str) {
                            imeis.insert(imei.to_owned());
                        }
                    }
                    _ => {}
                }
            }
            let (table, id) = split_key(key).unwrap_or_default();
            keys.insert((table.to_owned(), id.to_owned()));
        }
        parsed.push(Parsed { before, after });
    }

    // Read what the records touch, in one round trip each.
    let (tables, ids): (Vec<String>, Vec<String>) = keys.into_iter().unzip();
    let mut rows: HashMap<(String, String), Row> = HashMap::new();
    for r in tx
        .query(
            // One primary-key lookup per key (LIMIT keeps the planner from flattening this
            // into a hash join over the tenant's whole shared state, which grows with every
            // sale and, unanalyzed, is costed as tiny).
            "SELECT s.tbl, s.row_id, s.data, s.stamps, s.device_id
             FROM unnest($2::text[], $3::text[]) AS k(tbl, row_id)
             CROSS JOIN LATERAL (
                 SELECT tbl, row_id, data, stamps, device_id FROM shared_row
                 WHERE tenant_id = $1 AND tbl = k.tbl AND row_id = k.row_id LIMIT 1
             ) s",
            &[&tenant, &tables, &ids],
        )
        .await?
    {
        let data = match r.get::<_, Option<Json>>(2) {
            Some(Json::Object(m)) => Some(m),
            _ => None,
        };
        let stamps = match r.get::<_, Option<Json>>(3) {
            Some(Json::Object(m)) => m,
            _ => Map::new(),
        };
        rows.insert(
            (r.get(0), r.get(1)),
            Row {
                data,
                stamps,
                device: r.get(4),
                dirty: false,
            },
        );
    }
    let mut roster: HashMap<Uuid, RosterSeat> = HashMap::new();
    for r in tx
        .query(
            "SELECT seat_id, roles, revoked, display_name FROM seat WHERE tenant_id = $1",
            &[&tenant],
        )
        .await?
    {
        roster.insert(
            r.get(0),
            RosterSeat {
                roles: r.get(1),
                revoked: r.get(2),
                display_name: r.get(3),
                dirty: false,
                existed: true,
            },
        );
    }
    let mut overrides: HashMap<Uuid, Vec<Override>> = HashMap::new();
    for r in tx
        .query(
            "SELECT row_id, data->>'overrides' FROM shared_row
             WHERE tenant_id = $1 AND tbl = 'seat' AND data ? 'overrides'",
            &[&tenant],
        )
        .await?
    {
        if let (Ok(id), Some(text)) = (
            Uuid::try_parse(r.get::<_, &str>(0)),
            r.get::<_, Option<&str>>(1),
        ) {
            overrides.insert(id, serde_json::from_str(text).unwrap_or_default());
        }
    }
    let (kinds, rest): (Vec<String>, Vec<(i64, String)>) =
        numbers.into_iter().map(|(k, fy, n)| (k, (fy, n))).unzip();
    let (fys, nums): (Vec<i32>, Vec<String>) = rest
        .into_iter()
        .map(|(fy, n)| (i32::try_from(fy).unwrap_or(i32::MAX), n))
        .unzip();
    let mut taken: HashMap<(String, i32, String), String> = HashMap::new();
    for r in tx
        .query(
            "SELECT d.kind, d.fy, d.number, d.row_id
             FROM unnest($2::text[], $3::int[], $4::text[]) AS k(kind, fy, number)
             CROSS JOIN LATERAL (
                 SELECT kind, fy, number, row_id FROM doc_number
                 WHERE tenant_id = $1 AND kind = k.kind AND fy = k.fy AND number = k.number
                 LIMIT 1
             ) d",
            &[&tenant, &kinds, &fys, &nums],
        )
        .await?
    {
        taken.insert((r.get(0), r.get(1), r.get(2)), r.get(3));
    }
    let imei_list: Vec<String> = imeis.into_iter().collect();
    // imei → [(invoice id, returned, new)]
    let mut sales: HashMap<String, Vec<(String, bool, bool)>> = HashMap::new();
    for r in tx
        .query(
            "SELECT imei, invoice_id, returned FROM imei_sale
             WHERE tenant_id = $1 AND imei = ANY($2) ORDER BY invoice_id",
            &[&tenant, &imei_list],
        )
        .await?
    {
        sales
            .entry(r.get(0))
            .or_default()
            .push((r.get(1), r.get(2), false));
    }
    let mut pre_link: bool = tx
        .query_one(
            "SELECT pre_link_history FROM device WHERE tenant_id = $1 AND device_id = $2",
            &[&tenant, &device],
        )
        .await?
        .get(0);
    let pre_link_before = pre_link;

    let mut alerts: Vec<Alert> = Vec::new();
    let mut new_numbers: Vec<(String, i32, String, String)> = Vec::new();
    let mut returned: Vec<(String, String)> = Vec::new();

    for (p, images) in pushed.iter().zip(parsed.iter()) {
        let r = p.record;
        // Documents first: a refused one takes its lines, payments and ledger entries with it.
        let mut refused: HashSet<String> = HashSet::new();
        for (key, image) in &images.after {
            let Some((table @ ("invoice" | "credit_note"), id)) = split_key(key) else {
                continue;
            };
            let Json::Object(row) = image else { continue };
            if rows
                .get(&(table.to_owned(), id.to_owned()))
                .is_some_and(|x| x.data.is_some())
            {
                continue;
            }
            let (Some(fy), Some(number)) = (
                row.get("fy").and_then(Json::as_i64),
                row.get("number").and_then(Json::as_str),
            ) else {
                return Err(bad(format!("record {}: {key} has no fy or number", r.seq)));
            };
            let slot = (
                table.to_owned(),
                i32::try_from(fy).unwrap_or(i32::MAX),
                number.to_owned(),
            );
            match taken.get(&slot) {
                Some(holder) if holder != id => {
                    refused.insert(id.to_owned());
                    alerts.push(Alert {
                        kind: "duplicate_number",
                        detail: format!(
                            "{} number {number} of year {fy} came twice; the second ({id}, from \
                             this terminal's record {}) is kept in the audit log but not in the books",
                            if table == "invoice" { "invoice" } else { "credit note" },
                            r.seq
                        ),
                    });
                }
                Some(_) => {}
                None => {
                    taken.insert(slot.clone(), id.to_owned());
                    new_numbers.push((slot.0, slot.1, slot.2, id.to_owned()));
                }
            }
        }

        let mut seat_refused = false;
        let mut fact_taken = false;
        for (key, image) in &images.after {
            let Some((table, id)) = split_key(key) else {
                continue;
            };
            let Some(pol) = policy(table) else { continue };
            let slot = (table.to_owned(), id.to_owned());
            let after = match image {
                Json::Object(m) => Some(m),
                Json::Null => None,
                _ => return Err(bad(format!("record {}: {key} is not a row", r.seq))),
            };
            let before = images.before.get(key).and_then(Json::as_object);
            match pol {
                Policy::Fact => {
                    let Some(after) = after else { continue };
                    if refused.contains(id)
                        || PARENT_COLUMNS.iter().any(|c| {
                            after
                                .get(*c)
                                .and_then(Json::as_str)
                                .is_some_and(|parent| refused.contains(parent))
                        })
                    {
                        continue;
                    }
                    let entry = rows.entry(slot).or_insert_with(|| Row::new(r.device_id));
                    if entry.data.is_some() {
                        continue;
                    }
                    entry.data = Some(after.clone());
                    entry.device = r.device_id;
                    entry.dirty = true;
                    fact_taken = true;
                    let imei = after.get("imei").and_then(Json::as_str).map(str::to_owned);
                    if let Some(imei) = imei {
                        if table == "invoice_imei" {
                            let invoice = after
                                .get("invoice_id")
                                .and_then(Json::as_str)
                                .unwrap_or_default()
                                .to_owned();
                            let list = sales.entry(imei.clone()).or_default();
                            if list.iter().any(|(inv, ret, _)| !ret && *inv != invoice) {
                                alerts.push(Alert {
                                    kind: "imei_conflict",
                                    detail: format!(
                                        "IMEI {imei} was sold again (invoice {invoice}, this \
                                         terminal's record {}) while an earlier sale of it stands; \
                                         both sales are kept: check the phone and the invoices",
                                        r.seq
                                    ),
                                });
                            }
                            list.push((invoice, false, true));
                        } else if let Some(list) = sales.get_mut(&imei)
                            && let Some(sale) = list.iter_mut().find(|(_, ret, _)| !ret)
                        {
                            sale.1 = true;
                            if !sale.2 {
                                returned.push((imei.clone(), sale.0.clone()));
                            }
                        }
                    }
                }
                Policy::Merged { stamp, local } => {
                    if table == "device"
                        && let Some(why) = device_row_refusal(id, device, device_key, after)
                    {
                        alerts.push(Alert {
                            kind: "device_change_refused",
                            detail: format!(
                                "{} (this terminal's record {}) {why}; it was not applied",
                                r.action, r.seq
                            ),
                        });
                        continue;
                    }
                    if !pre_link
                        && let Some(why) = merged_edit_refusal(
                            table, r.seat_id, before, after, &roster, &overrides,
                        )
                    {
                        alerts.push(Alert {
                            kind: "change_refused",
                            detail: format!(
                                "{} (this terminal's record {}) changed {key} but {why}; it was \
                                 not applied",
                                r.action, r.seq
                            ),
                        });
                        continue;
                    }
                    let stamp_text = match after.or(before) {
                        Some(row) => stamp_of(stamp, row, r)?,
                        None => continue,
                    };
                    let entry = rows.entry(slot).or_insert_with(|| Row::new(r.device_id));
                    merge(
                        entry,
                        before,
                        after,
                        &stamp_text,
                        stamp,
                        local,
                        r.device_id,
                        &horizon,
                    );
                }
                Policy::Seat => {
                    let subject = if table == "seat" {
                        Some(id.to_owned())
                    } else {
                        after
                            .or(before)
                            .and_then(|row| row.get("seat_id"))
                            .and_then(Json::as_str)
                            .map(str::to_owned)
                    };
                    let Some(subject) = subject.and_then(|s| Uuid::try_parse(&s).ok()) else {
                        return Err(bad(format!("record {}: {key} names no seat", r.seq)));
                    };
                    let changed: BTreeSet<String> = changed_columns(before, after);
                    let allowed = pre_link
                        || match r.seat_id {
                            None => {
                                // Marking a recovery code used at sign-in removes a credential.
                                table == "seat_recovery_code"
                                    && changed.iter().all(|c| c == "used_at_ms")
                            }
                            Some(actor) => roster.get(&actor).is_some_and(|seat| {
                                let acting = access(seat, overrides.get(&actor));
                                !seat.revoked
                                    && ((actor == subject && only_own_credentials(&changed))
                                        || (acting.allows(seat_right(&r.action))
                                            && grant_refusal_of(
                                                &acting, table, subject, after, &changed, &roster,
                                                &overrides,
                                            )
                                            .is_none()))
                            }),
                        };
                    if !allowed {
                        seat_refused = true;
                        continue;
                    }
                    let entry = rows.entry(slot).or_insert_with(|| Row::new(r.device_id));
                    match after {
                        None => entry.data = None,
                        Some(after) => {
                            // A column sent only as a digest keeps its stored value.
                            let mut data = entry.data.take().unwrap_or_default();
                            for (c, v) in after {
                                data.insert(c.clone(), v.clone());
                            }
                            entry.data = Some(data);
                        }
                    }
                    entry.device = r.device_id;
                    entry.dirty = true;
                    if table == "seat"
                        && let Some(data) = &entry.data
                    {
                        let roles = role_names(data).unwrap_or_default();
                        if let Some(text) = data.get("overrides").and_then(Json::as_str) {
                            overrides
                                .insert(subject, serde_json::from_str(text).unwrap_or_default());
                        }
                        let name = data
                            .get("display_name")
                            .and_then(Json::as_str)
                            .unwrap_or("seat")
                            .chars()
                            .take(80)
                            .collect::<String>();
                        let seat = roster.entry(subject).or_insert(RosterSeat {
                            roles: vec![],
                            revoked: false,
                            display_name: name.clone(),
                            dirty: true,
                            existed: false,
                        });
                        seat.roles = roles;
                        seat.revoked = !data.get("revoked_at_ms").is_none_or(Json::is_null);
                        seat.display_name = if name.is_empty() { "seat".into() } else { name };
                        seat.dirty = true;
                    }
                }
            }
        }
        if seat_refused {
            alerts.push(Alert {
                kind: "seat_change_refused",
                detail: format!(
                    "{} (this terminal's record {}) changed a seat, but the seat that made it did \
                     not hold the right by the time it reached the cloud; it was not applied",
                    r.action, r.seq
                ),
            });
        }
        if fact_taken
            && !pre_link
            && let Some(who) = fact_flag(r.seat_id, &roster)
        {
            alerts.push(Alert {
                kind: "revoked_seat_fact",
                detail: format!(
                    "{} (this terminal's record {}) was made by {who}; it is in the books, since \
                     it happened at the counter: check it, and revoke the terminal if the seat's \
                     PIN may be known",
                    r.action, r.seq
                ),
            });
        }
        if r.action == "sync.link" {
            pre_link = false;
        }
    }

    write(
        tx,
        tenant,
        device,
        rows,
        roster,
        new_numbers,
        sales,
        returned,
        alerts,
        now_ms,
    )
    .await?;
    if pre_link != pre_link_before {
        tx.execute(
            "UPDATE device SET pre_link_history = $3 WHERE tenant_id = $1 AND device_id = $2",
            &[&tenant, &device, &pre_link],
        )
        .await?;
    }
    Ok(Derived::Done)
}

/// The domain's grant rules (`galla_domain::grant_refusal`, the terminal's too) for `acting`
/// changing `subject`'s seat or its credentials: the seat as the roster has it must hold
/// nothing `acting` does not, and new roles and overrides must give nothing beyond it (the
/// owner role only from a seat holding everything). Discount limits are compared at the
/// roles' defaults: the cloud does not read the shop's own limits.
fn grant_refusal_of(
    acting: &Access,
    table: &str,
    subject: Uuid,
    after: Option<&Map<String, Json>>,
    changed: &BTreeSet<String>,
    roster: &HashMap<Uuid, RosterSeat>,
    overrides: &HashMap<Uuid, Vec<Override>>,
) -> Option<GrantRefusal> {
    let held = roster.get(&subject);
    let current = held.map(|seat| access(seat, overrides.get(&subject)));
    let given = match after {
        Some(after)
            if table == "seat" && (changed.contains("roles") || changed.contains("overrides")) =>
        {
            let roles = roles_of(&match role_names(after) {
                Some(names) => names,
                None => held.map_or_else(Vec::new, |s| s.roles.clone()),
            });
            let given_overrides: Vec<Override> = match after.get("overrides").and_then(Json::as_str)
            {
                Some(text) => serde_json::from_str(text).unwrap_or_default(),
                None => overrides.get(&subject).cloned().unwrap_or_default(),
            };
            let access = Access::with_default_limits(&roles, &given_overrides);
            Some((roles, access))
        }
        _ => None,
    };
    grant_refusal(
        acting,
        current.as_ref(),
        given
            .as_ref()
            .map(|(roles, access)| (roles.as_slice(), access)),
    )
}

/// A seat row's role names (its `roles` column holds them as JSON text), if it has them.
fn role_names(row: &Map<String, Json>) -> Option<Vec<String>> {
    row.get("roles")
        .and_then(Json::as_str)
        .and_then(|t| serde_json::from_str(t).ok())
}

/// The roles among `names` this build knows (an unknown name grants nothing).
fn roles_of(names: &[String]) -> Vec<Role> {
    names.iter().filter_map(|r| Role::parse(r)).collect()
}

fn access(seat: &RosterSeat, overrides: Option<&Vec<Override>>) -> Access {
    Access::with_default_limits(
        &roles_of(&seat.roles),
        overrides.map_or(&[][..], Vec::as_slice),
    )
}

fn changed_columns(
    before: Option<&Map<String, Json>>,
    after: Option<&Map<String, Json>>,
) -> BTreeSet<String> {
    match (before, after) {
        (Some(b), Some(a)) => a
            .iter()
            .filter(|(c, v)| b.get(*c) != Some(*v))
            .map(|(c, _)| c.clone())
            .collect(),
        (None, Some(a)) => a.keys().cloned().collect(),
        (Some(b), None) => b.keys().cloned().collect(),
        (None, None) => BTreeSet::new(),
    }
}

/// Folds one edit into a merged row: each column it changed is taken if its stamp is later
/// than the column's. A deletion wins if it is later than every column's stamp. A column stamp
/// beyond `horizon` (the latest plausible stamp now; one kept from before the cloud refused
/// them) counts as no stamp, so the row's next real edit wins and heals it.
#[allow(clippy::too_many_arguments)]
fn merge(
    row: &mut Row,
    before: Option<&Map<String, Json>>,
    after: Option<&Map<String, Json>>,
    stamp: &str,
    stamp_column: Option<&str>,
    local: &[&str],
    device: Uuid,
    horizon: &str,
) {
    row.stamps
        .retain(|_, s| s.as_str().is_none_or(|s| s <= horizon));
    let later = |stamps: &Map<String, Json>, column: &str| {
        stamps
            .get(column)
            .and_then(Json::as_str)
            .is_none_or(|s| stamp > s)
    };
    let Some(after) = after else {
        if row
            .stamps
            .values()
            .filter_map(Json::as_str)
            .all(|s| stamp > s)
        {
            row.data = None;
            row.stamps
                .insert("$deleted".into(), Json::String(stamp.to_owned()));
            row.device = device;
            row.dirty = true;
        }
        return;
    };
    if row.data.is_none() && !later(&row.stamps, "$deleted") {
        return; // deleted later than this edit was made
    }
    let data = row.data.get_or_insert_with(Map::new);
    let mut took = false;
    for column in changed_columns(before, Some(after)) {
        if local.contains(&column.as_str()) || Some(column.as_str()) == stamp_column {
            continue;
        }
        if later(&row.stamps, &column) {
            data.insert(column.clone(), after[&column].clone());
            row.stamps.insert(column, Json::String(stamp.to_owned()));
            took = true;
        }
    }
    // Columns a first image did not change still need a value (an update seen before the
    // row's insert, say): fill the gaps without a stamp, so any real edit wins over them.
    for (c, v) in after {
        if !local.contains(&c.as_str()) && !data.contains_key(c) {
            data.insert(c.clone(), v.clone());
            took = true;
        }
    }
    if let Some(column) = stamp_column {
        let newest = row
            .stamps
            .values()
            .filter_map(Json::as_str)
            .max()
            .map(str::to_owned);
        if let Some(newest) = newest {
            data.insert(column.to_owned(), Json::String(newest));
        }
    }
    if took {
        row.stamps.remove("$deleted");
        row.device = device;
        row.dirty = true;
    }
}

#[allow(clippy::too_many_arguments)]
async fn write(
    tx: &Transaction<'_>,
    tenant: Uuid,
    device: Uuid,
    rows: HashMap<(String, String), Row>,
    roster: HashMap<Uuid, RosterSeat>,
    numbers: Vec<(String, i32, String, String)>,
    sales: HashMap<String, Vec<(String, bool, bool)>>,
    returned: Vec<(String, String)>,
    alerts: Vec<Alert>,
    now_ms: i64,
) -> ApiResult<()> {
    let dirty: Vec<((String, String), Row)> = rows.into_iter().filter(|(_, r)| r.dirty).collect();
    if !dirty.is_empty() {
        tx.execute(
            "INSERT INTO change_feed (tenant_id, last_change) VALUES ($1, 0)
             ON CONFLICT (tenant_id) DO NOTHING",
            &[&tenant],
        )
        .await?;
        let last: i64 = tx
            .query_one(
                "UPDATE change_feed SET last_change = last_change + $2 WHERE tenant_id = $1
                 RETURNING last_change",
                &[&tenant, &(dirty.len() as i64)],
            )
            .await?
            .get(0);
        let first = last - dirty.len() as i64 + 1;
        let mut tables = Vec::with_capacity(dirty.len());
        let mut ids = Vec::with_capacity(dirty.len());
        let mut datas: Vec<Option<Json>> = Vec::with_capacity(dirty.len());
        let mut stamps: Vec<Option<Json>> = Vec::with_capacity(dirty.len());
        let mut devices = Vec::with_capacity(dirty.len());
        let mut changes = Vec::with_capacity(dirty.len());
        // Oldest first in the feed: facts (and parents) before what refers to them is not
        // needed (terminals apply a whole feed at once), but a stable order helps reading.
        let mut dirty = dirty;
        dirty.sort_by(|a, b| a.0.cmp(&b.0));
        for (i, ((t, id), row)) in dirty.into_iter().enumerate() {
            tables.push(t);
            ids.push(id);
            datas.push(row.data.map(Json::Object));
            stamps.push((!row.stamps.is_empty()).then_some(Json::Object(row.stamps)));
            devices.push(row.device);
            changes.push(first + i as i64);
        }
        tx.execute(
            "INSERT INTO shared_row (tenant_id, tbl, row_id, data, stamps, device_id, change)
             SELECT $1, * FROM unnest($2::text[], $3::text[], $4::jsonb[], $5::jsonb[], $6::uuid[], $7::bigint[])
             ON CONFLICT (tenant_id, tbl, row_id) DO UPDATE
               SET data = EXCLUDED.data, stamps = EXCLUDED.stamps,
                   device_id = EXCLUDED.device_id, change = EXCLUDED.change",
            &[&tenant, &tables, &ids, &datas, &stamps, &devices, &changes],
        )
        .await?;
    }
    for (id, seat) in roster.into_iter().filter(|(_, s)| s.dirty) {
        if seat.existed {
            tx.execute(
                "UPDATE seat SET display_name = $3, roles = $4, revoked = $5
                 WHERE tenant_id = $1 AND seat_id = $2",
                &[&tenant, &id, &seat.display_name, &seat.roles, &seat.revoked],
            )
            .await?;
        } else {
            tx.execute(
                "INSERT INTO seat (tenant_id, seat_id, display_name, roles, revoked)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&tenant, &id, &seat.display_name, &seat.roles, &seat.revoked],
            )
            .await?;
        }
    }
    if !numbers.is_empty() {
        let (kinds, fys, nums, ids) = numbers.into_iter().fold(
            (vec![], vec![], vec![], vec![]),
            |mut acc, (k, fy, n, id)| {
                acc.0.push(k);
                acc.1.push(fy);
                acc.2.push(n);
                acc.3.push(id);
                acc
            },
        );
        tx.execute(
            "INSERT INTO doc_number (tenant_id, kind, fy, number, row_id, device_id)
             SELECT $1, k, f, n, r, $6 FROM unnest($2::text[], $3::int[], $4::text[], $5::text[]) AS u(k, f, n, r)",
            &[&tenant, &kinds, &fys, &nums, &ids, &device],
        )
        .await?;
    }
    let mut imeis = vec![];
    let mut invoices = vec![];
    let mut flags = vec![];
    for (imei, list) in sales {
        for (invoice, was_returned, new) in list {
            if new && imei.len() == 15 && imei.bytes().all(|b| b.is_ascii_digit()) {
                imeis.push(imei.clone());
                invoices.push(invoice);
                flags.push(was_returned);
            }
        }
    }
    if !imeis.is_empty() {
        tx.execute(
            "INSERT INTO imei_sale (tenant_id, imei, invoice_id, device_id, returned)
             SELECT $1, i, v, $5, r FROM unnest($2::text[], $3::text[], $4::bool[]) AS u(i, v, r)
             ON CONFLICT DO NOTHING",
            &[&tenant, &imeis, &invoices, &flags, &device],
        )
        .await?;
    }
    for (imei, invoice) in returned {
        tx.execute(
            "UPDATE imei_sale SET returned = true
             WHERE tenant_id = $1 AND imei = $2 AND invoice_id = $3",
            &[&tenant, &imei, &invoice],
        )
        .await?;
    }
    for alert in alerts {
        tracing::warn!(%tenant, %device, kind = alert.kind, "owner alert raised by a push");
        raise_alert(
            tx,
            tenant,
            alert.kind,
            Some(device),
            &alert.detail,
            None,
            now_ms,
        )
        .await?;
    }
    Ok(())
}

/// Raises an alert for the owner: a row of the append-only `owner_alert` table (what the owner
/// API lists, with any evidence: a record and its signature) and the same alert in the change
/// feed (table `owner_alert`), so the owner sees it at any counter without signing in to the
/// cloud. One place, so the two never disagree.
pub(crate) async fn raise_alert(
    tx: &Transaction<'_>,
    tenant: Uuid,
    kind: &str,
    device: Option<Uuid>,
    detail: &str,
    evidence: Option<(&[u8], &[u8])>,
    now_ms: i64,
) -> ApiResult<Uuid> {
    let alert_id = Uuid::now_v7();
    let (record, signature) = evidence.unzip();
    tx.execute(
        "INSERT INTO owner_alert
             (tenant_id, alert_id, kind, device_id, detail, evidence, evidence_sig, raised_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &tenant, &alert_id, &kind, &device, &detail, &record, &signature, &now_ms,
        ],
    )
    .await?;
    tx.execute(
        "INSERT INTO change_feed (tenant_id, last_change) VALUES ($1, 0)
         ON CONFLICT (tenant_id) DO NOTHING",
        &[&tenant],
    )
    .await?;
    let change: i64 = tx
        .query_one(
            "UPDATE change_feed SET last_change = last_change + 1 WHERE tenant_id = $1
             RETURNING last_change",
            &[&tenant],
        )
        .await?
        .get(0);
    let data = serde_json::json!({
        "id": alert_id.to_string(),
        "kind": kind,
        "device_id": device.map(|d| d.to_string()),
        "detail": detail,
        "raised_at_ms": now_ms,
    });
    tx.execute(
        "INSERT INTO shared_row (tenant_id, tbl, row_id, data, stamps, device_id, change)
         VALUES ($1, 'owner_alert', $2, $3, NULL, $4, $5)",
        // A row the cloud itself wrote (no device's, when the alert is about none).
        &[
            &tenant,
            &alert_id.to_string(),
            &data,
            &device.unwrap_or(Uuid::nil()),
            &change,
        ],
    )
    .await?;
    Ok(alert_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use galla_proto::hlc::MAX_DRIFT_MS;
    use serde_json::json;

    fn obj(v: Json) -> Map<String, Json> {
        match v {
            Json::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn stamp(wall: i64, device: u128) -> String {
        HlcTimestamp {
            wall_ms: wall,
            counter: 0,
            device: Uuid::from_u128(device),
        }
        .encode()
        .unwrap()
    }

    fn empty() -> Row {
        Row::new(Uuid::nil())
    }

    /// The cloud's clock in these tests: later than every stamp they make.
    const TEST_NOW: i64 = 1_000_000;

    const CUSTOMER: Policy = Policy::Merged {
        stamp: Some("hlc"),
        local: &[],
    };

    fn apply(row: &mut Row, before: Option<Json>, after: Option<Json>, s: &str, device: u128) {
        let Policy::Merged { stamp, local } = CUSTOMER else {
            unreachable!()
        };
        let before = before.map(obj);
        let after = after.map(obj);
        merge(
            row,
            before.as_ref(),
            after.as_ref(),
            s,
            stamp,
            local,
            Uuid::from_u128(device),
            &HlcTimestamp::horizon(TEST_NOW).encode().unwrap(),
        );
    }

    #[test]
    fn edits_of_different_fields_on_two_terminals_both_survive() {
        let mut row = empty();
        let base = json!({"id": "c1", "name": "Asha", "state_code": 29, "hlc": stamp(10, 1)});
        apply(&mut row, None, Some(base.clone()), &stamp(10, 1), 1);
        let mut on_a = base.clone();
        on_a["name"] = json!("Asha K");
        let mut on_b = base.clone();
        on_b["state_code"] = json!(27);
        // B's edit is later but arrives first; A's only touched the name.
        apply(&mut row, Some(base.clone()), Some(on_b), &stamp(30, 2), 2);
        apply(&mut row, Some(base), Some(on_a), &stamp(20, 1), 1);
        let data = row.data.unwrap();
        assert_eq!(data["name"], "Asha K");
        assert_eq!(data["state_code"], 27);
        assert_eq!(
            data["hlc"],
            stamp(30, 2),
            "the row carries its newest stamp"
        );
    }

    #[test]
    fn the_later_stamp_wins_a_field_whatever_the_arrival_order() {
        for order in [[0, 1], [1, 0]] {
            let mut row = empty();
            let base = json!({"id": "c1", "name": "Asha"});
            apply(&mut row, None, Some(base.clone()), &stamp(10, 1), 1);
            let edits = [
                (json!({"id": "c1", "name": "Early"}), stamp(20, 9)),
                (json!({"id": "c1", "name": "Late"}), stamp(20, 10)),
            ];
            for i in order {
                let (after, s) = &edits[i];
                apply(&mut row, Some(base.clone()), Some(after.clone()), s, 1);
            }
            assert_eq!(
                row.data.as_ref().unwrap()["name"],
                "Late",
                "device id breaks the tie"
            );
        }
    }

    #[test]
    fn without_a_stamp_column_a_devices_later_record_wins_in_the_same_millisecond() {
        let record = |seq: u64, device: u128| AuditRecord {
            tenant_id: Uuid::from_u128(7),
            device_id: Uuid::from_u128(device),
            seq,
            prev_hash: [0; 32],
            time_ms: 1_000,
            seat_id: None,
            role: "owner".into(),
            action: "cloud_alert.resolve".into(),
            entity_type: "owner_alert".into(),
            entity_id: "a1".into(),
            before: None,
            after: None,
        };
        let row = Map::new();
        let first = stamp_of(None, &row, &record(41, 1)).unwrap();
        let second = stamp_of(None, &row, &record(42, 1)).unwrap();
        assert!(second > first, "{second} after {first}");
        let mut resolution = empty();
        for (note, stamp) in [("found it", &second), ("looking", &first)] {
            apply(
                &mut resolution,
                None,
                Some(json!({"id": "a1", "note": note})),
                stamp,
                1,
            );
        }
        assert_eq!(resolution.data.unwrap()["note"], "found it");
    }

    #[test]
    fn a_deletion_wins_only_over_older_edits() {
        let mut row = empty();
        let base = json!({"id": "b1", "barcode": "890"});
        apply(&mut row, None, Some(base.clone()), &stamp(10, 1), 1);
        apply(&mut row, Some(base.clone()), None, &stamp(20, 1), 1);
        assert!(row.data.is_none());
        // An edit made before the deletion, arriving after it, does not bring the row back.
        let edited = json!({"id": "b1", "barcode": "891"});
        apply(
            &mut row,
            Some(base.clone()),
            Some(edited.clone()),
            &stamp(15, 2),
            2,
        );
        assert!(row.data.is_none());
        // One made after it does.
        apply(&mut row, Some(base), Some(edited), &stamp(25, 2), 2);
        assert_eq!(row.data.unwrap()["barcode"], "891");
    }

    #[test]
    fn a_stamp_or_time_from_the_future_is_caught_in_either_image() {
        let now = 1_795_240_800_000;
        let record = |time_ms: i64| AuditRecord {
            tenant_id: Uuid::from_u128(7),
            device_id: Uuid::from_u128(1),
            seq: 9,
            prev_hash: [0; 32],
            time_ms,
            seat_id: None,
            role: "owner".into(),
            action: "customer.update".into(),
            entity_type: "customer".into(),
            entity_id: "c1".into(),
            before: None,
            after: None,
        };
        let customer = |wall: i64| obj(json!({"customer/c1": {"id": "c1", "hlc": stamp(wall, 1)}}));
        let none = Map::new();
        let fine = record(now + MAX_DRIFT_MS);
        assert_eq!(
            from_the_future(&fine, &none, &customer(now + MAX_DRIFT_MS), now),
            None
        );
        let late = from_the_future(&record(now + MAX_DRIFT_MS + 1), &none, &none, now).unwrap();
        assert_eq!((late.seq, late.ahead_ms), (9, MAX_DRIFT_MS + 1));
        let in_after = from_the_future(&fine, &none, &customer(i64::MAX), now).unwrap();
        assert_eq!(in_after.ahead_ms, i64::MAX - now);
        // A deletion is stamped by its before image.
        assert!(from_the_future(&fine, &customer(now + 86_400_000), &none, now).is_some());
        // Tables without a stamp column, and facts, are judged by the record's time alone.
        let invoice = obj(json!({"invoice/i1": {"id": "i1", "hlc": stamp(i64::MAX, 1)}}));
        assert_eq!(from_the_future(&fine, &none, &invoice, now), None);
    }

    #[test]
    fn a_kept_stamp_from_the_future_loses_to_the_next_real_edit() {
        let mut row = empty();
        let base = json!({"id": "c1", "name": "Asha", "phone": "1", "hlc": stamp(10, 1)});
        apply(&mut row, None, Some(base.clone()), &stamp(10, 1), 1);
        // Merged before the cloud refused such stamps.
        let poison = json!({"id": "c1", "name": "Mallory", "phone": "1"});
        apply(
            &mut row,
            Some(base.clone()),
            Some(poison.clone()),
            &stamp(i64::MAX, 66),
            66,
        );
        assert_eq!(row.data.as_ref().unwrap()["name"], "Mallory");
        let fixed = json!({"id": "c1", "name": "Asha", "phone": "1"});
        apply(&mut row, Some(poison), Some(fixed), &stamp(20, 2), 2);
        let data = row.data.as_ref().unwrap();
        assert_eq!(data["name"], "Asha", "the real edit wins");
        assert_eq!(
            data["hlc"],
            stamp(20, 2),
            "and the row's stamp is plausible again"
        );
    }

    #[test]
    fn secrets_must_match_their_digests() {
        let value = json!("$argon2id$v=19$abc");
        let mut row =
            obj(json!({"id": "s1", "secret_hash": {"$redacted": redaction_digest(&value)}}));
        let good = obj(json!({"seat/s1": {"secret_hash": value}}));
        restore_secrets(1, "seat/s1", &mut row.clone(), Some(&good)).unwrap();
        let forged = obj(json!({"seat/s1": {"secret_hash": "$argon2id$forged"}}));
        assert!(restore_secrets(1, "seat/s1", &mut row.clone(), Some(&forged)).is_err());
        restore_secrets(1, "seat/s1", &mut row, None).unwrap();
        assert!(
            !row.contains_key("secret_hash"),
            "a missing value leaves the column out"
        );
    }

    #[test]
    fn a_seat_may_change_its_own_credentials_but_not_its_roles() {
        let changed: BTreeSet<String> =
            ["secret_hash".to_owned(), "updated_at_ms".to_owned()].into();
        assert!(only_own_credentials(&changed));
        let changed: BTreeSet<String> = ["roles".to_owned()].into();
        assert!(!only_own_credentials(&changed));
    }
}
