import { describe, expect, it } from "vitest";
import { describeChain } from "./chain";

describe("audit chain wording", () => {
  it("reports an intact chain with its count", () => {
    expect(describeChain({ verified: 1, head_hash: "ab", problem: null, bad_seq: null })).toEqual({ tone: "ok", text: "Intact: 1 record verified" });
    expect(describeChain({ verified: 12, head_hash: "ab", problem: null, bad_seq: null }).text).toBe("Intact: 12 records verified");
  });

  it("names the first bad record", () => {
    const v = describeChain({ verified: 4, head_hash: "ab", problem: "audit record 5 has an invalid signature", bad_seq: 5 });
    expect(v.tone).toBe("bad");
    expect(v.text).toContain("record 5");
  });

  it("says when there is nothing yet", () => {
    expect(describeChain({ verified: 0, head_hash: null, problem: null, bad_seq: null }).tone).toBe("empty");
  });
});
