//! Every command the UI can call. Each is a few lines over `galla-client`, runs off the UI
//! thread, and returns errors as `{ code, message }` with no secrets in either.

use std::sync::Arc;

use galla_client::{AuditReport, Error, NewShop, Status, SystemClock, Terminal};
use serde::Serialize;

use crate::{AppState, Engine};

#[derive(Debug, Serialize)]
pub struct CommandError {
    pub code: &'static str,
    pub message: String,
}

/// A stable code for the UI to branch on; the message is for people.
pub fn error_code(e: &Error) -> &'static str {
    match e {
        Error::KeychainUnavailable { .. } => "keychain_unavailable",
        Error::KeyMissing { .. } | Error::KeyDamaged { .. } => "key_missing",
        Error::NotInitialised { .. } => "not_initialised",
        Error::AlreadyInitialised { .. } => "already_initialised",
        Error::KeyDoesNotOpenDatabase { .. } => "wrong_key",
        Error::DatabaseTruncated { .. } | Error::DatabaseDamaged { .. } => "database_damaged",
        Error::DatabaseTooNew { .. } => "database_too_new",
        Error::Invalid(_) => "invalid_input",
        Error::Undecryptable { .. } | Error::AuditChain(_) => "tampered",
        Error::NotFound(_) => "not_found",
        Error::Migration(_) | Error::Storage(_) | Error::Io(_) => "storage",
    }
}

impl From<Error> for CommandError {
    fn from(e: Error) -> Self {
        CommandError {
            code: error_code(&e),
            message: e.to_string(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AppStatus {
    NeedsSetup {
        data_dir: String,
        keychain_backend: String,
    },
    Ready {
        status: Status,
    },
    Failed {
        code: &'static str,
        message: String,
    },
}

fn lock(state: &AppState) -> std::sync::MutexGuard<'_, Engine> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

fn describe(engine: &Engine) -> Result<AppStatus, CommandError> {
    Ok(match engine {
        Engine::NeedsSetup { dir, keychain } => AppStatus::NeedsSetup {
            data_dir: dir.root().display().to_string(),
            keychain_backend: galla_client::SecretStore::backend(keychain.as_ref()),
        },
        Engine::Ready(t) => AppStatus::Ready {
            status: t.status()?,
        },
        Engine::Failed { code, message } => AppStatus::Failed {
            code,
            message: message.clone(),
        },
    })
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CommandError> + Send + 'static,
) -> Result<T, CommandError> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|_| CommandError {
            code: "internal",
            message: "the command stopped unexpectedly".into(),
        })?
}

fn terminal(state: &AppState) -> Result<Arc<Terminal>, CommandError> {
    match &*lock(state) {
        Engine::Ready(t) => Ok(t.clone()),
        _ => Err(CommandError {
            code: "not_initialised",
            message: "no shop is open yet".into(),
        }),
    }
}

#[tauri::command]
pub async fn app_status(state: tauri::State<'_, AppState>) -> Result<AppStatus, CommandError> {
    let state = state.inner().clone();
    blocking(move || describe(&lock(&state))).await
}

#[tauri::command]
pub async fn create_shop(
    state: tauri::State<'_, AppState>,
    shop: NewShop,
) -> Result<AppStatus, CommandError> {
    let state = state.inner().clone();
    blocking(move || {
        let mut engine = lock(&state);
        let Engine::NeedsSetup { dir, keychain } = &*engine else {
            return Err(CommandError {
                code: "already_initialised",
                message: "this shop is already set up".into(),
            });
        };
        let (t, _owner) = Terminal::init(dir, keychain.as_ref(), Arc::new(SystemClock), &shop)?;
        *engine = Engine::Ready(Arc::new(t));
        describe(&engine)
    })
    .await
}

#[tauri::command]
pub async fn verify_audit(state: tauri::State<'_, AppState>) -> Result<AuditReport, CommandError> {
    let t = terminal(state.inner())?;
    blocking(move || Ok(t.verify_audit()?)).await
}
