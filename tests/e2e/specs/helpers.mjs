// Starts tauri-driver and a WebDriver session on the real desktop binary, with a data folder
// of the test's own. Run inside `xvfb-run -a scripts/keyring-session.sh` (the test command does).
import { spawn, spawnSync } from "node:child_process";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import net from "node:net";
import { remote } from "webdriverio";

export const root = resolve(import.meta.dirname, "../../..");
export const appBinary =
  process.env.GALLA_DESKTOP_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(root, "target"), "debug", "galla-desktop");
export const screenshotDir = process.env.GALLA_SCREENSHOT_DIR ?? join(root, "target", "e2e-screenshots");

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on("error", rej);
  });
}

async function waitForPort(port, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise((res) => {
      const c = net.connect(port, "127.0.0.1", () => { c.end(); res(true); });
      c.on("error", () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`tauri-driver did not listen on ${port}`);
}

const live = new Set();
const signalGroup = (pid, signal) => {
  try { process.kill(-pid, signal); return true; } catch { return false; }
};
// A spec that throws before stop() must not leave its app behind either.
process.on("exit", () => { for (const pid of live) signalGroup(pid, "SIGKILL"); });

/** Ends a driver's whole process group: politely, then for certain. */
async function endGroup(driver) {
  signalGroup(driver.pid, "SIGTERM");
  for (let i = 0; i < 30 && signalGroup(driver.pid, 0); i++) await new Promise((r) => setTimeout(r, 100));
  signalGroup(driver.pid, "SIGKILL");
  live.delete(driver.pid);
}

/** Launches the app on a fresh data folder; returns { browser, dataDir, stop }. */
export async function launch({ dataDir, env = {} } = {}) {
  const dir = dataDir ?? join(mkdtempSync(join(tmpdir(), "galla-e2e-")), "shop");
  const port = await freePort();
  const nativePort = await freePort();
  const driver = spawn("tauri-driver", ["--port", String(port), "--native-port", String(nativePort)], {
    env: { ...process.env, GALLA_DATA_DIR: dir, ...env },
    stdio: ["ignore", "inherit", "inherit"],
    // Its own process group, so stop() can end the driver, WebKitWebDriver and the app together;
    // an app left running keeps xvfb-run (and so CI) waiting.
    detached: true,
  });
  live.add(driver.pid);
  driver.unref(); // the exit hook below ends it; a live driver must not keep the runner waiting
  let browser;
  try {
    await waitForPort(port, 15000);
    browser = await remote({
      hostname: "127.0.0.1",
      port,
      logLevel: "warn",
      capabilities: { "tauri:options": { application: appBinary } },
    });
  } catch (e) {
    await endGroup(driver);
    throw e;
  }
  mkdirSync(screenshotDir, { recursive: true });
  return {
    browser,
    dataDir: dir,
    async stop() {
      try { await browser.deleteSession(); } catch { /* the app may already be gone */ }
      await endGroup(driver);
    },
  };
}

/** Saves a screenshot; WebKitWebDriver can capture a frame before the last one is painted. */
export async function shoot(browser, name) {
  await browser.pause(400);
  await browser.saveScreenshot(join(screenshotDir, name));
}

export const cliBinary =
  process.env.GALLA_CLI_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(root, "target"), "debug", "galla-cli");

/** Text of a test id once it is displayed. */
export async function text(browser, testid, timeout = 20000) {
  const el = await browser.$(`[data-testid="${testid}"]`);
  await el.waitForDisplayed({ timeout });
  return (await el.getText()).trim();
}

export async function type(browser, testid, value) {
  const el = await browser.$(`[data-testid="${testid}"]`);
  await el.waitForDisplayed({ timeout: 20000 });
  await el.setValue(value);
}

/** Creates a shop through the first-run screen; the owner is then signed in. */
export async function createShop(browser, { shop = "Sharma Mobiles", owner = "Ravi Sharma", passphrase = "correct horse battery" } = {}) {
  await type(browser, "shop-name-input", shop);
  await type(browser, "owner-name-input", owner);
  await type(browser, "passphrase-input", passphrase);
  await type(browser, "passphrase-again-input", passphrase);
  await (await browser.$('[data-testid="create-shop"]')).click();
  await text(browser, "session-seat");
}

/** The schema version this build creates: one per numbered file in migrations/client. */
export const schemaVersion = readdirSync(join(root, "migrations", "client")).filter((f) => f.endsWith(".sql")).length;

/** The owner's passphrase `createShop` sets by default. */
export const OWNER_PASSPHRASE = "correct horse battery";

/** Runs galla-cli on the app's data folder with `input` on stdin (the owner's passphrase by
 *  default); fails the test with its stderr if it fails. */
export function cli(dataDir, args, input = `${OWNER_PASSPHRASE}\n`) {
  const r = spawnSync(cliBinary, args, { env: { ...process.env, GALLA_DATA_DIR: dataDir }, input, encoding: "utf8" });
  assert.equal(r.status, 0, `galla-cli ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

export async function click(browser, testid) {
  const el = await browser.$(`[data-testid="${testid}"]`);
  await el.waitForClickable({ timeout: 20000 });
  // WebKit's driver clicks at the element's centre without scrolling to it when an edge of it
  // shows: a button half below the window would take the click nowhere.
  await el.scrollIntoView({ block: "center" });
  await el.click();
}

/** Types a code into the till's code box and presses Enter, as a scanner would. */
export async function enterCode(browser, code) {
  await type(browser, "code-input", code);
  await browser.keys("Enter");
}

export async function count(browser, testid) {
  return (await browser.$$(`[data-testid="${testid}"]`)).length;
}

/** An attribute of every element matching `selector`, read one at a time: tauri-driver does
 *  not take concurrent requests. */
export async function attributes(browser, selector, name) {
  const out = [];
  for (const el of await browser.$$(selector)) out.push(await el.getAttribute(name));
  return out;
}

/** Signs `name` in from the seat tiles with `secret`. */
export async function signIn(browser, name, secret) {
  const tile = await browser.$(`[data-testid="seat-tile"][data-seat-name="${name}"]`);
  await tile.waitForClickable({ timeout: 20000 });
  await tile.click();
  await type(browser, "secret-input", secret);
  await click(browser, "sign-in");
  assert.match(await text(browser, "session-seat"), new RegExp(name));
}

/** The phone shop's catalogue, as a CSV file: a back cover (barcode 4006381333931, ₹299) and a
 *  dual-SIM phone (SKU RN13, ₹14,999, two IMEIs per unit). */
export const PHONE_SHOP_CSV =
  "sku,name,barcodes,hsn,gst_rate,price,serialized,imeis_per_unit\n" +
  "COVER,Back cover,4006381333931,3926,18,299,no,\n" +
  "RN13,Redmi Note 13,,8517,18,14999,yes,2\n";

/** Imports the phone shop's catalogue through the CLI into the shop the app has open. */
export function importPhoneShop(dataDir) {
  const csv = join(mkdtempSync(join(tmpdir(), "galla-e2e-")), "products.csv");
  writeFileSync(csv, PHONE_SHOP_CSV);
  cli(dataDir, ["import", "products", csv]);
}
