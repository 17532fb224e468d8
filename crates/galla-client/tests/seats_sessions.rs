//! Seats and sessions at a shared till, on the real encrypted store and keychain, with the
//! clock moved by hand: idle and absolute boundaries, back-off across a restart, revocation in
//! the middle of a sale, support windows, overrides, discount limits, re-authentication, two-step
//! sign-in with recovery codes, and the sale a locked screen holds.

mod common;

use common::{Fixture, OWNER_PASSPHRASE};
use galla_client::{
    CartStatus, Clock, Error, InputError, NewCartLine, NewSeat, NewSupportSeat, Override,
    Permission, Restriction, Role, SecondFactor, SecretKind, SecretString, SessionToken,
    ShopPolicy, Terminal,
};
use uuid::Uuid;

const MINUTE: i64 = 60_000;
const STAFF_PIN: &str = "482915";

fn secret(s: &str) -> SecretString {
    SecretString::new(s)
}

fn add_seat(t: &Terminal, owner: &SessionToken, name: &str, roles: &[Role]) -> Uuid {
    t.add_seat(
        owner,
        &NewSeat {
            display_name: name.into(),
            roles: roles.to_vec(),
            overrides: vec![],
            secret_kind: SecretKind::Pin,
            secret: secret(STAFF_PIN),
        },
    )
    .unwrap()
}

fn sign_in(t: &Terminal, seat: Uuid) -> SessionToken {
    t.sign_in(seat, &secret(STAFF_PIN), None).unwrap().token
}

fn line(desc: &str, paise: i64) -> NewCartLine {
    NewCartLine {
        description: desc.into(),
        quantity: 1,
        unit_price_paise: paise,
    }
}

/// A shop with its owner signed in and a counter-staff seat "Asha".
struct Shop {
    fx: Fixture,
    t: Terminal,
    owner: SessionToken,
    staff: Uuid,
}

fn shop() -> Shop {
    let fx = Fixture::new();
    let (t, owner) = fx.init();
    let staff = add_seat(&t, &owner, "Asha", &[Role::CounterStaff]);
    Shop {
        fx,
        t,
        owner,
        staff,
    }
}

#[test]
fn idle_at_timeout_minus_one_second_works_plus_one_second_locks() {
    let s = shop();
    let staff = sign_in(&s.t, s.staff);
    let idle = 8 * MINUTE;
    assert_eq!(s.t.session_info(&staff).unwrap().idle_timeout_ms, idle);

    s.fx.clock.advance_ms(idle - 1_000);
    s.t.open_cart(&staff)
        .expect("live one second before the timeout");

    // That call was activity: the timeout starts again from it.
    s.fx.clock.advance_ms(idle + 1_000);
    assert!(matches!(
        s.t.current_cart(&staff),
        Err(Error::SessionLocked { seat }) if seat == "Asha"
    ));
    // Polling what the session is never counts as activity and never unlocks it.
    assert!(matches!(
        s.t.session_info(&staff),
        Err(Error::SessionLocked { .. })
    ));
    assert!(matches!(
        s.t.unlock(&staff, &secret("000111")),
        Err(Error::WrongSecret { .. })
    ));
    s.t.unlock(&staff, &secret(STAFF_PIN)).unwrap();
    assert!(s.t.current_cart(&staff).unwrap().is_some());
}

#[test]
fn the_owner_sets_idle_timeouts_per_shop() {
    let s = shop();
    let mut policy = ShopPolicy::default();
    policy.idle_timeout_ms.insert(Role::CounterStaff, MINUTE);
    s.t.set_policy(&s.owner, &policy).unwrap();
    let staff = sign_in(&s.t, s.staff);
    s.fx.clock.advance_ms(MINUTE - 1_000);
    s.t.touch(&staff).unwrap();
    s.fx.clock.advance_ms(MINUTE + 1_000);
    assert!(matches!(
        s.t.touch(&staff),
        Err(Error::SessionLocked { .. })
    ));
    let too_short = ShopPolicy {
        idle_timeout_ms: [(Role::Owner, 1_000)].into(),
        ..Default::default()
    };
    assert!(matches!(
        s.t.set_policy(&s.owner, &too_short),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn a_session_ends_twelve_hours_after_sign_in_however_active() {
    let s = shop();
    let staff = sign_in(&s.t, s.staff);
    for _ in 0..(12 * 60 / 5 - 1) {
        s.fx.clock.advance_ms(5 * MINUTE);
        s.t.touch(&staff).unwrap();
    }
    s.fx.clock.advance_ms(5 * MINUTE - 1_000);
    s.t.touch(&staff).expect("11:59:59 after sign-in");
    s.fx.clock.advance_ms(1_000);
    assert!(matches!(s.t.touch(&staff), Err(Error::SessionExpired)));
    // The ended token stays ended, and says why.
    assert!(matches!(
        s.t.session_info(&staff),
        Err(Error::SessionExpired)
    ));
    sign_in(&s.t, s.staff);
}

#[test]
fn back_off_after_five_failures_survives_a_restart_and_raises_a_suspicious_login() {
    let s = shop();
    for i in 0..5 {
        match s.t.sign_in(s.staff, &secret("111222"), None) {
            Err(Error::WrongSecret {
                attempts_before_wait,
            }) => assert_eq!(attempts_before_wait, 4 - i),
            other => panic!("attempt {i}: {other:?}"),
        }
    }
    // Locked out for 30 s: even the right PIN is not checked.
    assert!(matches!(
        s.t.sign_in(s.staff, &secret(STAFF_PIN), None),
        Err(Error::LockedOut { retry_in_secs: 30 })
    ));
    let events = s.t.security_events(&s.owner).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "suspicious_sign_in");
    assert_eq!(events[0].seat_id, Some(s.staff));

    // A restart does not reset the count.
    drop(s.t);
    let t = s.fx.open().unwrap();
    s.fx.clock.advance_ms(29_000);
    assert!(matches!(
        t.sign_in(s.staff, &secret(STAFF_PIN), None),
        Err(Error::LockedOut { retry_in_secs: 1 })
    ));
    s.fx.clock.advance_ms(1_000);
    // The sixth failure doubles the wait.
    assert!(matches!(
        t.sign_in(s.staff, &secret("111222"), None),
        Err(Error::WrongSecret { .. })
    ));
    assert!(matches!(
        t.sign_in(s.staff, &secret(STAFF_PIN), None),
        Err(Error::LockedOut { retry_in_secs: 60 })
    ));
    s.fx.clock.advance_ms(60_000);
    sign_in(&t, s.staff);
    // Success clears the count: one more mistake is free again.
    assert!(matches!(
        t.sign_in(s.staff, &secret("111222"), None),
        Err(Error::WrongSecret {
            attempts_before_wait: 4
        })
    ));
}

#[test]
fn revocation_in_the_middle_of_a_sale_ends_the_session_and_holds_the_sale() {
    let s = shop();
    let staff = sign_in(&s.t, s.staff);
    let cart = s.t.open_cart(&staff).unwrap();
    s.t.add_cart_line(&staff, &line("Phone cover", 19_900))
        .unwrap();

    s.t.revoke_seat(&s.owner, s.staff).unwrap();
    assert!(matches!(
        s.t.add_cart_line(&staff, &line("Charger", 49_900)),
        Err(Error::SeatRevoked)
    ));
    assert!(matches!(
        s.t.sign_in(s.staff, &secret(STAFF_PIN), None),
        Err(Error::SeatRevoked)
    ));
    assert!(s.t.roster().unwrap().iter().all(|r| r.seat_id != s.staff));
    let held = s.t.held_carts(&s.owner).unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].cart_id, cart.cart_id);
    assert_eq!(held[0].lines.len(), 1, "nothing of the sale is lost");
    // It survives a restart too.
    drop(s.t);
    let t = s.fx.open().unwrap();
    assert!(matches!(
        t.sign_in(s.staff, &secret(STAFF_PIN), None),
        Err(Error::SeatRevoked)
    ));
}

#[test]
fn idle_with_a_sale_locks_and_holds_it_another_seat_parks_it_the_same_seat_gets_it_back() {
    let s = shop();
    let manager = add_seat(&s.t, &s.owner, "Meena", &[Role::Manager]);
    let staff = sign_in(&s.t, s.staff);
    let cart = s.t.open_cart(&staff).unwrap();
    s.t.add_cart_line(&staff, &line("Earphones", 59_900))
        .unwrap();

    s.fx.clock.advance_ms(8 * MINUTE);
    // Nobody touches the till: the shell's once-a-second sweep locks it and holds the sale.
    assert_eq!(s.t.lock_idle_sessions().unwrap(), 1);
    let m = sign_in(&s.t, manager);
    assert!(
        s.t.current_cart(&m).unwrap().is_none(),
        "another seat does not inherit the sale"
    );
    let held = s.t.held_carts(&m).unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].status, CartStatus::Held);
    assert_eq!(held[0].held_reason.as_deref(), Some("idle"));

    s.t.unlock(&staff, &secret(STAFF_PIN)).unwrap();
    let back = s.t.current_cart(&staff).unwrap().unwrap();
    assert_eq!(back.cart_id, cart.cart_id);
    assert_eq!(back.lines[0].description, "Earphones");
    assert!(s.t.held_carts(&m).unwrap().is_empty());
}

#[test]
fn quick_switch_locks_the_first_seat_and_a_resumed_sale_is_not_taken_back() {
    let s = shop();
    let manager = add_seat(&s.t, &s.owner, "Meena", &[Role::Manager]);
    let staff = sign_in(&s.t, s.staff);
    let cart = s.t.open_cart(&staff).unwrap();
    s.t.add_cart_line(&staff, &line("SIM", 10_000)).unwrap();
    s.t.lock(&staff).unwrap();
    let m = sign_in(&s.t, manager);
    s.t.resume_cart(&m, cart.cart_id).unwrap();
    s.t.unlock(&staff, &secret(STAFF_PIN)).unwrap();
    assert!(
        s.t.current_cart(&staff).unwrap().is_none(),
        "the manager has it now"
    );
    assert_eq!(s.t.current_cart(&m).unwrap().unwrap().cart_id, cart.cart_id);
}

#[test]
fn support_access_is_stamped_support_and_ends_by_itself() {
    let s = shop();
    let support =
        s.t.grant_support(
            &s.owner,
            &NewSupportSeat {
                display_name: "Galla support".into(),
                secret_kind: SecretKind::Passphrase,
                secret: secret("support window pass"),
                minutes: 30,
            },
        )
        .unwrap();
    let token =
        s.t.sign_in(support, &secret("support window pass"), None)
            .unwrap()
            .token;
    assert_eq!(s.t.session_info(&token).unwrap().role_stamp, "support");
    assert!(s.t.verify_audit(&token).unwrap().is_intact());
    assert!(matches!(
        s.t.open_cart(&token),
        Err(Error::PermissionDenied { .. })
    ));
    let mut csv = Vec::new();
    s.t.export_audit_csv(&s.owner, &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.lines()
            .any(|l| l.contains("session.sign_in") && l.contains(",support,")),
        "{csv}"
    );

    // Support idles out after 15 minutes like the back office; it stays active here.
    for _ in 0..2 {
        s.fx.clock.advance_ms(10 * MINUTE);
        s.t.touch(&token).unwrap();
    }
    s.fx.clock.advance_ms(10 * MINUTE - 1_000);
    s.t.touch(&token).unwrap();
    s.fx.clock.advance_ms(1_000);
    assert!(matches!(
        s.t.verify_audit(&token),
        Err(Error::SupportWindowClosed)
    ));
    assert!(matches!(
        s.t.sign_in(support, &secret("support window pass"), None),
        Err(Error::SupportWindowClosed)
    ));
    assert!(s.t.roster().unwrap().iter().all(|r| r.seat_id != support));
    // A window is granted, never a standing role.
    assert!(matches!(
        s.t.set_seat_access(&s.owner, s.staff, &[Role::Support], &[]),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn a_deny_override_beats_a_role_grant_and_changes_take_effect_at_once() {
    let s = shop();
    let staff = sign_in(&s.t, s.staff);
    s.t.open_cart(&staff).unwrap();
    s.t.set_seat_access(
        &s.owner,
        s.staff,
        &[Role::CounterStaff],
        &[Override::Deny(Permission::Bill)],
    )
    .unwrap();
    assert!(matches!(
        s.t.add_cart_line(&staff, &line("x", 1)),
        Err(Error::PermissionDenied { action }) if action == "add to the sale"
    ));
    let info = s.t.session_info(&staff).unwrap();
    assert!(!info.permissions.contains(&Permission::Bill));
    assert!(info.permissions.contains(&Permission::HoldResume));
}

#[test]
fn a_discount_above_the_roles_limit_is_refused() {
    let s = shop();
    let staff = sign_in(&s.t, s.staff);
    s.t.open_cart(&staff).unwrap();
    let cart = s.t.add_cart_line(&staff, &line("Case", 50_000)).unwrap();
    let l = cart.lines[0].line_id;
    s.t.set_line_discount(&staff, l, 500).unwrap();
    assert!(matches!(
        s.t.set_line_discount(&staff, l, 501),
        Err(Error::DiscountAboveLimit {
            asked_bp: 501,
            limit_bp: 500
        })
    ));
    let policy = ShopPolicy {
        discount_limit_bp: [(Role::CounterStaff, 1_000)].into(),
        ..Default::default()
    };
    s.t.set_policy(&s.owner, &policy).unwrap();
    assert_eq!(
        s.t.set_line_discount(&staff, l, 1_000).unwrap().lines[0].discount_bp,
        1_000
    );
}

#[test]
fn sensitive_acts_need_the_secret_again_after_five_minutes() {
    let s = shop();
    s.fx.clock.advance_ms(5 * MINUTE);
    assert!(matches!(
        s.t.revoke_seat(&s.owner, s.staff),
        Err(Error::ReauthRequired { .. })
    ));
    assert!(matches!(
        s.t.export_audit_csv(&s.owner, std::io::sink()),
        Err(Error::ReauthRequired { .. })
    ));
    assert!(s.t.verify_audit(&s.owner).is_ok(), "not sensitive");
    assert!(matches!(
        s.t.reauthenticate(&s.owner, &secret("wrong passphrase")),
        Err(Error::WrongSecret { .. })
    ));
    s.t.reauthenticate(&s.owner, &secret(OWNER_PASSPHRASE))
        .unwrap();
    s.t.revoke_seat(&s.owner, s.staff).unwrap();
}

#[test]
fn sign_out_everywhere_ends_sessions_but_the_seat_may_sign_in_again() {
    let s = shop();
    let staff = sign_in(&s.t, s.staff);
    s.t.sign_out_everywhere(&s.owner, s.staff).unwrap();
    assert!(matches!(s.t.touch(&staff), Err(Error::SignedOutEverywhere)));
    s.fx.clock.advance_ms(1);
    let again = sign_in(&s.t, s.staff);
    s.t.touch(&again).unwrap();
}

#[test]
fn a_disabled_terminal_admits_only_those_who_can_enable_it_even_after_a_restart() {
    let s = shop();
    let staff = sign_in(&s.t, s.staff);
    s.t.disable_terminal(&s.owner).unwrap();
    assert!(matches!(s.t.touch(&staff), Err(Error::TerminalDisabled)));
    assert!(matches!(
        s.t.sign_in(s.staff, &secret(STAFF_PIN), None),
        Err(Error::TerminalDisabled)
    ));
    assert!(matches!(
        s.t.open_cart(&s.owner),
        Err(Error::TerminalDisabled)
    ));
    drop(s.t);
    let t = s.fx.open().unwrap();
    assert!(matches!(
        t.sign_in(s.staff, &secret(STAFF_PIN), None),
        Err(Error::TerminalDisabled)
    ));
    let owner = common::sign_in_owner(&t);
    assert_eq!(
        t.session_info(&owner).unwrap().restriction,
        Some(Restriction::TerminalDisabled)
    );
    t.enable_terminal(&owner).unwrap();
    let staff = sign_in(&t, s.staff);
    t.open_cart(&staff).unwrap();
}

/// The code an authenticator app shows for `base32` at the engine's clock.
fn app_code(base32: &str, now_ms: i64) -> String {
    let secret = totp_rs::Secret::try_from_base32(base32).unwrap();
    totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .unwrap()
        .generate((now_ms / 1000) as u64)
        .to_string()
}

#[test]
fn two_step_sign_in_with_totp_and_one_time_recovery_codes() {
    let s = shop();
    let setup = s.t.begin_second_factor(&s.owner).unwrap();
    assert!(
        setup
            .otpauth_uri
            .expose()
            .starts_with("otpauth://totp/Sharma%20Mobiles:Ravi%20Sharma?secret=")
    );
    let now = || s.fx.clock.now_ms();
    let code = app_code(setup.secret_base32.expose(), now());
    let codes = s.t.confirm_second_factor(&s.owner, &secret(&code)).unwrap();
    assert_eq!(codes.len(), 10);
    let owner_seat = s.t.session_info(&s.owner).unwrap().seat_id;
    s.t.sign_out(&s.owner).unwrap();
    assert!(s.t.roster().unwrap()[0].second_factor);

    let pass = secret(OWNER_PASSPHRASE);
    assert!(matches!(
        s.t.sign_in(owner_seat, &pass, None),
        Err(Error::SecondFactorRequired)
    ));
    // The code used to set it up is spent (RFC 6238 §5.2: accept each code once).
    let used = SecondFactor::Code(secret(&code));
    assert!(matches!(
        s.t.sign_in(owner_seat, &pass, Some(&used)),
        Err(Error::WrongSecret { .. })
    ));
    s.fx.clock.advance_ms(30_000);
    let fresh = SecondFactor::Code(secret(&app_code(setup.secret_base32.expose(), now())));
    s.t.sign_in(owner_seat, &pass, Some(&fresh)).unwrap();
    assert!(
        matches!(
            s.t.sign_in(owner_seat, &pass, Some(&fresh)),
            Err(Error::WrongSecret { .. })
        ),
        "replay"
    );

    let recovery = SecondFactor::RecoveryCode(secret(&codes[3].expose().to_lowercase()));
    let token =
        s.t.sign_in(owner_seat, &pass, Some(&recovery))
            .unwrap()
            .token;
    assert!(matches!(
        s.t.sign_in(owner_seat, &pass, Some(&recovery)),
        Err(Error::WrongSecret { .. })
    ));
    let events = s.t.security_events(&token).unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "recovery_code_used" && e.detail.contains("9 left"))
    );
}

#[test]
fn the_owner_can_require_two_step_sign_in_for_a_role() {
    let s = shop();
    let policy = ShopPolicy {
        second_factor_roles: [Role::CounterStaff].into(),
        ..Default::default()
    };
    s.t.set_policy(&s.owner, &policy).unwrap();
    let staff = sign_in(&s.t, s.staff);
    assert_eq!(
        s.t.session_info(&staff).unwrap().restriction,
        Some(Restriction::SetUpSecondFactor)
    );
    assert!(matches!(
        s.t.open_cart(&staff),
        Err(Error::SecondFactorEnrollmentRequired { .. })
    ));
    let setup = s.t.begin_second_factor(&staff).unwrap();
    let code = app_code(setup.secret_base32.expose(), s.fx.clock.now_ms());
    s.t.confirm_second_factor(&staff, &secret(&code)).unwrap();
    s.t.open_cart(&staff).unwrap();
}

#[test]
fn no_seat_can_raise_another_above_itself_and_the_last_administrator_stays() {
    let s = shop();
    let manager = add_seat(&s.t, &s.owner, "Meena", &[Role::Manager]);
    let m = sign_in(&s.t, manager);
    // Managers may revoke, but not a seat holding more than they do.
    assert!(matches!(s.t.revoke_seat(&m, s.staff), Ok(())));
    let owner_seat = s.t.session_info(&s.owner).unwrap().seat_id;
    assert!(matches!(
        s.t.revoke_seat(&m, owner_seat),
        Err(Error::Invalid(InputError::Conflict(_)))
    ));
    // A manager granted seat management still cannot make an owner.
    s.t.set_seat_access(
        &s.owner,
        manager,
        &[Role::Manager],
        &[Override::Grant(Permission::ManageSeats)],
    )
    .unwrap();
    s.t.reauthenticate(&m, &secret(STAFF_PIN)).unwrap();
    let new_owner = NewSeat {
        display_name: "Usurper".into(),
        roles: vec![Role::Owner],
        overrides: vec![],
        secret_kind: SecretKind::Pin,
        secret: secret("560034"),
    };
    assert!(matches!(
        s.t.add_seat(&m, &new_owner),
        Err(Error::Invalid(InputError::Conflict(_)))
    ));
    // The only owner cannot be revoked or demoted.
    assert!(matches!(
        s.t.revoke_seat(&s.owner, owner_seat),
        Err(Error::Invalid(InputError::Conflict(_)))
    ));
    assert!(matches!(
        s.t.set_seat_access(&s.owner, owner_seat, &[Role::Manager], &[]),
        Err(Error::Invalid(InputError::Conflict(_)))
    ));
}

#[test]
fn bad_seat_input_is_refused_and_writes_nothing() {
    let s = shop();
    let before = s.t.status().unwrap().audit_records;
    for (kind, bad) in [
        (SecretKind::Pin, "12345"),
        (SecretKind::Pin, "123456"),
        (SecretKind::Pin, "abcdef"),
        (SecretKind::Passphrase, "short"),
    ] {
        let r = s.t.add_seat(
            &s.owner,
            &NewSeat {
                display_name: "X".into(),
                roles: vec![Role::ReadOnly],
                overrides: vec![],
                secret_kind: kind,
                secret: secret(bad),
            },
        );
        assert!(matches!(r, Err(Error::Invalid(_))), "{bad}: {r:?}");
    }
    let dup = NewSeat {
        display_name: " asha ".into(),
        roles: vec![Role::ReadOnly],
        overrides: vec![],
        secret_kind: SecretKind::Pin,
        secret: secret("560034"),
    };
    assert!(matches!(
        s.t.add_seat(&s.owner, &dup),
        Err(Error::Invalid(InputError::Conflict(_)))
    ));
    let none = NewSeat {
        roles: vec![],
        ..dup
    };
    assert!(matches!(
        s.t.add_seat(&s.owner, &none),
        Err(Error::Invalid(InputError::Required { field: "roles" }))
    ));
    assert_eq!(s.t.status().unwrap().audit_records, before);
    assert!(matches!(
        s.t.sign_in(Uuid::now_v7(), &secret(STAFF_PIN), None),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn secret_hashes_never_enter_the_audit_trail_but_the_outbox_carries_them_for_sync() {
    let s = shop();
    s.t.reset_seat_secret(&s.owner, s.staff, SecretKind::Pin, &secret("731904"))
        .unwrap();
    let (audit, outbox): (Vec<Vec<u8>>, Vec<Vec<u8>>) =
        s.t.with_reader(|c| {
            let col = |sql: &str| -> galla_client::Result<Vec<Vec<u8>>> {
                let mut st = c.prepare(sql)?;
                let rows = st.query_map([], |r| r.get(0))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            };
            Ok((
                col("SELECT record FROM audit_log")?,
                col("SELECT payload FROM outbox")?,
            ))
        })
        .unwrap();
    assert!(!audit.iter().any(|r| common::contains(r, b"$argon2id")));
    assert!(audit.iter().any(|r| common::contains(r, b"$redacted")));
    assert!(outbox.iter().any(|r| common::contains(r, b"$argon2id")));
    // The reset's entry holds the staff seat's new hash and nothing else of the row.
    let reset: serde_json::Value = serde_json::from_slice(outbox.last().unwrap()).unwrap();
    let secrets = reset["secrets"].as_object().unwrap();
    let seat = &secrets[&format!("seat/{}", s.staff)];
    assert_eq!(seat.as_object().unwrap().len(), 1, "{seat}");
    assert!(
        seat["secret_hash"]
            .as_str()
            .unwrap()
            .starts_with("$argon2id")
    );
    assert!(s.t.verify_audit(&s.owner).unwrap().is_intact());
}

#[test]
fn guessing_the_current_pin_to_change_it_counts_towards_the_back_off() {
    let s = shop();
    let staff = sign_in(&s.t, s.staff);
    for _ in 0..5 {
        assert!(matches!(
            s.t.change_own_secret(
                &staff,
                &secret("111222"),
                SecretKind::Pin,
                &secret("560034")
            ),
            Err(Error::WrongSecret { .. })
        ));
    }
    assert!(matches!(
        s.t.change_own_secret(
            &staff,
            &secret(STAFF_PIN),
            SecretKind::Pin,
            &secret("560034")
        ),
        Err(Error::LockedOut { .. })
    ));
    s.fx.clock.advance_ms(30_000);
    s.t.change_own_secret(
        &staff,
        &secret(STAFF_PIN),
        SecretKind::Pin,
        &secret("560034"),
    )
    .unwrap();
    s.t.sign_out(&staff).unwrap();
    s.t.sign_in(s.staff, &secret("560034"), None).unwrap();
}

#[test]
fn a_seat_granted_owner_acts_still_cannot_reshape_policy_or_make_support() {
    let s = shop();
    let manager = add_seat(&s.t, &s.owner, "Meena", &[Role::Manager]);
    s.t.set_seat_access(
        &s.owner,
        manager,
        &[Role::Manager],
        &[
            Override::Grant(Permission::ManageSeats),
            Override::Grant(Permission::GrantSupport),
        ],
    )
    .unwrap();
    let m = sign_in(&s.t, manager);
    let generous = ShopPolicy {
        discount_limit_bp: [(Role::Manager, 10_000)].into(),
        ..Default::default()
    };
    assert!(matches!(
        s.t.set_policy(&m, &generous),
        Err(Error::Invalid(InputError::Conflict(_)))
    ));
    let support = NewSupportSeat {
        display_name: "Friend".into(),
        secret_kind: SecretKind::Pin,
        secret: secret("560034"),
        minutes: 60,
    };
    assert!(matches!(
        s.t.grant_support(&m, &support),
        Err(Error::Invalid(InputError::Conflict(_)))
    ));
    assert!(matches!(
        s.t.set_seat_access(
            &m,
            s.staff,
            &[Role::Owner],
            &[Override::Deny(Permission::Restore)]
        ),
        Err(Error::Invalid(InputError::Conflict(_)))
    ));
}

#[test]
fn a_sale_resumed_by_another_seat_stays_with_it_when_the_first_seat_returns() {
    let s = shop();
    let manager = add_seat(&s.t, &s.owner, "Meena", &[Role::Manager]);
    let staff = sign_in(&s.t, s.staff);
    let cart = s.t.open_cart(&staff).unwrap().cart_id;
    s.t.add_cart_line(&staff, &line("Battery", 89_900)).unwrap();
    s.t.lock(&staff).unwrap();
    let m = sign_in(&s.t, manager);
    s.t.resume_cart(&m, cart).unwrap();
    // Asha signs in afresh (not unlock): her old session ends, but the sale is Meena's now.
    let again = sign_in(&s.t, s.staff);
    assert!(s.t.current_cart(&again).unwrap().is_none());
    let theirs = s.t.current_cart(&m).unwrap().unwrap();
    assert_eq!(theirs.cart_id, cart);
    assert_eq!(theirs.status, CartStatus::Open);
    assert!(s.t.held_carts(&m).unwrap().is_empty());
}

#[test]
fn asking_for_the_second_factor_says_nothing_about_the_secret_and_replacing_it_needs_reauth() {
    let s = shop();
    let setup = s.t.begin_second_factor(&s.owner).unwrap();
    let code = app_code(setup.secret_base32.expose(), s.fx.clock.now_ms());
    s.t.confirm_second_factor(&s.owner, &secret(&code)).unwrap();
    let owner_seat = s.t.session_info(&s.owner).unwrap().seat_id;
    for pass in ["not the passphrase", OWNER_PASSPHRASE] {
        assert!(matches!(
            s.t.sign_in(owner_seat, &secret(pass), None),
            Err(Error::SecondFactorRequired)
        ));
    }
    s.fx.clock.advance_ms(5 * MINUTE);
    assert!(matches!(
        s.t.begin_second_factor(&s.owner),
        Err(Error::ReauthRequired { .. })
    ));
    s.t.reauthenticate(&s.owner, &secret(OWNER_PASSPHRASE))
        .unwrap();
    s.t.begin_second_factor(&s.owner).unwrap();
}

#[test]
fn a_disable_made_by_another_process_reaches_this_one_at_the_next_sweep() {
    let s = shop();
    let staff = sign_in(&s.t, s.staff);
    // A second open of the same store, as the CLI would be.
    let other = s.fx.open().unwrap();
    let owner = common::sign_in_owner(&other);
    other.disable_terminal(&owner).unwrap();
    assert_eq!(s.t.lock_idle_sessions().unwrap(), 1);
    assert!(matches!(s.t.touch(&staff), Err(Error::TerminalDisabled)));
    assert!(matches!(
        s.t.sign_in(s.staff, &secret(STAFF_PIN), None),
        Err(Error::TerminalDisabled)
    ));
    other.enable_terminal(&owner).unwrap();
    s.t.lock_idle_sessions().unwrap();
    sign_in(&s.t, s.staff);
}
