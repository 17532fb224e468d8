//! Identifiers with check digits the counter types or scans: IMEI and IMEISV for phones, and
//! EAN-13 / UPC-A barcodes. Input is trimmed; spaces and dashes inside are ignored (labels print
//! IMEIs in groups); anything else that is not a digit is refused with the reason.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("{kind} must be {expected} digits, not {found}")]
    WrongLength {
        kind: &'static str,
        expected: &'static str,
        found: usize,
    },
    #[error("{kind} may hold only digits (found {found:?})")]
    NotDigit { kind: &'static str, found: char },
    #[error(
        "{kind} check digit is {found}, but the other digits give {expected}: a digit is mistyped"
    )]
    CheckDigit {
        kind: &'static str,
        expected: u8,
        found: u8,
    },
}

/// The digits of `input`, ignoring surrounding whitespace and inner spaces or dashes.
fn digits(kind: &'static str, input: &str) -> Result<Vec<u8>, CodeError> {
    input
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| {
            c.to_digit(10)
                .map(|d| d as u8)
                .ok_or(CodeError::NotDigit { kind, found: c })
        })
        .collect()
}

/// The Luhn check digit for `body` (3GPP TS 23.003 Annex B): double every second digit from
/// the rightmost, add the digits of each product, check = (10 - sum mod 10) mod 10.
pub fn luhn_check_digit(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 0 {
                let p = d * 2;
                p / 10 + p % 10
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

fn text(d: &[u8]) -> String {
    d.iter().map(|x| char::from(b'0' + x)).collect()
}

/// A phone's IMEI: 8-digit TAC, 6-digit serial, Luhn check digit (3GPP TS 23.003 Annex B).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Imei(String);

impl Imei {
    pub fn parse(input: &str) -> Result<Imei, CodeError> {
        const KIND: &str = "IMEI";
        let d = digits(KIND, input)?;
        if d.len() != 15 {
            return Err(CodeError::WrongLength {
                kind: KIND,
                expected: "15",
                found: d.len(),
            });
        }
        let expected = luhn_check_digit(&d[..14]);
        if d[14] != expected {
            return Err(CodeError::CheckDigit {
                kind: KIND,
                expected,
                found: d[14],
            });
        }
        Ok(Imei(text(&d)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Type Allocation Code: the make and model.
    pub fn tac(&self) -> &str {
        &self.0[..8]
    }
}

/// An IMEI with software version: 16 digits, no check digit (3GPP TS 23.003 §6.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImeiSv(String);

impl ImeiSv {
    pub fn parse(input: &str) -> Result<ImeiSv, CodeError> {
        const KIND: &str = "IMEISV";
        let d = digits(KIND, input)?;
        if d.len() != 16 {
            return Err(CodeError::WrongLength {
                kind: KIND,
                expected: "16",
                found: d.len(),
            });
        }
        Ok(ImeiSv(text(&d)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A retail barcode: EAN-13, or UPC-A (12 digits, stored as the EAN-13 with a leading 0 so the
/// same product scans to the same code either way).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Barcode(String);

/// GS1 check digit: weights 3,1,3,1... from the rightmost digit of the body.
pub fn gs1_check_digit(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(*d) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl Barcode {
    pub fn parse(input: &str) -> Result<Barcode, CodeError> {
        const KIND: &str = "barcode";
        let mut d = digits(KIND, input)?;
        if d.len() == 12 {
            d.insert(0, 0);
        }
        if d.len() != 13 {
            return Err(CodeError::WrongLength {
                kind: KIND,
                expected: "13 (EAN-13) or 12 (UPC-A)",
                found: d.len(),
            });
        }
        let expected = gs1_check_digit(&d[..12]);
        if d[12] != expected {
            return Err(CodeError::CheckDigit {
                kind: KIND,
                expected,
                found: d[12],
            });
        }
        Ok(Barcode(text(&d)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_forms {
    ($($t:ident),*) => {$(
        impl TryFrom<String> for $t {
            type Error = CodeError;
            fn try_from(s: String) -> Result<Self, CodeError> {
                $t::parse(&s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
string_forms!(Imei, ImeiSv, Barcode);

/// A reference a clerk types for a UPI or card payment (or refund): 4 to 64 characters, and
/// never something that looks like a card number (13 to 19 digits passing the Luhn check),
/// which a till must not store. Returns it trimmed, or why it is refused.
pub fn payment_reference(reference: &str) -> Result<String, &'static str> {
    let r = reference.trim();
    if !(4..=64).contains(&r.chars().count()) {
        return Err("must be 4 to 64 characters");
    }
    let digits: Vec<u8> = r
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_digit(10).map(|d| d as u8))
        .collect::<Option<_>>()
        .unwrap_or_default();
    if (13..=19).contains(&digits.len())
        && luhn_check_digit(&digits[..digits.len() - 1]) == digits[digits.len() - 1]
    {
        return Err(
            "looks like a card number: enter the approval or transaction reference instead",
        );
    }
    Ok(r.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_payment_reference_is_kept_unless_it_is_a_card_number() {
        assert_eq!(payment_reference("  UPI-4122 ").unwrap(), "UPI-4122");
        assert!(payment_reference("abc").is_err());
        assert!(payment_reference(&"x".repeat(65)).is_err());
        // A Visa test number, with and without spaces: refused; one digit off passes Luhn no more.
        assert!(payment_reference("4111 1111 1111 1111").is_err());
        assert!(payment_reference("4111111111111111").is_err());
        assert_eq!(
            payment_reference("4111111111111112").unwrap(),
            "4111111111111112"
        );
    }

    #[test]
    fn the_published_imei_example() {
        // india-retail-rules.md, IMEI: 49015420323751 -> check 8.
        assert_eq!(
            luhn_check_digit(&[4, 9, 0, 1, 5, 4, 2, 0, 3, 2, 3, 7, 5, 1]),
            8
        );
        let imei = Imei::parse(" 49-015420-323751-8 ").unwrap();
        assert_eq!(imei.as_str(), "490154203237518");
        assert_eq!(imei.tac(), "49015420");
        assert_eq!(
            Imei::parse("490154203237517"),
            Err(CodeError::CheckDigit {
                kind: "IMEI",
                expected: 8,
                found: 7
            })
        );
        assert!(matches!(
            Imei::parse("49015420323751"),
            Err(CodeError::WrongLength { found: 14, .. })
        ));
        assert!(matches!(
            Imei::parse("49015420323751O"),
            Err(CodeError::NotDigit { found: 'O', .. })
        ));
        assert!(ImeiSv::parse("4901542032375101").is_ok());
        assert!(ImeiSv::parse("490154203237510").is_err());
    }

    #[test]
    fn known_barcodes() {
        // GS1's own examples: EAN-13 4006381333931, UPC-A 036000291452.
        assert_eq!(
            Barcode::parse("4006381333931").unwrap().as_str(),
            "4006381333931"
        );
        assert_eq!(
            Barcode::parse("036000291452").unwrap().as_str(),
            "0036000291452"
        );
        assert_eq!(
            Barcode::parse("036000291452").unwrap(),
            Barcode::parse("0036000291452").unwrap(),
            "UPC-A and its EAN-13 form are one product"
        );
        assert!(matches!(
            Barcode::parse("4006381333932"),
            Err(CodeError::CheckDigit { expected: 1, .. })
        ));
        assert!(Barcode::parse("890").is_err());
    }

    fn body(n: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(0u8..10, n)
    }

    proptest! {
        /// Every IMEI with its Luhn digit is accepted, and every single-digit change (any
        /// position, any other digit) is refused.
        #[test]
        fn imei_check_catches_every_single_digit_change(b in body(14), pos in 0usize..15, delta in 1u8..10) {
            let mut d = b.clone();
            d.push(luhn_check_digit(&b));
            let good = text(&d);
            prop_assert!(Imei::parse(&good).is_ok());
            d[pos] = (d[pos] + delta) % 10;
            prop_assert!(Imei::parse(&text(&d)).is_err(), "{} accepted", text(&d));
        }

        #[test]
        fn ean13_check_catches_every_single_digit_change(b in body(12), pos in 0usize..13, delta in 1u8..10) {
            let mut d = b.clone();
            d.push(gs1_check_digit(&b));
            prop_assert!(Barcode::parse(&text(&d)).is_ok());
            d[pos] = (d[pos] + delta) % 10;
            prop_assert!(Barcode::parse(&text(&d)).is_err());
        }

        #[test]
        fn upca_is_accepted_with_its_check_digit(b in body(11)) {
            let mut d = vec![0];
            d.extend(&b);
            let check = gs1_check_digit(&d);
            let mut upc = b.clone();
            upc.push(check);
            prop_assert!(Barcode::parse(&text(&upc)).is_ok());
        }

        /// Nothing typed at the counter panics the parsers.
        #[test]
        fn parsers_are_total(s in "\\PC{0,40}") {
            let _ = Imei::parse(&s);
            let _ = ImeiSv::parse(&s);
            let _ = Barcode::parse(&s);
        }
    }
}
