import { describe, expect, it } from "vitest";
import type { SyncState } from "./api";
import { ageLabel, describeSync } from "./sync";

const base: SyncState = {
  linked: false,
  server_url: null,
  online: false,
  queued_operations: 0,
  oldest_queued_at_ms: null,
  last_attempt_ms: null,
  last_success_ms: null,
  last_error: null,
  standing: "active",
  alarms: 0,
  checkpoint_size: 0,
};
const linked: SyncState = { ...base, linked: true, server_url: "https://cloud.example.in", online: true, last_attempt_ms: 0, last_success_ms: 0 };

describe("describeSync", () => {
  it("calls a standalone shop standalone, with what it keeps", () => {
    expect(describeSync(base, 0).text).toBe("Standalone");
    expect(describeSync({ ...base, queued_operations: 1, oldest_queued_at_ms: 0 }, 0).detail).toMatch(/^1 change kept/);
    expect(describeSync({ ...base, queued_operations: 12, oldest_queued_at_ms: 0 }, 0).detail).toMatch(/^12 changes kept/);
  });

  it("warns when a linked shop has changes waiting, with the oldest's age", () => {
    const v = describeSync({ ...linked, queued_operations: 3, oldest_queued_at_ms: 0 }, 2 * 3_600_000);
    expect(v).toEqual({ tone: "warn", text: "3 changes to send", detail: "Waiting to sync, the oldest from 2 hours ago." });
    expect(describeSync(linked, 5 * 60_000)).toEqual({ tone: "ok", text: "Synced", detail: "Nothing waiting to send; last synced 5 minutes ago." });
  });

  it("says offline with what waits, since when, and why", () => {
    const v = describeSync(
      { ...linked, online: false, queued_operations: 4, last_attempt_ms: 60_000, last_error: "the shop's cloud could not be reached" },
      3 * 3_600_000,
    );
    expect(v.tone).toBe("warn");
    expect(v.text).toBe("Offline");
    expect(v.detail).toBe("4 changes waiting; last synced 3 hours ago. the shop's cloud could not be reached");
    expect(describeSync({ ...linked, online: false, last_success_ms: null, last_attempt_ms: 1 }, 0).detail).toMatch(/^Nothing waiting; never synced yet/);
  });

  it("puts an alarm or a removal above everything else", () => {
    expect(describeSync({ ...linked, alarms: 2, queued_operations: 5 }, 0)).toMatchObject({ tone: "alarm", text: "Sync alarm" });
    expect(describeSync({ ...linked, alarms: 1 }, 0).detail).toMatch(/\(1 alarm\)/);
    expect(describeSync({ ...linked, standing: "revoked", queued_operations: 2 }, 0)).toMatchObject({ tone: "alarm", text: "Removed from cloud" });
    expect(describeSync({ ...linked, standing: "quarantined" }, 0).text).toBe("Quarantined");
  });

  it("words ages from seconds to days", () => {
    expect(ageLabel(30_000)).toBe("less than a minute");
    expect(ageLabel(60_000)).toBe("1 minute");
    expect(ageLabel(59 * 60_000)).toBe("59 minutes");
    expect(ageLabel(47 * 3_600_000)).toBe("47 hours");
    expect(ageLabel(72 * 3_600_000)).toBe("3 days");
  });
});
