//! Check statuses and Consul's consecutive-result thresholds (`StatusHandler`).
//!
//! Pure: no clock, no IO. The runner feeds every probe result in and reports only what
//! comes out.

use std::fmt;

/// A check's health status. `maintenance` and `any` are API-level aggregates, not check
/// results, so they are not here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Passing,
    Warning,
    Critical,
}

impl Status {
    /// The API spelling (`"passing"`, `"warning"`, `"critical"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passing => "passing",
            Status::Warning => "warning",
            Status::Critical => "critical",
        }
    }

    /// Parses the API spelling; anything else is `None`.
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "passing" => Some(Status::Passing),
            "warning" => Some(Status::Warning),
            "critical" => Some(Status::Critical),
            _ => None,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The three threshold fields of a check definition (0 = report at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Thresholds {
    pub success_before_passing: u32,
    pub failures_before_warning: u32,
    pub failures_before_critical: u32,
}

/// Tracks consecutive successes and failures and decides which results are reported.
///
/// Consul's rules (agent/checks `StatusHandler` + the agent's defaulting):
/// - passing and warning results count as successes: they reset the failure counter and
///   are reported unchanged once `success_before_passing` consecutive successes are seen;
/// - critical results count as failures: they reset the success counter; at
///   `failures_before_critical` consecutive failures the result is reported as critical,
///   else at `failures_before_warning` it is reported as *warning* (same output);
/// - `failures_before_warning` = 0 means "same as `failures_before_critical`";
/// - both counters start at their thresholds, so the very first result is reported
///   immediately whatever it is (a new check does not sit in its initial state).
///
/// Below a threshold nothing is reported and the previous status stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusHandler {
    success_before_passing: u32,
    failures_before_warning: u32,
    failures_before_critical: u32,
    success_counter: u32,
    failures_counter: u32,
}

impl StatusHandler {
    pub fn new(t: Thresholds) -> Self {
        let failures_before_warning = if t.failures_before_warning == 0 {
            t.failures_before_critical
        } else {
            t.failures_before_warning
        };
        StatusHandler {
            success_before_passing: t.success_before_passing,
            failures_before_warning,
            failures_before_critical: t.failures_before_critical,
            success_counter: t.success_before_passing,
            failures_counter: t.failures_before_critical,
        }
    }

    /// Feeds one probe result; returns the status to report, or `None` when a threshold
    /// has not been reached yet.
    pub fn observe(&mut self, status: Status) -> Option<Status> {
        match status {
            Status::Passing | Status::Warning => {
                // Saturating: a check that passes for years must not overflow.
                self.success_counter = self.success_counter.saturating_add(1);
                self.failures_counter = 0;
                (self.success_counter >= self.success_before_passing).then_some(status)
            }
            Status::Critical => {
                self.failures_counter = self.failures_counter.saturating_add(1);
                self.success_counter = 0;
                if self.failures_counter >= self.failures_before_critical {
                    Some(Status::Critical)
                } else if self.failures_counter >= self.failures_before_warning {
                    Some(Status::Warning)
                } else {
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Status::*;
    use super::*;

    fn handler(sbp: u32, fbw: u32, fbc: u32) -> StatusHandler {
        StatusHandler::new(Thresholds {
            success_before_passing: sbp,
            failures_before_warning: fbw,
            failures_before_critical: fbc,
        })
    }

    fn feed(h: &mut StatusHandler, seq: &[Status]) -> Vec<Option<Status>> {
        seq.iter().map(|s| h.observe(*s)).collect()
    }

    #[test]
    fn zero_thresholds_report_everything_as_is() {
        let mut h = handler(0, 0, 0);
        let seq = [Passing, Critical, Warning, Critical, Passing];
        let out = feed(&mut h, &seq);
        assert_eq!(out, seq.iter().map(|s| Some(*s)).collect::<Vec<_>>());
    }

    #[test]
    fn first_result_is_reported_immediately() {
        for first in [Passing, Warning, Critical] {
            let mut h = handler(3, 2, 4);
            assert_eq!(h.observe(first), Some(first), "first {first}");
        }
    }

    #[test]
    fn success_before_passing_needs_consecutive_successes_after_a_failure() {
        let mut h = handler(3, 0, 0);
        let out = feed(&mut h, &[Critical, Passing, Passing, Passing, Passing]);
        assert_eq!(
            out,
            vec![Some(Critical), None, None, Some(Passing), Some(Passing)]
        );
        // A failure in the middle restarts the count.
        let out = feed(
            &mut h,
            &[Critical, Passing, Critical, Passing, Passing, Passing],
        );
        assert_eq!(
            out,
            vec![
                Some(Critical),
                None,
                Some(Critical),
                None,
                None,
                Some(Passing)
            ]
        );
    }

    #[test]
    fn warning_counts_as_success_and_keeps_its_status() {
        let mut h = handler(2, 0, 0);
        let out = feed(&mut h, &[Critical, Warning, Passing, Warning]);
        assert_eq!(
            out,
            vec![Some(Critical), None, Some(Passing), Some(Warning)]
        );
    }

    #[test]
    fn failures_before_critical_alone() {
        let mut h = handler(0, 0, 3);
        // Warning threshold defaults to the critical one: nothing until the third failure.
        let out = feed(&mut h, &[Passing, Critical, Critical, Critical, Critical]);
        assert_eq!(
            out,
            vec![Some(Passing), None, None, Some(Critical), Some(Critical)]
        );
    }

    #[test]
    fn failures_before_warning_then_critical() {
        let mut h = handler(0, 1, 3);
        let out = feed(&mut h, &[Passing, Critical, Critical, Critical, Passing]);
        assert_eq!(
            out,
            vec![
                Some(Passing),
                Some(Warning),
                Some(Warning),
                Some(Critical),
                Some(Passing)
            ]
        );
    }

    #[test]
    fn success_resets_failure_count() {
        let mut h = handler(0, 2, 3);
        let out = feed(
            &mut h,
            &[Passing, Critical, Passing, Critical, Critical, Critical],
        );
        assert_eq!(
            out,
            vec![
                Some(Passing),
                None,
                Some(Passing),
                None,
                Some(Warning),
                Some(Critical)
            ]
        );
    }

    #[test]
    fn warning_threshold_above_critical_is_shadowed() {
        let mut h = handler(0, 5, 2);
        let out = feed(&mut h, &[Passing, Critical, Critical]);
        assert_eq!(out, vec![Some(Passing), None, Some(Critical)]);
    }

    /// Exhaustive cross-check against a direct model of the rules over every sequence of
    /// length 6 and small thresholds.
    #[test]
    fn exhaustive_against_model() {
        let all = [Passing, Warning, Critical];
        for sbp in 0..4 {
            for fbw in 0..4 {
                for fbc in 0..4 {
                    for code in 0..3usize.pow(6) {
                        let seq: Vec<Status> =
                            (0..6).map(|i| all[(code / 3usize.pow(i)) % 3]).collect();
                        let mut h = handler(sbp, fbw, fbc);
                        let got = feed(&mut h, &seq);
                        assert_eq!(got, model(sbp, fbw, fbc, &seq), "{sbp} {fbw} {fbc} {seq:?}");
                    }
                }
            }
        }
    }

    fn model(sbp: u32, fbw: u32, fbc: u32, seq: &[Status]) -> Vec<Option<Status>> {
        let fbw = if fbw == 0 { fbc } else { fbw };
        let mut out = Vec::new();
        for (i, s) in seq.iter().enumerate() {
            // Length of the run of same-kind results ending at i; the first run counts
            // as already at threshold (counters start there).
            let ok = |x: &Status| *x != Critical;
            let run = seq[..=i]
                .iter()
                .rev()
                .take_while(|x| ok(x) == ok(s))
                .count() as u32;
            let starts_at_beginning = run as usize == i + 1;
            let r = if ok(s) {
                let n = if starts_at_beginning { sbp + run } else { run };
                (n >= sbp).then_some(*s)
            } else {
                let n = if starts_at_beginning { fbc + run } else { run };
                if n >= fbc {
                    Some(Critical)
                } else if n >= fbw {
                    Some(Warning)
                } else {
                    None
                }
            };
            out.push(r);
        }
        out
    }
}
