//! Pricing a sale exactly as finalize will price it: the shop's registration (state, turnover
//! band, composition), the buyer, the place of supply (IGST Act s. 10), the rate schedule of
//! the IST day, and the seat's discount limit. What would still stop the sale being finalized
//! (IMEIs missing, an HSN too short) is listed rather than refused, so the till can show the
//! total while the sale is being made.

use galla_domain::Money;
use galla_domain::gst::{self, Discount, DocumentKind, LineInput, Supply};
use rusqlite::OptionalExtension;
use serde::Serialize;
use uuid::Uuid;

use super::{Cart, SaleTerms, conflict, rejected};
use crate::engine::ReadCx;
use crate::error::{Error, Result};
use crate::shop::{self, TaxSettings};

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

/// A sale priced: what finalize writes and a quote shows.
pub(crate) struct Priced {
    pub(crate) shop: TaxSettings,
    pub(crate) shop_state: u8,
    pub(crate) supplier_gstin: Option<String>,
    pub(crate) place: u8,
    pub(crate) supply: Supply,
    pub(crate) tax: gst::BillTax,
    pub(crate) doc_kind: DocumentKind,
    pub(crate) declaration: Option<&'static str>,
    /// What each line is taxed on (the day's schedule, or 0 for composition).
    pub(crate) inputs: Vec<LineInput>,
    pub(crate) problems: Vec<String>,
}

/// Prices `cart` with `terms` for the acting seat, now.
pub(crate) fn price(cx: &ReadCx<'_>, cart: &Cart, terms: &SaleTerms) -> Result<Priced> {
    let shop = shop::tax_settings(cx.conn(), cx.tenant_id())?;
    let Some(shop_state) = shop.state_code else {
        return Err(conflict(
            "the shop has no state: enter its GSTIN or state in the settings before billing",
        ));
    };
    let supplier_gstin = shop::shop_gstin(cx, &shop)?;
    // (registered buyer, the customer's state)
    let buyer: Option<(bool, Option<u8>)> = match terms.customer_id {
        None => None,
        Some(c) => Some(
            cx.conn()
                .prepare_cached(
                    "SELECT gstin_bidx IS NOT NULL, state_code FROM customer \
                     WHERE tenant_id = ? AND id = ?",
                )?
                .query_row([cx.tenant_id().to_string(), c.to_string()], |r| {
                    Ok((r.get::<_, bool>(0)?, r.get::<_, Option<i64>>(1)?))
                })
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
    let today = galla_domain::fiscal::ist_date(cx.now()).map_err(|e| Error::Clock {
        detail: e.to_string(),
    })?;

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
        if let Err(e) = galla_domain::fiscal::check_hsn(l.hsn.as_deref().unwrap_or(""), hsn_digits)
        {
            problems.push(format!(
                "line {} ({}): {e}; add it to the product in the catalogue",
                l.line_no, l.description
            ));
        }
        // A composition dealer collects no tax: the price is the whole amount. Otherwise the
        // rate schedule in force today wins over the catalogue's copy of the rate.
        let (gst_rate_bp, cess_rate_bp) = if shop.composition {
            (0, 0)
        } else {
            l.hsn
                .as_deref()
                .and_then(|h| cx.rates().rate_for(h, today))
                .map_or((rate, l.cess_rate_bp.unwrap_or(0)), |r| {
                    (r.gst_rate_bp, r.cess_rate_bp)
                })
        };
        inputs.push(LineInput {
            quantity: u32::try_from(l.quantity)
                .map_err(|_| rejected("quantity", "a line's quantity is out of range"))?,
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
    // The bill discount is a discount like any other: within the seat's limit, judged on what
    // the lines cost after their own discounts.
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
    if !cx.access().allows_discount_bp(bill_bp) {
        return Err(Error::DiscountAboveLimit {
            asked_bp: bill_bp,
            limit_bp: cx.access().discount_limit_bp(),
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

/// `cart` priced with `terms`, as the till shows it.
pub(crate) fn quote(cx: &ReadCx<'_>, cart: &Cart, terms: &SaleTerms) -> Result<Quote> {
    let p = price(cx, cart, terms)?;
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
