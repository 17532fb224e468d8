// The desktop commands. Every payload type comes from bindings.ts, which is generated from the
// Rust types (src-tauri/src/bindings.rs); only the command names and argument names live here.
import { invoke } from "@tauri-apps/api/core";
import type {
  AppStatus,
  Commands,
  AuditQuery,
  CommandError,
  EnrollTerminal,
  ErrorCode,
  FinalizeRequest,
  LedgerPayment,
  LinkRequest,
  NewCreditNote,
  CustomerChanges,
  NewCustomer,
  NewProduct,
  NewSeat,
  NewShop,
  NewSupportSeat,
  Override,
  ProductRef,
  Role,
  SaleTerms,
  SecondFactor,
  SecretKind,
  Settlement,
  ShopDetails,
  ShopPolicy,
} from "./bindings";

export type * from "./bindings";

export type ReadyStatus = Extract<AppStatus, { state: "ready" }>;

/** The codes with which a command says the seat at the till is no longer there to act. */
const SESSION_GONE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["locked", "signed_out"]);

let sessionGone: (() => void) | null = null;

/** Called whenever a command fails because the session was locked or ended, so the page can
 *  fetch the app status again and show the lock screen. One listener (the App). */
export function onSessionGone(listener: (() => void) | null): void {
  sessionGone = listener;
}

/** A command's arguments: none, or the object its Rust signature asks for. */
type ArgsOf<K extends keyof Commands> = Commands[K]["args"] extends Record<string, never> ? [] : [Commands[K]["args"]];

async function call<K extends keyof Commands>(command: K, ...args: ArgsOf<K>): Promise<Commands[K]["returns"]> {
  try {
    return await invoke<Commands[K]["returns"]>(command, args[0]);
  } catch (e) {
    const code = errorCode(e);
    if (code !== null && SESSION_GONE.has(code)) sessionGone?.();
    throw e;
  }
}

export const api = {
  appStatus: () => call("app_status"),
  createShop: (shop: NewShop) => call("create_shop", { shop }),
  recoverKeys: (code: string) => call("recover_keys", { code }),
  enrollTerminal: (request: EnrollTerminal) => call("enroll_terminal", { request }),
  caFingerprints: (caPem: string) => call("ca_fingerprints", { caPem }),
  signIn: (seatId: string, secret: string, secondFactor: SecondFactor | null) =>
    call("sign_in", { seatId, secret, secondFactor }),
  unlock: (secret: string) => call("unlock", { secret }),
  lockScreen: () => call("lock_screen"),
  signOut: () => call("sign_out"),
  touch: () => call("touch"),
  verifyAudit: () => call("verify_audit"),

  findProducts: (query: string) => call("find_products", { query }),
  scan: (code: string, quantity: number) => call("scan", { code, quantity }),
  ringUp: (product: ProductRef, quantity: number) => call("ring_up", { product, quantity }),
  currentSale: () => call("current_sale"),
  quoteSale: (terms: SaleTerms) => call("quote_sale", { terms }),
  setSaleTerms: (terms: SaleTerms) => call("set_sale_terms", { terms }),
  setLineQuantity: (lineId: string, quantity: number) =>
    call("set_line_quantity", { lineId, quantity }),
  setLineDiscount: (lineId: string, discountBp: number) =>
    call("set_line_discount", { lineId, discountBp }),
  setLineImeis: (lineId: string, imeis: string[]) => call("set_line_imeis", { lineId, imeis }),
  removeLine: (lineId: string) => call("remove_line", { lineId }),
  holdSale: () => call("hold_sale"),
  heldSales: () => call("held_sales"),
  resumeSale: (cartId: string) => call("resume_sale", { cartId }),
  discardSale: () => call("discard_sale"),
  finalizeSale: (request: FinalizeRequest) => call("finalize_sale", { request }),

  seatDetails: () => call("seat_details"),
  addSeat: (seat: NewSeat) => call("add_seat", { seat }),
  setSeatAccess: (seatId: string, roles: Role[], overrides: Override[]) =>
    call("set_seat_access", { seatId, roles, overrides }),
  resetSeatSecret: (seatId: string, secretKind: SecretKind, secret: string) =>
    call("reset_seat_secret", { seatId, secretKind, secret }),
  resetSecondFactor: (seatId: string) => call("reset_second_factor", { seatId }),
  revokeSeat: (seatId: string) => call("revoke_seat", { seatId }),
  signOutEverywhere: (seatId: string) => call("sign_out_everywhere", { seatId }),
  grantSupport: (support: NewSupportSeat) => call("grant_support", { support }),
  createRecoveryKit: () => call("create_recovery_kit"),
  securityEvents: () => call("security_events"),
  sessionPolicy: () => call("session_policy"),
  setSessionPolicy: (policy: ShopPolicy) => call("set_session_policy", { policy }),
  shopSettings: () => call("shop_settings"),
  setShopSettings: (details: ShopDetails) => call("set_shop_settings", { details }),
  auditEntries: (query: AuditQuery) => call("audit_entries", { query }),
  exportAudit: () => call("export_audit"),
  gstStates: () => call("gst_states"),

  findInvoices: (query: string) => call("find_invoices", { query }),
  invoiceDetail: (number: string) => call("invoice_detail", { number }),
  invoiceReceipt: (number: string, columns: number) => call("invoice_receipt", { number, columns }),
  creditNoteReceipt: (number: string, columns: number) => call("credit_note_receipt", { number, columns }),
  returnItems: (creditNote: NewCreditNote) => call("return_items", { creditNote }),
  cancelInvoice: (number: string, reason: string, settlement: Settlement) =>
    call("cancel_invoice", { number, reason, settlement }),
  findCustomers: (query: string) => call("find_customers", { query }),
  customer: (customerId: string) => call("customer", { customerId }),
  revealCustomer: (customerId: string) => call("reveal_customer", { customerId }),
  addCustomer: (customer: NewCustomer) => call("add_customer", { customer }),
  updateCustomer: (customerId: string, changes: CustomerChanges) => call("update_customer", { customerId, changes }),
  ledgerStatement: (customerId: string, fromMs: number, toMs: number) =>
    call("ledger_statement", { customerId, fromMs, toMs }),
  recordLedgerPayment: (customerId: string, payment: LedgerPayment) =>
    call("record_ledger_payment", { customerId, payment }),
  dayReport: (dayText: string) => call("day_report", { dayText }),
  closeDay: (dayText: string) => call("close_day", { dayText }),
  addProduct: (product: NewProduct) => call("add_product", { product }),
  updateProduct: (productId: string, product: NewProduct) =>
    call("update_product", { productId, product }),
  importProducts: (csv: string) => call("import_products", { csv }),

  linkCloud: (request: LinkRequest) => call("link_cloud", { request }),
  cloudAlerts: () => call("cloud_alerts"),
  resolveCloudAlert: (alertId: string, note: string) => call("resolve_cloud_alert", { alertId, note }),
  syncNow: () => call("sync_now"),
  syncAlarms: () => call("sync_alarms"),
};

export function errorMessage(e: unknown): string {
  if (typeof e === "object" && e !== null && "message" in e) {
    return String((e as CommandError).message);
  }
  return String(e);
}

/** The stable code of a command error, or null for anything else. */
export function errorCode(e: unknown): ErrorCode | null {
  if (typeof e === "object" && e !== null && "code" in e) {
    return (e as CommandError).code;
  }
  return null;
}
