//! The few operating-system calls the dev tools need: signals, a Ctrl-C flag, liveness by pid.
//!
//! Unix only (Linux, macOS). Elsewhere these report "unsupported" (`cargo xtask up` then uses
//! Docker).

use std::io;
use std::process::Command;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM: the services shut down gracefully and flush their spans.
    Terminate,
    /// SIGKILL, after a process ignored [`Signal::Terminate`] for too long.
    Kill,
}

#[cfg(unix)]
mod imp {
    use std::io;
    use std::os::unix::process::CommandExt;
    use std::process::Command;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::Signal;

    static INTERRUPTED: AtomicBool = AtomicBool::new(false);

    extern "C" fn on_interrupt(_signal: libc::c_int) {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            // Second Ctrl-C: leave at once (for `cargo xtask up`, `cargo xtask down` cleans up
            // what is left).
            // SAFETY: `_exit` is async-signal-safe.
            unsafe { libc::_exit(130) }
        }
    }

    pub fn install_interrupt_handler() {
        let handler = on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t;
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: the handler only touches an atomic and calls `_exit`, both async-signal-safe.
            unsafe {
                libc::signal(signal, handler);
            }
        }
    }

    pub fn interrupted() -> bool {
        INTERRUPTED.load(Ordering::SeqCst)
    }

    pub fn own_process_group(command: &mut Command) {
        command.process_group(0);
    }

    pub fn send(pid: u32, signal: Signal) -> io::Result<()> {
        let pid = checked_pid(pid)?;
        let signal = match signal {
            Signal::Terminate => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
        };
        // SAFETY: plain syscall; `checked_pid` keeps out 0 and negative values (process groups).
        if unsafe { libc::kill(pid, signal) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// The process exists and is not a zombie (a zombie has exited, its parent has not yet
    /// reaped it).
    pub fn is_running(pid: u32) -> bool {
        let Ok(pid_t) = checked_pid(pid) else {
            return false;
        };
        // SAFETY: signal 0 only checks that the process exists and may be signalled.
        let exists = unsafe { libc::kill(pid_t, 0) } == 0
            || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        exists && super::proc_state(pid) != Some('Z')
    }

    fn checked_pid(pid: u32) -> io::Result<libc::pid_t> {
        match libc::pid_t::try_from(pid) {
            Ok(p) if p > 1 => Ok(p),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("refusing to signal pid {pid}"),
            )),
        }
    }
}

#[cfg(not(unix))]
mod imp {
    use std::io;
    use std::process::Command;

    use super::Signal;

    pub fn install_interrupt_handler() {}

    pub fn interrupted() -> bool {
        false
    }

    pub fn own_process_group(_command: &mut Command) {}

    pub fn send(_pid: u32, _signal: Signal) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "signals need a Unix system",
        ))
    }

    pub fn is_running(_pid: u32) -> bool {
        false
    }
}

/// Sets a flag on Ctrl-C (SIGINT), SIGTERM and SIGHUP instead of dying, so a tool can stop its
/// processes in order (and [`crate::Process::wait_ready`] returns early); a second Ctrl-C exits
/// at once.
pub fn install_interrupt_handler() {
    imp::install_interrupt_handler()
}

pub fn interrupted() -> bool {
    imp::interrupted()
}

/// Starts the child in a process group of its own, so the terminal's Ctrl-C reaches only the
/// tool, which then stops its processes in order; and so detached processes outlive the
/// terminal's later Ctrl-Cs.
pub fn own_process_group(command: &mut Command) {
    imp::own_process_group(command)
}

pub fn send(pid: u32, signal: Signal) -> io::Result<()> {
    imp::send(pid, signal)
}

pub fn is_running(pid: u32) -> bool {
    imp::is_running(pid)
}

/// The kernel's short name of a process (Linux: `/proc/<pid>/comm`, the executable's file name cut
/// to 15 bytes); `None` where `/proc` does not tell.
pub fn process_name(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim_end().to_owned())
}

/// Whether a process called `comm` (as [`process_name`] reads it) may be the binary `name`.
pub fn comm_matches(comm: &str, name: &str) -> bool {
    const TASK_COMM_LEN: usize = 15;
    let cut = name
        .char_indices()
        .nth(TASK_COMM_LEN)
        .map_or(name, |(i, _)| &name[..i]);
    comm == cut
}

/// The state letter of `/proc/<pid>/stat` (`R`, `S`, `Z`, ...), where `/proc` exists.
fn proc_state(pid: u32) -> Option<char> {
    parse_proc_state(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// The field after the parenthesised command name, which may itself hold spaces and parentheses.
fn parse_proc_state(stat: &str) -> Option<char> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().next()?.chars().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comm_is_cut_to_fifteen_bytes() {
        assert!(comm_matches("order-service", "order-service"));
        assert!(comm_matches("catalog-service", "catalog-service"));
        assert!(comm_matches("prometheus", "prometheus"));
        assert!(comm_matches("a-very-long-bin", "a-very-long-binary-name"));
        assert!(!comm_matches("bash", "order-service"));
    }

    #[test]
    fn proc_state_skips_odd_command_names() {
        assert_eq!(
            parse_proc_state("1234 (order-service) S 1 1234 1234 0 -1"),
            Some('S')
        );
        assert_eq!(parse_proc_state("77 (we ird) (name) Z 1 2 3"), Some('Z'));
        assert_eq!(parse_proc_state("garbage"), None);
    }

    #[cfg(unix)]
    #[test]
    fn signals_a_child_and_sees_it_go() {
        let mut command = Command::new("sleep");
        command.arg("30");
        own_process_group(&mut command);
        let mut child = command.spawn().unwrap();
        let pid = child.id();
        assert!(is_running(pid));
        send(pid, Signal::Terminate).unwrap();
        child.wait().unwrap();
        assert!(!is_running(pid));
        assert!(
            send(0, Signal::Terminate).is_err(),
            "pid 0 would be our own process group"
        );
        assert!(send(1, Signal::Terminate).is_err());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_zombie_is_not_running() {
        let mut child = Command::new("true").spawn().unwrap();
        let pid = child.id();
        // Not reaped yet: a zombie once it has exited.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while proc_state(pid) != Some('Z') && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(!is_running(pid));
        assert_eq!(process_name(pid).as_deref(), Some("true"));
        child.wait().unwrap();
    }
}
