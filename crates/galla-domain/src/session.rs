//! The clock rules of a shared till: when a session is still live, when it has gone idle (the
//! screen locks, the cart is held) or expired, how long a seat waits after failed sign-ins, and
//! when a sensitive act needs the secret again. Times are Unix milliseconds from the engine's
//! injected clock; nothing here reads a clock.

use crate::access::Role;

const MINUTE_MS: i64 = 60_000;

/// A session ends this long after sign-in, however active.
pub const ABSOLUTE_LIFETIME_MS: i64 = 12 * 60 * MINUTE_MS;
/// Sensitive acts (revoking seats, exporting PII, restoring backups...) need a sign-in this recent.
pub const REAUTH_WINDOW_MS: i64 = 5 * MINUTE_MS;
/// Failed sign-ins allowed before back-off starts.
pub const FREE_FAILURES: u32 = 5;
/// First back-off after the free failures; doubles with each further failure.
pub const FIRST_LOCKOUT_MS: i64 = 30_000;
/// Back-off never exceeds this: the owner can always get back in within the hour.
pub const MAX_LOCKOUT_MS: i64 = 60 * MINUTE_MS;
/// This many consecutive failures is a suspicious-login event the owner is shown.
pub const SUSPICIOUS_FAILURES: u32 = FREE_FAILURES;

impl Role {
    /// Default idle timeout (the owner can change it per shop): short at the counter, where the
    /// till is shared, longer for the back office.
    pub fn default_idle_timeout_ms(self) -> i64 {
        match self {
            Role::CounterStaff => 8 * MINUTE_MS,
            Role::Owner | Role::Manager => 60 * MINUTE_MS,
            Role::Accountant | Role::StockKeeper | Role::ReadOnly | Role::Support => 15 * MINUTE_MS,
        }
    }
}

/// A seat with several roles idles out at the shortest of their timeouts: the till is only as
/// safe as its most exposed use.
pub fn idle_timeout_ms(roles: &[Role], timeout_of: impl Fn(Role) -> i64) -> i64 {
    roles
        .iter()
        .map(|r| timeout_of(*r))
        .min()
        .unwrap_or(Role::CounterStaff.default_idle_timeout_ms())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// May act.
    Live,
    /// Idle too long: lock the screen, hold the cart; the same seat unlocks with its secret.
    Idle,
    /// Past its absolute lifetime: sign in again.
    Expired,
}

/// A session's state at `now`. Live while strictly less than the timeout has passed; a clock
/// that went backwards counts as no time passed, never as extra time.
pub fn session_state(
    now: i64,
    signed_in_at: i64,
    last_activity: i64,
    idle_timeout_ms: i64,
) -> SessionState {
    let since = |t: i64| now.saturating_sub(t).max(0);
    if since(signed_in_at) >= ABSOLUTE_LIFETIME_MS {
        SessionState::Expired
    } else if since(last_activity) >= idle_timeout_ms {
        SessionState::Idle
    } else {
        SessionState::Live
    }
}

/// Whether a sensitive act at `now` needs the secret again.
pub fn needs_reauth(now: i64, last_authenticated_at: i64) -> bool {
    now.saturating_sub(last_authenticated_at) >= REAUTH_WINDOW_MS
}

/// How long a seat must wait before its next sign-in attempt, after `consecutive_failures`.
pub fn lockout_ms(consecutive_failures: u32) -> i64 {
    if consecutive_failures < FREE_FAILURES {
        return 0;
    }
    let doublings = (consecutive_failures - FREE_FAILURES).min(16);
    (FIRST_LOCKOUT_MS << doublings).min(MAX_LOCKOUT_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn idle_boundaries_for_counter_staff() {
        let idle = Role::CounterStaff.default_idle_timeout_ms();
        assert_eq!(idle, 8 * 60_000);
        let t0 = 1_000_000;
        assert_eq!(
            session_state(t0 + idle - 1_000, t0, t0, idle),
            SessionState::Live
        );
        assert_eq!(session_state(t0 + idle, t0, t0, idle), SessionState::Idle);
        assert_eq!(
            session_state(t0 + idle + 1_000, t0, t0, idle),
            SessionState::Idle
        );
    }

    #[test]
    fn absolute_lifetime_beats_activity() {
        let idle = Role::Owner.default_idle_timeout_ms();
        let t0 = 0;
        let just_active = ABSOLUTE_LIFETIME_MS - 1;
        assert_eq!(
            session_state(ABSOLUTE_LIFETIME_MS - 1_000, t0, just_active, idle),
            SessionState::Live
        );
        assert_eq!(
            session_state(ABSOLUTE_LIFETIME_MS, t0, just_active, idle),
            SessionState::Expired
        );
    }

    #[test]
    fn a_clock_set_back_gives_no_extra_time_and_no_crash() {
        let idle = 60_000;
        assert_eq!(session_state(0, 10_000, 10_000, idle), SessionState::Live);
        assert_eq!(
            session_state(i64::MIN, i64::MAX, i64::MAX, idle),
            SessionState::Live
        );
        assert_eq!(
            session_state(i64::MAX, i64::MIN, i64::MIN, idle),
            SessionState::Expired
        );
    }

    #[test]
    fn lockout_schedule() {
        let schedule: Vec<i64> = (0..12).map(lockout_ms).collect();
        assert_eq!(
            schedule,
            [
                0, 0, 0, 0, 0, 30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000
            ]
        );
        assert_eq!(lockout_ms(13), MAX_LOCKOUT_MS);
        assert_eq!(lockout_ms(u32::MAX), MAX_LOCKOUT_MS);
    }

    #[test]
    fn several_roles_idle_at_the_shortest() {
        let t = idle_timeout_ms(
            &[Role::Owner, Role::CounterStaff],
            Role::default_idle_timeout_ms,
        );
        assert_eq!(t, Role::CounterStaff.default_idle_timeout_ms());
        assert_eq!(
            idle_timeout_ms(&[], Role::default_idle_timeout_ms),
            8 * 60_000
        );
    }

    #[test]
    fn reauth_window() {
        assert!(!needs_reauth(REAUTH_WINDOW_MS - 1, 0));
        assert!(needs_reauth(REAUTH_WINDOW_MS, 0));
    }

    proptest! {
        #[test]
        fn lockout_never_shrinks_and_stays_capped(n in 0u32..100) {
            prop_assert!(lockout_ms(n + 1) >= lockout_ms(n));
            prop_assert!(lockout_ms(n) <= MAX_LOCKOUT_MS);
        }

        /// Activity can only keep a session live, never revive an expired one.
        #[test]
        fn activity_never_outlives_the_absolute_lifetime(signed_in in -1_000_000_000i64..1_000_000_000,
                                                           elapsed in 0i64..2 * ABSOLUTE_LIFETIME_MS,
                                                           idle in 1i64..ABSOLUTE_LIFETIME_MS) {
            let now = signed_in + elapsed;
            let state = session_state(now, signed_in, now, idle);
            prop_assert_eq!(state == SessionState::Expired, elapsed >= ABSOLUTE_LIFETIME_MS);
        }
    }
}
