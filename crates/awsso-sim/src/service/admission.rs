//! Admission: what happens to every modelled API call before its handler runs. The call counters,
//! the rate limiter behind `rate_limit` (a token bucket or a sliding window, see [`RateLimitKind`]),
//! the injected errors of `error_every` and the configured latency.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::Shared;
use crate::RateLimitKind;
use crate::wire::ApiError;

/// The limiter behind `rate_limit`, of the configured kind.
pub(super) enum Limiter {
    Bucket(Bucket),
    /// The admission times of the last second, oldest first, and the most calls a second admits.
    Window(VecDeque<Instant>, usize),
}

impl Limiter {
    pub(super) fn new(rate: Option<f64>, kind: RateLimitKind) -> Option<Limiter> {
        let rate = rate?;
        match kind {
            RateLimitKind::TokenBucket => Bucket::new(rate).map(Limiter::Bucket),
            RateLimitKind::SlidingWindow => (!rate.is_nan())
                .then(|| Limiter::Window(VecDeque::new(), (rate.floor() as usize).max(1))),
        }
    }

    fn take(&mut self, now: Instant) -> bool {
        match self {
            Limiter::Bucket(b) => b.take(now),
            Limiter::Window(admitted, max) => {
                while admitted
                    .front()
                    .is_some_and(|t| now.saturating_duration_since(*t) >= Duration::from_secs(1))
                {
                    admitted.pop_front();
                }
                if admitted.len() < *max {
                    admitted.push_back(now);
                    true
                } else {
                    false
                }
            }
        }
    }
}

pub(super) struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(rate: f64) -> Option<Self> {
        if rate.is_nan() {
            return None;
        }
        let rate = rate.max(0.0);
        let burst = rate.max(1.0);
        Some(Self {
            rate,
            burst,
            tokens: burst,
            last: Instant::now(),
        })
    }

    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What the server should do with an API call before handling it.
pub(crate) struct Admission {
    pub latency: Duration,
    pub rejection: Option<ApiError>,
}

impl Shared {
    /// Counts `ops` and decides whether the call is throttled or fails by injection.
    /// `faults` is false for routes that only take latency (the /authorize page).
    pub(crate) fn admit(&self, ops: &[&'static str], faults: bool) -> Admission {
        let mut st = self.lock();
        for op in ops {
            *st.counts.entry(op).or_default() += 1;
        }
        let latency = st.config.latency;
        if !faults {
            return Admission {
                latency,
                rejection: None,
            };
        }
        let now = Instant::now();
        if let Some(bucket) = st.bucket.as_mut()
            && !bucket.take(now)
        {
            *st.counts.entry("Throttled").or_default() += 1;
            return Admission {
                latency,
                rejection: Some(ApiError::too_many_requests()),
            };
        }
        // Only admitted calls advance the counter, so "every Nth call fails" stays exact among
        // the calls that actually reached the service.
        st.admitted_calls += 1;
        if let Some(n) = st.config.error_every
            && n > 0
            && st.admitted_calls.is_multiple_of(n)
        {
            *st.counts.entry("InjectedError").or_default() += 1;
            return Admission {
                latency,
                rejection: Some(ApiError::internal()),
            };
        }
        Admission {
            latency,
            rejection: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sliding window admits `rate` calls in any one second, however they are spread; a token bucket
    /// refills continuously, so it admits a call 1/rate s after its burst.
    #[test]
    fn the_two_limiters() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut w = Limiter::new(Some(20.0), RateLimitKind::SlidingWindow).unwrap();
        let mut b = Limiter::new(Some(20.0), RateLimitKind::TokenBucket).unwrap();
        for i in 0..20 {
            assert!(w.take(ms(i * 10)), "window call {i}");
            assert!(b.take(t0), "bucket call {i}");
        }
        assert!(!w.take(ms(200)));
        assert!(!b.take(t0));
        assert!(b.take(ms(60)), "the bucket refilled one token in 50 ms");
        assert!(
            !w.take(ms(999)),
            "the first call is still inside the window"
        );
        assert!(w.take(ms(1000)), "the first call left the window");
        assert!(!w.take(ms(1005)));
        assert!(w.take(ms(1010)));
        // Throttled calls do not count: 20 admitted per second, whatever is refused.
        let mut w = Limiter::new(Some(20.5), RateLimitKind::SlidingWindow).unwrap();
        let admitted = (0..2000).filter(|i| w.take(ms(i * 5))).count();
        assert_eq!(admitted, 200);
        assert!(Limiter::new(None, RateLimitKind::SlidingWindow).is_none());
    }
}
