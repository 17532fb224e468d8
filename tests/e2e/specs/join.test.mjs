// A second counter joins a shop that is already on its cloud: the first-run screen's "join"
// choice takes the cloud's address, its CA (showing its fingerprint) and the owner's one-time
// code (typed carelessly); the shop arrives with its staff, who sign in with the PIN they
// already have, and the new counter bills in its own series.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { click, enterCode, launch, root, shoot, signIn, text, type } from "./helpers.mjs";

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
  } finally {
    if (app) await app.stop();
    await cloud.stop();
  }
});
