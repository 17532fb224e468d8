// The desktop commands. Every payload type comes from bindings.ts, which is generated from the
// Rust types (src-tauri/src/bindings.rs); only the command names and argument names live here.
import { invoke } from "@tauri-apps/api/core";
import type {
  AppStatus,
  AuditExport,
  AuditPage,
  AuditQuery,
  AuditReport,
  Cart,
  CommandError,
  CreditNote,
  CustomerView,
  DayReport,
  ErrorCode,
  FinalizeRequest,
  ImportReport,
  GstState,
  Invoice,
  InvoiceSummary,
  LedgerPayment,
  NewCreditNote,
  NewCustomer,
  NewProduct,
  NewSeat,
  NewShop,
  NewSupportSeat,
  Override,
  PolicyView,
  Product,
  ProductRef,
  Quote,
  Role,
  SaleTerms,
  SeatDetails,
  SecondFactor,
  SecretKind,
  SecurityEvent,
  Settlement,
  Statement,
  SessionInfo,
  ShopDetails,
  ShopPolicy,
  ShopSettings,
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

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    const code = errorCode(e);
    if (code !== null && SESSION_GONE.has(code)) sessionGone?.();
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

  findProducts: (query: string) => call<Product[]>("find_products", { query }),
  scan: (code: string, quantity: number) => call<Cart>("scan", { code, quantity }),
  ringUp: (product: ProductRef, quantity: number) => call<Cart>("ring_up", { product, quantity }),
  currentSale: () => call<Cart | null>("current_sale"),
  quoteSale: (terms: SaleTerms) => call<Quote>("quote_sale", { terms }),
  setLineQuantity: (lineId: string, quantity: number) =>
    call<Cart>("set_line_quantity", { lineId, quantity }),
  setLineDiscount: (lineId: string, discountBp: number) =>
    call<Cart>("set_line_discount", { lineId, discountBp }),
  setLineImeis: (lineId: string, imeis: string[]) => call<Cart>("set_line_imeis", { lineId, imeis }),
  removeLine: (lineId: string) => call<Cart>("remove_line", { lineId }),
  holdSale: () => call<Cart>("hold_sale"),
  heldSales: () => call<Cart[]>("held_sales"),
  resumeSale: (cartId: string) => call<Cart>("resume_sale", { cartId }),
  discardSale: () => call<null>("discard_sale"),
  finalizeSale: (request: FinalizeRequest) => call<Invoice>("finalize_sale", { request }),

  seatDetails: () => call<SeatDetails[]>("seat_details"),
  addSeat: (seat: NewSeat) => call<string>("add_seat", { seat }),
  setSeatAccess: (seatId: string, roles: Role[], overrides: Override[]) =>
    call<null>("set_seat_access", { seatId, roles, overrides }),
  resetSeatSecret: (seatId: string, secretKind: SecretKind, secret: string) =>
    call<null>("reset_seat_secret", { seatId, secretKind, secret }),
  resetSecondFactor: (seatId: string) => call<null>("reset_second_factor", { seatId }),
  revokeSeat: (seatId: string) => call<null>("revoke_seat", { seatId }),
  signOutEverywhere: (seatId: string) => call<null>("sign_out_everywhere", { seatId }),
  grantSupport: (support: NewSupportSeat) => call<string>("grant_support", { support }),
  securityEvents: () => call<SecurityEvent[]>("security_events"),
  sessionPolicy: () => call<PolicyView>("session_policy"),
  setSessionPolicy: (policy: ShopPolicy) => call<null>("set_session_policy", { policy }),
  shopSettings: () => call<ShopSettings>("shop_settings"),
  setShopSettings: (details: ShopDetails) => call<null>("set_shop_settings", { details }),
  auditEntries: (query: AuditQuery) => call<AuditPage>("audit_entries", { query }),
  exportAudit: () => call<AuditExport>("export_audit"),
  gstStates: () => call<GstState[]>("gst_states"),

  findInvoices: (query: string) => call<InvoiceSummary[]>("find_invoices", { query }),
  invoiceDetail: (number: string) => call<Invoice>("invoice_detail", { number }),
  returnItems: (creditNote: NewCreditNote) => call<CreditNote>("return_items", { creditNote }),
  cancelInvoice: (number: string, reason: string, settlement: Settlement) =>
    call<CreditNote>("cancel_invoice", { number, reason, settlement }),
  findCustomers: (query: string) => call<CustomerView[]>("find_customers", { query }),
  customer: (customerId: string) => call<CustomerView>("customer", { customerId }),
  addCustomer: (customer: NewCustomer) => call<string>("add_customer", { customer }),
  ledgerStatement: (customerId: string, fromMs: number, toMs: number) =>
    call<Statement>("ledger_statement", { customerId, fromMs, toMs }),
  recordLedgerPayment: (customerId: string, payment: LedgerPayment) =>
    call<Statement>("record_ledger_payment", { customerId, payment }),
  dayReport: (dayText: string) => call<DayReport>("day_report", { dayText }),
  closeDay: (dayText: string) => call<DayReport>("close_day", { dayText }),
  addProduct: (product: NewProduct) => call<string>("add_product", { product }),
  updateProduct: (productId: string, product: NewProduct) =>
    call<null>("update_product", { productId, product }),
  importProducts: (csv: string) => call<ImportReport>("import_products", { csv }),
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
