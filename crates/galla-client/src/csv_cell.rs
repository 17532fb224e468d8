//! Cells of the CSV files Galla writes, made safe to open in a spreadsheet (issue 21).
//!
//! A cell starting with `=`, `+`, `-` or `@` (or a tab or carriage return, which some
//! spreadsheets skip before reading one of those) is read by Excel, LibreOffice and Google Sheets
//! as a formula: a customer named `=HYPERLINK("http://…","Click")` in an export runs in the
//! owner's spreadsheet (OWASP's "CSV injection"). Every writer passes each cell through
//! [`neutralise`], which puts an apostrophe in front of such a cell: spreadsheets then show
//! the text as it is, with the apostrophe hidden. A cell that starts with an apostrophe of its
//! own gets one more, since a spreadsheet takes the first as its text marker. Galla's importers
//! undo it with [`restore`], as a spreadsheet does, so an export imports back unchanged (a phone
//! number in E.164 form starts with `+`, so every exported phone has one).

use std::borrow::Cow;

/// The first characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// The cell as it is written: with an apostrophe in front when a spreadsheet would otherwise
/// read it as a formula, or take its own first apostrophe away.
pub(crate) fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.starts_with(FORMULA_STARTS) || cell.starts_with('\'') {
        true => Cow::Owned(format!("'{cell}")),
        false => Cow::Borrowed(cell),
    }
}

/// Writes one row, each cell through [`neutralise`] (a copy only of a cell it changes).
pub(crate) fn write_row<W: std::io::Write>(
    w: &mut csv::Writer<W>,
    cells: impl IntoIterator<Item = impl AsRef<str>>,
) -> csv::Result<()> {
    for cell in cells {
        w.write_field(neutralise(cell.as_ref()).as_bytes())?;
    }
    w.write_record(None::<&[u8]>)
}

/// A cell as read by an importer: a leading apostrophe is the text marker (spreadsheets read
/// it so, and [`neutralise`] writes it), not part of the value.
pub(crate) fn restore(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formulas_are_defused_and_plain_text_is_left_alone() {
        for (cell, written) in [
            (
                "=HYPERLINK(\"http://x\",\"Click\")",
                "'=HYPERLINK(\"http://x\",\"Click\")",
            ),
            ("+919812345678", "'+919812345678"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("Asha Patil", "Asha Patil"),
            ("", ""),
            ("'quoted'", "''quoted'"),
            ("a=b", "a=b"),
        ] {
            assert_eq!(neutralise(cell), written, "{cell:?}");
        }
    }

    proptest! {
        /// Whatever a cell holds, what is written never starts a formula, and reading it back
        /// gives the cell.
        #[test]
        fn a_written_cell_is_never_a_formula_and_reads_back(cell in ".{0,40}") {
            let written = neutralise(&cell);
            prop_assert!(!written.starts_with(FORMULA_STARTS), "{:?}", written);
            prop_assert_eq!(restore(&written), cell.as_str());
        }
    }
}
