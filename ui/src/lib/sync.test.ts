import { describe, expect, it } from "vitest";
import { ageLabel, describeSync } from "./sync";

describe("describeSync", () => {
  it("calls a standalone shop standalone, with what it keeps", () => {
    expect(describeSync({ linked: false, queued_operations: 0, oldest_queued_at_ms: null }, 0).text).toBe("Standalone");
    expect(describeSync({ linked: false, queued_operations: 1, oldest_queued_at_ms: 0 }, 0).detail).toMatch(/^1 change kept/);
    expect(describeSync({ linked: false, queued_operations: 12, oldest_queued_at_ms: 0 }, 0).detail).toMatch(/^12 changes kept/);
  });

  it("warns when a linked shop has changes waiting, with the oldest's age", () => {
    const v = describeSync({ linked: true, queued_operations: 3, oldest_queued_at_ms: 0 }, 2 * 3_600_000);
    expect(v).toEqual({ tone: "warn", text: "3 changes to send", detail: "Waiting to sync, the oldest from 2 hours ago." });
    expect(describeSync({ linked: true, queued_operations: 0, oldest_queued_at_ms: null }, 0).text).toBe("Synced");
  });

  it("words ages from seconds to days", () => {
    expect(ageLabel(30_000)).toBe("less than a minute");
    expect(ageLabel(60_000)).toBe("1 minute");
    expect(ageLabel(59 * 60_000)).toBe("59 minutes");
    expect(ageLabel(47 * 3_600_000)).toBe("47 hours");
    expect(ageLabel(72 * 3_600_000)).toBe("3 days");
  });
});
