// The back-office screens' rules: idle timeouts typed in minutes, day ranges for the audit
// filter, a seat's state in words and the audit trail's actions in plain words. Pure; the
// engine checks every value again.
import type { SeatDetails } from "./api";

/** A timeout as the owner types it, in minutes ("0.5" is 30 seconds). */
export function minutesLabel(ms: number): string {
  const minutes = ms / 60_000;
  return Number.isInteger(minutes) ? String(minutes) : minutes.toFixed(2).replace(/0+$/, "");
}

/** Milliseconds from typed minutes, or an error in words when out of `[minMs, maxMs]`. */
export function parseMinutes(text: string, minMs: number, maxMs: number): { ms: number } | { error: string } {
  const t = text.trim().replace(",", ".");
  if (!/^\d+(\.\d+)?$/.test(t)) return { error: "Type minutes as a number, e.g. 5 or 0.5." };
  const ms = Math.round(Number(t) * 60_000);
  if (ms < minMs || ms > maxMs) {
    return { error: `Between ${minutesLabel(minMs)} and ${minutesLabel(maxMs)} minutes.` };
  }
  return { ms };
}

/** Local midnight at the start of a `yyyy-mm-dd` day (as a date input gives it), or null. */
export function dayStartMs(day: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(d.getTime()) ? null : d.getTime();
}

/** Local midnight after a `yyyy-mm-dd` day: the exclusive end of a range that includes it. */
export function dayEndMs(day: string): number | null {
  const start = dayStartMs(day);
  if (start === null) return null;
  const d = new Date(start);
  d.setDate(d.getDate() + 1);
  return d.getTime();
}

/** Date and time as a clerk reads them: "21 Nov 2026, 15:30:05". */
export function timeLabel(ms: number, locale = "en-IN"): string {
  return new Date(ms).toLocaleString(locale, {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
  });
}

export type SeatState = { tone: "ok" | "warn" | "bad"; text: string };

/** What a seat can do right now, in words, for the seats list. */
export function seatState(
  seat: Pick<SeatDetails, "revoked_at_ms" | "locked_until_ms" | "support_until_ms">,
  nowMs: number,
): SeatState {
  if (seat.revoked_at_ms !== null) return { tone: "bad", text: "Revoked" };
  if (seat.support_until_ms !== null && seat.support_until_ms <= nowMs) return { tone: "bad", text: "Support ended" };
  if (seat.locked_until_ms !== null && seat.locked_until_ms > nowMs) {
    return { tone: "warn", text: `Locked out for ${Math.ceil((seat.locked_until_ms - nowMs) / 1000)} s` };
  }
  if (seat.support_until_ms !== null) return { tone: "warn", text: "Support access" };
  return { tone: "ok", text: "Active" };
}

const ACTIONS: Record<string, string> = {
  "shop.create": "Shop created",
  "shop.settings": "Shop settings changed",
  "shop.set_policy": "Session policy changed",
  "shop.rename": "Shop renamed",
  "seat.add": "Seat added",
  "seat.set_access": "Roles changed",
  "seat.reset_secret": "PIN reset",
  "seat.change_secret": "Own PIN changed",
  "seat.reset_second_factor": "Two-step sign-in reset",
  "seat.second_factor_set": "Two-step sign-in set up",
  "seat.revoke": "Seat revoked",
  "seat.sign_out_everywhere": "Signed out everywhere",
  "seat.grant_support": "Support access granted",
  "session.sign_in": "Signed in",
  "session.sign_in_failed": "Sign-in failed",
  "session.unlock": "Unlocked",
  "session.reauthenticate": "PIN confirmed",
  "cart.open": "Sale started",
  "cart.add_line": "Item added",
  "cart.remove_line": "Item removed",
  "cart.set_quantity": "Quantity changed",
  "cart.discount": "Discount given",
  "cart.set_imeis": "IMEIs entered",
  "cart.hold": "Sale held",
  "cart.resume": "Sale resumed",
  "cart.discard": "Sale discarded",
  "cart.terms": "Sale's customer or bill discount set",
  "invoice.finalize": "Invoice issued",
  "invoice.cancel": "Invoice cancelled",
  "credit_note.issue": "Credit note issued",
  "ledger.payment": "Udhaar payment received",
  "customer.create": "Customer added",
  "customer.update": "Customer details corrected",
  "customer.reveal": "Customer's contact details shown",
  "customers.export": "Customers exported with contact details",
  "customer.set_credit_limit": "Credit limit set",
  "customers.import": "Customers imported",
  "product.create": "Product added",
  "product.update": "Product changed",
  "product.stock_count": "Stock counted",
  "catalogue.import": "Products imported",
  "day.close": "Day closed",
  "security_event.acknowledge": "Security event acknowledged",
  "device.disable": "Terminal disabled",
  "device.enable": "Terminal enabled",
  "device.enroll": "Terminal joined the shop",
  "sync.link": "Shop linked to its cloud",
  "cloud_alert.resolve": "Cloud alert resolved",
  "recovery_kit.create": "Recovery kit made",
};

/** An audit action in plain words; unknown actions are shown as recorded. */
export function actionLabel(action: string): string {
  return ACTIONS[action] ?? action;
}
