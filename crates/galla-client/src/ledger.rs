//! Udhaar: what customers owe the shop. Append-only entries per customer (a credit sale adds,
//! a payment or a credit note settled to the ledger takes away); the balance is always derived
//! from them. A customer's credit limit can be exceeded only by a seat allowed to, and the entry
//! that does so says it did.

use galla_domain::Money;
use rusqlite::Connection;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, InputError, Result};
use crate::invoices::payment_reference;
use crate::ops::Op;
use crate::sessions::SessionToken;
use crate::terminal::Terminal;
use crate::write::{Operation, UnitOfWork};

/// How a customer paid off udhaar.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum LedgerPayment {
    Cash {
        amount_paise: i64,
    },
    Upi {
        amount_paise: i64,
        reference: String,
    },
    Card {
        amount_paise: i64,
        reference: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LedgerEntry {
    pub id: Uuid,
    pub kind: String,
    /// Positive: the customer owes more; negative: less.
    pub amount_paise: i64,
    pub mode: Option<String>,
    pub invoice_number: Option<String>,
    pub credit_note_number: Option<String>,
    pub over_limit: bool,
    pub at_ms: i64,
    /// The balance after this entry.
    pub balance_paise: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Statement {
    pub customer_id: Uuid,
    pub from_ms: i64,
    pub to_ms: i64,
    pub opening_balance_paise: i64,
    pub entries: Vec<LedgerEntry>,
    pub closing_balance_paise: i64,
    pub credit_limit_paise: Option<i64>,
}

/// A customer's balance and limit, read inside whatever transaction `conn` is in.
pub(crate) fn balance_and_limit(
    conn: &Connection,
    tenant_id: Uuid,
    customer_id: Uuid,
) -> Result<(i64, Option<i64>)> {
    let limit: Option<Option<i64>> = rusqlite::OptionalExtension::optional(conn.query_row(
        "SELECT credit_limit_paise FROM customer WHERE tenant_id = ? AND id = ?",
        [tenant_id.to_string(), customer_id.to_string()],
        |r| r.get(0),
    ))?;
    let limit = limit.ok_or_else(|| Error::NotFound(format!("customer {customer_id}")))?;
    let balance: i64 = conn
        .prepare_cached(
            "SELECT COALESCE(SUM(amount_paise), 0) FROM ledger_entry WHERE tenant_id = ? AND customer_id = ?",
        )?
        .query_row([tenant_id.to_string(), customer_id.to_string()], |r| r.get(0))?;
    Ok((balance, limit))
}

/// The fields of a new ledger entry.
pub(crate) struct NewEntry<'a> {
    pub kind: &'static str,
    pub amount: i64,
    pub invoice_id: Option<&'a str>,
    pub credit_note_id: Option<&'a str>,
    pub mode: Option<&'static str>,
    pub reference_ct: Option<Vec<u8>>,
    pub over_limit: bool,
}

pub(crate) fn insert_entry(
    uow: &mut UnitOfWork<'_>,
    (tenant_id, device_id): (Uuid, Uuid),
    customer_id: Uuid,
    seat_id: Uuid,
    now: i64,
    id: Uuid,
    e: NewEntry<'_>,
) -> Result<()> {
    let opt = |v: Option<&str>| v.map_or(Value::Null, |s| Value::Text(s.to_owned()));
    uow.insert(
        "ledger_entry",
        &id.to_string(),
        &[
            ("id", Value::Text(id.to_string())),
            ("tenant_id", Value::Text(tenant_id.to_string())),
            ("device_id", Value::Text(device_id.to_string())),
            ("customer_id", Value::Text(customer_id.to_string())),
            ("kind", Value::Text(e.kind.into())),
            ("amount_paise", Value::Integer(e.amount)),
            ("invoice_id", opt(e.invoice_id)),
            ("credit_note_id", opt(e.credit_note_id)),
            ("mode", opt(e.mode)),
            (
                "reference_ct",
                e.reference_ct.map_or(Value::Null, Value::Blob),
            ),
            ("over_limit", Value::Integer(e.over_limit.into())),
            ("seat_id", Value::Text(seat_id.to_string())),
            ("at_ms", Value::Integer(now)),
        ],
    )
}

impl Terminal {
    /// Records a payment against a customer's udhaar. Paying more than is owed is refused: the
    /// ledger holds what the customer owes, not deposits.
    pub fn record_ledger_payment(
        &self,
        token: &SessionToken,
        customer_id: Uuid,
        payment: &LedgerPayment,
    ) -> Result<Statement> {
        let (amount, mode, reference) = match payment {
            LedgerPayment::Cash { amount_paise } => (*amount_paise, "cash", None),
            LedgerPayment::Upi {
                amount_paise,
                reference,
            } => (*amount_paise, "upi", Some(payment_reference(reference)?)),
            LedgerPayment::Card {
                amount_paise,
                reference,
            } => (*amount_paise, "card", Some(payment_reference(reference)?)),
        };
        if !(1..=10_000_000_000).contains(&amount) {
            return Err(InputError::Rejected {
                field: "amount",
                reason: "must be more than ₹0".into(),
            }
            .into());
        }
        let (auth, mut store) = self.authorize(token, Op::RecordLedgerPayment)?;
        let id = Uuid::now_v7();
        let reference_ct = reference
            .as_deref()
            .map(|r| {
                self.cipher
                    .encrypt_text("ledger_entry", "reference_ct", id, r)
            })
            .transpose()?;
        let (signer, tenant_id, now, seat) =
            (self.signer(), self.tenant_id, auth.now, auth.seat_id);
        let op = Operation {
            action: "ledger.payment",
            entity_type: "customer",
            entity_id: customer_id.to_string(),
        };
        store.write(&signer, self.clock.as_ref(), &auth.actor, op, |uow| {
            let (balance, _) = balance_and_limit(uow.conn(), tenant_id, customer_id)?;
            if amount > balance {
                return Err(InputError::Conflict(format!(
                    "the customer owes {}; a payment of {} is more than that",
                    Money::from_paise(balance),
                    Money::from_paise(amount)
                ))
                .into());
            }
            insert_entry(
                uow,
                (tenant_id, self.device_id),
                customer_id,
                seat,
                now,
                id,
                NewEntry {
                    kind: "payment",
                    amount: -amount,
                    invoice_id: None,
                    credit_note_id: None,
                    mode: Some(mode),
                    reference_ct,
                    over_limit: false,
                },
            )
        })?;
        drop(store);
        self.ledger_statement(token, customer_id, i64::MIN, i64::MAX)
    }

    /// Sets how much udhaar a customer may run up (`None`: none without a seat allowed to
    /// exceed limits).
    pub fn set_credit_limit(
        &self,
        token: &SessionToken,
        customer_id: Uuid,
        limit_paise: Option<i64>,
    ) -> Result<()> {
        if limit_paise.is_some_and(|l| !(0..=10_000_000_000).contains(&l)) {
            return Err(InputError::Rejected {
                field: "credit_limit",
                reason: "must be from ₹0 to ₹10 crore".into(),
            }
            .into());
        }
        let (auth, mut store) = self.authorize(token, Op::SetCreditLimit)?;
        balance_and_limit(store.reader(), self.tenant_id, customer_id)?;
        let (signer, now) = (self.signer(), auth.now);
        let op = Operation {
            action: "customer.set_credit_limit",
            entity_type: "customer",
            entity_id: customer_id.to_string(),
        };
        store.write(&signer, self.clock.as_ref(), &auth.actor, op, |uow| {
            uow.update(
                "customer",
                &customer_id.to_string(),
                &[
                    (
                        "credit_limit_paise",
                        limit_paise.map_or(Value::Null, Value::Integer),
                    ),
                    ("updated_at_ms", Value::Integer(now)),
                ],
            )
        })
    }

    /// A customer's udhaar between two instants: the balance before, every entry with the
    /// running balance, and the balance after.
    pub fn ledger_statement(
        &self,
        token: &SessionToken,
        customer_id: Uuid,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Statement> {
        let (_auth, store) = self.authorize(token, Op::ViewLedger)?;
        let conn = store.reader();
        let (_, limit) = balance_and_limit(conn, self.tenant_id, customer_id)?;
        let (tenant, customer) = (self.tenant_id.to_string(), customer_id.to_string());
        let opening: i64 = conn.query_row(
            "SELECT COALESCE(SUM(amount_paise), 0) FROM ledger_entry WHERE tenant_id = ? AND customer_id = ? AND at_ms < ?",
            rusqlite::params![tenant, customer, from_ms],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare_cached(
            "SELECT e.id, e.kind, e.amount_paise, e.mode, i.number, c.number, e.over_limit, e.at_ms \
             FROM ledger_entry e LEFT JOIN invoice i ON i.id = e.invoice_id \
             LEFT JOIN credit_note c ON c.id = e.credit_note_id \
             WHERE e.tenant_id = ? AND e.customer_id = ? AND e.at_ms >= ? AND e.at_ms <= ? \
             ORDER BY e.at_ms, e.id",
        )?;
        let mut rows = stmt.query(rusqlite::params![tenant, customer, from_ms, to_ms])?;
        let mut balance = opening;
        let mut entries = Vec::new();
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let amount: i64 = r.get(2)?;
            balance += amount;
            entries.push(LedgerEntry {
                id: Uuid::parse_str(&id).map_err(|_| Error::DatabaseDamaged {
                    detail: "ledger entry id".into(),
                })?,
                kind: r.get(1)?,
                amount_paise: amount,
                mode: r.get(3)?,
                invoice_number: r.get(4)?,
                credit_note_number: r.get(5)?,
                over_limit: r.get::<_, i64>(6)? != 0,
                at_ms: r.get(7)?,
                balance_paise: balance,
            });
        }
        Ok(Statement {
            customer_id,
            from_ms,
            to_ms,
            opening_balance_paise: opening,
            entries,
            closing_balance_paise: balance,
            credit_limit_paise: limit,
        })
    }
}
