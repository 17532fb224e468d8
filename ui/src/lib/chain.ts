import type { AuditReport } from "./api";

export type ChainView = { tone: "ok" | "bad" | "empty"; text: string };

/** How the status bar words the audit chain's state. */
export function describeChain(r: AuditReport): ChainView {
  if (r.problem) {
    return { tone: "bad", text: `Broken at record ${r.bad_seq ?? "?"}: ${r.problem}` };
  }
  if (r.verified === 0) return { tone: "empty", text: "No audit records yet" };
  const noun = r.verified === 1 ? "record" : "records";
  return { tone: "ok", text: `Intact: ${r.verified} ${noun} verified` };
}
