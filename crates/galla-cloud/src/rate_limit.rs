//! Token buckets (GCRA, from `governor`) per client address on every request, per device on
//! every signed request, and a much smaller one per address for the routes a guesser would
//! hammer (owner sign-in, enrollment, tenant creation). Buckets live in memory: each server
//! instance limits what reaches it, which is what protects its database pool.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use uuid::Uuid;

use crate::api::ApiError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Requests per second per client address, and the burst it may spend at once.
    pub per_address_per_second: u32,
    pub per_address_burst: u32,
    /// Signed requests per second per device, and burst.
    pub per_device_per_second: u32,
    pub per_device_burst: u32,
    /// Sign-in, enrollment and tenant creation attempts per minute per address (also the burst).
    pub sensitive_per_minute: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            per_address_per_second: 100,
            per_address_burst: 200,
            per_device_per_second: 50,
            per_device_burst: 100,
            sensitive_per_minute: 10,
        }
    }
}

pub struct RateLimits {
    address: DefaultKeyedRateLimiter<IpAddr>,
    device: DefaultKeyedRateLimiter<Uuid>,
    sensitive: DefaultKeyedRateLimiter<IpAddr>,
}

/// One IPv6 client usually holds a whole /64: a bucket per address would give it 2^64 buckets.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

type Instant = <DefaultClock as governor::clock::Clock>::Instant;

fn refusal(result: Result<(), governor::NotUntil<Instant>>) -> Result<(), ApiError> {
    result.map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        ApiError::rate_limited(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
    })
}

impl RateLimits {
    pub fn new(config: &RateLimitConfig) -> RateLimits {
        let quota = |per_second: u32, burst: u32| {
            Quota::per_second(nonzero(per_second)).allow_burst(nonzero(burst))
        };
        RateLimits {
            address: RateLimiter::keyed(quota(
                config.per_address_per_second,
                config.per_address_burst,
            )),
            device: RateLimiter::keyed(quota(
                config.per_device_per_second,
                config.per_device_burst,
            )),
            sensitive: RateLimiter::keyed(
                Quota::per_minute(nonzero(config.sensitive_per_minute))
                    .allow_burst(nonzero(config.sensitive_per_minute)),
            ),
        }
    }

    pub fn check_address(&self, ip: IpAddr) -> Result<(), ApiError> {
        refusal(self.address.check_key(&client_key(ip)))
    }

    pub fn check_device(&self, device: Uuid) -> Result<(), ApiError> {
        refusal(self.device.check_key(&device))
    }

    pub fn check_sensitive(&self, ip: IpAddr) -> Result<(), ApiError> {
        refusal(self.sensitive.check_key(&client_key(ip)))
    }

    /// Forgets buckets that are full again, so memory follows the active clients only.
    pub fn prune(&self) {
        self.address.retain_recent();
        self.device.retain_recent();
        self.sensitive.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_refused_with_a_wait() {
        let limits = RateLimits::new(&RateLimitConfig {
            per_address_per_second: 1,
            per_address_burst: 3,
            ..RateLimitConfig::default()
        });
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            limits.check_address(ip).unwrap();
        }
        let refused = limits.check_address(ip).unwrap_err();
        assert_eq!(refused.status, axum::http::StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.retry_after_s, Some(1));
        // Another address has its own bucket.
        limits.check_address("192.0.2.2".parse().unwrap()).unwrap();
        // An IPv6 /64 is one client.
        for _ in 0..3 {
            limits
                .check_address("2001:db8::1".parse().unwrap())
                .unwrap();
        }
        assert!(
            limits
                .check_address("2001:db8::ffff:2".parse().unwrap())
                .is_err()
        );
        limits
            .check_address("2001:db8:0:1::1".parse().unwrap())
            .unwrap();
    }
}
