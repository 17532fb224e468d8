// The sync status area's words: standalone, synced, changes waiting, offline (with why), and
// the states the owner must act on (an alarm about the cloud's log, a terminal the cloud
// removed or quarantined). The engine decides; this only words what it reports.
import type { SyncState } from "./api";

export type SyncView = { tone: "ok" | "warn" | "alarm"; text: string; detail: string };

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
  if (sync.alarms > 0) {
    return {
      tone: "alarm",
      text: "Sync alarm",
      detail: `The cloud's audit log failed a check (${sync.alarms} alarm${sync.alarms === 1 ? "" : "s"}): records there were changed or removed, or a checkpoint was forged. The owner must look; sales stay safe here.`,
    };
  }
  if (sync.standing === "revoked") {
    return { tone: "alarm", text: "Removed from cloud", detail: `The owner removed this terminal from the shop's cloud; nothing more is sent. ${changes} stay here.` };
  }
  if (sync.standing === "quarantined") {
    return { tone: "alarm", text: "Quarantined", detail: "The cloud stopped taking this terminal's records after a conflict; the owner has been alerted." };
  }
  if (!sync.linked) {
    return {
      tone: "ok",
      text: "Standalone",
      detail: n === 0 ? "Everything is kept on this computer." : `${changes} kept in order, ready for when this shop links to the cloud.`,
    };
  }
  const last = sync.last_success_ms === null ? "never synced yet" : `last synced ${ageLabel(nowMs - sync.last_success_ms)} ago`;
  if (!sync.online && sync.last_attempt_ms !== null) {
    const why = sync.last_error ? ` ${sync.last_error}` : "";
    return { tone: "warn", text: "Offline", detail: `${n === 0 ? "Nothing" : changes} waiting; ${last}.${why}` };
  }
  if (n === 0) return { tone: "ok", text: "Synced", detail: `Nothing waiting to send; ${last}.` };
  const age = sync.oldest_queued_at_ms === null ? "" : `, the oldest from ${ageLabel(nowMs - sync.oldest_queued_at_ms)} ago`;
  return { tone: "warn", text: `${changes} to send`, detail: `Waiting to sync${age}.` };
}
