// The whole path in the real window: the owner creates the shop, sets its GSTIN and
// state on the settings screen, adds a counter-staff seat and shortens that role's idle lock;
// her PIN is reset before her first shift; she signs in (seeing no seats or audit screen),
// bills a cover and a phone with its IMEIs, starts another sale and walks away: the countdown
// runs, the lock screen comes with the sale held, and her PIN brings it back. The owner then
// revokes her; she has no tile any more; the audit screen lists every step, filters to her,
// verifies the chain and exports it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OWNER_PASSPHRASE, attributes, click, createShop, enterCode, importPhoneShop, launch, shoot, signIn, text, type } from "./helpers.mjs";

const ASHA_PIN = "482915";
const NEW_PIN = "739164";

test("add a clerk, she bills and idles out with her sale held, the owner revokes her, the audit shows it all", async () => {
  const exportDir = mkdtempSync(join(tmpdir(), "galla-export-"));
  const app = await launch({ env: { GALLA_EXPORT_DIR: exportDir } });
  try {
    const b = app.browser;
    await createShop(b, { passphrase: OWNER_PASSPHRASE });

    // Settings: GSTIN and state. A state the GSTIN contradicts is refused in words.
    await click(b, "nav-settings");
    await type(b, "settings-gstin", "27AAPFU0939F1ZV");
    await (await b.$('[data-testid="settings-state"]')).selectByAttribute("value", "29");
    await click(b, "save-shop");
    assert.match(await text(b, "shop-error"), /state/i);
    await (await b.$('[data-testid="settings-state"]')).selectByAttribute("value", "27");
    await click(b, "save-shop");
    await text(b, "shop-saved");
    // Counter staff lock after 36 s idle; 0.2 min is below the floor and is refused.
    await type(b, "idle-counter_staff", "0.2");
    await click(b, "save-policy");
    await b.waitUntil(async () => (await b.$$(".field-error")).length > 0, { timeout: 5000 });
    await type(b, "idle-counter_staff", "0.6");
    await click(b, "save-policy");
    await text(b, "policy-saved");
    await shoot(b, "settings.png");

    importPhoneShop(app.dataDir);

    // Seats: add Asha as counter staff (mismatched PINs are caught first).
    await click(b, "nav-seats");
    await type(b, "new-seat-name", "Asha");
    await (await b.$('[data-testid="new-seat-role"]')).selectByAttribute("value", "counter_staff");
    await type(b, "new-seat-secret", ASHA_PIN);
    await type(b, "new-seat-secret-again", "482916");
    await click(b, "add-seat");
    assert.match(await text(b, "add-seat-error"), /differ/);
    await type(b, "new-seat-secret-again", ASHA_PIN);
    await click(b, "add-seat");
    assert.match(await text(b, "seats-message"), /Asha can now sign in/);
    await b.$('[data-testid="seat-row"][data-seat="Asha"]').then((r) => r.waitForDisplayed({ timeout: 10000 }));
    await shoot(b, "seats.png");
    // She forgot it before her first shift: the owner sets a new one.
    const newRow = await b.$('[data-testid="seat-row"][data-seat="Asha"]');
    await (await newRow.$('[data-testid="seat-open"]')).click();
    await type(b, "reset-secret-input", NEW_PIN);
    await click(b, "reset-secret");
    assert.match(await text(b, "seats-message"), /Asha signs in with the new PIN/);

    // Asha signs in: the till only; seats and audit are not hers to see.
    await click(b, "sign-out");
    await signIn(b, "Asha", NEW_PIN);
    await text(b, "cart-empty");
    assert.equal(await (await b.$('[data-testid="nav-seats"]')).isExisting(), false);
    assert.equal(await (await b.$('[data-testid="nav-audit"]')).isExisting(), false);

    // She bills a cover and a phone that needs two IMEIs.
    await enterCode(b, "4006381333931");
    await enterCode(b, "RN13");
    await b.waitUntil(async () => (await b.$$('[data-testid="cart-line"]')).length === 2, { timeout: 10000 });
    assert.match(await text(b, "problems"), /needs 2 IMEI/);
    await type(b, "line-imeis", "490154203237518 356938035643809");
    await click(b, "save-imeis");
    await b.waitUntil(async () => !(await (await b.$('[data-testid="problems"]')).isExisting()), { timeout: 10000 });
    await click(b, "finalize");
    assert.match(await text(b, "invoice-number"), /^T1\/\d\d-\d\d\/000001$/);

    // The next sale is started, then she walks away: countdown, then the lock screen.
    await enterCode(b, "COVER");
    await b.waitUntil(async () => (await b.$$('[data-testid="cart-line"]')).length === 1, { timeout: 10000 });
    assert.match(await text(b, "idle-countdown", 30000), /Locking in \d+ s/);
    assert.match(await text(b, "locked", 45000), /Asha/);
    await shoot(b, "locked-sale-held.png");
    // Her PIN, tapped on the on-screen pad (a slip deleted), brings her sale back, held while
    // the screen was locked.
    for (const key of ["7", "3", "9", "5", "back", ..."164"]) await click(b, `pad-${key}`);
    await click(b, "unlock");
    await b.waitUntil(async () => (await b.$$('[data-testid="cart-line"]')).length === 1, { timeout: 10000 });
    assert.equal(await text(b, "total"), "₹299.00");
    await click(b, "lock");
    await text(b, "locked");
    await click(b, "switch-user");

    // The owner revokes her.
    await signIn(b, "Ravi Sharma", OWNER_PASSPHRASE);
    await click(b, "nav-seats");
    const ashaRow = await b.$('[data-testid="seat-row"][data-seat="Asha"]');
    await ashaRow.waitForDisplayed({ timeout: 10000 });
    await (await ashaRow.$('[data-testid="seat-open"]')).click();
    await click(b, "revoke");
    await click(b, "confirm-revoke");
    assert.match(await text(b, "seats-message"), /Asha was revoked/);
    assert.equal(await (await ashaRow.$('[data-testid="seat-state"]')).getText(), "Revoked");

    // She has no tile to sign in with any more.
    await click(b, "sign-out");
    await b.$('[data-testid="seat-tile"]').then((t) => t.waitForDisplayed({ timeout: 20000 }));
    const names = await attributes(b, '[data-testid="seat-tile"]', "data-seat-name");
    assert.deepEqual(names, ["Ravi Sharma"]);

    // The audit screen lists each step, filters to Asha, verifies and exports.
    await signIn(b, "Ravi Sharma", OWNER_PASSPHRASE);
    await click(b, "nav-audit");
    assert.match(await text(b, "chain-status"), /^Intact: \d+ records verified$/);
    await b.waitUntil(async () => (await b.$$('[data-testid="audit-entry"]')).length > 10, { timeout: 10000 });
    const actions = await attributes(b, '[data-testid="audit-entry"]', "data-action");
    for (const step of ["shop.create", "shop.settings", "shop.set_policy", "seat.add", "seat.reset_secret", "session.sign_in", "invoice.finalize", "session.unlock", "seat.revoke"]) {
      assert.ok(actions.includes(step), `${step} is listed: ${actions.join(", ")}`);
    }
    // Her sale was held as the screen locked, but a sale's edits are no records of their own:
    // the sale is one record, its finalize (which carries its history).
    assert.ok(!actions.some((a) => ["cart.open", "cart.add_line", "cart.hold", "cart.resume"].includes(a)), actions.join(", "));
    assert.equal(actions[0], "session.sign_in", "newest first");
    await shoot(b, "audit.png");

    const seatFilter = await b.$('[data-testid="filter-seat"]');
    const ashaOption = await seatFilter.$("option=Asha");
    await seatFilter.selectByAttribute("value", await ashaOption.getAttribute("value"));
    await type(b, "filter-action", "invoice");
    await click(b, "apply-filter");
    await b.waitUntil(
      async () => {
        const acts = await attributes(b, '[data-testid="audit-entry"]', "data-action");
        return acts.length === 1 && acts[0] === "invoice.finalize";
      },
      { timeout: 10000, timeoutMsg: "the filter left only Asha's invoice" },
    );

    await click(b, "export-audit");
    const saved = await text(b, "export-result");
    assert.match(saved, /verified/);
    const path = saved.match(/Saved (\S+\.csv)/)[1];
    assert.ok(path.startsWith(exportDir), path);
    assert.ok(existsSync(path));
    const exported = readFileSync(path, "utf8");
    assert.match(exported.split("\n")[0], /^seq,time_utc,seat_id,role,action/);
    assert.match(exported, /seat\.revoke/);
  } finally {
    await app.stop();
  }
});
