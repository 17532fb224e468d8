// The lock screen's and the header's rules: idle countdown, throttled activity reports,
// permission-driven visibility and the wording of roles and secrets. Pure functions; the engine
// decides everything again (locking, permissions, secret rules), this only shapes the page.
import type { Permission, Role, RosterEntry, SecondFactor, SecretKind, SessionInfo } from "./api";

/** The header counts down the last this-many milliseconds before the screen locks. */
export const IDLE_WARNING_MS = 30_000;

/** Whole seconds left before the screen locks (rounded up, never negative). */
export function secondsUntilIdle(info: Pick<SessionInfo, "idle_at_ms">, nowMs: number): number {
  return Math.max(0, Math.ceil((info.idle_at_ms - nowMs) / 1000));
}

/** True in the last 30 s before the screen locks (and after, until the page catches up). */
export function showIdleCountdown(info: Pick<SessionInfo, "idle_at_ms">, nowMs: number): boolean {
  return info.idle_at_ms - nowMs <= IDLE_WARNING_MS;
}

/**
 * Returns a function to call on every key or pointer event. It calls `send` on the first event
 * and then at most once per `minIntervalMs` (throttled, leading edge); events in between are
 * dropped. It returns `send`'s promise when it sent, else null. `send` should handle its own
 * errors.
 */
export function activityReporter(
  send: () => Promise<unknown>,
  minIntervalMs = 5000,
  now: () => number = Date.now,
): () => Promise<unknown> | null {
  let last: number | null = null;
  return () => {
    const t = now();
    if (last !== null && t - last < minIntervalMs) return null;
    last = t;
    return send();
  };
}

/** Whether the signed-in seat holds `permission` (snake_case, e.g. "view_audit"). Cosmetic:
 *  the engine refuses what the seat may not do whatever the page shows. */
export function can(info: Pick<SessionInfo, "permissions"> | null | undefined, permission: Permission): boolean {
  return info?.permissions.includes(permission) ?? false;
}

/** The roles an owner gives a seat. Support is not among them: it is a time-boxed window. */
export const ASSIGNABLE_ROLES: readonly Role[] = ["owner", "manager", "counter_staff", "accountant", "stock_keeper", "read_only"];

/** Every role, for per-role policy. */
export const ALL_ROLES: readonly Role[] = [...ASSIGNABLE_ROLES, "support"];

const ROLE_LABELS: Record<string, string> = {
  owner: "Owner",
  manager: "Manager",
  counter_staff: "Counter staff",
  accountant: "Accountant",
  stock_keeper: "Stock keeper",
  read_only: "Read only",
  support: "Support",
};

/** A role as people say it: "counter_staff" → "Counter staff". */
export function roleLabel(role: string): string {
  const known = ROLE_LABELS[role];
  if (known) return known;
  const words = role.replace(/_/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A seat's roles as one line: "Owner, Manager". */
export function rolesLabel(roles: readonly string[]): string {
  return roles.map(roleLabel).join(", ");
}

export function secretLabel(kind: SecretKind): string {
  return kind === "pin" ? "PIN" : "Passphrase";
}

/** Whether `value` has the shape of a `kind` secret (PIN: 6-12 digits; passphrase: 8-128
 *  characters). Enables the submit button; the engine checks the secret itself. */
export function validSecretInput(kind: SecretKind, value: string): boolean {
  if (kind === "pin") return /^[0-9]{6,12}$/.test(value);
  const n = [...value].length;
  return n >= 8 && n <= 128;
}

/** Longer than this, a typed second factor is a recovery code rather than an app code. */
export const APP_CODE_MAX_CHARS = 8;

/** What the code box sends: nothing when empty, a recovery code when longer than 8 characters,
 *  else the authenticator app's code (spaces dropped: "123 456" is 123456). */
export function secondFactorFrom(typed: string): SecondFactor | null {
  const v = typed.trim();
  if (!v) return null;
  if (v.length > APP_CODE_MAX_CHARS) return { kind: "recovery_code", code: v };
  return { kind: "code", code: v.replace(/\s+/g, "") };
}

/** Whether the sign-in form may be sent: a well-formed secret, and a code when the seat (or
 *  the engine, after `second_factor_required`) asks for one. */
export function signInReady(
  seat: Pick<RosterEntry, "secret_kind" | "second_factor">,
  secret: string,
  code: string,
  codeAsked = false,
): boolean {
  if (!validSecretInput(seat.secret_kind, secret)) return false;
  if ((seat.second_factor || codeAsked) && !code.trim()) return false;
  return true;
}

/** A support seat's window, e.g. "Support until 14:30". */
export function supportUntilLabel(untilMs: number | null, locale?: string): string | null {
  if (untilMs === null) return null;
  const t = new Date(untilMs).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
  return `Support until ${t}`;
}

/** Orders the answers of overlapping app-status requests: the latest issued wins, so a slow
 *  poll cannot undo a newer lock or sign-in. `begin()` before a request, `accept(n)` with its
 *  answer; an answer applied without a request (a command's result) uses `accept(begin())`. */
export function statusSequencer(): { begin(): number; accept(n: number): boolean } {
  let issued = 0;
  let applied = 0;
  return {
    begin: () => ++issued,
    accept(n) {
      if (n < applied) return false;
      applied = n;
      return true;
    },
  };
}

/** A PIN pad key: a digit, "back" (delete the last digit) or "clear". */
export type PadKey = "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "back" | "clear";

/** The PIN after pressing `key` on the on-screen pad; digits past `max` are ignored. */
export function pressPad(pin: string, key: PadKey, max = 12): string {
  if (key === "clear") return "";
  if (key === "back") return pin.slice(0, -1);
  return pin.length >= max ? pin : pin + key;
}
