// Money on screen. Amounts are integer paise from the engine; the page never does tax maths,
// it shows the engine's quote. Rupees typed by a clerk become paise without floating point.

import type { Discount } from "./bindings";

const grouping = new Intl.NumberFormat("en-IN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** `149999` paise → `₹1,499.99`; Indian digit grouping (`₹1,49,999.00`). */
export function rupees(paise: number): string {
  const sign = paise < 0 ? "−" : "";
  const abs = Math.abs(paise);
  const whole = Math.trunc(abs / 100);
  const frac = abs % 100;
  // Format the whole part and the paise separately: no float rounding of large amounts.
  const text = grouping.format(whole).replace(/\.00$/, "") + "." + String(frac).padStart(2, "0");
  return `${sign}₹${text}`;
}

/** What a clerk typed (`1,499.5`, `₹ 200`) in paise, or null if it is not an amount. */
export function parseRupees(text: string): number | null {
  const t = text.replace(/[₹,\s]/g, "");
  const m = /^(\d{1,9})(?:\.(\d{0,2}))?$/.exec(t);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
}

/** A percentage with at most two decimals ("18", "2.5") in basis points, or null. */
export function parsePercent(text: string): number | null {
  const m = /^(\d{1,3})(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!m) return null;
  const bp = Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
  return bp <= 10_000 ? bp : null;
}

/** A bill discount as typed: nothing is none, a percentage or rupees as chosen; null when the
 *  text is not one. Whether it is within the seat's limit is the engine's to say. */
export function parseDiscount(text: string, kind: "percent" | "amount"): Discount | null {
  if (text.trim() === "") return { kind: "none" };
  if (kind === "percent") {
    const bp = parsePercent(text);
    return bp === null ? null : bp === 0 ? { kind: "none" } : { kind: "percent", value: bp };
  }
  const paise = parseRupees(text);
  return paise === null ? null : paise === 0 ? { kind: "none" } : { kind: "amount", value: paise };
}

/** How the bill-discount field shows a discount the sale keeps: `10` in %, `49.50` in ₹; the
 *  kind is null for none (the field keeps whichever the clerk had chosen). Reads back through
 *  `parseDiscount` as the same discount. */
export function discountField(d: Discount): { text: string; kind: "percent" | "amount" | null } {
  if (d.kind === "none") return { text: "", kind: null };
  if (d.kind === "percent") return { text: percent(d.value).replace(/%$/, ""), kind: "percent" };
  const frac = d.value % 100;
  const whole = String(Math.trunc(d.value / 100));
  return { text: frac === 0 ? whole : `${whole}.${String(frac).padStart(2, "0")}`, kind: "amount" };
}

/** Whether two discounts take the same off. */
export function sameDiscount(a: Discount | null, b: Discount): boolean {
  if (a === null || a.kind !== b.kind) return false;
  return a.kind === "none" || a.value === (b as { value: number }).value;
}

/** Basis points as a percentage for a label: `1800` → `18%`, `250` → `2.5%`. */
export function percent(bp: number): string {
  return `${(bp / 100).toFixed(2).replace(/\.?0+$/, "")}%`;
}

/** Cash handed over minus what is due; null when not enough was handed over. */
export function changeDue(duePaise: number, tenderedPaise: number): number | null {
  return tenderedPaise >= duePaise ? tenderedPaise - duePaise : null;
}
