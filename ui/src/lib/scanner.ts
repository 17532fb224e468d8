// A barcode scanner is a keyboard that types fast and ends with Enter. The till must take a
// scan wherever the focus is (a quantity box, the payment form), so the page watches every key
// and tells a scan from a clerk typing by the gaps between keys. Pure: time is passed in.

/** A clerk types a key at most every ~50 ms; scanners send one every few ms. */
export const SCAN_MAX_GAP_MS = 35;
/** The shortest code a scan can be (EAN-8). */
export const SCAN_MIN_LENGTH = 8;

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
