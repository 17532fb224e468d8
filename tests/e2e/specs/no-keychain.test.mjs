// With no usable keychain the app must not start a shop (there is no key on disk to fall back
// to): it shows why and what to install, and creates nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { launch, shoot } from "./helpers.mjs";

test("without a Secret Service the app stops with what to install", async () => {
  // The app finds the keychain through the session bus; point it at a bus that does not exist.
  const app = await launch({ env: { DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/galla-no-bus" } });
  try {
    const msg = await app.browser.$('[data-testid="fatal-message"]');
    await msg.waitForDisplayed({ timeout: 20000 });
    const text = await msg.getText();
    assert.match(text, /no usable OS keychain/);
    assert.match(text, /gnome-keyring/);
    await shoot(app.browser, "no-keychain.png");
    assert.equal(await (await app.browser.$('[data-testid="shop-name-input"]')).isExisting(), false);
    assert.equal(existsSync(join(app.dataDir, "galla.db")), false);
  } finally {
    await app.stop();
  }
});
