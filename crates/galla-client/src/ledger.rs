//! Udhaar: what customers owe the shop. Append-only entries per customer (a credit sale adds,
//! a payment or a credit note settled to the ledger takes away); the balance is always derived
//! from them. A customer's credit limit can be exceeded only by a seat allowed to, and the entry
//! that does so says it did.
//!
//! Tables: `ledger_entry`.

use galla_domain::{Money, Permission};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::engine::{Env, ReadCx, Record, WriteCx};
use crate::error::{Error, InputError, Result};
use crate::ops::{Command, Op, Query};
use crate::rows::table;

table! {
    /// One change to what a customer owes: positive when they owe more, negative when less.
    struct LedgerEntryRow in "ledger_entry", key id {
        id: Uuid,
        tenant_id: Uuid,
        device_id: Uuid,
        customer_id: Uuid,
        kind: String,
        amount_paise: i64,
        invoice_id: Option<Uuid>,
        credit_note_id: Option<Uuid>,
        mode: Option<String>,
        reference_ct: Option<Vec<u8>>,
        over_limit: bool,
        seat_id: Uuid,
        at_ms: i64,
    }
}

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

/// A UPI or card reference as a clerk typed it (a payment, an udhaar payment, a refund), or
/// why it is refused (it looks like a card number, which Galla must not store).
pub(crate) fn payment_reference(reference: &str) -> Result<String> {
    galla_domain::codes::payment_reference(reference).map_err(|why| {
        InputError::Rejected {
            field: "reference",
            reason: why.into(),
        }
        .into()
    })
}

/// Adds a credit sale of `amount` to a customer's udhaar, within their credit limit unless the
/// seat may exceed it; an entry over the limit says so.
pub(crate) fn credit_sale(
    cx: &mut WriteCx<'_, '_>,
    customer: Uuid,
    amount: i64,
    invoice: Uuid,
) -> Result<()> {
    let (balance, limit) = balance_and_limit(cx.conn(), cx.tenant_id(), customer)?;
    let after = balance + amount;
    let over = after > limit.unwrap_or(0);
    if over && !cx.access().allows(Permission::CreditBeyondLimit) {
        return Err(Error::CreditLimit {
            limit: Money::from_paise(limit.unwrap_or(0)),
            balance_after: Money::from_paise(after),
        });
    }
    insert_entry(
        cx,
        Uuid::now_v7(),
        customer,
        Entry {
            kind: "credit_sale",
            amount,
            invoice_id: Some(invoice),
            credit_note_id: None,
            mode: None,
            reference_ct: None,
            over_limit: over,
        },
    )
}

/// Takes a credit note's value off a customer's udhaar (a return settled to the ledger).
pub(crate) fn credit_note(
    cx: &mut WriteCx<'_, '_>,
    customer: Uuid,
    amount: i64,
    credit_note: Uuid,
) -> Result<()> {
    insert_entry(
        cx,
        Uuid::now_v7(),
        customer,
        Entry {
            kind: "credit_note",
            amount: -amount,
            invoice_id: None,
            credit_note_id: Some(credit_note),
            mode: None,
            reference_ct: None,
            over_limit: false,
        },
    )
}

/// The fields of a new ledger entry.
struct Entry {
    kind: &'static str,
    amount: i64,
    invoice_id: Option<Uuid>,
    credit_note_id: Option<Uuid>,
    mode: Option<&'static str>,
    reference_ct: Option<Vec<u8>>,
    over_limit: bool,
}

fn insert_entry(cx: &mut WriteCx<'_, '_>, id: Uuid, customer_id: Uuid, e: Entry) -> Result<()> {
    cx.insert(&LedgerEntryRow {
        id,
        tenant_id: cx.tenant_id(),
        device_id: cx.device_id(),
        customer_id,
        kind: e.kind.into(),
        amount_paise: e.amount,
        invoice_id: e.invoice_id,
        credit_note_id: e.credit_note_id,
        mode: e.mode.map(str::to_owned),
        reference_ct: e.reference_ct,
        over_limit: e.over_limit,
        seat_id: cx.seat_id(),
        at_ms: cx.now(),
    })
}

/// A customer's udhaar between two instants: the balance before, every entry with the running
/// balance, and the balance after.
pub(crate) fn statement(
    cx: &ReadCx<'_>,
    customer_id: Uuid,
    from_ms: i64,
    to_ms: i64,
) -> Result<Statement> {
    let conn = cx.conn();
    let (_, limit) = balance_and_limit(conn, cx.tenant_id(), customer_id)?;
    let (tenant, customer) = (cx.tenant_id().to_string(), customer_id.to_string());
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

/// A customer's udhaar statement between two instants.
pub(crate) struct LedgerStatement {
    pub(crate) customer: Uuid,
    pub(crate) from_ms: i64,
    pub(crate) to_ms: i64,
}

impl Query for LedgerStatement {
    const OP: Op = Op::ViewLedger;
    type Output = Statement;
    fn run(self, cx: &ReadCx<'_>) -> Result<Statement> {
        statement(cx, self.customer, self.from_ms, self.to_ms)
    }
}

/// Records a payment against a customer's udhaar and answers with their whole statement.
/// Paying more than is owed is refused: the ledger holds what the customer owes, not deposits.
pub(crate) struct RecordLedgerPayment {
    id: Uuid,
    customer: Uuid,
    amount: i64,
    mode: &'static str,
    reference: Option<String>,
}

impl RecordLedgerPayment {
    pub(crate) fn new(customer: Uuid, payment: &LedgerPayment) -> Result<RecordLedgerPayment> {
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
        Ok(RecordLedgerPayment {
            id: Uuid::now_v7(),
            customer,
            amount,
            mode,
            reference,
        })
    }
}

impl Command for RecordLedgerPayment {
    const OP: Op = Op::RecordLedgerPayment;
    type Output = Statement;
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::new("ledger.payment", "customer", self.customer))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Statement> {
        let (balance, _) = balance_and_limit(cx.conn(), cx.tenant_id(), self.customer)?;
        if self.amount > balance {
            return Err(InputError::Conflict(format!(
                "the customer owes {}; a payment of {} is more than that",
                Money::from_paise(balance),
                Money::from_paise(self.amount)
            ))
            .into());
        }
        let reference_ct = self
            .reference
            .as_deref()
            .map(|r| {
                cx.cipher()
                    .encrypt_text("ledger_entry", "reference_ct", self.id, r)
            })
            .transpose()?;
        insert_entry(
            cx,
            self.id,
            self.customer,
            Entry {
                kind: "payment",
                amount: -self.amount,
                invoice_id: None,
                credit_note_id: None,
                mode: Some(self.mode),
                reference_ct,
                over_limit: false,
            },
        )?;
        statement(cx, self.customer, i64::MIN, i64::MAX)
    }
}
