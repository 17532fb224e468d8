//! Finalizing a sale: the cart's catalogue lines are taxed (`galla-domain::gst`), IMEIs checked,
//! payments recorded, and the invoice numbered in this terminal's series for the financial year,
//! all in one write-path transaction. A finalized invoice is a fact: triggers refuse any update
//! or delete (returns will be credit notes).

use galla_domain::fiscal::{DocumentNumber, FinancialYear};
use galla_domain::gst::{self, Discount, DocumentKind, LineInput, Supply};
use galla_domain::{Imei, Money, PriceBasis};
use rusqlite::OptionalExtension;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::carts::Cart;
use crate::error::{Error, InputError, Result};
use crate::ops::Op;
use crate::sessions::SessionToken;
use crate::store::Store;
use crate::terminal::Terminal;
use crate::write::Operation;

/// How a product is named when it is rung up.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ProductRef {
    Barcode(String),
    Sku(String),
    Id(Uuid),
}

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

/// The terms of a sale besides payment: who buys, where the goods go, the bill discount. The
/// sale (cart) keeps the ones the till last set ([`Terminal::set_sale_terms`]), so a held sale
/// resumes with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SaleTerms {
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
}

/// The sale priced before payment, exactly as finalize will price it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Quote {
    pub doc_kind: DocumentKind,
    pub supply: Supply,
    pub place_of_supply: u8,
    /// In the cart's order.
    pub lines: Vec<QuoteLine>,
    pub taxable_paise: i64,
    pub cgst_paise: i64,
    pub sgst_paise: i64,
    pub igst_paise: i64,
    pub cess_paise: i64,
    pub bill_discount_paise: i64,
    pub subtotal_paise: i64,
    pub round_off_paise: i64,
    /// What the customer pays.
    pub total_paise: i64,
    /// What still stops the sale being finalized, in words for the clerk (empty: ready).
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QuoteLine {
    pub line_id: Uuid,
    pub gst_rate_bp: u32,
    pub discount_paise: i64,
    pub taxable_paise: i64,
    pub tax_paise: i64,
    pub total_paise: i64,
}

struct Priced {
    shop: crate::shop::TaxSettings,
    shop_state: u8,
    supplier_gstin: Option<String>,
    place: u8,
    supply: Supply,
    tax: gst::BillTax,
    doc_kind: DocumentKind,
    declaration: Option<&'static str>,
    /// What each line is taxed on (the day's schedule, or 0 for composition).
    inputs: Vec<LineInput>,
    problems: Vec<String>,
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

fn conflict(msg: impl Into<String>) -> Error {
    InputError::Conflict(msg.into()).into()
}

fn rejected(field: &'static str, reason: impl Into<String>) -> Error {
    InputError::Rejected {
        field,
        reason: reason.into(),
    }
    .into()
}

/// A reference a clerk types for UPI or card: 4-64 characters, and never something that looks
/// like a card number (13-19 digits passing the Luhn check), which Galla must not store.
pub(crate) fn payment_reference(reference: &str) -> Result<String> {
    let r = reference.trim();
    if !(4..=64).contains(&r.chars().count()) {
        return Err(rejected("reference", "must be 4 to 64 characters"));
    }
    let digits: Vec<u8> = r
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_digit(10).map(|d| d as u8))
        .collect::<Option<_>>()
        .unwrap_or_default();
    if (13..=19).contains(&digits.len())
        && galla_domain::codes::luhn_check_digit(&digits[..digits.len() - 1])
            == digits[digits.len() - 1]
    {
        return Err(rejected(
            "reference",
            "looks like a card number: enter the approval or transaction reference instead",
        ));
    }
    Ok(r.to_owned())
}

/// Adds `delta` to a product's stock count, when it keeps one.
pub(crate) fn move_stock(
    uow: &mut crate::write::UnitOfWork<'_>,
    product: Uuid,
    delta: i64,
) -> Result<()> {
    let stock: Option<Option<i64>> = uow
        .conn()
        .query_row(
            "SELECT stock FROM product WHERE id = ?",
            [product.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(Some(n)) = stock {
        uow.update(
            "product",
            &product.to_string(),
            &[("stock", Value::Integer(n + delta))],
        )?;
    }
    Ok(())
}

/// Whether an IMEI may be sold: every time it was sold, it came back on a credit note.
pub(crate) fn imei_in_stock(
    conn: &rusqlite::Connection,
    tenant_id: Uuid,
    imei: &str,
) -> Result<bool> {
    let out: i64 = conn
        .prepare_cached(
            "SELECT (SELECT count(*) FROM invoice_imei WHERE tenant_id = ?1 AND imei = ?2) \
                  - (SELECT count(*) FROM credit_note_imei WHERE tenant_id = ?1 AND imei = ?2)",
        )?
        .query_row(rusqlite::params![tenant_id.to_string(), imei], |r| r.get(0))?;
    Ok(out <= 0)
}

fn supply_text(s: Supply) -> &'static str {
    match s {
        Supply::IntraState => "intra_state",
        Supply::IntraUnionTerritory => "intra_union_territory",
        Supply::InterState => "inter_state",
    }
}

fn kind_text(k: DocumentKind) -> &'static str {
    match k {
        DocumentKind::TaxInvoice => "tax_invoice",
        DocumentKind::BillOfSupply => "bill_of_supply",
        DocumentKind::InvoiceCumBillOfSupply => "invoice_cum_bill_of_supply",
    }
}

impl Terminal {
    /// Rings up a catalogue product: its price, rates and HSN are copied onto the line, and a
    /// serialized product asks for its IMEIs.
    pub fn add_product_to_cart(
        &self,
        token: &SessionToken,
        product: &ProductRef,
        quantity: u32,
    ) -> Result<Cart> {
        if !(1..=100_000).contains(&quantity) {
            return Err(rejected(
                "quantity",
                "must be a whole number from 1 to 100,000",
            ));
        }
        let found = match product {
            ProductRef::Barcode(b) => self.product_by_barcode(token, b)?,
            ProductRef::Sku(s) => self.product_by_sku(token, s)?,
            ProductRef::Id(id) => self.product_by_id(token, *id)?,
        };
        let p = found.ok_or_else(|| Error::NotFound("no such product in the catalogue".into()))?;
        let cart = self.open_cart(token)?;
        let (auth, mut store) = self.authorize(token, Op::AddCartLine)?;
        if cart.lines.len() >= 500 {
            return Err(conflict("a sale holds at most 500 lines"));
        }
        let line_no = cart.lines.last().map_or(1, |l| l.line_no + 1);
        let line_id = Uuid::now_v7();
        let required = if p.serialized {
            i64::from(quantity) * i64::from(p.imeis_per_unit)
        } else {
            0
        };
        let basis = crate::catalogue::basis_text(p.price_basis);
        let (signer, now) = (self.signer(), auth.now);
        let op = Operation {
            action: "cart.add_line",
            entity_type: "cart",
            entity_id: cart.cart_id.to_string(),
        };
        store.write(&signer, self.clock.as_ref(), &auth.actor, op, |uow| {
            uow.insert(
                "cart_line",
                &line_id.to_string(),
                &[
                    ("id", Value::Text(line_id.to_string())),
                    ("cart_id", Value::Text(cart.cart_id.to_string())),
                    ("line_no", Value::Integer(line_no)),
                    ("description", Value::Text(p.name.clone())),
                    ("quantity", Value::Integer(quantity.into())),
                    ("unit_price_paise", Value::Integer(p.price_paise)),
                    ("product_id", Value::Text(p.id.to_string())),
                    ("sku", Value::Text(p.sku.clone())),
                    ("hsn", p.hsn.clone().map_or(Value::Null, Value::Text)),
                    ("unit", Value::Text(p.unit.clone())),
                    ("price_basis", Value::Text(basis.into())),
                    ("gst_rate_bp", Value::Integer(p.gst_rate_bp.into())),
                    ("cess_rate_bp", Value::Integer(p.cess_rate_bp.into())),
                    ("imeis_required", Value::Integer(required)),
                ],
            )?;
            crate::carts::touch_cart(uow, cart.cart_id, now)
        })?;
        self.load_cart(&store, cart.cart_id)
    }

    /// Records the IMEIs of a serialized line: each valid (15 digits, Luhn), none twice in the
    /// sale, none already sold, and no more than the line needs.
    pub fn set_line_imeis(
        &self,
        token: &SessionToken,
        line_id: Uuid,
        imeis: &[String],
    ) -> Result<Cart> {
        let parsed: Vec<Imei> = imeis
            .iter()
            .map(|i| Imei::parse(i).map_err(|e| rejected("imei", e.to_string())))
            .collect::<Result<_>>()?;
        let (auth, mut store) = self.authorize(token, Op::AddCartLine)?;
        let cart = self.own_open_cart(&store, auth.cart)?;
        let line = cart
            .lines
            .iter()
            .find(|l| l.line_id == line_id)
            .ok_or_else(|| Error::NotFound(format!("line {line_id} in this sale")))?;
        if parsed.len() as i64 > line.imeis_required {
            return Err(rejected(
                "imei",
                format!(
                    "line {} takes {} IMEI(s)",
                    line.line_no, line.imeis_required
                ),
            ));
        }
        let mut seen: Vec<&str> = cart
            .lines
            .iter()
            .filter(|l| l.line_id != line_id)
            .flat_map(|l| l.imeis.iter().map(String::as_str))
            .collect();
        for i in &parsed {
            if seen.contains(&i.as_str()) {
                return Err(conflict(format!("IMEI {i} is already in this sale")));
            }
            seen.push(i.as_str());
            self.refuse_sold_imei(&store, i)?;
        }
        let list: Vec<&str> = parsed.iter().map(Imei::as_str).collect();
        let json = serde_json::to_string(&list).map_err(|e| Error::Storage(e.to_string()))?;
        let (signer, now) = (self.signer(), auth.now);
        let op = Operation {
            action: "cart.set_imeis",
            entity_type: "cart",
            entity_id: cart.cart_id.to_string(),
        };
        store.write(&signer, self.clock.as_ref(), &auth.actor, op, |uow| {
            uow.update(
                "cart_line",
                &line_id.to_string(),
                &[("imeis", Value::Text(json))],
            )?;
            crate::carts::touch_cart(uow, cart.cart_id, now)
        })?;
        self.load_cart(&store, cart.cart_id)
    }

    fn refuse_sold_imei(&self, store: &Store, imei: &Imei) -> Result<()> {
        if imei_in_stock(store.reader(), self.tenant_id, imei.as_str())? {
            return Ok(());
        }
        let number: String = store.reader().query_row(
            "SELECT i.number FROM invoice_imei m JOIN invoice i ON i.id = m.invoice_id \
             WHERE m.tenant_id = ? AND m.imei = ? ORDER BY i.issued_at_ms DESC LIMIT 1",
            rusqlite::params![self.tenant_id.to_string(), imei.as_str()],
            |r| r.get(0),
        )?;
        Err(conflict(format!(
            "IMEI {imei} was already sold on invoice {number} and has not been returned"
        )))
    }

    /// Prices the session's sale as finalize will: the shop's settings, the buyer, the place of
    /// supply, the rate schedule of the IST day, the seat's discount limit. What would still
    /// stop the sale being finalized (IMEIs missing, HSN too short) is listed in `problems`
    /// rather than refused, so the till can show the total while the sale is being made.
    fn price(
        &self,
        store: &Store,
        auth: &crate::sessions::Authorized,
        cart: &Cart,
        terms: &SaleTerms,
    ) -> Result<Priced> {
        let shop = crate::shop::tax_settings(store.reader(), self.tenant_id)?;
        let Some(shop_state) = shop.state_code else {
            return Err(conflict(
                "the shop has no state: enter its GSTIN or state in the settings before billing",
            ));
        };
        let supplier_gstin = self.shop_gstin(&shop)?;
        // (registered buyer, the customer's state)
        let buyer: Option<(bool, Option<u8>)> = match terms.customer_id {
            None => None,
            Some(c) => Some(
                store
                    .reader()
                    .query_row(
                        "SELECT gstin_bidx IS NOT NULL, state_code FROM customer \
                         WHERE tenant_id = ? AND id = ?",
                        [self.tenant_id.to_string(), c.to_string()],
                        |r| Ok((r.get::<_, bool>(0)?, r.get::<_, Option<i64>>(1)?)),
                    )
                    .optional()?
                    .map(|(reg, st)| (reg, st.and_then(|s| u8::try_from(s).ok())))
                    .ok_or_else(|| Error::NotFound(format!("customer {c}")))?,
            ),
        };
        let buyer_registered = buyer.is_some_and(|(reg, _)| reg);
        // Place of supply (IGST Act s. 10): over the counter it is the shop; goods sent to the
        // customer go to the customer's state, or wherever the clerk says they are delivered.
        let shipped_to = if terms.ship_to_customer {
            match buyer {
                None => return Err(rejected("ship_to_customer", "attach the customer first")),
                Some((_, None)) => {
                    return Err(rejected(
                        "ship_to_customer",
                        "the customer has no state on file: add it, or give the place of supply",
                    ));
                }
                Some((_, Some(st))) => Some(st),
            }
        } else {
            None
        };
        if let Some(pos) = terms.place_of_supply {
            crate::error::state_code("place_of_supply", Some(pos))?;
        }
        let delivered_to = match (terms.place_of_supply, shipped_to) {
            (Some(a), Some(b)) if a != b => {
                return Err(rejected(
                    "place_of_supply",
                    format!("state {a:02} differs from the customer's state {b:02}: give one"),
                ));
            }
            (a, b) => a.or(b),
        };
        if shop.composition && delivered_to.is_some_and(|p| p != shop_state) {
            return Err(rejected(
                "place_of_supply",
                "a composition dealer may not supply to another state (CGST s. 10(2)(d))",
            ));
        }
        let place = delivered_to.unwrap_or(shop_state);
        let supply = Supply::for_sale(shop_state, delivered_to, delivered_to.is_none());
        let hsn_digits = shop.turnover_band.hsn_digits_required(buyer_registered);
        let today = galla_domain::fiscal::ist_date(auth.now)
            .map_err(|e| Error::Storage(format!("the clock: {e}")))?;

        let mut problems = Vec::new();
        let mut inputs = Vec::with_capacity(cart.lines.len());
        for l in &cart.lines {
            let (Some(_), Some(basis), Some(rate)) = (&l.product_id, l.price_basis, l.gst_rate_bp)
            else {
                return Err(conflict(format!(
                    "line {} ({}) is not a catalogue product: remove it or ring up the product",
                    l.line_no, l.description
                )));
            };
            if (l.imeis.len() as i64) != l.imeis_required {
                problems.push(format!(
                    "line {} ({}) needs {} IMEI(s), {} given",
                    l.line_no,
                    l.description,
                    l.imeis_required,
                    l.imeis.len()
                ));
            }
            if let Err(e) =
                galla_domain::fiscal::check_hsn(l.hsn.as_deref().unwrap_or(""), hsn_digits)
            {
                problems.push(format!(
                    "line {} ({}): {e}; add it to the product in the catalogue",
                    l.line_no, l.description
                ));
            }
            // A composition dealer collects no tax: the price is the whole amount. Otherwise
            // the rate schedule in force today wins over the catalogue's copy of the rate.
            let (gst_rate_bp, cess_rate_bp) = if shop.composition {
                (0, 0)
            } else {
                l.hsn
                    .as_deref()
                    .and_then(|h| self.rates.rate_for(h, today))
                    .map_or((rate, l.cess_rate_bp.unwrap_or(0)), |r| {
                        (r.gst_rate_bp, r.cess_rate_bp)
                    })
            };
            inputs.push(LineInput {
                quantity: u32::try_from(l.quantity)
                    .map_err(|_| Error::Storage("quantity".into()))?,
                unit_price: Money::from_paise(l.unit_price_paise),
                basis,
                discount: Discount::Percent(l.discount_bp),
                gst_rate_bp,
                cess_rate_bp,
            });
        }
        let tax = gst::compute(&inputs, terms.bill_discount, supply)
            .map_err(|e| rejected("bill", e.to_string()))?;
        let doc_kind = DocumentKind::for_sale(shop.composition, &inputs, buyer_registered);
        let declaration = shop
            .composition
            .then_some(DocumentKind::COMPOSITION_DECLARATION);
        // The bill discount is a discount like any other: within the seat's limit, judged on
        // what the lines cost after their own discounts.
        let bill_bp = match terms.bill_discount {
            Discount::None => 0,
            Discount::Percent(bp) => bp,
            Discount::Amount(m) => {
                let before: i64 = tax
                    .lines
                    .iter()
                    .map(|l| l.gross.paise() - l.line_discount.paise())
                    .sum();
                if before > 0 {
                    // Rounded up: a discount a hair over the limit is over the limit.
                    let b = i128::from(before);
                    u32::try_from((i128::from(m.paise()) * 10_000 + b - 1) / b).unwrap_or(u32::MAX)
                } else {
                    0
                }
            }
        };
        if !auth.access.allows_discount_bp(bill_bp) {
            return Err(Error::DiscountAboveLimit {
                asked_bp: bill_bp,
                limit_bp: auth.access.discount_limit_bp(),
            });
        }
        Ok(Priced {
            shop,
            shop_state,
            supplier_gstin,
            place,
            supply,
            tax,
            doc_kind,
            declaration,
            inputs,
            problems,
        })
    }

    /// Sets the session's sale's terms: the customer, where the goods go and the bill discount.
    /// They are checked as a quote checks them (the customer exists, the place of supply is a
    /// state, the discount is within the seat's limit), kept with the sale and audited, so a
    /// held sale resumes with them and whoever resumes it sees what was agreed.
    pub fn set_sale_terms(&self, token: &SessionToken, terms: &SaleTerms) -> Result<Cart> {
        let (auth, mut store) = self.authorize(token, Op::SetSaleTerms)?;
        let cart = self.own_open_cart(&store, auth.cart)?;
        if cart.terms == *terms {
            return Ok(cart);
        }
        if let Discount::Percent(bp) = terms.bill_discount
            && !(1..=10_000).contains(&bp)
        {
            return Err(rejected(
                "bill_discount",
                "a percentage discount is more than 0% and at most 100%",
            ));
        }
        if let Discount::Amount(m) = terms.bill_discount
            && m.paise() < 1
        {
            return Err(rejected("bill_discount", "an amount off is more than ₹0"));
        }
        self.price(&store, &auth, &cart, terms)?;
        let (bp, paise) = match terms.bill_discount {
            Discount::None => (Value::Null, Value::Null),
            Discount::Percent(bp) => (Value::Integer(bp.into()), Value::Null),
            Discount::Amount(m) => (Value::Null, Value::Integer(m.paise())),
        };
        let fields = [
            (
                "customer_id",
                terms
                    .customer_id
                    .map_or(Value::Null, |c| Value::Text(c.to_string())),
            ),
            (
                "place_of_supply",
                terms
                    .place_of_supply
                    .map_or(Value::Null, |p| Value::Integer(p.into())),
            ),
            (
                "ship_to_customer",
                Value::Integer(terms.ship_to_customer.into()),
            ),
            ("bill_discount_bp", bp),
            ("bill_discount_paise", paise),
            ("updated_at_ms", Value::Integer(auth.now)),
        ];
        let signer = self.signer();
        store.write(
            &signer,
            self.clock.as_ref(),
            &auth.actor,
            Operation {
                action: "cart.terms",
                entity_type: "cart",
                entity_id: cart.cart_id.to_string(),
            },
            |uow| uow.update("cart", &cart.cart_id.to_string(), &fields),
        )?;
        self.load_cart(&store, cart.cart_id)
    }

    /// The session's sale priced as finalize would price it now, for the till to show. An
    /// empty sale is quoted as zero.
    pub fn quote_cart(&self, token: &SessionToken, terms: &SaleTerms) -> Result<Quote> {
        let (auth, store) = self.authorize(token, Op::QuoteCart)?;
        let cart = self.own_open_cart(&store, auth.cart)?;
        let p = self.price(&store, &auth, &cart, terms)?;
        let lines = cart
            .lines
            .iter()
            .zip(p.tax.lines.iter().zip(&p.inputs))
            .map(|(l, (t, input))| QuoteLine {
                line_id: l.line_id,
                gst_rate_bp: input.gst_rate_bp,
                discount_paise: t.line_discount.paise() + t.bill_discount.paise(),
                taxable_paise: t.taxable.paise(),
                tax_paise: t.tax().paise(),
                total_paise: t.total.paise(),
            })
            .collect();
        Ok(Quote {
            doc_kind: p.doc_kind,
            supply: p.supply,
            place_of_supply: p.place,
            lines,
            taxable_paise: p.tax.taxable.paise(),
            cgst_paise: p.tax.cgst.paise(),
            sgst_paise: p.tax.sgst.paise(),
            igst_paise: p.tax.igst.paise(),
            cess_paise: p.tax.cess.paise(),
            bill_discount_paise: p.tax.lines.iter().map(|l| l.bill_discount.paise()).sum(),
            subtotal_paise: p.tax.subtotal.paise(),
            round_off_paise: p.tax.round_off.paise(),
            total_paise: p.tax.total.paise(),
            problems: p.problems,
        })
    }

    pub fn finalize(&self, token: &SessionToken, req: &FinalizeRequest) -> Result<Invoice> {
        if req.payments.is_empty() {
            return Err(rejected("payments", "say how the customer paid"));
        }
        if req.payments.len() > 8 {
            return Err(rejected("payments", "at most 8 payments per bill"));
        }
        let (auth, mut store) = self.authorize(token, Op::Finalize)?;
        let cart = self.own_open_cart(&store, auth.cart)?;
        if cart.lines.is_empty() {
            return Err(conflict("the sale is empty"));
        }
        let Priced {
            shop,
            shop_state,
            supplier_gstin,
            place,
            supply,
            tax,
            doc_kind,
            declaration,
            inputs,
            problems,
        } = self.price(&store, &auth, &cart, &req.terms())?;
        if let Some(first) = problems.into_iter().next() {
            return Err(conflict(first));
        }

        // Payments must cover the total exactly; cash may be tendered with change.
        struct Pay {
            mode: &'static str,
            amount: i64,
            tendered: Option<i64>,
            change: Option<i64>,
            reference: Option<String>,
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
            FinancialYear::of_unix_ms(auth.now).map_err(|e| rejected("time", e.to_string()))?;
        let invoice_id = Uuid::now_v7();
        // The buyer as the bill names them, copied now (Rule 46(e); schema 19).
        let buyer_customer = match req.customer_id {
            Some(c) => self
                .customers_where(&store, "id = ?2", c.to_string())?
                .pop(),
            None => None,
        };
        let buyer_columns = crate::receipt::buyer_columns(
            &self.cipher,
            buyer_customer.as_ref(),
            invoice_id,
            tax.total.paise(),
        )?;
        let (signer, tenant_id, device_id, now, seat) = (
            self.signer(),
            self.tenant_id,
            self.device_id,
            auth.now,
            auth.seat_id,
        );
        let op = Operation {
            action: "invoice.finalize",
            entity_type: "invoice",
            entity_id: invoice_id.to_string(),
        };
        let text = |s: &str| Value::Text(s.to_owned());
        let int = Value::Integer;
        store.write(&signer, self.clock.as_ref(), &auth.actor, op, |uow| {
            // Settings read before the transaction must still hold inside it.
            if crate::shop::tax_settings(uow.conn(), tenant_id)? != shop {
                return Err(conflict(
                    "the shop's settings changed while this bill was made: finalize again",
                ));
            }
            // Numbered inside the write transaction: see `series`.
            let (n, number) = crate::series::Series {
                tenant_id,
                device_id,
                kind: "invoice",
                fy,
                code: &self.series_code,
            }
            .take_next(uow)?;
            // The IMEIs were checked when captured; none may have been sold since (here, on
            // another connection, or in another session).
            for l in &cart.lines {
                for i in &l.imeis {
                    if !imei_in_stock(uow.conn(), tenant_id, i)? {
                        return Err(conflict(format!(
                            "IMEI {i} has been sold since it was captured: remove it from the sale"
                        )));
                    }
                }
            }
            let invoice_row = [
                ("id", text(&invoice_id.to_string())),
                ("tenant_id", text(&tenant_id.to_string())),
                ("device_id", text(&device_id.to_string())),
                ("number", text(number.as_str())),
                ("fy", int(fy.start_year().into())),
                ("number_in_year", int(n)),
                ("doc_kind", text(kind_text(doc_kind))),
                ("issued_at_ms", int(now)),
                ("seat_id", text(&seat.to_string())),
                (
                    "customer_id",
                    req.customer_id
                        .map_or(Value::Null, |c| text(&c.to_string())),
                ),
                ("supply", text(supply_text(supply))),
                ("place_of_supply", int(place.into())),
                ("declaration", declaration.map_or(Value::Null, text)),
                ("supplier_name", text(&shop.name)),
                (
                    "supplier_gstin",
                    supplier_gstin.as_deref().map_or(Value::Null, text),
                ),
                ("supplier_state", int(shop_state.into())),
                (
                    "supplier_address",
                    shop.address.as_deref().map_or(Value::Null, text),
                ),
                (
                    "bill_discount_paise",
                    int(tax.lines.iter().map(|l| l.bill_discount.paise()).sum()),
                ),
                ("taxable_paise", int(tax.taxable.paise())),
                ("cgst_paise", int(tax.cgst.paise())),
                ("sgst_paise", int(tax.sgst.paise())),
                ("igst_paise", int(tax.igst.paise())),
                ("cess_paise", int(tax.cess.paise())),
                ("subtotal_paise", int(tax.subtotal.paise())),
                ("round_off_paise", int(tax.round_off.paise())),
                ("total_paise", int(tax.total.paise())),
            ];
            uow.insert(
                "invoice",
                &invoice_id.to_string(),
                &[&invoice_row[..], &buyer_columns[..]].concat(),
            )?;
            // Stock counts follow sales. A count may go below zero: a till never refuses a sale
            // because a count was wrong; the owner sees it and corrects the count.
            for l in &cart.lines {
                if let Some(p) = l.product_id {
                    move_stock(uow, p, -l.quantity)?;
                }
            }
            for ((l, t), input) in cart.lines.iter().zip(&tax.lines).zip(&inputs) {
                let lid = Uuid::now_v7();
                uow.insert(
                    "invoice_line",
                    &lid.to_string(),
                    &[
                        ("id", text(&lid.to_string())),
                        ("invoice_id", text(&invoice_id.to_string())),
                        ("line_no", int(l.line_no)),
                        (
                            "product_id",
                            text(&l.product_id.map(|p| p.to_string()).unwrap_or_default()),
                        ),
                        ("sku", text(l.sku.as_deref().unwrap_or_default())),
                        ("description", text(&l.description)),
                        ("hsn", l.hsn.clone().map_or(Value::Null, Value::Text)),
                        ("unit", text(l.unit.as_deref().unwrap_or("pcs"))),
                        ("quantity", int(l.quantity)),
                        ("unit_price_paise", int(l.unit_price_paise)),
                        (
                            "price_basis",
                            text(crate::catalogue::basis_text(
                                l.price_basis.unwrap_or(PriceBasis::Inclusive),
                            )),
                        ),
                        // The rates applied, which the product's may not be (composition).
                        ("gst_rate_bp", int(input.gst_rate_bp.into())),
                        ("cess_rate_bp", int(input.cess_rate_bp.into())),
                        ("gross_paise", int(t.gross.paise())),
                        ("line_discount_paise", int(t.line_discount.paise())),
                        ("bill_discount_paise", int(t.bill_discount.paise())),
                        ("taxable_paise", int(t.taxable.paise())),
                        ("cgst_paise", int(t.cgst.paise())),
                        ("sgst_paise", int(t.sgst.paise())),
                        ("igst_paise", int(t.igst.paise())),
                        ("cess_paise", int(t.cess.paise())),
                        ("total_paise", int(t.total.paise())),
                    ],
                )?;
                for imei in &l.imeis {
                    let mid = Uuid::now_v7();
                    uow.insert(
                        "invoice_imei",
                        &mid.to_string(),
                        &[
                            ("id", text(&mid.to_string())),
                            ("tenant_id", text(&tenant_id.to_string())),
                            ("invoice_id", text(&invoice_id.to_string())),
                            ("line_id", text(&lid.to_string())),
                            ("imei", text(imei)),
                        ],
                    )?;
                }
            }
            for p in &pays {
                let pid = Uuid::now_v7();
                let reference = p
                    .reference
                    .as_deref()
                    .map(|r| self.cipher.encrypt_text("payment", "reference_ct", pid, r))
                    .transpose()?;
                uow.insert(
                    "payment",
                    &pid.to_string(),
                    &[
                        ("id", text(&pid.to_string())),
                        ("invoice_id", text(&invoice_id.to_string())),
                        ("mode", text(p.mode)),
                        ("amount_paise", int(p.amount)),
                        ("tendered_paise", p.tendered.map_or(Value::Null, int)),
                        ("change_paise", p.change.map_or(Value::Null, int)),
                        ("reference_ct", reference.map_or(Value::Null, Value::Blob)),
                    ],
                )?;
            }
            let on_credit: i64 = pays
                .iter()
                .filter(|p| p.mode == "credit")
                .map(|p| p.amount)
                .sum();
            if let (true, Some(customer)) = (on_credit > 0, req.customer_id) {
                let (balance, limit) =
                    crate::ledger::balance_and_limit(uow.conn(), tenant_id, customer)?;
                let after = balance + on_credit;
                let over = after > limit.unwrap_or(0);
                if over
                    && !auth
                        .access
                        .allows(galla_domain::Permission::CreditBeyondLimit)
                {
                    return Err(Error::CreditLimit {
                        limit: Money::from_paise(limit.unwrap_or(0)),
                        balance_after: Money::from_paise(after),
                    });
                }
                crate::ledger::insert_entry(
                    uow,
                    (tenant_id, device_id),
                    customer,
                    seat,
                    now,
                    Uuid::now_v7(),
                    crate::ledger::NewEntry {
                        kind: "credit_sale",
                        amount: on_credit,
                        invoice_id: Some(&invoice_id.to_string()),
                        credit_note_id: None,
                        mode: None,
                        reference_ct: None,
                        over_limit: over,
                    },
                )?;
            }
            for l in &cart.lines {
                uow.delete("cart_line", &l.line_id.to_string())?;
            }
            uow.delete("cart", &cart.cart_id.to_string())
        })?;
        self.set_session_cart(auth.key, None);
        tracing::info!(invoice = %invoice_id, "invoice finalized");
        self.load_invoice(&store, invoice_id)
    }

    pub(crate) fn load_invoice(&self, store: &Store, id: Uuid) -> Result<Invoice> {
        let conn = store.reader();
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
            .query_row([self.tenant_id.to_string(), id.to_string()], |r| {
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
            "SELECT mode, amount_paise, tendered_paise, change_paise FROM payment WHERE invoice_id = ? ORDER BY rowid",
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

    /// An invoice by its number (`T1/25-26/000123`).
    pub fn invoice_by_number(&self, token: &SessionToken, number: &str) -> Result<Invoice> {
        let number =
            DocumentNumber::parse(number).map_err(|e| rejected("number", e.to_string()))?;
        let (_auth, store) = self.authorize(token, Op::ViewInvoices)?;
        let id = self.invoice_id(&store, &number)?;
        self.load_invoice(&store, id)
    }

    /// The id of this shop's invoice with that number.
    pub(crate) fn invoice_id(&self, store: &Store, number: &DocumentNumber) -> Result<Uuid> {
        let id: String = store
            .reader()
            .prepare_cached("SELECT id FROM invoice WHERE tenant_id = ? AND number = ?")?
            .query_row(
                [self.tenant_id.to_string(), number.as_str().to_owned()],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("invoice {number}")))?;
        Uuid::parse_str(&id).map_err(|_| Error::DatabaseDamaged {
            detail: "invoice id".into(),
        })
    }

    /// The invoices screen's search: an invoice number, an IMEI sold, or a customer (exact
    /// phone or name words, for seats that may see customers); nothing typed lists the latest.
    /// Newest first, at most `limit` (1 to 200).
    pub fn find_invoices(
        &self,
        token: &SessionToken,
        typed: &str,
        limit: usize,
    ) -> Result<Vec<InvoiceSummary>> {
        let (auth, store) = self.authorize(token, Op::ViewInvoices)?;
        let typed = typed.trim();
        if typed.chars().count() > 100 {
            return Err(rejected("query", "type at most 100 characters"));
        }
        let limit = limit.clamp(1, 200);
        let mut params: Vec<Value> = vec![Value::Text(self.tenant_id.to_string())];
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
            .filter(|n| self.invoice_id(&store, n).is_ok())
        {
            // A word like "MEENA" is also a well-formed number: it is one only if it exists.
            params.push(Value::Text(n.as_str().to_owned()));
            "i.number = ?2".to_owned()
        } else if auth.access.allows(galla_domain::Permission::ViewCustomers) {
            let ids: Vec<Uuid> = self
                .customers_matching(&store, typed, 20)?
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
        let conn = store.reader();
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

    /// Every invoice that sold this IMEI.
    pub fn invoices_by_imei(&self, token: &SessionToken, imei: &str) -> Result<Vec<Invoice>> {
        let imei = Imei::parse(imei).map_err(|e| rejected("imei", e.to_string()))?;
        let (_auth, store) = self.authorize(token, Op::ViewInvoices)?;
        let ids: Vec<String> = store
            .reader()
            .prepare_cached(
                "SELECT DISTINCT invoice_id FROM invoice_imei WHERE tenant_id = ? AND imei = ?",
            )?
            .query_map(
                [self.tenant_id.to_string(), imei.as_str().to_owned()],
                |r| r.get(0),
            )?
            .collect::<rusqlite::Result<_>>()?;
        ids.iter()
            .map(|i| {
                let id = Uuid::parse_str(i).map_err(|_| Error::DatabaseDamaged {
                    detail: "invoice id".into(),
                })?;
                self.load_invoice(&store, id)
            })
            .collect()
    }
}
