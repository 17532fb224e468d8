// Billing in the real window: products imported through the CLI into the shop the app has
// open, a barcode and a SKU typed into the code box, the phone's IMEIs scanned into their box
// (the sale is blocked until they are; a scan there is the box's, not the sale's), cash with
// change, the invoice number shown and its receipt; a held sale comes back when resumed, and takes a
// discount on the whole bill (a typed mistake named, the bill left as it was); a sale held
// with a customer and a discount comes back with both, and a scanner's burst followed at once
// by F8 bills every item scanned.
import { test } from "node:test";
import assert from "node:assert/strict";
import { OWNER_PASSPHRASE, cli, click, createShop, enterCode, importPhoneShop, launch, shoot, text, type } from "./helpers.mjs";


test("a sale with a phone and its IMEIs is billed, and a held sale comes back", async () => {
  const app = await launch();
  try {
    const b = app.browser;
    await createShop(b, { passphrase: OWNER_PASSPHRASE });
    cli(app.dataDir, ["shop", "set", "--gstin", "27AAPFU0939F1ZV"]);
    importPhoneShop(app.dataDir);

    await text(b, "cart-empty");
    await enterCode(b, "4006381333931");
    await enterCode(b, "RN13");
    await b.waitUntil(async () => (await b.$$('[data-testid="cart-line"]')).length === 2, { timeout: 10000 });
    assert.equal(await text(b, "total"), "₹15,298.00");
    assert.match(await text(b, "problems"), /needs 2 IMEI/);
    assert.equal(await (await b.$('[data-testid="finalize"]')).isEnabled(), false);

    // A bad IMEI is refused next to the line; the right two unblock the sale.
    await type(b, "line-imeis", "490154203237517");
    await (await b.$('[data-testid="save-imeis"]')).click();
    assert.match(await text(b, "line-error"), /IMEI/);
    // The phone's two IMEI labels scanned into the box, one after the other: each scan is the
    // box's own (not a product code for the sale), and the two stay two IMEIs.
    await (await b.$('[data-testid="line-imeis"]')).click();
    const labels = b.action("key");
    labels.down("\uE009").down("a").up("a").up("\uE009").down("\uE003").up("\uE003");
    for (const imei of ["490154203237518", "356938035643809"]) {
      for (const ch of imei) labels.down(ch).up(ch);
      labels.down("\uE007").up("\uE007");
    }
    await labels.perform();
    await b.waitUntil(async () => !(await (await b.$('[data-testid="problems"]')).isExisting()), { timeout: 10000 });
    assert.equal(await (await b.$('[data-testid="billing-error"]')).isExisting(), false, "no scan went to the sale");
    assert.equal((await b.$$('[data-testid="cart-line"]')).length, 2);
    assert.equal(await (await b.$('[data-testid="line-imeis"]')).getValue(), "490154203237518 356938035643809 ");

    await type(b, "cash-tendered", "15500");
    assert.equal(await text(b, "change-due"), "Change ₹202.00");
    await shoot(b, "billing.png");
    await (await b.$('[data-testid="finalize"]')).click();
    assert.match(await text(b, "invoice-number"), /\/000001$/);
    assert.match(await text(b, "invoice-done"), /change ₹202\.00/);
    await text(b, "cart-empty");

    // The customer's bill: the invoice's number, the phone's IMEIs, the change; on 58 mm paper
    // no line is wider than its 32 characters.
    await click(b, "show-receipt");
    const receipt = await text(b, "receipt-text");
    for (const expected of ["TAX INVOICE", "GSTIN 27AAPFU0939F1ZV", "IMEI 490154203237518", "IMEI 356938035643809", "Change", "202.00", "Authorised signatory"]) {
      assert.ok(receipt.includes(expected), `${expected} missing from\n${receipt}`);
    }
    assert.ok(receipt.includes(await text(b, "invoice-number")));
    await (await b.$('[data-testid="receipt-paper"]')).selectByAttribute("value", "32");
    await b.waitUntil(async () => (await text(b, "receipt-text")).split("\n").every((l) => [...l].length <= 32), {
      timeout: 10000, timeoutMsg: "the receipt did not narrow to 58 mm paper",
    });
    await shoot(b, "receipt.png");
    await click(b, "close-receipt");
    assert.equal(await (await b.$('[data-testid="receipt-panel"]')).isExisting(), false);

    // Hold a sale, serve nobody else, resume it.
    await enterCode(b, "COVER");
    await text(b, "cart");
    await (await b.$('[data-testid="hold"]')).click();
    await text(b, "cart-empty");
    await (await b.$('[data-testid="resume"]')).click();
    await b.waitUntil(async () => (await b.$$('[data-testid="cart-line"]')).length === 1, { timeout: 10000 });
    assert.equal(await text(b, "total"), "₹299.00");

    // 10% off the whole bill: ₹29.90 comes off the ₹299 cover and the total rounds to the rupee.
    await type(b, "bill-discount-input", "10");
    await b.keys("Enter");
    assert.equal(await text(b, "bill-discount"), "−₹29.90");
    await b.waitUntil(async () => (await text(b, "total")) === "₹269.00", { timeout: 10000 });
    // Typed nonsense is named next to the field, and the bill keeps its last good discount.
    await type(b, "bill-discount-input", "ten");
    await b.keys("Enter");
    assert.match(await text(b, "bill-discount-error"), /percentage/);
    assert.equal(await text(b, "total"), "₹269.00");

    // The sale keeps its customer and its discount: parked, and taken up again, it is as it was.
    await type(b, "customer-input", "98450 12345");
    await b.keys("Enter");
    await type(b, "inline-customer-name", "Ravi Kumar");
    // The number went in as fast as a scanner types, and stayed the customer box's.
    assert.equal(await (await b.$('[data-testid="billing-error"]')).isExisting(), false);
    await (await b.$('[data-testid="inline-customer-add"]')).click();
    assert.equal(await text(b, "attached-customer"), "Ravi Kumar");
    await (await b.$('[data-testid="hold"]')).click();
    await text(b, "cart-empty");
    await (await b.$('[data-testid="resume"]')).click();
    await b.waitUntil(async () => (await b.$$('[data-testid="cart-line"]')).length === 1, { timeout: 10000 });
    assert.equal(await text(b, "attached-customer"), "Ravi Kumar");
    assert.equal(await text(b, "bill-discount"), "−₹29.90");
    assert.equal(await text(b, "total"), "₹269.00");
    assert.equal(await (await b.$('[data-testid="bill-discount-input"]')).getValue(), "10");

    // A scanner's burst of three codes, each ending in Enter before the last is in the sale,
    // and F8 straight after: every code lands, in order, the code box keeps the focus, and the
    // invoice has all four covers (the sale's changes run one after another, F8 included).
    await (await b.$('[data-testid="code-input"]')).click();
    // One key action per character, as a scanner sends them: down and up, no pause between.
    const burst = b.action("key");
    for (let n = 0; n < 3; n++) {
      for (const ch of "4006381333931") burst.down(ch).up(ch);
      burst.down("\uE007").up("\uE007");
    }
    burst.down("\uE038").up("\uE038");
    await burst.perform();
    const number = await text(b, "invoice-number");
    assert.match(number, /\/000002$/);
    await text(b, "cart-empty");
    const invoice = JSON.parse(cli(app.dataDir, ["invoice", "show", number, "--json"]));
    assert.equal(invoice.lines.length, 4, "the three scanned covers and the resumed one");
    assert.equal(invoice.total_paise, 107_600, "4 × ₹299 less 10%, ₹1,076.40 rounded to ₹1,076");
    assert.equal(invoice.customer_id !== null, true, "the held sale's customer is on the bill");
    assert.equal(await b.execute(() => document.activeElement?.getAttribute("data-testid")), "code-input");
    assert.equal(await (await b.$('[data-testid="code-input"]')).getValue(), "");
  } finally {
    await app.stop();
  }
});
