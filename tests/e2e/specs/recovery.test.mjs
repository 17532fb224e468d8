// The recovery kit in the real window and the real keychain: the owner makes one in Settings
// and sees its code once; the keychain then loses the shop's keys (cleared with secret-tool, as
// a reset login keyring would), the app says so at start and asks for the code; a wrong code
// is refused and the right one opens the shop again at its lock screen, its data intact.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { OWNER_PASSPHRASE, click, createShop, launch, shoot, signIn, text, type } from "./helpers.mjs";

test("a lost keychain is mended with the owner's recovery code", async () => {
  const app = await launch();
  const dataDir = app.dataDir;
  let code;
  try {
    const b = app.browser;
    await createShop(b, { passphrase: OWNER_PASSPHRASE });
    // Until there is a kit, the owner is told, and the reminder leads to it.
    await click(b, "no-recovery-kit");
    assert.match(await text(b, "recovery-kit-state"), /None yet/);
    await click(b, "make-recovery-kit");
    code = await text(b, "recovery-code");
    assert.match(code, /^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}$/);
    await shoot(b, "recovery-kit.png");
    await click(b, "recovery-code-done");
    assert.match(await text(b, "recovery-kit-state"), /^Made /);
    assert.equal(await (await b.$('[data-testid="recovery-code"]')).isExisting(), false, "shown once");
    await b.waitUntil(async () => !(await (await b.$('[data-testid="no-recovery-kit"]')).isExisting()), {
      timeout: 10000,
      timeoutMsg: "the reminder goes once the kit is made",
    });
  } finally {
    await app.stop();
  }

  // The keychain forgets this install's keys.
  const { install_id: install } = JSON.parse(readFileSync(join(dataDir, "install.json"), "utf8"));
  for (const key of ["db-key", "wrap-key", "device-signing-key"]) {
    execFileSync("secret-tool", ["clear", "service", "Galla till", "username", `${install}/${key}`]);
  }

  const again = await launch({ dataDir });
  try {
    const b = again.browser;
    assert.match(await text(b, "fatal-message"), /keychain has no/);
    await type(b, "recovery-code-input", "7K2QM-0A1BC-DEFGH-JKMNP-QRSTV");
    await click(b, "recover");
    assert.match(await text(b, "recovery-error"), /does not open this kit/);
    await shoot(b, "recovery-start.png");
    // Typed as people do: lower case, spaces for dashes.
    await type(b, "recovery-code-input", code.toLowerCase().replaceAll("-", " "));
    await click(b, "recover");
    await signIn(b, "Ravi Sharma", OWNER_PASSPHRASE);
    assert.equal(await text(b, "shop-name"), "Sharma Mobiles");
    assert.match(await text(b, "chain-status"), /^Intact/);
  } finally {
    await again.stop();
  }
});
