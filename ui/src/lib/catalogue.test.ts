import { describe, expect, it } from "vitest";
import type { Product } from "./api";
import { emptyProductForm, productForm, toNewProduct } from "./catalogue";
import { parsePercent } from "./money";

const phone: Product = {
  id: "p1",
  sku: "RN13",
  name: "Redmi Note 13",
  barcodes: ["4006381333931"],
  hsn: "8517",
  gst_rate_bp: 1800,
  cess_rate_bp: 0,
  price_paise: 1_499_950,
  price_basis: "inclusive",
  unit: "pcs",
  serialized: true,
  imeis_per_unit: 2,
  stock: 4,
};

describe("the catalogue form", () => {
  it("round-trips a product unchanged", () => {
    const { id: _id, ...unchanged } = phone;
    expect(toNewProduct(productForm(phone))).toEqual({ product: unchanged });
  });

  it("reads percentages to the basis point and refuses more than 100%", () => {
    expect(parsePercent("18")).toBe(1800);
    expect(parsePercent("0.25")).toBe(25);
    expect(parsePercent("2.5")).toBe(250);
    expect(parsePercent("100")).toBe(10_000);
    expect(parsePercent("100.01")).toBeNull();
    expect(parsePercent("-5")).toBeNull();
    expect(parsePercent("5.123")).toBeNull();
  });

  it("names every field to fix", () => {
    const f = { ...emptyProductForm(), gstPercent: "x", price: "-1", hsn: "85", serialized: true, imeisPerUnit: "3", stock: "2.5" };
    const r = toNewProduct(f);
    expect("errors" in r && Object.keys(r.errors).sort()).toEqual(["gstPercent", "hsn", "imeisPerUnit", "name", "price", "sku", "stock"]);
  });

  it("splits barcodes on spaces or commas and leaves stock untracked when empty", () => {
    const r = toNewProduct({ ...emptyProductForm(), sku: "C", name: "Cover", price: "299", barcodes: " 4006381333931, 012345678905 " });
    expect("product" in r && r.product.barcodes).toEqual(["4006381333931", "012345678905"]);
    expect("product" in r && r.product.stock).toBeNull();
    expect("product" in r && r.product.imeis_per_unit).toBeNull();
  });
});
