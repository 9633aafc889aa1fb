//! Pinning processes to a core with `taskset`, where it exists.

use std::path::Path;
use std::process::{Command, Stdio};

/// Pins a command to a core with `taskset` when it exists.
pub(super) struct Pinning {
    pub(super) enabled: bool,
}

impl Pinning {
    pub(super) fn detect() -> Pinning {
        Pinning {
            enabled: tool_exists("taskset", "--version"),
        }
    }

    pub(super) fn command(&self, core: u8, exe: &Path) -> Command {
        if self.enabled {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(core.to_string()).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    pub(super) fn prefix(&self, core: u8) -> Vec<String> {
        if self.enabled {
            vec!["taskset".to_owned(), "-c".to_owned(), core.to_string()]
        } else {
            Vec::new()
        }
    }
}

pub(super) fn tool_exists(tool: &str, arg: &str) -> bool {
    Command::new(tool)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}
