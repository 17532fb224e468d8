//! Finalizing a sale: the cart's catalogue lines are taxed ([`super::price`]), IMEIs checked,
//! payments recorded, stock moved, udhaar entered, and the invoice numbered in this terminal's
//! series for the financial year, all in one transaction. The signed record it makes is the
//! sale's one record: the invoice, its lines and payments, and what the owner needs of the
//! sale's history (`sale/<cart>`).

use galla_domain::Money;
use galla_domain::PriceBasis;
use galla_domain::fiscal::FinancialYear;
use galla_domain::gst::Discount;
use serde::Deserialize;
use uuid::Uuid;

use super::{SaleTerms, conflict, own_open_sale, rejected};
use crate::catalogue;
use crate::engine::{Env, Record, WriteCx};
use crate::error::Result;
use crate::invoices::{self, Invoice, InvoiceLineRow, InvoiceRow, NewInvoice, PaymentRow};
use crate::ledger::{self, payment_reference};
use crate::ops::{Command, Op};
use crate::series;

/// One way the customer pays part of the bill.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum PaymentInput {
    /// Cash, with what was handed over (at least the amount; the change is worked out).
    Cash {
        amount_paise: i64,
        tendered_paise: Option<i64>,
    },
    /// UPI, with its transaction reference.
    Upi {
        amount_paise: i64,
        reference: String,
    },
    /// Card, with the terminal's approval reference: never the card number.
    Card {
        amount_paise: i64,
        reference: String,
    },
    /// Udhaar: added to the customer's ledger, within their credit limit unless the seat may
    /// exceed it.
    Credit { amount_paise: i64 },
}

#[derive(Debug, Clone, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FinalizeRequest {
    #[serde(default)]
    pub customer_id: Option<Uuid>,
    /// Where the goods are delivered, if not over the counter (a state code).
    #[serde(default)]
    pub place_of_supply: Option<u8>,
    /// The goods are sent to the attached customer: the place of supply is their state.
    #[serde(default)]
    pub ship_to_customer: bool,
    #[serde(default)]
    pub bill_discount: Discount,
    pub payments: Vec<PaymentInput>,
}

impl FinalizeRequest {
    pub fn terms(&self) -> SaleTerms {
        SaleTerms {
            customer_id: self.customer_id,
            place_of_supply: self.place_of_supply,
            ship_to_customer: self.ship_to_customer,
            bill_discount: self.bill_discount,
        }
    }
}

/// A payment as checked, before the total is known.
struct Pay {
    mode: &'static str,
    amount: i64,
    tendered: Option<i64>,
    change: Option<i64>,
    reference: Option<String>,
}

fn payments(req: &FinalizeRequest) -> Result<Vec<Pay>> {
    if req.payments.is_empty() {
        return Err(rejected("payments", "say how the customer paid"));
    }
    if req.payments.len() > 8 {
        return Err(rejected("payments", "at most 8 payments per bill"));
    }
    let mut pays = Vec::new();
    for p in &req.payments {
        let pay = match p {
            PaymentInput::Cash {
                amount_paise,
                tendered_paise,
            } => {
                let t = tendered_paise.unwrap_or(*amount_paise);
                if t < *amount_paise {
                    return Err(rejected(
                        "tendered",
                        "less cash was handed over than is due",
                    ));
                }
                Pay {
                    mode: "cash",
                    amount: *amount_paise,
                    tendered: Some(t),
                    change: Some(t - amount_paise),
                    reference: None,
                }
            }
            PaymentInput::Upi {
                amount_paise,
                reference,
            } => Pay {
                mode: "upi",
                amount: *amount_paise,
                tendered: None,
                change: None,
                reference: Some(payment_reference(reference)?),
            },
            PaymentInput::Credit { amount_paise } => {
                if req.customer_id.is_none() {
                    return Err(conflict(
                        "a sale on udhaar needs the customer: attach one first",
                    ));
                }
                Pay {
                    mode: "credit",
                    amount: *amount_paise,
                    tendered: None,
                    change: None,
                    reference: None,
                }
            }
            PaymentInput::Card {
                amount_paise,
                reference,
            } => Pay {
                mode: "card",
                amount: *amount_paise,
                tendered: None,
                change: None,
                reference: Some(payment_reference(reference)?),
            },
        };
        if !(1..=10_000_000_000).contains(&pay.amount) {
            return Err(rejected("amount", "each payment must be more than ₹0"));
        }
        pays.push(pay);
    }
    Ok(pays)
}

/// Finalizes the session's sale into an invoice.
pub(crate) struct Finalize {
    invoice_id: Uuid,
    terms: SaleTerms,
    pays: Vec<Pay>,
}

impl Finalize {
    pub(crate) fn new(req: &FinalizeRequest) -> Result<Finalize> {
        Ok(Finalize {
            invoice_id: Uuid::now_v7(),
            terms: req.terms(),
            pays: payments(req)?,
        })
    }
}

impl Command for Finalize {
    const OP: Op = Op::Finalize;
    type Output = Invoice;
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::new("invoice.finalize", "invoice", self.invoice_id))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Invoice> {
        let Finalize {
            invoice_id,
            terms,
            pays,
        } = self;
        let cart = own_open_sale(cx)?;
        if cart.lines.is_empty() {
            return Err(conflict("the sale is empty"));
        }
        let p = super::price::price(cx, &cart, &terms)?;
        if let Some(first) = p.problems.into_iter().next() {
            return Err(conflict(first));
        }
        let tax = p.tax;
        // Payments must cover the total exactly; cash may be tendered with change.
        let paid: i64 = pays.iter().map(|p| p.amount).sum();
        if paid != tax.total.paise() {
            return Err(rejected(
                "payments",
                format!(
                    "they add up to {} but the bill is {}",
                    Money::from_paise(paid),
                    tax.total
                ),
            ));
        }
        let fy =
            FinancialYear::of_unix_ms(cx.now()).map_err(|e| rejected("time", e.to_string()))?;
        // The IMEIs were checked when captured; none may have been sold since (here, on
        // another connection, or in another session).
        for l in &cart.lines {
            for i in &l.imeis {
                if !catalogue::imei_in_stock(cx, i)? {
                    return Err(conflict(format!(
                        "IMEI {i} has been sold since it was captured: remove it from the sale"
                    )));
                }
            }
        }
        // The buyer as the bill names them, copied now (Rule 46(e); schema 19).
        let buyer = match terms.customer_id {
            Some(c) => Some(crate::customers::customer(cx, c)?),
            None => None,
        };
        let (buyer_name, buyer_gstin_ct, buyer_state, buyer_address_ct) =
            invoices::buyer_columns(cx, buyer.as_ref(), invoice_id, tax.total.paise())?;
        // Numbered inside the write transaction: see `series`.
        let (n, number) = series::take_next(cx, series::Kind::Invoice, fy)?;
        let lines = cart
            .lines
            .iter()
            .zip(&tax.lines)
            .zip(&p.inputs)
            .map(|((l, t), input)| {
                let row = InvoiceLineRow {
                    id: Uuid::now_v7(),
                    invoice_id,
                    line_no: l.line_no,
                    product_id: l.product_id.unwrap_or_default(),
                    sku: l.sku.clone().unwrap_or_default(),
                    description: l.description.clone(),
                    hsn: l.hsn.clone(),
                    unit: l.unit.clone().unwrap_or_else(|| "pcs".into()),
                    quantity: l.quantity,
                    unit_price_paise: l.unit_price_paise,
                    price_basis: catalogue::basis_text(
                        l.price_basis.unwrap_or(PriceBasis::Inclusive),
                    )
                    .into(),
                    // The rates applied, which the product's may not be (composition).
                    gst_rate_bp: input.gst_rate_bp,
                    cess_rate_bp: input.cess_rate_bp,
                    gross_paise: t.gross.paise(),
                    line_discount_paise: t.line_discount.paise(),
                    bill_discount_paise: t.bill_discount.paise(),
                    taxable_paise: t.taxable.paise(),
                    cgst_paise: t.cgst.paise(),
                    sgst_paise: t.sgst.paise(),
                    igst_paise: t.igst.paise(),
                    cess_paise: t.cess.paise(),
                    total_paise: t.total.paise(),
                };
                (row, l.imeis.clone())
            })
            .collect();
        let payments = pays
            .iter()
            .map(|p| {
                let id = Uuid::now_v7();
                let reference_ct = p
                    .reference
                    .as_deref()
                    .map(|r| cx.cipher().encrypt_text("payment", "reference_ct", id, r))
                    .transpose()?;
                Ok(PaymentRow {
                    id,
                    invoice_id,
                    mode: p.mode.into(),
                    amount_paise: p.amount,
                    tendered_paise: p.tendered,
                    change_paise: p.change,
                    reference_ct,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let row = InvoiceRow {
            id: invoice_id,
            tenant_id: cx.tenant_id(),
            device_id: cx.device_id(),
            number: number.as_str().to_owned(),
            fy: fy.start_year(),
            number_in_year: n,
            doc_kind: invoices::kind_text(p.doc_kind).into(),
            issued_at_ms: cx.now(),
            seat_id: cx.seat_id(),
            customer_id: terms.customer_id,
            supply: invoices::supply_text(p.supply).into(),
            place_of_supply: p.place,
            declaration: p.declaration.map(str::to_owned),
            supplier_name: p.shop.name.clone(),
            supplier_gstin: p.supplier_gstin.clone(),
            supplier_state: p.shop_state,
            supplier_address: p.shop.address.clone(),
            bill_discount_paise: tax.lines.iter().map(|l| l.bill_discount.paise()).sum(),
            taxable_paise: tax.taxable.paise(),
            cgst_paise: tax.cgst.paise(),
            sgst_paise: tax.sgst.paise(),
            igst_paise: tax.igst.paise(),
            cess_paise: tax.cess.paise(),
            subtotal_paise: tax.subtotal.paise(),
            round_off_paise: tax.round_off.paise(),
            total_paise: tax.total.paise(),
            buyer_name,
            buyer_gstin_ct,
            buyer_state,
            buyer_address_ct,
        };
        invoices::issue(
            cx,
            &NewInvoice {
                row,
                lines,
                payments,
            },
        )?;
        // Stock counts follow sales.
        for l in &cart.lines {
            if let Some(p) = l.product_id {
                catalogue::move_stock(cx, p, -l.quantity)?;
            }
        }
        let on_credit: i64 = pays
            .iter()
            .filter(|p| p.mode == "credit")
            .map(|p| p.amount)
            .sum();
        if let (true, Some(customer)) = (on_credit > 0, terms.customer_id) {
            ledger::credit_sale(cx, customer, on_credit, invoice_id)?;
        }
        let summary = super::summary(cx, &cart)?;
        cx.note(format!("sale/{}", cart.cart_id), summary);
        super::remove(cx, &cart)?;
        tracing::info!(invoice = %invoice_id, "invoice finalized");
        invoices::load(cx, invoice_id)
    }
}
