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
/// A quiet spell (no 429) after which the limit is probed upwards. Each probe that draws a 429 doubles the
/// spell, up to `PROBE_AFTER_MAX`: a limit found again and again is not knocked at every few seconds.
const PROBE_AFTER: Duration = Duration::from_secs(8);
const PROBE_AFTER_MAX: Duration = Duration::from_secs(64);
/// The first probe raises the learnt limit by this share of it; each further quiet spell doubles the step
/// (slow near the limit learnt, quick when the limit rose or went away).
const FIRST_STEP: f64 = 0.05;
/// The most one 429 cuts a limit already learnt by.
const CUT: f64 = 0.95;
/// How long after a cut late successes (sent before the 429'd call) still refine the learnt limit.
const REFINE_FOR: Duration = Duration::from_secs(1);
/// Before the first 429 of a scan with no limit remembered, calls go out in waves: a wave is sent once the
/// last one has wholly landed, and holds at most `RAMP_SHARE` of the calls the portal admitted in the last
/// window, or `RAMP_FLOOR` if that is more. The ramp ends for good once a wave may hold the concurrency.
///
/// Why: unpaced, the first 429 comes back while a whole concurrency's worth of calls is in flight behind it,
/// and as the answers ahead of it land they let out another round before the 429 itself is read. Against 20
/// calls/s, both rounds are answered 429: 15 of a 400-account scan's 404 calls (3.7%). In waves, only the
/// calls of the wave that crosses the limit can be, at most 8 at 20 calls/s (in the virtual-time model: 2
/// with a token bucket, 5 with a sliding window). What it costs an unthrottled scan: its first three waves
/// are half the concurrency, one round trip in the model, 80-100 ms against 50 ms round trips in
/// `scripts/bench-enumerate.sh`; and only the first scan of a day pays it (see `Memory::Unthrottled`).
const RAMP_FLOOR: usize = 8;
const RAMP_SHARE: f64 = 0.5;

/// Shared by every call of one enumeration. Ramped (waves growing to the concurrency, see `RAMP_FLOOR`)
/// until the portal first answers 429. Then the limit is taken to be the number of calls the portal admitted
/// in the second before the throttled call was sent, and calls go out evenly spaced at 98% of it, never more
/// than that many in any second (plus a margin), so that the burst that drew the 429 has left the window
/// before the next call is sent. After each quiet spell the limit is probed upwards; a later 429 re-learns
/// it. All methods take the time, so that the behaviour can be checked in virtual time.
pub(super) struct Pacer {
    state: Mutex<State>,
    /// Callers wait for their turn in order, so that only the first in line watches the clock.
    turn: tokio::sync::Mutex<()>,
    /// Rung when a call in flight lands, for a caller held back by the ramp.
    landed: tokio::sync::Notify,
}

/// Why a caller must wait before sending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Wait {
    /// Until this time (the pacer's spacing).
    Until(Instant),
    /// Until a call in flight lands (the ramp before the first 429).
    Landing,
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
    /// Calls sent and not yet landed (answered, failed or given up).
    in_flight: usize,
    /// `None` once the ramp has ended (or never began: a limit was remembered).
    ramp: Option<Ramp>,
    /// The calls admitted in the window that ended the ramp, if this scan's own calls ended it.
    ramp_ended_at: Option<usize>,
}

/// The ramp before the first 429: calls go out in waves, each sent once the last has wholly landed, and
/// each up to `RAMP_SHARE` of the calls admitted in the last window (at least `RAMP_FLOOR`).
#[derive(Clone, Copy)]
struct Ramp {
    /// The concurrency: a wave allowed that many ends the ramp.
    to: usize,
    /// Calls admitted in one window by a recent unthrottled scan: counted as if admitted in this one.
    seed: usize,
    /// Calls the current wave may send, and has sent.
    allowed: usize,
    wave: usize,
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
    /// The quiet spell before the next probe, and whether the limit is a probe's (above what was measured).
    quiet: Duration,
    probed: bool,
}

impl Learnt {
    fn rate(&self) -> f64 {
        (self.limit * HEADROOM).max(0.5)
    }
}

/// What a recent scan of the same portal learnt (`listings/*.pace`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Memory {
    Nothing,
    /// The portal's limit, in admitted calls per second: paced from the first call.
    Limit(f64),
    /// A scan met no 429 with this many calls admitted in one window: the ramp starts from there (and is
    /// skipped when that allows the whole concurrency).
    Unthrottled(f64),
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
    /// The calls admitted in the window that ended this scan's ramp, if they (not a seed) ended it and no
    /// 429 came.
    pub unthrottled: Option<f64>,
}

impl Pacer {
    /// A pacer that ramps up to `concurrency` calls in flight until the first 429, or, given the limit a
    /// recent scan of the same portal learnt, paces from the first call (and probes from there).
    pub(super) fn new(now: Instant, memory: Memory, concurrency: usize) -> Pacer {
        let (remembered, seed) = match memory {
            Memory::Limit(l) => (Some(l), 0),
            Memory::Unthrottled(n) if n.is_finite() && n >= 0.0 => (None, n as usize),
            _ => (None, 0),
        };
        let learnt = remembered
            .filter(|l| l.is_finite() && *l >= 1.0)
            .map(|limit| Learnt {
                limit,
                measured: None,
                pivot: now,
                cut: now,
                changed: now,
                step: FIRST_STEP,
                quiet: PROBE_AFTER,
                probed: false,
            });
        let ramp = learnt.is_none().then_some(Ramp {
            to: concurrency.max(1),
            seed,
            allowed: 0,
            wave: 0,
        });
        Pacer {
            state: Mutex::new(State {
                learnt,
                sends: VecDeque::new(),
                admitted: VecDeque::new(),
                next_slot: now,
                sent: 0,
                throttled: 0,
                in_flight: 0,
                ramp,
                ramp_ended_at: None,
            }),
            turn: tokio::sync::Mutex::new(()),
            landed: tokio::sync::Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends now (and returns the send time to report the answer with, and to `landed` once it has landed),
    /// or says how long to wait; asked again after the wait, so that a 429 answered meanwhile applies at
    /// once. Callers ask one at a time.
    pub(super) fn try_send(&self, now: Instant) -> Result<Instant, Wait> {
        let mut s = self.lock();
        if let Some(mut ramp) = s.ramp {
            if s.in_flight == 0 {
                // The last wave has landed without a 429: the next may be larger.
                let own = admitted_before(&s.admitted, now) as usize;
                let wave = |n: usize| RAMP_FLOOR.max((n as f64 * RAMP_SHARE) as usize);
                ramp.allowed = wave(own.max(ramp.seed));
                ramp.wave = 0;
                // Only a ramp this scan climbed itself is worth remembering: a seed is not renewed
                // unproven, so it lapses with the memory it came from.
                if wave(own) >= ramp.to {
                    s.ramp_ended_at = Some(own);
                }
            }
            if ramp.allowed >= ramp.to {
                s.ramp = None;
            } else if ramp.wave >= ramp.allowed {
                return Err(Wait::Landing);
            } else {
                ramp.wave += 1;
                s.ramp = Some(ramp);
            }
        }
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
                return Err(Wait::Until(earliest));
            }
            // Evenly spaced on the schedule, not on the timer's late wake-ups (unless far behind it).
            let interval = Duration::from_secs_f64(1.0 / rate);
            s.next_slot = earliest.max(now.checked_sub(interval).unwrap_or(now)) + interval;
        }
        s.sent += 1;
        s.in_flight += 1;
        forget_before(&mut s.sends, now, 2 * WINDOW);
        s.sends.push_back(now);
        Ok(now)
    }

    /// A call sent has landed: answered (either way), failed or dropped. Its answer, if any, is reported
    /// first.
    pub(super) fn landed(&self) {
        let mut s = self.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        drop(s);
        // A permit is kept if nobody waits yet, so a landing between `try_send` and the wait is not lost.
        self.landed.notify_one();
    }

    /// The call sent at `sent` was answered (not 429).
    pub(super) fn success(&self, sent: Instant, now: Instant) {
        let mut s = self.lock();
        forget_before(&mut s.admitted, now, 3 * WINDOW);
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
        if now.duration_since(l.changed) >= l.quiet {
            l.limit *= 1.0 + l.step;
            l.step *= 2.0;
            l.changed = now;
            l.probed = true;
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
        let quiet = match &s.learnt {
            Some(l) if l.probed => (l.quiet * 2).min(PROBE_AFTER_MAX),
            Some(l) => l.quiet,
            None => PROBE_AFTER,
        };
        tracing::debug!(limit, "throttled: pacing portal calls");
        // Paced from now on: the spacing keeps the calls in flight down.
        s.ramp = None;
        s.learnt = Some(Learnt {
            limit,
            measured: Some(limit),
            pivot: sent,
            cut: now,
            changed: now,
            step: FIRST_STEP,
            quiet,
            probed: false,
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
            unthrottled: s
                .ramp_ended_at
                .filter(|_| s.throttled == 0)
                .map(|n| n as f64),
        }
    }
}

/// Tells the pacer that a call has landed when dropped.
struct Landing<'a>(&'a Pacer);

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        self.0.landed();
    }
}

/// Drops the times, oldest first, that lie more than `horizon` before `now`.
fn forget_before(times: &mut VecDeque<Instant>, now: Instant, horizon: Duration) {
    while times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) > horizon)
    {
        times.pop_front();
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
                    Err(Wait::Until(until)) => tokio::time::sleep_until(until.into()).await,
                    Err(Wait::Landing) => pacer.landed.notified().await,
                }
            }
        };
        // Lands once its answer is reported, or when this future is dropped with the call in flight (an
        // aborted scan).
        let landing = Landing(pacer);
        match call().await {
            Ok(v) => {
                pacer.success(sent, Instant::now());
                return Ok(v);
            }
            Err(e @ SsoError::Throttled { .. }) => {
                pacer.throttled(sent, Instant::now());
                drop(landing);
                throttled += 1;
                if throttled >= opts.max_throttled_attempts {
                    return Err(e);
                }
            }
            Err(e) if e.is_transient() => {
                pacer.success(sent, Instant::now());
                drop(landing);
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
