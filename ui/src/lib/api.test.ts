import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...a: unknown[]) => invoke(...a) }));

const { api, errorCode, errorMessage, onSessionGone } = await import("./api");

beforeEach(() => {
  invoke.mockReset();
  onSessionGone(null);
});

describe("commands", () => {
  it("pass their arguments in camelCase, as Tauri expects", async () => {
    invoke.mockResolvedValue({ state: "ready" });
    await api.signIn("seat-1", "482915", { kind: "code", code: "123456" });
    expect(invoke).toHaveBeenLastCalledWith("sign_in", {
      seatId: "seat-1",
      secret: "482915",
      secondFactor: { kind: "code", code: "123456" },
    });
    await api.signIn("seat-1", "482915", null);
    expect(invoke).toHaveBeenLastCalledWith("sign_in", { seatId: "seat-1", secret: "482915", secondFactor: null });
    await api.unlock("482915");
    expect(invoke).toHaveBeenLastCalledWith("unlock", { secret: "482915" });
    await api.lockScreen();
    expect(invoke).toHaveBeenLastCalledWith("lock_screen", undefined);
    await api.signOut();
    expect(invoke).toHaveBeenLastCalledWith("sign_out", undefined);
    await api.touch();
    expect(invoke).toHaveBeenLastCalledWith("touch", undefined);
  });

  it("tell the page when the session is locked or gone, and still fail", async () => {
    const gone = vi.fn();
    onSessionGone(gone);
    invoke.mockRejectedValueOnce({ code: "locked", message: "the screen is locked" });
    await expect(api.touch()).rejects.toMatchObject({ code: "locked" });
    invoke.mockRejectedValueOnce({ code: "signed_out", message: "signed out" });
    await expect(api.verifyAudit()).rejects.toMatchObject({ code: "signed_out" });
    expect(gone).toHaveBeenCalledTimes(2);
  });

  it("do not for other failures", async () => {
    const gone = vi.fn();
    onSessionGone(gone);
    invoke.mockRejectedValueOnce({ code: "wrong_secret", message: "wrong PIN" });
    await expect(api.unlock("000000")).rejects.toMatchObject({ code: "wrong_secret" });
    invoke.mockRejectedValueOnce("plain failure");
    await expect(api.lockScreen()).rejects.toBe("plain failure");
    expect(gone).not.toHaveBeenCalled();
  });
});

describe("errors", () => {
  it("read the code and message of a command error", () => {
    expect(errorCode({ code: "locked_out", message: "try again in 5 minutes" })).toBe("locked_out");
    expect(errorMessage({ code: "locked_out", message: "try again in 5 minutes" })).toBe("try again in 5 minutes");
    expect(errorCode("boom")).toBeNull();
    expect(errorMessage("boom")).toBe("boom");
  });
});
