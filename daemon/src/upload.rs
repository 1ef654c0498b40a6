//! The upload limit (`net.upload_limit`): a token bucket that responses to
//! peers pass through before they are handed to the swarm.
//!
//! A response of `n` bytes takes `n` tokens; the bucket refills at the
//! limit and holds at most one second's worth, so a burst after a quiet
//! spell is at most one second of traffic. When tokens run out the
//! response waits for its share, so over any longer stretch the node
//! uploads at most the limit (plus one response in flight per waiting
//! request).

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A token bucket shared by every upload.
pub struct RateLimit {
    rate: u64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimit {
    /// A limit of `rate` bytes per second (at least 1).
    pub fn new(rate: u64) -> Self {
        let rate = rate.max(1);
        Self {
            rate,
            state: Mutex::new((rate as f64, Instant::now())),
        }
    }

    /// The limit, bytes per second.
    pub fn rate(&self) -> u64 {
        self.rate
    }

    /// Waits until `n` bytes may be sent.
    pub async fn take(&self, n: u64) {
        let wait = {
            let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let rate = self.rate as f64;
            let refill = now.duration_since(g.1).as_secs_f64() * rate;
            g.0 = (g.0 + refill).min(rate);
            g.1 = now;
            // Tokens may go negative: later takers wait for this debt too.
            g.0 -= n as f64;
            if g.0 < 0.0 {
                Duration::from_secs_f64(-g.0 / rate)
            } else {
                Duration::ZERO
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn uploads_are_held_to_the_rate_over_time() {
        let limit = std::sync::Arc::new(RateLimit::new(1 << 20));
        let start = Instant::now();
        // 10 MiB in 1 MiB responses from 4 concurrent senders.
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let l = limit.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..(10 / 4 + 1) {
                    l.take(1 << 20).await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let secs = start.elapsed().as_secs_f64();
        // 12 MiB at 1 MiB/s with a 1 MiB burst: 11 s.
        assert!((10.9..11.2).contains(&secs), "{secs}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_spell_allows_one_second_of_burst_not_more() {
        let limit = RateLimit::new(1000);
        tokio::time::sleep(Duration::from_secs(60)).await;
        let start = Instant::now();
        limit.take(1000).await;
        assert!(start.elapsed() < Duration::from_millis(1));
        limit.take(1000).await;
        assert!(start.elapsed() >= Duration::from_millis(999));
    }
}
