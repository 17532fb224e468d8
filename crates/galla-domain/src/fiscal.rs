//! Financial years, document numbers and e-invoice reference numbers
//! (india-retail-rules.md: "Invoice numbers", "E-invoice", "HSN digits").
//!
//! The financial year runs 1 April to 31 March in India Standard Time (UTC+05:30, no daylight
//! saving), so a sale at 00:10 IST on 1 April belongs to the new year although it is still
//! 31 March in UTC.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Month, OffsetDateTime, UtcOffset};

use crate::gstin::Gstin;
use crate::money::Money;

/// India Standard Time.
pub fn ist() -> UtcOffset {
    UtcOffset::from_hms(5, 30, 0).unwrap_or(UtcOffset::UTC)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FiscalError {
    #[error("{0} ms is not a time the till can date")]
    BadTime(i64),
    #[error("document number {number:?}: {reason}")]
    BadNumber {
        number: String,
        reason: &'static str,
    },
    #[error(
        "series {series:?} has no room for number {n} in 16 characters this financial year: \
         start a shorter series code"
    )]
    SeriesExhausted { series: String, n: u64 },
    #[error("HSN code {code:?}: {reason}")]
    BadHsn { code: String, reason: String },
}

/// The calendar date in India of an instant (Unix milliseconds).
pub fn ist_date(ms: i64) -> Result<time::Date, FiscalError> {
    Ok(
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .map_err(|_| FiscalError::BadTime(ms))?
            .to_offset(ist())
            .date(),
    )
}

/// A financial year, named by the calendar year it starts in (2025 = `2025-26`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FinancialYear(i32);

impl FinancialYear {
    pub fn starting(year: i32) -> FinancialYear {
        FinancialYear(year)
    }

    /// The financial year of an instant (Unix milliseconds), judged in IST.
    pub fn of_unix_ms(ms: i64) -> Result<FinancialYear, FiscalError> {
        let at = ist_date(ms)?;
        let y = at.year();
        Ok(FinancialYear(if at.month() >= Month::April {
            y
        } else {
            y - 1
        }))
    }

    pub fn start_year(self) -> i32 {
        self.0
    }

    /// `2025-26`, as the e-invoice schema and the IRN write it.
    pub fn label(self) -> String {
        format!("{}-{:02}", self.0, (self.0 + 1).rem_euclid(100))
    }

    /// `25-26`, as invoice numbers carry it.
    pub fn short(self) -> String {
        format!(
            "{:02}-{:02}",
            self.0.rem_euclid(100),
            (self.0 + 1).rem_euclid(100)
        )
    }
}

impl fmt::Display for FinancialYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// An invoice or credit-note number: at most 16 characters of letters, digits, `-` and `/`,
/// not starting with `0`, `/` or `-` (CGST Rule 46(b), Rule 53(1A); the e-invoice portal's
/// rule on the first character).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocumentNumber(String);

impl DocumentNumber {
    pub fn parse(input: &str) -> Result<DocumentNumber, FiscalError> {
        let n = input.trim();
        let bad = |reason| FiscalError::BadNumber {
            number: n.to_owned(),
            reason,
        };
        if n.is_empty() {
            return Err(bad("is empty"));
        }
        if n.chars().count() > 16 {
            return Err(bad("is longer than 16 characters"));
        }
        if !n
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '/')
        {
            return Err(bad("may hold only letters, digits, '-' and '/'"));
        }
        if n.starts_with(['0', '/', '-']) {
            return Err(bad("may not start with 0, / or -"));
        }
        Ok(DocumentNumber(n.to_owned()))
    }

    /// The `n`th number of a terminal's series in a financial year: `T1/25-26/000123`. Zero-
    /// padded to six digits where the 16 characters allow (five after a four-character series
    /// code), and longer when `n` needs it and there is room.
    pub fn in_series(
        series: &str,
        fy: FinancialYear,
        n: u64,
    ) -> Result<DocumentNumber, FiscalError> {
        let prefix = format!("{series}/{}/", fy.short());
        let room = 16usize.saturating_sub(prefix.len());
        let digits = format!("{n:0width$}", width = room.min(6));
        if n == 0 || prefix.len() + digits.len() > 16 {
            return Err(FiscalError::SeriesExhausted {
                series: series.to_owned(),
                n,
            });
        }
        DocumentNumber::parse(&format!("{prefix}{digits}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DocumentNumber {
    type Error = FiscalError;
    fn try_from(s: String) -> Result<Self, FiscalError> {
        DocumentNumber::parse(&s)
    }
}

impl From<DocumentNumber> for String {
    fn from(d: DocumentNumber) -> String {
        d.0
    }
}

impl fmt::Display for DocumentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// E-invoice document types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EInvoiceDocType {
    #[serde(rename = "INV")]
    Invoice,
    #[serde(rename = "CRN")]
    CreditNote,
    #[serde(rename = "DBN")]
    DebitNote,
}

impl EInvoiceDocType {
    pub fn code(self) -> &'static str {
        match self {
            EInvoiceDocType::Invoice => "INV",
            EInvoiceDocType::CreditNote => "CRN",
            EInvoiceDocType::DebitNote => "DBN",
        }
    }
}

/// The Invoice Reference Number: lowercase hex SHA-256 of supplier GSTIN + financial year +
/// document type + document number (e-invoice schema; india-retail-rules.md "E-invoice").
pub fn irn(
    supplier: &Gstin,
    fy: FinancialYear,
    doc_type: EInvoiceDocType,
    number: &DocumentNumber,
) -> String {
    let mut h = Sha256::new();
    h.update(supplier.as_str().as_bytes());
    h.update(fy.label().as_bytes());
    h.update(doc_type.code().as_bytes());
    h.update(number.as_str().as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The shop's aggregate turnover in the preceding financial year, as far as the law cares
/// (Notification 78/2020-Central Tax draws one line, at ₹5 crore).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum TurnoverBand {
    #[default]
    #[serde(rename = "up_to_5_crore")]
    UpTo5Crore,
    #[serde(rename = "above_5_crore")]
    Above5Crore,
}

impl TurnoverBand {
    const FIVE_CRORE_PAISE: i64 = 5 * 10_000_000 * 100;

    pub fn of(aggregate_turnover: Money) -> TurnoverBand {
        if aggregate_turnover.paise() > Self::FIVE_CRORE_PAISE {
            TurnoverBand::Above5Crore
        } else {
            TurnoverBand::UpTo5Crore
        }
    }

    /// How many HSN digits an invoice must carry: up to ₹5 crore, 4 digits, optional on
    /// invoices to unregistered buyers; above, 6 digits on every invoice.
    pub fn hsn_digits_required(self, b2b: bool) -> Option<usize> {
        match (self, b2b) {
            (TurnoverBand::Above5Crore, _) => Some(6),
            (TurnoverBand::UpTo5Crore, true) => Some(4),
            (TurnoverBand::UpTo5Crore, false) => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TurnoverBand::UpTo5Crore => "up_to_5_crore",
            TurnoverBand::Above5Crore => "above_5_crore",
        }
    }

    pub fn parse(text: &str) -> Option<TurnoverBand> {
        match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "up_to_5_crore" => Some(TurnoverBand::UpTo5Crore),
            "above_5_crore" => Some(TurnoverBand::Above5Crore),
            _ => None,
        }
    }
}

/// How many HSN digits invoices must carry for a shop of this aggregate turnover
/// (Notification 78/2020-Central Tax); see [`TurnoverBand::hsn_digits_required`].
pub fn hsn_digits_required(aggregate_turnover: Money, b2b: bool) -> Option<usize> {
    TurnoverBand::of(aggregate_turnover).hsn_digits_required(b2b)
}

/// Checks an HSN code (digits only, 2 to 8) against the digits required.
pub fn check_hsn(code: &str, required: Option<usize>) -> Result<(), FiscalError> {
    let c = code.trim();
    let bad = |reason: String| FiscalError::BadHsn {
        code: c.to_owned(),
        reason,
    };
    if c.is_empty() {
        return match required {
            None => Ok(()),
            Some(n) => Err(bad(format!("is required, with at least {n} digits"))),
        };
    }
    if !c.bytes().all(|b| b.is_ascii_digit()) || !(2..=8).contains(&c.len()) || c.len() % 2 == 1 {
        return Err(bad("must be 2, 4, 6 or 8 digits".into()));
    }
    if let Some(n) = required
        && c.len() < n
    {
        return Err(bad(format!(
            "needs at least {n} digits at this shop's turnover"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Unix ms of a wall-clock time in IST.
    fn ist_ms(y: i32, m: u8, d: u8, hh: u8, mm: u8) -> i64 {
        let date = time::Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap();
        let t = time::Time::from_hms(hh, mm, 0).unwrap();
        time::PrimitiveDateTime::new(date, t)
            .assume_offset(ist())
            .unix_timestamp()
            * 1000
    }

    #[test]
    fn the_year_turns_at_midnight_ist_on_1_april() {
        let fy = |ms| FinancialYear::of_unix_ms(ms).unwrap();
        assert_eq!(fy(ist_ms(2026, 3, 31, 23, 59)).label(), "2025-26");
        assert_eq!(fy(ist_ms(2026, 4, 1, 0, 0)).label(), "2026-27");
        // 00:10 IST on 1 April is still 31 March in UTC: IST decides.
        assert_eq!(fy(ist_ms(2026, 4, 1, 0, 10)).short(), "26-27");
        assert_eq!(FinancialYear::starting(1999).label(), "1999-00");
        assert!(FinancialYear::of_unix_ms(i64::MAX).is_err());
    }

    #[test]
    fn series_numbers_across_the_31_march_boundary() {
        let before = FinancialYear::of_unix_ms(ist_ms(2026, 3, 31, 21, 0)).unwrap();
        let after = FinancialYear::of_unix_ms(ist_ms(2026, 4, 1, 9, 0)).unwrap();
        assert_eq!(
            DocumentNumber::in_series("A1", before, 123)
                .unwrap()
                .as_str(),
            "A1/25-26/000123"
        );
        // The series restarts at 1 in the new year, and the number never collides with last year's.
        let first = DocumentNumber::in_series("A1", after, 1).unwrap();
        assert_eq!(first.as_str(), "A1/26-27/000001");
        assert_ne!(first, DocumentNumber::in_series("A1", before, 1).unwrap());
        assert_eq!(
            DocumentNumber::in_series("T1", after, 1_234_567)
                .unwrap()
                .as_str(),
            "T1/26-27/1234567"
        );
        assert_eq!(
            DocumentNumber::in_series("ABCD", after, 7)
                .unwrap()
                .as_str(),
            "ABCD/26-27/00007"
        );
        assert!(matches!(
            DocumentNumber::in_series("ABCD", after, 100_000),
            Err(FiscalError::SeriesExhausted { .. })
        ));
        assert!(DocumentNumber::in_series("T1", after, 0).is_err());
    }

    #[test]
    fn document_number_rules() {
        for ok in ["A1/25-26/000123", "INV-1", "X", "T1/25-26/9999999"] {
            assert!(DocumentNumber::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "0123",
            "/A",
            "-A",
            "A 1",
            "A_1",
            "ABCDEFGHIJKLMNOPQ",
            "₹1",
        ] {
            assert!(DocumentNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_published_irn_example() {
        // india-retail-rules.md: SHA-256("29AAFCC9980M1ZR2019-20INV2019-20/KA/1").
        let g = Gstin::parse("29AAFCC9980M1ZR").unwrap();
        let n = DocumentNumber::parse("2019-20/KA/1").unwrap();
        assert_eq!(
            irn(
                &g,
                FinancialYear::starting(2019),
                EInvoiceDocType::Invoice,
                &n
            ),
            "23f498ee41441ecad30f72ba5b9907506c3df70a17b0e0dff46b76a786400662"
        );
    }

    #[test]
    fn hsn_digits_follow_turnover() {
        let crore = |n: i64| Money::from_paise(n * 10_000_000 * 100);
        assert_eq!(hsn_digits_required(crore(5), false), None);
        assert_eq!(hsn_digits_required(crore(5), true), Some(4));
        assert_eq!(hsn_digits_required(crore(6), false), Some(6));
        assert_eq!(TurnoverBand::of(crore(5)), TurnoverBand::UpTo5Crore);
        assert_eq!(
            TurnoverBand::of(Money::from_paise(crore(5).paise() + 1)),
            TurnoverBand::Above5Crore
        );
        for band in [TurnoverBand::UpTo5Crore, TurnoverBand::Above5Crore] {
            assert_eq!(TurnoverBand::parse(band.as_str()), Some(band));
        }
        assert_eq!(
            TurnoverBand::parse("above-5-crore"),
            Some(TurnoverBand::Above5Crore)
        );
        assert_eq!(TurnoverBand::parse("5 crore"), None);
        for band in [TurnoverBand::UpTo5Crore, TurnoverBand::Above5Crore] {
            assert_eq!(
                serde_json::to_value(band).unwrap(),
                serde_json::Value::String(band.as_str().into()),
                "JSON says what the database says"
            );
        }
        assert!(check_hsn("", None).is_ok());
        assert!(check_hsn("", Some(4)).is_err());
        assert!(check_hsn("8517", Some(4)).is_ok());
        assert!(check_hsn("8517", Some(6)).is_err());
        assert!(check_hsn("851712", Some(6)).is_ok());
        assert!(check_hsn("85A7", None).is_err());
        assert!(check_hsn("851", None).is_err());
    }

    proptest! {
        /// The year a sale falls in is the IST calendar's, for any instant.
        #[test]
        fn financial_year_matches_the_ist_calendar(secs in 0i64..4_102_444_800) {
            let fy = FinancialYear::of_unix_ms(secs * 1000).unwrap();
            let local = OffsetDateTime::from_unix_timestamp(secs).unwrap().to_offset(ist());
            let expect = if local.month() >= Month::April { local.year() } else { local.year() - 1 };
            prop_assert_eq!(fy.start_year(), expect);
        }

        #[test]
        fn every_series_number_is_a_valid_document_number(series in "[A-Z][A-Z0-9]{0,3}", n in 1u64..100_000, y in 2000i32..2100) {
            let d = DocumentNumber::in_series(&series, FinancialYear::starting(y), n).unwrap();
            prop_assert!(d.as_str().len() <= 16);
            prop_assert_eq!(DocumentNumber::parse(d.as_str()).unwrap(), d);
        }
    }
}
