//! Money as integer paise, never floats (india-retail-rules.md, "Money").

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount of Indian rupees held as a whole number of paise (1 rupee = 100 paise).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount {0:?} is not a number of rupees like 125 or 125.50")]
    Malformed(String),
    #[error("amount {0:?} has fractions of a paisa; use at most two decimal places")]
    FractionOfPaisa(String),
    #[error("amount {0:?} is too large for the till")]
    TooLarge(String),
    #[error("the sum overflows the till's range")]
    Overflow,
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_paise(paise: i64) -> Self {
        Money(paise)
    }

    pub const fn paise(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.0
            .checked_add(other.0)
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.0
            .checked_sub(other.0)
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    /// Parses rupees as typed at a counter: `125`, `125.5`, `125.50`, `-3.25`, `1,23,456.78`.
    /// More than two decimals is refused rather than rounded: a price is never silently changed.
    pub fn parse_rupees(text: &str) -> Result<Money, MoneyError> {
        let raw = text.trim();
        let cleaned: String = raw.chars().filter(|c| *c != ',').collect();
        let (negative, digits) = match cleaned.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, cleaned.as_str()),
        };
        let (whole, frac) = match digits.split_once('.') {
            Some((w, f)) => (w, f),
            None => (digits, ""),
        };
        let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(frac) {
            return Err(MoneyError::Malformed(raw.to_owned()));
        }
        if frac.len() > 2 {
            return Err(MoneyError::FractionOfPaisa(raw.to_owned()));
        }
        let too_large = || MoneyError::TooLarge(raw.to_owned());
        let rupees: i64 = whole.parse().map_err(|_| too_large())?;
        let frac_paise: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| too_large())? * 10,
            _ => frac.parse().map_err(|_| too_large())?,
        };
        let paise = rupees
            .checked_mul(100)
            .and_then(|p| p.checked_add(frac_paise))
            .ok_or_else(too_large)?;
        Ok(Money(if negative { -paise } else { paise }))
    }
}

/// Rupees with Indian digit grouping (lakh, crore): `₹1,23,456.78`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let rupees = (abs / 100).to_string();
        let paise = abs % 100;
        let grouped = if rupees.len() <= 3 {
            rupees
        } else {
            let (head, last3) = rupees.split_at(rupees.len() - 3);
            let mut parts: Vec<&str> = Vec::new();
            let mut rest = head;
            while rest.len() > 2 {
                let (a, b) = rest.split_at(rest.len() - 2);
                parts.push(b);
                rest = a;
            }
            parts.push(rest);
            parts.reverse();
            format!("{},{}", parts.join(","), last3)
        };
        write!(f, "{sign}₹{grouped}.{paise:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn displays_with_indian_grouping() {
        assert_eq!(Money::from_paise(0).to_string(), "₹0.00");
        assert_eq!(Money::from_paise(99_999).to_string(), "₹999.99");
        assert_eq!(Money::from_paise(12_345_678).to_string(), "₹1,23,456.78");
        assert_eq!(
            Money::from_paise(-1_000_000_000).to_string(),
            "-₹1,00,00,000.00"
        );
    }

    #[test]
    fn parses_counter_input() {
        assert_eq!(Money::parse_rupees("125").unwrap().paise(), 12_500);
        assert_eq!(Money::parse_rupees("125.5").unwrap().paise(), 12_550);
        assert_eq!(
            Money::parse_rupees(" 1,23,456.78 ").unwrap().paise(),
            12_345_678
        );
        assert_eq!(Money::parse_rupees("-3.25").unwrap().paise(), -325);
    }

    #[test]
    fn refuses_fractions_of_a_paisa_and_garbage() {
        assert_eq!(
            Money::parse_rupees("1.005"),
            Err(MoneyError::FractionOfPaisa("1.005".into()))
        );
        for bad in ["", ".5", "1e3", "12.3.4", "abc", "१२"] {
            assert!(
                matches!(Money::parse_rupees(bad), Err(MoneyError::Malformed(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            Money::parse_rupees("99999999999999999999"),
            Err(MoneyError::TooLarge(_))
        ));
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(paise in -(i64::MAX / 1000)..(i64::MAX / 1000)) {
            let shown = Money::from_paise(paise).to_string().replace('₹', "");
            prop_assert_eq!(Money::parse_rupees(&shown).unwrap().paise(), paise);
        }
    }
}
