//! Invoices as issued: facts that are never changed (triggers refuse any update or delete;
//! returns are credit notes). This module writes them when a sale is finalized ([`issue`]) and
//! reads them back for the screens, the receipt, returns and the day close. Each invoice keeps
//! the supplier and the buyer as they were billed (Rule 46), so a reprint years later says what
//! the first print said.
//!
//! Tables: `invoice`, `invoice_line`, `invoice_imei`, `payment`.

use galla_domain::Imei;
use galla_domain::fiscal::{DocumentNumber, FinancialYear};
use galla_domain::gst::{DocumentKind, Supply};
use rusqlite::OptionalExtension;
use rusqlite::types::Value;
use serde::Serialize;
use uuid::Uuid;

use crate::customers::Customer;
use crate::engine::{ReadCx, WriteCx};
use crate::error::{Error, InputError, Result};
use crate::ops::{Op, Query};
use crate::rows::table;

table! {
    /// An issued invoice.
    pub(crate) struct InvoiceRow in "invoice", key id {
        id: Uuid,
        tenant_id: Uuid,
        device_id: Uuid,
        number: String,
        fy: i32,
        number_in_year: i64,
        doc_kind: String,
        issued_at_ms: i64,
        seat_id: Uuid,
        customer_id: Option<Uuid>,
        supply: String,
        place_of_supply: u8,
        declaration: Option<String>,
        supplier_name: String,
        supplier_gstin: Option<String>,
        supplier_state: u8,
        supplier_address: Option<String>,
        bill_discount_paise: i64,
        taxable_paise: i64,
        cgst_paise: i64,
        sgst_paise: i64,
        igst_paise: i64,
        cess_paise: i64,
        subtotal_paise: i64,
        round_off_paise: i64,
        total_paise: i64,
        buyer_name: Option<String>,
        buyer_gstin_ct: Option<Vec<u8>>,
        buyer_state: Option<u8>,
        buyer_address_ct: Option<Vec<u8>>,
    }
}

table! {
    /// A line of an issued invoice, taxed.
    pub(crate) struct InvoiceLineRow in "invoice_line", key id {
        id: Uuid,
        invoice_id: Uuid,
        line_no: i64,
        product_id: Uuid,
        sku: String,
        description: String,
        hsn: Option<String>,
        unit: String,
        quantity: i64,
        unit_price_paise: i64,
        price_basis: String,
        gst_rate_bp: u32,
        cess_rate_bp: u32,
        gross_paise: i64,
        line_discount_paise: i64,
        bill_discount_paise: i64,
        taxable_paise: i64,
        cgst_paise: i64,
        sgst_paise: i64,
        igst_paise: i64,
        cess_paise: i64,
        total_paise: i64,
    }
}

table! {
    /// An IMEI sold on an invoice line.
    struct InvoiceImeiRow in "invoice_imei", key id {
        id: Uuid,
        tenant_id: Uuid,
        invoice_id: Uuid,
        line_id: Uuid,
        imei: String,
    }
}

table! {
    /// One way the customer paid part of the bill.
    pub(crate) struct PaymentRow in "payment", key id {
        id: Uuid,
        invoice_id: Uuid,
        mode: String,
        amount_paise: i64,
        tendered_paise: Option<i64>,
        change_paise: Option<i64>,
        reference_ct: Option<Vec<u8>>,
    }
}

/// An invoice about to be issued: its row, its lines with their IMEIs, its payments.
pub(crate) struct NewInvoice {
    pub(crate) row: InvoiceRow,
    pub(crate) lines: Vec<(InvoiceLineRow, Vec<String>)>,
    pub(crate) payments: Vec<PaymentRow>,
}

/// Writes an invoice being issued (inside finalize's transaction).
pub(crate) fn issue(cx: &mut WriteCx<'_, '_>, new: &NewInvoice) -> Result<()> {
    cx.insert(&new.row)?;
    for (line, imeis) in &new.lines {
        cx.insert(line)?;
        for imei in imeis {
            cx.insert(&InvoiceImeiRow {
                id: Uuid::now_v7(),
                tenant_id: new.row.tenant_id,
                invoice_id: new.row.id,
                line_id: line.id,
                imei: imei.clone(),
            })?;
        }
    }
    for p in &new.payments {
        cx.insert(p)?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InvoiceLine {
    pub line_no: i64,
    pub sku: String,
    pub description: String,
    pub hsn: Option<String>,
    pub quantity: i64,
    pub unit: String,
    pub unit_price_paise: i64,
    pub gst_rate_bp: u32,
    pub cess_rate_bp: u32,
    pub discount_paise: i64,
    pub taxable_paise: i64,
    pub cgst_paise: i64,
    pub sgst_paise: i64,
    pub igst_paise: i64,
    pub cess_paise: i64,
    pub total_paise: i64,
    /// Units taken back on credit notes so far (what a return may still take is the rest).
    pub returned_quantity: i64,
    pub imeis: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Payment {
    pub mode: String,
    pub amount_paise: i64,
    pub tendered_paise: Option<i64>,
    pub change_paise: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Invoice {
    pub id: Uuid,
    pub number: String,
    pub financial_year: String,
    pub doc_kind: DocumentKind,
    pub issued_at_ms: i64,
    pub seat_id: Uuid,
    pub customer_id: Option<Uuid>,
    pub supply: Supply,
    pub place_of_supply: u8,
    pub lines: Vec<InvoiceLine>,
    pub taxable_paise: i64,
    pub cgst_paise: i64,
    pub sgst_paise: i64,
    pub igst_paise: i64,
    pub cess_paise: i64,
    pub subtotal_paise: i64,
    pub round_off_paise: i64,
    pub total_paise: i64,
    pub payments: Vec<Payment>,
    /// Printed on the bill as it was issued (Rule 49's composition declaration).
    pub declaration: Option<String>,
    /// Who issued it, as the shop's settings said at the time (Rule 46).
    pub supplier: Supplier,
}

/// One line of the invoices screen's results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InvoiceSummary {
    pub number: String,
    pub issued_at_ms: i64,
    /// The customer named on the invoice (a name is not masked PII); none for a walk-in.
    pub customer_name: Option<String>,
    pub total_paise: i64,
    /// How many lines it has.
    pub lines: i64,
    /// How many credit notes were issued against it.
    pub credit_notes: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Supplier {
    pub name: String,
    pub gstin: Option<String>,
    pub state_code: u8,
    pub address: Option<String>,
}

fn rejected(field: &'static str, reason: impl Into<String>) -> Error {
    InputError::Rejected {
        field,
        reason: reason.into(),
    }
    .into()
}

/// Who bought, as the bill names them (Rule 46(e)): the name; a registered buyer's GSTIN; and
/// where the rule asks for it, the address and state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buyer {
    pub name: String,
    pub gstin: Option<String>,
    pub address: Option<String>,
    pub state_code: Option<u8>,
}

impl Buyer {
    /// What of customer `c` a bill of `total_paise` names: the name and state; a registered
    /// buyer's GSTIN; the address only where Rule 46(e) asks for it (a registered buyer, or a
    /// bill of ₹50,000 or more), so a small bill keeps no address the law does not need.
    pub fn as_billed(c: &Customer, total_paise: i64) -> Buyer {
        let address_due = c.gstin.is_some() || total_paise >= BUYER_ADDRESS_FROM_PAISE;
        Buyer {
            name: c.name.clone(),
            gstin: c.gstin.as_ref().map(|g| g.as_str().to_owned()),
            address: c.address.clone().filter(|_| address_due),
            state_code: c.state_code,
        }
    }
}

/// Rule 46(e): an unregistered buyer's name, address and state are due on a bill of this much
/// or more (₹50,000).
pub const BUYER_ADDRESS_FROM_PAISE: i64 = 5_000_000;

/// The buyer's columns of an invoice row, copied from the customer when the bill is issued
/// ([`Buyer::as_billed`]): (name, GSTIN, state, address), GSTIN and address encrypted under
/// the invoice's id, as the customer's are under theirs.
pub(crate) type BuyerColumns = (Option<String>, Option<Vec<u8>>, Option<u8>, Option<Vec<u8>>);

pub(crate) fn buyer_columns(
    cx: &ReadCx<'_>,
    customer: Option<&Customer>,
    invoice_id: Uuid,
    total_paise: i64,
) -> Result<BuyerColumns> {
    let Some(b) = customer.map(|c| Buyer::as_billed(c, total_paise)) else {
        return Ok((None, None, None, None));
    };
    let seal = |column: &'static str, v: Option<&str>| -> Result<Option<Vec<u8>>> {
        v.map(|s| cx.cipher().encrypt_text("invoice", column, invoice_id, s))
            .transpose()
    };
    Ok((
        Some(b.name),
        seal("buyer_gstin_ct", b.gstin.as_deref())?,
        b.state_code,
        seal("buyer_address_ct", b.address.as_deref())?,
    ))
}

/// The buyer as the invoice copied them when it was issued; for an invoice from before that
/// copy was kept (schema 19), as the customer's record says now.
/// The buyer as the invoice copied them when it was issued; for an invoice from before
/// that copy was kept (schema 19), as the customer's record says now.
pub(crate) fn buyer_as_issued(
    cx: &ReadCx<'_>,
    invoice: &Invoice,
    customer_id: Uuid,
) -> Result<Buyer> {
    let copy = cx
        .conn()
        .prepare_cached(
            "SELECT buyer_name, buyer_gstin_ct, buyer_state, buyer_address_ct \
                 FROM invoice WHERE id = ?",
        )?
        .query_row([invoice.id.to_string()], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<Vec<u8>>>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<Vec<u8>>>(3)?,
            ))
        })?;
    let open = |column: &'static str, v: Option<Vec<u8>>| -> Result<Option<String>> {
        v.map(|ct| cx.cipher().decrypt_text("invoice", column, invoice.id, &ct))
            .transpose()
    };
    match copy {
        (Some(name), gstin, state, address) => Ok(Buyer {
            name,
            gstin: open("buyer_gstin_ct", gstin)?,
            address: open("buyer_address_ct", address)?,
            state_code: state.and_then(|s| u8::try_from(s).ok()),
        }),
        (None, ..) => {
            let c = crate::customers::customer(cx, customer_id).map_err(|e| match e {
                Error::NotFound(_) => Error::DatabaseDamaged {
                    detail: format!("invoice {}: its customer is missing", invoice.number),
                },
                e => e,
            })?;
            Ok(Buyer::as_billed(&c, invoice.total_paise))
        }
    }
}

pub(crate) fn supply_text(s: Supply) -> &'static str {
    match s {
        Supply::IntraState => "intra_state",
        Supply::IntraUnionTerritory => "intra_union_territory",
        Supply::InterState => "inter_state",
    }
}

pub(crate) fn kind_text(k: DocumentKind) -> &'static str {
    match k {
        DocumentKind::TaxInvoice => "tax_invoice",
        DocumentKind::BillOfSupply => "bill_of_supply",
        DocumentKind::InvoiceCumBillOfSupply => "invoice_cum_bill_of_supply",
    }
}

/// The invoice with id `id`, whole (lines, IMEIs, payments).
pub(crate) fn load(cx: &ReadCx<'_>, id: Uuid) -> Result<Invoice> {
    let conn = cx.conn();
    let damaged = |what: &str| Error::DatabaseDamaged {
        detail: format!("invoice {id}: {what}"),
    };
    let mut inv = conn
            .prepare_cached(
                "SELECT number, fy, doc_kind, issued_at_ms, seat_id, customer_id, supply, place_of_supply, \
                 taxable_paise, cgst_paise, sgst_paise, igst_paise, cess_paise, subtotal_paise, \
                 round_off_paise, total_paise, declaration, supplier_name, supplier_gstin, \
                 supplier_state, supplier_address FROM invoice WHERE tenant_id = ? AND id = ?",
            )?
            .query_row([cx.tenant_id().to_string(), id.to_string()], |r| {
                let m: [i64; 8] = [
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                    r.get(11)?,
                    r.get(12)?,
                    r.get(13)?,
                    r.get(14)?,
                    r.get(15)?,
                ];
                let supplier = Supplier {
                    // Invoices from before schema 9 carry no copy.
                    name: r.get::<_, Option<String>>(17)?.unwrap_or_default(),
                    gstin: r.get(18)?,
                    state_code: r
                        .get::<_, Option<i64>>(19)?
                        .and_then(|s| u8::try_from(s).ok())
                        .unwrap_or(0),
                    address: r.get(20)?,
                };
                Ok((
                    (
                        r.get::<_, String>(0)?,
                        r.get::<_, i32>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, i64>(7)?,
                    ),
                    m,
                    r.get::<_, Option<String>>(16)?,
                    supplier,
                ))
            })
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("invoice {id}")))
            .and_then(|((number, fy, kind, at, seat, customer, supply, pos), m, declaration, supplier)| {
                Ok(Invoice {
                    id,
                    number,
                    financial_year: FinancialYear::starting(fy).label(),
                    doc_kind: match kind.as_str() {
                        "tax_invoice" => DocumentKind::TaxInvoice,
                        "bill_of_supply" => DocumentKind::BillOfSupply,
                        "invoice_cum_bill_of_supply" => DocumentKind::InvoiceCumBillOfSupply,
                        _ => return Err(damaged("kind")),
                    },
                    issued_at_ms: at,
                    seat_id: Uuid::parse_str(&seat).map_err(|_| damaged("seat"))?,
                    customer_id: customer.and_then(|c| Uuid::parse_str(&c).ok()),
                    supply: match supply.as_str() {
                        "intra_state" => Supply::IntraState,
                        "intra_union_territory" => Supply::IntraUnionTerritory,
                        "inter_state" => Supply::InterState,
                        _ => return Err(damaged("supply")),
                    },
                    place_of_supply: u8::try_from(pos).unwrap_or(0),
                    lines: Vec::new(),
                    taxable_paise: m[0],
                    cgst_paise: m[1],
                    sgst_paise: m[2],
                    igst_paise: m[3],
                    cess_paise: m[4],
                    subtotal_paise: m[5],
                    round_off_paise: m[6],
                    total_paise: m[7],
                    payments: Vec::new(),
                    declaration,
                    supplier,
                })
            })?;
    let mut stmt = conn.prepare_cached(
            "SELECT id, line_no, sku, description, hsn, quantity, unit, unit_price_paise, gst_rate_bp, \
             cess_rate_bp, line_discount_paise + bill_discount_paise, taxable_paise, cgst_paise, \
             sgst_paise, igst_paise, cess_paise, total_paise, \
             (SELECT COALESCE(SUM(c.quantity), 0) FROM credit_note_line c WHERE c.invoice_line_id = invoice_line.id) \
             FROM invoice_line WHERE invoice_id = ? ORDER BY line_no",
        )?;
    let mut rows = stmt.query([id.to_string()])?;
    let mut imei_q =
        conn.prepare_cached("SELECT imei FROM invoice_imei WHERE line_id = ? ORDER BY rowid")?;
    while let Some(r) = rows.next()? {
        let lid: String = r.get(0)?;
        let imeis = imei_q
            .query_map([&lid], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        inv.lines.push(InvoiceLine {
            line_no: r.get(1)?,
            sku: r.get(2)?,
            description: r.get(3)?,
            hsn: r.get(4)?,
            quantity: r.get(5)?,
            unit: r.get(6)?,
            unit_price_paise: r.get(7)?,
            gst_rate_bp: r.get(8)?,
            cess_rate_bp: r.get(9)?,
            discount_paise: r.get(10)?,
            taxable_paise: r.get(11)?,
            cgst_paise: r.get(12)?,
            sgst_paise: r.get(13)?,
            igst_paise: r.get(14)?,
            cess_paise: r.get(15)?,
            total_paise: r.get(16)?,
            returned_quantity: r.get(17)?,
            imeis,
        });
    }
    let mut pay = conn.prepare_cached(
            "SELECT mode, amount_paise, tendered_paise, change_paise FROM payment WHERE invoice_id = ? ORDER BY id",
        )?;
    inv.payments = pay
        .query_map([id.to_string()], |r| {
            Ok(Payment {
                mode: r.get(0)?,
                amount_paise: r.get(1)?,
                tendered_paise: r.get(2)?,
                change_paise: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(inv)
}

/// The id of this shop's invoice with that number.
pub(crate) fn id_of(cx: &ReadCx<'_>, number: &DocumentNumber) -> Result<Uuid> {
    let id: String = cx
        .conn()
        .prepare_cached("SELECT id FROM invoice WHERE tenant_id = ? AND number = ?")?
        .query_row(
            [cx.tenant_id().to_string(), number.as_str().to_owned()],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("invoice {number}")))?;
    Uuid::parse_str(&id).map_err(|_| Error::DatabaseDamaged {
        detail: "invoice id".into(),
    })
}

/// The number of the latest invoice that sold `imei`.
pub(crate) fn last_sold_on(cx: &ReadCx<'_>, imei: &str) -> Result<String> {
    Ok(cx.conn().query_row(
        "SELECT i.number FROM invoice_imei m JOIN invoice i ON i.id = m.invoice_id \
         WHERE m.tenant_id = ? AND m.imei = ? ORDER BY i.issued_at_ms DESC LIMIT 1",
        rusqlite::params![cx.tenant_id().to_string(), imei],
        |r| r.get(0),
    )?)
}

/// A document number as typed, or why it is not one.
pub(crate) fn document_number(field: &'static str, typed: &str) -> Result<DocumentNumber> {
    DocumentNumber::parse(typed).map_err(|e| rejected(field, e.to_string()))
}

/// An invoice by its number (`T1/25-26/000123`).
pub(crate) struct InvoiceByNumber(pub(crate) DocumentNumber);

impl Query for InvoiceByNumber {
    const OP: Op = Op::ViewInvoices;
    type Output = Invoice;
    fn run(self, cx: &ReadCx<'_>) -> Result<Invoice> {
        let id = id_of(cx, &self.0)?;
        load(cx, id)
    }
}

/// The invoices screen's search: an invoice number, an IMEI sold, or a customer (exact phone
/// or name words, for seats that may see customers); nothing typed lists the latest. Newest
/// first, at most `limit` (1 to 200).
pub(crate) struct FindInvoices {
    typed: String,
    limit: usize,
}

impl FindInvoices {
    pub(crate) fn new(typed: &str, limit: usize) -> Result<FindInvoices> {
        if typed.trim().chars().count() > 100 {
            return Err(rejected("query", "type at most 100 characters"));
        }
        Ok(FindInvoices {
            typed: typed.to_owned(),
            limit,
        })
    }
}

impl Query for FindInvoices {
    const OP: Op = Op::ViewInvoices;
    type Output = Vec<InvoiceSummary>;
    fn run(self, cx: &ReadCx<'_>) -> Result<Vec<InvoiceSummary>> {
        find(cx, &self.typed, self.limit)
    }
}

/// Every invoice that sold this IMEI.
pub(crate) struct InvoicesByImei(pub(crate) Imei);

impl Query for InvoicesByImei {
    const OP: Op = Op::ViewInvoices;
    type Output = Vec<Invoice>;
    fn run(self, cx: &ReadCx<'_>) -> Result<Vec<Invoice>> {
        let ids: Vec<String> = cx
            .conn()
            .prepare_cached(
                "SELECT DISTINCT invoice_id FROM invoice_imei WHERE tenant_id = ? AND imei = ?",
            )?
            .query_map(
                [cx.tenant_id().to_string(), self.0.as_str().to_owned()],
                |r| r.get(0),
            )?
            .collect::<rusqlite::Result<_>>()?;
        ids.iter()
            .map(|i| {
                let id = Uuid::parse_str(i).map_err(|_| Error::DatabaseDamaged {
                    detail: "invoice id".into(),
                })?;
                load(cx, id)
            })
            .collect()
    }
}

/// The invoices screen's search: an invoice number, an IMEI sold, or a customer (exact
/// phone or name words, for seats that may see customers); nothing typed lists the latest.
/// Newest first, at most `limit` (1 to 200).
fn find(cx: &ReadCx<'_>, typed: &str, limit: usize) -> Result<Vec<InvoiceSummary>> {
    let typed = typed.trim();
    let limit = limit.clamp(1, 200);
    let mut params: Vec<Value> = vec![Value::Text(cx.tenant_id().to_string())];
    let filter = if typed.is_empty() {
        "1".to_owned()
    } else if let Ok(imei) = Imei::parse(typed) {
        // Fifteen digits may also be a series's invoice number: either matches.
        params.push(Value::Text(imei.as_str().to_owned()));
        "(i.number = ?2 OR i.id IN \
              (SELECT invoice_id FROM invoice_imei WHERE tenant_id = ?1 AND imei = ?2))"
            .to_owned()
    } else if let Some(n) = DocumentNumber::parse(&typed.to_uppercase())
        .ok()
        .filter(|n| id_of(cx, n).is_ok())
    {
        // A word like "MEENA" is also a well-formed number: it is one only if it exists.
        params.push(Value::Text(n.as_str().to_owned()));
        "i.number = ?2".to_owned()
    } else if cx.access().allows(galla_domain::Permission::ViewCustomers) {
        let ids: Vec<Uuid> = crate::customers::customers_matching(cx, typed, 20)?
            .into_iter()
            .map(|c| c.id)
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (0..ids.len()).map(|k| format!("?{}", k + 2)).collect();
        params.extend(ids.iter().map(|id| Value::Text(id.to_string())));
        format!("i.customer_id IN ({})", marks.join(", "))
    } else {
        return Ok(Vec::new());
    };
    let sql = format!(
        "SELECT i.number, i.issued_at_ms, c.name, i.total_paise, \
                    (SELECT COUNT(*) FROM invoice_line l WHERE l.invoice_id = i.id), \
                    (SELECT COUNT(*) FROM credit_note n WHERE n.invoice_id = i.id) \
             FROM invoice i LEFT JOIN customer c ON c.id = i.customer_id \
             WHERE i.tenant_id = ?1 AND {filter} \
             ORDER BY i.issued_at_ms DESC, i.number DESC LIMIT {limit}"
    );
    let conn = cx.conn();
    let mut stmt = conn.prepare(&sql)?;
    let found = stmt
        .query_map(rusqlite::params_from_iter(params), |r| {
            Ok(InvoiceSummary {
                number: r.get(0)?,
                issued_at_ms: r.get(1)?,
                customer_name: r.get(2)?,
                total_paise: r.get(3)?,
                lines: r.get(4)?,
                credit_notes: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(found)
}
