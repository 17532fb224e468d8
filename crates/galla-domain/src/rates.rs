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
    #[error("line {line}: {reason}")]
    BadLine { line: usize, reason: String },
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

    /// The schedule shipped with Galla (`data/gst-rates.csv`).
    pub fn bundled() -> RateSchedule {
        RateSchedule::parse_csv(BUNDLED_RATES).expect("the bundled rate file is valid (tested)")
    }

    /// Reads a rate file: `hsn_prefix,effective_from,gst_rate,cess_rate` per line, dates as
    /// `YYYY-MM-DD`, rates as percentages with up to two decimals; `#` starts a comment.
    pub fn parse_csv(text: &str) -> Result<RateSchedule, RateError> {
        let mut rows = Vec::new();
        let mut lines: Vec<usize> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let bad = |reason: String| RateError::BadLine { line, reason };
            let cells: Vec<&str> = content.split(',').map(str::trim).collect();
            let [prefix, from, gst, cess] = cells[..] else {
                return Err(bad(format!(
                    "expected 4 cells (hsn_prefix,effective_from,gst_rate,cess_rate), found {}",
                    cells.len()
                )));
            };
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let effective_from = Date::parse(from, &format)
                .map_err(|_| bad(format!("{from:?} is not a date like 2025-09-22")))?;
            rows.push(RateRow {
                hsn_prefix: prefix.to_owned(),
                effective_from,
                gst_rate_bp: percent_bp(gst)
                    .ok_or_else(|| bad(format!("{gst:?} is not a rate like 18 or 0.25")))?,
                cess_rate_bp: percent_bp(cess)
                    .ok_or_else(|| bad(format!("{cess:?} is not a rate like 12 or 0.25")))?,
            });
            lines.push(line);
        }
        // Errors found across rows name the file's line, not the row's index.
        RateSchedule::new(rows).map_err(|e| match e {
            RateError::BadPrefix { row, .. }
            | RateError::BadRate { row, .. }
            | RateError::Duplicate { row, .. } => RateError::BadLine {
                line: lines[row - 1],
                reason: e
                    .to_string()
                    .split_once(": ")
                    .map_or(String::new(), |(_, r)| r.to_owned()),
            },
            other => other,
        })
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

/// The rate file shipped with Galla.
pub const BUNDLED_RATES: &str = include_str!("../data/gst-rates.csv");

/// `18` → 1800, `0.25` → 25; `None` for anything else (more than two decimals, signs, text).
fn percent_bp(text: &str) -> Option<u32> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || whole.len() > 3
        || frac.len() > 2
        || !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let frac_bp: u32 = format!("{frac:0<2}").parse().ok()?;
    whole
        .parse::<u32>()
        .ok()?
        .checked_mul(100)?
        .checked_add(frac_bp)
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
    fn the_bundled_file_parses_and_carries_the_2025_reform() {
        let s = RateSchedule::bundled();
        let reform = day(2025, Month::September, 22);
        assert_eq!(s.rate_for("34011110", reform).unwrap().gst_rate_bp, 500);
        assert_eq!(
            s.rate_for("34011110", day(2025, Month::September, 21)),
            None
        );
        assert_eq!(s.rate_for("85171300", reform).unwrap().gst_rate_bp, 1800);
        assert_eq!(s.rate_for("22021010", reform).unwrap().gst_rate_bp, 4000);
        assert_eq!(
            s.rate_for("22029920", reform),
            None,
            "not every 2202 drink is 40%"
        );
    }

    #[test]
    fn rate_files_are_read_with_comments_and_refused_with_the_line() {
        let s = RateSchedule::parse_csv(
            "# header\n\n8517, 2020-04-01, 18, 0  # phones\n2106,2025-09-22,5,0.25\n",
        )
        .unwrap();
        let r = s.rate_for("2106", day(2025, Month::October, 1)).unwrap();
        assert_eq!((r.gst_rate_bp, r.cess_rate_bp), (500, 25));
        for (bad, line) in [
            ("8517,2020-04-01,18\n", 1),
            ("# x\n8517,01-04-2020,18,0\n", 2),
            ("8517,2020-04-01,eighteen,0\n", 1),
            ("8517,2020-04-01,18.125,0\n", 1),
            ("8517,2020-04-01,-5,0\n", 1),
        ] {
            assert!(
                matches!(RateSchedule::parse_csv(bad), Err(RateError::BadLine { line: l, .. }) if l == line),
                "{bad:?}"
            );
        }
        assert!(matches!(
            RateSchedule::parse_csv("# rates\n\n85,2020-04-01,101,0\n"),
            Err(RateError::BadLine { line: 3, .. })
        ));
        assert!(matches!(
            RateSchedule::parse_csv("85,2020-04-01,18,0\n# again\n85,2020-04-01,5,0\n"),
            Err(RateError::BadLine { line: 3, .. })
        ));
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
