//! The catalogue: products with their barcodes, HSN, GST rate, price and unit, found at the
//! counter by barcode (exact, indexed) or by name in any script (FTS5, prefix matching), and
//! imported from CSV all or nothing: every row is validated first, and either every row is
//! written in one transaction or none is, with a report naming each bad row and field.

use std::io::Read;

use galla_domain::{Barcode, Money};
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, InputError, Result, required};
use crate::ops::Op;
use crate::sessions::SessionToken;
use crate::store::Store;
use crate::terminal::Terminal;
use crate::write::{Operation, UnitOfWork};

pub use galla_domain::PriceBasis;

const MAX_SKU: usize = 40;
const MAX_NAME: usize = 200;
const MAX_UNIT: usize = 12;
const MAX_BARCODES: usize = 10;
/// ₹1 crore per unit: above that a price is a typing slip.
const MAX_PRICE_PAISE: i64 = 1_000_000_000;
/// Rows per audit record in an import (each record stays well under the 1 MiB image limit).
const IMPORT_ROWS_PER_RECORD: usize = 500;
/// The largest CSV the importer reads (64 MiB is ~500k products).
const MAX_IMPORT_BYTES: u64 = 64 * 1024 * 1024;

/// A product as typed or imported, before validation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewProduct {
    pub sku: String,
    pub name: String,
    #[serde(default)]
    pub barcodes: Vec<String>,
    #[serde(default)]
    pub hsn: Option<String>,
    pub gst_rate_bp: u32,
    #[serde(default)]
    pub cess_rate_bp: u32,
    pub price_paise: i64,
    pub price_basis: Option<PriceBasis>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub serialized: bool,
    #[serde(default)]
    pub imeis_per_unit: Option<u8>,
    #[serde(default)]
    pub stock: Option<i64>,
}

/// A stored product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Product {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub barcodes: Vec<String>,
    pub hsn: Option<String>,
    pub gst_rate_bp: u32,
    pub cess_rate_bp: u32,
    pub price_paise: i64,
    pub price_basis: PriceBasis,
    pub unit: String,
    pub serialized: bool,
    pub imeis_per_unit: u8,
    pub stock: Option<i64>,
}

pub(crate) struct ValidProduct {
    sku: String,
    name: String,
    barcodes: Vec<Barcode>,
    hsn: Option<String>,
    gst_rate_bp: u32,
    cess_rate_bp: u32,
    price_paise: i64,
    price_basis: PriceBasis,
    unit: String,
    serialized: bool,
    imeis_per_unit: u8,
    stock: Option<i64>,
}

fn rejected(field: &'static str, reason: impl Into<String>) -> InputError {
    InputError::Rejected {
        field,
        reason: reason.into(),
    }
}

impl NewProduct {
    pub(crate) fn validate(&self) -> Result<ValidProduct, InputError> {
        let sku = required("sku", &self.sku, MAX_SKU)?;
        if sku.chars().any(char::is_whitespace) {
            return Err(rejected("sku", "may not contain spaces"));
        }
        let name = required("name", &self.name, MAX_NAME)?;
        if self.barcodes.len() > MAX_BARCODES {
            return Err(rejected(
                "barcodes",
                format!("at most {MAX_BARCODES} per product"),
            ));
        }
        let mut barcodes = Vec::new();
        for b in self.barcodes.iter().filter(|b| !b.trim().is_empty()) {
            let code = Barcode::parse(b).map_err(|e| rejected("barcodes", e.to_string()))?;
            if !barcodes.contains(&code) {
                barcodes.push(code);
            }
        }
        let hsn = self
            .hsn
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(|h| {
                galla_domain::fiscal::check_hsn(h, None)
                    .map(|()| h.to_owned())
                    .map_err(|e| rejected("hsn", e.to_string()))
            })
            .transpose()?;
        for (field, bp) in [
            ("gst_rate_bp", self.gst_rate_bp),
            ("cess_rate_bp", self.cess_rate_bp),
        ] {
            if bp > 10_000 {
                return Err(rejected(
                    field,
                    format!("{bp} basis points is more than 100%"),
                ));
            }
        }
        if !(0..=MAX_PRICE_PAISE).contains(&self.price_paise) {
            return Err(rejected("price", "must be from ₹0 to ₹1,00,00,000"));
        }
        let unit = match self
            .unit
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            None => "pcs".to_owned(),
            Some(u) => required("unit", u, MAX_UNIT)?,
        };
        let imeis_per_unit = self.imeis_per_unit.unwrap_or(1);
        if !(1..=2).contains(&imeis_per_unit) {
            return Err(rejected(
                "imeis_per_unit",
                "a phone has 1 or 2 IMEIs (dual SIM)",
            ));
        }
        if let Some(s) = self.stock
            && !(0..=1_000_000_000).contains(&s)
        {
            return Err(rejected("stock", "must be from 0 to 1,000,000,000"));
        }
        Ok(ValidProduct {
            sku,
            name,
            barcodes,
            hsn,
            gst_rate_bp: self.gst_rate_bp,
            cess_rate_bp: self.cess_rate_bp,
            price_paise: self.price_paise,
            price_basis: self.price_basis.unwrap_or(PriceBasis::Inclusive),
            unit,
            serialized: self.serialized,
            imeis_per_unit,
            stock: self.stock,
        })
    }
}

/// How a price basis is stored (`product`, `cart_line`, `invoice_line`).
pub(crate) fn basis_text(b: PriceBasis) -> &'static str {
    match b {
        PriceBasis::Inclusive => "inclusive",
        PriceBasis::Exclusive => "exclusive",
    }
}

pub(crate) fn parse_basis(text: &str) -> Option<PriceBasis> {
    match text {
        "inclusive" => Some(PriceBasis::Inclusive),
        "exclusive" => Some(PriceBasis::Exclusive),
        _ => None,
    }
}

/// `yes`/`no` as a CSV cell says it (empty is no).
pub fn parse_yes_no(field: &'static str, text: &str) -> Result<bool, InputError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" | "no" | "n" | "false" | "0" => Ok(false),
        "yes" | "y" | "true" | "1" => Ok(true),
        other => Err(rejected(field, format!("{other:?} is not yes or no"))),
    }
}

/// A rate in basis points as people write it: 1800 → "18", 25 → "0.25".
fn percent_text(bp: u32) -> String {
    if bp.is_multiple_of(100) {
        format!("{}", bp / 100)
    } else {
        format!("{}.{:02}", bp / 100, bp % 100)
    }
}

impl Terminal {
    /// A product's rates must agree with the rate schedule in force today where it covers the
    /// HSN: a stale rate (from before a rate change) is refused rather than silently taxed.
    pub(crate) fn check_rates(&self, p: &ValidProduct, now_ms: i64) -> Result<(), InputError> {
        let (Some(hsn), Ok(today)) = (&p.hsn, galla_domain::fiscal::ist_date(now_ms)) else {
            return Ok(());
        };
        match self.rates.rate_for(hsn, today) {
            Some(r) if (r.gst_rate_bp, r.cess_rate_bp) != (p.gst_rate_bp, p.cess_rate_bp) => {
                Err(rejected(
                    "gst_rate",
                    format!(
                        "HSN {hsn} is taxed at {}% GST and {}% cess by the rate schedule in force \
                         today, not {}% and {}%",
                        percent_text(r.gst_rate_bp),
                        percent_text(r.cess_rate_bp),
                        percent_text(p.gst_rate_bp),
                        percent_text(p.cess_rate_bp)
                    ),
                ))
            }
            _ => Ok(()),
        }
    }
}

/// The product columns a form or an import row sets.
fn product_fields(p: &ValidProduct) -> Vec<(&'static str, Value)> {
    vec![
        ("sku", Value::Text(p.sku.clone())),
        ("name", Value::Text(p.name.clone())),
        ("hsn", p.hsn.clone().map_or(Value::Null, Value::Text)),
        ("gst_rate_bp", Value::Integer(p.gst_rate_bp.into())),
        ("cess_rate_bp", Value::Integer(p.cess_rate_bp.into())),
        ("price_paise", Value::Integer(p.price_paise)),
        ("price_basis", Value::Text(basis_text(p.price_basis).into())),
        ("unit", Value::Text(p.unit.clone())),
        ("serialized", Value::Integer(p.serialized.into())),
        ("imeis_per_unit", Value::Integer(p.imeis_per_unit.into())),
        ("stock", p.stock.map_or(Value::Null, Value::Integer)),
    ]
}

fn insert_barcode(
    uow: &mut UnitOfWork<'_>,
    tenant_id: Uuid,
    product: Uuid,
    code: &str,
) -> Result<()> {
    let bid = Uuid::now_v7();
    uow.insert(
        "product_barcode",
        &bid.to_string(),
        &[
            ("id", Value::Text(bid.to_string())),
            ("tenant_id", Value::Text(tenant_id.to_string())),
            ("product_id", Value::Text(product.to_string())),
            ("barcode", Value::Text(code.to_owned())),
        ],
    )
}

fn insert_product(
    uow: &mut UnitOfWork<'_>,
    tenant_id: Uuid,
    id: Uuid,
    p: &ValidProduct,
    now: i64,
) -> Result<()> {
    let mut fields = vec![
        ("id", Value::Text(id.to_string())),
        ("tenant_id", Value::Text(tenant_id.to_string())),
    ];
    fields.extend(product_fields(p));
    fields.push(("created_at_ms", Value::Integer(now)));
    fields.push(("updated_at_ms", Value::Integer(now)));
    uow.insert("product", &id.to_string(), &fields)?;
    for b in &p.barcodes {
        insert_barcode(uow, tenant_id, id, b.as_str())?;
    }
    Ok(())
}

/// A unique-constraint failure as the person importing would say it.
fn conflict_of(e: Error, p: &ValidProduct) -> Error {
    match &e {
        Error::Storage(msg) if msg.contains("UNIQUE") && msg.contains("product.sku") => {
            InputError::Conflict(format!("a product with SKU {:?} already exists", p.sku)).into()
        }
        Error::Storage(msg) if msg.contains("UNIQUE") && msg.contains("product_barcode") => {
            InputError::Conflict("one of these barcodes already belongs to another product".into())
                .into()
        }
        _ => e,
    }
}

const PRODUCT_SELECT: &str = "SELECT p.id, p.sku, p.name, p.hsn, p.gst_rate_bp, p.cess_rate_bp, \
     p.price_paise, p.price_basis, p.unit, p.serialized, p.imeis_per_unit, p.stock, \
     (SELECT group_concat(barcode, ' ') FROM product_barcode b WHERE b.product_id = p.id) \
     FROM product p";

fn product_from_row(r: &rusqlite::Row<'_>) -> Result<Product> {
    let id: String = r.get(0)?;
    let damaged = |what: &str| Error::DatabaseDamaged {
        detail: format!("product {id}: {what}"),
    };
    let basis: String = r.get(7)?;
    let barcodes: Option<String> = r.get(12)?;
    Ok(Product {
        id: Uuid::parse_str(&id).map_err(|_| damaged("id"))?,
        sku: r.get(1)?,
        name: r.get(2)?,
        hsn: r.get(3)?,
        gst_rate_bp: r.get(4)?,
        cess_rate_bp: r.get(5)?,
        price_paise: r.get(6)?,
        price_basis: parse_basis(&basis).ok_or_else(|| damaged("price basis"))?,
        unit: r.get(8)?,
        serialized: r.get::<_, i64>(9)? != 0,
        imeis_per_unit: r.get::<_, i64>(10)?.clamp(1, 2) as u8,
        stock: r.get(11)?,
        barcodes: barcodes
            .map(|b| b.split(' ').map(str::to_owned).collect())
            .unwrap_or_default(),
    })
}

/// Turns what someone typed into an FTS5 prefix query: every word must start a word of the
/// name or SKU. Quotes keep FTS5 syntax characters in the input literal.
pub(crate) fn fts_query(input: &str) -> Option<String> {
    let words: Vec<String> = input
        .split(|c: char| c.is_whitespace() || c == '"')
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// What a CSV import did, or why it did nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportReport {
    /// Rows written; 0 when any row was refused.
    pub imported: usize,
    pub rows: usize,
    pub errors: Vec<RowError>,
}

/// One refused row: its line in the file (the header is line 1), the column and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RowError {
    pub line: u64,
    pub field: String,
    pub message: String,
}

/// The CSV columns: `sku,name,barcodes,hsn,gst_rate,cess_rate,price,price_basis,unit,serialized,imeis_per_unit,stock`.
/// Rates are percentages (`18`, `0.25`), price is rupees (`1,299.00`), barcodes are separated by
/// spaces or `|`, `serialized` is yes/no.
#[derive(Debug, Deserialize)]
struct CsvRow {
    sku: String,
    name: String,
    #[serde(default)]
    barcodes: String,
    #[serde(default)]
    hsn: String,
    gst_rate: String,
    #[serde(default)]
    cess_rate: String,
    price: String,
    #[serde(default)]
    price_basis: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    serialized: String,
    #[serde(default)]
    imeis_per_unit: String,
    #[serde(default)]
    stock: String,
}

/// A percentage with at most two decimals, as basis points: `18` → 1800, `0.25` → 25.
fn percent_bp(field: &'static str, text: &str) -> Result<u32, InputError> {
    let t = text.trim().trim_end_matches('%').trim();
    if t.is_empty() {
        return Ok(0);
    }
    let m = Money::parse_rupees(t)
        .map_err(|_| rejected(field, format!("{t:?} is not a percentage like 18 or 0.25")))?;
    u32::try_from(m.paise())
        .ok()
        .filter(|bp| *bp <= 10_000)
        .ok_or_else(|| rejected(field, format!("{t}% is not between 0 and 100")))
}

impl CsvRow {
    fn to_new(&self) -> Result<NewProduct, InputError> {
        let price =
            Money::parse_rupees(&self.price).map_err(|e| rejected("price", e.to_string()))?;
        let basis = match self.price_basis.trim().to_ascii_lowercase().as_str() {
            "" | "inclusive" | "mrp" => PriceBasis::Inclusive,
            "exclusive" => PriceBasis::Exclusive,
            other => {
                return Err(rejected(
                    "price_basis",
                    format!("{other:?} is not inclusive or exclusive"),
                ));
            }
        };
        let serialized = parse_yes_no("serialized", &self.serialized)?;
        let int = |field: &'static str, t: &str| -> Result<Option<i64>, InputError> {
            let t = t.trim();
            if t.is_empty() {
                return Ok(None);
            }
            t.parse()
                .map(Some)
                .map_err(|_| rejected(field, format!("{t:?} is not a whole number")))
        };
        Ok(NewProduct {
            sku: self.sku.clone(),
            name: self.name.clone(),
            barcodes: self
                .barcodes
                .split(|c: char| c == '|' || c.is_whitespace())
                .filter(|b| !b.is_empty())
                .map(str::to_owned)
                .collect(),
            hsn: Some(self.hsn.clone()),
            gst_rate_bp: percent_bp("gst_rate", &self.gst_rate)?,
            cess_rate_bp: percent_bp("cess_rate", &self.cess_rate)?,
            price_paise: price.paise(),
            price_basis: Some(basis),
            unit: Some(self.unit.clone()),
            serialized,
            imeis_per_unit: int("imeis_per_unit", &self.imeis_per_unit)?
                .map(|n| u8::try_from(n).unwrap_or(0)),
            stock: int("stock", &self.stock)?,
        })
    }
}

impl Terminal {
    pub fn add_product(&self, token: &SessionToken, new: &NewProduct) -> Result<Uuid> {
        let valid = new.validate()?;
        let (auth, mut store) = self.authorize(token, Op::EditCatalogue)?;
        self.check_rates(&valid, auth.now)?;
        let id = Uuid::now_v7();
        let (signer, tenant_id, now) = (self.signer(), self.tenant_id, auth.now);
        let op = Operation {
            action: "product.create",
            entity_type: "product",
            entity_id: id.to_string(),
        };
        store
            .write(&signer, self.clock.as_ref(), &auth.actor, op, |uow| {
                insert_product(uow, tenant_id, id, &valid, now)
            })
            .map_err(|e| conflict_of(e, &valid))?;
        Ok(id)
    }

    fn products_where(
        &self,
        store: &Store,
        clause: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<Product>> {
        let sql = format!("{PRODUCT_SELECT} {clause}");
        let mut stmt = store.reader().prepare_cached(&sql)?;
        let mut rows = stmt.query(params)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(product_from_row(r)?);
        }
        Ok(out)
    }

    /// Saves an edited product: every field as the form has it, barcodes included, except the
    /// stock count ([`Terminal::set_stock_count`]). Sales already rung up keep the price and tax
    /// they were rung up with; finalized invoices are facts and never change.
    pub fn update_product(
        &self,
        token: &SessionToken,
        id: Uuid,
        edited: &NewProduct,
    ) -> Result<()> {
        let valid = edited.validate()?;
        let (auth, mut store) = self.authorize(token, Op::EditCatalogue)?;
        self.check_rates(&valid, auth.now)?;
        let tenant_id = self.tenant_id;
        let existing: Vec<(String, String)> = {
            let conn = store.reader();
            let known: bool = conn
                .prepare_cached("SELECT count(*) FROM product WHERE tenant_id = ? AND id = ?")?
                .query_row([tenant_id.to_string(), id.to_string()], |r| r.get(0))?;
            if !known {
                return Err(Error::NotFound(format!("product {id}")));
            }
            conn.prepare_cached("SELECT id, barcode FROM product_barcode WHERE product_id = ?")?
                .query_map([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let op = Operation {
            action: "product.update",
            entity_type: "product",
            entity_id: id.to_string(),
        };
        let now = auth.now;
        store
            .write(
                &self.signer(),
                self.clock.as_ref(),
                &auth.actor,
                op,
                |uow| {
                    // The stock count moves with every sale and return; a form opened before
                    // one would set it back. Counts change through `set_stock_count`.
                    let mut fields: Vec<_> = product_fields(&valid)
                        .into_iter()
                        .filter(|(c, _)| *c != "stock")
                        .collect();
                    fields.push(("updated_at_ms", Value::Integer(now)));
                    uow.update("product", &id.to_string(), &fields)?;
                    for (bid, code) in &existing {
                        if !valid.barcodes.iter().any(|b| b.as_str() == code) {
                            uow.delete("product_barcode", bid)?;
                        }
                    }
                    for b in &valid.barcodes {
                        if !existing.iter().any(|(_, code)| code == b.as_str()) {
                            insert_barcode(uow, tenant_id, id, b.as_str())?;
                        }
                    }
                    Ok(())
                },
            )
            .map_err(|e| conflict_of(e, &valid))
    }

    /// Records a stock count (from counting the shelf), or stops counting with `None`.
    pub fn set_stock_count(
        &self,
        token: &SessionToken,
        id: Uuid,
        count: Option<i64>,
    ) -> Result<()> {
        if count.is_some_and(|n| !(0..=10_000_000).contains(&n)) {
            return Err(rejected("stock", "a count is 0 to 1,00,00,000").into());
        }
        let (auth, mut store) = self.authorize(token, Op::EditCatalogue)?;
        let op = Operation {
            action: "product.stock_count",
            entity_type: "product",
            entity_id: id.to_string(),
        };
        store.write(
            &self.signer(),
            self.clock.as_ref(),
            &auth.actor,
            op,
            |uow| {
                uow.update(
                    "product",
                    &id.to_string(),
                    &[
                        ("stock", count.map_or(Value::Null, Value::Integer)),
                        ("updated_at_ms", Value::Integer(auth.now)),
                    ],
                )
            },
        )
    }

    /// The product a scanned or typed barcode belongs to (UPC-A and EAN-13 forms alike).
    pub fn product_by_barcode(&self, token: &SessionToken, code: &str) -> Result<Option<Product>> {
        let code = Barcode::parse(code).map_err(|e| rejected("barcode", e.to_string()))?;
        let (_auth, store) = self.authorize(token, Op::FindProducts)?;
        Ok(self
            .products_where(
                &store,
                "JOIN product_barcode pb ON pb.product_id = p.id WHERE pb.tenant_id = ?1 AND pb.barcode = ?2",
                rusqlite::params![self.tenant_id.to_string(), code.as_str()],
            )?
            .pop())
    }

    /// What the scanner sent or the clerk typed in the code box: a barcode when it is one
    /// (a valid check digit) and known, else a SKU.
    pub fn product_by_code(&self, token: &SessionToken, code: &str) -> Result<Option<Product>> {
        let code = code.trim();
        if Barcode::parse(code).is_ok()
            && let Some(p) = self.product_by_barcode(token, code)?
        {
            return Ok(Some(p));
        }
        self.product_by_sku(token, code)
    }

    pub fn product_by_id(&self, token: &SessionToken, id: Uuid) -> Result<Option<Product>> {
        let (_auth, store) = self.authorize(token, Op::FindProducts)?;
        Ok(self
            .products_where(
                &store,
                "WHERE p.tenant_id = ?1 AND p.id = ?2",
                rusqlite::params![self.tenant_id.to_string(), id.to_string()],
            )?
            .pop())
    }

    pub fn product_by_sku(&self, token: &SessionToken, sku: &str) -> Result<Option<Product>> {
        let (_auth, store) = self.authorize(token, Op::FindProducts)?;
        Ok(self
            .products_where(
                &store,
                "WHERE p.tenant_id = ?1 AND p.sku = ?2",
                rusqlite::params![self.tenant_id.to_string(), sku.trim()],
            )?
            .pop())
    }

    /// What a search box finds: the product whose barcode or SKU is exactly what was typed or
    /// scanned, first, then [`Terminal::search_products`]'s matches. A stock keeper scans a
    /// box's barcode to find its product; a barcode is no word of any name, so a name search
    /// alone found nothing.
    pub fn find_products(
        &self,
        token: &SessionToken,
        typed: &str,
        limit: usize,
    ) -> Result<Vec<Product>> {
        let exact = self.product_by_code(token, typed)?;
        let mut found = self.search_products(token, typed, limit)?;
        if let Some(p) = exact {
            found.retain(|f| f.id != p.id);
            found.insert(0, p);
            found.truncate(limit.clamp(1, 200));
        }
        Ok(found)
    }

    /// Products whose name or SKU has words starting with each typed word, best match first.
    ///
    /// A short prefix in a big catalogue matches tens of thousands of names, so at most 300
    /// index matches are considered, plus, when that cap is reached, the names that start with
    /// what was typed. Those are returned names starting with the typing first, then shortest
    /// first (the closest to what was typed); past the cap the clerk types one more letter.
    pub fn search_products(
        &self,
        token: &SessionToken,
        typed: &str,
        limit: usize,
    ) -> Result<Vec<Product>> {
        // At most this many index matches are considered. Counting every match of a common
        // word in half a million names is what made search slow (benchmarks.md).
        const CONSIDER_AT_MOST: i64 = 300;
        let (_auth, store) = self.authorize(token, Op::FindProducts)?;
        let Some(q) = fts_query(typed) else {
            return Ok(Vec::new());
        };
        let limit = limit.clamp(1, 200);
        let tenant = self.tenant_id.to_string();
        let mut ids: Vec<i64> = store
            .reader()
            .prepare_cached("SELECT rowid FROM product_fts WHERE product_fts MATCH ?1 LIMIT ?2")?
            .query_map(rusqlite::params![q, CONSIDER_AT_MOST], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        // Names that start with what was typed are the likeliest targets: always among those
        // considered, however many others match.
        let typed = typed.trim();
        if ids.len() as i64 >= CONSIDER_AT_MOST {
            ids.extend(
                store
                    .reader()
                    .prepare_cached(
                        "SELECT rowid FROM product WHERE tenant_id = ?1 \
                         AND name >= ?2 COLLATE NOCASE AND name < ?3 COLLATE NOCASE \
                         ORDER BY name COLLATE NOCASE LIMIT 50",
                    )?
                    .query_map(
                        rusqlite::params![tenant, typed, format!("{typed}{}", char::MAX)],
                        |r| r.get::<_, i64>(0),
                    )?
                    .collect::<rusqlite::Result<Vec<_>>>()?,
            );
        }
        let ids = serde_json::to_string(&ids).map_err(|e| Error::Storage(e.to_string()))?;
        // One order whether or not the cap was reached, and no second pass over the index to
        // rank (bm25 read every doclist again): names that start with the typing, then the
        // shortest, the closest to what was typed.
        self.products_where(
            &store,
            // `+`: look the rows up by rowid, not by scanning the tenant's products.
            "WHERE +p.tenant_id = ?1 AND p.rowid IN (SELECT value FROM json_each(?2)) \
             ORDER BY substr(p.name, 1, length(?4)) = ?4 COLLATE NOCASE DESC, \
             length(p.name), p.name, p.sku LIMIT ?3",
            rusqlite::params![tenant, ids, limit as i64, typed],
        )
    }

    /// Imports products from CSV, all or nothing. Every row is checked first (fields, barcodes,
    /// duplicate SKUs and barcodes within the file and against the catalogue); any error and
    /// nothing is written, otherwise every row is written in one transaction.
    pub fn import_products_csv(
        &self,
        token: &SessionToken,
        input: impl Read,
    ) -> Result<ImportReport> {
        // Refused before the file is read, not after.
        drop(self.authorize(token, Op::ImportCatalogue)?);
        let mut rd = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(input.take(MAX_IMPORT_BYTES + 1));
        let mut valid = Vec::new();
        let mut errors = Vec::new();
        let mut rows = 0;
        // One day's rates for the whole file, even one imported across midnight.
        let now = self.clock.now_ms();
        for (i, rec) in rd.deserialize::<CsvRow>().enumerate() {
            rows += 1;
            let line = i as u64 + 2;
            let row = match rec {
                Ok(r) => r,
                Err(e) => {
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        return Err(Error::Io(std::io::Error::other(e.to_string())));
                    }
                    errors.push(RowError {
                        line: e.position().map_or(line, |p| p.line()),
                        field: "row".into(),
                        message: format!("unreadable: {e}"),
                    });
                    continue;
                }
            };
            match row
                .to_new()
                .and_then(|n| n.validate())
                .and_then(|v| self.check_rates(&v, now).map(|()| v))
            {
                Ok(v) => valid.push((line, v)),
                Err(e) => errors.push(RowError {
                    line,
                    field: e.field().to_owned(),
                    message: e.to_string(),
                }),
            }
        }
        if rd.position().byte() > MAX_IMPORT_BYTES {
            return Err(rejected("file", "is larger than 64 MiB: split it").into());
        }
        // Duplicates inside the file.
        let mut seen_sku = std::collections::HashMap::new();
        let mut seen_code = std::collections::HashMap::new();
        for (line, v) in &valid {
            if let Some(first) = seen_sku.insert(v.sku.clone(), *line) {
                errors.push(RowError {
                    line: *line,
                    field: "sku".into(),
                    message: format!("SKU {:?} is also on line {first}", v.sku),
                });
            }
            for b in &v.barcodes {
                if let Some(first) = seen_code.insert(b.as_str().to_owned(), *line) {
                    errors.push(RowError {
                        line: *line,
                        field: "barcodes".into(),
                        message: format!("barcode {b} is also on line {first}"),
                    });
                }
            }
        }
        let (auth, mut store) = self.authorize(token, Op::ImportCatalogue)?;
        // Clashes with the catalogue as it stands.
        {
            let conn = store.reader();
            let mut sku_q =
                conn.prepare_cached("SELECT 1 FROM product WHERE tenant_id = ? AND sku = ?")?;
            let mut code_q = conn.prepare_cached(
                "SELECT p.sku FROM product_barcode b JOIN product p ON p.id = b.product_id \
                 WHERE b.tenant_id = ? AND b.barcode = ?",
            )?;
            let tenant = self.tenant_id.to_string();
            for (line, v) in &valid {
                if sku_q.exists(rusqlite::params![tenant, v.sku])? {
                    errors.push(RowError {
                        line: *line,
                        field: "sku".into(),
                        message: format!("SKU {:?} is already in the catalogue", v.sku),
                    });
                }
                for b in &v.barcodes {
                    let owner: Option<String> = rusqlite::OptionalExtension::optional(
                        code_q.query_row(rusqlite::params![tenant, b.as_str()], |r| r.get(0)),
                    )?;
                    if let Some(owner) = owner {
                        errors.push(RowError {
                            line: *line,
                            field: "barcodes".into(),
                            message: format!("barcode {b} already belongs to SKU {owner:?}"),
                        });
                    }
                }
            }
        }
        if !errors.is_empty() || valid.is_empty() {
            errors.sort_by_key(|e| e.line);
            return Ok(ImportReport {
                imported: 0,
                rows,
                errors,
            });
        }
        let (signer, tenant_id, now) = (self.signer(), self.tenant_id, auth.now);
        let batch = Uuid::now_v7().to_string();
        let op = || Operation {
            action: "catalogue.import",
            entity_type: "catalogue_import",
            entity_id: batch.clone(),
        };
        store.write(&signer, self.clock.as_ref(), &auth.actor, op(), |uow| {
            for (i, (_, v)) in valid.iter().enumerate() {
                insert_product(uow, tenant_id, Uuid::now_v7(), v, now)?;
                if (i + 1) % IMPORT_ROWS_PER_RECORD == 0 {
                    uow.seal(op())?;
                }
            }
            Ok(())
        })?;
        tracing::info!(rows = valid.len(), "catalogue imported");
        Ok(ImportReport {
            imported: valid.len(),
            rows,
            errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_words_become_a_literal_prefix_query() {
        assert_eq!(fts_query("  redmi  no "), Some("\"redmi\"* \"no\"*".into()));
        assert_eq!(
            fts_query("a\"b OR c*"),
            Some("\"a\"* \"b\"* \"OR\"* \"c*\"*".into())
        );
        assert_eq!(fts_query("   "), None);
    }

    #[test]
    fn percentages_become_basis_points() {
        assert_eq!(percent_bp("gst_rate", "18").unwrap(), 1800);
        assert_eq!(percent_bp("gst_rate", "0.25%").unwrap(), 25);
        assert_eq!(percent_bp("gst_rate", "").unwrap(), 0);
        assert!(percent_bp("gst_rate", "101").is_err());
        assert!(percent_bp("gst_rate", "0.125").is_err());
        assert!(percent_bp("gst_rate", "-5").is_err());
    }
}
