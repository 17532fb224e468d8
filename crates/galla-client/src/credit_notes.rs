//! Returns and cancellations as credit notes (CGST s. 34; Rule 53(1A)): each references the
//! invoice and the lines it reverses, never more of a line than was sold less what earlier notes
//! took back, in the terminal's own credit-note series (`T1C/25-26/000001`). Returned IMEIs
//! become sellable again. Amounts are the invoice line's, in proportion to the quantity; the
//! note that takes back the last units of a line takes exactly what is left, so a line's notes
//! always add up to the line, and the note that completes a whole invoice carries its
//! round-off, so the customer gets back exactly what was paid.

use galla_domain::Imei;
use galla_domain::fiscal::{DocumentNumber, FinancialYear};
use galla_domain::gst::mul_div_half_up;
use rusqlite::OptionalExtension;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, InputError, Result, required};
use crate::invoices::payment_reference;
use crate::ops::Op;
use crate::sessions::SessionToken;
use crate::terminal::Terminal;
use crate::write::Operation;

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

impl Terminal {
    /// Issues a credit note against an invoice of this shop.
    pub fn issue_credit_note(
        &self,
        token: &SessionToken,
        new: &NewCreditNote,
    ) -> Result<CreditNote> {
        self.credit_note(token, Op::IssueCreditNote, new, false)
    }

    /// Cancels a whole invoice that nothing has been returned from: one credit note taking
    /// back every line and IMEI (CGST s. 34; an issued invoice is never deleted). Needs the
    /// cancel permission, which counter staff do not hold.
    pub fn cancel_invoice(
        &self,
        token: &SessionToken,
        invoice_number: &str,
        reason: &str,
        settlement: Settlement,
    ) -> Result<CreditNote> {
        // 180, so that "cancelled: " and the reason fit a note's 200.
        let reason = required("reason", reason, 180)?;
        let number = DocumentNumber::parse(invoice_number).map_err(|e| InputError::Rejected {
            field: "invoice_number",
            reason: e.to_string(),
        })?;
        let invoice = {
            let (_auth, store) = self.authorize(token, Op::CancelInvoice)?;
            let id = self.invoice_id(&store, &number)?;
            self.load_invoice(&store, id)?
        };
        let whole = NewCreditNote {
            invoice_number: number.as_str().to_owned(),
            reason: format!("cancelled: {reason}"),
            lines: invoice
                .lines
                .iter()
                .map(|l| ReturnLine {
                    line_no: l.line_no,
                    quantity: u32::try_from(l.quantity).unwrap_or(u32::MAX),
                    imeis: l.imeis.clone(),
                })
                .collect(),
            settlement,
        };
        self.credit_note(token, Op::CancelInvoice, &whole, true)
    }

    /// `whole_only`: the invoice must be untouched (a cancellation), checked again inside the
    /// transaction so a return made meanwhile by another process is not cancelled over.
    fn credit_note(
        &self,
        token: &SessionToken,
        op: Op,
        new: &NewCreditNote,
        whole_only: bool,
    ) -> Result<CreditNote> {
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
        let (settlement, reference) = match &new.settlement {
            Settlement::RefundCash => ("refund_cash", None),
            Settlement::RefundUpi { reference } => {
                ("refund_upi", Some(payment_reference(reference)?))
            }
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
        let (auth, mut store) = self.authorize(token, op)?;
        let tenant = self.tenant_id.to_string();
        let (invoice_id, invoice_round_off, invoice_customer): (String, i64, Option<String>) = store
            .reader()
            .query_row(
                "SELECT id, round_off_paise, customer_id FROM invoice WHERE tenant_id = ? AND number = ?",
                [&tenant, invoice_number.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("invoice {invoice_number}")))?;
        let ledger_customer = match (&new.settlement, &invoice_customer) {
            (Settlement::LedgerCredit, None) => {
                return Err(conflict(
                    "the invoice names no customer: refund the money instead",
                ));
            }
            (Settlement::LedgerCredit, Some(c)) => {
                Some(Uuid::parse_str(c).map_err(|_| Error::DatabaseDamaged {
                    detail: "invoice customer".into(),
                })?)
            }
            _ => None,
        };
        let sold = self.sold_lines(&store, &invoice_id)?;
        let untouched =
            "part of this invoice was already returned: take back the rest with a credit note";
        if whole_only && sold.iter().any(|l| l.returned_qty > 0) {
            return Err(conflict(untouched));
        }

        // What this note takes back, line by line.
        let mut taking: Vec<(&SoldLine, i64, [i64; 6], Vec<String>)> = Vec::new();
        for l in &new.lines {
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
            let imeis: Vec<String> = wanted_imeis
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
                    if crate::invoices::imei_in_stock(store.reader(), self.tenant_id, i)? {
                        return Err(conflict(format!("IMEI {i} was already taken back")));
                    }
                }
            } else if !imeis.is_empty() {
                return Err(conflict(format!("line {} has no IMEIs", line.line_no)));
            }
            let amounts = if k == left {
                std::array::from_fn(|c| line.sold[c] - line.returned[c])
            } else {
                line.sold.map(|x| mul_div_half_up(x, k, line.quantity))
            };
            taking.push((line, k, amounts, imeis));
        }
        let sum = |c: usize| taking.iter().map(|(_, _, a, _)| a[c]).sum::<i64>();
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

        let fy = FinancialYear::of_unix_ms(auth.now).map_err(|e| conflict(e.to_string()))?;
        let series_code = format!("{}C", self.series_code);
        let note_id = Uuid::now_v7();
        let reference_ct = reference
            .as_deref()
            .map(|r| {
                self.cipher
                    .encrypt_text("credit_note", "refund_reference_ct", note_id, r)
            })
            .transpose()?;
        let (signer, device_id, now, seat) =
            (self.signer(), self.device_id, auth.now, auth.seat_id);
        let op = Operation {
            action: if whole_only {
                "invoice.cancel"
            } else {
                "credit_note.issue"
            },
            entity_type: "credit_note",
            entity_id: note_id.to_string(),
        };
        let text = |s: &str| Value::Text(s.to_owned());
        let int = Value::Integer;
        store.write(&signer, self.clock.as_ref(), &auth.actor, op, |uow| {
            if whole_only {
                let notes: i64 = uow.conn().query_row(
                    "SELECT count(*) FROM credit_note WHERE invoice_id = ?",
                    [&invoice_id],
                    |r| r.get(0),
                )?;
                if notes > 0 {
                    return Err(conflict(untouched));
                }
            }
            // Re-checked inside the transaction: another connection may have returned the same
            // units a moment ago.
            for (line, k, ..) in &taking {
                let returned: i64 = uow.query_one(
                    "SELECT COALESCE(SUM(quantity), 0) FROM credit_note_line WHERE invoice_line_id = ?",
                    [&line.id],
                )?;
                if returned + k > line.quantity {
                    return Err(conflict(format!("line {} was taken back a moment ago", line.line_no)));
                }
            }
            let (n, number) = crate::series::Series {
                tenant_id: self.tenant_id,
                device_id,
                kind: "credit_note",
                fy,
                code: &series_code,
            }
            .take_next(uow)?;
            uow.insert(
                "credit_note",
                &note_id.to_string(),
                &[
                    ("id", text(&note_id.to_string())),
                    ("tenant_id", text(&tenant)),
                    ("device_id", text(&device_id.to_string())),
                    ("number", text(number.as_str())),
                    ("fy", int(fy.start_year().into())),
                    ("number_in_year", int(n)),
                    ("invoice_id", text(&invoice_id)),
                    ("issued_at_ms", int(now)),
                    ("seat_id", text(&seat.to_string())),
                    ("reason", text(&reason)),
                    ("settlement", text(settlement)),
                    ("refund_reference_ct", reference_ct.clone().map_or(Value::Null, Value::Blob)),
                    ("taxable_paise", int(sum(0))),
                    ("cgst_paise", int(sum(1))),
                    ("sgst_paise", int(sum(2))),
                    ("igst_paise", int(sum(3))),
                    ("cess_paise", int(sum(4))),
                    ("round_off_paise", int(round_off)),
                    ("total_paise", int(total)),
                ],
            )?;
            // Returned goods go back on the shelf.
            for (line, k, ..) in &taking {
                let product = Uuid::parse_str(&line.product_id).map_err(|_| Error::DatabaseDamaged {
                    detail: "invoice line product".into(),
                })?;
                crate::invoices::move_stock(uow, product, *k)?;
            }
            for (line, k, a, imeis) in &taking {
                let lid = Uuid::now_v7();
                uow.insert(
                    "credit_note_line",
                    &lid.to_string(),
                    &[
                        ("id", text(&lid.to_string())),
                        ("credit_note_id", text(&note_id.to_string())),
                        ("invoice_line_id", text(&line.id)),
                        ("quantity", int(*k)),
                        ("taxable_paise", int(a[0])),
                        ("cgst_paise", int(a[1])),
                        ("sgst_paise", int(a[2])),
                        ("igst_paise", int(a[3])),
                        ("cess_paise", int(a[4])),
                        ("total_paise", int(a[5])),
                    ],
                )?;
                for i in imeis {
                    let mid = Uuid::now_v7();
                    uow.insert(
                        "credit_note_imei",
                        &mid.to_string(),
                        &[
                            ("id", text(&mid.to_string())),
                            ("tenant_id", text(&tenant)),
                            ("credit_note_id", text(&note_id.to_string())),
                            ("imei", text(i)),
                        ],
                    )?;
                }
            }
            if let Some(customer) = ledger_customer
                && total > 0
            {
                crate::ledger::insert_entry(
                    uow,
                    (self.tenant_id, device_id),
                    customer,
                    seat,
                    now,
                    Uuid::now_v7(),
                    crate::ledger::NewEntry {
                        kind: "credit_note",
                        amount: -total,
                        invoice_id: None,
                        credit_note_id: Some(&note_id.to_string()),
                        mode: None,
                        reference_ct: None,
                        over_limit: false,
                    },
                )?;
            }
            Ok(())
        })?;
        tracing::info!(credit_note = %note_id, "credit note issued");
        self.load_credit_note(&store, note_id)
    }

    fn sold_lines(&self, store: &crate::store::Store, invoice_id: &str) -> Result<Vec<SoldLine>> {
        let conn = store.reader();
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

    pub(crate) fn load_credit_note(
        &self,
        store: &crate::store::Store,
        id: Uuid,
    ) -> Result<CreditNote> {
        let conn = store.reader();
        let mut note = conn.query_row(
            "SELECT c.number, c.fy, i.number, c.reason, c.settlement, c.taxable_paise, c.cgst_paise, \
                    c.sgst_paise, c.igst_paise, c.cess_paise, c.round_off_paise, c.total_paise \
             FROM credit_note c JOIN invoice i ON i.id = c.invoice_id WHERE c.tenant_id = ? AND c.id = ?",
            [self.tenant_id.to_string(), id.to_string()],
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
}
