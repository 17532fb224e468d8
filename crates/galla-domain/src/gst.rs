//! GST on a sale, to the paisa (india-retail-rules.md: "Money", "CGST + SGST versus IGST",
//! "Tax invoice contents").
//!
//! Per line: gross = quantity × unit price; the line discount, then the line's share of a bill
//! discount, come off; tax-exclusive prices are the taxable value; tax-inclusive (MRP) prices
//! are split so that taxable value + taxes equals exactly what the shelf said. Each tax head is
//! rounded per line, half-up to the paisa. Intra-state supply pays CGST + SGST (UTGST in a union
//! territory without a legislature), each at half the rate; inter-state pays IGST at the full
//! rate (IGST Act ss. 7-8, 10; a walk-in counter sale is intra-state). Cess is ad valorem on the
//! same taxable value. The invoice rounds its total to the rupee, half-up, as its own line.

use serde::{Deserialize, Serialize};

use crate::money::Money;

/// Basis points in 100%.
pub const FULL_BP: u32 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaxError {
    #[error("line {line}: quantity must be at least 1")]
    ZeroQuantity { line: usize },
    #[error("line {line}: the price cannot be negative")]
    NegativePrice { line: usize },
    #[error("line {line}: a discount cannot exceed the price ({discount} off {price})")]
    DiscountAbovePrice {
        line: usize,
        discount: Money,
        price: Money,
    },
    #[error("the bill discount {discount} is more than the bill ({total})")]
    BillDiscountAboveTotal { discount: Money, total: Money },
    #[error("line {line}: a rate of {bp} basis points is not a GST rate (0 to 100%)")]
    BadRate { line: usize, bp: u32 },
    #[error("the amounts are too large for the till")]
    Overflow,
}

/// Whether the unit price includes GST (the MRP on a shelf label) or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum PriceBasis {
    Inclusive,
    Exclusive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Discount {
    #[default]
    None,
    /// A percentage of the line (or bill) value, in basis points.
    Percent(u32),
    /// A fixed amount off.
    Amount(Money),
}

/// One line as rung up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineInput {
    pub quantity: u32,
    pub unit_price: Money,
    pub basis: PriceBasis,
    #[serde(default)]
    pub discount: Discount,
    pub gst_rate_bp: u32,
    #[serde(default)]
    pub cess_rate_bp: u32,
}

/// Which taxes a supply attracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Supply {
    /// CGST + SGST.
    IntraState,
    /// CGST + UTGST (a union territory without its own legislature).
    IntraUnionTerritory,
    /// IGST.
    InterState,
}

/// Union territories without a legislature charge UTGST in place of SGST (UTGST Act s. 7):
/// Chandigarh 04, Lakshadweep 31, Dadra & Nagar Haveli and Daman & Diu 26 (and the former 25),
/// Andaman & Nicobar 35, Ladakh 38, and "other territory" 97.
pub fn is_utgst_territory(state_code: u8) -> bool {
    matches!(state_code, 4 | 25 | 26 | 31 | 35 | 38 | 97)
}

impl Supply {
    /// The supply for a sale by a shop in `shop_state` to `place_of_supply`. A walk-in counter
    /// sale is delivered at the shop, so it is intra-state whatever the buyer's home state.
    pub fn for_sale(shop_state: u8, place_of_supply: Option<u8>, walk_in: bool) -> Supply {
        let pos = if walk_in {
            shop_state
        } else {
            place_of_supply.unwrap_or(shop_state)
        };
        if pos != shop_state {
            Supply::InterState
        } else if is_utgst_territory(shop_state) {
            Supply::IntraUnionTerritory
        } else {
            Supply::IntraState
        }
    }
}

/// A line with its taxes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineTax {
    /// Quantity × unit price, as labelled (inclusive or exclusive).
    pub gross: Money,
    pub line_discount: Money,
    /// This line's share of the bill discount.
    pub bill_discount: Money,
    pub taxable: Money,
    pub cgst: Money,
    /// SGST, or UTGST for [`Supply::IntraUnionTerritory`].
    pub sgst: Money,
    pub igst: Money,
    pub cess: Money,
    /// Taxable value plus every tax.
    pub total: Money,
}

impl LineTax {
    pub fn tax(&self) -> Money {
        Money::from_paise(
            self.cgst.paise() + self.sgst.paise() + self.igst.paise() + self.cess.paise(),
        )
    }
}

/// The whole bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillTax {
    pub lines: Vec<LineTax>,
    pub taxable: Money,
    pub cgst: Money,
    pub sgst: Money,
    pub igst: Money,
    pub cess: Money,
    /// The sum of the line totals.
    pub subtotal: Money,
    /// To the nearest rupee, half-up: between -49 and +50 paise.
    pub round_off: Money,
    /// What the customer pays.
    pub total: Money,
}

/// `a × b / c`, rounded half-up; `a`, `b` ≥ 0, `c` > 0.
pub fn mul_div_half_up(a: i64, b: i64, c: i64) -> i64 {
    let n = i128::from(a) * i128::from(b);
    let c = i128::from(c);
    ((2 * n + c) / (2 * c)) as i64
}

fn add(a: i64, b: i64) -> Result<i64, TaxError> {
    a.checked_add(b).ok_or(TaxError::Overflow)
}

/// Taxes on one taxable value: (cgst, sgst, igst, cess), each rounded half-up.
fn heads(taxable: i64, supply: Supply, rate_bp: u32, cess_bp: u32) -> (i64, i64, i64, i64) {
    let cess = mul_div_half_up(taxable, cess_bp.into(), FULL_BP.into());
    match supply {
        Supply::InterState => (
            0,
            0,
            mul_div_half_up(taxable, rate_bp.into(), FULL_BP.into()),
            cess,
        ),
        Supply::IntraState | Supply::IntraUnionTerritory => {
            // Each head at half the rate, computed alike, so they are always equal.
            let half = mul_div_half_up(taxable, rate_bp.into(), 2 * i64::from(FULL_BP));
            (half, half, 0, cess)
        }
    }
}

/// Splits `amount` across `weights` in proportion, the shares summing exactly to `amount`
/// (largest remainder; ties to the earlier line).
fn apportion(amount: i64, weights: &[i64]) -> Vec<i64> {
    let total: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if total == 0 || amount == 0 {
        return vec![0; weights.len()];
    }
    let mut shares: Vec<i64> = Vec::with_capacity(weights.len());
    let mut rems: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let n = i128::from(amount) * i128::from(*w);
        shares.push((n / total) as i64);
        rems.push((n % total, i));
    }
    let mut left = amount - shares.iter().sum::<i64>();
    rems.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in rems {
        if left == 0 {
            break;
        }
        shares[i] += 1;
        left -= 1;
    }
    shares
}

fn discount_amount(d: Discount, value: i64) -> i64 {
    match d {
        Discount::None => 0,
        Discount::Percent(bp) => mul_div_half_up(value, bp.into(), FULL_BP.into()),
        Discount::Amount(m) => m.paise(),
    }
}

/// Computes every line and the bill. `bill_discount` comes off after line discounts, shared
/// across lines in proportion to what each still costs.
pub fn compute(
    lines: &[LineInput],
    bill_discount: Discount,
    supply: Supply,
) -> Result<BillTax, TaxError> {
    let mut gross = Vec::with_capacity(lines.len());
    let mut line_disc = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let line = i + 1;
        if l.quantity == 0 {
            return Err(TaxError::ZeroQuantity { line });
        }
        if l.unit_price.paise() < 0 {
            return Err(TaxError::NegativePrice { line });
        }
        if l.gst_rate_bp > FULL_BP || l.cess_rate_bp > FULL_BP {
            return Err(TaxError::BadRate {
                line,
                bp: l.gst_rate_bp.max(l.cess_rate_bp),
            });
        }
        let g = l
            .unit_price
            .paise()
            .checked_mul(i64::from(l.quantity))
            .ok_or(TaxError::Overflow)?;
        let d = discount_amount(l.discount, g);
        if d < 0 || d > g {
            return Err(TaxError::DiscountAbovePrice {
                line,
                discount: Money::from_paise(d),
                price: Money::from_paise(g),
            });
        }
        gross.push(g);
        line_disc.push(d);
    }
    let after_line: Vec<i64> = gross.iter().zip(&line_disc).map(|(g, d)| g - d).collect();
    let before_bill: i64 = after_line.iter().try_fold(0i64, |a, b| add(a, *b))?;
    let bill_d = discount_amount(bill_discount, before_bill);
    if bill_d < 0 || bill_d > before_bill {
        return Err(TaxError::BillDiscountAboveTotal {
            discount: Money::from_paise(bill_d),
            total: Money::from_paise(before_bill),
        });
    }
    let shares = apportion(bill_d, &after_line);

    let mut out = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let net = after_line[i] - shares[i];
        let (taxable, (cgst, sgst, igst, cess)) = match l.basis {
            PriceBasis::Exclusive => (net, heads(net, supply, l.gst_rate_bp, l.cess_rate_bp)),
            PriceBasis::Inclusive => {
                // Back out the taxable value, tax it, and let the taxable value absorb the
                // rounding so the line still totals exactly what the label said.
                let divisor = i64::from(FULL_BP + l.gst_rate_bp + l.cess_rate_bp);
                let first = mul_div_half_up(net, FULL_BP.into(), divisor);
                let h = heads(first, supply, l.gst_rate_bp, l.cess_rate_bp);
                (net - h.0 - h.1 - h.2 - h.3, h)
            }
        };
        let total = taxable + cgst + sgst + igst + cess;
        out.push(LineTax {
            gross: Money::from_paise(gross[i]),
            line_discount: Money::from_paise(line_disc[i]),
            bill_discount: Money::from_paise(shares[i]),
            taxable: Money::from_paise(taxable),
            cgst: Money::from_paise(cgst),
            sgst: Money::from_paise(sgst),
            igst: Money::from_paise(igst),
            cess: Money::from_paise(cess),
            total: Money::from_paise(total),
        });
    }
    let sum = |f: fn(&LineTax) -> Money| -> Result<i64, TaxError> {
        out.iter().try_fold(0i64, |a, l| add(a, f(l).paise()))
    };
    let subtotal = sum(|l| l.total)?;
    let rounded = mul_div_half_up(subtotal, 1, 100) * 100;
    Ok(BillTax {
        taxable: Money::from_paise(sum(|l| l.taxable)?),
        cgst: Money::from_paise(sum(|l| l.cgst)?),
        sgst: Money::from_paise(sum(|l| l.sgst)?),
        igst: Money::from_paise(sum(|l| l.igst)?),
        cess: Money::from_paise(sum(|l| l.cess)?),
        subtotal: Money::from_paise(subtotal),
        round_off: Money::from_paise(rounded - subtotal),
        total: Money::from_paise(rounded),
        lines: out,
    })
}

/// Which document a sale needs (CGST Rules 46, 46A, 49).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum DocumentKind {
    TaxInvoice,
    /// Exempt goods only, or a composition dealer (Rule 49).
    BillOfSupply,
    /// Taxable and exempt goods to an unregistered buyer, on one document (Rule 46A).
    InvoiceCumBillOfSupply,
}

impl DocumentKind {
    /// A composition dealer always issues a bill of supply; otherwise exempt-only sales get a
    /// bill of supply, mixed sales to an unregistered buyer an invoice-cum-bill of supply, and
    /// everything else a tax invoice (exempt lines on it at 0%).
    pub fn for_sale(composition_dealer: bool, lines: &[LineInput], buyer_registered: bool) -> Self {
        let taxed = |l: &LineInput| l.gst_rate_bp > 0 || l.cess_rate_bp > 0;
        let any_taxed = lines.iter().any(taxed);
        let any_exempt = lines.iter().any(|l| !taxed(l));
        if composition_dealer || !any_taxed {
            DocumentKind::BillOfSupply
        } else if any_exempt && !buyer_registered {
            DocumentKind::InvoiceCumBillOfSupply
        } else {
            DocumentKind::TaxInvoice
        }
    }

    /// Rule 49's declaration a composition dealer prints on every bill of supply.
    pub const COMPOSITION_DECLARATION: &'static str =
        "composition taxable person, not eligible to collect tax on supplies";
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rs(paise: i64) -> Money {
        Money::from_paise(paise)
    }

    fn line(qty: u32, price: i64, basis: PriceBasis, rate: u32) -> LineInput {
        LineInput {
            quantity: qty,
            unit_price: rs(price),
            basis,
            discount: Discount::None,
            gst_rate_bp: rate,
            cess_rate_bp: 0,
        }
    }

    #[test]
    fn exclusive_intra_state_18_percent() {
        // 2 × ₹499.00 at 18%, exclusive: taxable 998.00; CGST 9% = 89.82, SGST 89.82.
        let b = compute(
            &[line(2, 49_900, PriceBasis::Exclusive, 1800)],
            Discount::None,
            Supply::IntraState,
        )
        .unwrap();
        let l = &b.lines[0];
        assert_eq!(
            (l.taxable, l.cgst, l.sgst, l.igst),
            (rs(99_800), rs(8_982), rs(8_982), rs(0))
        );
        assert_eq!(b.subtotal, rs(117_764));
        assert_eq!(b.round_off, rs(36), "₹1,177.64 rounds to ₹1,178");
        assert_eq!(b.total, rs(117_800));
    }

    #[test]
    fn inclusive_mrp_keeps_the_shelf_price() {
        // MRP ₹118.00 at 18%: taxable 100.00, CGST 9.00, SGST 9.00 — the textbook case.
        let b = compute(
            &[line(1, 11_800, PriceBasis::Inclusive, 1800)],
            Discount::None,
            Supply::IntraState,
        )
        .unwrap();
        let l = &b.lines[0];
        assert_eq!(
            (l.taxable, l.cgst, l.sgst, l.total),
            (rs(10_000), rs(900), rs(900), rs(11_800))
        );
        // MRP ₹99.00 at 5%: 94.29 taxable (99/1.05 = 94.2857), 2.36 + 2.36 = 4.72 → 94.28 + 4.72.
        let b = compute(
            &[line(1, 9_900, PriceBasis::Inclusive, 500)],
            Discount::None,
            Supply::IntraState,
        )
        .unwrap();
        let l = &b.lines[0];
        assert_eq!((l.cgst, l.sgst), (rs(236), rs(236)));
        assert_eq!(l.taxable, rs(9_428));
        assert_eq!(l.total, rs(9_900));
    }

    #[test]
    fn inter_state_is_igst_and_a_walk_in_sale_is_never_inter_state() {
        let b = compute(
            &[line(1, 10_000, PriceBasis::Exclusive, 1800)],
            Discount::None,
            Supply::InterState,
        )
        .unwrap();
        assert_eq!((b.cgst, b.sgst, b.igst), (rs(0), rs(0), rs(1_800)));
        assert_eq!(Supply::for_sale(27, Some(29), true), Supply::IntraState);
        assert_eq!(Supply::for_sale(27, Some(29), false), Supply::InterState);
        assert_eq!(Supply::for_sale(27, None, false), Supply::IntraState);
        assert_eq!(
            Supply::for_sale(4, Some(4), false),
            Supply::IntraUnionTerritory
        );
        assert_eq!(
            Supply::for_sale(7, Some(7), false),
            Supply::IntraState,
            "Delhi has SGST"
        );
    }

    #[test]
    fn cess_is_on_the_same_taxable_value() {
        // ₹1,000 at 40% GST + 12% cess, exclusive, intra-state.
        let mut l = line(1, 100_000, PriceBasis::Exclusive, 4000);
        l.cess_rate_bp = 1200;
        let b = compute(&[l.clone()], Discount::None, Supply::IntraState).unwrap();
        assert_eq!(
            (b.cgst, b.sgst, b.cess, b.subtotal),
            (rs(20_000), rs(20_000), rs(12_000), rs(152_000))
        );
        // Inclusive: ₹1,520 on the label is the same sale.
        l.basis = PriceBasis::Inclusive;
        l.unit_price = rs(152_000);
        let b = compute(&[l], Discount::None, Supply::IntraState).unwrap();
        assert_eq!(
            (b.taxable, b.cess, b.subtotal),
            (rs(100_000), rs(12_000), rs(152_000))
        );
    }

    #[test]
    fn line_and_bill_discounts() {
        let mut a = line(1, 60_000, PriceBasis::Exclusive, 1800);
        a.discount = Discount::Percent(1000); // 10% off 600 = 60
        let b = line(1, 40_000, PriceBasis::Exclusive, 500);
        let bill = compute(&[a, b], Discount::Amount(rs(10_000)), Supply::IntraState).unwrap();
        // After line discount: 540 and 400 (sum 940); ₹100 bill discount shared 57.45 / 42.55.
        assert_eq!(bill.lines[0].line_discount, rs(6_000));
        assert_eq!(
            bill.lines[0].bill_discount.paise() + bill.lines[1].bill_discount.paise(),
            10_000
        );
        assert_eq!(bill.lines[0].bill_discount, rs(5_745));
        assert_eq!(bill.lines[0].taxable, rs(48_255));
        assert_eq!(bill.lines[1].taxable, rs(35_745));
        let mut over = line(1, 1_000, PriceBasis::Exclusive, 0);
        over.discount = Discount::Amount(rs(1_001));
        assert!(matches!(
            compute(&[over], Discount::None, Supply::IntraState),
            Err(TaxError::DiscountAbovePrice { line: 1, .. })
        ));
        assert!(matches!(
            compute(
                &[line(1, 1_000, PriceBasis::Exclusive, 0)],
                Discount::Amount(rs(1_001)),
                Supply::IntraState
            ),
            Err(TaxError::BillDiscountAboveTotal { .. })
        ));
        assert!(matches!(
            compute(
                &[line(0, 1_000, PriceBasis::Exclusive, 0)],
                Discount::None,
                Supply::IntraState
            ),
            Err(TaxError::ZeroQuantity { line: 1 })
        ));
    }

    #[test]
    fn round_off_is_half_up_to_the_rupee() {
        for (sub, off) in [(100_049, -49), (100_050, 50), (100_000, 0), (99_999, 1)] {
            let b = compute(
                &[line(1, sub, PriceBasis::Exclusive, 0)],
                Discount::None,
                Supply::IntraState,
            )
            .unwrap();
            assert_eq!(b.round_off, rs(off), "{sub}");
            assert_eq!(b.total.paise() % 100, 0);
        }
    }

    #[test]
    fn which_document() {
        let taxed = line(1, 100, PriceBasis::Exclusive, 1800);
        let exempt = line(1, 100, PriceBasis::Exclusive, 0);
        use DocumentKind as D;
        assert_eq!(
            D::for_sale(false, std::slice::from_ref(&taxed), false),
            D::TaxInvoice
        );
        assert_eq!(
            D::for_sale(false, std::slice::from_ref(&exempt), true),
            D::BillOfSupply
        );
        assert_eq!(
            D::for_sale(false, &[taxed.clone(), exempt.clone()], false),
            D::InvoiceCumBillOfSupply
        );
        assert_eq!(
            D::for_sale(false, &[taxed.clone(), exempt], true),
            D::TaxInvoice
        );
        assert_eq!(D::for_sale(true, &[taxed], true), D::BillOfSupply);
    }

    fn any_line() -> impl Strategy<Value = LineInput> {
        (
            1u32..50,
            0i64..5_000_000,
            any::<bool>(),
            proptest::sample::select(vec![0u32, 500, 1200, 1800, 2800, 4000]),
            proptest::sample::select(vec![0u32, 100, 1200, 2200]),
            0u32..=3000,
        )
            .prop_map(|(q, p, incl, rate, cess, disc)| LineInput {
                quantity: q,
                unit_price: Money::from_paise(p),
                basis: if incl {
                    PriceBasis::Inclusive
                } else {
                    PriceBasis::Exclusive
                },
                discount: Discount::Percent(disc),
                gst_rate_bp: rate,
                cess_rate_bp: cess,
            })
    }

    fn any_supply() -> impl Strategy<Value = Supply> {
        proptest::sample::select(vec![
            Supply::IntraState,
            Supply::IntraUnionTerritory,
            Supply::InterState,
        ])
    }

    proptest! {
        #[test]
        fn bills_add_up(lines in proptest::collection::vec(any_line(), 1..12),
                        bill_bp in 0u32..=2000,
                        supply in any_supply()) {
            let b = compute(&lines, Discount::Percent(bill_bp), supply).unwrap();
            let mut subtotal = 0;
            for (input, l) in lines.iter().zip(&b.lines) {
                // CGST and SGST are each half and equal; intra-state has no IGST and vice versa.
                prop_assert_eq!(l.cgst, l.sgst);
                match supply {
                    Supply::InterState => prop_assert_eq!(l.cgst.paise(), 0),
                    _ => prop_assert_eq!(l.igst.paise(), 0),
                }
                // Every line totals its taxable value and taxes.
                prop_assert_eq!(l.total.paise(), l.taxable.paise() + l.tax().paise());
                let net = l.gross.paise() - l.line_discount.paise() - l.bill_discount.paise();
                prop_assert!(net >= 0 && l.taxable.paise() >= 0);
                match input.basis {
                    // Inclusive pricing reproduces the label, to the paisa.
                    PriceBasis::Inclusive => prop_assert_eq!(l.total.paise(), net),
                    PriceBasis::Exclusive => {
                        prop_assert_eq!(l.taxable.paise(), net);
                        let full = mul_div_half_up(net, input.gst_rate_bp.into(), FULL_BP.into());
                        // Two half-rate heads differ from one full-rate rounding by at most a paisa.
                        prop_assert!((l.cgst.paise() + l.sgst.paise() + l.igst.paise() - full).abs() <= 1);
                    }
                }
                subtotal += l.total.paise();
            }
            prop_assert_eq!(b.subtotal.paise(), subtotal);
            // The total is the lines plus the round-off, a whole number of rupees.
            prop_assert_eq!(b.total.paise(), b.subtotal.paise() + b.round_off.paise());
            prop_assert_eq!(b.total.paise() % 100, 0);
            prop_assert!((-49..=50).contains(&b.round_off.paise()));
            let bill_share: i64 = b.lines.iter().map(|l| l.bill_discount.paise()).sum();
            let before: i64 = b.lines.iter().map(|l| l.gross.paise() - l.line_discount.paise()).sum();
            prop_assert_eq!(bill_share, mul_div_half_up(before, bill_bp.into(), FULL_BP.into()));
        }

        #[test]
        fn apportioned_shares_sum_exactly(amount in 0i64..10_000_000, weights in proptest::collection::vec(0i64..1_000_000, 1..20)) {
            let total: i64 = weights.iter().sum();
            let shares = apportion(amount, &weights);
            if total > 0 {
                prop_assert_eq!(shares.iter().sum::<i64>(), amount);
            }
            prop_assert!(shares.iter().all(|s| *s >= 0));
        }
    }
}
