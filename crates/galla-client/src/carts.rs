//! A sale in progress (a cart): opened by the seat at the till, held (parked) when that seat
//! steps away, locks, is revoked or switches, and resumed by whoever may. Lines here are plain
//! (description, quantity, price, discount); the billing issue adds products, tax and finalizing.

use rusqlite::types::Value;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use galla_domain::Money;
use galla_domain::gst::Discount;

use crate::error::{Error, InputError, Result, required};
use crate::invoices::SaleTerms;
use crate::ops::Op;
use crate::seats::SeatRow;
use crate::sessions::SessionToken;
use crate::store::Store;
use crate::terminal::Terminal;
use crate::write::{Actor, Operation};

const MAX_LINES: i64 = 500;
const MAX_QUANTITY: i64 = 100_000;
/// ₹1 crore per unit: anything above is a typing slip, not a price.
const MAX_UNIT_PRICE_PAISE: i64 = 1_000_000_000;

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
    pub price_basis: Option<galla_domain::PriceBasis>,
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

fn op(action: &'static str, cart: Uuid) -> Operation {
    Operation {
        action,
        entity_type: "cart",
        entity_id: cart.to_string(),
    }
}

/// Marks a sale as changed now, alongside a change to its lines.
pub(crate) fn touch_cart(
    uow: &mut crate::write::UnitOfWork<'_>,
    cart: Uuid,
    now: i64,
) -> Result<()> {
    uow.update(
        "cart",
        &cart.to_string(),
        &[("updated_at_ms", Value::Integer(now))],
    )
}

/// A cart row's terms (columns 4 to 8 of `load_cart`'s query), `None` if they do not read.
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

fn damaged(what: &str) -> Error {
    Error::DatabaseDamaged {
        detail: format!("cart: {what}"),
    }
}

impl Terminal {
    pub(crate) fn load_cart(&self, store: &Store, cart_id: Uuid) -> Result<Cart> {
        let conn = store.reader();
        /// opened_by, status, held_reason, updated_at_ms, terms (`None`: they do not read).
        type Head = (String, String, Option<String>, i64, Option<SaleTerms>);
        let head: Option<Head> = rusqlite::OptionalExtension::optional(conn.query_row(
            "SELECT opened_by, status, held_reason, updated_at_ms, customer_id,
                        place_of_supply, ship_to_customer, bill_discount_bp, bill_discount_paise
                 FROM cart WHERE tenant_id = ? AND id = ?",
            [self.tenant_id.to_string(), cart_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, sale_terms(r)?)),
        ))?;
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
                    .map(|b| {
                        crate::catalogue::parse_basis(&b).ok_or_else(|| damaged("price basis"))
                    })
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

    fn set_cart_status(
        &self,
        store: &mut Store,
        actor: &Actor,
        cart_id: Uuid,
        held_reason: Option<&str>,
        now: i64,
    ) -> Result<()> {
        let (action, status) = match held_reason {
            Some(_) => ("cart.hold", "held"),
            None => ("cart.resume", "open"),
        };
        let signer = self.signer();
        store.write(
            &signer,
            self.clock.as_ref(),
            actor,
            op(action, cart_id),
            |uow| {
                uow.update(
                    "cart",
                    &cart_id.to_string(),
                    &[
                        ("status", Value::Text(status.into())),
                        (
                            "held_reason",
                            held_reason.map_or(Value::Null, |r| Value::Text(r.into())),
                        ),
                        ("updated_at_ms", Value::Integer(now)),
                    ],
                )
            },
        )
    }

    /// Holds `cart` on behalf of `seat_id` (its session locked, ended or was revoked), even an
    /// empty one, so no sale stays open without a session; one already held or gone is left
    /// alone.
    pub(crate) fn hold_cart_for(
        &self,
        store: &mut Store,
        seat_id: Uuid,
        cart_id: Uuid,
        reason: &str,
        now: i64,
    ) -> Result<()> {
        let cart = match self.load_cart(store, cart_id) {
            Ok(c) => c,
            Err(Error::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        if cart.status == CartStatus::Held {
            return Ok(());
        }
        let seat = crate::seats::load_seat(store.reader(), self.tenant_id, seat_id)?;
        let actor = Actor {
            seat_id: Some(seat_id),
            role: seat.role_stamp(),
        };
        self.set_cart_status(store, &actor, cart_id, Some(reason), now)
    }

    /// The seat comes back to a sale it was holding: reopened for it if still held, or `None`
    /// if someone else resumed it (or it was discarded) meanwhile.
    pub(crate) fn take_back_cart(
        &self,
        store: &mut Store,
        seat: &SeatRow,
        cart_id: Uuid,
        now: i64,
    ) -> Result<Option<Uuid>> {
        let cart = match self.load_cart(store, cart_id) {
            Ok(c) => c,
            Err(Error::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        if cart.status != CartStatus::Held {
            return Ok(None);
        }
        let actor = Actor {
            seat_id: Some(seat.id),
            role: seat.role_stamp(),
        };
        self.set_cart_status(store, &actor, cart_id, None, now)?;
        Ok(Some(cart_id))
    }

    /// The session's sale, opening one if there is none.
    pub fn open_cart(&self, token: &SessionToken) -> Result<Cart> {
        let (auth, mut store) = self.authorize(token, Op::OpenCart)?;
        if let Some(c) = auth.cart {
            match self.load_cart(&store, c) {
                Ok(cart) if cart.status == CartStatus::Open => return Ok(cart),
                Ok(_) | Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let cart_id = Uuid::now_v7();
        let (signer, tenant_id, now) = (self.signer(), self.tenant_id, auth.now);
        store.write(
            &signer,
            self.clock.as_ref(),
            &auth.actor,
            op("cart.open", cart_id),
            |uow| {
                uow.insert(
                    "cart",
                    &cart_id.to_string(),
                    &[
                        ("id", Value::Text(cart_id.to_string())),
                        ("tenant_id", Value::Text(tenant_id.to_string())),
                        ("opened_by", Value::Text(auth.seat_id.to_string())),
                        ("status", Value::Text("open".into())),
                        ("created_at_ms", Value::Integer(now)),
                        ("updated_at_ms", Value::Integer(now)),
                    ],
                )
            },
        )?;
        self.set_session_cart(auth.key, Some(cart_id));
        self.load_cart(&store, cart_id)
    }

    /// The session's current sale, if any.
    pub fn current_cart(&self, token: &SessionToken) -> Result<Option<Cart>> {
        let (auth, store) = self.authorize(token, Op::CurrentCart)?;
        match auth.cart {
            None => Ok(None),
            Some(c) => match self.load_cart(&store, c) {
                Ok(cart) if cart.status == CartStatus::Open => Ok(Some(cart)),
                Ok(_) | Err(Error::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            },
        }
    }

    /// The session's open cart, or a clear error.
    pub(crate) fn own_open_cart(&self, store: &Store, cart: Option<Uuid>) -> Result<Cart> {
        let none = || InputError::Conflict("no sale in progress: start one first".into());
        let c = self.load_cart(store, cart.ok_or_else(none)?)?;
        if c.status != CartStatus::Open {
            return Err(none().into());
        }
        Ok(c)
    }

    pub fn add_cart_line(&self, token: &SessionToken, line: &NewCartLine) -> Result<Cart> {
        let description = required("description", &line.description, 200)?;
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            return Err(InputError::Rejected {
                field: "quantity",
                reason: format!("must be a whole number from 1 to {MAX_QUANTITY}"),
            }
            .into());
        }
        if !(0..=MAX_UNIT_PRICE_PAISE).contains(&line.unit_price_paise) {
            return Err(InputError::Rejected {
                field: "unit_price_paise",
                reason: "must be from ₹0 to ₹1,00,00,000".into(),
            }
            .into());
        }
        let (auth, mut store) = self.authorize(token, Op::AddCartLine)?;
        let cart = self.own_open_cart(&store, auth.cart)?;
        if cart.lines.len() as i64 >= MAX_LINES {
            return Err(
                InputError::Conflict(format!("a sale holds at most {MAX_LINES} lines")).into(),
            );
        }
        let line_no = cart.lines.last().map_or(1, |l| l.line_no + 1);
        let line_id = Uuid::now_v7();
        let (signer, now) = (self.signer(), auth.now);
        store.write(
            &signer,
            self.clock.as_ref(),
            &auth.actor,
            op("cart.add_line", cart.cart_id),
            |uow| {
                uow.insert(
                    "cart_line",
                    &line_id.to_string(),
                    &[
                        ("id", Value::Text(line_id.to_string())),
                        ("cart_id", Value::Text(cart.cart_id.to_string())),
                        ("line_no", Value::Integer(line_no)),
                        ("description", Value::Text(description.clone())),
                        ("quantity", Value::Integer(line.quantity)),
                        ("unit_price_paise", Value::Integer(line.unit_price_paise)),
                    ],
                )?;
                touch_cart(uow, cart.cart_id, now)
            },
        )?;
        self.load_cart(&store, cart.cart_id)
    }

    pub fn remove_cart_line(&self, token: &SessionToken, line_id: Uuid) -> Result<Cart> {
        let (auth, mut store) = self.authorize(token, Op::RemoveCartLine)?;
        let cart = self.own_open_cart(&store, auth.cart)?;
        if !cart.lines.iter().any(|l| l.line_id == line_id) {
            return Err(Error::NotFound(format!("line {line_id} in this sale")));
        }
        let (signer, now) = (self.signer(), auth.now);
        store.write(
            &signer,
            self.clock.as_ref(),
            &auth.actor,
            op("cart.remove_line", cart.cart_id),
            |uow| {
                uow.delete("cart_line", &line_id.to_string())?;
                touch_cart(uow, cart.cart_id, now)
            },
        )?;
        self.load_cart(&store, cart.cart_id)
    }

    /// Changes a line's quantity. A serialized line then needs IMEIs for the new quantity;
    /// lowering it below the IMEIs already captured is refused (remove IMEIs first), so no
    /// captured IMEI is silently dropped.
    pub fn set_line_quantity(
        &self,
        token: &SessionToken,
        line_id: Uuid,
        quantity: i64,
    ) -> Result<Cart> {
        if !(1..=MAX_QUANTITY).contains(&quantity) {
            return Err(InputError::Rejected {
                field: "quantity",
                reason: format!("must be a whole number from 1 to {MAX_QUANTITY}"),
            }
            .into());
        }
        let (auth, mut store) = self.authorize(token, Op::SetLineQuantity)?;
        let cart = self.own_open_cart(&store, auth.cart)?;
        let line = cart
            .lines
            .iter()
            .find(|l| l.line_id == line_id)
            .ok_or_else(|| Error::NotFound(format!("line {line_id} in this sale")))?;
        // Lines are created with quantity >= 1, and a serialized line's IMEIs per unit is the
        // whole quotient.
        let per_unit = line.imeis_required / line.quantity.max(1);
        let required = per_unit * quantity;
        if (line.imeis.len() as i64) > required {
            return Err(InputError::Conflict(format!(
                "line {} has {} IMEI(s) captured, more than {quantity} unit(s) need: remove IMEIs first",
                line.line_no,
                line.imeis.len()
            ))
            .into());
        }
        let (signer, now) = (self.signer(), auth.now);
        store.write(
            &signer,
            self.clock.as_ref(),
            &auth.actor,
            op("cart.set_quantity", cart.cart_id),
            |uow| {
                uow.update(
                    "cart_line",
                    &line_id.to_string(),
                    &[
                        ("quantity", Value::Integer(quantity)),
                        ("imeis_required", Value::Integer(required)),
                    ],
                )?;
                touch_cart(uow, cart.cart_id, now)
            },
        )?;
        self.load_cart(&store, cart.cart_id)
    }

    /// A line discount in basis points, within the seat's limit (0 removes it).
    pub fn set_line_discount(
        &self,
        token: &SessionToken,
        line_id: Uuid,
        discount_bp: u32,
    ) -> Result<Cart> {
        if discount_bp > 10_000 {
            return Err(InputError::Rejected {
                field: "discount_bp",
                reason: "a discount cannot exceed 100% (10,000 basis points)".into(),
            }
            .into());
        }
        let (auth, mut store) = self.authorize(token, Op::SetLineDiscount)?;
        if !auth.access.allows_discount_bp(discount_bp) {
            return Err(Error::DiscountAboveLimit {
                asked_bp: discount_bp,
                limit_bp: auth.access.discount_limit_bp(),
            });
        }
        let cart = self.own_open_cart(&store, auth.cart)?;
        if !cart.lines.iter().any(|l| l.line_id == line_id) {
            return Err(Error::NotFound(format!("line {line_id} in this sale")));
        }
        let (signer, now) = (self.signer(), auth.now);
        store.write(
            &signer,
            self.clock.as_ref(),
            &auth.actor,
            op("cart.discount", cart.cart_id),
            |uow| {
                uow.update(
                    "cart_line",
                    &line_id.to_string(),
                    &[("discount_bp", Value::Integer(discount_bp.into()))],
                )?;
                touch_cart(uow, cart.cart_id, now)
            },
        )?;
        self.load_cart(&store, cart.cart_id)
    }

    /// Parks the session's sale so the till can serve the next customer.
    pub fn hold_cart(&self, token: &SessionToken) -> Result<Cart> {
        let (auth, mut store) = self.authorize(token, Op::HoldCart)?;
        let cart = self.own_open_cart(&store, auth.cart)?;
        self.set_cart_status(
            &mut store,
            &auth.actor,
            cart.cart_id,
            Some("held"),
            auth.now,
        )?;
        self.set_session_cart(auth.key, None);
        self.load_cart(&store, cart.cart_id)
    }

    /// Takes up a held sale; the session's own open sale, if it has lines, is held first.
    pub fn resume_cart(&self, token: &SessionToken, cart_id: Uuid) -> Result<Cart> {
        let (auth, mut store) = self.authorize(token, Op::ResumeCart)?;
        let target = self.load_cart(&store, cart_id)?;
        if target.status != CartStatus::Held {
            return Err(InputError::Conflict(
                "that sale is not held: someone is working on it".into(),
            )
            .into());
        }
        if let Some(current) = auth.cart.filter(|c| *c != cart_id)
            && let Ok(c) = self.load_cart(&store, current)
            && c.status == CartStatus::Open
        {
            self.set_cart_status(&mut store, &auth.actor, current, Some("held"), auth.now)?;
        }
        self.set_cart_status(&mut store, &auth.actor, cart_id, None, auth.now)?;
        self.set_session_cart(auth.key, Some(cart_id));
        self.load_cart(&store, cart_id)
    }

    /// Every held sale, oldest first.
    pub fn held_carts(&self, token: &SessionToken) -> Result<Vec<Cart>> {
        let (_auth, store) = self.authorize(token, Op::HeldCarts)?;
        let ids: Vec<String> = {
            let mut stmt = store.reader().prepare_cached(
                "SELECT id FROM cart WHERE tenant_id = ? AND status = 'held' ORDER BY updated_at_ms, id",
            )?;
            let rows = stmt.query_map([self.tenant_id.to_string()], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        ids.iter()
            .map(|i| Uuid::parse_str(i).map_err(|_| damaged("id")))
            .map(|id| self.load_cart(&store, id?))
            .collect()
    }

    /// Throws away the session's sale (its lines stay in the audit trail).
    pub fn discard_cart(&self, token: &SessionToken) -> Result<()> {
        let (auth, mut store) = self.authorize(token, Op::DiscardCart)?;
        let cart = self.own_open_cart(&store, auth.cart)?;
        let signer = self.signer();
        store.write(
            &signer,
            self.clock.as_ref(),
            &auth.actor,
            op("cart.discard", cart.cart_id),
            |uow| {
                for l in &cart.lines {
                    uow.delete("cart_line", &l.line_id.to_string())?;
                }
                uow.delete("cart", &cart.cart_id.to_string())
            },
        )?;
        self.set_session_cart(auth.key, None);
        Ok(())
    }
}
