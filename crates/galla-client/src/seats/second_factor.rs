//! A seat sets up its own two-step sign-in (TOTP, RFC 6238): the secret is made and shown once,
//! kept in the seat's session (not stored) until the seat confirms it with a code from its
//! authenticator app, then stored encrypted with ten fresh one-time recovery codes.

use zeroize::Zeroizing;

use super::{
    SeatStored, TOTP_SECRET_BYTES, load_guard, load_seat, new_recovery_codes, totp, write_guard,
};
use crate::crypto::{self, SecretString};
use crate::engine::session::{SecondFactorSetup, replacing_a_factor_needs_reauth};
use crate::engine::{Env, Record, WriteCx};
use crate::error::{Error, InputError, Result};
use crate::ops::{Command, Op};
use crate::rows::set;

/// Starts setting up two-step sign-in for the signed-in seat. Nothing is stored until the
/// seat confirms ([`ConfirmSecondFactor`]). `shop_name` labels the authenticator entry.
pub(crate) struct BeginSecondFactor {
    pub(crate) shop_name: String,
}

impl Command for BeginSecondFactor {
    const OP: Op = Op::BeginSecondFactor;
    type Output = SecondFactorSetup;
    fn record(&self, _: &Env) -> Option<Record> {
        None
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<SecondFactorSetup> {
        let seat = load_seat(cx.conn(), cx.tenant_id(), cx.seat_id())?;
        replacing_a_factor_needs_reauth(
            seat.totp_ct.is_some(),
            cx.now(),
            cx.last_auth_at(),
            Op::BeginSecondFactor,
        )?;
        let mut secret = Zeroizing::new(vec![0u8; TOTP_SECRET_BYTES]);
        crypto::fill_random(&mut secret)?;
        let totp = totp(&secret, &seat.display_name, &self.shop_name)?;
        let uri = totp.to_url().map_err(|_| Error::Crypto {
            what: "writing the authenticator's link",
        })?;
        let setup = SecondFactorSetup {
            secret_base32: SecretString::new(totp.secret().to_base32()),
            otpauth_uri: SecretString::new(uri),
        };
        cx.effects().pending_totp = Some(Some(secret));
        Ok(setup)
    }
}

/// Finishes the set-up with a code from the app: stores the secret (encrypted), replaces any
/// earlier recovery codes, and returns the new ones, shown this once.
pub(crate) struct ConfirmSecondFactor {
    pub(crate) code: SecretString,
    pub(crate) shop_name: String,
}

impl Command for ConfirmSecondFactor {
    const OP: Op = Op::ConfirmSecondFactor;
    type Output = Vec<SecretString>;
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::of_acting_seat("seat.second_factor_set"))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Vec<SecretString>> {
        let seat = load_seat(cx.conn(), cx.tenant_id(), cx.seat_id())?;
        replacing_a_factor_needs_reauth(
            seat.totp_ct.is_some(),
            cx.now(),
            cx.last_auth_at(),
            Op::ConfirmSecondFactor,
        )?;
        let pending = cx.pending_totp().ok_or_else(|| {
            InputError::Conflict("start setting up two-step sign-in first".into())
        })?;
        let totp = totp(pending, &seat.display_name, &self.shop_name)?;
        let Some(step) = totp.check(self.code.expose().trim(), (cx.now().max(0) / 1000) as u64)
        else {
            return Err(Error::WrongSecret {
                attempts_before_wait: 0,
            });
        };
        let codes = new_recovery_codes()?;
        let totp_ct = cx.cipher().encrypt("seat", "totp_ct", seat.id, pending)?;
        cx.update::<SeatStored>(
            &seat.id.to_string(),
            &[set("totp_ct", &totp_ct), set("updated_at_ms", &cx.now())],
        )?;
        super::replace_recovery_codes(cx, seat.id, &codes)?;
        let mut guard = load_guard(cx.conn(), seat.id)?;
        guard.totp_last_step = Some(step as i64);
        write_guard(cx, seat.id, &guard)?;
        cx.effects().pending_totp = Some(None);
        tracing::info!(seat = %seat.id, "second factor set up");
        Ok(codes)
    }
}
