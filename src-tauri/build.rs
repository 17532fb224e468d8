//! Generates Tauri's context from the top-level tauri.conf.json and declares the app's commands,
//! so the capability in that file can allow exactly these and nothing else.

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(galla_commands());
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("tauri-build failed: is ui/dist built (npm --prefix ui run build)?");
}

fn galla_commands() -> &'static [&'static str] {
    &[
        "app_status",
        "create_shop",
        "sign_in",
        "unlock",
        "lock_screen",
        "sign_out",
        "touch",
        "verify_audit",
        "find_products",
        "scan",
        "ring_up",
        "current_sale",
        "quote_sale",
        "set_line_quantity",
        "set_line_discount",
        "set_line_imeis",
        "remove_line",
        "hold_sale",
        "held_sales",
        "resume_sale",
        "discard_sale",
        "finalize_sale",
        "seat_details",
        "add_seat",
        "set_seat_access",
        "reset_seat_secret",
        "reset_second_factor",
        "revoke_seat",
        "sign_out_everywhere",
        "grant_support",
        "security_events",
        "session_policy",
        "set_session_policy",
        "shop_settings",
        "set_shop_settings",
        "audit_entries",
        "export_audit",
        "gst_states",
        "find_invoices",
        "invoice_detail",
        "return_items",
        "cancel_invoice",
        "find_customers",
        "customer",
        "add_customer",
        "ledger_statement",
        "record_ledger_payment",
        "day_report",
        "close_day",
    ]
}
