//! Hybrid logical clocks (Kulkarni et al., 2014) for merging customer edits across terminals
//! (issue 7): last writer wins by (wall time, counter), with the device id as the tie-break, so
//! every terminal and the cloud pick the same winner whatever order edits arrive in, and a
//! terminal whose clock runs behind still orders its edits after what it has already seen.
//!
//! A timestamp is `(wall_ms, counter, device)`. `now` stamps a local event; `observe` folds in a
//! timestamp received from elsewhere. A remote time implausibly far ahead of the local clock is
//! refused rather than dragging every later stamp into the future (issue 21): `observe` refuses
//! it, [`Hlc::resume_from`] passes over it, and [`HlcTimestamp::is_from_the_future`] is the one
//! test the cloud and the terminal's pull apply to a stamp they are handed. A counter that runs
//! out within one millisecond carries into the next millisecond, so no stamp, however it was
//! made, can leave a clock unable to issue the next one.

use uuid::Uuid;

/// How far ahead of the local clock a received timestamp may be before it is refused.
pub const MAX_DRIFT_MS: i64 = 5 * 60 * 1000;

/// Whether a time `wall_ms` is further ahead of `now_ms` than any honest clock may be: the one
/// drift test, for stamps and for a record's own time alike.
pub fn is_too_far_ahead(wall_ms: i64, now_ms: i64) -> bool {
    wall_ms.saturating_sub(now_ms) > MAX_DRIFT_MS
}

/// One stamp. The derived order compares wall time, then counter, then device: a total order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HlcTimestamp {
    pub wall_ms: i64,
    pub counter: u32,
    pub device: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HlcError {
    #[error("a timestamp is {ahead_ms} ms ahead of this clock; check the sender's clock")]
    TooFarAhead { ahead_ms: i64 },
    /// Only at the end of time (`i64::MAX` ms): a clock never resumes or observes a stamp there,
    /// since such a stamp is always from the future.
    #[error("the clock has reached the largest time it can hold")]
    Exhausted,
}

impl HlcTimestamp {
    /// The latest stamp a clock reading `now_ms` accepts from elsewhere: its time plus
    /// [`MAX_DRIFT_MS`], with the largest counter and device. Text forms compare like stamps, so
    /// `hlc <= horizon(now).encode()` in SQL picks the stamps that are not from the future.
    pub fn horizon(now_ms: i64) -> HlcTimestamp {
        HlcTimestamp {
            wall_ms: now_ms.saturating_add(MAX_DRIFT_MS),
            counter: u32::MAX,
            device: Uuid::max(),
        }
    }

    /// Whether this stamp is further ahead of `now_ms` than any honest clock may be.
    pub fn is_from_the_future(&self, now_ms: i64) -> bool {
        is_too_far_ahead(self.wall_ms, now_ms)
    }

    /// The text form stored in rows and sent over the wire: `wall-counter-device`, fixed width
    /// (16 and 8 lowercase hex digits, then the hyphenated UUID), so comparing two strings
    /// compares the stamps. Only stamps from 1970 on have one.
    pub fn encode(&self) -> Option<String> {
        (self.wall_ms >= 0)
            .then(|| format!("{:016x}-{:08x}-{}", self.wall_ms, self.counter, self.device))
    }

    /// Parses [`HlcTimestamp::encode`]'s form; anything else is `None`.
    pub fn decode(text: &str) -> Option<HlcTimestamp> {
        let (wall, rest) = (text.get(..16)?, text.get(16..)?);
        let (counter, device) = (rest.strip_prefix('-')?.get(..8)?, rest.get(9..)?);
        let device = device.strip_prefix('-')?;
        let hex = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if !hex(wall) || !hex(counter) || device.len() != 36 {
            return None;
        }
        let device = Uuid::try_parse(device).ok()?;
        let stamp = HlcTimestamp {
            wall_ms: i64::try_from(u64::from_str_radix(wall, 16).ok()?).ok()?,
            counter: u32::from_str_radix(counter, 16).ok()?,
            device,
        };
        // One spelling per stamp, so string order and stamp order never disagree.
        (stamp.encode().as_deref() == Some(text)).then_some(stamp)
    }
}

/// One device's clock.
#[derive(Debug, Clone)]
pub struct Hlc {
    device: Uuid,
    last: HlcTimestamp,
}

impl Hlc {
    pub fn new(device: Uuid) -> Hlc {
        Hlc {
            device,
            last: HlcTimestamp {
                wall_ms: i64::MIN,
                counter: 0,
                device,
            },
        }
    }

    /// Resumes from the last stamp this device issued (kept in its store).
    pub fn resume(last: HlcTimestamp) -> Hlc {
        Hlc {
            device: last.device,
            last,
        }
    }

    /// Resumes `device`'s clock at physical time `now_ms` from the newest stamp its store holds
    /// (its own or pulled), through the same drift check as [`Hlc::observe`]: a stamp from the
    /// future is not adopted (the caller should have passed the newest stamp within
    /// [`HlcTimestamp::horizon`]; one beyond it is ignored here all the same).
    pub fn resume_from(device: Uuid, newest: Option<HlcTimestamp>, now_ms: i64) -> Hlc {
        match newest {
            Some(t) if !t.is_from_the_future(now_ms) => Hlc::resume(HlcTimestamp { device, ..t }),
            _ => Hlc::new(device),
        }
    }

    pub fn last(&self) -> HlcTimestamp {
        self.last
    }

    fn advance(
        &mut self,
        wall_ms: i64,
        counter_floor: Option<u32>,
    ) -> Result<HlcTimestamp, HlcError> {
        let next = match counter_floor {
            None => HlcTimestamp {
                wall_ms,
                counter: 0,
                device: self.device,
            },
            Some(c) => match c.checked_add(1) {
                Some(counter) => HlcTimestamp {
                    wall_ms,
                    counter,
                    device: self.device,
                },
                // The counter is spent within this millisecond: the next one is later still.
                None => HlcTimestamp {
                    wall_ms: wall_ms.checked_add(1).ok_or(HlcError::Exhausted)?,
                    counter: 0,
                    device: self.device,
                },
            },
        };
        self.last = next;
        Ok(next)
    }

    /// Stamps a local event at physical time `now_ms`: later than everything this clock issued
    /// or observed.
    pub fn now(&mut self, now_ms: i64) -> Result<HlcTimestamp, HlcError> {
        if now_ms > self.last.wall_ms {
            self.advance(now_ms, None)
        } else {
            let (wall, counter) = (self.last.wall_ms, self.last.counter);
            self.advance(wall, Some(counter))
        }
    }

    /// Folds in a received stamp; the returned stamp is later than both it and anything before.
    pub fn observe(&mut self, remote: HlcTimestamp, now_ms: i64) -> Result<HlcTimestamp, HlcError> {
        if remote.is_from_the_future(now_ms) {
            return Err(HlcError::TooFarAhead {
                ahead_ms: remote.wall_ms.saturating_sub(now_ms),
            });
        }
        let wall = now_ms.max(self.last.wall_ms).max(remote.wall_ms);
        let floor = match (wall == self.last.wall_ms, wall == remote.wall_ms) {
            (true, true) => Some(self.last.counter.max(remote.counter)),
            (true, false) => Some(self.last.counter),
            (false, true) => Some(remote.counter),
            (false, false) => None,
        };
        self.advance(wall, floor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dev(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn a_clock_behind_still_orders_after_what_it_saw() {
        let mut fast = Hlc::new(dev(1));
        let mut slow = Hlc::new(dev(2));
        let edit = fast.now(10_000).unwrap();
        let seen = slow.observe(edit, 9_000).unwrap();
        assert!(seen > edit);
        let next = slow.now(9_001).unwrap();
        assert!(
            next > seen,
            "the slow clock's next edit wins over the one it saw"
        );
        assert_eq!(next.wall_ms, 10_000);
    }

    #[test]
    fn the_device_breaks_ties_and_far_future_stamps_are_refused() {
        let a = HlcTimestamp {
            wall_ms: 5,
            counter: 0,
            device: dev(1),
        };
        let b = HlcTimestamp {
            wall_ms: 5,
            counter: 0,
            device: dev(2),
        };
        assert!(a < b);
        let mut clock = Hlc::new(dev(3));
        let future = HlcTimestamp {
            wall_ms: 1_000 + MAX_DRIFT_MS + 1,
            counter: 0,
            device: dev(1),
        };
        assert!(matches!(
            clock.observe(future, 1_000),
            Err(HlcError::TooFarAhead { .. })
        ));
        assert_eq!(
            clock.last().wall_ms,
            i64::MIN,
            "a refused stamp changes nothing"
        );
    }

    #[test]
    fn a_spent_counter_carries_into_the_next_millisecond() {
        let full = HlcTimestamp {
            wall_ms: 7,
            counter: u32::MAX,
            device: dev(1),
        };
        let mut clock = Hlc::new(dev(3));
        let seen = clock.observe(full, 7).unwrap();
        assert!(seen > full);
        assert_eq!((seen.wall_ms, seen.counter), (8, 0));
        let mut resumed = Hlc::resume(HlcTimestamp {
            device: dev(3),
            ..full
        });
        let next = resumed.now(5).unwrap();
        assert_eq!((next.wall_ms, next.counter), (8, 0));
    }

    #[test]
    fn a_clock_resumes_past_a_stamp_from_the_future() {
        let now = 1_795_240_800_000;
        // The stamp a stolen terminal once pushed to stop every till.
        let poison = HlcTimestamp::decode(&format!("7fffffffffffffff-ffffffff-{}", dev(66)))
            .expect("a well-formed stamp");
        assert!(poison.is_from_the_future(now));
        let mut clock = Hlc::resume_from(dev(3), Some(poison), now);
        let next = clock.now(now).unwrap();
        assert_eq!((next.wall_ms, next.device), (now, dev(3)));
        // Within the drift bound the newest stamp is adopted, so edits still order after it.
        let near = HlcTimestamp {
            wall_ms: now + MAX_DRIFT_MS,
            counter: 4,
            device: dev(1),
        };
        assert!(!near.is_from_the_future(now) && near <= HlcTimestamp::horizon(now));
        let mut clock = Hlc::resume_from(dev(3), Some(near), now);
        assert!(clock.now(now).unwrap() > near);
        let beyond = HlcTimestamp {
            wall_ms: now + MAX_DRIFT_MS + 1,
            counter: 0,
            device: dev(1),
        };
        assert!(beyond.is_from_the_future(now) && beyond > HlcTimestamp::horizon(now));
    }

    #[test]
    fn the_text_form_round_trips_and_refuses_other_spellings() {
        let t = HlcTimestamp {
            wall_ms: 1_763_700_000_000,
            counter: 7,
            device: dev(0xabc),
        };
        let text = t.encode().unwrap();
        assert_eq!(HlcTimestamp::decode(&text), Some(t));
        assert_eq!(HlcTimestamp::decode(&text.to_uppercase()), None);
        assert_eq!(HlcTimestamp::decode(&text[1..]), None);
        assert_eq!(HlcTimestamp::decode(""), None);
        assert_eq!(HlcTimestamp::decode("zz"), None);
        assert_eq!(HlcTimestamp { wall_ms: -1, ..t }.encode(), None);
    }

    proptest! {
        /// Comparing the text forms compares the stamps: the cloud and SQLite can order
        /// edits by a string column.
        #[test]
        fn text_order_is_stamp_order(a in (0i64..i64::MAX, any::<u32>(), any::<u128>()), b in (0i64..i64::MAX, any::<u32>(), any::<u128>())) {
            let a = HlcTimestamp { wall_ms: a.0, counter: a.1, device: Uuid::from_u128(a.2) };
            let b = HlcTimestamp { wall_ms: b.0, counter: b.1, device: Uuid::from_u128(b.2) };
            let (ta, tb) = (a.encode().unwrap(), b.encode().unwrap());
            prop_assert_eq!(ta.cmp(&tb), a.cmp(&b));
            prop_assert_eq!(HlcTimestamp::decode(&ta), Some(a));
        }

        /// Whatever mix of local events and received stamps, and however the physical clock
        /// jumps (within the drift bound), every stamp a clock issues is strictly later than
        /// the one before and than every stamp it observed.
        #[test]
        fn stamps_only_move_forward(steps in proptest::collection::vec((any::<bool>(), -1000i64..1000, 0u32..3, -1000i64..1000), 1..200)) {
            let mut clock = Hlc::new(dev(9));
            let mut now = 1_000_000i64;
            let mut previous: Option<HlcTimestamp> = None;
            for (local, jump, counter, offset) in steps {
                now += jump;
                let stamp = if local {
                    clock.now(now).unwrap()
                } else {
                    let remote = HlcTimestamp { wall_ms: now + offset, counter, device: dev(1) };
                    let s = clock.observe(remote, now).unwrap();
                    prop_assert!(s > remote);
                    s
                };
                if let Some(p) = previous {
                    prop_assert!(stamp > p);
                }
                prop_assert_eq!(stamp.device, dev(9));
                previous = Some(stamp);
            }
        }

        /// No stamp a clock can be resumed from, nor any it accepts, leaves it unable to stamp
        /// the next local event: writes never fail on a stored or received value.
        #[test]
        fn no_stamp_stops_a_clock(wall in any::<i64>(), counter in any::<u32>(), offset in -10_000i64..10_000, events in 1usize..50) {
            let now = 1_795_240_800_000i64;
            let stored = HlcTimestamp { wall_ms: wall, counter, device: dev(1) };
            let mut clock = Hlc::resume_from(dev(9), Some(stored), now);
            let remote = HlcTimestamp { wall_ms: wall, counter, device: dev(2) };
            let _ = clock.observe(remote, now + offset);
            let mut previous = clock.last();
            for i in 0..events {
                let stamp = clock.now(now + offset + i as i64);
                prop_assert!(stamp.is_ok(), "{:?}", stamp);
                let stamp = stamp.unwrap();
                prop_assert!(stamp > previous);
                // Never further ahead than the drift bound (and this test's own clock jitter):
                // a stamp beyond it was neither adopted nor observed.
                let now_here = now + offset + i as i64;
                prop_assert!(stamp.wall_ms.saturating_sub(now_here) <= MAX_DRIFT_MS + 10_000 + 1);
                previous = stamp;
            }
        }
    }
}
