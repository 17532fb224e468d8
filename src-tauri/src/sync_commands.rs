//! The sync commands: the owner links a standalone shop to its cloud; any seat asks for a sync
//! now; the owner reads the alarms about the cloud's log and resolves the cloud's alerts. The sync loop itself runs beside the
//! window (`start_sync`); these only talk to the engine.

use galla_client::{CloudAlert, LinkOutcome, LinkRequest, SyncAlarm};

use crate::AppState;
use crate::commands::{CommandError, with_session};

/// Links the shop to a new tenant on the server; the loop sends the history at once.
#[tauri::command]
pub async fn link_cloud(
    state: tauri::State<'_, AppState>,
    request: LinkRequest,
) -> Result<LinkOutcome, CommandError> {
    with_session(state.inner(), move |t, s| {
        let outcome = t.link_cloud(s, &request)?;
        t.sync_now(s)?;
        Ok(outcome)
    })
    .await
}

#[tauri::command]
pub async fn sync_now(state: tauri::State<'_, AppState>) -> Result<(), CommandError> {
    with_session(state.inner(), |t, s| t.sync_now(s)).await
}

#[tauri::command]
pub async fn sync_alarms(
    state: tauri::State<'_, AppState>,
) -> Result<Vec<SyncAlarm>, CommandError> {
    with_session(state.inner(), |t, s| t.sync_alarms(s)).await
}

/// The cloud's alerts (conflicts between counters, refused changes) as the last pull brought
/// them.
#[tauri::command]
pub async fn cloud_alerts(
    state: tauri::State<'_, AppState>,
) -> Result<Vec<CloudAlert>, CommandError> {
    with_session(state.inner(), |t, s| t.cloud_alerts(s)).await
}

/// The owner answers a cloud alert with what was done; every counter shows it resolved.
#[tauri::command]
pub async fn resolve_cloud_alert(
    state: tauri::State<'_, AppState>,
    alert_id: String,
    note: String,
) -> Result<(), CommandError> {
    with_session(state.inner(), move |t, s| {
        t.resolve_cloud_alert(s, &alert_id, &note)?;
        t.sync_now(s)?;
        Ok(())
    })
    .await
}
