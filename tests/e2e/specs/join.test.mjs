// A second counter joins a shop that is already on its cloud: the first-run screen's "join"
// choice takes the cloud's address, its CA (showing its fingerprint) and the owner's one-time
// code (typed carelessly); the shop arrives with its staff, who sign in with the PIN they
// already have, and the new counter bills in its own series; the owner, signed in there,
// resolves the alert the cloud raised (a clerk is not shown it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { click, count, enterCode, launch, root, shoot, signIn, text, type } from "./helpers.mjs";

const cloudBinary =
  process.env.GALLA_E2E_CLOUD_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(root, "target"), "debug", "galla-e2e-cloud");

/** Starts the cloud helper; resolves with what it prints once the shop is on the cloud. */
function startCloud() {
  const dir = mkdtempSync(join(tmpdir(), "galla-e2e-cloud-"));
  chmodSync(dir, 0o755); // the cluster runs as the postgres user, who must reach its folder
  const helper = spawn(cloudBinary, [dir], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const ready = new Promise((resolve, reject) => {
    let out = "";
    helper.stdout.on("data", (chunk) => {
      out += chunk;
      const newline = out.indexOf("\n");
      if (newline >= 0) resolve(JSON.parse(out.slice(0, newline)));
    });
    helper.on("exit", (code) => reject(new Error(`galla-e2e-cloud exited (${code}) before it was ready`)));
  });
  // Closing its stdin lets it stop its PostgreSQL cleanly.
  const stop = () => new Promise((resolve) => {
    if (helper.exitCode !== null) return resolve();
    helper.on("exit", resolve);
    helper.stdin.end();
  });
  return { ready, stop };
}

test("a new counter joins the shop's cloud from the first-run screen and bills in its own series", async () => {
  const cloud = startCloud();
  let app;
  try {
    const shop = await cloud.ready;
    app = await launch();
    const b = app.browser;
    await click(b, "mode-join");
    await type(b, "join-server", shop.url);
    // Pasted, as the owner's PEM file would be (WebDriver typing drops a textarea's newlines).
    const ca = await b.$('[data-testid="join-ca"]');
    await b.execute((el, pem) => {
      el.value = pem;
      el.dispatchEvent(new Event("input", { bubbles: true }));
    }, ca, shop.ca_pem);
    // The till shows the CA's fingerprint to read against the cloud's: the same SHA-256 that
    // an independent implementation (Node's) makes of the certificate.
    const der = Buffer.from(shop.ca_pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
    const expected = createHash("sha256").update(der).digest("hex").toUpperCase().match(/../g).join(":");
    assert.match(await text(b, "join-ca-fingerprint"), new RegExp(expected));
    // A wrong-shaped code is caught on the form; the real one is typed in lower case with a space.
    await type(b, "join-code", "12345");
    await click(b, "join-shop");
    assert.match(await text(b, "join-form"), /Ten letters and digits/);
    await type(b, "join-code", shop.code.toLowerCase().replace("-", " "));
    await shoot(b, "join.png");
    await click(b, "join-shop");

    // The shop arrived: its name, and its staff on the sign-in tiles.
    const shown = async (id) => (await b.$(`[data-testid="${id}"]`)).isDisplayed();
    await b.waitUntil(async () => (await shown("shop-name")) || (await shown("submit-error")), { timeout: 60000 });
    if (await shown("submit-error")) assert.fail(`joining failed: ${await text(b, "submit-error")}`);
    assert.equal(await text(b, "shop-name"), "Sharma Mobiles");
    await signIn(b, "Asha", "482916");
    assert.match(await text(b, "terminal-line"), new RegExp(`Counter 2 · invoice series ${shop.series_code}`));

    // The catalogue came too: the back cover scans, and the sale takes this counter's series.
    await text(b, "cart-empty");
    await enterCode(b, "4006381333931");
    await text(b, "cart");
    await type(b, "cash-tendered", "300");
    await click(b, "finalize");
    const number = await text(b, "invoice-number");
    assert.match(number, new RegExp(`^${shop.series_code}/\\d{2}-\\d{2}/000001$`));
    assert.notEqual(number, shop.first_invoice);
    await shoot(b, "joined-sale.png");

    // The shop came with an alert for the owner (a phone sold twice). A clerk is not shown it;
    // the owner signs in here, reads it, and resolves it with what was done.
    await click(b, "nav-settings");
    await text(b, "cloud-sync");
    await b.pause(1500); // the panel has asked the engine for alerts by now
    assert.equal(await count(b, "cloud-alert"), 0);
    await click(b, "sign-out");
    await signIn(b, "Ravi Sharma", "correct horse battery");
    await click(b, "nav-settings");
    const alert = await b.$('[data-testid="cloud-alert"][data-kind="imei_conflict"]');
    await alert.waitForDisplayed({ timeout: 20000 });
    assert.match(await alert.getText(), /490154203237518/);
    assert.match(await text(b, "cloud-alerts-open"), /1 open/);
    await click(b, "resolve-alert");
    await type(b, "resolve-note", "Second sale was a billing mistake; credit note issued");
    await click(b, "resolve-submit");
    const resolution = await text(b, "alert-resolution");
    assert.match(resolution, /^Resolved by Ravi Sharma/);
    assert.match(resolution, /billing mistake/);
    assert.match(await text(b, "cloud-alerts-open"), /0 open/);
    await shoot(b, "alert-resolved.png");
  } finally {
    if (app) await app.stop();
    await cloud.stop();
  }
});
