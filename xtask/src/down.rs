//! `cargo xtask down`: stops what `cargo xtask up` started, from any terminal.
//!
//! Local processes are found through their pid files only (see [`crate::stack`]); a pid file is
//! removed *before* its process is signalled, which is how a foreground `up` tells "stopped by
//! `down`" from a crash.

use std::fs;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use devstack::os::{self, Signal};
use xshell::{cmd, Shell};

use crate::stack::{self, StateDir, COMPOSE_FILE};
use crate::{flags, project_root};

const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const KILL_TIMEOUT: Duration = Duration::from_secs(2);

impl flags::Down {
    pub(crate) fn run(self, sh: &Shell) -> Result<()> {
        let state = StateDir::new(&project_root());
        let pid_files = state.pid_files()?;
        let mut did_something = !pid_files.is_empty();

        for (name, path) in pid_files {
            let pid = match stack::read_pid_file(&path) {
                Ok(Some(pid)) => pid,
                // Removed meanwhile, by a foreground `up` stopping on its own.
                Ok(None) => continue,
                Err(err) => {
                    println!("{name:<16} {err:#}; removed it");
                    let _ = fs::remove_file(&path);
                    continue;
                }
            };
            let _ = fs::remove_file(&path);
            println!("{name:<16} {}", stop_pid(&name, pid));
        }

        if stack::docker_available(sh) && sh.path_exists(COMPOSE_FILE) {
            did_something = true;
            let compose = COMPOSE_FILE;
            cmd!(sh, "docker compose -f {compose} down")
                .run()
                .context("docker compose down failed")?;
        }

        if !did_something {
            println!(
                "Nothing to stop: no pid files in {}.",
                stack::display_path(&project_root(), &state.pids_dir())
            );
        }
        Ok(())
    }
}

/// Stops `pid` if it still is the `name` process that `up` started; says what happened.
fn stop_pid(name: &str, pid: u32) -> String {
    if !os::is_running(pid) {
        return format!("pid {pid}: not running (stale pid file removed)");
    }
    if let Some(comm) = os::process_name(pid) {
        if !os::comm_matches(&comm, name) {
            return format!(
                "pid {pid} is now `{comm}`, not {name}: left alone (stale pid file removed)"
            );
        }
    }
    if let Err(err) = os::send(pid, Signal::Terminate) {
        return format!("pid {pid}: SIGTERM failed: {err}");
    }
    if wait_gone(pid, STOP_TIMEOUT) {
        return format!("pid {pid}: stopped");
    }
    if let Err(err) = os::send(pid, Signal::Kill) {
        return format!(
            "pid {pid}: still running {} s after SIGTERM, and SIGKILL failed: {err}",
            STOP_TIMEOUT.as_secs()
        );
    }
    if wait_gone(pid, KILL_TIMEOUT) {
        format!(
            "pid {pid}: killed (still running {} s after SIGTERM)",
            STOP_TIMEOUT.as_secs()
        )
    } else {
        format!("pid {pid}: still there after SIGKILL")
    }
}

fn wait_gone(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if !os::is_running(pid) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::process::Command;

    use super::*;

    #[test]
    fn stops_a_matching_process_and_leaves_others_alone() {
        let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = sleeper.id();
        // Reap it from another thread, as init would for a process whose `up` is gone.
        let reaper = thread::spawn(move || sleeper.wait().unwrap());

        let message = stop_pid("otlp-sink", pid);
        assert!(message.contains("is now `sleep`"), "{message}");
        assert!(
            os::is_running(pid),
            "a pid that is now another program is never signalled"
        );

        assert_eq!(stop_pid("sleep", pid), format!("pid {pid}: stopped"));
        assert!(!reaper.join().unwrap().success());
        assert!(stop_pid("sleep", pid).contains("not running"));
    }
}
