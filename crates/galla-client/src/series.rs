//! A terminal's document series (CGST Rule 46(b), Rule 53(1A)): the next number, taken inside
//! the caller's write transaction so two connections to one store can never take the same
//! number or skip one. One row per terminal, document kind and financial year; a new year
//! starts again at 1.

use galla_domain::fiscal::{DocumentNumber, FinancialYear};
use rusqlite::OptionalExtension;
use rusqlite::types::Value;
use uuid::Uuid;

use crate::error::{InputError, Result};
use crate::write::UnitOfWork;

pub(crate) struct Series<'a> {
    pub tenant_id: Uuid,
    pub device_id: Uuid,
    /// `invoice` or `credit_note`.
    pub kind: &'static str,
    pub fy: FinancialYear,
    /// The prefix printed on the documents, e.g. `T1` or `T1C`.
    pub code: &'a str,
}

impl Series<'_> {
    /// Advances the series and returns the number taken (and its place in the year).
    pub fn take_next(&self, uow: &mut UnitOfWork<'_>) -> Result<(i64, DocumentNumber)> {
        let id = format!("{}/{}/{}", self.device_id, self.kind, self.fy.start_year());
        let last: Option<i64> = uow
            .conn()
            .query_row(
                "SELECT last_number FROM doc_series WHERE id = ?",
                [&id],
                |r| r.get(0),
            )
            .optional()?;
        let n = last.unwrap_or(0) + 1;
        let number = DocumentNumber::in_series(self.code, self.fy, n as u64)
            .map_err(|e| InputError::Conflict(e.to_string()))?;
        if last.is_some() {
            uow.update("doc_series", &id, &[("last_number", Value::Integer(n))])?;
        } else {
            let text = |s: String| Value::Text(s);
            uow.insert(
                "doc_series",
                &id,
                &[
                    ("id", text(id.clone())),
                    ("tenant_id", text(self.tenant_id.to_string())),
                    ("device_id", text(self.device_id.to_string())),
                    ("kind", text(self.kind.to_owned())),
                    ("fy", Value::Integer(self.fy.start_year().into())),
                    ("series_code", text(self.code.to_owned())),
                    ("last_number", Value::Integer(n)),
                ],
            )?;
        }
        Ok((n, number))
    }
}
