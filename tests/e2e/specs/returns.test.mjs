// Returns and the counter's other screens in the real window: the owner finds an invoice by an
// IMEI it sold, takes one cover back on a credit note (cash) and prints it, is stopped from
// taking back more than is left, and sees the day's figures; a cover goes on udhaar to a
// customer created from the till, who is then found by phone with her balance, pays part of
// it, and has her name and number corrected (found by the new one). A counter-staff seat then
// opens the same invoice and is shown no way to return or cancel it, and no day close (the
// engine would refuse both anyway), but can reprint its receipt.
import { test } from "node:test";
import assert from "node:assert/strict";
import { OWNER_PASSPHRASE, cli, click, count, createShop, enterCode, importPhoneShop, launch, shoot, text, type } from "./helpers.mjs";

const IMEIS = ["490154203237518", "356938035643809"];

test("an invoice found by IMEI is partly returned on a credit note; staff see no return", async () => {
  const app = await launch();
  try {
    const b = app.browser;
    await createShop(b, { passphrase: OWNER_PASSPHRASE });
    cli(app.dataDir, ["shop", "set", "--gstin", "27AAPFU0939F1ZV"]);
    importPhoneShop(app.dataDir);
    cli(app.dataDir, ["seat", "add", "--name", "Asha", "--role", "counter_staff", "--secret-stdin"], `${OWNER_PASSPHRASE}\n482915\n`);

    // Three covers and a phone.
    await enterCode(b, "COVER");
    await b.waitUntil(async () => (await count(b, "cart-line")) === 1, { timeout: 10000 });
    await type(b, "line-qty", "3");
    await b.keys("Enter");
    await enterCode(b, "RN13");
    await b.waitUntil(async () => (await count(b, "cart-line")) === 2, { timeout: 10000 });
    await type(b, "line-imeis", IMEIS.join(" "));
    await click(b, "save-imeis");
    await b.waitUntil(async () => !(await (await b.$('[data-testid="problems"]')).isExisting()), { timeout: 10000 });
    assert.equal(await text(b, "total"), "₹15,896.00");
    await click(b, "finalize");
    const number = await text(b, "invoice-number");

    // Found by the phone's IMEI; one cover comes back for cash.
    await click(b, "nav-invoices");
    await type(b, "invoice-query", IMEIS[1]);
    await click(b, "invoice-search");
    assert.equal(await text(b, "detail-number"), number);
    await type(b, "return-qty", "4");
    await click(b, "issue-credit-note");
    assert.match(await text(b, "return-error"), /only 3 left/);
    await type(b, "return-qty", "1");
    await type(b, "return-reason", "returned: wrong colour");
    await click(b, "issue-credit-note");
    assert.match(await text(b, "credit-note-number"), /\/\d\d-\d\d\/\d+$/);
    assert.match(await text(b, "credit-note-done"), /₹299\.00 back \(refund cash\)/);
    // The customer takes a printed credit note: what came back, against which invoice.
    const noteNumber = await text(b, "credit-note-number");
    await click(b, "credit-note-receipt");
    const printed = await text(b, "receipt-text");
    for (const expected of ["CREDIT NOTE", noteNumber, number, "returned: wrong colour", "Refunded in cash", "299.00"]) {
      assert.ok(printed.includes(expected), `${expected} missing from\n${printed}`);
    }
    await click(b, "close-receipt");
    const returned = await b.$$('[data-testid="returned-qty"]');
    assert.equal(await returned[0].getText(), "1");
    assert.equal(await returned[1].getText(), "0");
    // Part of it is back: cancelling the whole invoice is no longer offered.
    assert.equal(await (await b.$('[data-testid="cancel-invoice"]')).isExisting(), false);
    await shoot(b, "invoices.png");

    // The day so far: one invoice, the cash expected is the sale less the refund.
    await click(b, "nav-day");
    assert.match(await text(b, "day-invoices"), new RegExp(`${number.replace(/\//g, "\\/")}.*\\(1\\)`));
    assert.equal(await text(b, "day-cash"), "₹15,597.00");
    assert.match(await text(b, "day-state"), /Open/);
    await shoot(b, "day-close.png");

    // A cover on udhaar for a customer created from the till, then her balance and statement.
    await click(b, "nav-till");
    await enterCode(b, "COVER");
    await b.waitUntil(async () => (await count(b, "cart-line")) === 1, { timeout: 10000 });
    await type(b, "customer-input", "98111 11111");
    await b.keys("Enter");
    await type(b, "inline-customer-name", "Meena Iyer");
    await click(b, "inline-customer-add");
    assert.equal(await text(b, "attached-customer"), "Meena Iyer");
    await type(b, "credit-amount", "299");
    assert.equal(await text(b, "change-due"), "Change ₹0.00");
    await click(b, "finalize");
    assert.match(await text(b, "invoice-number"), /\/000002$/);

    await click(b, "nav-customers");
    await type(b, "customer-query", "+91 9811111111");
    await click(b, "customer-search");
    await text(b, "customer-profile");
    assert.equal(await text(b, "udhaar-balance"), "₹299.00");
    await type(b, "udhaar-amount", "100");
    await click(b, "record-payment");
    await b.waitUntil(async () => (await text(b, "udhaar-balance")) === "₹199.00", { timeout: 10000 });
    await shoot(b, "customers.png");

    // Her name was misspelt and she has a new number: corrected, she is found by the new one,
    // with her udhaar where it was.
    await click(b, "edit-customer");
    await type(b, "edit-customer-name", "Meenakshi Iyer");
    await type(b, "edit-customer-phone", "98111 22222");
    await click(b, "save-customer-edit");
    await b.waitUntil(async () => (await text(b, "customer-profile")).startsWith("Meenakshi Iyer"), { timeout: 10000 });
    await type(b, "customer-query", "9811122222");
    await click(b, "customer-search");
    // Found masked, as every seat sees a customer; the owner shows the number on purpose.
    const masked = `${"•".repeat(9)}2222`;
    await b.waitUntil(async () => (await text(b, "customer-phone-shown")) === masked, {
      timeout: 10000,
      timeoutMsg: `the phone shown masked as ${masked}`,
    });
    await click(b, "reveal-customer");
    await b.waitUntil(async () => (await text(b, "customer-phone-shown")) === "+919811122222", { timeout: 10000 });
    assert.equal(await text(b, "udhaar-balance"), "₹199.00");
    await shoot(b, "customer-edited.png");

    // Counter staff: the invoice opens, but nothing offers to return or cancel it.
    await click(b, "sign-out");
    const tile = await b.$('[data-testid="seat-tile"][data-seat-name="Asha"]');
    await tile.waitForClickable({ timeout: 20000 });
    await tile.click();
    await type(b, "secret-input", "482915");
    await click(b, "sign-in");
    await text(b, "cart-empty");
    assert.equal(await (await b.$('[data-testid="nav-day"]')).isExisting(), false);
    await click(b, "nav-invoices");
    await type(b, "invoice-query", number);
    await click(b, "invoice-search");
    assert.equal(await text(b, "detail-number"), number);
    assert.equal(await count(b, "issue-credit-note"), 0);
    assert.equal(await count(b, "return-qty"), 0);
    assert.equal(await count(b, "cancel-invoice"), 0);
    // A reprint for a customer who lost the bill: any seat can print one.
    await click(b, "detail-receipt");
    const receipt = await text(b, "receipt-text");
    assert.ok(receipt.includes(number) && receipt.includes("IMEI 490154203237518"), receipt);
  } finally {
    await app.stop();
  }
});
