//! The counter's other screens: invoices and returns, customers and their udhaar, and the day
//! close. Each command is a line over `galla-client`, which checks the seat's permission.

use galla_client::{
    CreditNote, CustomerChanges, CustomerView, DayReport, ImportReport, Invoice, InvoiceSummary,
    LedgerPayment, NewCreditNote, NewCustomer, NewProduct, Receipt, Settlement, Statement,
};
use uuid::Uuid;

use crate::AppState;
use crate::commands::{CommandError, with_session};

/// An invoice number, an IMEI, or a customer's phone or name; nothing lists the latest.
#[tauri::command]
pub async fn find_invoices(
    state: tauri::State<'_, AppState>,
    query: String,
) -> Result<Vec<InvoiceSummary>, CommandError> {
    with_session(state.inner(), move |t, s| t.find_invoices(s, &query, 100)).await
}

#[tauri::command]
pub async fn invoice_detail(
    state: tauri::State<'_, AppState>,
    number: String,
) -> Result<Invoice, CommandError> {
    with_session(state.inner(), move |t, s| t.invoice_by_number(s, &number)).await
}

/// The bill as printed for the customer, `columns` characters wide (32 for 58 mm paper, 42 or
/// 48 for 80 mm).
#[tauri::command]
pub async fn invoice_receipt(
    state: tauri::State<'_, AppState>,
    number: String,
    columns: u32,
) -> Result<Receipt, CommandError> {
    with_session(state.inner(), move |t, s| t.receipt(s, &number, columns)).await
}

/// A credit note as printed for the customer, `columns` characters wide.
#[tauri::command]
pub async fn credit_note_receipt(
    state: tauri::State<'_, AppState>,
    number: String,
    columns: u32,
) -> Result<Receipt, CommandError> {
    with_session(state.inner(), move |t, s| {
        t.credit_note_receipt(s, &number, columns)
    })
    .await
}

/// Takes items back on a credit note: refunded, or credited to the customer's udhaar.
#[tauri::command]
pub async fn return_items(
    state: tauri::State<'_, AppState>,
    credit_note: NewCreditNote,
) -> Result<CreditNote, CommandError> {
    with_session(state.inner(), move |t, s| {
        t.issue_credit_note(s, &credit_note)
    })
    .await
}

#[tauri::command]
pub async fn cancel_invoice(
    state: tauri::State<'_, AppState>,
    number: String,
    reason: String,
    settlement: Settlement,
) -> Result<CreditNote, CommandError> {
    with_session(state.inner(), move |t, s| {
        t.cancel_invoice(s, &number, &reason, settlement)
    })
    .await
}

/// An exact phone number finds by its blind index; anything else searches names.
#[tauri::command]
pub async fn find_customers(
    state: tauri::State<'_, AppState>,
    query: String,
) -> Result<Vec<CustomerView>, CommandError> {
    with_session(state.inner(), move |t, s| t.lookup_customers(s, &query, 50)).await
}

#[tauri::command]
pub async fn customer(
    state: tauri::State<'_, AppState>,
    customer_id: Uuid,
) -> Result<CustomerView, CommandError> {
    with_session(state.inner(), move |t, s| t.customer(s, customer_id)).await
}

/// One customer's contact details in full; the engine records the look.
#[tauri::command]
pub async fn reveal_customer(
    state: tauri::State<'_, AppState>,
    customer_id: Uuid,
) -> Result<CustomerView, CommandError> {
    with_session(state.inner(), move |t, s| t.reveal_customer(s, customer_id)).await
}

/// Adds a customer; returns the id.
#[tauri::command]
pub async fn add_customer(
    state: tauri::State<'_, AppState>,
    customer: NewCustomer,
) -> Result<Uuid, CommandError> {
    with_session(state.inner(), move |t, s| t.add_customer(s, &customer)).await
}

/// Corrects a customer: only the fields sent change.
#[tauri::command]
pub async fn update_customer(
    state: tauri::State<'_, AppState>,
    customer_id: Uuid,
    changes: CustomerChanges,
) -> Result<(), CommandError> {
    with_session(state.inner(), move |t, s| {
        t.update_customer(s, customer_id, &changes)
    })
    .await
}

#[tauri::command]
pub async fn ledger_statement(
    state: tauri::State<'_, AppState>,
    customer_id: Uuid,
    from_ms: i64,
    to_ms: i64,
) -> Result<Statement, CommandError> {
    with_session(state.inner(), move |t, s| {
        t.ledger_statement(s, customer_id, from_ms, to_ms)
    })
    .await
}

#[tauri::command]
pub async fn record_ledger_payment(
    state: tauri::State<'_, AppState>,
    customer_id: Uuid,
    payment: LedgerPayment,
) -> Result<Statement, CommandError> {
    with_session(state.inner(), move |t, s| {
        t.record_ledger_payment(s, customer_id, &payment)
    })
    .await
}

fn day(text: &str) -> Result<time::Date, CommandError> {
    galla_client::day_close::parse_day(text).map_err(|e| galla_client::Error::from(e).into())
}

/// The day's figures: stored as closed, or as they stand while the day is open.
#[tauri::command]
pub async fn day_report(
    state: tauri::State<'_, AppState>,
    day_text: String,
) -> Result<DayReport, CommandError> {
    let d = day(&day_text)?;
    with_session(state.inner(), move |t, s| t.day_report(s, d)).await
}

/// Closes a day that is over (IST); the report is then a stored fact.
#[tauri::command]
pub async fn close_day(
    state: tauri::State<'_, AppState>,
    day_text: String,
) -> Result<DayReport, CommandError> {
    let d = day(&day_text)?;
    with_session(state.inner(), move |t, s| t.close_day(s, d)).await
}

#[tauri::command]
pub async fn add_product(
    state: tauri::State<'_, AppState>,
    product: NewProduct,
) -> Result<Uuid, CommandError> {
    with_session(state.inner(), move |t, s| t.add_product(s, &product)).await
}

#[tauri::command]
pub async fn update_product(
    state: tauri::State<'_, AppState>,
    product_id: Uuid,
    product: NewProduct,
) -> Result<(), CommandError> {
    with_session(state.inner(), move |t, s| {
        t.update_product(s, product_id, &product)
    })
    .await
}

/// Imports a CSV the page read from a file the owner picked: every row valid, or none
/// imported and each bad row named. The engine bounds the size it reads.
#[tauri::command]
pub async fn import_products(
    state: tauri::State<'_, AppState>,
    csv: String,
) -> Result<ImportReport, CommandError> {
    with_session(state.inner(), move |t, s| {
        t.import_products_csv(s, csv.as_bytes())
    })
    .await
}
