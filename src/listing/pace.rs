//! Pacing of one enumeration's portal calls: learns the portal's rate limit from its 429 answers and keeps
//! under it, and retries throttled and transiently failed calls a bounded number of times.
//!
//! Why not the SDK's adaptive retry mode (`RetryConfig::adaptive`, a CUBIC client rate limiter as in
//! botocore's `retries/adaptive.py`): it cuts the rate to 0.7x of the measured rate at each throttle and
//! grows back along a cubic curve, so it averages well below the limit (over 1.10x of calls/limit); and it
//! admits through a token bucket of one second's capacity, so the calls it lets out come in bursts, which a
//! sliding-window limiter answers 429. Here the calls are spaced evenly and never more than the learnt
//! limit fall in any second.
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::EnumOptions;
use crate::sso::SsoError;

/// The span over which a portal counts calls (a sliding window, or a bucket of one second's burst).
const WINDOW: Duration = Duration::from_secs(1);
/// Added to the window when spacing the pacer's own sends: a call reaches the server a little after it
/// leaves, and not always equally late.
const MARGIN: Duration = Duration::from_millis(20);
/// The share of the learnt limit the pacer spaces its calls at (the window rule allows at most the limit per
/// 1.02 s, so this keeps a margin of its own).
const HEADROOM: f64 = 0.98;
/// A quiet spell (no 429) after which the limit is probed upwards.
const PROBE_AFTER: Duration = Duration::from_secs(8);
/// The first probe raises the learnt limit by this share of it; each further quiet spell doubles the step
/// (slow near the limit learnt, quick when the limit rose or went away).
const FIRST_STEP: f64 = 0.05;
/// The most one 429 cuts a limit already learnt by.
const CUT: f64 = 0.95;
/// How long after a cut late successes (sent before the 429'd call) still refine the learnt limit.
const REFINE_FOR: Duration = Duration::from_secs(1);

/// Shared by every call of one enumeration. Unpaced (every call goes out at once, up to the concurrency)
/// until the portal first answers 429. Then the limit is taken to be the number of calls the portal admitted
/// in the second before the throttled call was sent, and calls go out evenly spaced at 98% of it, never more
/// than that many in any second (plus a margin), so that the burst that drew the 429 has left the window
/// before the next call is sent. After each quiet spell the limit is probed upwards; a later 429 re-learns
/// it. All methods take the time, so that the behaviour can be checked in virtual time.
pub(super) struct Pacer {
    state: Mutex<State>,
    /// Callers wait for their turn in order, so that only the first in line watches the clock.
    turn: tokio::sync::Mutex<()>,
}

struct State {
    learnt: Option<Learnt>,
    /// Send times of calls not known to be throttled, oldest first (the last two windows).
    sends: VecDeque<Instant>,
    /// Send times of admitted calls (the last few windows), in the order their answers came.
    admitted: VecDeque<Instant>,
    next_slot: Instant,
    sent: u64,
    throttled: u64,
}

struct Learnt {
    /// Admitted calls per second.
    limit: f64,
    /// The limit as the last 429 of this scan measured it (before any probe), if there was one.
    measured: Option<f64>,
    /// The send time of the throttled call the limit was learnt from, and the time of that cut.
    pivot: Instant,
    cut: Instant,
    /// When the limit was last cut or probed, and the next probe's step (a share of the limit).
    changed: Instant,
    step: f64,
}

impl Learnt {
    fn rate(&self) -> f64 {
        (self.limit * HEADROOM).max(0.5)
    }
}

/// What one enumeration's pacer saw, for the log.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct PaceReport {
    pub sent: u64,
    pub throttled: u64,
    /// The limit paced at, in calls per second (learnt, remembered or probed), if any.
    pub limit: Option<f64>,
    /// The limit the last 429 of this scan measured.
    pub measured: Option<f64>,
}

impl Pacer {
    /// A pacer that sends unpaced until the first 429, or, given the limit a recent scan of the same portal
    /// learnt, paces from the first call (and probes from there).
    pub(super) fn new(now: Instant, remembered: Option<f64>) -> Pacer {
        let learnt = remembered
            .filter(|l| l.is_finite() && *l >= 1.0)
            .map(|limit| Learnt {
                limit,
                measured: None,
                pivot: now,
                cut: now,
                changed: now,
                step: FIRST_STEP,
            });
        Pacer {
            state: Mutex::new(State {
                learnt,
                sends: VecDeque::new(),
                admitted: VecDeque::new(),
                next_slot: now,
                sent: 0,
                throttled: 0,
            }),
            turn: tokio::sync::Mutex::new(()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends now (and returns the send time to report the answer with), or says until when to wait; asked
    /// again after the wait, so that a 429 answered meanwhile applies at once. Callers ask one at a time.
    pub(super) fn try_send(&self, now: Instant) -> Result<Instant, Instant> {
        let mut s = self.lock();
        if let Some(l) = &s.learnt {
            let rate = l.rate();
            let mut earliest = s.next_slot;
            // Never more than the limit in one window (plus the margin): after a burst, wait until it has
            // left. Spaced at `rate`, the sends of a window stay below that.
            let n = (l.limit.floor() as usize).max(1);
            if s.sends.len() >= n {
                earliest = earliest.max(s.sends[s.sends.len() - n] + WINDOW + MARGIN);
            }
            if earliest > now {
                return Err(earliest);
            }
            // Evenly spaced on the schedule, not on the timer's late wake-ups (unless far behind it).
            let interval = Duration::from_secs_f64(1.0 / rate);
            s.next_slot = earliest.max(now.checked_sub(interval).unwrap_or(now)) + interval;
        }
        s.sent += 1;
        while s
            .sends
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > 2 * WINDOW)
        {
            s.sends.pop_front();
        }
        s.sends.push_back(now);
        Ok(now)
    }

    /// The call sent at `sent` was answered (not 429).
    pub(super) fn success(&self, sent: Instant, now: Instant) {
        let mut s = self.lock();
        while s
            .admitted
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > 3 * WINDOW)
        {
            s.admitted.pop_front();
        }
        s.admitted.push_back(sent);
        let s = &mut *s;
        let Some(l) = s.learnt.as_mut() else { return };
        // A late answer to a call sent in the window the limit was counted over: count again.
        if now.duration_since(l.cut) < REFINE_FOR
            && sent <= l.pivot + MARGIN
            && l.pivot.saturating_duration_since(sent) < WINDOW
        {
            let n = admitted_before(&s.admitted, l.pivot);
            if n > l.limit {
                l.limit = n;
                l.measured = Some(n);
            }
        }
        if now.duration_since(l.changed) >= PROBE_AFTER {
            l.limit *= 1.0 + l.step;
            l.step *= 2.0;
            l.changed = now;
            tracing::debug!(limit = l.limit, "no 429 for a while: probing a higher rate");
        }
    }

    /// The call sent at `sent` was answered 429 at `now`.
    pub(super) fn throttled(&self, sent: Instant, now: Instant) {
        let mut s = self.lock();
        s.throttled += 1;
        // The portal did not count it: neither does the pacer's own window.
        if let Some(i) = s.sends.iter().rposition(|t| *t == sent) {
            s.sends.remove(i);
        }
        // A call sent before the last cut says nothing about the rate since.
        if s.learnt.as_ref().is_some_and(|l| sent < l.cut) {
            return;
        }
        let counted = admitted_before(&s.admitted, sent).max(1.0);
        // Paced already, a 429 is most often a call that reached the portal a little early or its
        // predecessor late (the window the portal counts is of arrivals): cut by at most 5% per 429, which
        // a limit that really fell compounds quickly.
        let limit = match &s.learnt {
            Some(l) => counted.max(l.limit * CUT),
            None => counted,
        };
        tracing::debug!(limit, "throttled: pacing portal calls");
        s.learnt = Some(Learnt {
            limit,
            measured: Some(limit),
            pivot: sent,
            cut: now,
            changed: now,
            step: FIRST_STEP,
        });
        s.next_slot = s.next_slot.max(now);
    }

    pub(super) fn report(&self) -> PaceReport {
        let s = self.lock();
        PaceReport {
            sent: s.sent,
            throttled: s.throttled,
            limit: s.learnt.as_ref().map(|l| l.limit),
            measured: s.learnt.as_ref().and_then(|l| l.measured),
        }
    }
}

/// Admitted calls sent in the window before `t`, or with it (within the margin: they reached the portal at
/// the same time, in either order).
fn admitted_before(admitted: &VecDeque<Instant>, t: Instant) -> f64 {
    admitted
        .iter()
        .filter(|a| **a <= t + MARGIN && t.saturating_duration_since(**a) < WINDOW)
        .count() as f64
}

fn jitter(max_ms: u64) -> Duration {
    let mut b = [0u8; 2];
    let _ = getrandom::fill(&mut b);
    Duration::from_millis(u64::from(u16::from_le_bytes(b)) % max_ms.max(1))
}

/// Runs one portal call under the pacer, retrying throttles and transient failures a bounded number of times.
pub(super) async fn paced<T, F, Fut>(
    pacer: &Pacer,
    opts: &EnumOptions,
    mut call: F,
) -> Result<T, SsoError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SsoError>>,
{
    let (mut throttled, mut failed) = (0u32, 0u32);
    loop {
        let sent = {
            let _turn = pacer.turn.lock().await;
            loop {
                match pacer.try_send(Instant::now()) {
                    Ok(sent) => break sent,
                    Err(until) => tokio::time::sleep_until(until.into()).await,
                }
            }
        };
        match call().await {
            Ok(v) => {
                pacer.success(sent, Instant::now());
                return Ok(v);
            }
            Err(e @ SsoError::Throttled { .. }) => {
                pacer.throttled(sent, Instant::now());
                throttled += 1;
                if throttled >= opts.max_throttled_attempts {
                    return Err(e);
                }
            }
            Err(e) if e.is_transient() => {
                pacer.success(sent, Instant::now());
                failed += 1;
                if failed >= opts.max_error_attempts {
                    return Err(e);
                }
                let backoff = Duration::from_millis(100 * 2u64.pow(failed)) + jitter(100);
                tracing::debug!(error = %e, ?backoff, "transient failure, retrying");
                tokio::time::sleep(backoff).await;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests;
