//! The shop's own records about its cloud: the link (where the cloud is and which keys are
//! pinned, written once, audited), the owner's resolutions of the cloud's alerts (audited,
//! shared like a setting), and the reads the owner's sync screen makes (alarms, alerts).
//!
//! Tables: `cloud_link`, `alert_resolution`.

use galla_proto::api::SeatSummary;
use uuid::Uuid;

use super::{ALERT_NOTE_MAX, AlertResolution, CloudAlert, CloudLink, SyncAlarm, load_link};
use crate::engine::{Env, ReadCx, Record, WriteCx};
use crate::error::{Error, Result};
use crate::ops::{Command, Op, Query};
use crate::rows::{set, table};

table! {
    /// Where this shop's cloud is and what to trust there (one row, id 1).
    struct CloudLinkRow in "cloud_link", key id {
        id: i64,
        server_url: String,
        ca_pem: String,
        log_origin: String,
        log_vkey: String,
        linked_at_ms: i64,
    }
}

table! {
    /// The owner's answer to one of the cloud's alerts (its id is the alert's).
    struct AlertResolutionRow in "alert_resolution", key id {
        id: String,
        resolved_by: Uuid,
        resolved_at_ms: i64,
        note: String,
    }
}

/// Writes the link (linking and enrollment).
pub(crate) fn insert_link(cx: &mut WriteCx<'_, '_>, link: &CloudLink) -> Result<()> {
    cx.insert(&CloudLinkRow {
        id: 1,
        server_url: link.server_url.clone(),
        ca_pem: link.ca_pem.clone(),
        log_origin: link.log_origin.clone(),
        log_vkey: link.log_vkey.clone(),
        linked_at_ms: link.linked_at_ms,
    })
}

/// Records the link as an audited operation: the chain says when, and which CA and log key
/// were pinned.
pub(crate) struct RecordLink(pub(crate) CloudLink);

impl Command for RecordLink {
    const OP: Op = Op::LinkCloud;
    type Output = ();
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::new("sync.link", "cloud_link", 1))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<()> {
        if load_link(cx.conn())?.is_some() {
            return Err(Error::AlreadyLinked);
        }
        insert_link(cx, &self.0)
    }
}

/// What linking tells the cloud about the shop: the owner who links it and the other seats.
pub(crate) struct LinkFacts {
    pub(crate) owner_seat: Uuid,
    pub(crate) owner_name: String,
    pub(crate) seats: Vec<SeatSummary>,
}

/// The facts linking sends, read for the owner who links.
pub(crate) struct GetLinkFacts;

impl Query for GetLinkFacts {
    const OP: Op = Op::LinkCloud;
    type Output = LinkFacts;
    fn run(self, cx: &ReadCx<'_>) -> Result<LinkFacts> {
        if load_link(cx.conn())?.is_some() {
            return Err(Error::AlreadyLinked);
        }
        let owner_seat = cx.seat_id();
        let conn = cx.conn();
        let owner_name: String = conn.query_row(
            "SELECT display_name FROM seat WHERE id = ?",
            [owner_seat.to_string()],
            |r| r.get(0),
        )?;
        let mut seats = Vec::new();
        let mut stmt = conn.prepare(
            "SELECT id, display_name, roles, revoked_at_ms IS NOT NULL FROM seat
             WHERE tenant_id = ? AND id != ? ORDER BY created_at_ms",
        )?;
        let mut rows = stmt.query([cx.tenant_id().to_string(), owner_seat.to_string()])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let roles: String = r.get(2)?;
            seats.push(SeatSummary {
                seat_id: Uuid::parse_str(&id).map_err(|_| Error::DatabaseDamaged {
                    detail: "a seat id is not a UUID".into(),
                })?,
                display_name: r.get(1)?,
                roles: serde_json::from_str(&roles).map_err(|_| Error::DatabaseDamaged {
                    detail: format!("seat {id} has unreadable roles"),
                })?,
                revoked: r.get(3)?,
            });
        }
        Ok(LinkFacts {
            owner_seat,
            owner_name,
            seats,
        })
    }
}

/// Alarms about the cloud's log, newest first (the owner's sync screen).
pub(crate) struct SyncAlarms;

impl Query for SyncAlarms {
    const OP: Op = Op::SyncAlarms;
    type Output = Vec<SyncAlarm>;
    fn run(self, cx: &ReadCx<'_>) -> Result<Vec<SyncAlarm>> {
        super::alarms(cx.conn())
    }
}

/// The cloud's alerts, newest first, as the last pull brought them.
pub(crate) struct CloudAlerts;

impl Query for CloudAlerts {
    const OP: Op = Op::CloudAlerts;
    type Output = Vec<CloudAlert>;
    fn run(self, cx: &ReadCx<'_>) -> Result<Vec<CloudAlert>> {
        let mut stmt = cx.conn().prepare(
            "SELECT a.id, a.kind, d.name, a.detail, a.raised_at_ms,
                    r.resolved_at_ms, r.note, s.display_name
             FROM owner_alert a LEFT JOIN device d ON d.id = a.device_id
             LEFT JOIN alert_resolution r ON r.id = a.id
             LEFT JOIN seat s ON s.id = r.resolved_by
             ORDER BY a.raised_at_ms DESC, a.id DESC LIMIT 200",
        )?;
        let rows = stmt.query_map([], |r| {
            let resolved_at_ms: Option<i64> = r.get(5)?;
            Ok(CloudAlert {
                id: r.get(0)?,
                kind: r.get(1)?,
                terminal: r.get(2)?,
                detail: r.get(3)?,
                raised_at_ms: r.get(4)?,
                resolution: match resolved_at_ms {
                    Some(resolved_at_ms) => Some(AlertResolution {
                        resolved_by: r.get(7)?,
                        resolved_at_ms,
                        note: r.get(6)?,
                    }),
                    None => None,
                },
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// The owner resolves a cloud alert with a note saying what was done (the phone was found and
/// one sale returned, the duplicate number was explained to the accountant...). An audited
/// write, shared through the cloud, so every counter shows it resolved; a later resolution
/// replaces an earlier one, here and, through the cloud, everywhere.
pub(crate) struct ResolveCloudAlert {
    alert: String,
    note: String,
}

impl ResolveCloudAlert {
    pub(crate) fn new(alert: &str, note: &str) -> Result<ResolveCloudAlert> {
        Ok(ResolveCloudAlert {
            alert: alert.to_owned(),
            note: crate::error::required("note", note, ALERT_NOTE_MAX)?,
        })
    }
}

impl Command for ResolveCloudAlert {
    const OP: Op = Op::ResolveCloudAlert;
    type Output = ();
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::new(
            "cloud_alert.resolve",
            "owner_alert",
            self.alert.clone(),
        ))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<()> {
        let (known, resolved_before): (bool, bool) = cx.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM owner_alert WHERE id = ?1),
                    EXISTS (SELECT 1 FROM alert_resolution WHERE id = ?1)",
            [&self.alert],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if !known {
            return Err(Error::NotFound(format!("cloud alert {}", self.alert)));
        }
        if resolved_before {
            cx.update::<AlertResolutionRow>(
                &self.alert,
                &[
                    set("resolved_by", &cx.seat_id()),
                    set("resolved_at_ms", &cx.now()),
                    set("note", &self.note),
                ],
            )
        } else {
            cx.insert(&AlertResolutionRow {
                id: self.alert,
                resolved_by: cx.seat_id(),
                resolved_at_ms: cx.now(),
                note: self.note,
            })
        }
    }
}
