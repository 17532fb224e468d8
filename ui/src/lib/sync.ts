// The sync status area's words. A standalone shop keeps its changes queued in order for the
// day it links to a cloud tenant; the sync issue adds online/offline, last success and errors.
import type { SyncState } from "./api";

export type SyncView = { tone: "ok" | "warn"; text: string; detail: string };

/** "5 minutes", "2 hours", "3 days": how long the oldest change has waited. */
export function ageLabel(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return "less than a minute";
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? "" : "s"}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} hour${hours === 1 ? "" : "s"}`;
  const days = Math.floor(hours / 24);
  return `${days} days`;
}

export function describeSync(sync: SyncState, nowMs: number): SyncView {
  const n = sync.queued_operations;
  const changes = `${n} change${n === 1 ? "" : "s"}`;
  if (!sync.linked) {
    return {
      tone: "ok",
      text: "Standalone",
      detail: n === 0 ? "Everything is kept on this computer." : `${changes} kept in order, ready for when this shop links to the cloud.`,
    };
  }
  if (n === 0) return { tone: "ok", text: "Synced", detail: "Nothing waiting to send." };
  const age = sync.oldest_queued_at_ms === null ? "" : `, the oldest from ${ageLabel(nowMs - sync.oldest_queued_at_ms)} ago`;
  return { tone: "warn", text: `${changes} to send`, detail: `Waiting to sync${age}.` };
}
