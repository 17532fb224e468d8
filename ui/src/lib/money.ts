// Money on screen. Amounts are integer paise from the engine; the page never does tax maths,
// it shows the engine's quote. Rupees typed by a clerk become paise without floating point.

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

/** Basis points as a percentage for a label: `1800` → `18%`, `250` → `2.5%`. */
export function percent(bp: number): string {
  return `${(bp / 100).toFixed(2).replace(/\.?0+$/, "")}%`;
}

/** Cash handed over minus what is due; null when not enough was handed over. */
export function changeDue(duePaise: number, tenderedPaise: number): number | null {
  return tenderedPaise >= duePaise ? tenderedPaise - duePaise : null;
}
