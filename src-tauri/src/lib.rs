//! The desktop shell: a window, the app's state, and thin commands over `galla-client`.
//! No rule or storage logic lives here; see `commands.rs` for the whole surface the UI sees.

mod admin_commands;
#[cfg(test)]
mod bindings;
mod commands;
mod counter_commands;
#[cfg(test)]
mod surface;
mod sync_commands;

use std::sync::{Arc, Mutex};

use galla_client::{DataDir, OsKeychain, SecretStore, SystemClock, Terminal};
use tauri::Manager;

/// What the window is showing: a shop to set up, an open shop, or why it cannot start.
pub enum Engine {
    NeedsSetup {
        dir: DataDir,
        keychain: Arc<OsKeychain>,
    },
    Ready(Arc<Terminal>),
    Failed {
        code: commands::ErrorCode,
        message: String,
        /// Set when the keychain lost this folder's keys and the folder has a recovery kit:
        /// the owner's code can put them back from the start screen.
        recoverable: Option<(DataDir, Arc<OsKeychain>)>,
    },
}

/// The engine and the sessions of this window. Tokens stay here, in the Rust process; the
/// page never sees one.
pub struct Shell {
    pub engine: Engine,
    /// The seat at the till.
    pub current: Option<(uuid::Uuid, Arc<galla_client::SessionToken>)>,
    /// Sessions switched away from (locked, sales held); the engine ends them on time.
    pub parked: Vec<Arc<galla_client::SessionToken>>,
    /// The background sync with the shop's cloud (idle until the shop links).
    pub sync: Option<galla_client::SyncWorker>,
}

/// Starts the sync loop of an open shop, on the keychain the shop was opened with (a wipe
/// erases from it). It waits quietly while the shop is standalone and sends from the moment
/// it links.
pub fn start_sync(terminal: &Arc<Terminal>, keychain: Arc<OsKeychain>) -> galla_client::SyncWorker {
    galla_client::SyncWorker::start(
        terminal.clone(),
        keychain,
        galla_client::SyncSchedule::default(),
    )
}

pub type AppState = Arc<Mutex<Shell>>;

fn data_dir() -> galla_client::Result<DataDir> {
    match std::env::var_os("GALLA_DATA_DIR") {
        Some(d) if !d.is_empty() => Ok(DataDir::new(d)),
        _ => DataDir::default_for_user(),
    }
}

/// Decides at start-up what the window shows, and starts an open shop's sync loop. Failures
/// become a screen, never a crash.
pub fn start_engine() -> (Engine, Option<galla_client::SyncWorker>) {
    let failed = |e: galla_client::Error| {
        eprintln!("galla: {e}");
        (
            Engine::Failed {
                code: commands::error_code(&e),
                message: e.to_string(),
                recoverable: None,
            },
            None,
        )
    };
    let dir = match data_dir() {
        Ok(d) => d,
        Err(e) => return failed(e),
    };
    let keychain = match OsKeychain::connect() {
        Ok(k) => Arc::new(k),
        Err(e) => return failed(e),
    };
    match dir.install_id() {
        Ok(None) => (Engine::NeedsSetup { dir, keychain }, None),
        Ok(Some(_)) if !dir.db_path().exists() => (Engine::NeedsSetup { dir, keychain }, None),
        Ok(Some(_)) => match Terminal::open(
            &dir,
            keychain.as_ref() as &dyn SecretStore,
            Arc::new(SystemClock),
        ) {
            Ok(t) => {
                let t = Arc::new(t);
                let sync = start_sync(&t, keychain);
                (Engine::Ready(t), Some(sync))
            }
            Err(e) => {
                let keys_lost = e.means_keys_lost();
                let (mut engine, sync) = failed(e);
                if keys_lost
                    && galla_client::recovery::has_kit(&dir)
                    && let Engine::Failed { recoverable, .. } = &mut engine
                {
                    *recoverable = Some((dir, keychain));
                }
                (engine, sync)
            }
        },
        Err(e) => failed(e),
    }
}

/// Locks idle sessions (holding their sales) once a second, so the lock screen comes on time
/// even when nobody touches the till; the page polls and shows it.
fn spawn_idle_sweeper(state: AppState) {
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
            let terminal = match &state.lock().unwrap_or_else(|p| p.into_inner()).engine {
                Engine::Ready(t) => Some(t.clone()),
                _ => None,
            };
            if let Some(t) = terminal
                && let Err(e) = t.lock_idle_sessions()
            {
                tracing::warn!("idle check failed: {e}");
            }
        }
    });
}

pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("GALLA_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let (engine, sync) = start_engine();
    let state: AppState = Arc::new(Mutex::new(Shell {
        engine,
        current: None,
        parked: Vec::new(),
        sync,
    }));
    spawn_idle_sweeper(state.clone());
    let result = tauri::Builder::default()
        // One till process per user: a second launch focuses the first window.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.unminimize();
                let _ = w.set_focus();
            }
        }))
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::app_status,
            commands::create_shop,
            commands::recover_keys,
            commands::enroll_terminal,
            commands::ca_fingerprints,
            commands::sign_in,
            commands::unlock,
            commands::lock_screen,
            commands::sign_out,
            commands::touch,
            commands::verify_audit,
            commands::find_products,
            commands::scan,
            commands::ring_up,
            commands::current_sale,
            commands::quote_sale,
            commands::set_sale_terms,
            commands::set_line_quantity,
            commands::set_line_discount,
            commands::set_line_imeis,
            commands::remove_line,
            commands::hold_sale,
            commands::held_sales,
            commands::resume_sale,
            commands::discard_sale,
            commands::finalize_sale,
            admin_commands::seat_details,
            admin_commands::add_seat,
            admin_commands::set_seat_access,
            admin_commands::reset_seat_secret,
            admin_commands::reset_second_factor,
            admin_commands::revoke_seat,
            admin_commands::sign_out_everywhere,
            admin_commands::grant_support,
            admin_commands::create_recovery_kit,
            admin_commands::security_events,
            admin_commands::session_policy,
            admin_commands::set_session_policy,
            admin_commands::shop_settings,
            admin_commands::set_shop_settings,
            admin_commands::audit_entries,
            admin_commands::export_audit,
            admin_commands::gst_states,
            counter_commands::find_invoices,
            counter_commands::invoice_detail,
            counter_commands::invoice_receipt,
            counter_commands::credit_note_receipt,
            counter_commands::return_items,
            counter_commands::cancel_invoice,
            counter_commands::find_customers,
            counter_commands::customer,
            counter_commands::reveal_customer,
            counter_commands::add_customer,
            counter_commands::update_customer,
            counter_commands::ledger_statement,
            counter_commands::record_ledger_payment,
            counter_commands::day_report,
            counter_commands::close_day,
            counter_commands::add_product,
            counter_commands::update_product,
            counter_commands::import_products,
            sync_commands::link_cloud,
            sync_commands::cloud_alerts,
            sync_commands::resolve_cloud_alert,
            sync_commands::sync_now,
            sync_commands::sync_alarms,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("galla: the window could not start: {e}");
        std::process::exit(1);
    }
}
