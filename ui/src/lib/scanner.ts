// A barcode scanner is a keyboard that types fast and ends with Enter. The till must take a
// scan wherever the focus is (a quantity box, the payment form), so the page watches every key
// and tells a scan from a clerk typing by the gaps between keys. Pure: time is passed in.
//
// Some boxes are where a scan belongs: a phone's IMEI label is scanned into the IMEI box, a
// loyalty card or a phone number into the customer box. Those keep their scans (they say so
// with the KEEPS_SCANS attribute); every other box hands a scan to the sale.

/** A clerk types a key at most every ~50 ms; scanners send one every few ms. */
export const SCAN_MAX_GAP_MS = 35;
/** The shortest code a scan can be (EAN-8). */
export const SCAN_MIN_LENGTH = 8;

/** The attribute a box carries when a scan typed into it is its own, not a product's. */
export const KEEPS_SCANS = "data-keeps-scans";

/** Where a scan typed into `focused` (the element with the focus, if any) goes. */
export function scanGoesToSale(focused: { closest(selector: string): unknown } | null): boolean {
  return focused === null || focused.closest(`[${KEEPS_SCANS}]`) === null;
}

/** The text a box that keeps scans holds after Enter ends one: the next scan starts after a
 *  space, so two IMEIs scanned one after the other stay two. */
export function readyForNextScan(text: string): string {
  const kept = text.trim();
  return kept === "" ? "" : `${kept} `;
}

export interface KeyStroke {
  key: string;
  atMs: number;
}

/** Feeds keys in; `push` returns the scanned code when Enter ends a fast burst. */
export class ScanDetector {
  private buffer = "";
  private lastAt = -Infinity;

  push({ key, atMs }: KeyStroke): string | null {
    const fast = atMs - this.lastAt <= SCAN_MAX_GAP_MS;
    this.lastAt = atMs;
    if (key === "Enter") {
      const code = this.buffer;
      this.buffer = "";
      return fast && code.length >= SCAN_MIN_LENGTH ? code : null;
    }
    if (key.length !== 1) {
      // Shift and the like come with scanners too; anything else ends a burst.
      if (key !== "Shift") this.buffer = "";
      return null;
    }
    this.buffer = fast ? this.buffer + key : key;
    return null;
  }

  /** Characters of the burst so far, to take back out of whatever box they landed in. */
  get pending(): number {
    return this.buffer.length;
  }
}
