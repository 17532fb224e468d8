import { describe, expect, it, vi } from "vitest";
import type { SessionInfo } from "./api";
import {
  activityReporter,
  pressPad,
  can,
  roleLabel,
  rolesLabel,
  secondFactorFrom,
  secondsUntilIdle,
  secretLabel,
  showIdleCountdown,
  signInReady,
  statusSequencer,
  supportUntilLabel,
  validSecretInput,
} from "./session";

const at = (idle_at_ms: number) => ({ idle_at_ms });

describe("idle countdown", () => {
  it("counts whole seconds up, never below zero", () => {
    expect(secondsUntilIdle(at(10_000), 0)).toBe(10);
    expect(secondsUntilIdle(at(10_000), 1)).toBe(10);
    expect(secondsUntilIdle(at(10_000), 9_001)).toBe(1);
    expect(secondsUntilIdle(at(10_000), 10_000)).toBe(0);
    expect(secondsUntilIdle(at(10_000), 15_000)).toBe(0);
  });

  it("shows only in the last 30 seconds", () => {
    const idle = 100_000;
    expect(showIdleCountdown(at(idle), idle - 30_001)).toBe(false);
    expect(showIdleCountdown(at(idle), idle - 30_000)).toBe(true);
    expect(showIdleCountdown(at(idle), idle - 1)).toBe(true);
    // Past the deadline the engine has locked; the page shows 0 until its next status poll.
    expect(showIdleCountdown(at(idle), idle + 500)).toBe(true);
  });
});

describe("activity reporter", () => {
  function setup(interval?: number) {
    let clock = 1_000_000;
    const send = vi.fn(() => Promise.resolve("ok"));
    const report = activityReporter(send, interval, () => clock);
    return { send, report, advance: (ms: number) => (clock += ms) };
  }

  it("reports the first event at once", async () => {
    const { send, report } = setup();
    await expect(report()).resolves.toBe("ok");
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("sends at most once per interval (5 s by default)", () => {
    const { send, report, advance } = setup();
    report();
    for (let i = 0; i < 49; i++) {
      advance(100);
      expect(report()).toBeNull();
    }
    expect(send).toHaveBeenCalledTimes(1);
    advance(99); // 4,999 ms after the first send
    report();
    expect(send).toHaveBeenCalledTimes(1);
    advance(1); // 5,000 ms
    expect(report()).not.toBeNull();
    expect(send).toHaveBeenCalledTimes(2);
  });

  it("measures the interval from the last send, not the last event", () => {
    const { send, report, advance } = setup(1000);
    report(); // t=0 sent
    advance(600);
    report(); // dropped
    advance(600);
    report(); // t=1200 sent
    advance(999);
    report(); // dropped
    advance(1);
    report(); // t=2200 sent
    expect(send).toHaveBeenCalledTimes(3);
  });

  it("sends nothing while no one is active", () => {
    const { send, advance } = setup();
    advance(60_000);
    expect(send).not.toHaveBeenCalled();
  });
});

describe("permissions", () => {
  const info: Pick<SessionInfo, "permissions"> = { permissions: ["bill", "view_audit"] };
  it("shows what the seat may do", () => {
    expect(can(info, "view_audit")).toBe(true);
    expect(can(info, "export_audit")).toBe(false);
  });
  it("shows nothing without a session", () => {
    expect(can(null, "bill")).toBe(false);
    expect(can(undefined, "bill")).toBe(false);
  });
});

describe("role wording", () => {
  it("names every preset role", () => {
    expect(roleLabel("owner")).toBe("Owner");
    expect(roleLabel("manager")).toBe("Manager");
    expect(roleLabel("counter_staff")).toBe("Counter staff");
    expect(roleLabel("accountant")).toBe("Accountant");
    expect(roleLabel("stock_keeper")).toBe("Stock keeper");
    expect(roleLabel("read_only")).toBe("Read only");
    expect(roleLabel("support")).toBe("Support");
  });
  it("words a role it does not know yet", () => {
    expect(roleLabel("night_auditor")).toBe("Night auditor");
  });
  it("joins several roles", () => {
    expect(rolesLabel(["owner", "counter_staff"])).toBe("Owner, Counter staff");
    expect(rolesLabel([])).toBe("");
  });
});

describe("secrets", () => {
  it("names the kind", () => {
    expect(secretLabel("pin")).toBe("PIN");
    expect(secretLabel("passphrase")).toBe("Passphrase");
  });

  it("takes a PIN of 6 to 12 digits", () => {
    expect(validSecretInput("pin", "12345")).toBe(false);
    expect(validSecretInput("pin", "482915")).toBe(true);
    expect(validSecretInput("pin", "482915482915")).toBe(true);
    expect(validSecretInput("pin", "4829154829150")).toBe(false);
    expect(validSecretInput("pin", "48291a")).toBe(false);
    expect(validSecretInput("pin", " 482915")).toBe(false);
    expect(validSecretInput("pin", "")).toBe(false);
  });

  it("takes a passphrase of 8 to 128 characters, counted as people see them", () => {
    expect(validSecretInput("passphrase", "1234567")).toBe(false);
    expect(validSecretInput("passphrase", "correct horse")).toBe(true);
    expect(validSecretInput("passphrase", "x".repeat(128))).toBe(true);
    expect(validSecretInput("passphrase", "x".repeat(129))).toBe(false);
    // Counted in code points, as the engine counts them: eight here, combining marks included.
    expect(validSecretInput("passphrase", "नमस्तेदु")).toBe(true);
    expect(validSecretInput("passphrase", "😀".repeat(8))).toBe(true);
    expect(validSecretInput("passphrase", "😀".repeat(4))).toBe(false);
  });
});

describe("second factor", () => {
  it("sends nothing when the box is empty", () => {
    expect(secondFactorFrom("")).toBeNull();
    expect(secondFactorFrom("   ")).toBeNull();
  });
  it("sends up to 8 characters as the app's code", () => {
    expect(secondFactorFrom("123456")).toEqual({ kind: "code", code: "123456" });
    expect(secondFactorFrom(" 123 456 ")).toEqual({ kind: "code", code: "123456" });
    expect(secondFactorFrom("12345678")).toEqual({ kind: "code", code: "12345678" });
  });
  it("sends anything longer as a recovery code, as typed", () => {
    expect(secondFactorFrom("ABCD-EFGH-JKLM-NPQR")).toEqual({ kind: "recovery_code", code: "ABCD-EFGH-JKLM-NPQR" });
    expect(secondFactorFrom("123456789")).toEqual({ kind: "recovery_code", code: "123456789" });
  });
});

describe("sign-in form", () => {
  const pinSeat = { secret_kind: "pin" as const, second_factor: false };
  const totpSeat = { secret_kind: "passphrase" as const, second_factor: true };
  it("needs a well-formed secret", () => {
    expect(signInReady(pinSeat, "4829", "")).toBe(false);
    expect(signInReady(pinSeat, "482915", "")).toBe(true);
  });
  it("needs a code when the seat has two-step sign-in", () => {
    expect(signInReady(totpSeat, "correct horse", "")).toBe(false);
    expect(signInReady(totpSeat, "correct horse", "123456")).toBe(true);
  });
  it("needs a code once the engine asked for one", () => {
    expect(signInReady(pinSeat, "482915", "", true)).toBe(false);
    expect(signInReady(pinSeat, "482915", "123456", true)).toBe(true);
  });
});

describe("support window", () => {
  it("says until when", () => {
    expect(supportUntilLabel(null)).toBeNull();
    expect(supportUntilLabel(Date.UTC(2025, 0, 1, 9, 30))).toMatch(/^Support until \d{1,2}[:.]\d{2}/);
  });
});

describe("status ordering", () => {
  it("lets the latest request win", () => {
    const s = statusSequencer();
    const poll = s.begin();
    const lock = s.begin();
    expect(s.accept(lock)).toBe(true);
    expect(s.accept(poll)).toBe(false); // the slow poll would undo the lock
  });
  it("applies answers that arrive in order", () => {
    const s = statusSequencer();
    const a = s.begin();
    expect(s.accept(a)).toBe(true);
    const b = s.begin();
    expect(s.accept(b)).toBe(true);
  });
  it("ranks a command's result above every request before it", () => {
    const s = statusSequencer();
    const poll = s.begin();
    expect(s.accept(s.begin())).toBe(true);
    expect(s.accept(poll)).toBe(false);
    expect(s.accept(s.begin())).toBe(true);
  });
});

describe("pressPad", () => {
  it("appends digits, deletes the last, clears, and stops at the PIN's longest", () => {
    let pin = "";
    for (const k of ["4", "8", "2"] as const) pin = pressPad(pin, k);
    expect(pin).toBe("482");
    expect(pressPad(pin, "back")).toBe("48");
    expect(pressPad("", "back")).toBe("");
    expect(pressPad(pin, "clear")).toBe("");
    expect(pressPad("123456789012", "3")).toBe("123456789012");
    expect(pressPad("12345", "6", 6)).toBe("123456");
  });
});
