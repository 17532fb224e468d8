//! The desktop shell: a window, the app's state, and thin commands over `galla-client`.
//! No rule or storage logic lives here; see `commands.rs` for the whole surface the UI sees.

mod commands;

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
        code: &'static str,
        message: String,
    },
}

pub type AppState = Arc<Mutex<Engine>>;

fn data_dir() -> galla_client::Result<DataDir> {
    match std::env::var_os("GALLA_DATA_DIR") {
        Some(d) if !d.is_empty() => Ok(DataDir::new(d)),
        _ => DataDir::default_for_user(),
    }
}

/// Decides at start-up what the window shows. Failures become a screen, never a crash.
pub fn start_engine() -> Engine {
    let failed = |e: galla_client::Error| {
        eprintln!("galla: {e}");
        Engine::Failed {
            code: commands::error_code(&e),
            message: e.to_string(),
        }
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
        Ok(None) => Engine::NeedsSetup { dir, keychain },
        Ok(Some(_)) if !dir.db_path().exists() => Engine::NeedsSetup { dir, keychain },
        Ok(Some(_)) => match Terminal::open(
            &dir,
            keychain.as_ref() as &dyn SecretStore,
            Arc::new(SystemClock),
        ) {
            Ok(t) => Engine::Ready(Arc::new(t)),
            Err(e) => failed(e),
        },
        Err(e) => failed(e),
    }
}

pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("GALLA_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let state: AppState = Arc::new(Mutex::new(start_engine()));
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
            commands::verify_audit
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("galla: the window could not start: {e}");
        std::process::exit(1);
    }
}
