//! The bill handed to the customer. What CGST Rule 46 (tax invoice), Rule 49 (bill of supply)
//! and Rule 46A (invoice-cum-bill of supply) require on the document, laid out in fixed-width
//! lines for a till's receipt printer: 32 columns on 58 mm paper, 42 or 48 on 80 mm.
//!
//! The layout ([`render`]) is pure over an issued [`Invoice`], which keeps its own copy of the
//! supplier's details as they were when it was issued, so a reprint years later says what the
//! first print said. [`Terminal::receipt`] adds the buyer, and records the print when it
//! carries the buyer's GSTIN: contact details are otherwise masked for every seat, and a
//! GSTIN printed for a registered buyer is a look at them like any other.
//!
//! Amounts carry no rupee sign: many receipt printers cannot print `₹`, so the total says
//! "Rs." once.

use serde::Serialize;

use galla_domain::gst::{DocumentKind, Supply};
use galla_domain::{DocumentNumber, Money, state_name};

use rusqlite::types::Value;
use uuid::Uuid;

use crate::crypto::ColumnCipher;
use crate::customers::Customer;
use crate::error::{Error, InputError, Result};
use crate::invoices::Invoice;
use crate::ops::Op;
use crate::sessions::SessionToken;
use crate::store::Store;
use crate::terminal::Terminal;
use crate::write::Field;

/// The narrowest receipt: 58 mm paper, the usual font.
pub const MIN_COLUMNS: u32 = 32;
/// A4 in a monospaced font; anything wider is a mistake, not a printer.
pub const MAX_COLUMNS: u32 = 100;

/// A printed bill: its text, one line per printed line, none wider than `columns` characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Receipt {
    pub number: String,
    pub columns: u32,
    pub text: String,
}

/// Who bought, as the bill names them (Rule 46(e)): the name; a registered buyer's GSTIN; and
/// where the rule asks for it, the address and state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReceiptBuyer {
    pub name: String,
    pub gstin: Option<String>,
    pub address: Option<String>,
    pub state_code: Option<u8>,
}

/// Rule 46(e): an unregistered buyer's name, address and state are due on a bill of this much
/// or more (₹50,000).
pub const BUYER_ADDRESS_FROM_PAISE: i64 = 5_000_000;

/// The buyer's columns of an invoice row, copied from the customer when the bill is issued
/// (schema 19): the name and state; the GSTIN of a registered buyer; the address only where
/// Rule 46(e) asks for it (a registered buyer, or a bill of ₹50,000 or more), so a small
/// bill does not keep a copy of an address the law does not need. GSTIN and address are
/// encrypted under the invoice's id, as the customer's are under theirs.
pub(crate) fn buyer_columns(
    cipher: &ColumnCipher,
    customer: Option<&Customer>,
    invoice_id: Uuid,
    total_paise: i64,
) -> Result<Vec<Field>> {
    let Some(c) = customer else {
        return Ok(Vec::new());
    };
    let seal = |column: &'static str, v: Option<&str>| -> Result<Value> {
        Ok(
            v.map(|s| cipher.encrypt_text("invoice", column, invoice_id, s))
                .transpose()?
                .map_or(Value::Null, Value::Blob),
        )
    };
    let address_due = c.gstin.is_some() || total_paise >= BUYER_ADDRESS_FROM_PAISE;
    Ok(vec![
        ("buyer_name", Value::Text(c.name.clone())),
        (
            "buyer_gstin_ct",
            seal("buyer_gstin_ct", c.gstin.as_ref().map(|g| g.as_str()))?,
        ),
        (
            "buyer_state",
            c.state_code
                .map_or(Value::Null, |s| Value::Integer(s.into())),
        ),
        (
            "buyer_address_ct",
            seal(
                "buyer_address_ct",
                c.address.as_deref().filter(|_| address_due),
            )?,
        ),
    ])
}

impl Terminal {
    /// The receipt of invoice `number`, `columns` characters wide. Any seat that can look up
    /// invoices can print one (a reprint for a customer who lost theirs). A receipt that
    /// carries a registered buyer's GSTIN is recorded as a look at that customer's details
    /// (`invoice.receipt`, a `pii_access` row).
    pub fn receipt(&self, token: &SessionToken, number: &str, columns: u32) -> Result<Receipt> {
        if !(MIN_COLUMNS..=MAX_COLUMNS).contains(&columns) {
            return Err(InputError::Rejected {
                field: "columns",
                reason: format!(
                    "a receipt is {MIN_COLUMNS} to {MAX_COLUMNS} characters wide \
                     (58 mm paper: 32; 80 mm: 42 or 48)"
                ),
            }
            .into());
        }
        let number = DocumentNumber::parse(number).map_err(|e| InputError::Rejected {
            field: "number",
            reason: e.to_string(),
        })?;
        let (auth, mut store) = self.authorize(token, Op::ViewInvoices)?;
        let id = self.invoice_id(&store, &number)?;
        let invoice = self.load_invoice(&store, id)?;
        let buyer = match invoice.customer_id {
            None => None,
            Some(c) => {
                let buyer = self.buyer_as_issued(&store, &invoice, c)?;
                if buyer.gstin.is_some() || buyer.address.is_some() {
                    self.record_pii_access(&mut store, &auth, Some(c), 1, "invoice.receipt")?;
                }
                Some(buyer)
            }
        };
        Ok(Receipt {
            number: invoice.number.clone(),
            columns,
            text: render(&invoice, buyer.as_ref(), columns as usize),
        })
    }
}

impl Terminal {
    /// The buyer as the invoice copied them when it was issued; for an invoice from before
    /// that copy was kept (schema 19), as the customer's record says now.
    fn buyer_as_issued(
        &self,
        store: &Store,
        invoice: &Invoice,
        customer_id: Uuid,
    ) -> Result<ReceiptBuyer> {
        let copy = store
            .reader()
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
            v.map(|ct| self.cipher.decrypt_text("invoice", column, invoice.id, &ct))
                .transpose()
        };
        match copy {
            (Some(name), gstin, state, address) => Ok(ReceiptBuyer {
                name,
                gstin: open("buyer_gstin_ct", gstin)?,
                address: open("buyer_address_ct", address)?,
                state_code: state.and_then(|s| u8::try_from(s).ok()),
            }),
            (None, ..) => {
                let c = self
                    .customers_where(store, "id = ?2", customer_id.to_string())?
                    .pop()
                    .ok_or_else(|| Error::DatabaseDamaged {
                        detail: format!("invoice {}: its customer is missing", invoice.number),
                    })?;
                let address_due =
                    c.gstin.is_some() || invoice.total_paise >= BUYER_ADDRESS_FROM_PAISE;
                Ok(ReceiptBuyer {
                    name: c.name,
                    gstin: c.gstin.map(|g| g.to_string()),
                    address: c.address.filter(|_| address_due),
                    state_code: c.state_code,
                })
            }
        }
    }
}

/// The document's title (Rules 46, 46A, 49).
pub fn title(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::TaxInvoice => "TAX INVOICE",
        DocumentKind::BillOfSupply => "BILL OF SUPPLY",
        DocumentKind::InvoiceCumBillOfSupply => "INVOICE-CUM-BILL OF SUPPLY",
    }
}

/// Lays the invoice out in lines of at most `columns` characters (at least 20).
pub fn render(inv: &Invoice, buyer: Option<&ReceiptBuyer>, columns: usize) -> String {
    let w = columns.max(20);
    let mut out = Lines {
        w,
        text: Vec::new(),
    };
    let s = &inv.supplier;

    out.centred(&s.name);
    if let Some(a) = &s.address {
        out.centred(a);
    }
    if let Some(g) = &s.gstin {
        out.centred(&format!("GSTIN {g}"));
    }
    if let Some(st) = state_name(s.state_code) {
        out.centred(&format!("{st} ({:02})", s.state_code));
    }
    out.rule('=');
    out.centred(title(inv.doc_kind));
    out.rule('=');
    out.pair("Number", &inv.number);
    out.pair("Date", &issued_at(inv.issued_at_ms));
    if let Some(b) = buyer {
        out.pair("Buyer", &b.name);
        if let Some(g) = &b.gstin {
            out.pair("Buyer GSTIN", g);
        }
        if let Some(a) = &b.address {
            out.wrapped(&format!("Address: {a}"), "", "   ");
            if let Some(st) = b.state_code.and_then(|c| state_name(c).map(|n| (c, n))) {
                out.pair("Buyer state", &format!("{} ({:02})", st.1, st.0));
            }
        }
    }
    let pos = state_name(inv.place_of_supply).unwrap_or("?");
    out.pair(
        "Place of supply",
        &format!("{pos} ({:02})", inv.place_of_supply),
    );
    out.rule('-');

    for l in &inv.lines {
        out.wrapped(&format!("{}. {}", l.line_no, l.description), "", "   ");
        out.pair(
            &format!(
                "   {} {} x {}",
                l.quantity,
                l.unit,
                amount(l.unit_price_paise)
            ),
            &amount(l.total_paise),
        );
        let mut tax = format!("GST {}", percent(l.gst_rate_bp));
        if l.cess_rate_bp > 0 {
            tax.push_str(&format!(" + cess {}", percent(l.cess_rate_bp)));
        }
        if let Some(h) = &l.hsn {
            tax = format!("HSN {h}, {tax}");
        }
        out.wrapped(&tax, "   ", "   ");
        if l.discount_paise > 0 {
            out.pair("   Discount", &format!("-{}", amount(l.discount_paise)));
        }
        for imei in &l.imeis {
            out.wrapped(&format!("IMEI {imei}"), "   ", "   ");
        }
    }
    out.rule('-');

    out.pair("Taxable value", &amount(inv.taxable_paise));
    let state_head = if inv.supply == Supply::IntraUnionTerritory {
        "UTGST"
    } else {
        "SGST"
    };
    for (rate, cgst, sgst, igst) in tax_by_rate(inv) {
        if cgst != 0 || sgst != 0 {
            out.pair(&format!("CGST {}", percent(rate / 2)), &amount(cgst));
            out.pair(
                &format!("{state_head} {}", percent(rate / 2)),
                &amount(sgst),
            );
        }
        if igst != 0 {
            out.pair(&format!("IGST {}", percent(rate)), &amount(igst));
        }
    }
    if inv.cess_paise != 0 {
        out.pair("Cess", &amount(inv.cess_paise));
    }
    out.pair("Round-off", &amount(inv.round_off_paise));
    out.rule('-');
    out.pair("TOTAL Rs.", &amount(inv.total_paise));
    out.rule('-');
    for p in &inv.payments {
        out.pair(&format!("Paid by {}", p.mode), &amount(p.amount_paise));
        if let (Some(t), Some(c)) = (p.tendered_paise, p.change_paise) {
            out.pair("   Tendered", &amount(t));
            out.pair("   Change", &amount(c));
        }
    }
    // Rule 46(p): whether tax is payable on reverse charge. A shop's own sales never are.
    if inv.doc_kind != DocumentKind::BillOfSupply {
        out.wrapped("Reverse charge: No", "", "");
    }
    if let Some(d) = &inv.declaration {
        out.wrapped(d, "", "");
    }
    out.blank();
    // Rule 46(q): the supplier's signature.
    out.wrapped(&format!("For {}", s.name), "", "");
    out.blank();
    out.wrapped("Authorised signatory", "", "");
    out.text.join("\n") + "\n"
}

/// Each GST rate's CGST, SGST/UTGST and IGST, from the lines, lowest rate first; rates with
/// no tax (exempt lines, a bill of supply) are left out.
fn tax_by_rate(inv: &Invoice) -> Vec<(u32, i64, i64, i64)> {
    let mut rows: Vec<(u32, i64, i64, i64)> = Vec::new();
    for l in &inv.lines {
        match rows.iter_mut().find(|r| r.0 == l.gst_rate_bp) {
            Some(r) => {
                r.1 += l.cgst_paise;
                r.2 += l.sgst_paise;
                r.3 += l.igst_paise;
            }
            None => rows.push((l.gst_rate_bp, l.cgst_paise, l.sgst_paise, l.igst_paise)),
        }
    }
    rows.retain(|r| r.1 != 0 || r.2 != 0 || r.3 != 0);
    rows.sort_by_key(|r| r.0);
    rows
}

fn amount(paise: i64) -> String {
    Money::from_paise(paise).to_string().replace('₹', "")
}

/// 1800 basis points as `18%`, 250 as `2.5%`.
fn percent(bp: u32) -> String {
    let (whole, frac) = (bp / 100, bp % 100);
    if frac == 0 {
        format!("{whole}%")
    } else {
        format!("{whole}.{}%", format!("{frac:02}").trim_end_matches('0'))
    }
}

/// The date and time of issue in India, `21-11-2026 14:32`.
fn issued_at(ms: i64) -> String {
    let ist = time::UtcOffset::from_hms(5, 30, 0).unwrap_or(time::UtcOffset::UTC);
    match time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) {
        Ok(t) => {
            let t = t.to_offset(ist);
            format!(
                "{:02}-{:02}-{} {:02}:{:02}",
                t.day(),
                u8::from(t.month()),
                t.year(),
                t.hour(),
                t.minute()
            )
        }
        Err(_) => format!("{ms} ms"),
    }
}

/// Lines of at most `w` characters. Width is counted in characters: a printer's columns hold
/// one each, and text in Indian scripts, whose vowel signs take no column of their own, only
/// comes out shorter than counted.
struct Lines {
    w: usize,
    text: Vec<String>,
}

impl Lines {
    fn blank(&mut self) {
        self.text.push(String::new());
    }

    fn rule(&mut self, c: char) {
        self.text.push(c.to_string().repeat(self.w));
    }

    fn centred(&mut self, s: &str) {
        for line in wrap(s, self.w, "", "") {
            let pad = (self.w - width(&line)) / 2;
            self.text.push(format!("{}{line}", " ".repeat(pad)));
        }
    }

    fn wrapped(&mut self, s: &str, first: &str, rest: &str) {
        self.text.extend(wrap(s, self.w, first, rest));
    }

    /// `left` and `right` on one line, `right` against the margin; when both do not fit,
    /// `left` wraps on lines of its own and `right` follows on the next.
    fn pair(&mut self, left: &str, right: &str) {
        let (l, r) = (width(left), width(right));
        if l + 1 + r <= self.w {
            self.text
                .push(format!("{left}{}{right}", " ".repeat(self.w - l - r)));
        } else {
            let first: String = left.chars().take_while(|c| *c == ' ').collect();
            self.text.extend(wrap(left, self.w, &first, "   "));
            for line in wrap(right, self.w, "", "") {
                let pad = self.w - width(&line);
                self.text.push(format!("{}{line}", " ".repeat(pad)));
            }
        }
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// Word-wraps `s` to `w` characters; the first line starts with `first`, later ones with
/// `rest`; a word longer than a line is cut. Control characters (a newline in an address)
/// become spaces.
fn wrap(s: &str, w: usize, first: &str, rest: &str) -> Vec<String> {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in clean.split(' ').filter(|x| !x.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let lead = if lines.is_empty() { first } else { rest };
            let room = w.saturating_sub(width(lead)).max(1);
            let used = width(&line);
            let gap = usize::from(used > 0);
            if used + gap + word.len() <= room {
                if gap == 1 {
                    line.push(' ');
                }
                line.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(format!("{lead}{line}"));
                line.clear();
                continue;
            }
            // A word longer than the whole line: cut it.
            let rest = word.split_off(room.min(word.len()));
            lines.push(format!("{lead}{}", word.iter().collect::<String>()));
            word = rest;
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        let lead = if lines.is_empty() { first } else { rest };
        lines.push(format!("{lead}{line}"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn percentages_print_as_a_shop_writes_them() {
        assert_eq!(percent(1800), "18%");
        assert_eq!(percent(250), "2.5%");
        assert_eq!(percent(900), "9%");
        assert_eq!(percent(125), "1.25%");
        assert_eq!(percent(0), "0%");
    }

    #[test]
    fn the_time_of_issue_is_indian_time() {
        // 2026-03-31T18:30:00Z is midnight of 1 April in India.
        assert_eq!(issued_at(1_774_981_800_000), "01-04-2026 00:00");
    }

    #[test]
    fn wrapping_keeps_words_and_cuts_only_what_cannot_fit() {
        assert_eq!(
            wrap("Redmi Note 13 5G", 10, "", ""),
            ["Redmi Note", "13 5G"]
        );
        assert_eq!(
            wrap("Redmi Note 13 5G", 10, "", "  "),
            ["Redmi Note", "  13 5G"]
        );
        assert_eq!(
            wrap("IMEI 490154203237518", 12, "  ", "  "),
            ["  IMEI", "  4901542032", "  37518"]
        );
        assert_eq!(wrap("ABCDEFGHIJKL", 5, "", ""), ["ABCDE", "FGHIJ", "KL"]);
        assert_eq!(wrap("", 5, "", ""), [""]);
        assert_eq!(wrap("12 MG Road\nPune", 40, "", ""), ["12 MG Road Pune"]);
    }

    proptest! {
        #[test]
        fn no_wrapped_line_is_wider_than_the_paper(
            text in "[a-zA-Z0-9 साबुनசோப்பு\\n-]{0,200}",
            w in 20usize..100,
            first in " {0,5}",
            rest in " {0,5}",
        ) {
            for line in wrap(&text, w, &first, &rest) {
                prop_assert!(width(&line) <= w, "{line:?} is wider than {w}");
            }
            // Nothing is lost: the words come back in order.
            let words: Vec<String> = text.split_whitespace().map(String::from).collect();
            let joined: String = wrap(&text, w, &first, &rest).join("");
            let squeezed: String = joined.chars().filter(|c| !c.is_whitespace()).collect();
            prop_assert_eq!(squeezed, words.concat());
        }
    }
}
