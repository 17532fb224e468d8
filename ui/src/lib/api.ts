// The desktop commands and their payloads. Mirrors src-tauri/src/commands.rs; issue 5 replaces
// these hand-written types with ones generated from the Rust types.
import { invoke } from "@tauri-apps/api/core";

export interface Status {
  shop_name: string;
  terminal_name: string;
  series_code: string;
  tenant_id: string;
  device_id: string;
  schema_version: number;
  supported_schema_version: number;
  keychain_backend: string;
  audit_records: number;
  data_dir: string;
}

export interface AuditReport {
  verified: number;
  head_hash: string | null;
  problem: string | null;
  bad_seq: number | null;
}

/** The preset roles a seat can hold (several at once). */
export type Role = "owner" | "manager" | "counter_staff" | "accountant" | "stock_keeper" | "read_only" | "support";

/** How a seat proves itself: a PIN (6-12 digits) or a passphrase (8-128 characters). */
export type SecretKind = "pin" | "passphrase";

/** A seat tile on the lock screen. */
export interface RosterEntry {
  seat_id: string;
  display_name: string;
  roles: Role[];
  secret_kind: SecretKind;
  /** The seat also enters a code from its authenticator app. */
  second_factor: boolean;
  support_until_ms: number | null;
}

/** Why a session may only set itself right. */
export type Restriction = "set_up_second_factor" | "terminal_disabled";

/** The seat at the till. */
export interface SessionInfo {
  seat_id: string;
  display_name: string;
  roles: Role[];
  /** How the audit trail names this seat's role (`support` inside a support window). */
  role_stamp: string;
  /** snake_case permission names, e.g. "bill", "view_audit", "manage_seats". */
  permissions: string[];
  discount_limit_bp: number;
  idle_timeout_ms: number;
  /** Unix ms when the screen locks unless there is activity first. */
  idle_at_ms: number;
  /** Unix ms when the session ends, however active. */
  expires_at_ms: number;
  /** Sensitive acts need no re-entry of the secret until then. */
  confirmed_until_ms: number;
  restriction: Restriction | null;
  support_until_ms: number | null;
  cart_id: string | null;
}

/** A seat whose screen is locked, to unlock with its secret. */
export interface LockedSeat {
  seat_id: string;
  display_name: string;
}

/** The second thing a seat with two-step sign-in enters. */
export type SecondFactor = { kind: "code" | "recovery_code"; code: string };

export type AppStatus =
  | { state: "needs_setup"; data_dir: string; keychain_backend: string }
  | {
      state: "ready";
      status: Status;
      /** The seat tiles of the lock screen. */
      roster: RosterEntry[];
      /** The seat at the till, or null (the lock screen shows). */
      session: SessionInfo | null;
      /** A seat whose screen is locked. */
      locked: LockedSeat | null;
    }
  | { state: "failed"; code: string; message: string };

export type ReadyStatus = Extract<AppStatus, { state: "ready" }>;

export interface CommandError {
  code: string;
  message: string;
}

export interface NewShop {
  shop_name: string;
  gstin: string | null;
  state_code: number | null;
  owner_name: string;
  owner_passphrase: string;
  terminal_name: string;
  series_code: string;
}

/** The codes with which a command says the seat at the till is no longer there to act. */
const SESSION_GONE = new Set(["locked", "signed_out"]);

let sessionGone: (() => void) | null = null;

/** Called whenever a command fails because the session was locked or ended, so the page can
 *  fetch the app status again and show the lock screen. One listener (the App). */
export function onSessionGone(listener: (() => void) | null): void {
  sessionGone = listener;
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    if (SESSION_GONE.has(errorCode(e) ?? "")) sessionGone?.();
    throw e;
  }
}

export const api = {
  appStatus: () => call<AppStatus>("app_status"),
  createShop: (shop: NewShop) => call<AppStatus>("create_shop", { shop }),
  signIn: (seatId: string, secret: string, secondFactor: SecondFactor | null) =>
    call<AppStatus>("sign_in", { seatId, secret, secondFactor }),
  unlock: (secret: string) => call<AppStatus>("unlock", { secret }),
  lockScreen: () => call<AppStatus>("lock_screen"),
  signOut: () => call<AppStatus>("sign_out"),
  touch: () => call<SessionInfo>("touch"),
  verifyAudit: () => call<AuditReport>("verify_audit"),
};

export function errorMessage(e: unknown): string {
  if (typeof e === "object" && e !== null && "message" in e) {
    return String((e as CommandError).message);
  }
  return String(e);
}

/** The stable code of a command error, or null for anything else. */
export function errorCode(e: unknown): string | null {
  if (typeof e === "object" && e !== null && "code" in e) {
    return String((e as CommandError).code);
  }
  return null;
}
