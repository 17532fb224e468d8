// Smoke test of the real desktop app: first run creates a shop through the UI (the owner is then
// signed in), the status panel shows what the engine reports (shop name, schema version,
// keychain backend, audit chain); a restart opens the same shop with its keys from the keychain
// at the lock screen, where a wrong passphrase is refused and the right one signs in; locking
// the screen and unlocking it with the passphrase returns to the till.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, schemaVersion, shoot, text, type } from "./helpers.mjs";

test("first run creates a shop and the status shows the engine's facts", async () => {
  const app = await launch();
  let dataDir = app.dataDir;
  try {
    const { browser } = app;
    await type(browser, "shop-name-input", "Sharma Mobiles");
    await type(browser, "gstin-input", "27AAPFU0939F1ZV");
    await type(browser, "owner-name-input", "Ravi Sharma");
    await type(browser, "passphrase-input", "short");
    await type(browser, "passphrase-again-input", "short");
    await (await browser.$('[data-testid="create-shop"]')).click();
    // The form refuses a short passphrase next to the field and creates nothing.
    const err = await browser.$(".field-error");
    await err.waitForDisplayed({ timeout: 5000 });
    assert.match(await err.getText(), /at least 8/);
    await shoot(browser, "first-run.png");

    await type(browser, "passphrase-input", "correct horse battery");
    await type(browser, "passphrase-again-input", "correct horse battery");
    await (await browser.$('[data-testid="create-shop"]')).click();

    assert.equal(await text(browser, "shop-name"), "Sharma Mobiles");
    assert.match(await text(browser, "session-seat"), /Ravi Sharma/);
    assert.equal(await text(browser, "schema-version"), String(schemaVersion));
    assert.match(await text(browser, "keychain-backend"), /Secret Service/);
    // A standalone shop: its changes are queued for a cloud it may link to later.
    assert.match(await text(browser, "sync-status"), /^Standalone · \d+ queued$/);
    const chain = await browser.$('[data-testid="chain-status"]');
    await chain.waitForDisplayed({ timeout: 20000 });
    assert.equal(await chain.getAttribute("data-tone"), "ok");
    assert.equal((await chain.getText()).trim(), "Intact: 1 record verified");
    await shoot(browser, "status.png");
  } finally {
    await app.stop();
  }

  // Restart on the same folder: the keys come back from the keychain, the shop opens at the
  // lock screen, and nothing of it is usable before a seat signs in.
  const again = await launch({ dataDir });
  try {
    const b = again.browser;
    const tile = await b.$('[data-testid="seat-tile"][data-seat-name="Ravi Sharma"]');
    await tile.waitForDisplayed({ timeout: 20000 });
    assert.equal(await (await b.$('[data-testid="chain-status"]')).isExisting(), false);
    await tile.click();
    await type(b, "secret-input", "wrong passphrase");
    await (await b.$('[data-testid="sign-in"]')).click();
    assert.match(await text(b, "sign-in-error"), /wrong PIN, passphrase or code/);
    await shoot(b, "sign-in.png");
    await type(b, "secret-input", "correct horse battery");
    await (await b.$('[data-testid="sign-in"]')).click();
    assert.match(await text(b, "session-seat"), /Ravi Sharma/);
    assert.equal(await text(b, "shop-name"), "Sharma Mobiles");
    assert.match(await text(b, "chain-status"), /^Intact/);

    // Lock the screen: the till shows who locked it; the passphrase unlocks it.
    await (await b.$('[data-testid="lock"]')).click();
    assert.match(await text(b, "locked"), /Ravi Sharma/);
    await shoot(b, "locked.png");
    await type(b, "secret-input", "correct horse battery");
    await (await b.$('[data-testid="unlock"]')).click();
    assert.match(await text(b, "session-seat"), /Ravi Sharma/);
  } finally {
    await again.stop();
  }
});
