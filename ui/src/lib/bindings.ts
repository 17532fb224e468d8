// Generated from the Rust types by src-tauri/src/bindings.rs. Do not edit: after a
// change to a type run `GALLA_WRITE_BINDINGS=1 cargo test -p galla-desktop bindings`.

export type AppStatus = { "state": "needs_setup", data_dir: string, keychain_backend: string, } | { "state": "ready", status: Status, 
/**
 * The seat tiles of the lock screen.
 */
roster: Array<RosterEntry>, 
/**
 * The seat at the till, or none (the lock screen shows).
 */
session: SessionInfo | null, 
/**
 * A seat whose screen is locked, to unlock with its PIN.
 */
locked: LockedSeat | null, } | { "state": "failed", code: ErrorCode, message: string, 
/**
 * The keychain lost the keys and a recovery kit is here: the start screen asks for
 * the owner's code (`recover_keys`).
 */
recoverable: boolean, };

export type LockedSeat = { seat_id: string, display_name: string, };

export type CommandError = { code: ErrorCode, message: string, };

/**
 * What went wrong, for a caller to branch on (the desktop's page gets it as a string); the
 * error's message beside it is for people. Decided here, with the errors, so every caller
 * (the app, the CLI) says the same.
 */
export type ErrorCode = "already_initialised" | "already_linked" | "clock" | "cloud_refused" | "conflict" | "credit_limit" | "database_damaged" | "database_too_new" | "discount_above_limit" | "internal" | "invalid_input" | "key_missing" | "keychain_unavailable" | "locked" | "locked_out" | "not_found" | "not_initialised" | "not_linked" | "offline" | "permission_denied" | "reauth_required" | "recovery_kit_unusable" | "second_factor_required" | "second_factor_setup_required" | "signed_out" | "storage" | "sync_alarm" | "tampered" | "terminal_disabled" | "terminal_wiped" | "wrong_key" | "wrong_recovery_code" | "wrong_secret";

/**
 * What the status bar shows.
 */
export type Status = { shop_name: string, terminal_name: string, series_code: string, tenant_id: string, device_id: string, schema_version: number, supported_schema_version: number, keychain_backend: string, audit_records: number, data_dir: string, sync: SyncState, recovery_kit: RecoveryKitState, };

/**
 * What the sync status area shows. A standalone shop keeps every change in its outbox, in
 * order, ready for the day it links to a cloud tenant.
 */
export type SyncState = { 
/**
 * Linked to a cloud tenant; false for a standalone shop.
 */
linked: boolean, 
/**
 * The tenant server, when linked.
 */
server_url: string | null, 
/**
 * The last contact succeeded (false before the first, or after a failure).
 */
online: boolean, 
/**
 * Changes not yet acknowledged by the server.
 */
queued_operations: number, 
/**
 * When the oldest of them was made (Unix ms).
 */
oldest_queued_at_ms: number | null, last_attempt_ms: number | null, last_success_ms: number | null, 
/**
 * Why the last attempt failed, in words for the shop.
 */
last_error: string | null, 
/**
 * `active`, or `revoked` / `quarantined` as the server last said.
 */
standing: string, 
/**
 * Alarms about the cloud's log (rewritten, forged, a record missing): the owner must look.
 */
alarms: number, 
/**
 * The size of the cloud log's newest checkpoint this terminal verified.
 */
checkpoint_size: number, };

/**
 * Whether the owner made a recovery kit for this terminal, and whether its file is still in
 * the data folder (a kit made and then deleted cannot recover anything).
 */
export type RecoveryKitState = { made_at_ms: number | null, on_disk: boolean, };

/**
 * What the first-run screen or `galla-cli init` asks for.
 */
export type NewShop = { shop_name: string, gstin: string | null, state_code: number | null, owner_name: string, owner_passphrase: string, terminal_name: string, series_code: string, };

/**
 * What the first-run screen or `galla-cli enroll` asks for.
 */
export type EnrollTerminal = { 
/**
 * `https://host[:port]` of the shop's cloud.
 */
server_url: string, 
/**
 * The cloud's CA certificate (PEM), pinned from now on.
 */
ca_pem: string, 
/**
 * The code the owner issued, as typed (case, spaces and dashes do not matter).
 */
code: string, 
/**
 * What this till is called in the shop (for example "Counter 2").
 */
terminal_name: string, };

/**
 * The outcome of walking the whole chain.
 */
export type AuditReport = { 
/**
 * Records that verified before the first problem (all of them when `problem` is `None`).
 */
verified: number, 
/**
 * Hex SHA-256 of the last verified record.
 */
head_hash: string | null, 
/**
 * The first problem found, naming its record.
 */
problem: string | null, 
/**
 * Sequence number of the first bad record, if any.
 */
bad_seq: number | null, };

/**
 * A seat tile on the lock screen: enough to pick a seat and show the right keypad.
 */
export type RosterEntry = { seat_id: string, display_name: string, roles: Array<Role>, secret_kind: SecretKind, 
/**
 * The seat also enters a code from its authenticator app.
 */
second_factor: boolean, support_until_ms: number | null, };

/**
 * How a seat proves itself at the till.
 */
export type SecretKind = "pin" | "passphrase";

/**
 * The preset roles a seat can hold (several at once).
 */
export type Role = "owner" | "manager" | "counter_staff" | "accountant" | "stock_keeper" | "read_only" | "support";

/**
 * Everything the engine can be asked to do, one permission per kind of act.
 */
export type Permission = "bill" | "discount" | "price_override" | "hold_resume" | "credit_note" | "cancel_invoice" | "credit_beyond_limit" | "open_cash_drawer" | "view_customers" | "edit_customers" | "reveal_customer_pii" | "export_customers" | "erase_customer" | "edit_catalogue" | "manage_seats" | "revoke_seats" | "view_audit" | "export_audit" | "edit_settings" | "backup" | "restore" | "reports" | "sync" | "enroll_device" | "grant_support";

/**
 * What the UI needs to know about the signed-in seat.
 */
export type SessionInfo = { seat_id: string, display_name: string, roles: Array<Role>, 
/**
 * How the audit trail names this seat's role (`support` inside a support window).
 */
role_stamp: string, permissions: Array<Permission>, discount_limit_bp: number, idle_timeout_ms: number, 
/**
 * When the screen locks unless there is activity first.
 */
idle_at_ms: number, 
/**
 * When the session ends, however active.
 */
expires_at_ms: number, 
/**
 * Sensitive acts need no re-entry of the secret until then.
 */
confirmed_until_ms: number, restriction: Restriction | null, support_until_ms: number | null, cart_id: string | null, };

/**
 * Why a session is restricted to setting itself right.
 */
export type Restriction = "set_up_second_factor" | "terminal_disabled";

/**
 * The second thing a seat with two-step sign-in enters.
 */
export type SecondFactor = { "kind": "code", "code": string } | { "kind": "recovery_code", "code": string };

/**
 * A stored product.
 */
export type Product = { id: string, sku: string, name: string, barcodes: Array<string>, hsn: string | null, gst_rate_bp: number, cess_rate_bp: number, price_paise: number, price_basis: PriceBasis, unit: string, serialized: boolean, imeis_per_unit: number, stock: number | null, };

/**
 * Whether the unit price includes GST (the MRP on a shelf label) or not.
 */
export type PriceBasis = "inclusive" | "exclusive";

/**
 * How a product is named when it is rung up.
 */
export type ProductRef = { "by": "barcode", "value": string } | { "by": "sku", "value": string } | { "by": "id", "value": string } | { "by": "code", "value": string };

export type Cart = { cart_id: string, opened_by: string, status: CartStatus, held_reason: string | null, lines: Array<CartLine>, 
/**
 * The customer, place of supply and bill discount the till set (empty until it sets them).
 */
terms: SaleTerms, updated_at_ms: number, };

export type CartLine = { line_id: string, line_no: number, description: string, quantity: number, unit_price_paise: number, discount_bp: number, 
/**
 * The catalogue product, with its tax data as rung up; `None` for a free-text line.
 */
product_id: string | null, sku: string | null, hsn: string | null, unit: string | null, price_basis: PriceBasis | null, gst_rate_bp: number | null, cess_rate_bp: number | null, 
/**
 * IMEIs a serialized product needs (units × IMEIs per unit), and those captured.
 */
imeis_required: number, imeis: Array<string>, };

export type CartStatus = "open" | "held";

/**
 * The terms of a sale besides payment: who buys, where the goods go, the bill discount. The
 * sale (cart) keeps the ones the till last set, so a held sale resumes with them.
 */
export type SaleTerms = { customer_id: string | null, 
/**
 * Where the goods are delivered, if not over the counter (a state code).
 */
place_of_supply: number | null, 
/**
 * The goods are sent to the attached customer: the place of supply is their state.
 */
ship_to_customer: boolean, bill_discount: Discount, };

/**
 * The sale as the till shows it after each change: the cart and its price, so one call of the
 * till answers a scan. The quote is what finalize would charge now, or why it cannot be
 * priced yet (the shop has no state, the customer is gone).
 */
export type SaleView = { cart: Cart, quote: Quote | null, quote_problem: string | null, };

export type Discount = { "kind": "none" } | { "kind": "percent", "value": number } | { "kind": "amount", "value": Money };

/**
 * An amount of Indian rupees held as a whole number of paise (1 rupee = 100 paise).
 */
export type Money = number;

/**
 * The sale priced before payment, exactly as finalize will price it.
 */
export type Quote = { doc_kind: DocumentKind, supply: Supply, place_of_supply: number, 
/**
 * In the cart's order.
 */
lines: Array<QuoteLine>, taxable_paise: number, cgst_paise: number, sgst_paise: number, igst_paise: number, cess_paise: number, bill_discount_paise: number, subtotal_paise: number, round_off_paise: number, 
/**
 * What the customer pays.
 */
total_paise: number, 
/**
 * What still stops the sale being finalized, in words for the clerk (empty: ready).
 */
problems: Array<string>, };

export type QuoteLine = { line_id: string, gst_rate_bp: number, discount_paise: number, taxable_paise: number, tax_paise: number, total_paise: number, };

/**
 * Which document a sale needs (CGST Rules 46, 46A, 49).
 */
export type DocumentKind = "tax_invoice" | "bill_of_supply" | "invoice_cum_bill_of_supply";

/**
 * Which taxes a supply attracts.
 */
export type Supply = "intra_state" | "intra_union_territory" | "inter_state";

export type FinalizeRequest = { customer_id: string | null, 
/**
 * Where the goods are delivered, if not over the counter (a state code).
 */
place_of_supply: number | null, 
/**
 * The goods are sent to the attached customer: the place of supply is their state.
 */
ship_to_customer: boolean, bill_discount: Discount, payments: Array<PaymentInput>, };

/**
 * One way the customer pays part of the bill.
 */
export type PaymentInput = { "mode": "cash", amount_paise: number, tendered_paise: number | null, } | { "mode": "upi", amount_paise: number, reference: string, } | { "mode": "card", amount_paise: number, reference: string, } | { "mode": "credit", amount_paise: number, };

export type Invoice = { id: string, number: string, financial_year: string, doc_kind: DocumentKind, issued_at_ms: number, seat_id: string, customer_id: string | null, supply: Supply, place_of_supply: number, lines: Array<InvoiceLine>, taxable_paise: number, cgst_paise: number, sgst_paise: number, igst_paise: number, cess_paise: number, subtotal_paise: number, round_off_paise: number, total_paise: number, payments: Array<Payment>, 
/**
 * Printed on the bill as it was issued (Rule 49's composition declaration).
 */
declaration: string | null, 
/**
 * Who issued it, as the shop's settings said at the time (Rule 46).
 */
supplier: Supplier, };

export type InvoiceLine = { line_no: number, sku: string, description: string, hsn: string | null, quantity: number, unit: string, unit_price_paise: number, gst_rate_bp: number, cess_rate_bp: number, discount_paise: number, taxable_paise: number, cgst_paise: number, sgst_paise: number, igst_paise: number, cess_paise: number, total_paise: number, 
/**
 * Units taken back on credit notes so far (what a return may still take is the rest).
 */
returned_quantity: number, imeis: Array<string>, };

export type Payment = { mode: string, amount_paise: number, tendered_paise: number | null, change_paise: number | null, };

export type Supplier = { name: string, gstin: string | null, state_code: number, address: string | null, };

/**
 * A printed bill: its text, one line per printed line, none wider than `columns` characters.
 */
export type Receipt = { number: string, columns: number, text: string, };

/**
 * Where an export landed, and whether the trail it holds verified.
 */
export type AuditExport = { path: string, report: AuditReport, };

/**
 * Everything the owner's seats screen shows about one seat (never its secrets).
 */
export type SeatDetails = { seat_id: string, display_name: string, roles: Array<Role>, overrides: Array<Override>, permissions: Array<Permission>, discount_limit_bp: number, secret_kind: SecretKind, second_factor: boolean, second_factor_required: boolean, unused_recovery_codes: number, failed_attempts: number, locked_until_ms: number | null, last_sign_in_at_ms: number | null, support_until_ms: number | null, revoked_at_ms: number | null, created_at_ms: number, };

/**
 * A seat the owner adds.
 */
export type NewSeat = { display_name: string, roles: Array<Role>, overrides: Array<Override>, secret_kind: SecretKind, secret: string, };

/**
 * A per-seat exception to its roles.
 */
export type Override = { "effect": "grant", "permission": Permission } | { "effect": "deny", "permission": Permission };

/**
 * Support access the owner grants: a seat that works until `minutes` from now, then stops.
 */
export type NewSupportSeat = { display_name: string, secret_kind: SecretKind, secret: string, minutes: number, };

/**
 * Something the owner should look at.
 */
export type SecurityEvent = { id: string, seat_id: string | null, kind: string, detail: string, time_ms: number, acknowledged_at_ms: number | null, };

export type ShopPolicy = { 
/**
 * Per-role idle timeout in milliseconds; roles not listed use the default.
 */
idle_timeout_ms: { [key in Role]?: number }, 
/**
 * Per-role discount ceiling in basis points; roles not listed use the default.
 */
discount_limit_bp: { [key in Role]?: number }, 
/**
 * Roles whose seats must use TOTP (RFC 6238) to sign in.
 */
second_factor_roles: Array<Role>, };

/**
 * The shop as its settings screen shows it.
 */
export type ShopSettings = { name: string, gstin: string | null, state_code: number | null, address: string | null, turnover_band: TurnoverBand, composition: boolean, terminal_name: string, series_code: string, };

/**
 * What the owner saves from the settings screen: every field, as a form does.
 */
export type ShopDetails = { name: string, gstin: string | null, state_code: number | null, address: string | null, turnover_band: TurnoverBand, composition: boolean, };

/**
 * The shop's aggregate turnover in the preceding financial year, as far as the law cares
 * (Notification 78/2020-Central Tax draws one line, at ₹5 crore).
 */
export type TurnoverBand = "up_to_5_crore" | "above_5_crore";

/**
 * What the audit screen asks for: records newest first, narrowed by seat, action and time,
 * a page at a time.
 */
export type AuditQuery = { 
/**
 * Records made by this seat.
 */
seat_id: string | null, 
/**
 * An action (`seat.revoke`) or its family (`seat` matches every `seat.` action).
 */
action: string | null, 
/**
 * From this instant (Unix ms, inclusive).
 */
from_ms: number | null, 
/**
 * Up to this instant (Unix ms, exclusive).
 */
to_ms: number | null, 
/**
 * Only records older than this sequence number: the next page after one ending there.
 */
before_seq: number | null, 
/**
 * At most this many records (default 200, at most [`MAX_AUDIT_PAGE`]).
 */
limit: number | null, };

/**
 * One line of the audit screen: who did what to which thing, and when. The columns are the
 * copies stored beside each signed record; verifying the chain checks that they match it.
 */
export type AuditEntry = { seq: number, time_ms: number, seat_id: string | null, 
/**
 * The seat's name now (a revoked seat keeps its name); none for the system.
 */
seat_name: string | null, role: string, action: string, entity_type: string, entity_id: string, };

/**
 * One page of [`AuditQuery`]'s records, newest first, and whether older ones remain.
 */
export type AuditPage = { entries: Array<AuditEntry>, 
/**
 * Pass the last entry's `seq` as `before_seq` to read on.
 */
more: boolean, };

/**
 * The session policy as the settings screen shows it: what the owner set, and what each role
 * gets when nothing is set, so the screen never carries its own copy of the defaults.
 */
export type PolicyView = { policy: ShopPolicy, defaults: ShopPolicy, min_idle_timeout_ms: number, max_idle_timeout_ms: number, };

/**
 * A state or union territory as the GST portal lists it.
 */
export type GstState = { code: number, name: string, };

/**
 * One line of the invoices screen's results.
 */
export type InvoiceSummary = { number: string, issued_at_ms: number, 
/**
 * The customer named on the invoice (a name is not masked PII); none for a walk-in.
 */
customer_name: string | null, total_paise: number, 
/**
 * How many lines it has.
 */
lines: number, 
/**
 * How many credit notes were issued against it.
 */
credit_notes: number, };

export type NewCreditNote = { invoice_number: string, 
/**
 * Why: "returned: damaged", "cancelled: billed twice"...
 */
reason: string, lines: Array<ReturnLine>, settlement: Settlement, };

/**
 * Units of one invoice line to take back, with their IMEIs for a serialized product.
 */
export type ReturnLine = { line_no: number, quantity: number, imeis: Array<string>, };

/**
 * How the money goes back.
 */
export type Settlement = { "mode": "refund_cash" } | { "mode": "refund_upi", reference: string, } | { "mode": "refund_card", reference: string, } | { "mode": "ledger_credit" };

export type CreditNote = { id: string, number: string, financial_year: string, invoice_number: string, reason: string, settlement: string, lines: Array<CreditNoteLine>, taxable_paise: number, cgst_paise: number, sgst_paise: number, igst_paise: number, cess_paise: number, round_off_paise: number, total_paise: number, };

export type CreditNoteLine = { invoice_line_no: number, sku: string, description: string, quantity: number, taxable_paise: number, cgst_paise: number, sgst_paise: number, igst_paise: number, cess_paise: number, total_paise: number, imeis: Array<string>, };

/**
 * A customer as typed at the counter, before validation.
 */
export type NewCustomer = { name: string, phone: string | null, gstin: string | null, email: string | null, address: string | null, state_code: number | null, marketing_consent: boolean, };

/**
 * Changes to a stored customer, each field left out staying as it is. Phone, GSTIN, email and
 * address given as empty text are cleared. A seat that sees PII masked can still correct a
 * field by typing it in full; it cannot read what it replaces.
 */
export type CustomerChanges = { name?: string, phone?: string, gstin?: string, email?: string, address?: string, state_code?: number, marketing_consent?: boolean, };

/**
 * A customer as a seat sees them: phone, GSTIN, email and address masked to what a clerk needs
 * to recognise the right person, or in full when a seat allowed to see them asked to, on
 * purpose and on the record (`Terminal::reveal_customer`).
 */
export type CustomerView = { id: string, name: string, phone: string | null, gstin: string | null, email: string | null, address: string | null, state_code: number | null, marketing_consent: boolean, pii_revealed: boolean, };

/**
 * How a customer paid off udhaar.
 */
export type LedgerPayment = { "mode": "cash", amount_paise: number, } | { "mode": "upi", amount_paise: number, reference: string, } | { "mode": "card", amount_paise: number, reference: string, };

export type LedgerEntry = { id: string, kind: string, 
/**
 * Positive: the customer owes more; negative: less.
 */
amount_paise: number, mode: string | null, invoice_number: string | null, credit_note_number: string | null, over_limit: boolean, at_ms: number, 
/**
 * The balance after this entry.
 */
balance_paise: number, };

export type Statement = { customer_id: string, from_ms: number, to_ms: number, opening_balance_paise: number, entries: Array<LedgerEntry>, closing_balance_paise: number, credit_limit_paise: number | null, };

export type DayReport = { 
/**
 * `YYYY-MM-DD`, IST.
 */
day: string, device_id: string, 
/**
 * False while the day is open (figures may still change); true once closed and stored.
 */
closed: boolean, closed_at_ms: number | null, invoices: NumberRange | null, credit_notes: NumberRange | null, sales: TaxTotals, round_off_paise: number, returns: TaxTotals, 
/**
 * Money taken for sales, by mode (cash, upi, card, credit).
 */
payments_by_mode: { [key in string]: number }, 
/**
 * Money given back for returns, by settlement.
 */
refunds_by_settlement: { [key in string]: number }, 
/**
 * Udhaar paid off, by mode.
 */
udhaar_received_by_mode: { [key in string]: number }, hsn_summary: Array<HsnRow>, 
/**
 * Cash that should be in the drawer from today: cash sales less cash refunds plus cash
 * udhaar payments.
 */
expected_cash_paise: number, };

export type NumberRange = { first: string, last: string, count: number, };

export type TaxTotals = { taxable_paise: number, cgst_paise: number, sgst_paise: number, igst_paise: number, cess_paise: number, total_paise: number, };

export type HsnRow = { hsn: string, gst_rate_bp: number, quantity: number, taxes: TaxTotals, };

/**
 * A product as typed or imported, before validation.
 */
export type NewProduct = { sku: string, name: string, barcodes: Array<string>, hsn: string | null, gst_rate_bp: number, cess_rate_bp: number, price_paise: number, price_basis: PriceBasis | null, unit: string | null, serialized: boolean, imeis_per_unit: number | null, stock: number | null, };

/**
 * What a CSV import did, or why it did nothing.
 */
export type ImportReport = { 
/**
 * Rows written; 0 when any row was refused.
 */
imported: number, rows: number, errors: Array<RowError>, };

/**
 * One refused row: its line in the file (the header is line 1), the column and why.
 */
export type RowError = { line: number, field: string, message: string, };

/**
 * What the owner gives to link a standalone shop to a new cloud tenant.
 */
export type LinkRequest = { 
/**
 * `https://host[:port]` of the tenant server.
 */
server_url: string, 
/**
 * The server's CA certificate (PEM), pinned from now on.
 */
ca_pem: string, 
/**
 * The owner's passphrase for the cloud (signing in there takes it and a TOTP code).
 */
owner_passphrase: string, };

/**
 * Something the cloud found while taking in the counters' records, for the owner to resolve:
 * `duplicate_number`, `imei_conflict`, `seat_change_refused`, `equivocation`, `clock_ahead`,
 * `device_change_refused`, `change_refused`, `revoked_seat_fact` or `second_factor_guessing`.
 */
export type CloudAlert = { id: string, kind: string, 
/**
 * The counter whose records raised it, by name when this terminal knows it.
 */
terminal: string | null, detail: string, raised_at_ms: number, 
/**
 * The owner's answer, once one was given at any counter.
 */
resolution: AlertResolution | null, };

/**
 * How an alert was resolved: by whom, when, and what was done.
 */
export type AlertResolution = { 
/**
 * The seat's name, when this terminal knows the seat.
 */
resolved_by: string | null, resolved_at_ms: number, note: string, };

/**
 * What linking gives back, shown once.
 */
export type LinkOutcome = { tenant_id: string, 
/**
 * `otpauth://` URI of the owner's cloud TOTP secret, for an authenticator app. Shown once;
 * never logged.
 */
owner_totp_uri: string, };

/**
 * Something the owner must see about the cloud's log or what it served.
 */
export type SyncAlarm = { id: number, 
/**
 * `bad_checkpoint`, `log_rewritten`, `record_missing` or `future_stamp`.
 */
kind: string, detail: string, raised_at_ms: number, };

/**
 * Every command the page may call: its arguments (camelCase, as Tauri names them) and
 * what it returns. Read from the `#[tauri::command]` functions' signatures.
 */
export interface Commands {
  app_status: { args: Record<string, never>; returns: AppStatus };
  sign_in: { args: { seatId: string; secret: string; secondFactor: SecondFactor | null }; returns: AppStatus };
  unlock: { args: { secret: string }; returns: AppStatus };
  lock_screen: { args: Record<string, never>; returns: AppStatus };
  sign_out: { args: Record<string, never>; returns: AppStatus };
  touch: { args: Record<string, never>; returns: SessionInfo };
  create_shop: { args: { shop: NewShop }; returns: AppStatus };
  recover_keys: { args: { code: string }; returns: AppStatus };
  ca_fingerprints: { args: { caPem: string }; returns: Array<string> };
  enroll_terminal: { args: { request: EnrollTerminal }; returns: AppStatus };
  verify_audit: { args: Record<string, never>; returns: AuditReport };
  find_products: { args: { query: string }; returns: Array<Product> };
  scan: { args: { code: string; quantity: number }; returns: SaleView };
  ring_up: { args: { product: ProductRef; quantity: number }; returns: SaleView };
  current_sale: { args: Record<string, never>; returns: SaleView | null };
  quote_sale: { args: { terms: SaleTerms }; returns: Quote };
  set_sale_terms: { args: { terms: SaleTerms }; returns: SaleView };
  set_line_quantity: { args: { lineId: string; quantity: number }; returns: SaleView };
  set_line_discount: { args: { lineId: string; discountBp: number }; returns: SaleView };
  set_line_imeis: { args: { lineId: string; imeis: Array<string> }; returns: SaleView };
  remove_line: { args: { lineId: string }; returns: SaleView };
  hold_sale: { args: Record<string, never>; returns: SaleView };
  held_sales: { args: Record<string, never>; returns: Array<Cart> };
  resume_sale: { args: { cartId: string }; returns: SaleView };
  discard_sale: { args: Record<string, never>; returns: null };
  finalize_sale: { args: { request: FinalizeRequest }; returns: Invoice };
  seat_details: { args: Record<string, never>; returns: Array<SeatDetails> };
  add_seat: { args: { seat: NewSeat }; returns: string };
  set_seat_access: { args: { seatId: string; roles: Array<Role>; overrides: Array<Override> }; returns: null };
  reset_seat_secret: { args: { seatId: string; secretKind: SecretKind; secret: string }; returns: null };
  reset_second_factor: { args: { seatId: string }; returns: null };
  revoke_seat: { args: { seatId: string }; returns: null };
  sign_out_everywhere: { args: { seatId: string }; returns: null };
  grant_support: { args: { support: NewSupportSeat }; returns: string };
  create_recovery_kit: { args: Record<string, never>; returns: string };
  security_events: { args: Record<string, never>; returns: Array<SecurityEvent> };
  session_policy: { args: Record<string, never>; returns: PolicyView };
  gst_states: { args: Record<string, never>; returns: Array<GstState> };
  set_session_policy: { args: { policy: ShopPolicy }; returns: null };
  shop_settings: { args: Record<string, never>; returns: ShopSettings };
  set_shop_settings: { args: { details: ShopDetails }; returns: null };
  audit_entries: { args: { query: AuditQuery }; returns: AuditPage };
  export_audit: { args: Record<string, never>; returns: AuditExport };
  find_invoices: { args: { query: string }; returns: Array<InvoiceSummary> };
  invoice_detail: { args: { number: string }; returns: Invoice };
  invoice_receipt: { args: { number: string; columns: number }; returns: Receipt };
  credit_note_receipt: { args: { number: string; columns: number }; returns: Receipt };
  return_items: { args: { creditNote: NewCreditNote }; returns: CreditNote };
  cancel_invoice: { args: { number: string; reason: string; settlement: Settlement }; returns: CreditNote };
  find_customers: { args: { query: string }; returns: Array<CustomerView> };
  customer: { args: { customerId: string }; returns: CustomerView };
  reveal_customer: { args: { customerId: string }; returns: CustomerView };
  add_customer: { args: { customer: NewCustomer }; returns: string };
  update_customer: { args: { customerId: string; changes: CustomerChanges }; returns: null };
  ledger_statement: { args: { customerId: string; fromMs: number; toMs: number }; returns: Statement };
  record_ledger_payment: { args: { customerId: string; payment: LedgerPayment }; returns: Statement };
  day_report: { args: { dayText: string }; returns: DayReport };
  close_day: { args: { dayText: string }; returns: DayReport };
  add_product: { args: { product: NewProduct }; returns: string };
  update_product: { args: { productId: string; product: NewProduct }; returns: null };
  import_products: { args: { csv: string }; returns: ImportReport };
  link_cloud: { args: { request: LinkRequest }; returns: LinkOutcome };
  sync_now: { args: Record<string, never>; returns: null };
  sync_alarms: { args: Record<string, never>; returns: Array<SyncAlarm> };
  cloud_alerts: { args: Record<string, never>; returns: Array<CloudAlert> };
  resolve_cloud_alert: { args: { alertId: string; note: string }; returns: null };
}
