//! A sale: rung up at the till as a cart, held (parked) when its seat steps away, locks, is
//! revoked or switches, resumed by whoever may, priced as it is made ([`price`]), and
//! finalized into an invoice ([`finalize`]).
//!
//! A cart is this terminal's scratch state (`Kept::Scratch` in `galla_proto::tables`): every scan writes
//! it durably, so a held sale survives a crash, but ringing up is not a chain of signed records.
//! The sale is one record, its finalize, which carries what the owner needs of its history
//! (who opened it, who held and resumed it, what was taken off). What an owner looks for on its
//! own stays a record of its own, as a `sale_event` fact: a line taken off after it was rung up
//! (`cart.remove_line`), units taken off a line (`cart.reduce_quantity`), a sale thrown away
//! (`cart.discard`), a price changed from the catalogue's (`cart.price_override`).
//!
//! Tables: `cart`, `cart_line` (scratch), `sale_event`.

pub(crate) mod finalize;
pub(crate) mod price;

use galla_domain::gst::Discount;
use galla_domain::{Money, PriceBasis};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::catalogue::{self, Product};
use crate::engine::{Env, ReadCx, Record, WriteCx};
use crate::error::{Error, InputError, Result, required};
use crate::ops::{Command, Op, Query};
use crate::rows::{set, table};

pub use finalize::{FinalizeRequest, PaymentInput};
pub use price::{Quote, QuoteLine};

const MAX_LINES: usize = 500;
const MAX_QUANTITY: i64 = 100_000;
/// ₹1 crore per unit: anything above is a typing slip, not a price.
const MAX_UNIT_PRICE_PAISE: i64 = 1_000_000_000;
/// The most events a sale's history keeps (holds and resumes); a sale parked more often than
/// this keeps its first and its latest.
const MAX_HISTORY: usize = 64;

table! {
    /// A sale in progress: scratch state of this terminal.
    struct CartRow in "cart", key id {
        id: Uuid,
        tenant_id: Uuid,
        opened_by: Uuid,
        status: String,
        held_reason: Option<String>,
        created_at_ms: i64,
        updated_at_ms: i64,
        customer_id: Option<Uuid>,
        place_of_supply: Option<u8>,
        ship_to_customer: bool,
        bill_discount_bp: Option<u32>,
        bill_discount_paise: Option<i64>,
        history: String,
    }
}

table! {
    /// A line of a sale in progress: scratch state of this terminal.
    struct CartLineRow in "cart_line", key id {
        id: Uuid,
        cart_id: Uuid,
        line_no: i64,
        description: String,
        quantity: i64,
        unit_price_paise: i64,
        discount_bp: u32,
        product_id: Option<Uuid>,
        sku: Option<String>,
        hsn: Option<String>,
        unit: Option<String>,
        price_basis: Option<String>,
        gst_rate_bp: Option<u32>,
        cess_rate_bp: Option<u32>,
        imeis_required: i64,
        imeis: String,
    }
}

table! {
    /// What an owner looks for in a sale, kept as a fact: see the module comment.
    struct SaleEventRow in "sale_event", key id {
        id: Uuid,
        tenant_id: Uuid,
        device_id: Uuid,
        cart_id: Uuid,
        seat_id: Uuid,
        at_ms: i64,
        kind: String,
        line_no: Option<i64>,
        product_id: Option<Uuid>,
        sku: Option<String>,
        description: String,
        quantity: i64,
        unit_price_paise: i64,
        amount_paise: i64,
    }
}

/// How a product is named when it is rung up.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ProductRef {
    Barcode(String),
    Sku(String),
    Id(Uuid),
    /// What the scanner sent or the clerk typed in the code box: a barcode when it is one
    /// and known, else a SKU.
    Code(String),
}

#[derive(Debug, Clone, Deserialize)]
pub struct NewCartLine {
    pub description: String,
    pub quantity: i64,
    pub unit_price_paise: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CartLine {
    pub line_id: Uuid,
    pub line_no: i64,
    pub description: String,
    pub quantity: i64,
    pub unit_price_paise: i64,
    pub discount_bp: u32,
    /// The catalogue product, with its tax data as rung up; `None` for a free-text line.
    pub product_id: Option<Uuid>,
    pub sku: Option<String>,
    pub hsn: Option<String>,
    pub unit: Option<String>,
    pub price_basis: Option<PriceBasis>,
    pub gst_rate_bp: Option<u32>,
    pub cess_rate_bp: Option<u32>,
    /// IMEIs a serialized product needs (units × IMEIs per unit), and those captured.
    pub imeis_required: i64,
    pub imeis: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum CartStatus {
    Open,
    Held,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Cart {
    pub cart_id: Uuid,
    pub opened_by: Uuid,
    pub status: CartStatus,
    pub held_reason: Option<String>,
    pub lines: Vec<CartLine>,
    /// The customer, place of supply and bill discount the till set (empty until it sets them).
    pub terms: SaleTerms,
    pub updated_at_ms: i64,
}

/// The terms of a sale besides payment: who buys, where the goods go, the bill discount. The
/// sale (cart) keeps the ones the till last set, so a held sale resumes with them.
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

/// The sale as the till shows it after each change: the cart and its price, so one call of the
/// till answers a scan. The quote is what finalize would charge now, or why it cannot be
/// priced yet (the shop has no state, the customer is gone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SaleView {
    pub cart: Cart,
    pub quote: Option<Quote>,
    pub quote_problem: Option<String>,
}

/// A change to the session's sale, as the billing screen sends it ([`crate::Terminal::edit_sale`]
/// answers each with the sale and its price).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "edit", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum SaleEdit {
    /// A product rung up by barcode, SKU, id, or the code box's text (opening a sale if none).
    RingUp {
        product: ProductRef,
        quantity: u32,
    },
    SetQuantity {
        line_id: Uuid,
        quantity: i64,
    },
    SetDiscount {
        line_id: Uuid,
        discount_bp: u32,
    },
    SetPrice {
        line_id: Uuid,
        unit_price_paise: i64,
    },
    SetImeis {
        line_id: Uuid,
        imeis: Vec<String>,
    },
    RemoveLine {
        line_id: Uuid,
    },
    SetTerms {
        terms: SaleTerms,
    },
    Hold,
    Resume {
        cart_id: Uuid,
    },
}

/// One entry of a sale's history: who did what to it, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct HistoryEntry {
    at_ms: i64,
    seat_id: Uuid,
    /// `opened`, `held`, `resumed`.
    event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

fn damaged(what: &str) -> Error {
    Error::DatabaseDamaged {
        detail: format!("cart: {what}"),
    }
}

fn rejected(field: &'static str, reason: impl Into<String>) -> Error {
    InputError::Rejected {
        field,
        reason: reason.into(),
    }
    .into()
}

fn conflict(msg: impl Into<String>) -> Error {
    InputError::Conflict(msg.into()).into()
}

/// A cart row's terms (columns 4 to 8 of `load`'s query), `None` if they do not read.
fn sale_terms(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<SaleTerms>> {
    let customer: Option<String> = r.get(4)?;
    let place: Option<i64> = r.get(5)?;
    let ship: bool = r.get(6)?;
    let bp: Option<i64> = r.get(7)?;
    let paise: Option<i64> = r.get(8)?;
    let customer_id = match customer.map(|c| Uuid::parse_str(&c)) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(_)) => return Ok(None),
    };
    let place_of_supply = match place.map(u8::try_from) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(_)) => return Ok(None),
    };
    let bill_discount = match (bp.map(u32::try_from), paise) {
        (None, None) => Discount::None,
        (Some(Ok(bp)), None) => Discount::Percent(bp),
        (None, Some(p)) => Discount::Amount(Money::from_paise(p)),
        _ => return Ok(None),
    };
    Ok(Some(SaleTerms {
        customer_id,
        place_of_supply,
        ship_to_customer: ship,
        bill_discount,
    }))
}

/// A sale of this tenant, or `NotFound`.
pub(crate) fn load(cx: &ReadCx<'_>, cart_id: Uuid) -> Result<Cart> {
    let conn = cx.conn();
    /// opened_by, status, held_reason, updated_at_ms, terms (`None`: they do not read).
    type Head = (String, String, Option<String>, i64, Option<SaleTerms>);
    let head: Option<Head> = conn
        .prepare_cached(
            "SELECT opened_by, status, held_reason, updated_at_ms, customer_id,
                    place_of_supply, ship_to_customer, bill_discount_bp, bill_discount_paise
             FROM cart WHERE tenant_id = ? AND id = ?",
        )?
        .query_row([cx.tenant_id().to_string(), cart_id.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, sale_terms(r)?))
        })
        .optional()?;
    let (opened_by, status, held_reason, updated_at_ms, terms) =
        head.ok_or_else(|| Error::NotFound(format!("sale {cart_id}")))?;
    let terms = terms.ok_or_else(|| damaged("terms"))?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, line_no, description, quantity, unit_price_paise, discount_bp, product_id,
                sku, hsn, unit, price_basis, gst_rate_bp, cess_rate_bp, imeis_required, imeis
         FROM cart_line WHERE cart_id = ? ORDER BY line_no",
    )?;
    let mut rows = stmt.query([cart_id.to_string()])?;
    let mut lines = Vec::new();
    while let Some(r) = rows.next()? {
        let lid: String = r.get(0)?;
        let product: Option<String> = r.get(6)?;
        let basis: Option<String> = r.get(10)?;
        let imeis: String = r.get(14)?;
        lines.push(CartLine {
            line_id: Uuid::parse_str(&lid).map_err(|_| damaged("line id"))?,
            line_no: r.get(1)?,
            description: r.get(2)?,
            quantity: r.get(3)?,
            unit_price_paise: r.get(4)?,
            discount_bp: r.get::<_, i64>(5)?.clamp(0, 10_000) as u32,
            product_id: product
                .map(|p| Uuid::parse_str(&p).map_err(|_| damaged("product id")))
                .transpose()?,
            sku: r.get(7)?,
            hsn: r.get(8)?,
            unit: r.get(9)?,
            price_basis: basis
                .map(|b| catalogue::parse_basis(&b).ok_or_else(|| damaged("price basis")))
                .transpose()?,
            gst_rate_bp: r.get(11)?,
            cess_rate_bp: r.get(12)?,
            imeis_required: r.get(13)?,
            imeis: serde_json::from_str(&imeis).map_err(|_| damaged("imeis"))?,
        });
    }
    Ok(Cart {
        cart_id,
        opened_by: Uuid::parse_str(&opened_by).map_err(|_| damaged("seat id"))?,
        status: match status.as_str() {
            "open" => CartStatus::Open,
            "held" => CartStatus::Held,
            _ => return Err(damaged("status")),
        },
        held_reason,
        lines,
        terms,
        updated_at_ms,
    })
}

fn found(cart: Result<Cart>) -> Result<Option<Cart>> {
    match cart {
        Ok(c) => Ok(Some(c)),
        Err(Error::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The session's sale, if it is open.
fn session_sale(cx: &ReadCx<'_>) -> Result<Option<Cart>> {
    let Some(c) = cx.session_cart() else {
        return Ok(None);
    };
    Ok(found(load(cx, c))?.filter(|c| c.status == CartStatus::Open))
}

/// The session's open sale, or a clear error.
fn own_open_sale(cx: &ReadCx<'_>) -> Result<Cart> {
    session_sale(cx)?.ok_or_else(|| conflict("no sale in progress: start one first"))
}

/// The sale's history as stored.
fn history(cx: &ReadCx<'_>, cart: Uuid) -> Result<Vec<HistoryEntry>> {
    let text: String = cx
        .conn()
        .prepare_cached("SELECT history FROM cart WHERE id = ?")?
        .query_row([cart.to_string()], |r| r.get(0))?;
    serde_json::from_str(&text).map_err(|_| damaged("history"))
}

/// Adds `event` by `seat` to the sale's history (held, resumed), with the status the event
/// leaves it in.
fn record_in_history(
    cx: &mut WriteCx<'_, '_>,
    cart: Uuid,
    seat: Uuid,
    event: &str,
    reason: Option<&str>,
    status: CartStatus,
) -> Result<()> {
    let mut h = history(cx, cart)?;
    if h.len() >= MAX_HISTORY {
        h.remove(1);
    }
    h.push(HistoryEntry {
        at_ms: cx.now(),
        seat_id: seat,
        event: event.to_owned(),
        reason: reason.map(str::to_owned),
    });
    let status = match status {
        CartStatus::Open => "open",
        CartStatus::Held => "held",
    };
    cx.update::<CartRow>(
        &cart.to_string(),
        &[
            set("status", &status),
            set("held_reason", &reason),
            set("history", &crate::error::to_json(&h)?),
            set("updated_at_ms", &cx.now()),
        ],
    )
}

/// Marks a sale as changed now, alongside a change to its lines.
fn touch(cx: &mut WriteCx<'_, '_>, cart: Uuid) -> Result<()> {
    cx.update::<CartRow>(&cart.to_string(), &[set("updated_at_ms", &cx.now())])
}

/// Holds `cart` on behalf of `seat` (its session locked, ended or was revoked), even an empty
/// one, so no sale stays open without a session; one already held or gone is left alone.
pub(crate) fn hold(cx: &mut WriteCx<'_, '_>, cart: Uuid, seat: Uuid, reason: &str) -> Result<()> {
    match found(load(cx, cart))? {
        Some(c) if c.status == CartStatus::Open => {
            record_in_history(cx, cart, seat, "held", Some(reason), CartStatus::Held)
        }
        _ => Ok(()),
    }
}

/// The seat comes back to a sale it was holding: reopened for it if still held (or still
/// open), or `None` if someone else resumed it (or it was discarded) meanwhile.
pub(crate) fn take_back(cx: &mut WriteCx<'_, '_>, cart: Uuid, seat: Uuid) -> Result<Option<Uuid>> {
    match found(load(cx, cart))? {
        Some(c) if c.status == CartStatus::Held => {
            record_in_history(cx, cart, seat, "resumed", None, CartStatus::Open)?;
            Ok(Some(cart))
        }
        Some(_) => Ok(Some(cart)),
        None => Ok(None),
    }
}

/// Opens a sale for the session.
fn open(cx: &mut WriteCx<'_, '_>) -> Result<Cart> {
    let cart_id = Uuid::now_v7();
    let opened = vec![HistoryEntry {
        at_ms: cx.now(),
        seat_id: cx.seat_id(),
        event: "opened".into(),
        reason: None,
    }];
    cx.insert(&CartRow {
        id: cart_id,
        tenant_id: cx.tenant_id(),
        opened_by: cx.seat_id(),
        status: "open".into(),
        held_reason: None,
        created_at_ms: cx.now(),
        updated_at_ms: cx.now(),
        customer_id: None,
        place_of_supply: None,
        ship_to_customer: false,
        bill_discount_bp: None,
        bill_discount_paise: None,
        history: crate::error::to_json(&opened)?,
    })?;
    cx.effects().cart = Some(Some(cart_id));
    load(cx, cart_id)
}

/// The session's open sale, opening one if there is none.
fn open_or_current(cx: &mut WriteCx<'_, '_>) -> Result<Cart> {
    match session_sale(cx)? {
        Some(c) => Ok(c),
        None => open(cx),
    }
}

/// The sale's line `line_id`, or `NotFound`.
fn line(cart: &Cart, line_id: Uuid) -> Result<&CartLine> {
    cart.lines
        .iter()
        .find(|l| l.line_id == line_id)
        .ok_or_else(|| Error::NotFound(format!("line {line_id} in this sale")))
}

/// What `quantity` units of `line` come to at its price less its discount.
fn value_of(line: &CartLine, quantity: i64) -> i64 {
    let gross = i128::from(line.unit_price_paise) * i128::from(quantity);
    let net = gross * i128::from(10_000 - line.discount_bp.min(10_000)) / 10_000;
    i64::try_from(net).unwrap_or(i64::MAX)
}

/// Records an event an owner looks for (a void, a discard, a price override) on `line`.
fn record_event(
    cx: &mut WriteCx<'_, '_>,
    cart: Uuid,
    kind: &str,
    line: &CartLine,
    quantity: i64,
    amount_paise: i64,
) -> Result<()> {
    cx.insert(&SaleEventRow {
        id: Uuid::now_v7(),
        tenant_id: cx.tenant_id(),
        device_id: cx.device_id(),
        cart_id: cart,
        seat_id: cx.seat_id(),
        at_ms: cx.now(),
        kind: kind.to_owned(),
        line_no: Some(line.line_no),
        product_id: line.product_id,
        sku: line.sku.clone(),
        description: line.description.clone(),
        quantity,
        unit_price_paise: line.unit_price_paise,
        amount_paise,
    })
}

/// What a finalize record says of the sale it ends: the image `sale/<cart>` (no row; the
/// cloud keeps no such table).
pub(crate) fn summary(cx: &ReadCx<'_>, cart: &Cart) -> Result<serde_json::Value> {
    let events: Vec<(String, i64)> = cx
        .conn()
        .prepare_cached(
            "SELECT kind, count(*) FROM sale_event WHERE tenant_id = ? AND cart_id = ? GROUP BY kind",
        )?
        .query_map(
            [cx.tenant_id().to_string(), cart.cart_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .collect::<rusqlite::Result<_>>()?;
    Ok(json!({
        "opened_by": cart.opened_by,
        "history": history(cx, cart.cart_id)?,
        "events": events.into_iter().collect::<std::collections::BTreeMap<_, _>>(),
    }))
}

/// Removes a sale and its lines when it ends (finalized or discarded).
fn remove(cx: &mut WriteCx<'_, '_>, cart: &Cart) -> Result<()> {
    for l in &cart.lines {
        cx.delete::<CartLineRow>(&l.line_id.to_string())?;
    }
    cx.delete::<CartRow>(&cart.cart_id.to_string())?;
    cx.effects().cart = Some(None);
    Ok(())
}

/// The sale as the till shows it after a change: the cart and what finalize would charge.
fn view(cx: &ReadCx<'_>, cart: Cart) -> Result<SaleView> {
    let (quote, quote_problem) = match price::quote(cx, &cart, &cart.terms) {
        Ok(q) => (Some(q), None),
        Err(e @ (Error::Invalid(_) | Error::NotFound(_) | Error::DiscountAboveLimit { .. })) => {
            (None, Some(e.to_string()))
        }
        Err(e) => return Err(e),
    };
    Ok(SaleView {
        cart,
        quote,
        quote_problem,
    })
}

/// A cart operation answering with the sale and its price (one call per scan at the till).
pub(crate) struct WithQuote<C>(pub(crate) C);

impl<C: Command<Output = Cart>> Command for WithQuote<C> {
    const OP: Op = C::OP;
    type Output = SaleView;
    fn record(&self, env: &Env) -> Option<Record> {
        self.0.record(env)
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<SaleView> {
        let cart = self.0.run(cx)?;
        view(cx, cart)
    }
}

/// The session's sale, opening one if there is none.
pub(crate) struct OpenCart;

impl Command for OpenCart {
    const OP: Op = Op::OpenCart;
    type Output = Cart;
    fn record(&self, _: &Env) -> Option<Record> {
        None
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Cart> {
        open_or_current(cx)
    }
}

/// The session's current sale, if any.
pub(crate) struct CurrentCart;

impl Query for CurrentCart {
    const OP: Op = Op::CurrentCart;
    type Output = Option<Cart>;
    fn run(self, cx: &ReadCx<'_>) -> Result<Option<Cart>> {
        session_sale(cx)
    }
}

/// The session's sale and its price, if it has one.
pub(crate) struct CurrentSale;

impl Query for CurrentSale {
    const OP: Op = Op::CurrentCart;
    type Output = Option<SaleView>;
    fn run(self, cx: &ReadCx<'_>) -> Result<Option<SaleView>> {
        session_sale(cx)?.map(|c| view(cx, c)).transpose()
    }
}

fn check_quantity(quantity: i64) -> Result<()> {
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        return Err(rejected(
            "quantity",
            format!("must be a whole number from 1 to {MAX_QUANTITY}"),
        ));
    }
    Ok(())
}

fn next_line(cart: &Cart) -> Result<i64> {
    if cart.lines.len() >= MAX_LINES {
        return Err(conflict(format!("a sale holds at most {MAX_LINES} lines")));
    }
    Ok(cart.lines.last().map_or(1, |l| l.line_no + 1))
}

/// A free-text line (description, quantity, price): held and resumed like any, but only
/// catalogue lines can be finalized.
pub(crate) struct AddCartLine {
    description: String,
    quantity: i64,
    unit_price_paise: i64,
}

impl AddCartLine {
    pub(crate) fn new(line: &NewCartLine) -> Result<AddCartLine> {
        let description = required("description", &line.description, 200)?;
        check_quantity(line.quantity)?;
        if !(0..=MAX_UNIT_PRICE_PAISE).contains(&line.unit_price_paise) {
            return Err(rejected(
                "unit_price_paise",
                "must be from ₹0 to ₹1,00,00,000",
            ));
        }
        Ok(AddCartLine {
            description,
            quantity: line.quantity,
            unit_price_paise: line.unit_price_paise,
        })
    }
}

impl Command for AddCartLine {
    const OP: Op = Op::AddCartLine;
    type Output = Cart;
    fn record(&self, _: &Env) -> Option<Record> {
        None
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Cart> {
        let cart = own_open_sale(cx)?;
        let line_no = next_line(&cart)?;
        cx.insert(&CartLineRow {
            id: Uuid::now_v7(),
            cart_id: cart.cart_id,
            line_no,
            description: self.description,
            quantity: self.quantity,
            unit_price_paise: self.unit_price_paise,
            discount_bp: 0,
            product_id: None,
            sku: None,
            hsn: None,
            unit: None,
            price_basis: None,
            gst_rate_bp: None,
            cess_rate_bp: None,
            imeis_required: 0,
            imeis: "[]".into(),
        })?;
        touch(cx, cart.cart_id)?;
        load(cx, cart.cart_id)
    }
}

/// Rings up a catalogue product (opening a sale if the session has none): its price, rates
/// and HSN are copied onto the line, and a serialized product asks for its IMEIs.
pub(crate) struct RingUp {
    product: ProductRef,
    quantity: u32,
}

impl RingUp {
    pub(crate) fn new(product: &ProductRef, quantity: u32) -> Result<RingUp> {
        if !(1..=100_000).contains(&quantity) {
            return Err(rejected(
                "quantity",
                "must be a whole number from 1 to 100,000",
            ));
        }
        Ok(RingUp {
            product: product.clone(),
            quantity,
        })
    }
}

/// The product `r` names, or `NotFound` in words for the clerk.
fn product_of(cx: &ReadCx<'_>, r: &ProductRef) -> Result<Product> {
    let found = match r {
        ProductRef::Barcode(b) => {
            let code =
                galla_domain::Barcode::parse(b).map_err(|e| rejected("barcode", e.to_string()))?;
            catalogue::by_barcode(cx, &code)?
        }
        ProductRef::Sku(s) => catalogue::by_sku(cx, s)?,
        ProductRef::Id(id) => catalogue::by_id(cx, *id)?,
        ProductRef::Code(c) => {
            return catalogue::by_code(cx, c)?.ok_or_else(|| {
                Error::NotFound(format!("no product has the barcode or SKU {:?}", c.trim()))
            });
        }
    };
    found.ok_or_else(|| Error::NotFound("no such product in the catalogue".into()))
}

impl Command for RingUp {
    const OP: Op = Op::AddCartLine;
    type Output = Cart;
    fn record(&self, _: &Env) -> Option<Record> {
        None
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Cart> {
        let p = product_of(cx, &self.product)?;
        let cart = open_or_current(cx)?;
        let line_no = next_line(&cart)?;
        let required = if p.serialized {
            i64::from(self.quantity) * i64::from(p.imeis_per_unit)
        } else {
            0
        };
        cx.insert(&CartLineRow {
            id: Uuid::now_v7(),
            cart_id: cart.cart_id,
            line_no,
            description: p.name,
            quantity: self.quantity.into(),
            unit_price_paise: p.price_paise,
            discount_bp: 0,
            product_id: Some(p.id),
            sku: Some(p.sku),
            hsn: p.hsn,
            unit: Some(p.unit),
            price_basis: Some(catalogue::basis_text(p.price_basis).into()),
            gst_rate_bp: Some(p.gst_rate_bp),
            cess_rate_bp: Some(p.cess_rate_bp),
            imeis_required: required,
            imeis: "[]".into(),
        })?;
        touch(cx, cart.cart_id)?;
        load(cx, cart.cart_id)
    }
}

/// Takes a line off the sale. The line was rung up, so taking it off is a void the owner sees
/// (`cart.remove_line`, a `void_line` event with what it was worth).
pub(crate) struct RemoveCartLine(pub(crate) Uuid);

impl Command for RemoveCartLine {
    const OP: Op = Op::RemoveCartLine;
    type Output = Cart;
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::of_session_cart("cart.remove_line"))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Cart> {
        let cart = own_open_sale(cx)?;
        let l = line(&cart, self.0)?.clone();
        record_event(
            cx,
            cart.cart_id,
            "void_line",
            &l,
            l.quantity,
            value_of(&l, l.quantity),
        )?;
        cx.delete::<CartLineRow>(&self.0.to_string())?;
        touch(cx, cart.cart_id)?;
        load(cx, cart.cart_id)
    }
}

/// Changes a line's quantity. A serialized line then needs IMEIs for the new quantity;
/// lowering it below the IMEIs already captured is refused (remove IMEIs first), so no captured
/// IMEI is silently dropped. Lowering a quantity takes units off the sale: a void the owner
/// sees (`cart.reduce_quantity`).
pub(crate) struct SetLineQuantity {
    line: Uuid,
    quantity: i64,
}

impl SetLineQuantity {
    pub(crate) fn new(line: Uuid, quantity: i64) -> Result<SetLineQuantity> {
        check_quantity(quantity)?;
        Ok(SetLineQuantity { line, quantity })
    }
}

impl Command for SetLineQuantity {
    const OP: Op = Op::SetLineQuantity;
    type Output = Cart;
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::of_session_cart("cart.reduce_quantity"))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Cart> {
        let cart = own_open_sale(cx)?;
        let l = line(&cart, self.line)?.clone();
        // Lines are created with quantity >= 1, and a serialized line's IMEIs per unit is the
        // whole quotient.
        let per_unit = l.imeis_required / l.quantity.max(1);
        let required = per_unit * self.quantity;
        if (l.imeis.len() as i64) > required {
            return Err(conflict(format!(
                "line {} has {} IMEI(s) captured, more than {} unit(s) need: remove IMEIs first",
                l.line_no,
                l.imeis.len(),
                self.quantity
            )));
        }
        if self.quantity < l.quantity {
            let off = l.quantity - self.quantity;
            record_event(cx, cart.cart_id, "void_units", &l, off, value_of(&l, off))?;
        }
        cx.update::<CartLineRow>(
            &self.line.to_string(),
            &[
                set("quantity", &self.quantity),
                set("imeis_required", &required),
            ],
        )?;
        touch(cx, cart.cart_id)?;
        load(cx, cart.cart_id)
    }
}

/// A line discount in basis points, within the seat's limit (0 removes it).
pub(crate) struct SetLineDiscount {
    line: Uuid,
    discount_bp: u32,
}

impl SetLineDiscount {
    pub(crate) fn new(line: Uuid, discount_bp: u32) -> Result<SetLineDiscount> {
        if discount_bp > 10_000 {
            return Err(rejected(
                "discount_bp",
                "a discount cannot exceed 100% (10,000 basis points)",
            ));
        }
        Ok(SetLineDiscount { line, discount_bp })
    }
}

impl Command for SetLineDiscount {
    const OP: Op = Op::SetLineDiscount;
    type Output = Cart;
    fn record(&self, _: &Env) -> Option<Record> {
        None
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Cart> {
        if !cx.access().allows_discount_bp(self.discount_bp) {
            return Err(Error::DiscountAboveLimit {
                asked_bp: self.discount_bp,
                limit_bp: cx.access().discount_limit_bp(),
            });
        }
        let cart = own_open_sale(cx)?;
        line(&cart, self.line)?;
        cx.update::<CartLineRow>(
            &self.line.to_string(),
            &[set("discount_bp", &self.discount_bp)],
        )?;
        touch(cx, cart.cart_id)?;
        load(cx, cart.cart_id)
    }
}

/// Sells a line at another price than the catalogue's (a damaged box, a price match): needs
/// its own permission, and the owner sees it (`cart.price_override`, with the old price).
pub(crate) struct SetLinePrice {
    line: Uuid,
    unit_price_paise: i64,
}

impl SetLinePrice {
    pub(crate) fn new(line: Uuid, unit_price_paise: i64) -> Result<SetLinePrice> {
        if !(0..=MAX_UNIT_PRICE_PAISE).contains(&unit_price_paise) {
            return Err(rejected(
                "unit_price_paise",
                "must be from ₹0 to ₹1,00,00,000",
            ));
        }
        Ok(SetLinePrice {
            line,
            unit_price_paise,
        })
    }
}

impl Command for SetLinePrice {
    const OP: Op = Op::OverridePrice;
    type Output = Cart;
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::of_session_cart("cart.price_override"))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Cart> {
        let cart = own_open_sale(cx)?;
        let l = line(&cart, self.line)?.clone();
        if l.unit_price_paise == self.unit_price_paise {
            return Ok(cart);
        }
        let before = l.unit_price_paise;
        let changed = CartLine {
            unit_price_paise: self.unit_price_paise,
            ..l
        };
        record_event(
            cx,
            cart.cart_id,
            "price_override",
            &changed,
            changed.quantity,
            before,
        )?;
        cx.update::<CartLineRow>(
            &self.line.to_string(),
            &[set("unit_price_paise", &self.unit_price_paise)],
        )?;
        touch(cx, cart.cart_id)?;
        load(cx, cart.cart_id)
    }
}

/// Records the IMEIs of a serialized line: each valid (15 digits, Luhn), none twice in the
/// sale, none already sold, and no more than the line needs.
pub(crate) struct SetLineImeis {
    line: Uuid,
    imeis: Vec<galla_domain::Imei>,
}

impl SetLineImeis {
    pub(crate) fn new(line: Uuid, imeis: &[String]) -> Result<SetLineImeis> {
        let imeis = imeis
            .iter()
            .map(|i| galla_domain::Imei::parse(i).map_err(|e| rejected("imei", e.to_string())))
            .collect::<Result<_>>()?;
        Ok(SetLineImeis { line, imeis })
    }
}

/// Refuses an IMEI that was sold and has not come back.
fn refuse_sold_imei(cx: &ReadCx<'_>, imei: &galla_domain::Imei) -> Result<()> {
    if catalogue::imei_in_stock(cx, imei.as_str())? {
        return Ok(());
    }
    let number = crate::invoices::last_sold_on(cx, imei.as_str())?;
    Err(conflict(format!(
        "IMEI {imei} was already sold on invoice {number} and has not been returned"
    )))
}

impl Command for SetLineImeis {
    const OP: Op = Op::AddCartLine;
    type Output = Cart;
    fn record(&self, _: &Env) -> Option<Record> {
        None
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Cart> {
        let cart = own_open_sale(cx)?;
        let l = line(&cart, self.line)?;
        if self.imeis.len() as i64 > l.imeis_required {
            return Err(rejected(
                "imei",
                format!("line {} takes {} IMEI(s)", l.line_no, l.imeis_required),
            ));
        }
        let mut seen: Vec<&str> = cart
            .lines
            .iter()
            .filter(|l| l.line_id != self.line)
            .flat_map(|l| l.imeis.iter().map(String::as_str))
            .collect();
        for i in &self.imeis {
            if seen.contains(&i.as_str()) {
                return Err(conflict(format!("IMEI {i} is already in this sale")));
            }
            seen.push(i.as_str());
            refuse_sold_imei(cx, i)?;
        }
        let list: Vec<&str> = self.imeis.iter().map(galla_domain::Imei::as_str).collect();
        let json = crate::error::to_json(&list)?;
        cx.update::<CartLineRow>(&self.line.to_string(), &[set("imeis", &json)])?;
        touch(cx, cart.cart_id)?;
        load(cx, cart.cart_id)
    }
}

/// Sets the session's sale's terms: the customer, where the goods go and the bill discount.
/// They are checked as a quote checks them (the customer exists, the place of supply is a
/// state, the discount is within the seat's limit) and kept with the sale, so a held sale
/// resumes with them and whoever resumes it sees what was agreed.
pub(crate) struct SetSaleTerms(SaleTerms);

impl SetSaleTerms {
    pub(crate) fn new(terms: &SaleTerms) -> Result<SetSaleTerms> {
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
        Ok(SetSaleTerms(terms.clone()))
    }
}

impl Command for SetSaleTerms {
    const OP: Op = Op::SetSaleTerms;
    type Output = Cart;
    fn record(&self, _: &Env) -> Option<Record> {
        None
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Cart> {
        let terms = self.0;
        let cart = own_open_sale(cx)?;
        if cart.terms == terms {
            return Ok(cart);
        }
        price::price(cx, &cart, &terms)?;
        let (bp, paise) = match terms.bill_discount {
            Discount::None => (None, None),
            Discount::Percent(bp) => (Some(bp), None),
            Discount::Amount(m) => (None, Some(m.paise())),
        };
        cx.update::<CartRow>(
            &cart.cart_id.to_string(),
            &[
                set("customer_id", &terms.customer_id),
                set("place_of_supply", &terms.place_of_supply),
                set("ship_to_customer", &terms.ship_to_customer),
                set("bill_discount_bp", &bp),
                set("bill_discount_paise", &paise),
                set("updated_at_ms", &cx.now()),
            ],
        )?;
        load(cx, cart.cart_id)
    }
}

/// Parks the session's sale so the till can serve the next customer.
pub(crate) struct HoldCart;

impl Command for HoldCart {
    const OP: Op = Op::HoldCart;
    type Output = Cart;
    fn record(&self, _: &Env) -> Option<Record> {
        None
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Cart> {
        let cart = own_open_sale(cx)?;
        let seat = cx.seat_id();
        record_in_history(
            cx,
            cart.cart_id,
            seat,
            "held",
            Some("held"),
            CartStatus::Held,
        )?;
        cx.effects().cart = Some(None);
        load(cx, cart.cart_id)
    }
}

/// Takes up a held sale; the session's own open sale, if it has one, is held first.
pub(crate) struct ResumeCart(pub(crate) Uuid);

impl Command for ResumeCart {
    const OP: Op = Op::ResumeCart;
    type Output = Cart;
    fn record(&self, _: &Env) -> Option<Record> {
        None
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Cart> {
        let target = load(cx, self.0)?;
        if target.status != CartStatus::Held {
            return Err(conflict("that sale is not held: someone is working on it"));
        }
        let seat = cx.seat_id();
        if let Some(current) = session_sale(cx)?.filter(|c| c.cart_id != self.0) {
            record_in_history(
                cx,
                current.cart_id,
                seat,
                "held",
                Some("held"),
                CartStatus::Held,
            )?;
        }
        record_in_history(cx, self.0, seat, "resumed", None, CartStatus::Open)?;
        cx.effects().cart = Some(Some(self.0));
        load(cx, self.0)
    }
}

/// Every held sale, oldest first.
pub(crate) struct HeldCarts;

impl Query for HeldCarts {
    const OP: Op = Op::HeldCarts;
    type Output = Vec<Cart>;
    fn run(self, cx: &ReadCx<'_>) -> Result<Vec<Cart>> {
        let ids: Vec<String> = cx
            .conn()
            .prepare_cached(
                "SELECT id FROM cart WHERE tenant_id = ? AND status = 'held' ORDER BY updated_at_ms, id",
            )?
            .query_map([cx.tenant_id().to_string()], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        ids.iter()
            .map(|i| Uuid::parse_str(i).map_err(|_| damaged("id")))
            .map(|id| load(cx, id?))
            .collect()
    }
}

/// Throws away the session's sale. What was on it stays on the record (`cart.discard`, one
/// `discard` event per line with its value), with the sale's history.
pub(crate) struct DiscardCart;

impl Command for DiscardCart {
    const OP: Op = Op::DiscardCart;
    type Output = ();
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::of_session_cart("cart.discard"))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<()> {
        let cart = own_open_sale(cx)?;
        for l in &cart.lines {
            record_event(
                cx,
                cart.cart_id,
                "discard",
                l,
                l.quantity,
                value_of(l, l.quantity),
            )?;
        }
        if !cart.lines.is_empty() {
            let summary = summary(cx, &cart)?;
            cx.note(format!("sale/{}", cart.cart_id), summary);
        }
        remove(cx, &cart)
    }
}

/// The session's sale priced as finalize would price it now, with `terms`. An empty sale is
/// quoted as zero.
pub(crate) struct QuoteCart(pub(crate) SaleTerms);

impl Query for QuoteCart {
    const OP: Op = Op::QuoteCart;
    type Output = Quote;
    fn run(self, cx: &ReadCx<'_>) -> Result<Quote> {
        let cart = own_open_sale(cx)?;
        price::quote(cx, &cart, &self.0)
    }
}
