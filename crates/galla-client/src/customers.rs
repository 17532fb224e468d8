//! Customers, with PII (phone, GSTIN, email, address) encrypted per column and phone/GSTIN
//! findable through a blind index. Names stay searchable in SQLCipher's encrypted pages.

use galla_domain::{Gstin, Phone};
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::crypto::ColumnCipher;
use crate::error::{InputError, Result, bounded, required, state_code};
use crate::write::{Field, UnitOfWork};

pub const TABLE: &str = "customer";
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
    Ok(stored_columns(cipher, id, new)?
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
        w.write_record([
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
        ])
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

fn blob(v: Option<Vec<u8>>) -> Value {
    v.map_or(Value::Null, Value::Blob)
}

pub(crate) fn insert(
    uow: &mut UnitOfWork<'_>,
    cipher: &ColumnCipher,
    tenant_id: Uuid,
    id: Uuid,
    c: &ValidCustomer,
    now_ms: i64,
) -> Result<()> {
    let mut fields: Vec<Field> = vec![
        ("id", Value::Text(id.to_string())),
        ("tenant_id", Value::Text(tenant_id.to_string())),
    ];
    fields.extend(stored_columns(cipher, id, c)?);
    fields.push(("created_at_ms", Value::Integer(now_ms)));
    fields.push(("updated_at_ms", Value::Integer(now_ms)));
    uow.insert(TABLE, &id.to_string(), &fields)
}

/// A customer's own columns as stored: PII encrypted under the customer's id, phone and GSTIN
/// with their blind indexes.
fn stored_columns(cipher: &ColumnCipher, id: Uuid, c: &ValidCustomer) -> Result<Vec<Field>> {
    let enc = |column: &'static str, v: Option<&str>| -> Result<Value> {
        Ok(blob(
            v.map(|s| cipher.encrypt_text(TABLE, column, id, s))
                .transpose()?,
        ))
    };
    let phone = c.phone.as_ref().map(Phone::as_e164);
    let gstin = c.gstin.as_ref().map(Gstin::as_str);
    Ok(vec![
        ("name", Value::Text(c.name.clone())),
        ("phone_ct", enc("phone_ct", phone)?),
        (
            "phone_bidx",
            blob(phone.map(|p| cipher.blind_index(BIDX_PHONE, p))),
        ),
        ("gstin_ct", enc("gstin_ct", gstin)?),
        (
            "gstin_bidx",
            blob(gstin.map(|g| cipher.blind_index(BIDX_GSTIN, g))),
        ),
        ("email_ct", enc("email_ct", c.email.as_deref())?),
        ("address_ct", enc("address_ct", c.address.as_deref())?),
        (
            "state_code",
            c.state_code
                .map_or(Value::Null, |s| Value::Integer(s.into())),
        ),
        (
            "marketing_consent",
            Value::Integer(c.marketing_consent.into()),
        ),
    ])
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
        Ok(NewCustomer {
            name: self.name.clone(),
            phone: some(&self.phone),
            gstin: some(&self.gstin),
            email: some(&self.email),
            address: some(&self.address),
            state_code,
            marketing_consent,
        })
    }
}

impl crate::terminal::Terminal {
    /// Imports customers from CSV, all or nothing, like the catalogue: every row validated
    /// (phone normalised, GSTIN checked), no phone or GSTIN twice in the file or already on file;
    /// any error and nothing is written.
    pub fn import_customers_csv(
        &self,
        token: &crate::sessions::SessionToken,
        input: impl std::io::Read,
    ) -> Result<crate::catalogue::ImportReport> {
        use crate::catalogue::{ImportReport, RowError};
        use std::collections::HashMap;
        drop(self.authorize(token, crate::ops::Op::ImportCustomers)?);
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
        let mut seen: HashMap<Vec<u8>, u64> = HashMap::new();
        let (auth, mut store) = self.authorize(token, crate::ops::Op::ImportCustomers)?;
        {
            let mut exists = store.reader().prepare_cached(
                "SELECT 1 FROM customer WHERE tenant_id = ?1 AND (phone_bidx = ?2 OR gstin_bidx = ?2)",
            )?;
            for (line, v) in &valid {
                let keys = [
                    (
                        "phone",
                        v.phone
                            .as_ref()
                            .map(|p| self.cipher.blind_index(BIDX_PHONE, p.as_e164())),
                    ),
                    (
                        "gstin",
                        v.gstin
                            .as_ref()
                            .map(|g| self.cipher.blind_index(BIDX_GSTIN, g.as_str())),
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
                    } else if exists.exists(rusqlite::params![self.tenant_id.to_string(), key])? {
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
        let (signer, tenant_id, now) = (self.signer(), self.tenant_id, auth.now);
        let batch = Uuid::now_v7().to_string();
        let op = || crate::write::Operation {
            action: "customers.import",
            entity_type: "customer_import",
            entity_id: batch.clone(),
        };
        store.write(&signer, self.clock.as_ref(), &auth.actor, op(), |uow| {
            for (i, (_, v)) in valid.iter().enumerate() {
                insert(uow, &self.cipher, tenant_id, Uuid::now_v7(), v, now)?;
                if (i + 1) % 300 == 0 {
                    uow.seal(op())?;
                }
            }
            Ok(())
        })?;
        Ok(ImportReport {
            imported: valid.len(),
            rows,
            errors,
        })
    }
}
