import { describe, expect, it } from "vitest";
import { KEEPS_SCANS, SCAN_MAX_GAP_MS, ScanDetector, readyForNextScan, scanGoesToSale } from "./scanner";

function feed(d: ScanDetector, text: string, startMs: number, gapMs: number): string | null {
  let t = startMs;
  let out: string | null = null;
  for (const key of [...text.split(""), "Enter"]) {
    out = d.push({ key, atMs: t });
    t += gapMs;
  }
  return out;
}

describe("scanner input", () => {
  it("takes a fast burst ending in Enter as a scan", () => {
    expect(feed(new ScanDetector(), "8901030865275", 1000, 4)).toBe("8901030865275");
  });

  it("leaves a clerk's typing alone", () => {
    expect(feed(new ScanDetector(), "8901030865275", 1000, 120)).toBeNull();
  });

  it("ignores a short fast burst (a fumbled key and Enter)", () => {
    expect(feed(new ScanDetector(), "12", 1000, 3)).toBeNull();
  });

  it("starts a new code after a pause, so typing before a scan does not stick to it", () => {
    const d = new ScanDetector();
    d.push({ key: "x", atMs: 0 });
    d.push({ key: "y", atMs: 200 });
    expect(feed(d, "4006381333931", 1000, 5)).toBe("4006381333931");
  });

  it("a gap just over the limit breaks the burst", () => {
    expect(feed(new ScanDetector(), "4006381333931", 0, SCAN_MAX_GAP_MS + 1)).toBeNull();
  });

  it("counts the burst's characters so the page can take them back out of a text box", () => {
    const d = new ScanDetector();
    for (const [i, key] of ["4", "0", "0", "6"].entries()) d.push({ key, atMs: i * 3 });
    expect(d.pending).toBe(4);
  });
});

describe("where a scan goes", () => {
  // A stand-in for an element: `closest` finds the attribute on it or on an ancestor.
  const element = (...ancestorsWithAttributes: string[][]) => ({
    closest: (selector: string) => (ancestorsWithAttributes.some((attrs) => attrs.some((a) => selector === `[${a}]`)) ? {} : null),
  });

  it("goes to the sale with no box focused, or from a quantity or payment box", () => {
    expect(scanGoesToSale(null)).toBe(true);
    expect(scanGoesToSale(element(["type", "data-testid"]))).toBe(true);
  });

  it("stays in a box that keeps its scans (IMEI, customer), or in anything inside one", () => {
    expect(scanGoesToSale(element([KEEPS_SCANS]))).toBe(false);
    expect(scanGoesToSale(element(["class"], [KEEPS_SCANS]))).toBe(false);
  });

  it("leaves a space after a kept scan so the next one is a word of its own", () => {
    expect(readyForNextScan("490154203237518")).toBe("490154203237518 ");
    expect(readyForNextScan("  490154203237518 356938035643809  ")).toBe("490154203237518 356938035643809 ");
    expect(readyForNextScan("   ")).toBe("");
  });
});
