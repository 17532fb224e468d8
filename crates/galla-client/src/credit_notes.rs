//! Returns and cancellations as credit notes (CGST s. 34; Rule 53(1A)): each references the
//! invoice and the lines it reverses, never more of a line than was sold less what earlier notes
//! took back, in the terminal's own credit-note series (`T1C/25-26/000001`). Returned IMEIs
//! become sellable again. Amounts are the invoice line's, in proportion to the quantity; the
//! note that takes back the last units of a line takes exactly what is left, so a line's notes
//! always add up to the line, and the note that completes a whole invoice carries its
//! round-off, so the customer gets back exactly what was paid.
//!
//! Tables: `credit_note`, `credit_note_line`, `credit_note_imei`.

use galla_domain::Imei;
use galla_domain::fiscal::{DocumentNumber, FinancialYear};
use galla_domain::gst::mul_div_half_up;
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalogue;
use crate::engine::{Env, ReadCx, Record, WriteCx};
use crate::error::{Error, InputError, Result, required};
use crate::invoices;
use crate::ledger::{self, payment_reference};
use crate::ops::{Command, Op};
use crate::rows::table;
use crate::series;

table! {
    /// A credit note: a return or a cancellation against an invoice.
    struct CreditNoteRow in "credit_note", key id {
        id: Uuid,
        tenant_id: Uuid,
        device_id: Uuid,
        number: String,
        fy: i32,
        number_in_year: i64,
        invoice_id: Uuid,
        issued_at_ms: i64,
        seat_id: Uuid,
        reason: String,
        settlement: String,
        refund_reference_ct: Option<Vec<u8>>,
        taxable_paise: i64,
        cgst_paise: i64,
        sgst_paise: i64,
        igst_paise: i64,
        cess_paise: i64,
        round_off_paise: i64,
        total_paise: i64,
    }
}

table! {
    /// Units of an invoice line taken back, with their share of its amounts.
    struct CreditNoteLineRow in "credit_note_line", key id {
        id: Uuid,
        credit_note_id: Uuid,
        invoice_line_id: String,
        quantity: i64,
        taxable_paise: i64,
        cgst_paise: i64,
        sgst_paise: i64,
        igst_paise: i64,
        cess_paise: i64,
        total_paise: i64,
    }
}

table! {
    /// An IMEI that came back on a credit note (sellable again).
    struct CreditNoteImeiRow in "credit_note_imei", key id {
        id: Uuid,
        tenant_id: Uuid,
        credit_note_id: Uuid,
        imei: String,
    }
}

/// Units of one invoice line to take back, with their IMEIs for a serialized product.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReturnLine {
    pub line_no: i64,
    pub quantity: u32,
    #[serde(default)]
    pub imeis: Vec<String>,
}

/// How the money goes back.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Settlement {
    RefundCash,
    RefundUpi {
        reference: String,
    },
    RefundCard {
        reference: String,
    },
    /// Taken off the customer's udhaar (the invoice must name the customer).
    LedgerCredit,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewCreditNote {
    pub invoice_number: String,
    /// Why: "returned: damaged", "cancelled: billed twice"...
    pub reason: String,
    pub lines: Vec<ReturnLine>,
    pub settlement: Settlement,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CreditNoteLine {
    pub invoice_line_no: i64,
    pub sku: String,
    pub description: String,
    pub quantity: i64,
    pub taxable_paise: i64,
    pub cgst_paise: i64,
    pub sgst_paise: i64,
    pub igst_paise: i64,
    pub cess_paise: i64,
    pub total_paise: i64,
    pub imeis: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CreditNote {
    pub id: Uuid,
    pub number: String,
    pub financial_year: String,
    pub invoice_number: String,
    pub reason: String,
    pub settlement: String,
    pub lines: Vec<CreditNoteLine>,
    pub taxable_paise: i64,
    pub cgst_paise: i64,
    pub sgst_paise: i64,
    pub igst_paise: i64,
    pub cess_paise: i64,
    pub round_off_paise: i64,
    pub total_paise: i64,
}

fn conflict(msg: impl Into<String>) -> Error {
    InputError::Conflict(msg.into()).into()
}

/// One invoice line as sold, and what earlier notes already took back.
struct SoldLine {
    id: String,
    product_id: String,
    line_no: i64,
    description: String,
    quantity: i64,
    /// taxable, cgst, sgst, igst, cess, total
    sold: [i64; 6],
    returned_qty: i64,
    returned: [i64; 6],
    imeis: Vec<String>,
}

/// A credit note as asked for, checked before anything is locked.
struct Checked {
    reason: String,
    invoice_number: DocumentNumber,
    lines: Vec<ReturnLine>,
    settlement: Settlement,
    settlement_text: &'static str,
    reference: Option<String>,
    wanted_imeis: Vec<(i64, Imei)>,
}

fn check(new: &NewCreditNote) -> Result<Checked> {
    let reason = required("reason", &new.reason, 200)?;
    let invoice_number =
        DocumentNumber::parse(&new.invoice_number).map_err(|e| InputError::Rejected {
            field: "invoice_number",
            reason: e.to_string(),
        })?;
    if new.lines.is_empty() || new.lines.len() > 500 {
        return Err(InputError::Rejected {
            field: "lines",
            reason: "take back 1 to 500 lines".into(),
        }
        .into());
    }
    let (settlement_text, reference) = match &new.settlement {
        Settlement::RefundCash => ("refund_cash", None),
        Settlement::RefundUpi { reference } => ("refund_upi", Some(payment_reference(reference)?)),
        Settlement::RefundCard { reference } => {
            ("refund_card", Some(payment_reference(reference)?))
        }
        Settlement::LedgerCredit => ("ledger_credit", None),
    };
    let mut wanted_imeis = Vec::new();
    for l in &new.lines {
        if l.quantity == 0 {
            return Err(InputError::Rejected {
                field: "quantity",
                reason: format!("line {}: take back at least 1", l.line_no),
            }
            .into());
        }
        for i in &l.imeis {
            let imei = Imei::parse(i).map_err(|e| InputError::Rejected {
                field: "imei",
                reason: e.to_string(),
            })?;
            wanted_imeis.push((l.line_no, imei));
        }
    }
    Ok(Checked {
        reason,
        invoice_number,
        lines: new.lines.clone(),
        settlement: new.settlement.clone(),
        settlement_text,
        reference,
        wanted_imeis,
    })
}

/// Issues a credit note against an invoice of this shop.
pub(crate) struct IssueCreditNote {
    id: Uuid,
    checked: Checked,
}

impl IssueCreditNote {
    pub(crate) fn new(new: &NewCreditNote) -> Result<IssueCreditNote> {
        Ok(IssueCreditNote {
            id: Uuid::now_v7(),
            checked: check(new)?,
        })
    }
}

impl Command for IssueCreditNote {
    const OP: Op = Op::IssueCreditNote;
    type Output = CreditNote;
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::new("credit_note.issue", "credit_note", self.id))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<CreditNote> {
        issue(cx, self.id, self.checked, false)
    }
}

/// Cancels a whole invoice that nothing has been returned from: one credit note taking back
/// every line and IMEI (CGST s. 34; an issued invoice is never deleted). Needs the cancel
/// permission, which counter staff do not hold.
pub(crate) struct CancelInvoice {
    id: Uuid,
    number: DocumentNumber,
    reason: String,
    settlement: Settlement,
}

impl CancelInvoice {
    pub(crate) fn new(
        invoice_number: &str,
        reason: &str,
        settlement: Settlement,
    ) -> Result<CancelInvoice> {
        // 180, so that "cancelled: " and the reason fit a note's 200.
        let reason = required("reason", reason, 180)?;
        let number = DocumentNumber::parse(invoice_number).map_err(|e| InputError::Rejected {
            field: "invoice_number",
            reason: e.to_string(),
        })?;
        Ok(CancelInvoice {
            id: Uuid::now_v7(),
            number,
            reason,
            settlement,
        })
    }
}

impl Command for CancelInvoice {
    const OP: Op = Op::CancelInvoice;
    type Output = CreditNote;
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::new("invoice.cancel", "credit_note", self.id))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<CreditNote> {
        let invoice = invoices::load(cx, invoices::id_of(cx, &self.number)?)?;
        let whole = NewCreditNote {
            invoice_number: self.number.as_str().to_owned(),
            reason: format!("cancelled: {}", self.reason),
            lines: invoice
                .lines
                .iter()
                .map(|l| ReturnLine {
                    line_no: l.line_no,
                    quantity: u32::try_from(l.quantity).unwrap_or(u32::MAX),
                    imeis: l.imeis.clone(),
                })
                .collect(),
            settlement: self.settlement,
        };
        issue(cx, self.id, check(&whole)?, true)
    }
}

/// `whole_only`: the invoice must be untouched (a cancellation).
fn issue(
    cx: &mut WriteCx<'_, '_>,
    note_id: Uuid,
    c: Checked,
    whole_only: bool,
) -> Result<CreditNote> {
    let tenant = cx.tenant_id().to_string();
    let invoice_number = &c.invoice_number;
    let (invoice_id, invoice_round_off, invoice_customer): (String, i64, Option<String>) = cx
        .conn()
        .query_row(
            "SELECT id, round_off_paise, customer_id FROM invoice WHERE tenant_id = ? AND number = ?",
            [&tenant, invoice_number.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("invoice {invoice_number}")))?;
    let damaged = |what: &str| Error::DatabaseDamaged {
        detail: format!("invoice {invoice_number}: {what}"),
    };
    let invoice_uuid = Uuid::parse_str(&invoice_id).map_err(|_| damaged("id"))?;
    let ledger_customer = match (&c.settlement, &invoice_customer) {
        (Settlement::LedgerCredit, None) => {
            return Err(conflict(
                "the invoice names no customer: refund the money instead",
            ));
        }
        (Settlement::LedgerCredit, Some(id)) => {
            Some(Uuid::parse_str(id).map_err(|_| damaged("customer"))?)
        }
        _ => None,
    };
    let sold = sold_lines(cx, &invoice_id)?;
    let untouched =
        "part of this invoice was already returned: take back the rest with a credit note";
    if whole_only {
        let notes: i64 = cx.conn().query_row(
            "SELECT count(*) FROM credit_note WHERE invoice_id = ?",
            [&invoice_id],
            |r| r.get(0),
        )?;
        if notes > 0 || sold.iter().any(|l| l.returned_qty > 0) {
            return Err(conflict(untouched));
        }
    }

    // What this note takes back, line by line.
    let mut taking: Vec<(&SoldLine, i64, [i64; 6], Vec<String>)> = Vec::new();
    for l in &c.lines {
        let line = sold
            .iter()
            .find(|s| s.line_no == l.line_no)
            .ok_or_else(|| {
                conflict(format!(
                    "invoice {invoice_number} has no line {}",
                    l.line_no
                ))
            })?;
        if taking.iter().any(|(s, ..)| s.line_no == l.line_no) {
            return Err(conflict(format!("line {} is named twice", l.line_no)));
        }
        let left = line.quantity - line.returned_qty;
        let k = i64::from(l.quantity);
        if k > left {
            return Err(conflict(format!(
                "line {} ({}): only {left} of {} can still be taken back",
                line.line_no, line.description, line.quantity
            )));
        }
        let imeis: Vec<String> = c
            .wanted_imeis
            .iter()
            .filter(|(n, _)| *n == l.line_no)
            .map(|(_, i)| i.as_str().to_owned())
            .collect();
        if !line.imeis.is_empty() {
            let per_unit = line.imeis.len() as i64 / line.quantity.max(1);
            if imeis.len() as i64 != k * per_unit {
                return Err(conflict(format!(
                    "line {} ({}): name the {} IMEI(s) of the returned unit(s)",
                    line.line_no,
                    line.description,
                    k * per_unit
                )));
            }
            for i in &imeis {
                if !line.imeis.contains(i) {
                    return Err(conflict(format!(
                        "IMEI {i} was not sold on line {}",
                        line.line_no
                    )));
                }
                if catalogue::imei_in_stock(cx, i)? {
                    return Err(conflict(format!("IMEI {i} was already taken back")));
                }
            }
        } else if !imeis.is_empty() {
            return Err(conflict(format!("line {} has no IMEIs", line.line_no)));
        }
        let amounts = if k == left {
            std::array::from_fn(|col| line.sold[col] - line.returned[col])
        } else {
            line.sold.map(|x| mul_div_half_up(x, k, line.quantity))
        };
        taking.push((line, k, amounts, imeis));
    }
    let sum = |col: usize| taking.iter().map(|(_, _, a, _)| a[col]).sum::<i64>();
    let completes_invoice = sold.iter().all(|s| {
        let now = taking
            .iter()
            .find(|(t, ..)| t.line_no == s.line_no)
            .map_or(0, |(_, k, ..)| *k);
        s.returned_qty + now == s.quantity
    });
    let round_off = if completes_invoice {
        invoice_round_off
    } else {
        0
    };
    let total = sum(5) + round_off;

    let fy = FinancialYear::of_unix_ms(cx.now()).map_err(|e| conflict(e.to_string()))?;
    let reference_ct = c
        .reference
        .as_deref()
        .map(|r| {
            cx.cipher()
                .encrypt_text("credit_note", "refund_reference_ct", note_id, r)
        })
        .transpose()?;
    let (n, number) = series::take_next(cx, series::Kind::CreditNote, fy)?;
    cx.insert(&CreditNoteRow {
        id: note_id,
        tenant_id: cx.tenant_id(),
        device_id: cx.device_id(),
        number: number.as_str().to_owned(),
        fy: fy.start_year(),
        number_in_year: n,
        invoice_id: invoice_uuid,
        issued_at_ms: cx.now(),
        seat_id: cx.seat_id(),
        reason: c.reason.clone(),
        settlement: c.settlement_text.into(),
        refund_reference_ct: reference_ct,
        taxable_paise: sum(0),
        cgst_paise: sum(1),
        sgst_paise: sum(2),
        igst_paise: sum(3),
        cess_paise: sum(4),
        round_off_paise: round_off,
        total_paise: total,
    })?;
    // Returned goods go back on the shelf.
    for (line, k, ..) in &taking {
        let product = Uuid::parse_str(&line.product_id).map_err(|_| damaged("line product"))?;
        catalogue::move_stock(cx, product, *k)?;
    }
    for (line, k, a, imeis) in &taking {
        cx.insert(&CreditNoteLineRow {
            id: Uuid::now_v7(),
            credit_note_id: note_id,
            invoice_line_id: line.id.clone(),
            quantity: *k,
            taxable_paise: a[0],
            cgst_paise: a[1],
            sgst_paise: a[2],
            igst_paise: a[3],
            cess_paise: a[4],
            total_paise: a[5],
        })?;
        for i in imeis {
            cx.insert(&CreditNoteImeiRow {
                id: Uuid::now_v7(),
                tenant_id: cx.tenant_id(),
                credit_note_id: note_id,
                imei: i.clone(),
            })?;
        }
    }
    if let Some(customer) = ledger_customer
        && total > 0
    {
        ledger::credit_note(cx, customer, total, note_id)?;
    }
    tracing::info!(credit_note = %note_id, "credit note issued");
    load(cx, note_id)
}

fn sold_lines(cx: &ReadCx<'_>, invoice_id: &str) -> Result<Vec<SoldLine>> {
    let conn = cx.conn();
    let mut stmt = conn.prepare_cached(
            "SELECT l.id, l.line_no, l.product_id, l.description, l.quantity, l.taxable_paise, l.cgst_paise, \
                    l.sgst_paise, l.igst_paise, l.cess_paise, l.total_paise, \
                    COALESCE(SUM(c.quantity), 0), COALESCE(SUM(c.taxable_paise), 0), \
                    COALESCE(SUM(c.cgst_paise), 0), COALESCE(SUM(c.sgst_paise), 0), \
                    COALESCE(SUM(c.igst_paise), 0), COALESCE(SUM(c.cess_paise), 0), \
                    COALESCE(SUM(c.total_paise), 0) \
             FROM invoice_line l LEFT JOIN credit_note_line c ON c.invoice_line_id = l.id \
             WHERE l.invoice_id = ? GROUP BY l.id ORDER BY l.line_no",
        )?;
    let mut imei_q =
        conn.prepare_cached("SELECT imei FROM invoice_imei WHERE line_id = ? ORDER BY rowid")?;
    let mut rows = stmt.query([invoice_id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let imeis = imei_q
            .query_map([&id], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        out.push(SoldLine {
            line_no: r.get(1)?,
            product_id: r.get(2)?,
            description: r.get(3)?,
            quantity: r.get(4)?,
            sold: [
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
            ],
            returned_qty: r.get(11)?,
            returned: [
                r.get(12)?,
                r.get(13)?,
                r.get(14)?,
                r.get(15)?,
                r.get(16)?,
                r.get(17)?,
            ],
            imeis,
            id,
        });
    }
    Ok(out)
}

/// The credit note with id `id`, whole.
pub(crate) fn load(cx: &ReadCx<'_>, id: Uuid) -> Result<CreditNote> {
    let conn = cx.conn();
    let mut note = conn.query_row(
            "SELECT c.number, c.fy, i.number, c.reason, c.settlement, c.taxable_paise, c.cgst_paise, \
                    c.sgst_paise, c.igst_paise, c.cess_paise, c.round_off_paise, c.total_paise \
             FROM credit_note c JOIN invoice i ON i.id = c.invoice_id WHERE c.tenant_id = ? AND c.id = ?",
            [cx.tenant_id().to_string(), id.to_string()],
            |r| {
                Ok(CreditNote {
                    id,
                    number: r.get(0)?,
                    financial_year: FinancialYear::starting(r.get(1)?).label(),
                    invoice_number: r.get(2)?,
                    reason: r.get(3)?,
                    settlement: r.get(4)?,
                    lines: Vec::new(),
                    taxable_paise: r.get(5)?,
                    cgst_paise: r.get(6)?,
                    sgst_paise: r.get(7)?,
                    igst_paise: r.get(8)?,
                    cess_paise: r.get(9)?,
                    round_off_paise: r.get(10)?,
                    total_paise: r.get(11)?,
                })
            },
        )?;
    let mut stmt = conn.prepare_cached(
        "SELECT l.line_no, l.sku, l.description, c.quantity, c.taxable_paise, c.cgst_paise, \
                    c.sgst_paise, c.igst_paise, c.cess_paise, c.total_paise, l.id \
             FROM credit_note_line c JOIN invoice_line l ON l.id = c.invoice_line_id \
             WHERE c.credit_note_id = ? ORDER BY l.line_no",
    )?;
    let mut imei_q = conn.prepare_cached(
            "SELECT n.imei FROM credit_note_imei n JOIN invoice_imei m ON m.imei = n.imei AND m.tenant_id = n.tenant_id \
             WHERE n.credit_note_id = ? AND m.line_id = ? ORDER BY n.rowid",
        )?;
    let mut rows = stmt.query([id.to_string()])?;
    while let Some(r) = rows.next()? {
        let line_id: String = r.get(10)?;
        let imeis = imei_q
            .query_map([id.to_string(), line_id], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        note.lines.push(CreditNoteLine {
            invoice_line_no: r.get(0)?,
            sku: r.get(1)?,
            description: r.get(2)?,
            quantity: r.get(3)?,
            taxable_paise: r.get(4)?,
            cgst_paise: r.get(5)?,
            sgst_paise: r.get(6)?,
            igst_paise: r.get(7)?,
            cess_paise: r.get(8)?,
            total_paise: r.get(9)?,
            imeis,
        });
    }
    Ok(note)
}
