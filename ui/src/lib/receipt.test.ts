import { describe, expect, it } from "vitest";
import { PAPER, paperColumns, rememberPaper } from "./receipt";

describe("receipt paper", () => {
  it("comes back as it was remembered", () => {
    const kept = new Map<string, string>();
    rememberPaper({ setItem: (k, v) => void kept.set(k, v) }, 32);
    expect(paperColumns(kept.get(PAPER.storageKey) ?? null)).toBe(32);
  });

  it("is 80 mm when nothing, or nonsense, was remembered", () => {
    expect(paperColumns(null)).toBe(42);
    expect(paperColumns("")).toBe(42);
    expect(paperColumns("500")).toBe(42);
    expect(paperColumns("abc")).toBe(42);
  });
});
