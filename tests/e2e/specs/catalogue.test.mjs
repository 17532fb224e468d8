// The catalogue in the real window: a CSV with a bad row is refused whole and its report names
// the row; the fixed file imports; a scanned barcode finds its product; a product found by
// name gets a new price, and the till charges it once the shop has a state (until then it
// says so); a slip in the form is named next to its field.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { click, createShop, launch, shoot, text, type } from "./helpers.mjs";

const HEADER = "sku,name,barcodes,hsn,gst_rate,price,serialized,imeis_per_unit\n";

test("a CSV import with a bad row names it; the fixed file imports; an edited price is billed", async () => {
  const dir = mkdtempSync(join(tmpdir(), "galla-e2e-"));
  const bad = join(dir, "bad.csv");
  const good = join(dir, "good.csv");
  writeFileSync(bad, HEADER + "COVER,Back cover,4006381333931,3926,18,299,no,\nRN13,Redmi Note 13,,8517,18,-5,yes,2\n");
  writeFileSync(good, HEADER + "COVER,Back cover,4006381333931,3926,18,299,no,\nRN13,Redmi Note 13,,8517,18,14999,yes,2\n");
  const app = await launch();
  try {
    const b = app.browser;
    await createShop(b);
    await click(b, "nav-catalogue");

    const file = await b.$('[data-testid="import-file"]');
    await file.setValue(bad);
    assert.match(await text(b, "import-report"), /Nothing was imported: 1 problem in 2 rows/);
    const rowError = await text(b, "import-row-error");
    assert.match(rowError, /^3\s*price\s*price: must be from ₹0/);
    await shoot(b, "catalogue-import-report.png");

    await file.setValue(good);
    assert.equal(await text(b, "import-report"), "Imported 2 of 2 rows.");

    // A box's barcode scanned into the search finds its product: a barcode is no word of a name.
    await type(b, "product-query", "4006381333931");
    await b.keys("Enter");
    await b.waitUntil(async () => {
      const found = await b.$$('[data-testid="product-open"]');
      return found.length === 1 && (await found[0].getText()) === "COVER";
    }, { timeout: 10000, timeoutMsg: "the scanned barcode did not find the cover" });

    await type(b, "product-query", "cover");
    await click(b, "product-search");
    await click(b, "product-open");
    assert.equal(await (await b.$('[data-testid="product-sku"]')).getValue(), "COVER");
    await type(b, "product-price", "three hundred");
    await click(b, "save-product");
    assert.match(await text(b, "product-price-error"), /price in rupees/);
    await type(b, "product-price", "349");
    await click(b, "save-product");
    assert.equal(await text(b, "product-saved"), "Back cover is saved.");
    await shoot(b, "catalogue.png");

    // No state yet: the till says what to do instead of billing on a guess.
    await click(b, "nav-till");
    await type(b, "code-input", "4006381333931");
    await b.keys("Enter");
    assert.match(await text(b, "billing-error"), /no state: enter its GSTIN or state in the settings/);
    await click(b, "nav-settings");
    await (await b.$('[data-testid="settings-state"]')).selectByAttribute("value", "7");
    await click(b, "save-shop");
    await text(b, "shop-saved");
    // The cover waited in the sale; now it is priced.
    await click(b, "nav-till");
    assert.equal(await text(b, "total"), "₹349.00");
  } finally {
    await app.stop();
  }
});
