//! Fresh randomness from the OS, or a clear error (never a panic) when it is unavailable.

use crate::error::{Error, Result};

pub fn bytes<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|_| Error::Crypto("the system random source failed"))?;
    Ok(out)
}
