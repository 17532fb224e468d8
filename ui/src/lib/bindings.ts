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
locked: LockedSeat | null, } | { "state": "failed", code: string, message: string, };

export type LockedSeat = { seat_id: string, display_name: string, };

export type CommandError = { code: string, message: string, };

/**
 * What the status bar shows.
 */
export type Status = { shop_name: string, terminal_name: string, series_code: string, tenant_id: string, device_id: string, schema_version: number, supported_schema_version: number, keychain_backend: string, audit_records: number, data_dir: string, };

/**
 * What the first-run screen or `galla-cli init` asks for.
 */
export type NewShop = { shop_name: string, gstin: string | null, state_code: number | null, owner_name: string, owner_passphrase: string, terminal_name: string, series_code: string, };

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
export type ProductRef = { "by": "barcode", "value": string } | { "by": "sku", "value": string } | { "by": "id", "value": string };

export type Cart = { cart_id: string, opened_by: string, status: CartStatus, held_reason: string | null, lines: Array<CartLine>, updated_at_ms: number, };

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
 * The terms of a sale besides payment: who buys, where the goods go, the bill discount.
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

export type InvoiceLine = { line_no: number, sku: string, description: string, hsn: string | null, quantity: number, unit: string, unit_price_paise: number, gst_rate_bp: number, cess_rate_bp: number, discount_paise: number, taxable_paise: number, cgst_paise: number, sgst_paise: number, igst_paise: number, cess_paise: number, total_paise: number, imeis: Array<string>, };

export type Payment = { mode: string, amount_paise: number, tendered_paise: number | null, change_paise: number | null, };

export type Supplier = { name: string, gstin: string | null, state_code: number, address: string | null, };
