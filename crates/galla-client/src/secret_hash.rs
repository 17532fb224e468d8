//! Seat secrets (PINs and passphrases) hashed with Argon2id; only the PHC string is stored.
//!
//! Parameters: Argon2id v1.3, m = 19 MiB, t = 2, p = 1 (the OWASP minimum for Argon2id),
//! 16-byte random salt. Verification runs in the hash library's constant time comparison.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{Error, InputError, Result};

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The owner's passphrase: at least 8 characters, at most 128.
pub fn check_passphrase(secret: &str) -> Result<(), InputError> {
    let len = secret.chars().count();
    if len < 8 {
        return Err(InputError::Rejected {
            field: "passphrase",
            reason: "must be at least 8 characters".into(),
        });
    }
    if len > 128 {
        return Err(InputError::TooLong {
            field: "passphrase",
            len,
            max: 128,
        });
    }
    Ok(())
}

pub fn hash(secret: &str) -> Result<String> {
    argon2()
        .hash_password(secret.as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| Error::Crypto {
            what: "hashing the secret",
        })
}

/// True when `secret` matches the stored PHC string.
pub fn verify(secret: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| argon2().verify_password(secret.as_bytes(), &h).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_right_secret() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse", &h));
        assert!(!verify("correct hors", &h));
        assert!(!verify("correct horse", "not a hash"));
        assert_ne!(hash("correct horse").unwrap(), h, "salted");
    }

    #[test]
    fn passphrase_rules() {
        assert!(check_passphrase("short").is_err());
        assert!(check_passphrase("long enough").is_ok());
        assert!(check_passphrase(&"x".repeat(129)).is_err());
    }
}
