//! The day close: what this terminal sold on one IST calendar day, by payment mode and tax
//! head, the HSN summary, the document numbers used per series, credit notes and udhaar
//! received. Closing stores the report as a fact; asking again returns the stored report, never
//! a recomputation that could differ.
//!
//! Tables: `day_close`.

use std::collections::BTreeMap;

use rusqlite::OptionalExtension;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

use crate::engine::{Env, ReadCx, Record, WriteCx};
use crate::error::{Error, InputError, Result};
use crate::ops::{Command, Op, Query};
use crate::rows::table;

table! {
    /// A closed day's report, stored once.
    struct DayCloseRow in "day_close", key id {
        id: String,
        tenant_id: Uuid,
        device_id: Uuid,
        day: String,
        closed_at_ms: i64,
        seat_id: Uuid,
        report: String,
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TaxTotals {
    pub taxable_paise: i64,
    pub cgst_paise: i64,
    pub sgst_paise: i64,
    pub igst_paise: i64,
    pub cess_paise: i64,
    pub total_paise: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HsnRow {
    pub hsn: String,
    pub gst_rate_bp: u32,
    pub quantity: i64,
    pub taxes: TaxTotals,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NumberRange {
    pub first: String,
    pub last: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DayReport {
    /// `YYYY-MM-DD`, IST.
    pub day: String,
    pub device_id: Uuid,
    /// False while the day is open (figures may still change); true once closed and stored.
    pub closed: bool,
    pub closed_at_ms: Option<i64>,
    pub invoices: Option<NumberRange>,
    pub credit_notes: Option<NumberRange>,
    pub sales: TaxTotals,
    pub round_off_paise: i64,
    pub returns: TaxTotals,
    /// Money taken for sales, by mode (cash, upi, card, credit).
    pub payments_by_mode: BTreeMap<String, i64>,
    /// Money given back for returns, by settlement.
    pub refunds_by_settlement: BTreeMap<String, i64>,
    /// Udhaar paid off, by mode.
    pub udhaar_received_by_mode: BTreeMap<String, i64>,
    pub hsn_summary: Vec<HsnRow>,
    /// Cash that should be in the drawer from today: cash sales less cash refunds plus cash
    /// udhaar payments.
    pub expected_cash_paise: i64,
}

/// Unix milliseconds of 00:00 IST on `day` and the next day.
fn ist_bounds(day: Date) -> (i64, i64) {
    let start = day
        .midnight()
        .assume_offset(galla_domain::fiscal::ist())
        .unix_timestamp()
        * 1000;
    (start, start + 86_400_000)
}

/// Parses `YYYY-MM-DD`.
pub fn parse_day(text: &str) -> Result<Date, InputError> {
    let t = text.trim();
    let bad = || InputError::Rejected {
        field: "day",
        reason: format!("{t:?} is not a date like 2026-04-01"),
    };
    let parts: Vec<&str> = t.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let y: i32 = y.parse().map_err(|_| bad())?;
    let m: u8 = m.parse().map_err(|_| bad())?;
    let d: u8 = d.parse().map_err(|_| bad())?;
    let month = time::Month::try_from(m).map_err(|_| bad())?;
    Date::from_calendar_date(y, month, d).map_err(|_| bad())
}

fn day_text(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

fn compute_day(cx: &ReadCx<'_>, day: Date) -> Result<DayReport> {
    let conn = cx.conn();
    let (from, to) = ist_bounds(day);
    let dev = cx.device_id().to_string();
    let range = |table: &str| -> Result<Option<NumberRange>> {
        let sql = format!(
            "SELECT count(*), \
                   (SELECT number FROM {table} WHERE device_id = ?1 AND issued_at_ms >= ?2 AND issued_at_ms < ?3 ORDER BY fy, number_in_year LIMIT 1), \
                   (SELECT number FROM {table} WHERE device_id = ?1 AND issued_at_ms >= ?2 AND issued_at_ms < ?3 ORDER BY fy DESC, number_in_year DESC LIMIT 1) \
                 FROM {table} WHERE device_id = ?1 AND issued_at_ms >= ?2 AND issued_at_ms < ?3"
        );
        let (count, first, last): (i64, Option<String>, Option<String>) =
            conn.query_row(&sql, rusqlite::params![dev, from, to], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        Ok(match (first, last) {
            (Some(first), Some(last)) if count > 0 => Some(NumberRange { first, last, count }),
            _ => None,
        })
    };
    let totals = |table: &str| -> Result<(TaxTotals, i64)> {
        let sql = format!(
            "SELECT COALESCE(SUM(taxable_paise),0), COALESCE(SUM(cgst_paise),0), COALESCE(SUM(sgst_paise),0), \
                        COALESCE(SUM(igst_paise),0), COALESCE(SUM(cess_paise),0), COALESCE(SUM(total_paise),0), \
                        COALESCE(SUM(round_off_paise),0) \
                 FROM {table} WHERE device_id = ? AND issued_at_ms >= ? AND issued_at_ms < ?"
        );
        Ok(conn.query_row(&sql, rusqlite::params![dev, from, to], |r| {
            Ok((
                TaxTotals {
                    taxable_paise: r.get(0)?,
                    cgst_paise: r.get(1)?,
                    sgst_paise: r.get(2)?,
                    igst_paise: r.get(3)?,
                    cess_paise: r.get(4)?,
                    total_paise: r.get(5)?,
                },
                r.get(6)?,
            ))
        })?)
    };
    let grouped = |sql: &str,
                   params: rusqlite::ParamsFromIter<Vec<Value>>|
     -> Result<BTreeMap<String, i64>> {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map(params, |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    };
    let p = || {
        rusqlite::params_from_iter(vec![
            Value::Text(dev.clone()),
            Value::Integer(from),
            Value::Integer(to),
        ])
    };
    let payments_by_mode = grouped(
        "SELECT p.mode, SUM(p.amount_paise) FROM payment p JOIN invoice i ON i.id = p.invoice_id \
             WHERE i.device_id = ? AND i.issued_at_ms >= ? AND i.issued_at_ms < ? GROUP BY p.mode",
        p(),
    )?;
    let refunds_by_settlement = grouped(
        "SELECT settlement, SUM(total_paise) FROM credit_note \
             WHERE device_id = ? AND issued_at_ms >= ? AND issued_at_ms < ? GROUP BY settlement",
        p(),
    )?;
    let udhaar_received_by_mode = grouped(
        "SELECT mode, -SUM(amount_paise) FROM ledger_entry \
             WHERE kind = 'payment' AND device_id = ? AND at_ms >= ? AND at_ms < ? GROUP BY mode",
        p(),
    )?;
    let mut hsn_summary = Vec::new();
    {
        let mut stmt = conn.prepare_cached(
                "SELECT COALESCE(l.hsn, ''), l.gst_rate_bp, SUM(l.quantity), SUM(l.taxable_paise), SUM(l.cgst_paise), \
                        SUM(l.sgst_paise), SUM(l.igst_paise), SUM(l.cess_paise), SUM(l.total_paise) \
                 FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id \
                 WHERE i.device_id = ? AND i.issued_at_ms >= ? AND i.issued_at_ms < ? \
                 GROUP BY 1, 2 ORDER BY 1, 2",
            )?;
        let mut rows = stmt.query(rusqlite::params![dev, from, to])?;
        while let Some(r) = rows.next()? {
            hsn_summary.push(HsnRow {
                hsn: r.get(0)?,
                gst_rate_bp: r.get(1)?,
                quantity: r.get(2)?,
                taxes: TaxTotals {
                    taxable_paise: r.get(3)?,
                    cgst_paise: r.get(4)?,
                    sgst_paise: r.get(5)?,
                    igst_paise: r.get(6)?,
                    cess_paise: r.get(7)?,
                    total_paise: r.get(8)?,
                },
            });
        }
    }
    let (sales, round_off_paise) = totals("invoice")?;
    let (returns, _) = totals("credit_note")?;
    let expected_cash_paise = payments_by_mode.get("cash").copied().unwrap_or(0)
        - refunds_by_settlement
            .get("refund_cash")
            .copied()
            .unwrap_or(0)
        + udhaar_received_by_mode.get("cash").copied().unwrap_or(0);
    Ok(DayReport {
        day: day_text(day),
        device_id: cx.device_id(),
        closed: false,
        closed_at_ms: None,
        invoices: range("invoice")?,
        credit_notes: range("credit_note")?,
        sales,
        round_off_paise,
        returns,
        payments_by_mode,
        refunds_by_settlement,
        udhaar_received_by_mode,
        hsn_summary,
        expected_cash_paise,
    })
}

fn stored_day(cx: &ReadCx<'_>, id: &str) -> Result<Option<DayReport>> {
    let json: Option<String> = cx
        .conn()
        .query_row("SELECT report FROM day_close WHERE id = ?", [id], |r| {
            r.get(0)
        })
        .optional()?;
    json.map(|j| {
        serde_json::from_str(&j).map_err(|_| Error::DatabaseDamaged {
            detail: format!("day close {id} is unreadable"),
        })
    })
    .transpose()
}

fn day_id(cx: &ReadCx<'_>, day: Date) -> String {
    format!("{}/{}", cx.device_id(), day_text(day))
}

/// The day's report: the stored one if the day is closed, otherwise the figures so far.
pub(crate) struct GetDayReport(pub(crate) Date);

impl Query for GetDayReport {
    const OP: Op = Op::DayReport;
    type Output = DayReport;
    fn run(self, cx: &ReadCx<'_>) -> Result<DayReport> {
        match stored_day(cx, &day_id(cx, self.0))? {
            Some(r) => Ok(r),
            None => compute_day(cx, self.0),
        }
    }
}

/// Closes the day: computes the report once and stores it. Closing again returns the same
/// stored report.
pub(crate) struct CloseDay(pub(crate) Date);

impl Command for CloseDay {
    const OP: Op = Op::DayReport;
    type Output = DayReport;
    fn record(&self, env: &Env) -> Option<Record> {
        Some(Record::new(
            "day.close",
            "day_close",
            format!("{}/{}", env.device_id, day_text(self.0)),
        ))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<DayReport> {
        let day = self.0;
        let (_, end) = ist_bounds(day);
        if cx.now() < end {
            return Err(InputError::Conflict(format!(
                "{} is not over yet (IST): close it after midnight",
                day_text(day)
            ))
            .into());
        }
        let id = day_id(cx, day);
        if let Some(r) = stored_day(cx, &id)? {
            return Ok(r);
        }
        let mut report = compute_day(cx, day)?;
        report.closed = true;
        report.closed_at_ms = Some(cx.now());
        cx.insert(&DayCloseRow {
            id,
            tenant_id: cx.tenant_id(),
            device_id: cx.device_id(),
            day: report.day.clone(),
            closed_at_ms: cx.now(),
            seat_id: cx.seat_id(),
            report: crate::error::to_json(&report)?,
        })?;
        Ok(report)
    }
}
