//! The fault schedule: which fault starts when, and for how long. Pure: the run executes it
//! ([`crate::faults`]), the tests read it.
//!
//! One *cycle* injects every fault once, in a fixed order with quiet stretches between them, so
//! each 5xx can be traced to one fault; a run is as many whole cycles as fit its duration
//! (`--quick`: one).

use std::time::Duration;

/// One kind of trouble the soak injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// The OTLP receiver stopped, then started again on the same port.
    CollectorDown,
    /// The soak's own `redis-server` stopped, then started again (empty: no persistence).
    RedisRestart,
    /// Every backend connected to the order database terminated (`pg_terminate_backend`).
    PostgresTerminate,
    /// Every charge slowed past order-service's PAYMENT_TIMEOUT (`latency_ms`).
    GatewayLatency,
    /// A share of charges answered 503 by the gateway (`error_rate`).
    GatewayErrors,
    /// A share of charges stored but never answered in time (`timeout_rate`).
    GatewayTimeouts,
    /// order-service sent SIGTERM (drain), then started again.
    OrderSigterm,
    /// order-service killed with SIGKILL, then started again.
    OrderKill,
}

impl Fault {
    pub const ALL: [Fault; 8] = [
        Fault::CollectorDown,
        Fault::RedisRestart,
        Fault::PostgresTerminate,
        Fault::GatewayLatency,
        Fault::GatewayErrors,
        Fault::GatewayTimeouts,
        Fault::OrderSigterm,
        Fault::OrderKill,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::CollectorDown => "collector down",
            Fault::RedisRestart => "redis restart",
            Fault::PostgresTerminate => "pg_terminate_backend",
            Fault::GatewayLatency => "gateway latency",
            Fault::GatewayErrors => "gateway errors",
            Fault::GatewayTimeouts => "gateway timeouts",
            Fault::OrderSigterm => "order SIGTERM",
            Fault::OrderKill => "order kill -9",
        }
    }

    /// Where in a cycle the fault starts, and how long it is held, as fractions of the cycle.
    /// Zero hold: a single action (its window lasts as long as the action and the recovery).
    fn slot(self) -> (f64, f64) {
        match self {
            Fault::CollectorDown => (0.06, 0.14),
            Fault::RedisRestart => (0.22, 0.06),
            Fault::PostgresTerminate => (0.31, 0.0),
            Fault::GatewayLatency => (0.36, 0.08),
            Fault::GatewayErrors => (0.47, 0.08),
            Fault::GatewayTimeouts => (0.58, 0.08),
            Fault::OrderSigterm => (0.70, 0.0),
            Fault::OrderKill => (0.84, 0.0),
        }
    }
}

/// One fault of the schedule, relative to the start of the traffic.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    pub at: Duration,
    pub fault: Fault,
    pub hold: Duration,
}

/// Every step of a run of `duration` made of cycles of `cycle` (at least one), in time order.
pub fn plan(duration: Duration, cycle: Duration) -> Vec<Step> {
    let cycle = cycle.min(duration);
    let cycles = if cycle.is_zero() {
        0
    } else {
        (duration.as_secs_f64() / cycle.as_secs_f64()).floor() as u32
    };
    let mut steps = Vec::new();
    for k in 0..cycles {
        let start = cycle * k;
        for fault in Fault::ALL {
            let (at, hold) = fault.slot();
            steps.push(Step {
                at: start + cycle.mul_f64(at),
                fault,
                hold: cycle.mul_f64(hold),
            });
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_cycle_injects_every_fault_once_in_order_without_overlap() {
        let steps = plan(Duration::from_secs(90), Duration::from_secs(90));
        assert_eq!(steps.len(), Fault::ALL.len());
        for pair in steps.windows(2) {
            let end = pair[0].at + pair[0].hold;
            assert!(end < pair[1].at, "{:?} overlaps {:?}", pair[0], pair[1]);
        }
        let last = steps.last().unwrap();
        assert!(last.at + last.hold < Duration::from_secs(80), "{last:?}");
        assert!(steps[0].at >= Duration::from_secs(5), "a quiet start");
    }

    #[test]
    fn a_long_run_repeats_whole_cycles() {
        let steps = plan(Duration::from_secs(600), Duration::from_secs(120));
        assert_eq!(steps.len(), 5 * Fault::ALL.len());
        let kills: Vec<Duration> = steps
            .iter()
            .filter(|s| s.fault == Fault::OrderKill)
            .map(|s| s.at)
            .collect();
        assert_eq!(kills.len(), 5);
        assert_eq!(kills[1] - kills[0], Duration::from_secs(120));
        // A remainder shorter than a cycle gets no faults.
        assert_eq!(
            plan(Duration::from_secs(650), Duration::from_secs(120)).len(),
            5 * Fault::ALL.len()
        );
        assert!(plan(Duration::ZERO, Duration::from_secs(120)).is_empty());
    }
}
