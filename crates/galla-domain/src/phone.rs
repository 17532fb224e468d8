//! Phone numbers normalised to E.164, so that the same customer typed two ways is one customer
//! (and one blind-index value).

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("phone number is empty")]
    Empty,
    #[error("phone number may contain only digits, spaces, '-', '(', ')' and a leading '+'")]
    BadCharacter,
    #[error(
        "an Indian phone number has 10 digits (optionally after +91 or 0); this one has {0} digits"
    )]
    WrongLength(usize),
    #[error("an Indian phone number cannot start with 0 after the country code")]
    LeadingZero,
}

/// A phone number in E.164 form, e.g. `+919876543210`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Phone(String);

impl Phone {
    /// Accepts `98765 43210`, `098765-43210`, `+91 98765 43210`, `919876543210`; numbers of other
    /// countries must be written with their `+` country code (8 to 15 digits in all).
    pub fn parse(input: &str) -> Result<Phone, PhoneError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        let (plus, rest) = match trimmed.strip_prefix('+') {
            Some(r) => (true, r),
            None => (false, trimmed),
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '(' | ')' => {}
                _ => return Err(PhoneError::BadCharacter),
            }
        }
        let national = if plus {
            match digits.strip_prefix("91") {
                Some(n) => n.to_owned(),
                None if (8..=15).contains(&digits.len()) && !digits.starts_with('0') => {
                    return Ok(Phone(format!("+{digits}")));
                }
                None => return Err(PhoneError::WrongLength(digits.len())),
            }
        } else if digits.len() == 12 && digits.starts_with("91") {
            digits[2..].to_owned()
        } else if digits.len() == 11 && digits.starts_with('0') {
            digits[1..].to_owned()
        } else {
            digits
        };
        if national.len() != 10 {
            return Err(PhoneError::WrongLength(national.len()));
        }
        if national.starts_with('0') {
            return Err(PhoneError::LeadingZero);
        }
        Ok(Phone(format!("+91{national}")))
    }

    pub fn as_e164(&self) -> &str {
        &self.0
    }

    /// The number with all but the last four digits hidden, for screens and receipts.
    pub fn masked(&self) -> String {
        let n = self.0.len();
        let keep = &self.0[n.saturating_sub(4)..];
        format!("{}{}", "•".repeat(n.saturating_sub(4 + 1)), keep)
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalises_the_ways_a_number_is_typed() {
        for typed in [
            "98765 43210",
            "098765-43210",
            "+91 98765 43210",
            "919876543210",
            "(98765) 43210",
        ] {
            assert_eq!(
                Phone::parse(typed).unwrap().as_e164(),
                "+919876543210",
                "{typed}"
            );
        }
        assert_eq!(
            Phone::parse("+44 20 7946 0958").unwrap().as_e164(),
            "+442079460958"
        );
    }

    #[test]
    fn refuses_what_is_not_a_number() {
        assert_eq!(Phone::parse("  "), Err(PhoneError::Empty));
        assert_eq!(Phone::parse("98765x3210"), Err(PhoneError::BadCharacter));
        assert_eq!(Phone::parse("98765"), Err(PhoneError::WrongLength(5)));
        assert_eq!(Phone::parse("+910876543210"), Err(PhoneError::LeadingZero));
    }

    #[test]
    fn masks_all_but_last_four() {
        assert_eq!(Phone::parse("9876543210").unwrap().masked(), "••••••••3210");
    }

    proptest! {
        #[test]
        fn any_ten_digit_mobile_normalises_identically(n in "[6-9][0-9]{9}") {
            let a = Phone::parse(&n).unwrap();
            let b = Phone::parse(&format!("+91 {} {}", &n[..5], &n[5..])).unwrap();
            let c = Phone::parse(&format!("0{n}")).unwrap();
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(&a, &c);
        }
    }
}
