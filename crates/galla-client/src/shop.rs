//! The shop's own details and the tax registration facts that change what a bill must say:
//! the GSTIN and state (which decide CGST+SGST versus IGST), the turnover band (how many HSN
//! digits an invoice needs, Notification 78/2020) and the composition scheme (bills of supply,
//! no tax collected: CGST s. 10 and Rule 49). Finalize reads them, and reads them again inside
//! its transaction: a change made meanwhile (by the CLI, say) makes it stop, not bill on stale
//! settings. Each invoice keeps a copy of who issued it.
//!
//! Also this terminal's own row (`device`: its name, series, key, whether it is disabled) and
//! the tenant's wrapped keys (`tenant_key`), which shop creation and enrollment write.
//!
//! Tables: `tenant`, `device`, `tenant_key`.

use galla_domain::{Gstin, TurnoverBand};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::crypto::ColumnCipher;
use crate::engine::{Env, ReadCx, Record, WriteCx};
use crate::error::{Error, InputError, Result, bounded, required, state_code};
use crate::ops::{Command, Op, Query};
use crate::rows::{TableRow, set, table};

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

table! {
    /// The shop (one per database).
    pub(crate) struct TenantRow in "tenant", key id {
        id: Uuid,
        name: String,
        gstin_ct: Option<Vec<u8>>,
        state_code: Option<u8>,
        address: Option<String>,
        /// `None` at creation: the column's default (up to ₹5 crore).
        turnover_band: Option<String>,
        /// `None` at creation: the column's default (not composition).
        composition: Option<bool>,
        created_at_ms: i64,
    }
}

table! {
    /// A terminal of the shop: this one, and (on a linked shop) the others, pulled.
    struct DeviceRow in "device", key id {
        id: Uuid,
        tenant_id: Uuid,
        name: String,
        series_code: String,
        public_key: Vec<u8>,
        created_at_ms: i64,
        disabled_at_ms: Option<i64>,
    }
}

/// One tenant key, wrapped under this terminal's wrap key. Its primary key is
/// `(tenant, purpose, version)`; audit images name it `tenant/purpose/version`.
struct TenantKeyRow {
    tenant_id: Uuid,
    purpose: String,
    version: u32,
    wrapped: Vec<u8>,
    created_at_ms: i64,
}

impl TableRow for TenantKeyRow {
    const TABLE: &'static str = "tenant_key";
    const COLUMNS: &'static [&'static str] = &[
        "tenant_id",
        "purpose",
        "version",
        "wrapped",
        "created_at_ms",
    ];
    fn key(&self) -> String {
        format!("{}/{}/{}", self.tenant_id, self.purpose, self.version)
    }
    fn fields(&self) -> Vec<crate::rows::Field> {
        vec![
            set("tenant_id", &self.tenant_id),
            set("purpose", &self.purpose),
            set("version", &self.version),
            set("wrapped", &self.wrapped),
            set("created_at_ms", &self.created_at_ms),
        ]
    }
}

/// The shop's row as creation writes it.
pub(crate) fn insert_tenant(
    cx: &mut WriteCx<'_, '_>,
    name: &str,
    gstin: Option<&Gstin>,
    state: Option<u8>,
) -> Result<()> {
    let tenant_id = cx.tenant_id();
    let gstin_ct = gstin
        .map(|g| encrypt_gstin(cx.cipher(), tenant_id, g))
        .transpose()?;
    cx.insert(&TenantRow {
        id: tenant_id,
        name: name.to_owned(),
        gstin_ct,
        state_code: state,
        address: None,
        turnover_band: None,
        composition: None,
        created_at_ms: cx.now(),
    })
}

/// This terminal's own `device` row, as creating a shop and enrolling both write it.
pub(crate) fn insert_device(
    cx: &mut WriteCx<'_, '_>,
    name: &str,
    series_code: &str,
    public_key: &[u8; 32],
) -> Result<()> {
    cx.insert(&DeviceRow {
        id: cx.device_id(),
        tenant_id: cx.tenant_id(),
        name: name.to_owned(),
        series_code: series_code.to_owned(),
        public_key: public_key.to_vec(),
        created_at_ms: cx.now(),
        disabled_at_ms: None,
    })
}

/// The tenant's keys as this terminal keeps them, each wrapped under its own wrap key:
/// `(purpose, version, wrapped)`. The row's image key is `tenant/purpose/version`.
pub(crate) fn insert_tenant_keys(
    cx: &mut WriteCx<'_, '_>,
    wrapped: &[(&str, u32, Vec<u8>)],
) -> Result<()> {
    let tenant_id = cx.tenant_id();
    for (purpose, version, blob) in wrapped {
        cx.insert(&TenantKeyRow {
            tenant_id,
            purpose: (*purpose).to_owned(),
            version: *version,
            wrapped: blob.clone(),
            created_at_ms: cx.now(),
        })?;
    }
    Ok(())
}

/// The shop's name.
pub(crate) fn name(conn: &Connection, tenant_id: Uuid) -> Result<String> {
    Ok(conn
        .prepare_cached("SELECT name FROM tenant WHERE id = ?")?
        .query_row([tenant_id.to_string()], |r| r.get(0))?)
}

/// Whether this terminal's row says it is disabled (another process may have changed it).
pub(crate) fn device_disabled(conn: &Connection, device_id: Uuid) -> Result<bool> {
    let at: Option<i64> = conn
        .prepare_cached("SELECT disabled_at_ms FROM device WHERE id = ?")?
        .query_row([device_id.to_string()], |r| r.get(0))?;
    Ok(at.is_some())
}

/// The shop's GSTIN in the clear, when it has one.
pub(crate) fn shop_gstin(cx: &ReadCx<'_>, settings: &TaxSettings) -> Result<Option<String>> {
    settings
        .gstin_ct
        .as_ref()
        .map(|ct| {
            cx.cipher()
                .decrypt_text("tenant", "gstin_ct", cx.tenant_id(), ct)
        })
        .transpose()
}

/// The shop's settings as the settings screen shows them (every seat: they are on every bill).
pub(crate) struct GetShopSettings;

impl Query for GetShopSettings {
    const OP: Op = Op::ShopSettings;
    type Output = ShopSettings;
    fn run(self, cx: &ReadCx<'_>) -> Result<ShopSettings> {
        let conn = cx.conn();
        let tax = tax_settings(conn, cx.tenant_id())?;
        let gstin = shop_gstin(cx, &tax)?;
        let (terminal_name, series_code): (String, String) = conn.query_row(
            "SELECT name, series_code FROM device WHERE id = ?",
            [cx.device_id().to_string()],
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
}

/// Saves the shop's details. Bills already issued keep what they said.
pub(crate) struct SetShopSettings {
    valid: ValidDetails,
    turnover_band: TurnoverBand,
    composition: bool,
}

impl SetShopSettings {
    pub(crate) fn new(details: &ShopDetails) -> Result<SetShopSettings> {
        Ok(SetShopSettings {
            valid: details.validate()?,
            turnover_band: details.turnover_band,
            composition: details.composition,
        })
    }
}

impl Command for SetShopSettings {
    const OP: Op = Op::EditShopSettings;
    type Output = ();
    fn record(&self, env: &Env) -> Option<Record> {
        Some(Record::new("shop.settings", "tenant", env.tenant_id))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<()> {
        let ValidDetails {
            name,
            gstin,
            state,
            address,
        } = self.valid;
        let tenant_id = cx.tenant_id();
        let gstin_ct = gstin
            .as_ref()
            .map(|g| encrypt_gstin(cx.cipher(), tenant_id, g))
            .transpose()?;
        cx.update::<TenantRow>(
            &tenant_id.to_string(),
            &[
                set("name", &name),
                set("gstin_ct", &gstin_ct),
                set("state_code", &state),
                set("address", &address),
                set("turnover_band", &self.turnover_band.as_str()),
                set("composition", &self.composition),
            ],
        )?;
        cx.effects().shop_renamed = true;
        Ok(())
    }
}

/// Disables this terminal (every session ends except those of seats that may enable it again,
/// and only such seats can sign in until they do), or enables it.
pub(crate) struct SetTerminalDisabled<const DISABLE: bool>;

impl<const DISABLE: bool> Command for SetTerminalDisabled<DISABLE> {
    const OP: Op = if DISABLE {
        Op::DisableTerminal
    } else {
        Op::EnableTerminal
    };
    type Output = ();
    fn record(&self, env: &Env) -> Option<Record> {
        let action = if DISABLE {
            "device.disable"
        } else {
            "device.enable"
        };
        Some(Record::new(action, "device", env.device_id))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<()> {
        let now = cx.now();
        cx.update::<DeviceRow>(
            &cx.device_id().to_string(),
            &[set("disabled_at_ms", &DISABLE.then_some(now))],
        )?;
        cx.effects().disabled = Some(DISABLE);
        Ok(())
    }
}
