import { describe, expect, it } from "vitest";
import { actionLabel, dayEndMs, dayStartMs, minutesLabel, parseMinutes, seatState } from "./admin";

const MIN = 30_000;
const MAX = 12 * 3_600_000;

describe("idle timeouts in minutes", () => {
  it("reads whole and fractional minutes", () => {
    expect(parseMinutes("5", MIN, MAX)).toEqual({ ms: 300_000 });
    expect(parseMinutes(" 0.5 ", MIN, MAX)).toEqual({ ms: 30_000 });
    expect(parseMinutes("0,75", MIN, MAX)).toEqual({ ms: 45_000 });
  });

  it("refuses what is not a number or out of bounds, saying the bounds", () => {
    expect(parseMinutes("", MIN, MAX)).toHaveProperty("error");
    expect(parseMinutes("-1", MIN, MAX)).toHaveProperty("error");
    expect(parseMinutes("five", MIN, MAX)).toHaveProperty("error");
    expect(parseMinutes("0.4", MIN, MAX)).toEqual({ error: "Between 0.5 and 720 minutes." });
    expect(parseMinutes("721", MIN, MAX)).toHaveProperty("error");
  });

  it("labels round-trip through parsing", () => {
    for (const ms of [30_000, 45_000, 60_000, 90_000, 300_000, MAX]) {
      expect(parseMinutes(minutesLabel(ms), MIN, MAX)).toEqual({ ms });
    }
  });
});

describe("audit day ranges", () => {
  it("covers the whole local day, end exclusive", () => {
    const start = dayStartMs("2026-11-21")!;
    const end = dayEndMs("2026-11-21")!;
    expect(new Date(start).getHours()).toBe(0);
    expect(new Date(start).getDate()).toBe(21);
    expect(new Date(end).getDate()).toBe(22);
    expect(end).toBeGreaterThan(start);
  });

  it("rolls over months and refuses malformed days", () => {
    expect(new Date(dayEndMs("2026-03-31")!).getMonth()).toBe(3);
    expect(dayStartMs("")).toBeNull();
    expect(dayStartMs("21/11/2026")).toBeNull();
  });
});

describe("seatState", () => {
  const active = { revoked_at_ms: null, locked_until_ms: null, support_until_ms: null };
  it("says revoked before anything else", () => {
    expect(seatState({ ...active, revoked_at_ms: 1, locked_until_ms: 99 }, 10)).toEqual({ tone: "bad", text: "Revoked" });
  });
  it("counts down a lockout and forgets it once past", () => {
    expect(seatState({ ...active, locked_until_ms: 10_500 }, 1_000).text).toBe("Locked out for 10 s");
    expect(seatState({ ...active, locked_until_ms: 500 }, 1_000).text).toBe("Active");
  });
  it("tells a live support window from an ended one", () => {
    expect(seatState({ ...active, support_until_ms: 2_000 }, 1_000).text).toBe("Support access");
    expect(seatState({ ...active, support_until_ms: 2_000 }, 3_000).text).toBe("Support ended");
  });
});

describe("actionLabel", () => {
  it("words known actions and shows unknown ones as recorded", () => {
    expect(actionLabel("seat.revoke")).toBe("Seat revoked");
    expect(actionLabel("invoice.finalize")).toBe("Invoice issued");
    expect(actionLabel("future.thing")).toBe("future.thing");
  });
});
