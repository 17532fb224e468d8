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

export type AppStatus =
  | { state: "needs_setup"; data_dir: string; keychain_backend: string }
  | { state: "ready"; status: Status }
  | { state: "failed"; code: string; message: string };

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

export const api = {
  appStatus: () => invoke<AppStatus>("app_status"),
  createShop: (shop: NewShop) => invoke<AppStatus>("create_shop", { shop }),
  verifyAudit: () => invoke<AuditReport>("verify_audit"),
};

export function errorMessage(e: unknown): string {
  if (typeof e === "object" && e !== null && "message" in e) {
    return String((e as CommandError).message);
  }
  return String(e);
}
