//! The runners' own summaries, read back: `cargo xtask test` ends with one line counting passed,
//! failed and skipped tests, with the reasons for the skips. The counts are the runners' (never
//! re-counted here); the reasons come from the runner's own list of skipped tests.

use std::collections::BTreeMap;
use std::fmt;

/// Tests by result, as a runner reported them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) passed: u64,
    /// Failed, timed out, or could not be started.
    pub(crate) failed: u64,
    /// Not run on purpose: filtered out, or ignored.
    pub(crate) skipped: u64,
    /// Not run because the run stopped at a failure (nextest without `--no-fail-fast`).
    pub(crate) cancelled: u64,
}

impl Counts {
    pub(crate) fn add(&mut self, other: Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.cancelled += other.cancelled;
    }
}

/// Skipped tests by reason, e.g. `postgres unavailable` → 9.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct SkipReasons(BTreeMap<String, u64>);

impl SkipReasons {
    /// One skipped test that needs the missing dependencies `missing` (none: the user's filter
    /// left it out).
    pub(crate) fn add(&mut self, missing: &[&str]) {
        let reason = if missing.is_empty() {
            "not selected".to_owned()
        } else {
            format!("{} unavailable", missing.join(" and "))
        };
        *self.0.entry(reason).or_default() += 1;
    }

    fn total(&self) -> u64 {
        self.0.values().sum()
    }
}

/// The closing line: `tests: 412 passed, 0 failed, 9 skipped (postgres unavailable: 9)`.
///
/// `missing` names the dependencies found missing; it explains skips the runner did not list
/// one by one (libtest only counts what it filtered out).
pub(crate) struct Closing<'a> {
    pub(crate) counts: Counts,
    pub(crate) reasons: &'a SkipReasons,
    pub(crate) missing: &'a [&'a str],
}

impl fmt::Display for Closing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.counts;
        write!(
            f,
            "tests: {} passed, {} failed, {} skipped",
            c.passed, c.failed, c.skipped
        )?;
        let mut why: Vec<String> = self
            .reasons
            .0
            .iter()
            .map(|(reason, n)| format!("{reason}: {n}"))
            .collect();
        let unlisted = c.skipped.saturating_sub(self.reasons.total());
        if unlisted > 0 {
            why.push(match self.missing {
                [] => format!("filtered out: {unlisted}"),
                missing => format!(
                    "{} unavailable, or filtered out: {unlisted}",
                    missing.join(", ")
                ),
            });
        }
        if !why.is_empty() {
            write!(f, " ({})", why.join(", "))?;
        }
        if c.cancelled > 0 {
            write!(f, ", {} not run after a failure", c.cancelled)?;
        }
        Ok(())
    }
}

/// nextest's closing line, e.g. `Summary [   3.2s] 24 tests run: 22 passed (1 flaky), 2 failed,
/// 9 skipped`, or `10/24 tests run: …` when the run stopped at a failure.
pub(crate) fn nextest_summary(line: &str) -> Option<Counts> {
    let line = line.trim_start();
    let rest = line.strip_prefix("Summary [")?;
    let (_, rest) = rest.split_once(']')?;
    let (run, results) = rest
        .split_once("tests run:")
        .or_else(|| rest.split_once("test run:"))?;
    let mut counts = Counts::default();
    if let Some((done, planned)) = run.trim().split_once('/') {
        if let (Ok(done), Ok(planned)) = (done.parse::<u64>(), planned.parse::<u64>()) {
            counts.cancelled = planned.saturating_sub(done);
        }
    }
    for part in results.split(',') {
        // "22 passed (1 flaky)": the parenthesis qualifies, it is not another count.
        let part = part.split('(').next().unwrap_or_default().trim();
        let Some((n, what)) = part.split_once(' ') else {
            continue;
        };
        let Ok(n) = n.parse::<u64>() else { continue };
        match what.trim() {
            "passed" => counts.passed += n,
            "skipped" => counts.skipped += n,
            "failed" | "timed out" | "exec failed" | "exec fail" => counts.failed += n,
            _ => {}
        }
    }
    Some(counts)
}

/// The test name of a nextest `SKIP` status line (`SKIP [ ] (─────) <binary-id> <test name>`).
pub(crate) fn nextest_skipped(line: &str) -> Option<&str> {
    let mut words = line.split_whitespace();
    if words.next()? != "SKIP" {
        return None;
    }
    words.last()
}

/// libtest's line per test binary: `test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured;
/// 5 filtered out; finished in 0.01s`.
pub(crate) fn libtest_result(line: &str) -> Option<Counts> {
    let rest = line.trim_start().strip_prefix("test result: ")?;
    let (_, rest) = rest.split_once(". ")?;
    let mut counts = Counts::default();
    for part in rest.split(';') {
        let Some((n, what)) = part.trim().split_once(' ') else {
            continue;
        };
        let Ok(n) = n.parse::<u64>() else { continue };
        match what {
            "passed" => counts.passed += n,
            "failed" => counts.failed += n,
            "ignored" | "filtered out" => counts.skipped += n,
            _ => {}
        }
    }
    Some(counts)
}

/// `text` without ANSI escape sequences (colours), for reading a runner's coloured output.
pub(crate) fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        // CSI: ESC [ parameters… final byte in @..~
        if chars.next() == Some('[') {
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nextest_summaries() {
        assert_eq!(
            nextest_summary("     Summary [   0.133s] 24 tests run: 24 passed, 9 skipped"),
            Some(Counts {
                passed: 24,
                skipped: 9,
                ..Counts::default()
            })
        );
        assert_eq!(
            nextest_summary(
                "     Summary [  12.002s] 30 tests run: 27 passed (1 flaky), 2 failed, 1 timed out, 4 skipped"
            ),
            Some(Counts {
                passed: 27,
                failed: 3,
                skipped: 4,
                cancelled: 0
            })
        );
        assert_eq!(
            nextest_summary(
                "     Summary [   1.000s] 10/24 tests run: 9 passed, 1 failed, 3 skipped"
            ),
            Some(Counts {
                passed: 9,
                failed: 1,
                skipped: 3,
                cancelled: 14
            })
        );
        assert_eq!(
            nextest_summary("     Summary [   0.010s] 1 test run: 1 passed, 0 skipped"),
            Some(Counts {
                passed: 1,
                ..Counts::default()
            })
        );
        assert_eq!(nextest_summary("        PASS [   0.006s] a b"), None);
    }

    #[test]
    fn nextest_skip_lines() {
        assert_eq!(
            nextest_skipped(
                "        SKIP [         ] (─────) order-service::api postgres::needs_postgres::charged"
            ),
            Some("postgres::needs_postgres::charged")
        );
        assert_eq!(
            nextest_skipped("        PASS [   0.006s] ( 6/24) contract a::b"),
            None
        );
    }

    #[test]
    fn libtest_results() {
        assert_eq!(
            libtest_result(
                "test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 5 filtered out; finished in 0.01s"
            ),
            Some(Counts {
                passed: 3,
                skipped: 6,
                ..Counts::default()
            })
        );
        assert_eq!(
            libtest_result(
                "test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.20s"
            )
            .map(|c| c.failed),
            Some(2)
        );
        assert_eq!(libtest_result("running 3 tests"), None);
    }

    #[test]
    fn closing_line_names_the_reasons() {
        let mut reasons = SkipReasons::default();
        for _ in 0..7 {
            reasons.add(&["postgres"]);
        }
        reasons.add(&["postgres", "redis"]);
        let counts = Counts {
            passed: 412,
            failed: 0,
            skipped: 8,
            cancelled: 0,
        };
        assert_eq!(
            Closing {
                counts,
                reasons: &reasons,
                missing: &["postgres", "redis"]
            }
            .to_string(),
            "tests: 412 passed, 0 failed, 8 skipped (postgres and redis unavailable: 1, postgres unavailable: 7)"
        );
        let none = SkipReasons::default();
        assert_eq!(
            Closing {
                counts: Counts {
                    skipped: 0,
                    ..counts
                },
                reasons: &none,
                missing: &[]
            }
            .to_string(),
            "tests: 412 passed, 0 failed, 0 skipped"
        );
        assert_eq!(
            Closing {
                counts: Counts {
                    failed: 1,
                    skipped: 3,
                    cancelled: 2,
                    ..counts
                },
                reasons: &none,
                missing: &["redis"]
            }
            .to_string(),
            "tests: 412 passed, 1 failed, 3 skipped (redis unavailable, or filtered out: 3), 2 not run after a failure"
        );
    }

    #[test]
    fn colours_are_stripped() {
        assert_eq!(
            strip_ansi("\u{1b}[32;1m     Summary\u{1b}[0m [ 0.1s]"),
            "     Summary [ 0.1s]"
        );
        assert_eq!(strip_ansi("plain ─ text"), "plain ─ text");
    }
}
