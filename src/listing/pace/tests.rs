//! The pacer against model rate limiters in virtual time: a scan's calls as awsso issues them (one
//! ListAccounts page, then up to 16 calls at once), each answered after 50 ms (+0–4 ms of arrival jitter).
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::{Duration, Instant};

use super::Pacer;

#[derive(Clone, Copy, Debug)]
enum Kind {
    None,
    Bucket,
    Window,
}

struct Limiter {
    kind: Kind,
    rate: f64,
    tokens: f64,
    last: Duration,
    window: VecDeque<Duration>,
}

impl Limiter {
    fn new(kind: Kind, rate: f64) -> Limiter {
        Limiter {
            kind,
            rate,
            tokens: rate,
            last: Duration::ZERO,
            window: VecDeque::new(),
        }
    }

    /// The simulator's two limiters (crates/awsso-sim), at arrival time `t`.
    fn admit(&mut self, t: Duration) -> bool {
        match self.kind {
            Kind::None => true,
            Kind::Bucket => {
                let dt = t.saturating_sub(self.last).as_secs_f64();
                self.last = self.last.max(t);
                self.tokens = (self.tokens + dt * self.rate).min(self.rate);
                let ok = self.tokens >= 1.0;
                if ok {
                    self.tokens -= 1.0;
                }
                ok
            }
            Kind::Window => {
                while self
                    .window
                    .front()
                    .is_some_and(|a| t.saturating_sub(*a) >= Duration::from_secs(1))
                {
                    self.window.pop_front();
                }
                let ok = self.window.len() < self.rate as usize;
                if ok {
                    self.window.push_back(t);
                }
                ok
            }
        }
    }
}

struct Outcome {
    elapsed: Duration,
    admitted: u64,
    throttled: u64,
    /// Calls the pacer held back while the portal had not throttled.
    delayed_unthrottled: u64,
}

impl Outcome {
    fn share_throttled(&self) -> f64 {
        self.throttled as f64 / (self.admitted + self.throttled) as f64
    }
    fn over_bound(&self, rate: f64) -> f64 {
        self.elapsed.as_secs_f64() / (self.admitted as f64 / rate)
    }
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// The first caller in line wakes up to send.
    Wake,
    Answer {
        sent: Duration,
        ok: bool,
    },
}

/// A scan of `calls` calls with `concurrency` in flight against `limiter`, the callers taking turns at the
/// pacer as `paced` makes them.
fn scan(calls: u64, concurrency: u64, mut limiter: Limiter, remembered: Option<f64>) -> Outcome {
    let base = Instant::now();
    let latency = Duration::from_millis(50);
    let pacer = Pacer::new(base, remembered);
    let mut queue: BinaryHeap<Reverse<(Duration, u64, Event)>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut rng = 0x2545_f491_u64;
    let mut jitter = move || {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Duration::from_micros((rng >> 33) % 4000)
    };
    let mut push = |q: &mut BinaryHeap<_>, t: Duration, e: Event| {
        seq += 1;
        q.push(Reverse((t, seq, e)));
    };
    let (mut started, mut admitted, mut throttled, mut delayed) = (0u64, 0u64, 0u64, 0u64);
    let trace = std::env::var_os("PACE_TRACE").is_some();
    // Callers in line for the pacer, and whether the first of them sleeps until a Wake.
    let (mut waiting, mut asleep) = (1u64, false);
    started += 1;
    let mut end = Duration::ZERO;
    let mut now = Duration::ZERO;
    loop {
        while waiting > 0 && !asleep {
            match pacer.try_send(base + now) {
                Ok(sent) => {
                    assert_eq!(sent, base + now);
                    waiting -= 1;
                    let ok = limiter.admit(now + jitter());
                    push(&mut queue, now + latency, Event::Answer { sent: now, ok });
                }
                Err(until) => {
                    if throttled == 0 && remembered.is_none() {
                        delayed += 1;
                    }
                    asleep = true;
                    push(&mut queue, until - base, Event::Wake);
                }
            }
        }
        let Some(Reverse((t, _, event))) = queue.pop() else {
            break;
        };
        now = t;
        match event {
            Event::Wake => asleep = false,
            Event::Answer { sent, ok: false } => {
                throttled += 1;
                if trace {
                    eprintln!(
                        "429 sent {sent:?} answered {now:?} limit {:?}",
                        pacer.report().limit
                    );
                }
                pacer.throttled(base + sent, base + now);
                waiting += 1;
            }
            Event::Answer { sent, ok: true } => {
                pacer.success(base + sent, base + now);
                admitted += 1;
                end = now;
                // The first ListAccounts page alone, then the rest `concurrency` at a time.
                let free = if admitted == 1 { concurrency } else { 1 };
                for _ in 0..free {
                    if started < calls {
                        started += 1;
                        waiting += 1;
                    }
                }
            }
        }
    }
    let report = pacer.report();
    assert_eq!(report.throttled, throttled);
    assert_eq!(report.sent, admitted + throttled);
    assert_eq!(admitted, calls);
    Outcome {
        elapsed: end,
        admitted,
        throttled,
        delayed_unthrottled: delayed,
    }
}

#[test]
fn an_unthrottled_scan_is_never_held_back() {
    let o = scan(2020, 16, Limiter::new(Kind::None, 0.0), None);
    assert_eq!(o.throttled, 0);
    assert_eq!(o.delayed_unthrottled, 0);
    // One page, then 2,019 calls 16 at a time, 50 ms each.
    assert_eq!(
        o.elapsed,
        Duration::from_millis(50 * (1 + 2019u64.div_ceil(16)))
    );
}

fn check(kind: Kind, calls: u64, remembered: Option<f64>, max_share: f64, max_ratio: f64) {
    let o = scan(calls, 16, Limiter::new(kind, 20.0), remembered);
    let (share, ratio) = (o.share_throttled(), o.over_bound(20.0));
    eprintln!(
        "{kind:?} {calls} calls, remembered {remembered:?}: {} throttled ({:.1}%), {:.2}x of calls/20",
        o.throttled,
        100.0 * share,
        ratio
    );
    if remembered.is_none() {
        assert!(o.throttled > 0, "the limit never bit");
    }
    assert!(
        share < max_share,
        "{kind:?}: {:.1}% throttled",
        100.0 * share
    );
    assert!(ratio <= max_ratio, "{kind:?}: {ratio:.3}x of calls/20");
}

#[test]
fn a_token_bucket_is_followed_closely() {
    check(Kind::Bucket, 2020, None, 0.02, 1.10);
}

#[test]
fn a_sliding_window_is_followed_closely() {
    check(Kind::Window, 2020, None, 0.02, 1.10);
}

/// A short scan that starts unpaced pays for the burst that first meets the limit: the calls in flight
/// then (up to the concurrency, less what the limiter still had room for) are answered 429.
#[test]
fn a_short_scan_pays_only_for_the_first_burst() {
    check(Kind::Bucket, 404, None, 0.05, 1.10);
    check(Kind::Window, 404, None, 0.05, 1.10);
}

/// Paced from the first call at a limit an earlier scan learnt: no burst, hardly a 429, even when the
/// limit remembered is a little high (a token bucket's burst counted in). One too low (the portal's limit
/// rose) costs time, not 429s, until the probes find the new limit.
#[test]
fn a_remembered_limit_spares_the_first_burst() {
    for remembered in [20.0, 21.0] {
        check(Kind::Bucket, 404, Some(remembered), 0.02, 1.10);
        check(Kind::Window, 404, Some(remembered), 0.02, 1.10);
    }
    for kind in [Kind::Bucket, Kind::Window] {
        let o = scan(404, 16, Limiter::new(kind, 20.0), Some(15.0));
        assert_eq!(o.throttled, 0, "{kind:?}");
        assert!(o.over_bound(15.0) < 1.0, "{kind:?}: never above 15 calls/s");
    }
}

/// A remembered limit that the portal no longer enforces is probed away: the scan speeds up.
#[test]
fn a_remembered_limit_that_went_away_is_outgrown() {
    let o = scan(2020, 16, Limiter::new(Kind::None, 0.0), Some(20.0));
    assert_eq!(o.throttled, 0);
    // At 20 calls/s it would take 101 s.
    assert!(o.elapsed < Duration::from_secs(70), "{:?}", o.elapsed);
}
