//! The catalogue: products with their barcodes, HSN, GST rate, price and unit, found at the
//! counter by barcode (exact, indexed) or by name in any script (FTS5, prefix matching), and
//! imported from CSV all or nothing: every row is validated first, and either every row is
//! written in one transaction or none is, with a report naming each bad row and field.
//! A product's stock count moves with sales and returns ([`move_stock`]).
//!
//! Tables: `product`, `product_barcode`.

use std::io::Read;

use galla_domain::{Barcode, Money, RateSchedule};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::engine::{Env, ReadCx, Record, WriteCx};
use crate::error::{Error, InputError, Result, required};
use crate::ops::{Command, Op, Query};
use crate::rows::{Field, set, table};

table! {
    /// A product of the catalogue.
    struct ProductRow in "product", key id {
        id: Uuid,
        tenant_id: Uuid,
        sku: String,
        name: String,
        hsn: Option<String>,
        gst_rate_bp: u32,
        cess_rate_bp: u32,
        price_paise: i64,
        price_basis: String,
        unit: String,
        serialized: bool,
        imeis_per_unit: u8,
        stock: Option<i64>,
        created_at_ms: i64,
        updated_at_ms: i64,
    }
}

table! {
    /// One of a product's barcodes (EAN-13; UPC-A in its EAN-13 form).
    struct BarcodeRow in "product_barcode", key id {
        id: Uuid,
        tenant_id: Uuid,
        product_id: Uuid,
        barcode: String,
    }
}

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

/// A product's rates must agree with the rate schedule in force today where it covers the
/// HSN: a stale rate (from before a rate change) is refused rather than silently taxed.
fn check_rates(rates: &RateSchedule, p: &ValidProduct, now_ms: i64) -> Result<(), InputError> {
    let (Some(hsn), Ok(today)) = (&p.hsn, galla_domain::fiscal::ist_date(now_ms)) else {
        return Ok(());
    };
    match rates.rate_for(hsn, today) {
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

/// The product columns a form or an import row sets.
fn product_fields(p: &ValidProduct) -> Vec<Field> {
    vec![
        set("sku", &p.sku),
        set("name", &p.name),
        set("hsn", &p.hsn),
        set("gst_rate_bp", &p.gst_rate_bp),
        set("cess_rate_bp", &p.cess_rate_bp),
        set("price_paise", &p.price_paise),
        set("price_basis", &basis_text(p.price_basis)),
        set("unit", &p.unit),
        set("serialized", &p.serialized),
        set("imeis_per_unit", &p.imeis_per_unit),
        set("stock", &p.stock),
    ]
}

fn insert_barcode(cx: &mut WriteCx<'_, '_>, product: Uuid, code: &str) -> Result<()> {
    cx.insert(&BarcodeRow {
        id: Uuid::now_v7(),
        tenant_id: cx.tenant_id(),
        product_id: product,
        barcode: code.to_owned(),
    })
}

fn insert_product(cx: &mut WriteCx<'_, '_>, id: Uuid, p: &ValidProduct) -> Result<()> {
    cx.insert(&ProductRow {
        id,
        tenant_id: cx.tenant_id(),
        sku: p.sku.clone(),
        name: p.name.clone(),
        hsn: p.hsn.clone(),
        gst_rate_bp: p.gst_rate_bp,
        cess_rate_bp: p.cess_rate_bp,
        price_paise: p.price_paise,
        price_basis: basis_text(p.price_basis).to_owned(),
        unit: p.unit.clone(),
        serialized: p.serialized,
        imeis_per_unit: p.imeis_per_unit,
        stock: p.stock,
        created_at_ms: cx.now(),
        updated_at_ms: cx.now(),
    })?;
    for b in &p.barcodes {
        insert_barcode(cx, id, b.as_str())?;
    }
    Ok(())
}

/// A unique key refused as the person entering the product would say it.
fn conflict_of(e: Error, p: &ValidProduct) -> Error {
    match &e {
        Error::Duplicate { what: "SKU", .. } => {
            InputError::Conflict(format!("a product with SKU {:?} already exists", p.sku)).into()
        }
        Error::Duplicate {
            what: "barcode", ..
        } => {
            InputError::Conflict("one of these barcodes already belongs to another product".into())
                .into()
        }
        _ => e,
    }
}

/// Adds `delta` to a product's stock count, when it keeps one. A count may go below zero: a
/// till never refuses a sale because a count was wrong; the owner sees it and corrects it.
pub(crate) fn move_stock(cx: &mut WriteCx<'_, '_>, product: Uuid, delta: i64) -> Result<()> {
    let stock: Option<Option<i64>> = cx
        .conn()
        .prepare_cached("SELECT stock FROM product WHERE id = ?")?
        .query_row([product.to_string()], |r| r.get(0))
        .optional()?;
    if let Some(Some(n)) = stock {
        cx.update::<ProductRow>(&product.to_string(), &[set("stock", &(n + delta))])?;
    }
    Ok(())
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

/// Whether an IMEI may be sold: every time it was sold, it came back on a credit note.
pub(crate) fn imei_in_stock(cx: &ReadCx<'_>, imei: &str) -> Result<bool> {
    let out: i64 = cx
        .conn()
        .prepare_cached(
            "SELECT (SELECT count(*) FROM invoice_imei WHERE tenant_id = ?1 AND imei = ?2) \
                  - (SELECT count(*) FROM credit_note_imei WHERE tenant_id = ?1 AND imei = ?2)",
        )?
        .query_row(rusqlite::params![cx.tenant_id().to_string(), imei], |r| {
            r.get(0)
        })?;
    Ok(out <= 0)
}

fn products_where(
    cx: &ReadCx<'_>,
    clause: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Product>> {
    let sql = format!("{PRODUCT_SELECT} {clause}");
    let mut stmt = cx.conn().prepare_cached(&sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(product_from_row(r)?);
    }
    Ok(out)
}

/// The product a scanned or typed barcode belongs to (UPC-A and EAN-13 forms alike).
pub(crate) fn by_barcode(cx: &ReadCx<'_>, code: &Barcode) -> Result<Option<Product>> {
    Ok(products_where(
        cx,
        "JOIN product_barcode pb ON pb.product_id = p.id WHERE pb.tenant_id = ?1 AND pb.barcode = ?2",
        rusqlite::params![cx.tenant_id().to_string(), code.as_str()],
    )?
    .pop())
}

pub(crate) fn by_id(cx: &ReadCx<'_>, id: Uuid) -> Result<Option<Product>> {
    Ok(products_where(
        cx,
        "WHERE p.tenant_id = ?1 AND p.id = ?2",
        rusqlite::params![cx.tenant_id().to_string(), id.to_string()],
    )?
    .pop())
}

pub(crate) fn by_sku(cx: &ReadCx<'_>, sku: &str) -> Result<Option<Product>> {
    Ok(products_where(
        cx,
        "WHERE p.tenant_id = ?1 AND p.sku = ?2",
        rusqlite::params![cx.tenant_id().to_string(), sku.trim()],
    )?
    .pop())
}

/// What the scanner sent or the clerk typed in the code box: a barcode when it is one (a
/// valid check digit) and known, else a SKU.
pub(crate) fn by_code(cx: &ReadCx<'_>, code: &str) -> Result<Option<Product>> {
    let code = code.trim();
    if let Ok(b) = Barcode::parse(code)
        && let Some(p) = by_barcode(cx, &b)?
    {
        return Ok(Some(p));
    }
    by_sku(cx, code)
}

/// Products whose name or SKU has words starting with each typed word, best match first.
///
/// A short prefix in a big catalogue matches tens of thousands of names, so at most 300
/// index matches are considered, plus, when that cap is reached, the names that start with
/// what was typed. Those are returned names starting with the typing first, then shortest
/// first (the closest to what was typed); past the cap the clerk types one more letter.
fn search(cx: &ReadCx<'_>, typed: &str, limit: usize) -> Result<Vec<Product>> {
    // At most this many index matches are considered. Counting every match of a common
    // word in half a million names is what made search slow (benchmarks.md).
    const CONSIDER_AT_MOST: i64 = 300;
    let Some(q) = fts_query(typed) else {
        return Ok(Vec::new());
    };
    let limit = limit.clamp(1, 200);
    let tenant = cx.tenant_id().to_string();
    let mut ids: Vec<i64> = cx
        .conn()
        .prepare_cached("SELECT rowid FROM product_fts WHERE product_fts MATCH ?1 LIMIT ?2")?
        .query_map(rusqlite::params![q, CONSIDER_AT_MOST], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    // Names that start with what was typed are the likeliest targets: always among those
    // considered, however many others match.
    let typed = typed.trim();
    if ids.len() as i64 >= CONSIDER_AT_MOST {
        ids.extend(
            cx.conn()
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
    let ids = crate::error::to_json(&ids)?;
    // One order whether or not the cap was reached, and no second pass over the index to
    // rank (bm25 read every doclist again): names that start with the typing, then the
    // shortest, the closest to what was typed.
    products_where(
        cx,
        // `+`: look the rows up by rowid, not by scanning the tenant's products.
        "WHERE +p.tenant_id = ?1 AND p.rowid IN (SELECT value FROM json_each(?2)) \
         ORDER BY substr(p.name, 1, length(?4)) = ?4 COLLATE NOCASE DESC, \
         length(p.name), p.name, p.sku LIMIT ?3",
        rusqlite::params![tenant, ids, limit as i64, typed],
    )
}

/// How a product is looked up.
pub(crate) enum FindProducts {
    Barcode(Barcode),
    /// A barcode when it is one and known, else a SKU.
    Code(String),
    Id(Uuid),
    Sku(String),
    /// Words of the name or SKU.
    Search {
        typed: String,
        limit: usize,
    },
    /// The product whose barcode or SKU is exactly what was typed or scanned, first, then the
    /// search's matches. A stock keeper scans a box's barcode to find its product; a barcode
    /// is no word of any name, so a name search alone found nothing.
    Find {
        typed: String,
        limit: usize,
    },
}

impl FindProducts {
    pub(crate) fn barcode(code: &str) -> Result<FindProducts> {
        Barcode::parse(code)
            .map(FindProducts::Barcode)
            .map_err(|e| rejected("barcode", e.to_string()).into())
    }
}

impl Query for FindProducts {
    const OP: Op = Op::FindProducts;
    type Output = Vec<Product>;
    fn run(self, cx: &ReadCx<'_>) -> Result<Vec<Product>> {
        let one = |p: Option<Product>| p.into_iter().collect();
        Ok(match self {
            FindProducts::Barcode(b) => one(by_barcode(cx, &b)?),
            FindProducts::Code(c) => one(by_code(cx, &c)?),
            FindProducts::Id(id) => one(by_id(cx, id)?),
            FindProducts::Sku(s) => one(by_sku(cx, &s)?),
            FindProducts::Search { typed, limit } => search(cx, &typed, limit)?,
            FindProducts::Find { typed, limit } => {
                let exact = by_code(cx, &typed)?;
                let mut found = search(cx, &typed, limit)?;
                if let Some(p) = exact {
                    found.retain(|f| f.id != p.id);
                    found.insert(0, p);
                    found.truncate(limit.clamp(1, 200));
                }
                found
            }
        })
    }
}

/// Adds a product; returns its id.
pub(crate) struct AddProduct {
    id: Uuid,
    valid: ValidProduct,
}

impl AddProduct {
    pub(crate) fn new(new: &NewProduct) -> Result<AddProduct> {
        Ok(AddProduct {
            id: Uuid::now_v7(),
            valid: new.validate()?,
        })
    }
}

impl Command for AddProduct {
    const OP: Op = Op::EditCatalogue;
    type Output = Uuid;
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::new("product.create", "product", self.id))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Uuid> {
        check_rates(cx.rates(), &self.valid, cx.now())?;
        insert_product(cx, self.id, &self.valid).map_err(|e| conflict_of(e, &self.valid))?;
        Ok(self.id)
    }
}

/// Saves an edited product: every field as the form has it, barcodes included, except the
/// stock count ([`SetStockCount`]). Sales already rung up keep the price and tax they were
/// rung up with; finalized invoices are facts and never change.
pub(crate) struct UpdateProduct {
    id: Uuid,
    valid: ValidProduct,
}

impl UpdateProduct {
    pub(crate) fn new(id: Uuid, edited: &NewProduct) -> Result<UpdateProduct> {
        Ok(UpdateProduct {
            id,
            valid: edited.validate()?,
        })
    }
}

impl Command for UpdateProduct {
    const OP: Op = Op::EditCatalogue;
    type Output = ();
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::new("product.update", "product", self.id))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<()> {
        let UpdateProduct { id, valid } = self;
        check_rates(cx.rates(), &valid, cx.now())?;
        let existing: Vec<(String, String)> = {
            let conn = cx.conn();
            let known: bool = conn
                .prepare_cached("SELECT count(*) FROM product WHERE tenant_id = ? AND id = ?")?
                .query_row([cx.tenant_id().to_string(), id.to_string()], |r| r.get(0))?;
            if !known {
                return Err(Error::NotFound(format!("product {id}")));
            }
            conn.prepare_cached("SELECT id, barcode FROM product_barcode WHERE product_id = ?")?
                .query_map([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let written = (|| {
            // The stock count moves with every sale and return; a form opened before one
            // would set it back. Counts change through `SetStockCount`.
            let mut fields: Vec<_> = product_fields(&valid)
                .into_iter()
                .filter(|(c, _)| *c != "stock")
                .collect();
            fields.push(set("updated_at_ms", &cx.now()));
            cx.update::<ProductRow>(&id.to_string(), &fields)?;
            for (bid, code) in &existing {
                if !valid.barcodes.iter().any(|b| b.as_str() == code) {
                    cx.delete::<BarcodeRow>(bid)?;
                }
            }
            for b in &valid.barcodes {
                if !existing.iter().any(|(_, code)| code == b.as_str()) {
                    insert_barcode(cx, id, b.as_str())?;
                }
            }
            Ok(())
        })();
        written.map_err(|e| conflict_of(e, &valid))
    }
}

/// Records a stock count (from counting the shelf), or stops counting with `None`.
pub(crate) struct SetStockCount {
    id: Uuid,
    count: Option<i64>,
}

impl SetStockCount {
    pub(crate) fn new(id: Uuid, count: Option<i64>) -> Result<SetStockCount> {
        if count.is_some_and(|n| !(0..=10_000_000).contains(&n)) {
            return Err(rejected("stock", "a count is 0 to 1,00,00,000").into());
        }
        Ok(SetStockCount { id, count })
    }
}

impl Command for SetStockCount {
    const OP: Op = Op::EditCatalogue;
    type Output = ();
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::new("product.stock_count", "product", self.id))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<()> {
        cx.update::<ProductRow>(
            &self.id.to_string(),
            &[set("stock", &self.count), set("updated_at_ms", &cx.now())],
        )
    }
}

/// A catalogue CSV read and checked before anything is locked: every row's fields and
/// barcodes, and duplicate SKUs and barcodes within the file. Clashes with the catalogue are
/// checked by the import itself, in its transaction.
pub(crate) struct ProductCsv {
    rows: usize,
    valid: Vec<(u64, ValidProduct)>,
    errors: Vec<RowError>,
}

impl ProductCsv {
    /// Reads `input` (at most 64 MiB), each row's rates checked against the schedule of the
    /// IST day `now_ms` falls on (one day for the whole file, even across midnight).
    pub(crate) fn read(input: impl Read, rates: &RateSchedule, now_ms: i64) -> Result<ProductCsv> {
        let mut rd = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(input.take(MAX_IMPORT_BYTES + 1));
        let mut valid = Vec::new();
        let mut errors = Vec::new();
        let mut rows = 0;
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
                .and_then(|v| check_rates(rates, &v, now_ms).map(|()| v))
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
        Ok(ProductCsv {
            rows,
            valid,
            errors,
        })
    }
}

/// Imports products from CSV, all or nothing: any error and nothing is written, otherwise
/// every row is written in one transaction.
pub(crate) struct ImportProducts {
    batch: Uuid,
    csv: ProductCsv,
}

impl ImportProducts {
    pub(crate) fn new(csv: ProductCsv) -> ImportProducts {
        ImportProducts {
            batch: Uuid::now_v7(),
            csv,
        }
    }
}

impl Command for ImportProducts {
    const OP: Op = Op::ImportCatalogue;
    type Output = ImportReport;
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::new(
            "catalogue.import",
            "catalogue_import",
            self.batch,
        ))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<ImportReport> {
        let ProductCsv {
            rows,
            valid,
            mut errors,
        } = self.csv;
        // Clashes with the catalogue as it stands.
        {
            let conn = cx.conn();
            let mut sku_q =
                conn.prepare_cached("SELECT 1 FROM product WHERE tenant_id = ? AND sku = ?")?;
            let mut code_q = conn.prepare_cached(
                "SELECT p.sku FROM product_barcode b JOIN product p ON p.id = b.product_id \
                 WHERE b.tenant_id = ? AND b.barcode = ?",
            )?;
            let tenant = cx.tenant_id().to_string();
            for (line, v) in &valid {
                if sku_q.exists(rusqlite::params![tenant, v.sku])? {
                    errors.push(RowError {
                        line: *line,
                        field: "sku".into(),
                        message: format!("SKU {:?} is already in the catalogue", v.sku),
                    });
                }
                for b in &v.barcodes {
                    let owner: Option<String> = code_q
                        .query_row(rusqlite::params![tenant, b.as_str()], |r| r.get(0))
                        .optional()?;
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
        let record = || Record::new("catalogue.import", "catalogue_import", self.batch);
        for (i, (_, v)) in valid.iter().enumerate() {
            insert_product(cx, Uuid::now_v7(), v)?;
            if (i + 1) % IMPORT_ROWS_PER_RECORD == 0 {
                cx.seal(record())?;
            }
        }
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
