//! GST rates as data with effective dates, never as code (india-retail-rules.md, "Rates": the
//! slabs changed on 22 September 2025 and will change again). A schedule maps HSN prefixes to a
//! GST rate and cess from a date on; the most specific prefix in force on the day of the sale
//! wins.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::gst::FULL_BP;

/// One row of a rate schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateRow {
    /// Leading HSN digits this row covers ("85" covers every 85xx).
    pub hsn_prefix: String,
    /// First day (IST calendar date) the rate applies.
    pub effective_from: Date,
    pub gst_rate_bp: u32,
    #[serde(default)]
    pub cess_rate_bp: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    #[error("row {row}: HSN prefix {prefix:?} must be 2 to 8 digits")]
    BadPrefix { row: usize, prefix: String },
    #[error("row {row}: {bp} basis points is not a rate (0 to 100%)")]
    BadRate { row: usize, bp: u32 },
    #[error("row {row}: HSN {prefix} has two rates from {date}")]
    Duplicate {
        row: usize,
        prefix: String,
        date: Date,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateSchedule {
    rows: Vec<RateRow>,
}

/// The rate that applies to one sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    pub gst_rate_bp: u32,
    pub cess_rate_bp: u32,
}

impl RateSchedule {
    /// Validates every row: prefixes of 2-8 digits, rates within 0-100%, no two rows for the
    /// same prefix and day.
    pub fn new(rows: Vec<RateRow>) -> Result<RateSchedule, RateError> {
        for (i, r) in rows.iter().enumerate() {
            let row = i + 1;
            let p = &r.hsn_prefix;
            if !(2..=8).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(RateError::BadPrefix {
                    row,
                    prefix: p.clone(),
                });
            }
            for bp in [r.gst_rate_bp, r.cess_rate_bp] {
                if bp > FULL_BP {
                    return Err(RateError::BadRate { row, bp });
                }
            }
            if rows[..i]
                .iter()
                .any(|o| o.hsn_prefix == r.hsn_prefix && o.effective_from == r.effective_from)
            {
                return Err(RateError::Duplicate {
                    row,
                    prefix: p.clone(),
                    date: r.effective_from,
                });
            }
        }
        Ok(RateSchedule { rows })
    }

    /// The rate for `hsn` on `day`: the longest matching prefix, and of its rows the latest
    /// one already in force. `None` when no row covers the code on that day.
    pub fn rate_for(&self, hsn: &str, day: Date) -> Option<Rate> {
        self.rows
            .iter()
            .filter(|r| hsn.starts_with(&r.hsn_prefix) && r.effective_from <= day)
            .max_by_key(|r| (r.hsn_prefix.len(), r.effective_from))
            .map(|r| Rate {
                gst_rate_bp: r.gst_rate_bp,
                cess_rate_bp: r.cess_rate_bp,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Month;

    fn day(y: i32, m: Month, d: u8) -> Date {
        Date::from_calendar_date(y, m, d).unwrap()
    }

    fn row(prefix: &str, from: Date, bp: u32) -> RateRow {
        RateRow {
            hsn_prefix: prefix.into(),
            effective_from: from,
            gst_rate_bp: bp,
            cess_rate_bp: 0,
        }
    }

    #[test]
    fn the_rate_in_force_on_the_day_of_sale_with_the_most_specific_prefix() {
        let reform = day(2025, Month::September, 22);
        let s = RateSchedule::new(vec![
            row("85", day(2017, Month::July, 1), 1800),
            row("8528", day(2017, Month::July, 1), 2800),
            row("8528", reform, 1800),
        ])
        .unwrap();
        let tv = "85287211";
        assert_eq!(
            s.rate_for(tv, day(2025, Month::September, 21))
                .unwrap()
                .gst_rate_bp,
            2800
        );
        assert_eq!(s.rate_for(tv, reform).unwrap().gst_rate_bp, 1800);
        assert_eq!(s.rate_for("85171300", reform).unwrap().gst_rate_bp, 1800);
        assert_eq!(s.rate_for("6109", reform), None);
        assert_eq!(s.rate_for(tv, day(2017, Month::June, 30)), None);
    }

    #[test]
    fn bad_schedules_are_refused_with_the_row() {
        let d = day(2025, Month::April, 1);
        assert!(matches!(
            RateSchedule::new(vec![row("8", d, 500)]),
            Err(RateError::BadPrefix { row: 1, .. })
        ));
        assert!(matches!(
            RateSchedule::new(vec![row("85", d, 10_001)]),
            Err(RateError::BadRate { row: 1, .. })
        ));
        assert!(matches!(
            RateSchedule::new(vec![row("85", d, 500), row("85", d, 1800)]),
            Err(RateError::Duplicate { row: 2, .. })
        ));
    }
}
