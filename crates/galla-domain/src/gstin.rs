//! GSTIN: the 15-character GST identification number, with its mod-36 check character.
//!
//! Rules from india-retail-rules.md ("GSTIN"): 2-digit state code (01-38, 97 other territory,
//! 99 centre), a 10-character PAN, an entity code, `Z` by default, and a check character
//! computed with the mod-36 Luhn scheme GSTN publishes.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GstinError {
    #[error("a GSTIN has 15 characters; this one has {0}")]
    WrongLength(usize),
    #[error(
        "character {position} of the GSTIN ({found:?}) is not allowed there; expected {expected}"
    )]
    BadCharacter {
        position: usize,
        found: char,
        expected: &'static str,
    },
    #[error("GSTIN state code {0} does not exist (valid: 01-38, 97, 99)")]
    UnknownState(String),
    #[error(
        "GSTIN check character is {found:?} but should be {expected:?}: the number was mistyped"
    )]
    CheckCharacter { found: char, expected: char },
}

/// A GSTIN whose format, state code and check character have been verified.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Gstin(String);

const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn code_point(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// The check character for the first 14 characters (already upper-case, from the alphabet).
pub fn check_character(first14: &[u8]) -> Option<char> {
    let mut sum = 0u32;
    for (i, &c) in first14.iter().enumerate() {
        let weight = if i % 2 == 0 { 1 } else { 2 };
        let p = code_point(c)? * weight;
        sum += p / 36 + p % 36;
    }
    let check = (36 - sum % 36) % 36;
    Some(ALPHABET[check as usize] as char)
}

impl Gstin {
    /// Parses a GSTIN as typed: surrounding spaces are trimmed and letters upper-cased first.
    pub fn parse(input: &str) -> Result<Gstin, GstinError> {
        let s = input.trim().to_ascii_uppercase();
        let count = s.chars().count();
        if count != 15 || s.len() != 15 {
            return Err(GstinError::WrongLength(count));
        }
        let b = s.as_bytes();
        let digit = |c: u8| c.is_ascii_digit();
        let upper = |c: u8| c.is_ascii_uppercase();
        let rules: [(&dyn Fn(u8) -> bool, &'static str); 15] = [
            (&digit, "a digit (state code)"),
            (&digit, "a digit (state code)"),
            (&upper, "a letter (PAN)"),
            (&upper, "a letter (PAN)"),
            (&upper, "a letter (PAN)"),
            (&upper, "a letter (PAN)"),
            (&upper, "a letter (PAN)"),
            (&digit, "a digit (PAN)"),
            (&digit, "a digit (PAN)"),
            (&digit, "a digit (PAN)"),
            (&digit, "a digit (PAN)"),
            (&upper, "a letter (PAN)"),
            (
                &|c: u8| matches!(c, b'1'..=b'9' | b'A'..=b'Z'),
                "1-9 or a letter (entity code)",
            ),
            (
                &|c: u8| matches!(c, b'Z' | b'1'..=b'9' | b'A' | b'B' | b'D'..=b'J'),
                "Z (default)",
            ),
            (
                &|c: u8| digit(c) || upper(c),
                "a digit or letter (check character)",
            ),
        ];
        for (i, (ok, expected)) in rules.iter().enumerate() {
            if !ok(b[i]) {
                return Err(GstinError::BadCharacter {
                    position: i + 1,
                    found: b[i] as char,
                    expected,
                });
            }
        }
        let state: u8 = s[..2].parse().unwrap_or(0);
        if !crate::states::is_state_code(state) {
            return Err(GstinError::UnknownState(s[..2].to_owned()));
        }
        let expected = check_character(&b[..14]).ok_or(GstinError::BadCharacter {
            position: 1,
            found: b[0] as char,
            expected: "a digit or letter",
        })?;
        let found = b[14] as char;
        if found != expected {
            return Err(GstinError::CheckCharacter { found, expected });
        }
        Ok(Gstin(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The two-digit state code that starts the GSTIN (e.g. 27 for Maharashtra).
    pub fn state_code(&self) -> u8 {
        self.0[..2].parse().unwrap_or(0)
    }
}

impl fmt::Display for Gstin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Gstin {
    type Error = GstinError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Gstin::parse(&value)
    }
}

impl From<Gstin> for String {
    fn from(g: Gstin) -> String {
        g.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_published_examples() {
        for g in ["27AAPFU0939F1ZV", "29AAFCC9980M1ZR"] {
            assert_eq!(Gstin::parse(g).unwrap().as_str(), g);
        }
        assert_eq!(Gstin::parse(" 27aapfu0939f1zv ").unwrap().state_code(), 27);
    }

    #[test]
    fn names_what_is_wrong() {
        assert_eq!(
            Gstin::parse("27AAPFU0939F1Z"),
            Err(GstinError::WrongLength(14))
        );
        assert_eq!(
            Gstin::parse("27AAPFU0939F1ZW"),
            Err(GstinError::CheckCharacter {
                found: 'W',
                expected: 'V'
            })
        );
        assert!(matches!(
            Gstin::parse("40AAPFU0939F1ZV"),
            Err(GstinError::UnknownState(_))
        ));
        assert!(matches!(
            Gstin::parse("27AAPF10939F1ZV"),
            Err(GstinError::BadCharacter { position: 7, .. })
        ));
    }

    fn valid_gstin() -> impl Strategy<Value = String> {
        (
            prop_oneof![1u8..=38, Just(97u8), Just(99u8)],
            "[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z",
        )
            .prop_map(|(state, body)| {
                let first14 = format!("{state:02}{body}");
                let check = check_character(first14.as_bytes()).unwrap();
                format!("{first14}{check}")
            })
    }

    proptest! {
        #[test]
        fn every_valid_gstin_is_accepted(g in valid_gstin()) {
            prop_assert!(Gstin::parse(&g).is_ok());
        }

        #[test]
        fn every_single_character_change_is_rejected(
            g in valid_gstin(), pos in 0usize..15, replacement in 0usize..36
        ) {
            let mut bytes = g.clone().into_bytes();
            let new = ALPHABET[replacement];
            prop_assume!(bytes[pos] != new);
            bytes[pos] = new;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(Gstin::parse(&changed).is_err(), "{} accepted", changed);
        }
    }
}
