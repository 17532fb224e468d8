import { describe, expect, it } from "vitest";
import { changeDue, discountField, parseDiscount, parseRupees, percent, rupees, sameDiscount } from "./money";

describe("money on screen", () => {
  it("shows paise as rupees with Indian grouping", () => {
    expect(rupees(0)).toBe("₹0.00");
    expect(rupees(5)).toBe("₹0.05");
    expect(rupees(149_999)).toBe("₹1,499.99");
    expect(rupees(14_999_900)).toBe("₹1,49,999.00");
    expect(rupees(-49)).toBe("−₹0.49");
  });

  it("reads what a clerk types without float error", () => {
    expect(parseRupees("1,499.5")).toBe(149_950);
    expect(parseRupees("₹ 200")).toBe(20_000);
    expect(parseRupees("0.07")).toBe(7);
    expect(parseRupees("19.99")).toBe(1_999);
    for (const bad of ["", "abc", "1.234", "-5", "1e3"]) expect(parseRupees(bad)).toBeNull();
  });

  it("round-trips every paise amount up to ₹10,000", () => {
    for (let p = 0; p <= 1_000_000; p += 7) {
      expect(parseRupees(rupees(p))).toBe(p);
    }
  });

  it("labels rates and works out change", () => {
    expect(percent(1800)).toBe("18%");
    expect(percent(250)).toBe("2.5%");
    expect(changeDue(1_529_800, 1_530_000)).toBe(200);
    expect(changeDue(1_529_800, 1_500_000)).toBeNull();
  });
});

describe("a bill discount as typed", () => {
  it("is none when empty or zero", () => {
    expect(parseDiscount("", "percent")).toEqual({ kind: "none" });
    expect(parseDiscount("  ", "amount")).toEqual({ kind: "none" });
    expect(parseDiscount("0", "percent")).toEqual({ kind: "none" });
    expect(parseDiscount("0.00", "amount")).toEqual({ kind: "none" });
  });

  it("is a percentage in basis points or rupees in paise", () => {
    expect(parseDiscount("10", "percent")).toEqual({ kind: "percent", value: 1000 });
    expect(parseDiscount("2.5", "percent")).toEqual({ kind: "percent", value: 250 });
    expect(parseDiscount("₹ 1,250.50", "amount")).toEqual({ kind: "amount", value: 125_050 });
  });

  it("is null when it is not one", () => {
    expect(parseDiscount("101", "percent")).toBeNull();
    expect(parseDiscount("-5", "percent")).toBeNull();
    expect(parseDiscount("ten", "amount")).toBeNull();
    expect(parseDiscount("1.005", "amount")).toBeNull();
  });

  it("shows a kept discount in the field so that it reads back as the same discount", () => {
    expect(discountField({ kind: "none" })).toEqual({ text: "", kind: null });
    expect(discountField({ kind: "percent", value: 1000 })).toEqual({ text: "10", kind: "percent" });
    expect(discountField({ kind: "percent", value: 250 })).toEqual({ text: "2.5", kind: "percent" });
    expect(discountField({ kind: "amount", value: 4950 })).toEqual({ text: "49.50", kind: "amount" });
    expect(discountField({ kind: "amount", value: 2000 })).toEqual({ text: "20", kind: "amount" });
    for (let bp = 1; bp <= 10_000; bp += 1) {
      const d = { kind: "percent" as const, value: bp };
      const f = discountField(d);
      expect(sameDiscount(parseDiscount(f.text, "percent"), d)).toBe(true);
    }
    for (let p = 1; p <= 1_000_000; p += 13) {
      const d = { kind: "amount" as const, value: p };
      const f = discountField(d);
      expect(sameDiscount(parseDiscount(f.text, "amount"), d)).toBe(true);
    }
  });

  it("compares discounts by what they take off", () => {
    expect(sameDiscount({ kind: "none" }, { kind: "none" })).toBe(true);
    expect(sameDiscount(null, { kind: "none" })).toBe(false);
    expect(sameDiscount({ kind: "percent", value: 500 }, { kind: "amount", value: 500 })).toBe(false);
    expect(sameDiscount({ kind: "amount", value: 500 }, { kind: "amount", value: 501 })).toBe(false);
  });
});
