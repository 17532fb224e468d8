// Idle auto-logout in the real window: the owner shortens the owner role's idle timeout from the
// command line while the till is open (the engine reads the policy on every check), nobody
// touches the till, a countdown appears in the last 30 seconds, and the lock screen follows on
// its own, naming the seat; the passphrase unlocks it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { OWNER_PASSPHRASE, cli, createShop, launch, shoot, text, type } from "./helpers.mjs";


test("an idle till shows a countdown, then locks by itself", async () => {
  const app = await launch();
  try {
    const b = app.browser;
    await createShop(b, { passphrase: OWNER_PASSPHRASE });
    cli(app.dataDir, ["policy", "set", "--idle", "owner=35"]);

    // The last 30 s count down visibly, without anyone touching the till...
    const countdown = await text(b, "idle-countdown", 20000);
    assert.match(countdown, /Locking in \d+ s/);
    await shoot(b, "idle-countdown.png");
    // ...then the lock screen comes by itself.
    assert.match(await text(b, "locked", 45000), /Ravi Sharma/);
    await type(b, "secret-input", OWNER_PASSPHRASE);
    await (await b.$('[data-testid="unlock"]')).click();
    assert.match(await text(b, "session-seat"), /Ravi Sharma/);
  } finally {
    await app.stop();
  }
});
