//! Customers, with PII (phone, GSTIN, email, address) encrypted per column and phone/GSTIN
//! findable through a blind index. Names stay searchable in SQLCipher's encrypted pages.
//! Contact details are masked in every view; a deliberate look, an export or a printed bill
//! that carries them is recorded (`pii_access`). A customer's credit limit is theirs too.
//!
//! Tables: `customer`, `pii_access`.

use galla_domain::{Gstin, Phone};
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::crypto::ColumnCipher;
use crate::engine::{Env, ReadCx, Record, WriteCx};
use crate::error::{Error, InputError, Result, bounded, required, state_code};
use crate::ops::{Command, Op, Query};
use crate::rows::{Field, set, table};

pub const TABLE: &str = "customer";

table! {
    /// A customer as stored: PII as column ciphertext, phone and GSTIN with blind indexes.
    struct CustomerRow in "customer", key id {
        id: Uuid,
        tenant_id: Uuid,
        name: String,
        phone_ct: Option<Vec<u8>>,
        phone_bidx: Option<Vec<u8>>,
        gstin_ct: Option<Vec<u8>>,
        gstin_bidx: Option<Vec<u8>>,
        email_ct: Option<Vec<u8>>,
        address_ct: Option<Vec<u8>>,
        state_code: Option<u8>,
        marketing_consent: bool,
        credit_limit_paise: Option<i64>,
        created_at_ms: i64,
        updated_at_ms: i64,
    }
}

table! {
    /// A look at customers' contact details: one customer's, or an export of `customers`.
    struct PiiAccessRow in "pii_access", key id {
        id: Uuid,
        tenant_id: Uuid,
        seat_id: Uuid,
        at_ms: i64,
        kind: String,
        customer_id: Option<Uuid>,
        customers: i64,
    }
}
pub const BIDX_PHONE: &str = "phone";
pub const BIDX_GSTIN: &str = "gstin";

const MAX_NAME: usize = 200;
const MAX_EMAIL: usize = 254;
const MAX_ADDRESS: usize = 500;

/// A customer as typed at the counter, before validation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewCustomer {
    pub name: String,
    pub phone: Option<String>,
    pub gstin: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub state_code: Option<u8>,
    #[serde(default)]
    pub marketing_consent: bool,
}

/// Changes to a stored customer, each field left out staying as it is. Phone, GSTIN, email and
/// address given as empty text are cleared. A seat that sees PII masked can still correct a
/// field by typing it in full; it cannot read what it replaces.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CustomerChanges {
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub phone: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub gstin: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub email: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub address: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub state_code: Option<u8>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub marketing_consent: Option<bool>,
}

impl CustomerChanges {
    /// The customer as they would be after the changes, validated like a new one.
    pub(crate) fn applied_to(&self, c: &Customer) -> Result<ValidCustomer, InputError> {
        let pick = |change: &Option<String>, now: Option<String>| match change {
            Some(v) => Some(v.clone()),
            None => now,
        };
        NewCustomer {
            name: self.name.clone().unwrap_or_else(|| c.name.clone()),
            phone: pick(
                &self.phone,
                c.phone.as_ref().map(|p| p.as_e164().to_owned()),
            ),
            gstin: pick(&self.gstin, c.gstin.as_ref().map(|g| g.as_str().to_owned())),
            email: pick(&self.email, c.email.clone()),
            address: pick(&self.address, c.address.clone()),
            state_code: self.state_code.or(c.state_code),
            marketing_consent: self.marketing_consent.unwrap_or(c.marketing_consent),
        }
        .validate()
    }
}

/// The columns of `now` that `new` changes, encrypted and indexed as `insert` writes them.
/// Only these are written: a column re-encrypted with its old value would read as an edit of
/// it (a new nonce, new bytes) and could undo another counter's edit of that field when the
/// cloud merges the two.
pub(crate) fn changed_fields(
    cipher: &ColumnCipher,
    id: Uuid,
    now: &Customer,
    new: &ValidCustomer,
) -> Result<Vec<Field>> {
    // Each field and the columns it is stored in (the ciphertext and its blind index).
    let changed: Vec<&[&str]> = [
        (new.name != now.name, &["name"][..]),
        (new.phone != now.phone, &["phone_ct", "phone_bidx"]),
        (new.gstin != now.gstin, &["gstin_ct", "gstin_bidx"]),
        (new.email != now.email, &["email_ct"]),
        (new.address != now.address, &["address_ct"]),
        (new.state_code != now.state_code, &["state_code"]),
        (
            new.marketing_consent != now.marketing_consent,
            &["marketing_consent"],
        ),
    ]
    .into_iter()
    .filter_map(|(differs, columns)| differs.then_some(columns))
    .collect();
    if changed.is_empty() {
        return Ok(Vec::new());
    }
    let row = stored_row(cipher, Uuid::nil(), id, new, 0)?;
    Ok(crate::rows::TableRow::fields(&row)
        .into_iter()
        .filter(|(column, _)| changed.iter().any(|cs| cs.contains(column)))
        .collect())
}

/// A stored customer, decrypted for a seat allowed to see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Customer {
    pub id: Uuid,
    pub name: String,
    pub phone: Option<Phone>,
    pub gstin: Option<Gstin>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub state_code: Option<u8>,
    pub marketing_consent: bool,
}

/// A customer as a seat sees them: phone, GSTIN, email and address masked to what a clerk needs
/// to recognise the right person, or in full when a seat allowed to see them asked to, on
/// purpose and on the record (`Terminal::reveal_customer`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CustomerView {
    pub id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub gstin: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub state_code: Option<u8>,
    pub marketing_consent: bool,
    pub pii_revealed: bool,
}

/// Keeps the last `keep` characters, masking the rest.
fn mask_tail(s: &str, keep: usize) -> String {
    let n = s.chars().count();
    s.chars()
        .enumerate()
        .map(|(i, c)| if i + keep < n { '•' } else { c })
        .collect()
}

impl CustomerView {
    /// What every list, search and profile shows.
    pub(crate) fn masked(c: Customer) -> CustomerView {
        CustomerView::of(c, false)
    }

    /// Only for a look that was authorized and recorded.
    pub(crate) fn revealed(c: Customer) -> CustomerView {
        CustomerView::of(c, true)
    }

    fn of(c: Customer, reveal: bool) -> CustomerView {
        let phone = c.phone.map(|p| p.as_e164().to_owned());
        let gstin = c.gstin.map(|g| g.as_str().to_owned());
        let (phone, gstin, email, address) = if reveal {
            (phone, gstin, c.email, c.address)
        } else {
            (
                phone.map(|p| mask_tail(&p, 4)),
                // The state code and the check character: enough to tell two GSTINs apart.
                gstin.map(|g| format!("{}{}", &g[..2], mask_tail(&g[2..], 1))),
                c.email.map(|e| match e.split_once('@') {
                    Some((l, d)) => format!("{}•••@{d}", l.chars().next().unwrap_or('•')),
                    None => "•••".into(),
                }),
                c.address.map(|_| "(hidden)".to_owned()),
            )
        };
        CustomerView {
            id: c.id,
            name: c.name,
            phone,
            gstin,
            email,
            address,
            state_code: c.state_code,
            marketing_consent: c.marketing_consent,
            pii_revealed: reveal,
        }
    }
}

/// Writes customers with PII in full, one row each.
pub(crate) fn write_csv(all: &[Customer], out: impl std::io::Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let io = |e: csv::Error| crate::Error::Io(std::io::Error::other(e.to_string()));
    w.write_record([
        "id",
        "name",
        "phone",
        "gstin",
        "email",
        "address",
        "state_code",
        "marketing_consent",
    ])
    .map_err(io)?;
    for c in all {
        crate::csv_cell::write_row(
            &mut w,
            [
                c.id.to_string(),
                c.name.clone(),
                c.phone
                    .as_ref()
                    .map(|p| p.as_e164().to_owned())
                    .unwrap_or_default(),
                c.gstin
                    .as_ref()
                    .map(|g| g.as_str().to_owned())
                    .unwrap_or_default(),
                c.email.clone().unwrap_or_default(),
                c.address.clone().unwrap_or_default(),
                c.state_code.map(|s| format!("{s:02}")).unwrap_or_default(),
                c.marketing_consent.to_string(),
            ],
        )
        .map_err(io)?;
    }
    w.flush()?;
    Ok(())
}

pub(crate) struct ValidCustomer {
    name: String,
    phone: Option<Phone>,
    gstin: Option<Gstin>,
    email: Option<String>,
    address: Option<String>,
    state_code: Option<u8>,
    marketing_consent: bool,
}

fn optional(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl NewCustomer {
    pub(crate) fn validate(&self) -> Result<ValidCustomer, InputError> {
        let name = required("name", &self.name, MAX_NAME)?;
        let email = match optional(&self.email) {
            None => None,
            Some(e) => {
                let e = bounded("email", e, MAX_EMAIL)?;
                let ok = e.split_once('@').is_some_and(|(l, d)| {
                    !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
                }) && !e.contains(char::is_whitespace);
                if !ok {
                    return Err(InputError::Rejected {
                        field: "email",
                        reason: "is not an address like name@example.in".into(),
                    });
                }
                Some(e)
            }
        };
        Ok(ValidCustomer {
            name,
            phone: optional(&self.phone).map(Phone::parse).transpose()?,
            gstin: optional(&self.gstin).map(Gstin::parse).transpose()?,
            email,
            address: optional(&self.address)
                .map(|a| bounded("address", a, MAX_ADDRESS))
                .transpose()?,
            state_code: state_code("state_code", self.state_code)?,
            marketing_consent: self.marketing_consent,
        })
    }
}

fn insert(cx: &mut WriteCx<'_, '_>, id: Uuid, c: &ValidCustomer) -> Result<()> {
    let row = stored_row(cx.cipher(), cx.tenant_id(), id, c, cx.now())?;
    cx.insert(&row)
}

/// A customer's row as stored: PII encrypted under the customer's id, phone and GSTIN with
/// their blind indexes. Insert and update both build it here.
fn stored_row(
    cipher: &ColumnCipher,
    tenant_id: Uuid,
    id: Uuid,
    c: &ValidCustomer,
    now_ms: i64,
) -> Result<CustomerRow> {
    let enc = |column: &'static str, v: Option<&str>| -> Result<Option<Vec<u8>>> {
        v.map(|s| cipher.encrypt_text(TABLE, column, id, s))
            .transpose()
    };
    let phone = c.phone.as_ref().map(Phone::as_e164);
    let gstin = c.gstin.as_ref().map(Gstin::as_str);
    Ok(CustomerRow {
        id,
        tenant_id,
        name: c.name.clone(),
        phone_ct: enc("phone_ct", phone)?,
        phone_bidx: phone.map(|p| cipher.blind_index(BIDX_PHONE, p)),
        gstin_ct: enc("gstin_ct", gstin)?,
        gstin_bidx: gstin.map(|g| cipher.blind_index(BIDX_GSTIN, g)),
        email_ct: enc("email_ct", c.email.as_deref())?,
        address_ct: enc("address_ct", c.address.as_deref())?,
        state_code: c.state_code,
        marketing_consent: c.marketing_consent,
        credit_limit_paise: None,
        created_at_ms: now_ms,
        updated_at_ms: now_ms,
    })
}

pub(crate) const SELECT: &str =
    "SELECT id, name, phone_ct, gstin_ct, email_ct, address_ct, state_code,
                                        marketing_consent FROM customer";

pub(crate) fn decrypt_row(cipher: &ColumnCipher, r: &rusqlite::Row<'_>) -> Result<Customer> {
    let id_text: String = r.get(0)?;
    let id = Uuid::parse_str(&id_text).map_err(|_| crate::Error::DatabaseDamaged {
        detail: format!("customer id {id_text:?}"),
    })?;
    let text = |idx: usize, column: &'static str| -> Result<Option<String>> {
        let ct: Option<Vec<u8>> = r.get(idx)?;
        ct.map(|b| cipher.decrypt_text(TABLE, column, id, &b))
            .transpose()
    };
    let damaged = |what: &str| crate::Error::DatabaseDamaged {
        detail: format!("customer {id}: stored {what} is invalid"),
    };
    Ok(Customer {
        id,
        name: r.get(1)?,
        phone: text(2, "phone_ct")?
            .map(|p| Phone::parse(&p).map_err(|_| damaged("phone")))
            .transpose()?,
        gstin: text(3, "gstin_ct")?
            .map(|g| Gstin::parse(&g).map_err(|_| damaged("GSTIN")))
            .transpose()?,
        email: text(4, "email_ct")?,
        address: text(5, "address_ct")?,
        state_code: r
            .get::<_, Option<i64>>(6)?
            .and_then(|s| u8::try_from(s).ok()),
        marketing_consent: r.get::<_, i64>(7)? != 0,
    })
}

/// The CSV columns of a customer import: `name,phone,gstin,email,address,state_code,marketing_consent`.
#[derive(Debug, Deserialize)]
struct CsvCustomer {
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    gstin: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    state_code: String,
    #[serde(default)]
    marketing_consent: String,
}

fn some(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

impl CsvCustomer {
    fn to_new(&self) -> Result<NewCustomer, InputError> {
        let state_code = match self.state_code.trim() {
            "" => None,
            t => Some(t.parse::<u8>().map_err(|_| InputError::Rejected {
                field: "state_code",
                reason: format!("{t:?} is not a state code like 27"),
            })?),
        };
        let marketing_consent =
            crate::catalogue::parse_yes_no("marketing_consent", &self.marketing_consent)?;
        use crate::csv_cell::restore;
        Ok(NewCustomer {
            name: restore(&self.name).to_owned(),
            phone: some(restore(&self.phone)),
            gstin: some(restore(&self.gstin)),
            email: some(restore(&self.email)),
            address: some(restore(&self.address)),
            state_code,
            marketing_consent,
        })
    }
}

/// This tenant's customers matching `clause` (over `?2`), decrypted, oldest first.
pub(crate) fn customers_where(
    cx: &ReadCx<'_>,
    clause: &str,
    value: impl rusqlite::ToSql,
) -> Result<Vec<Customer>> {
    let sql = format!("{SELECT} WHERE tenant_id = ?1 AND {clause} ORDER BY created_at_ms");
    let mut stmt = cx.conn().prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params![cx.tenant_id().to_string(), value])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(decrypt_row(cx.cipher(), r)?);
    }
    Ok(out)
}

/// One customer of this tenant, decrypted.
pub(crate) fn customer(cx: &ReadCx<'_>, id: Uuid) -> Result<Customer> {
    customers_where(cx, "id = ?2", id.to_string())?
        .pop()
        .ok_or_else(|| Error::NotFound(format!("customer {id}")))
}

/// The customers whose name has a word starting with each typed word (any script).
fn by_name(cx: &ReadCx<'_>, typed: &str, limit: usize) -> Result<Vec<Customer>> {
    let Some(q) = crate::catalogue::fts_query(typed) else {
        return Ok(Vec::new());
    };
    let clause = format!(
        "rowid IN (SELECT rowid FROM customer_fts WHERE customer_fts MATCH ?2 ORDER BY rank LIMIT {})",
        limit.clamp(1, 200)
    );
    customers_where(cx, &clause, q)
}

/// What a clerk types to find a customer: an exact phone number (by its blind index) if it
/// is one and someone has it, else words of the name.
pub(crate) fn customers_matching(
    cx: &ReadCx<'_>,
    typed: &str,
    limit: usize,
) -> Result<Vec<Customer>> {
    if let Ok(p) = Phone::parse(typed) {
        let bidx = cx.cipher().blind_index(BIDX_PHONE, p.as_e164());
        let found = customers_where(cx, "phone_bidx = ?2", bidx)?;
        if !found.is_empty() {
            return Ok(found);
        }
    }
    by_name(cx, typed, limit)
}

/// Records a look at customers' contact details: one customer's (`customer`), or an export
/// of `count` customers (`None`). The row holds ids and the count, never the details.
pub(crate) fn record_pii_access(
    cx: &mut WriteCx<'_, '_>,
    customer: Option<Uuid>,
    count: usize,
) -> Result<()> {
    cx.insert(&PiiAccessRow {
        id: Uuid::now_v7(),
        tenant_id: cx.tenant_id(),
        seat_id: cx.seat_id(),
        at_ms: cx.now(),
        kind: if customer.is_some() {
            "reveal"
        } else {
            "export"
        }
        .into(),
        customer_id: customer,
        customers: count as i64,
    })
}

/// Adds a customer; returns the id.
pub(crate) struct AddCustomer {
    id: Uuid,
    valid: ValidCustomer,
}

impl AddCustomer {
    pub(crate) fn new(new: &NewCustomer) -> Result<AddCustomer> {
        Ok(AddCustomer {
            id: Uuid::now_v7(),
            valid: new.validate()?,
        })
    }
}

impl Command for AddCustomer {
    const OP: Op = Op::AddCustomer;
    type Output = Uuid;
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::new("customer.create", "customer", self.id))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Uuid> {
        insert(cx, self.id, &self.valid)?;
        Ok(self.id)
    }
}

/// Corrects a customer: the fields given change, the rest stay. Validated as a new customer
/// is; only the columns whose value changes are written, so an edit of the name on one
/// counter and of the phone on another both survive the cloud's merge. No change, no write.
pub(crate) struct UpdateCustomer {
    pub(crate) id: Uuid,
    pub(crate) changes: CustomerChanges,
}

impl Command for UpdateCustomer {
    const OP: Op = Op::EditCustomer;
    type Output = ();
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::new("customer.update", "customer", self.id))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<()> {
        let now_customer = customer(cx, self.id)?;
        let valid = self.changes.applied_to(&now_customer)?;
        let mut fields = changed_fields(cx.cipher(), self.id, &now_customer, &valid)?;
        if fields.is_empty() {
            return Ok(());
        }
        fields.push(("updated_at_ms", Value::Integer(cx.now())));
        cx.update::<CustomerRow>(&self.id.to_string(), &fields)
    }
}

/// Sets how much udhaar a customer may run up (`None`: none without a seat allowed to exceed
/// limits).
pub(crate) struct SetCreditLimit {
    id: Uuid,
    limit_paise: Option<i64>,
}

impl SetCreditLimit {
    pub(crate) fn new(id: Uuid, limit_paise: Option<i64>) -> Result<SetCreditLimit> {
        if limit_paise.is_some_and(|l| !(0..=10_000_000_000).contains(&l)) {
            return Err(InputError::Rejected {
                field: "credit_limit",
                reason: "must be from ₹0 to ₹10 crore".into(),
            }
            .into());
        }
        Ok(SetCreditLimit { id, limit_paise })
    }
}

impl Command for SetCreditLimit {
    const OP: Op = Op::SetCreditLimit;
    type Output = ();
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::new(
            "customer.set_credit_limit",
            "customer",
            self.id,
        ))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<()> {
        customer(cx, self.id)?;
        cx.update::<CustomerRow>(
            &self.id.to_string(),
            &[
                set("credit_limit_paise", &self.limit_paise),
                set("updated_at_ms", &cx.now()),
            ],
        )
    }
}

/// A customer's profile, contact details masked (for every seat: see [`RevealCustomer`]).
pub(crate) struct GetCustomer(pub(crate) Uuid);

impl Query for GetCustomer {
    const OP: Op = Op::ViewCustomer;
    type Output = CustomerView;
    fn run(self, cx: &ReadCx<'_>) -> Result<CustomerView> {
        customer(cx, self.0).map(CustomerView::masked)
    }
}

/// One customer's contact details in full, shown on purpose by a seat allowed to see them.
/// Each look is an audited operation (`customer.reveal`, a `pii_access` row naming the seat
/// and the customer), so who read whose phone number is in the trail the owner reads and the
/// cloud keeps; views are otherwise masked, so nothing is read in passing.
pub(crate) struct RevealCustomer(pub(crate) Uuid);

impl Command for RevealCustomer {
    const OP: Op = Op::RevealCustomer;
    type Output = CustomerView;
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::new("customer.reveal", "customer", self.0))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<CustomerView> {
        let c = customer(cx, self.0)?;
        record_pii_access(cx, Some(self.0), 1)?;
        Ok(CustomerView::revealed(c))
    }
}

/// How a clerk looks a customer up.
pub(crate) enum FindCustomers {
    /// An exact phone number, however it is typed.
    Phone(Phone),
    /// An exact GSTIN.
    Gstin(Gstin),
    /// Words of the name (any script), at most `limit` matches.
    Name { typed: String, limit: usize },
    /// An exact phone number if it is one and someone has it, else words of the name.
    Typed { typed: String, limit: usize },
}

impl FindCustomers {
    pub(crate) fn phone(typed: &str) -> Result<FindCustomers> {
        Ok(FindCustomers::Phone(
            Phone::parse(typed).map_err(InputError::from)?,
        ))
    }
    pub(crate) fn gstin(typed: &str) -> Result<FindCustomers> {
        Ok(FindCustomers::Gstin(
            Gstin::parse(typed).map_err(InputError::from)?,
        ))
    }
}

impl Query for FindCustomers {
    const OP: Op = Op::FindCustomers;
    type Output = Vec<CustomerView>;
    fn run(self, cx: &ReadCx<'_>) -> Result<Vec<CustomerView>> {
        let found = match self {
            FindCustomers::Phone(p) => customers_where(
                cx,
                "phone_bidx = ?2",
                cx.cipher().blind_index(BIDX_PHONE, p.as_e164()),
            )?,
            FindCustomers::Gstin(g) => customers_where(
                cx,
                "gstin_bidx = ?2",
                cx.cipher().blind_index(BIDX_GSTIN, g.as_str()),
            )?,
            FindCustomers::Name { typed, limit } => by_name(cx, &typed, limit)?,
            FindCustomers::Typed { typed, limit } => customers_matching(cx, &typed, limit)?,
        };
        Ok(found.into_iter().map(CustomerView::masked).collect())
    }
}

/// Every customer with PII in full, for a CSV export (a sensitive act: confirmed within 5
/// minutes). Recorded (`customers.export`, with the count) in the same transaction that reads
/// them, before a byte is written: an export that fails half-way still took the details out.
pub(crate) struct ExportCustomers;

impl Command for ExportCustomers {
    const OP: Op = Op::ExportCustomers;
    type Output = Vec<Customer>;
    fn record(&self, env: &Env) -> Option<Record> {
        Some(Record::new("customers.export", "tenant", env.tenant_id))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Vec<Customer>> {
        let all = customers_where(cx, "1 = 1 OR ?2 IS NULL", rusqlite::types::Null)?;
        record_pii_access(cx, None, all.len())?;
        Ok(all)
    }
}

/// A customer CSV read and checked row by row, before anything is locked.
pub(crate) struct CustomerCsv {
    rows: usize,
    valid: Vec<(u64, ValidCustomer)>,
    errors: Vec<crate::catalogue::RowError>,
}

impl CustomerCsv {
    /// Reads `input` (at most 64 MiB): every row validated (phone normalised, GSTIN checked).
    pub(crate) fn read(input: impl std::io::Read) -> Result<CustomerCsv> {
        use crate::catalogue::RowError;
        let mut rd = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(input.take(64 * 1024 * 1024 + 1));
        let (mut valid, mut errors, mut rows) = (Vec::new(), Vec::new(), 0usize);
        for (i, rec) in rd.deserialize::<CsvCustomer>().enumerate() {
            rows += 1;
            let line = i as u64 + 2;
            let result = rec
                .map_err(|e| InputError::Rejected {
                    field: "row",
                    reason: format!("unreadable: {e}"),
                })
                .and_then(|r| r.to_new())
                .and_then(|n| n.validate());
            match result {
                Ok(v) => valid.push((line, v)),
                Err(e) => errors.push(RowError {
                    line,
                    field: e.field().to_owned(),
                    message: e.to_string(),
                }),
            }
        }
        Ok(CustomerCsv {
            rows,
            valid,
            errors,
        })
    }
}

/// Imports customers from CSV, all or nothing, like the catalogue: no phone or GSTIN twice in
/// the file or already on file; any error and nothing is written.
pub(crate) struct ImportCustomers {
    batch: Uuid,
    csv: CustomerCsv,
}

impl ImportCustomers {
    pub(crate) fn new(csv: CustomerCsv) -> ImportCustomers {
        ImportCustomers {
            batch: Uuid::now_v7(),
            csv,
        }
    }
}

/// Customers per audit record of an import (each record well under the 1 MiB image limit).
const IMPORT_ROWS_PER_RECORD: usize = 300;

impl Command for ImportCustomers {
    const OP: Op = Op::ImportCustomers;
    type Output = crate::catalogue::ImportReport;
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::new(
            "customers.import",
            "customer_import",
            self.batch,
        ))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<crate::catalogue::ImportReport> {
        use crate::catalogue::{ImportReport, RowError};
        use std::collections::HashMap;
        let CustomerCsv {
            rows,
            valid,
            mut errors,
        } = self.csv;
        let mut seen: HashMap<Vec<u8>, u64> = HashMap::new();
        {
            let mut exists = cx.conn().prepare_cached(
                "SELECT 1 FROM customer WHERE tenant_id = ?1 AND (phone_bidx = ?2 OR gstin_bidx = ?2)",
            )?;
            for (line, v) in &valid {
                let keys = [
                    (
                        "phone",
                        v.phone
                            .as_ref()
                            .map(|p| cx.cipher().blind_index(BIDX_PHONE, p.as_e164())),
                    ),
                    (
                        "gstin",
                        v.gstin
                            .as_ref()
                            .map(|g| cx.cipher().blind_index(BIDX_GSTIN, g.as_str())),
                    ),
                ];
                for (field, key) in keys {
                    let Some(key) = key else { continue };
                    if let Some(first) = seen.insert(key.clone(), *line) {
                        errors.push(RowError {
                            line: *line,
                            field: field.into(),
                            message: format!("the same {field} is on line {first}"),
                        });
                    } else if exists.exists(rusqlite::params![cx.tenant_id().to_string(), key])? {
                        errors.push(RowError {
                            line: *line,
                            field: field.into(),
                            message: format!("a customer with this {field} is already on file"),
                        });
                    }
                }
            }
        }
        if !errors.is_empty() || valid.is_empty() {
            errors.sort_by_key(|e| e.line);
            return Ok(ImportReport {
                imported: 0,
                rows,
                errors,
            });
        }
        let record = || Record::new("customers.import", "customer_import", self.batch);
        for (i, (_, v)) in valid.iter().enumerate() {
            insert(cx, Uuid::now_v7(), v)?;
            if (i + 1) % IMPORT_ROWS_PER_RECORD == 0 {
                cx.seal(record())?;
            }
        }
        Ok(ImportReport {
            imported: valid.len(),
            rows,
            errors,
        })
    }
}
