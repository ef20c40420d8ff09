//! Latency percentiles and throughput of one measured run.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// The percentiles every run reports, and the chart plots.
pub const PERCENTILES: [f64; 5] = [50.0, 90.0, 95.0, 99.0, 99.9];

/// What one load run measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Requests answered (any status).
    pub requests: u64,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Connections that failed or were closed under the generator.
    pub transport_errors: u64,
    /// Wall time of the measured part, seconds.
    pub seconds: f64,
    /// Answers per second.
    pub requests_per_sec: f64,
    /// Latency at each of `PERCENTILES`, milliseconds.
    pub percentiles_ms: Vec<(f64, f64)>,
}

impl Summary {
    /// Summarises latencies (in any order) and status counts over `elapsed`.
    pub fn new(
        mut latencies: Vec<Duration>,
        statuses: BTreeMap<u16, u64>,
        transport_errors: u64,
        elapsed: Duration,
    ) -> Self {
        latencies.sort_unstable();
        let seconds = elapsed.as_secs_f64();
        let requests = latencies.len() as u64;
        Self {
            requests,
            statuses,
            transport_errors,
            seconds,
            requests_per_sec: if seconds > 0.0 {
                requests as f64 / seconds
            } else {
                0.0
            },
            percentiles_ms: PERCENTILES
                .iter()
                .map(|&p| (p, percentile(&latencies, p).as_secs_f64() * 1000.0))
                .collect(),
        }
    }

    /// Latency at percentile `p` (one of `PERCENTILES`), milliseconds.
    pub fn ms(&self, p: f64) -> f64 {
        self.percentiles_ms
            .iter()
            .find(|(q, _)| (*q - p).abs() < f64::EPSILON)
            .map_or(f64::NAN, |(_, ms)| *ms)
    }

    /// Answers with status `status`.
    pub fn count(&self, status: u16) -> u64 {
        self.statuses.get(&status).copied().unwrap_or(0)
    }

    /// Answers whose status is not in `expected`.
    pub fn unexpected(&self, expected: &[u16]) -> u64 {
        self.statuses
            .iter()
            .filter(|(status, _)| !expected.contains(status))
            .map(|(_, count)| count)
            .sum()
    }
}

/// The nearest-rank percentile of sorted latencies; zero when there are none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_millis(v)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let sorted = ms(&(1..=100).collect::<Vec<_>>());
        assert_eq!(percentile(&sorted, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&sorted, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&sorted, 99.9), Duration::from_millis(100));
        assert_eq!(percentile(&ms(&[7]), 50.0), Duration::from_millis(7));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn summary_sorts_and_counts() {
        let statuses = BTreeMap::from([(200, 3), (503, 1)]);
        let summary = Summary::new(ms(&[30, 10, 20, 40]), statuses, 0, Duration::from_secs(2));
        assert_eq!(summary.requests, 4);
        assert!((summary.requests_per_sec - 2.0).abs() < 1e-9);
        assert!((summary.ms(50.0) - 20.0).abs() < 1e-9);
        assert!((summary.ms(99.0) - 40.0).abs() < 1e-9);
        assert_eq!(summary.count(503), 1);
        assert_eq!(summary.unexpected(&[200]), 1);
        assert_eq!(summary.unexpected(&[200, 503]), 0);
    }
}
