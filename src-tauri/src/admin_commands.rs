//! The back-office commands: seats and roles, the session policy, the shop's settings and the
//! audit trail. Like the billing commands each is a line over `galla-client`, which checks the
//! seat's permission again whatever the page shows.

use std::path::PathBuf;

use galla_client::{
    AuditPage, AuditQuery, AuditReport, GstState, NewSeat, NewSupportSeat, Override, Role,
    SeatDetails, SecretKind, SecretString, SecurityEvent, ShopDetails, ShopPolicy, ShopSettings,
};
use serde::Serialize;
use uuid::Uuid;

use crate::AppState;
use crate::commands::{CommandError, with_session};

#[tauri::command]
pub async fn seat_details(
    state: tauri::State<'_, AppState>,
) -> Result<Vec<SeatDetails>, CommandError> {
    with_session(state.inner(), |t, s| t.seat_details(s)).await
}

/// Adds a seat; returns its id.
#[tauri::command]
pub async fn add_seat(
    state: tauri::State<'_, AppState>,
    seat: NewSeat,
) -> Result<Uuid, CommandError> {
    with_session(state.inner(), move |t, s| t.add_seat(s, &seat)).await
}

#[tauri::command]
pub async fn set_seat_access(
    state: tauri::State<'_, AppState>,
    seat_id: Uuid,
    roles: Vec<Role>,
    overrides: Vec<Override>,
) -> Result<(), CommandError> {
    with_session(state.inner(), move |t, s| {
        t.set_seat_access(s, seat_id, &roles, &overrides)
    })
    .await
}

/// Sets a new PIN or passphrase for a seat that forgot its own (its sessions end).
#[tauri::command]
pub async fn reset_seat_secret(
    state: tauri::State<'_, AppState>,
    seat_id: Uuid,
    secret_kind: SecretKind,
    secret: SecretString,
) -> Result<(), CommandError> {
    with_session(state.inner(), move |t, s| {
        t.reset_seat_secret(s, seat_id, secret_kind, &secret)
    })
    .await
}

#[tauri::command]
pub async fn reset_second_factor(
    state: tauri::State<'_, AppState>,
    seat_id: Uuid,
) -> Result<(), CommandError> {
    with_session(state.inner(), move |t, s| t.reset_second_factor(s, seat_id)).await
}

#[tauri::command]
pub async fn revoke_seat(
    state: tauri::State<'_, AppState>,
    seat_id: Uuid,
) -> Result<(), CommandError> {
    with_session(state.inner(), move |t, s| t.revoke_seat(s, seat_id)).await
}

#[tauri::command]
pub async fn sign_out_everywhere(
    state: tauri::State<'_, AppState>,
    seat_id: Uuid,
) -> Result<(), CommandError> {
    with_session(state.inner(), move |t, s| t.sign_out_everywhere(s, seat_id)).await
}

/// A support seat that works for `minutes` and then stops by itself; returns its id.
#[tauri::command]
pub async fn grant_support(
    state: tauri::State<'_, AppState>,
    support: NewSupportSeat,
) -> Result<Uuid, CommandError> {
    with_session(state.inner(), move |t, s| t.grant_support(s, &support)).await
}

/// Makes this terminal's recovery kit; the code comes back once, for the owner to write down.
#[tauri::command]
pub async fn create_recovery_kit(
    state: tauri::State<'_, AppState>,
) -> Result<String, CommandError> {
    with_session(state.inner(), |t, s| {
        t.create_recovery_kit(s)
            .map(|code| code.expose().to_owned())
    })
    .await
}

#[tauri::command]
pub async fn security_events(
    state: tauri::State<'_, AppState>,
) -> Result<Vec<SecurityEvent>, CommandError> {
    with_session(state.inner(), |t, s| t.security_events(s)).await
}

/// The session policy as the settings screen shows it: what the owner set, and what each role
/// gets when nothing is set, so the screen never carries its own copy of the defaults.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PolicyView {
    pub policy: ShopPolicy,
    pub defaults: ShopPolicy,
    pub min_idle_timeout_ms: i64,
    pub max_idle_timeout_ms: i64,
}

#[tauri::command]
pub async fn session_policy(state: tauri::State<'_, AppState>) -> Result<PolicyView, CommandError> {
    with_session(state.inner(), |t, s| {
        let policy = t.policy(s)?;
        let defaults = ShopPolicy {
            idle_timeout_ms: Role::ALL
                .iter()
                .map(|r| (*r, r.default_idle_timeout_ms()))
                .collect(),
            discount_limit_bp: Role::ALL
                .iter()
                .map(|r| (*r, r.default_discount_limit_bp()))
                .collect(),
            second_factor_roles: Default::default(),
        };
        Ok(PolicyView {
            policy,
            defaults,
            min_idle_timeout_ms: galla_client::policy::MIN_IDLE_TIMEOUT_MS,
            max_idle_timeout_ms: galla_client::policy::MAX_IDLE_TIMEOUT_MS,
        })
    })
    .await
}

/// The GST states and union territories, for the state pickers (no session needed: the
/// first-run screen asks too).
#[tauri::command]
pub fn gst_states() -> Vec<GstState> {
    galla_client::GST_STATES.to_vec()
}

#[tauri::command]
pub async fn set_session_policy(
    state: tauri::State<'_, AppState>,
    policy: ShopPolicy,
) -> Result<(), CommandError> {
    with_session(state.inner(), move |t, s| t.set_policy(s, &policy)).await
}

#[tauri::command]
pub async fn shop_settings(
    state: tauri::State<'_, AppState>,
) -> Result<ShopSettings, CommandError> {
    with_session(state.inner(), |t, s| t.shop_settings(s)).await
}

#[tauri::command]
pub async fn set_shop_settings(
    state: tauri::State<'_, AppState>,
    details: ShopDetails,
) -> Result<(), CommandError> {
    with_session(state.inner(), move |t, s| t.set_shop_settings(s, &details)).await
}

#[tauri::command]
pub async fn audit_entries(
    state: tauri::State<'_, AppState>,
    query: AuditQuery,
) -> Result<AuditPage, CommandError> {
    with_session(state.inner(), move |t, s| t.audit_entries(s, &query)).await
}

/// Where an export landed, and whether the trail it holds verified.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AuditExport {
    pub path: String,
    pub report: AuditReport,
}

/// Writes the whole trail as CSV into the exports folder (`GALLA_EXPORT_DIR`, else the
/// user's Downloads folder, else `exports` in the data folder) under a name that says when.
#[tauri::command]
pub async fn export_audit(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
) -> Result<AuditExport, CommandError> {
    use tauri::Manager;
    let downloads = app.path().download_dir().ok();
    with_session(state.inner(), move |t, s| {
        let dir = export_dir(downloads, t.data_dir().root());
        std::fs::create_dir_all(&dir)?;
        let now = i128::from(t.now_ms()) * 1_000_000;
        let stamp = time::OffsetDateTime::from_unix_timestamp_nanos(now)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
            .to_offset(time::macros::offset!(+5:30))
            .format(time::macros::format_description!(
                "[year]-[month]-[day]-[hour][minute][second]"
            ))
            .unwrap_or_default();
        let path = unused_path(&dir, &format!("galla-audit-{stamp}"), "csv");
        let part = path.with_extension("csv.part");
        let write = || -> galla_client::Result<AuditReport> {
            let mut out =
                std::io::BufWriter::new(galla_client::export_file::create_private(&part)?);
            let report = t.export_audit_csv(s, &mut out)?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            std::fs::rename(&part, &path)?;
            Ok(report)
        };
        // A failed export leaves no half-written file behind.
        let report = write().inspect_err(|_| {
            let _ = std::fs::remove_file(&part);
        })?;
        Ok(AuditExport {
            path: path.display().to_string(),
            report,
        })
    })
    .await
}

fn export_dir(downloads: Option<PathBuf>, data_dir: &std::path::Path) -> PathBuf {
    match std::env::var_os("GALLA_EXPORT_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => downloads.unwrap_or_else(|| data_dir.join("exports")),
    }
}

/// `stem.ext`, or `stem-2.ext`, `stem-3.ext`... if an export of the same second exists.
fn unused_path(dir: &std::path::Path, stem: &str, ext: &str) -> PathBuf {
    let mut path = dir.join(format!("{stem}.{ext}"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{stem}-{n}.{ext}"));
        n += 1;
    }
    path
}
