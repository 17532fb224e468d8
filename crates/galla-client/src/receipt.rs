//! The bill handed to the customer. What CGST Rule 46 (tax invoice), Rule 49 (bill of supply)
//! and Rule 46A (invoice-cum-bill of supply) require on the document, and Rule 53(1A) on a
//! credit note, laid out in fixed-width lines for a till's receipt printer: 32 columns on
//! 58 mm paper, 42 or 48 on 80 mm.
//!
//! The layout ([`render`]) is pure over an issued [`Invoice`], which keeps its own copy of the
//! supplier's details as they were when it was issued, so a reprint years later says what the
//! first print said, and a copy of the buyer as billed (schema 19). [`PrintReceipt`] adds
//! the buyer, and records the print when it carries the buyer's GSTIN or address: contact
//! details are otherwise masked for every seat, and printing them is a look like any other.
//!
//! Tables: none of its own (a print with contact details is a `pii_access` of `customers`).
//!
//! Amounts carry no rupee sign: many receipt printers cannot print `₹`, so the total says
//! "Rs." once.

use serde::Serialize;

use galla_domain::gst::{DocumentKind, Supply};
use galla_domain::{DocumentNumber, Money, state_name};

use rusqlite::OptionalExtension;
use uuid::Uuid;

use crate::credit_notes::CreditNote;
use crate::engine::{Env, Record, WriteCx};
use crate::error::{Error, InputError, Result};
use crate::invoices::{self, Buyer, Invoice, InvoiceLine};
use crate::ops::{Command, Op};

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

/// The buyer as a bill names them (see [`Buyer`]).
pub type ReceiptBuyer = Buyer;

/// What to print: an invoice or a credit note, by number, on paper `columns` wide.
pub(crate) struct PrintReceipt {
    number: DocumentNumber,
    columns: u32,
    credit_note: bool,
}

impl PrintReceipt {
    /// The receipt of invoice `number`. Any seat that can look up invoices can print one (a
    /// reprint for a customer who lost theirs).
    pub(crate) fn invoice(number: &str, columns: u32) -> Result<PrintReceipt> {
        Ok(PrintReceipt {
            number: document_number(number)?,
            columns: paper(columns)?,
            credit_note: false,
        })
    }

    /// The printed credit note `number` (for the customer who brought goods back), laid out
    /// like a receipt, with the invoice it corrects.
    pub(crate) fn credit_note(number: &str, columns: u32) -> Result<PrintReceipt> {
        Ok(PrintReceipt {
            credit_note: true,
            ..PrintReceipt::invoice(number, columns)?
        })
    }
}

impl Command for PrintReceipt {
    const OP: Op = Op::ViewInvoices;
    type Output = Receipt;
    fn record(&self, _: &Env) -> Option<Record> {
        // A print that carries the buyer's contact details is recorded as a look at that
        // customer, named once the invoice is read: `buyer_to_print` seals it.
        None
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Receipt> {
        let columns = self.columns;
        if !self.credit_note {
            let invoice = invoices::load(cx, invoices::id_of(cx, &self.number)?)?;
            let buyer = buyer_to_print(cx, &invoice)?;
            return Ok(Receipt {
                number: invoice.number.clone(),
                columns,
                text: render(&invoice, buyer.as_ref(), columns as usize),
            });
        }
        let number = self.number;
        let found: Option<(String, String, i64)> = cx
            .conn()
            .prepare_cached(
                "SELECT id, invoice_id, issued_at_ms FROM credit_note \
                 WHERE tenant_id = ? AND number = ?",
            )?
            .query_row(
                [cx.tenant_id().to_string(), number.as_str().to_owned()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let (id, invoice_id, at) =
            found.ok_or_else(|| Error::NotFound(format!("credit note {number}")))?;
        let uuid = |s: &str| {
            Uuid::parse_str(s).map_err(|_| Error::DatabaseDamaged {
                detail: format!("credit note {number}: an id"),
            })
        };
        let note = crate::credit_notes::load(cx, uuid(&id)?)?;
        let invoice = invoices::load(cx, uuid(&invoice_id)?)?;
        let buyer = buyer_to_print(cx, &invoice)?;
        Ok(Receipt {
            number: note.number.clone(),
            columns,
            text: render_credit_note(&note, at, &invoice, buyer.as_ref(), columns as usize),
        })
    }
}

/// The buyer to print on a document of `invoice`, the print recorded (`invoice.receipt`, a
/// `pii_access` row) when it carries contact details (a GSTIN or an address): they are
/// otherwise masked for every seat, and printing them is a look like any other.
fn buyer_to_print(cx: &mut WriteCx<'_, '_>, invoice: &Invoice) -> Result<Option<Buyer>> {
    let Some(c) = invoice.customer_id else {
        return Ok(None);
    };
    let buyer = invoices::buyer_as_issued(cx, invoice, c)?;
    if buyer.gstin.is_some() || buyer.address.is_some() {
        crate::customers::record_pii_access(cx, Some(c), 1)?;
        cx.seal(Record::new("invoice.receipt", "customer", c))?;
    }
    Ok(Some(buyer))
}

/// A document number as typed, or why it is not one.
fn document_number(typed: &str) -> Result<DocumentNumber> {
    invoices::document_number("number", typed)
}

/// The paper's width in characters, or what widths there are.
fn paper(columns: u32) -> Result<u32> {
    if (MIN_COLUMNS..=MAX_COLUMNS).contains(&columns) {
        Ok(columns)
    } else {
        Err(InputError::Rejected {
            field: "columns",
            reason: format!(
                "a receipt is {MIN_COLUMNS} to {MAX_COLUMNS} characters wide \
                 (58 mm paper: 32; 80 mm: 42 or 48)"
            ),
        }
        .into())
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
    let mut out = Lines::new(columns);
    header(
        &mut out,
        inv,
        title(inv.doc_kind),
        &inv.number,
        inv.issued_at_ms,
        buyer,
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
        line_tax(&mut out, l);
        if l.discount_paise > 0 {
            out.pair("   Discount", &format!("-{}", amount(l.discount_paise)));
        }
        for imei in &l.imeis {
            out.wrapped(&format!("IMEI {imei}"), "   ", "   ");
        }
    }
    let rows: Vec<TaxRow> = inv
        .lines
        .iter()
        .map(|l| (l.gst_rate_bp, l.cgst_paise, l.sgst_paise, l.igst_paise))
        .collect();
    totals(
        &mut out,
        inv.supply,
        &rows,
        [
            inv.taxable_paise,
            inv.cess_paise,
            inv.round_off_paise,
            inv.total_paise,
        ],
    );
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
    signatory(&mut out, &inv.supplier.name);
    out.finish()
}

/// Lays a credit note out (CGST Rule 53(1A)): the supplier, the buyer and the place of supply
/// of the invoice it corrects, that invoice's number and date, the reason, each line taken
/// back with its tax, and how the money went back.
pub fn render_credit_note(
    note: &CreditNote,
    issued_at_ms: i64,
    inv: &Invoice,
    buyer: Option<&ReceiptBuyer>,
    columns: usize,
) -> String {
    let mut out = Lines::new(columns);
    header(
        &mut out,
        inv,
        "CREDIT NOTE",
        &note.number,
        issued_at_ms,
        buyer,
    );
    out.pair("Against invoice", &inv.number);
    out.pair("of", &issued_at(inv.issued_at_ms));
    out.wrapped(&format!("Reason: {}", note.reason), "", "   ");
    out.rule('-');
    let mut rows: Vec<TaxRow> = Vec::new();
    for l in &note.lines {
        let sold = inv.lines.iter().find(|s| s.line_no == l.invoice_line_no);
        out.wrapped(
            &format!("{}. {}", l.invoice_line_no, l.description),
            "",
            "   ",
        );
        let unit = sold.map_or("", |s| s.unit.as_str());
        out.pair(
            &format!("   {} {unit} back", l.quantity),
            &amount(l.total_paise),
        );
        if let Some(s) = sold {
            line_tax(&mut out, s);
        }
        for imei in &l.imeis {
            out.wrapped(&format!("IMEI {imei}"), "   ", "   ");
        }
        rows.push((
            sold.map_or(0, |s| s.gst_rate_bp),
            l.cgst_paise,
            l.sgst_paise,
            l.igst_paise,
        ));
    }
    totals(
        &mut out,
        inv.supply,
        &rows,
        [
            note.taxable_paise,
            note.cess_paise,
            note.round_off_paise,
            note.total_paise,
        ],
    );
    let settled = match note.settlement.as_str() {
        "refund_cash" => "Refunded in cash",
        "refund_upi" => "Refunded by UPI",
        "refund_card" => "Refunded to the card",
        "ledger_credit" => "Taken off the udhaar",
        other => other,
    };
    out.pair(settled, &amount(note.total_paise));
    signatory(&mut out, &inv.supplier.name);
    out.finish()
}

/// (GST rate, CGST, SGST or UTGST, IGST) of one line.
type TaxRow = (u32, i64, i64, i64);

/// The supplier as the invoice copied them, the document's title, number and date, the buyer
/// and the place of supply.
fn header(
    out: &mut Lines,
    inv: &Invoice,
    title: &str,
    number: &str,
    at_ms: i64,
    buyer: Option<&ReceiptBuyer>,
) {
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
    out.centred(title);
    out.rule('=');
    out.pair("Number", number);
    out.pair("Date", &issued_at(at_ms));
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
}

/// A line's HSN and rates.
fn line_tax(out: &mut Lines, l: &InvoiceLine) {
    let mut tax = format!("GST {}", percent(l.gst_rate_bp));
    if l.cess_rate_bp > 0 {
        tax.push_str(&format!(" + cess {}", percent(l.cess_rate_bp)));
    }
    if let Some(h) = &l.hsn {
        tax = format!("HSN {h}, {tax}");
    }
    out.wrapped(&tax, "   ", "   ");
}

/// The taxable value, each tax head by rate, cess, the round-off and the total:
/// `[taxable, cess, round_off, total]` in paise.
fn totals(
    out: &mut Lines,
    supply: Supply,
    rows: &[TaxRow],
    [taxable, cess, round_off, total]: [i64; 4],
) {
    out.rule('-');
    out.pair("Taxable value", &amount(taxable));
    let state_head = if supply == Supply::IntraUnionTerritory {
        "UTGST"
    } else {
        "SGST"
    };
    for (rate, cgst, sgst, igst) in tax_by_rate(rows) {
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
    if cess != 0 {
        out.pair("Cess", &amount(cess));
    }
    out.pair("Round-off", &amount(round_off));
    out.rule('-');
    out.pair("TOTAL Rs.", &amount(total));
    out.rule('-');
}

/// Rule 46(q): the supplier's signature.
fn signatory(out: &mut Lines, supplier: &str) {
    out.blank();
    out.wrapped(&format!("For {supplier}"), "", "");
    out.blank();
    out.wrapped("Authorised signatory", "", "");
}

/// Each GST rate's CGST, SGST/UTGST and IGST, lowest rate first; rates with no tax (exempt
/// lines, a bill of supply) are left out.
fn tax_by_rate(lines: &[TaxRow]) -> Vec<TaxRow> {
    let mut rows: Vec<TaxRow> = Vec::new();
    for &(rate, cgst, sgst, igst) in lines {
        match rows.iter_mut().find(|r| r.0 == rate) {
            Some(r) => {
                r.1 += cgst;
                r.2 += sgst;
                r.3 += igst;
            }
            None => rows.push((rate, cgst, sgst, igst)),
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
    fn new(columns: usize) -> Lines {
        Lines {
            w: columns.max(20),
            text: Vec::new(),
        }
    }

    fn finish(self) -> String {
        self.text.join("\n") + "\n"
    }

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
