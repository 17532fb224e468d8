//! The shop's own details and the tax registration facts that change what a bill must say:
//! the GSTIN and state (which decide CGST+SGST versus IGST), the turnover band (how many HSN
//! digits an invoice needs, Notification 78/2020) and the composition scheme (bills of supply,
//! no tax collected: CGST s. 10 and Rule 49). Finalize reads them, and reads them again inside
//! its transaction: a change made meanwhile (by the CLI, say) makes it stop, not bill on stale
//! settings. Each invoice keeps a copy of who issued it.

use galla_domain::{Gstin, TurnoverBand};
use rusqlite::Connection;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::crypto::ColumnCipher;
use crate::error::{Error, InputError, Result, bounded, required, state_code};
use crate::ops::Op;
use crate::sessions::SessionToken;
use crate::terminal::Terminal;
use crate::write::Operation;

const MAX_SHOP_NAME: usize = 120;
const MAX_ADDRESS: usize = 300;

/// The shop as its settings screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ShopSettings {
    pub name: String,
    pub gstin: Option<String>,
    pub state_code: Option<u8>,
    pub address: Option<String>,
    pub turnover_band: TurnoverBand,
    pub composition: bool,
    pub terminal_name: String,
    pub series_code: String,
}

/// What the owner saves from the settings screen: every field, as a form does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ShopDetails {
    pub name: String,
    #[serde(default)]
    pub gstin: Option<String>,
    #[serde(default)]
    pub state_code: Option<u8>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub turnover_band: TurnoverBand,
    #[serde(default)]
    pub composition: bool,
}

/// What finalize needs to know about the shop, and prints on the bill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaxSettings {
    pub state_code: Option<u8>,
    pub turnover_band: TurnoverBand,
    pub composition: bool,
    pub name: String,
    /// Column ciphertext of the GSTIN (decrypted only when a bill needs it).
    pub gstin_ct: Option<Vec<u8>>,
    pub address: Option<String>,
}

/// A GSTIN (trimmed, upper-cased, checked) and the state it implies: a state typed as well
/// must agree with the GSTIN's first two digits.
pub(crate) fn registration(
    gstin: Option<&str>,
    state: Option<u8>,
) -> std::result::Result<(Option<Gstin>, Option<u8>), InputError> {
    let gstin = gstin
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(Gstin::parse)
        .transpose()?;
    let state = state_code("state_code", state)?.or(gstin.as_ref().map(|g| g.state_code()));
    if let (Some(g), Some(s)) = (&gstin, state)
        && g.state_code() != s
    {
        return Err(InputError::Rejected {
            field: "state_code",
            reason: format!(
                "the GSTIN is registered in state {:02}, not {s:02}",
                g.state_code()
            ),
        });
    }
    Ok((gstin, state))
}

pub(crate) fn tax_settings(conn: &Connection, tenant_id: Uuid) -> Result<TaxSettings> {
    type Row = (
        Option<i64>,
        String,
        bool,
        String,
        Option<Vec<u8>>,
        Option<String>,
    );
    let (state, band, composition, name, gstin_ct, address): Row = conn
        .prepare_cached(
            "SELECT state_code, turnover_band, composition, name, gstin_ct, address \
             FROM tenant WHERE id = ?",
        )?
        .query_row([tenant_id.to_string()], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?;
    Ok(TaxSettings {
        state_code: state.and_then(|s| u8::try_from(s).ok()),
        turnover_band: TurnoverBand::parse(&band).ok_or_else(|| Error::DatabaseDamaged {
            detail: format!("the shop's turnover band {band:?} is unknown"),
        })?,
        composition,
        name,
        gstin_ct,
        address,
    })
}

/// Shop details that passed validation.
struct ValidDetails {
    name: String,
    gstin: Option<Gstin>,
    state: Option<u8>,
    address: Option<String>,
}

impl ShopDetails {
    fn validate(&self) -> std::result::Result<ValidDetails, InputError> {
        let name = required("name", &self.name, MAX_SHOP_NAME)?;
        let (gstin, state) = registration(self.gstin.as_deref(), self.state_code)?;
        let address = self
            .address
            .as_deref()
            .map(|a| bounded("address", a, MAX_ADDRESS))
            .transpose()?
            .filter(|a| !a.is_empty());
        if self.composition && self.turnover_band == TurnoverBand::Above5Crore {
            // CGST s. 10: the composition scheme ends at ₹1.5 crore of turnover.
            return Err(InputError::Rejected {
                field: "composition",
                reason: "a shop above ₹5 crore turnover cannot be in the composition scheme \
                         (its limit is ₹1.5 crore)"
                    .into(),
            });
        }
        if self.composition && gstin.is_none() {
            return Err(InputError::Rejected {
                field: "composition",
                reason: "the composition scheme is a GST registration: enter the shop's GSTIN"
                    .into(),
            });
        }
        Ok(ValidDetails {
            name,
            gstin,
            state,
            address,
        })
    }
}

/// The shop's GSTIN as stored: column-encrypted like PII (docs/security.md).
pub(crate) fn encrypt_gstin(
    cipher: &ColumnCipher,
    tenant_id: Uuid,
    gstin: &Gstin,
) -> Result<Vec<u8>> {
    cipher.encrypt_text("tenant", "gstin_ct", tenant_id, gstin.as_str())
}

impl Terminal {
    pub(crate) fn shop_gstin(&self, settings: &TaxSettings) -> Result<Option<String>> {
        settings
            .gstin_ct
            .as_ref()
            .map(|ct| {
                self.cipher
                    .decrypt_text("tenant", "gstin_ct", self.tenant_id, ct)
            })
            .transpose()
    }

    pub fn shop_settings(&self, token: &SessionToken) -> Result<ShopSettings> {
        let (_auth, store) = self.authorize(token, Op::ShopSettings)?;
        let conn = store.reader();
        let tax = tax_settings(conn, self.tenant_id)?;
        let gstin = self.shop_gstin(&tax)?;
        let (terminal_name, series_code): (String, String) = conn.query_row(
            "SELECT name, series_code FROM device WHERE id = ?",
            [self.device_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(ShopSettings {
            name: tax.name,
            gstin,
            state_code: tax.state_code,
            address: tax.address,
            turnover_band: tax.turnover_band,
            composition: tax.composition,
            terminal_name,
            series_code,
        })
    }

    /// Saves the shop's details. Bills already issued keep what they said.
    pub fn set_shop_settings(&self, token: &SessionToken, details: &ShopDetails) -> Result<()> {
        let ValidDetails {
            name,
            gstin,
            state,
            address,
        } = details.validate()?;
        let (auth, mut store) = self.authorize(token, Op::EditShopSettings)?;
        let tenant_id = self.tenant_id;
        let gstin_ct = gstin
            .as_ref()
            .map(|g| encrypt_gstin(&self.cipher, tenant_id, g))
            .transpose()?;
        let op = Operation {
            action: "shop.settings",
            entity_type: "tenant",
            entity_id: tenant_id.to_string(),
        };
        store.write(
            &self.signer(),
            self.clock.as_ref(),
            &auth.actor,
            op,
            |uow| {
                uow.update(
                    "tenant",
                    &tenant_id.to_string(),
                    &[
                        ("name", Value::Text(name)),
                        ("gstin_ct", gstin_ct.map_or(Value::Null, Value::Blob)),
                        (
                            "state_code",
                            state.map_or(Value::Null, |s| Value::Integer(s.into())),
                        ),
                        ("address", address.map_or(Value::Null, Value::Text)),
                        (
                            "turnover_band",
                            Value::Text(details.turnover_band.as_str().into()),
                        ),
                        ("composition", Value::Integer(details.composition.into())),
                    ],
                )
            },
        )?;
        self.reload_shop_name(store.reader())
    }
}
