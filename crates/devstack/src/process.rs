//! One process of the stack: started from a [`Launch`] with its own log file, stopped with
//! SIGTERM, a bounded wait, then SIGKILL.

use std::env;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::os::{self, Signal};
use crate::{log, Error, Result};

/// How long a process gets after SIGTERM before SIGKILL, unless [`Launch::stop_grace`] says
/// otherwise: the services flush their spans and finish in-flight requests in that time.
pub const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(10);
const KILL_WAIT: Duration = Duration::from_secs(2);

/// Whether a start overwrites the log file or adds to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogMode {
    /// A fresh file per run (tests, the bench).
    Truncate,
    /// One file across runs (`cargo xtask up`): a header line marks each start, and
    /// [`Process::log_text`] reads only what this run wrote.
    Append,
}

/// Everything needed to start one process.
#[derive(Clone, Debug)]
pub struct Launch {
    name: String,
    program: PathBuf,
    args: Vec<OsString>,
    wrapper: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    env_remove: Vec<OsString>,
    current_dir: Option<PathBuf>,
    log: PathBuf,
    log_mode: LogMode,
    own_process_group: bool,
    stop_grace: Duration,
}

impl Launch {
    /// `program` as the process called `name` (in messages), stdout and stderr to `log`.
    pub fn new(
        name: impl Into<String>,
        program: impl Into<PathBuf>,
        log: impl Into<PathBuf>,
    ) -> Launch {
        Launch {
            name: name.into(),
            program: program.into(),
            args: Vec::new(),
            wrapper: Vec::new(),
            env: Vec::new(),
            env_remove: Vec::new(),
            current_dir: None,
            log: log.into(),
            log_mode: LogMode::Truncate,
            own_process_group: false,
            stop_grace: DEFAULT_STOP_GRACE,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Launch {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Launch
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets a variable; a later `env` of the same key wins.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Launch {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    pub fn envs<I, K, V>(mut self, vars: I) -> Launch
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        for (key, value) in vars {
            self = self.env(key, value);
        }
        self
    }

    /// Keeps a variable of the caller's environment from reaching the process (a developer's
    /// `DATABASE_URL` in a test, say). Variables set with [`Launch::env`] are still set.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Launch {
        self.env_remove.push(key.as_ref().to_owned());
        self
    }

    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Launch {
        self.current_dir = Some(dir.into());
        self
    }

    pub fn log_mode(mut self, mode: LogMode) -> Launch {
        self.log_mode = mode;
        self
    }

    /// Runs the program through another, e.g. `taskset -c 0`.
    pub fn run_through<I, S>(mut self, wrapper: I) -> Launch
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.wrapper = wrapper.into_iter().map(|a| a.as_ref().to_owned()).collect();
        self
    }

    /// A process group of its own: the terminal's Ctrl-C then reaches only the tool, which
    /// stops its processes in order, and a detached process outlives the terminal.
    pub fn own_process_group(mut self) -> Launch {
        self.own_process_group = true;
        self
    }

    pub fn stop_grace(mut self, grace: Duration) -> Launch {
        self.stop_grace = grace;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Starts the process; its output goes to the log file.
    pub fn start(self) -> Result<Process> {
        let (log_file, log_offset) = self.open_log()?;
        let stdout = log_file
            .try_clone()
            .map_err(Error::io(format!("opening {}", self.log.display())))?;

        let mut command = match self.wrapper.split_first() {
            Some((wrapper, wrapper_args)) => {
                let mut c = Command::new(wrapper);
                c.args(wrapper_args).arg(&self.program);
                c
            }
            None => Command::new(&self.program),
        };
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(log_file);
        if let Some(dir) = &self.current_dir {
            command.current_dir(dir);
        }
        for (key, _) in env::vars_os() {
            if key.to_str().is_some_and(is_cargo_run_var) {
                command.env_remove(key);
            }
        }
        for key in &self.env_remove {
            command.env_remove(key);
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        if self.own_process_group {
            os::own_process_group(&mut command);
        }
        let child = command.spawn().map_err(Error::io(format!(
            "starting {} ({})",
            self.name,
            self.program.display()
        )))?;
        Ok(Process {
            name: self.name,
            child,
            log: self.log,
            log_offset,
            stop_grace: self.stop_grace,
        })
    }

    fn open_log(&self) -> Result<(File, u64)> {
        let opening = || format!("opening {}", self.log.display());
        match self.log_mode {
            LogMode::Truncate => {
                let file = File::create(&self.log).map_err(Error::io(opening()))?;
                Ok((file, 0))
            }
            LogMode::Append => {
                let mut file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.log)
                    .map_err(Error::io(opening()))?;
                let started = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                writeln!(
                    file,
                    "\n===== {} starting (unix time {started}) =====",
                    self.name
                )
                .and_then(|()| file.metadata())
                .map(|meta| (file, meta.len()))
                .map_err(Error::io(format!("writing {}", self.log.display())))
            }
        }
    }
}

/// Cargo sets these for the binary it runs (xtask, a test); they would mislead a service
/// reading them (e.g. a `service.name` fallback to `CARGO_PKG_NAME`).
fn is_cargo_run_var(key: &str) -> bool {
    [
        "CARGO_PKG_",
        "CARGO_MANIFEST_",
        "CARGO_CRATE_",
        "CARGO_BIN_",
        "CARGO_PRIMARY_PACKAGE",
    ]
    .iter()
    .any(|prefix| key.starts_with(prefix))
}

/// A running process of the stack. Dropping it stops it ([`Process::stop`]).
#[derive(Debug)]
pub struct Process {
    name: String,
    child: Child,
    log: PathBuf,
    /// Where this run's output starts in the log.
    log_offset: u64,
    stop_grace: Duration,
}

impl Process {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The exit status, if the process has exited.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Everything this run wrote to the log (empty if it cannot be read).
    pub fn log_text(&self) -> String {
        log::read_from(&self.log, self.log_offset).unwrap_or_default()
    }

    /// The last `lines` of this run's output, readable (see [`log::excerpt`]).
    pub fn log_tail(&self, lines: usize) -> String {
        match log::read_from(&self.log, self.log_offset) {
            Ok(text) if text.trim().is_empty() => "(nothing logged)".to_owned(),
            Ok(text) => log::excerpt(&text, lines),
            Err(err) => format!("(cannot read {}: {err})", self.log.display()),
        }
    }

    /// Lets the process run on after this handle is gone (`cargo xtask up --detach`); returns
    /// its pid, which is then the only way to reach it.
    pub fn detach(self) -> u32 {
        let pid = self.child.id();
        // Skips `Drop` (which would stop it); the child's stdio went to the log file, so there
        // are no pipes to leak.
        std::mem::forget(self);
        pid
    }

    /// SIGTERM, then SIGKILL if the process is still there after its grace period.
    pub fn stop(&mut self) -> StopOutcome {
        if let Ok(Some(status)) = self.child.try_wait() {
            return StopOutcome::AlreadyExited(status);
        }
        if let Err(err) = os::send(self.child.id(), Signal::Terminate) {
            return StopOutcome::Unknown(err.to_string());
        }
        match wait_exit(&mut self.child, self.stop_grace) {
            Ok(Some(status)) => return StopOutcome::Stopped(status),
            Ok(None) => {}
            Err(err) => return StopOutcome::Unknown(err.to_string()),
        }
        let _ = self.child.kill();
        match wait_exit(&mut self.child, KILL_WAIT) {
            Ok(Some(_)) => StopOutcome::Killed {
                after: self.stop_grace,
            },
            Ok(None) => StopOutcome::Unknown("still there after SIGKILL".to_owned()),
            Err(err) => StopOutcome::Unknown(err.to_string()),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The child's exit status, if it exits within `timeout`.
fn wait_exit(child: &mut Child, timeout: Duration) -> io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// How [`Process::stop`] went.
#[derive(Debug)]
pub enum StopOutcome {
    AlreadyExited(ExitStatus),
    /// Exited within the grace period after SIGTERM, with this status.
    Stopped(ExitStatus),
    Killed {
        after: Duration,
    },
    Unknown(String),
}

impl fmt::Display for StopOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopOutcome::AlreadyExited(status) => write!(f, "had exited ({status})"),
            StopOutcome::Stopped(_) => f.write_str("stopped"),
            StopOutcome::Killed { after } => write!(
                f,
                "killed (still running {} s after SIGTERM)",
                after.as_secs()
            ),
            StopOutcome::Unknown(err) => write!(f, "could not be stopped: {err}"),
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn scratch(test: &str) -> PathBuf {
        let dir = env::temp_dir().join(format!("devstack-test-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn output_environment_and_stop() {
        let dir = scratch("output");
        let mut process = Launch::new("sh", "sh", dir.join("sh.log"))
            .args([
                "-c",
                "echo \"value=$DEVSTACK_TEST_VAR home=${CARGO_PKG_NAME:-none}\"; exec sleep 30",
            ])
            .env("DEVSTACK_TEST_VAR", "first")
            .env("DEVSTACK_TEST_VAR", "second")
            .own_process_group()
            .start()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !process.log_text().contains("value=") && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(process.log_text().trim(), "value=second home=none");
        assert!(process.is_running());
        assert!(matches!(process.stop(), StopOutcome::Stopped(_)));
        assert!(matches!(process.stop(), StopOutcome::AlreadyExited(_)));
    }

    #[test]
    fn a_process_ignoring_sigterm_is_killed() {
        let dir = scratch("kill");
        let mut process = Launch::new("stubborn", "sh", dir.join("stubborn.log"))
            .args([
                "-c",
                "trap '' TERM; echo trapped; while :; do sleep 1; done",
            ])
            .stop_grace(Duration::from_millis(300))
            .start()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !process.log_text().contains("trapped") && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        assert!(matches!(process.stop(), StopOutcome::Killed { .. }));
    }

    #[test]
    fn an_appended_log_reads_back_this_run_only() {
        let dir = scratch("append");
        let log = dir.join("twice.log");
        for word in ["first", "second"] {
            let mut process = Launch::new("echo", "echo", &log)
                .arg(word)
                .log_mode(LogMode::Append)
                .start()
                .unwrap();
            wait_exit(&mut process.child, Duration::from_secs(10)).unwrap();
            assert_eq!(process.log_text().trim(), word);
        }
        let all = std::fs::read_to_string(&log).unwrap();
        assert!(all.contains("first") && all.contains("===== echo starting"));
    }

    #[test]
    fn cargo_run_variables_are_not_passed_on() {
        assert!(is_cargo_run_var("CARGO_PKG_NAME"));
        assert!(is_cargo_run_var("CARGO_MANIFEST_DIR"));
        assert!(!is_cargo_run_var("CARGO_HOME"));
        assert!(!is_cargo_run_var("CARGO_TARGET_DIR"));
    }
}
