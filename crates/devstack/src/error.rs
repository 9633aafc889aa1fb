use std::fmt;
use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong while building, starting or waiting for a process.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },

    #[error("`cargo build` failed ({status}); its messages are above")]
    Build { status: ExitStatus },

    #[error("cargo built no `{0}` binary: package {0} needs a binary target named `{0}`")]
    MissingBinary(String),

    #[error("no `{name}` executable in {} (run `cargo build --workspace --bins` first)", dir.display())]
    NotBuilt { name: String, dir: PathBuf },

    #[error("port {port} on {host} is taken, and {wanted_by} needs it")]
    PortTaken {
        host: &'static str,
        port: u16,
        wanted_by: String,
    },

    /// A process did not answer 200 on its readiness endpoint. `log` is the end of what it
    /// wrote during this run (backtraces left out), for the caller to show.
    #[error("{name} did not become ready: {reason}")]
    NotReady {
        name: String,
        reason: NotReady,
        log: String,
    },
}

impl Error {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }

    /// Ctrl-C (or SIGTERM/SIGHUP, see [`crate::os::install_interrupt_handler`]) arrived while
    /// waiting.
    pub fn is_interrupted(&self) -> bool {
        matches!(
            self,
            Error::NotReady {
                reason: NotReady::Interrupted,
                ..
            }
        )
    }
}

/// Why a process is not ready.
#[derive(Debug)]
pub enum NotReady {
    Exited(ExitStatus),
    /// No 200 before the deadline; `last` is the last answer or connection error.
    TimedOut {
        waited: Duration,
        last: String,
    },
    Interrupted,
}

impl fmt::Display for NotReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotReady::Exited(status) => write!(f, "it exited ({status})"),
            NotReady::TimedOut { waited, last } => {
                write!(f, "no 200 within {} s (last: {last})", waited.as_secs())
            }
            NotReady::Interrupted => f.write_str("interrupted"),
        }
    }
}
