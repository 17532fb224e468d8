//! Every command the UI can call. Each is a few lines over `galla-client`, runs off the UI
//! thread, and returns errors as `{ code, message }` with no secrets in either.

use std::sync::Arc;

use galla_client::{
    AuditReport, Cart, DataDir, EnrollTerminal, Error, FinalizeRequest, Invoice, NewShop,
    OsKeychain, Product, ProductRef, Quote, RosterEntry, SaleEdit, SaleTerms, SaleView,
    SecondFactor, SecretStore, SecretString, SessionInfo, SessionToken, Status, SystemClock,
    Terminal,
};
use serde::Serialize;
use uuid::Uuid;

use crate::{AppState, Engine, Shell};

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
}

/// What went wrong, for the page to branch on; decided by the engine (`Error::code`).
pub use galla_client::ErrorCode;

/// A stable code for the UI to branch on; the message is for people.
pub fn error_code(e: &Error) -> ErrorCode {
    e.code()
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
// Built once per call and serialised at once: variant size does not matter.
#[allow(clippy::large_enum_variant)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum AppStatus {
    NeedsSetup {
        data_dir: String,
        keychain_backend: String,
    },
    Ready {
        status: Status,
        /// The seat tiles of the lock screen.
        roster: Vec<RosterEntry>,
        /// The seat at the till, or none (the lock screen shows).
        session: Option<SessionInfo>,
        /// A seat whose screen is locked, to unlock with its PIN.
        locked: Option<LockedSeat>,
    },
    Failed {
        code: ErrorCode,
        message: String,
        /// The keychain lost the keys and a recovery kit is here: the start screen asks for
        /// the owner's code (`recover_keys`).
        recoverable: bool,
    },
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LockedSeat {
    pub seat_id: Uuid,
    pub display_name: String,
}

fn lock(state: &AppState) -> std::sync::MutexGuard<'_, Shell> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

fn describe(shell: &mut Shell) -> Result<AppStatus, CommandError> {
    Ok(match &shell.engine {
        Engine::NeedsSetup { dir, keychain } => AppStatus::NeedsSetup {
            data_dir: dir.root().display().to_string(),
            keychain_backend: galla_client::SecretStore::backend(keychain.as_ref()),
        },
        Engine::Ready(t) => {
            let t = t.clone();
            let roster = t.roster()?;
            let mut session = None;
            let mut locked = None;
            if let Some((seat_id, token)) = &shell.current {
                match t.session_info(token) {
                    Ok(info) => session = Some(info),
                    Err(Error::SessionLocked { seat }) => {
                        locked = Some(LockedSeat {
                            seat_id: *seat_id,
                            display_name: seat,
                        })
                    }
                    Err(_) => shell.current = None,
                }
            }
            AppStatus::Ready {
                status: t.status()?,
                roster,
                session,
                locked,
            }
        }
        Engine::Failed {
            code,
            message,
            recoverable,
        } => AppStatus::Failed {
            code: *code,
            message: message.clone(),
            recoverable: recoverable.is_some(),
        },
    })
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CommandError> + Send + 'static,
) -> Result<T, CommandError> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|_| CommandError {
            code: ErrorCode::Internal,
            message: "the command stopped unexpectedly".into(),
        })?
}

fn terminal(state: &AppState) -> Result<Arc<Terminal>, CommandError> {
    match &lock(state).engine {
        Engine::Ready(t) => Ok(t.clone()),
        _ => Err(CommandError {
            code: ErrorCode::NotInitialised,
            message: "no shop is open yet".into(),
        }),
    }
}

/// Runs `f` with the terminal and the session of the seat at the till. The token never leaves
/// this process: the page only ever names the command.
pub(crate) async fn with_session<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&Terminal, &galla_client::SessionToken) -> galla_client::Result<T> + Send + 'static,
) -> Result<T, CommandError> {
    let state = state.clone();
    blocking(move || {
        let t = terminal(&state)?;
        // The shell's lock only long enough to take the seat at the till: the engine call
        // runs without it, so it never waits on the idle sweeper or another command.
        let token = lock(&state)
            .current
            .as_ref()
            .map(|(_, token)| token.clone())
            .ok_or_else(|| CommandError::from(Error::NotSignedIn))?;
        Ok(f(&t, &token)?)
    })
    .await
}

#[tauri::command]
pub async fn app_status(state: tauri::State<'_, AppState>) -> Result<AppStatus, CommandError> {
    let state = state.inner().clone();
    blocking(move || describe(&mut lock(&state))).await
}

/// Signs a seat in at the till. The seat at the till before is then locked (its sale held),
/// so switching user never hands one seat's sale to another.
#[tauri::command]
pub async fn sign_in(
    state: tauri::State<'_, AppState>,
    seat_id: Uuid,
    secret: SecretString,
    second_factor: Option<SecondFactor>,
) -> Result<AppStatus, CommandError> {
    let state = state.inner().clone();
    blocking(move || {
        let t = terminal(&state)?;
        let mut shell = lock(&state);
        // The new seat proves itself first: a mistyped PIN on another tile leaves the seat at
        // the till as it was.
        let signed = t.sign_in(seat_id, &secret, second_factor.as_ref())?;
        if let Some((old_seat, old)) = shell.current.take()
            && old_seat != seat_id
        {
            let _ = t.lock(&old);
            shell.parked.push(old);
        }
        // Forget parked sessions the engine has ended (expired, revoked, replaced).
        shell
            .parked
            .retain(|p| matches!(t.session_info(p), Ok(_) | Err(Error::SessionLocked { .. })));
        shell.current = Some((seat_id, Arc::new(signed.token)));
        describe(&mut shell)
    })
    .await
}

/// The locked seat returns with its PIN; its held sale comes back.
#[tauri::command]
pub async fn unlock(
    state: tauri::State<'_, AppState>,
    secret: SecretString,
) -> Result<AppStatus, CommandError> {
    let state = state.inner().clone();
    blocking(move || {
        let t = terminal(&state)?;
        let mut shell = lock(&state);
        let (_, token) = shell
            .current
            .as_ref()
            .ok_or_else(|| CommandError::from(Error::NotSignedIn))?;
        t.unlock(token, &secret)?;
        describe(&mut shell)
    })
    .await
}

/// Locks the screen now (stepping away); the sale is held.
#[tauri::command]
pub async fn lock_screen(state: tauri::State<'_, AppState>) -> Result<AppStatus, CommandError> {
    let state = state.inner().clone();
    blocking(move || {
        let t = terminal(&state)?;
        let mut shell = lock(&state);
        if let Some((_, token)) = &shell.current {
            t.lock(token)?;
        }
        describe(&mut shell)
    })
    .await
}

#[tauri::command]
pub async fn sign_out(state: tauri::State<'_, AppState>) -> Result<AppStatus, CommandError> {
    let state = state.inner().clone();
    blocking(move || {
        let t = terminal(&state)?;
        let mut shell = lock(&state);
        if let Some((_, token)) = shell.current.take() {
            let _ = t.sign_out(&token);
        }
        describe(&mut shell)
    })
    .await
}

/// The page reports activity (throttled) so the session does not idle out.
#[tauri::command]
pub async fn touch(state: tauri::State<'_, AppState>) -> Result<SessionInfo, CommandError> {
    with_session(state.inner(), |t, token| t.touch(token)).await
}

#[tauri::command]
pub async fn create_shop(
    state: tauri::State<'_, AppState>,
    shop: NewShop,
) -> Result<AppStatus, CommandError> {
    set_up(state.inner(), move |dir, keychain| {
        let (t, owner) = Terminal::init(dir, keychain, Arc::new(SystemClock), &shop)?;
        let owner_seat = t.session_info(&owner)?.seat_id;
        Ok((t, Some((owner_seat, owner))))
    })
    .await
}

/// Puts the keys a lost keychain no longer has back from the folder's recovery kit and the
/// owner's code, then opens the shop as a normal start would. A wrong code changes nothing.
#[tauri::command]
pub async fn recover_keys(
    state: tauri::State<'_, AppState>,
    code: SecretString,
) -> Result<AppStatus, CommandError> {
    let state = state.inner().clone();
    blocking(move || {
        let mut shell = lock(&state);
        let Engine::Failed {
            recoverable: Some((dir, keychain)),
            ..
        } = &shell.engine
        else {
            return Err(CommandError {
                code: ErrorCode::RecoveryKitUnusable,
                message: "there is nothing to recover: the shop is open, or has no recovery kit"
                    .into(),
            });
        };
        let keychain = keychain.clone();
        let t = Terminal::recover(dir, keychain.as_ref(), Arc::new(SystemClock), &code)?;
        serve(&mut shell, t, keychain, None)
    })
    .await
}

/// Makes `t` this window's open shop: its sync loop started, `signed_in` at the till (or the
/// lock screen), and the status the page shows next.
fn serve(
    shell: &mut Shell,
    t: Terminal,
    keychain: Arc<OsKeychain>,
    signed_in: Option<SignedIn>,
) -> Result<AppStatus, CommandError> {
    let t = Arc::new(t);
    shell.sync = Some(crate::start_sync(&t, keychain));
    shell.engine = Engine::Ready(t);
    shell.current = signed_in.map(|(seat, token)| (seat, Arc::new(token)));
    describe(shell)
}

/// A seat signed in by setting up: its id and session.
type SignedIn = (Uuid, SessionToken);

/// Makes this window's terminal where there is none yet (a new shop, or one joined with a
/// code), then starts its sync loop and signs in whoever `make` says (the new owner) or nobody.
async fn set_up(
    state: &AppState,
    make: impl FnOnce(&DataDir, &dyn SecretStore) -> Result<(Terminal, Option<SignedIn>), Error>
    + Send
    + 'static,
) -> Result<AppStatus, CommandError> {
    let state = state.clone();
    blocking(move || {
        let mut shell = lock(&state);
        let Engine::NeedsSetup { dir, keychain } = &shell.engine else {
            return Err(CommandError {
                code: ErrorCode::AlreadyInitialised,
                message: "this shop is already set up".into(),
            });
        };
        let keychain = keychain.clone();
        let (t, signed_in) = make(dir, keychain.as_ref())?;
        serve(&mut shell, t, keychain, signed_in)
    })
    .await
}

/// The SHA-256 fingerprints of a CA the owner brought, shown before it is pinned so they can be
/// read against what the cloud shows. Needs no shop and no seat: it only reads the text given.
#[tauri::command]
pub fn ca_fingerprints(ca_pem: String) -> Result<Vec<String>, CommandError> {
    galla_client::ca_fingerprints(&ca_pem).map_err(|e| Error::from(e).into())
}

/// Joins this terminal to a shop that already has a cloud, with the owner's one-time code.
/// Nobody is signed in afterwards: the shop's seats (pulled with their credentials) sign in.
#[tauri::command]
pub async fn enroll_terminal(
    state: tauri::State<'_, AppState>,
    request: EnrollTerminal,
) -> Result<AppStatus, CommandError> {
    set_up(state.inner(), move |dir, keychain| {
        let t = Terminal::enroll(dir, keychain, Arc::new(SystemClock), &request)?;
        Ok((t, None))
    })
    .await
}

#[tauri::command]
pub async fn verify_audit(state: tauri::State<'_, AppState>) -> Result<AuditReport, CommandError> {
    with_session(state.inner(), |t, token| t.verify_audit(token)).await
}

// ---- Billing: each a line over the engine, which checks the seat's permission every time.

/// The product with the barcode or SKU typed or scanned, then those whose name or SKU words
/// start with it, closest first.
#[tauri::command]
pub async fn find_products(
    state: tauri::State<'_, AppState>,
    query: String,
) -> Result<Vec<Product>, CommandError> {
    with_session(state.inner(), move |t, s| t.find_products(s, &query, 20)).await
}

/// A change to the sale, answered with the sale and its price: one call per scan.
async fn edit(state: &AppState, edit: SaleEdit) -> Result<SaleView, CommandError> {
    with_session(state, move |t, s| t.edit_sale(s, &edit)).await
}

/// A scanned or typed code: a barcode, else a SKU. `quantity` units go into the sale.
#[tauri::command]
pub async fn scan(
    state: tauri::State<'_, AppState>,
    code: String,
    quantity: u32,
) -> Result<SaleView, CommandError> {
    let product = ProductRef::Code(code);
    edit(state.inner(), SaleEdit::RingUp { product, quantity }).await
}

#[tauri::command]
pub async fn ring_up(
    state: tauri::State<'_, AppState>,
    product: ProductRef,
    quantity: u32,
) -> Result<SaleView, CommandError> {
    edit(state.inner(), SaleEdit::RingUp { product, quantity }).await
}

/// The sale at the till and its price, if there is one.
#[tauri::command]
pub async fn current_sale(
    state: tauri::State<'_, AppState>,
) -> Result<Option<SaleView>, CommandError> {
    with_session(state.inner(), |t, s| t.current_sale(s)).await
}

#[tauri::command]
pub async fn quote_sale(
    state: tauri::State<'_, AppState>,
    terms: SaleTerms,
) -> Result<Quote, CommandError> {
    with_session(state.inner(), move |t, s| t.quote_cart(s, &terms)).await
}

/// Keeps the sale's customer, place of supply and bill discount with it (held sales too).
#[tauri::command]
pub async fn set_sale_terms(
    state: tauri::State<'_, AppState>,
    terms: SaleTerms,
) -> Result<SaleView, CommandError> {
    edit(state.inner(), SaleEdit::SetTerms { terms }).await
}

#[tauri::command]
pub async fn set_line_quantity(
    state: tauri::State<'_, AppState>,
    line_id: Uuid,
    quantity: i64,
) -> Result<SaleView, CommandError> {
    edit(state.inner(), SaleEdit::SetQuantity { line_id, quantity }).await
}

#[tauri::command]
pub async fn set_line_discount(
    state: tauri::State<'_, AppState>,
    line_id: Uuid,
    discount_bp: u32,
) -> Result<SaleView, CommandError> {
    edit(
        state.inner(),
        SaleEdit::SetDiscount {
            line_id,
            discount_bp,
        },
    )
    .await
}

#[tauri::command]
pub async fn set_line_imeis(
    state: tauri::State<'_, AppState>,
    line_id: Uuid,
    imeis: Vec<String>,
) -> Result<SaleView, CommandError> {
    edit(state.inner(), SaleEdit::SetImeis { line_id, imeis }).await
}

#[tauri::command]
pub async fn remove_line(
    state: tauri::State<'_, AppState>,
    line_id: Uuid,
) -> Result<SaleView, CommandError> {
    edit(state.inner(), SaleEdit::RemoveLine { line_id }).await
}

/// Parks the sale so the next customer can be served.
#[tauri::command]
pub async fn hold_sale(state: tauri::State<'_, AppState>) -> Result<SaleView, CommandError> {
    edit(state.inner(), SaleEdit::Hold).await
}

#[tauri::command]
pub async fn held_sales(state: tauri::State<'_, AppState>) -> Result<Vec<Cart>, CommandError> {
    with_session(state.inner(), |t, s| t.held_carts(s)).await
}

#[tauri::command]
pub async fn resume_sale(
    state: tauri::State<'_, AppState>,
    cart_id: Uuid,
) -> Result<SaleView, CommandError> {
    edit(state.inner(), SaleEdit::Resume { cart_id }).await
}

#[tauri::command]
pub async fn discard_sale(state: tauri::State<'_, AppState>) -> Result<(), CommandError> {
    with_session(state.inner(), |t, s| t.discard_cart(s)).await
}

#[tauri::command]
pub async fn finalize_sale(
    state: tauri::State<'_, AppState>,
    request: FinalizeRequest,
) -> Result<Invoice, CommandError> {
    with_session(state.inner(), move |t, s| t.finalize(s, &request)).await
}
