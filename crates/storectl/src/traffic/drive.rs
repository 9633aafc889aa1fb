//! The dispatcher: open-loop pacing at the target rate, at most `concurrency` requests in
//! flight, bounded by time and count, stopped early by the caller's shutdown future.
//!
//! Open loop: requests leave on a schedule, not when the previous one answered, so a slow store
//! does not slow the offered load (until every slot is taken: then ticks are skipped, and the
//! achieved rate in the summary shows it).

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use super::mix::Planner;
use super::send::{Sent, Target};
use super::stats::{Progress, Recorder};

/// Why the run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    Duration,
    Requests,
    Interrupted,
}

pub struct Pace {
    pub rps: f64,
    pub concurrency: usize,
    pub duration: Duration,
    pub max_requests: Option<u64>,
    pub show_progress: bool,
}

pub struct Driven {
    pub recorder: Recorder,
    pub sent: u64,
    /// In flight when an interrupt came, and abandoned.
    pub cancelled: u64,
    /// From the first request to the last one sent: the achieved rate is `sent` over this.
    pub dispatching: Duration,
    /// Until the last answer (or the interrupt).
    pub elapsed: Duration,
    pub stop: Stop,
}

pub async fn drive(
    pace: &Pace,
    planner: &mut Planner,
    target: &Target,
    shutdown: impl Future<Output = ()>,
) -> Driven {
    let mut shutdown = pin!(shutdown);
    let bar = progress_bar(pace);
    let slots = Arc::new(Semaphore::new(pace.concurrency.max(1)));
    let mut tasks: JoinSet<Sent> = JoinSet::new();
    let mut recorder = Recorder::default();
    let mut sent = 0u64;
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + pace.duration;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / pace.rps));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);

    let mut stop = Stop::Duration;
    loop {
        if pace.max_requests.is_some_and(|max| sent >= max) {
            stop = Stop::Requests;
            break;
        }
        tokio::select! {
            () = &mut shutdown => { stop = Stop::Interrupted; break; }
            () = tokio::time::sleep_until(deadline) => break,
            _ = ticker.tick() => {}
        }
        let permit = tokio::select! {
            () = &mut shutdown => { stop = Stop::Interrupted; break; }
            () = tokio::time::sleep_until(deadline) => break,
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                // The semaphore is never closed.
                Err(_) => break,
            },
        };
        let request = planner.next_request();
        let target = target.clone();
        tasks.spawn(async move {
            let result = target.send(request).await;
            drop(permit);
            result
        });
        sent += 1;
        while let Some(done) = tasks.try_join_next() {
            if let Ok(done) = done {
                recorder.add(&done);
            }
        }
        show(&bar, started, &recorder.progress(), sent);
    }

    let dispatching = started.elapsed();
    // Let what is in flight answer (each request is bounded by the client's timeout), unless
    // interrupted: then abandon it, so Ctrl-C restores the faults at once.
    if stop != Stop::Interrupted {
        loop {
            tokio::select! {
                () = &mut shutdown => { stop = Stop::Interrupted; break; }
                next = tasks.join_next() => match next {
                    Some(Ok(done)) => recorder.add(&done),
                    Some(Err(_)) => {}
                    None => break,
                },
            }
            show(&bar, started, &recorder.progress(), sent);
        }
    }
    let cancelled = tasks.len() as u64;
    tasks.abort_all();
    bar.finish_and_clear();
    Driven {
        recorder,
        sent,
        cancelled,
        dispatching,
        elapsed: started.elapsed(),
        stop,
    }
}

fn progress_bar(pace: &Pace) -> ProgressBar {
    if !pace.show_progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(
        Some(pace.duration.as_millis() as u64),
        // Drawn only when stderr is a terminal.
        ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {elapsed:>4} / {prefix} [{bar:30}] {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(humantime::format_duration(pace.duration).to_string());
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

fn show(bar: &ProgressBar, started: Instant, progress: &Progress, sent: u64) {
    if bar.is_hidden() {
        return;
    }
    let elapsed = started.elapsed();
    bar.set_position(elapsed.as_millis() as u64);
    let rps = progress.done as f64 / elapsed.as_secs_f64().max(1e-3);
    bar.set_message(format!(
        "sent {sent} · done {} · 5xx or no answer {} · 429 {} · {rps:.1}/s",
        progress.done, progress.failed, progress.limited
    ));
}
