// The catalogue form: a product as the owner edits it (rupees, GST percent, barcodes on one
// line) and back to what the engine takes. The engine validates again (check digits, HSN,
// the rate table); this only catches slips next to the field.
import type { NewProduct, PriceBasis, Product } from "./api";
import { parsePercent, parseRupees } from "./money";

export interface ProductForm {
  sku: string;
  name: string;
  barcodes: string;
  hsn: string;
  gstPercent: string;
  cessPercent: string;
  price: string;
  basis: PriceBasis;
  unit: string;
  serialized: boolean;
  imeisPerUnit: string;
  stock: string;
}

export type ProductErrors = Partial<Record<keyof ProductForm, string>>;

export const emptyProductForm = (): ProductForm => ({
  sku: "",
  name: "",
  barcodes: "",
  hsn: "",
  gstPercent: "18",
  cessPercent: "0",
  price: "",
  basis: "inclusive",
  unit: "pcs",
  serialized: false,
  imeisPerUnit: "1",
  stock: "",
});

/** Basis points as the percentage a person types: 1800 → "18", 250 → "2.5". */
function percentText(bp: number): string {
  return String(bp / 100);
}

/** The form showing a product as it is. */
export function productForm(p: Product): ProductForm {
  return {
    sku: p.sku,
    name: p.name,
    barcodes: p.barcodes.join(" "),
    hsn: p.hsn ?? "",
    gstPercent: percentText(p.gst_rate_bp),
    cessPercent: percentText(p.cess_rate_bp),
    price: (p.price_paise / 100).toFixed(2),
    basis: p.price_basis,
    unit: p.unit,
    serialized: p.serialized,
    imeisPerUnit: String(p.imeis_per_unit),
    stock: p.stock === null ? "" : String(p.stock),
  };
}

/** What the engine takes, or the fields to fix. */
export function toNewProduct(f: ProductForm): { product: NewProduct } | { errors: ProductErrors } {
  const errors: ProductErrors = {};
  if (!f.sku.trim()) errors.sku = "Every product needs a SKU.";
  if (!f.name.trim()) errors.name = "Name the product as the bill should print it.";
  const gst = parsePercent(f.gstPercent);
  if (gst === null) errors.gstPercent = "A GST rate in percent, e.g. 18 or 0.25.";
  const cess = f.cessPercent.trim() === "" ? 0 : parsePercent(f.cessPercent);
  if (cess === null) errors.cessPercent = "A cess rate in percent, or 0.";
  const price = parseRupees(f.price);
  if (price === null || price <= 0) errors.price = "A price in rupees, e.g. 299 or 14999.50.";
  const hsn = f.hsn.trim();
  if (hsn && !/^\d{4}(\d{2})?(\d{2})?$/.test(hsn)) errors.hsn = "HSN is 4, 6 or 8 digits.";
  const imeis = Number(f.imeisPerUnit);
  if (f.serialized && !(imeis === 1 || imeis === 2)) errors.imeisPerUnit = "1 IMEI, or 2 for a dual-SIM phone.";
  const stock = f.stock.trim() === "" ? null : Number(f.stock);
  if (stock !== null && (!Number.isInteger(stock) || stock < 0)) errors.stock = "A whole number of units, or empty.";
  if (Object.keys(errors).length > 0) return { errors };
  return {
    product: {
      sku: f.sku.trim(),
      name: f.name.trim(),
      barcodes: f.barcodes.split(/[\s,]+/).filter((b) => b.length > 0),
      hsn: hsn || null,
      gst_rate_bp: gst!,
      cess_rate_bp: cess!,
      price_paise: price!,
      price_basis: f.basis,
      unit: f.unit.trim() || null,
      serialized: f.serialized,
      imeis_per_unit: f.serialized ? imeis : null,
      stock,
    },
  };
}
