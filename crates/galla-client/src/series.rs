//! A terminal's document series (CGST Rule 46(b), Rule 53(1A)): the next number, taken inside
//! the caller's write transaction so two connections to one store can never take the same
//! number or skip one. One row per terminal, document kind and financial year; a new year
//! starts again at 1.
//!
//! Tables: `doc_series`.

use galla_domain::fiscal::{DocumentNumber, FinancialYear};
use rusqlite::OptionalExtension;
use uuid::Uuid;

use crate::engine::WriteCx;
use crate::error::{InputError, Result};
use crate::rows::{set, table};

table! {
    /// The last number a terminal took of one kind of document in one financial year.
    struct SeriesRow in "doc_series", key id {
        id: String,
        tenant_id: Uuid,
        device_id: Uuid,
        kind: String,
        fy: i32,
        series_code: String,
        last_number: i64,
    }
}

/// What a document is numbered in: this terminal's invoices, or its credit notes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Invoice,
    CreditNote,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Invoice => "invoice",
            Kind::CreditNote => "credit_note",
        }
    }

    /// The prefix printed on this terminal's documents of the kind: `T1`, `T1C`.
    fn code(self, series: &str) -> String {
        match self {
            Kind::Invoice => series.to_owned(),
            Kind::CreditNote => format!("{series}C"),
        }
    }
}

/// Advances this terminal's series of `kind` in `fy` and returns the number taken (and its
/// place in the year).
pub(crate) fn take_next(
    cx: &mut WriteCx<'_, '_>,
    kind: Kind,
    fy: FinancialYear,
) -> Result<(i64, DocumentNumber)> {
    let id = format!("{}/{}/{}", cx.device_id(), kind.name(), fy.start_year());
    let last: Option<i64> = cx
        .conn()
        .prepare_cached("SELECT last_number FROM doc_series WHERE id = ?")?
        .query_row([&id], |r| r.get(0))
        .optional()?;
    let n = last.unwrap_or(0) + 1;
    let code = kind.code(cx.series_code());
    let number = DocumentNumber::in_series(&code, fy, n as u64)
        .map_err(|e| InputError::Conflict(e.to_string()))?;
    if last.is_some() {
        cx.update::<SeriesRow>(&id, &[set("last_number", &n)])?;
    } else {
        cx.insert(&SeriesRow {
            id,
            tenant_id: cx.tenant_id(),
            device_id: cx.device_id(),
            kind: kind.name().to_owned(),
            fy: fy.start_year(),
            series_code: code,
            last_number: n,
        })?;
    }
    Ok((n, number))
}
