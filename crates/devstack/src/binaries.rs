//! The executables of the stack: built with one `cargo build`, or found where cargo put them.

use std::collections::BTreeMap;
use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{Error, Result};

/// The cargo profile to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    Dev,
    Release,
}

/// Binary name → executable.
#[derive(Clone, Debug)]
pub struct Binaries {
    source: Source,
}

#[derive(Clone, Debug)]
enum Source {
    /// Paths reported by cargo.
    Built(BTreeMap<String, PathBuf>),
    /// `<dir>/<name>`: a test binary's `target/<profile>/`.
    Dir(PathBuf),
}

impl Binaries {
    /// `cargo build --bins` of `packages` in the workspace at `workspace_root`, one invocation;
    /// the executables' paths come from cargo's own JSON messages, so a custom target directory
    /// or build target needs no guessing. Diagnostics and progress go to stderr as usual.
    ///
    /// Every package must have a binary target of its own name.
    pub fn build(workspace_root: &Path, profile: Profile, packages: &[&str]) -> Result<Binaries> {
        let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let mut command = Command::new(cargo);
        command
            .current_dir(workspace_root)
            .args([
                "build",
                "--bins",
                "--message-format=json-render-diagnostics",
            ])
            .stdin(Stdio::null())
            .stderr(Stdio::inherit());
        if profile == Profile::Release {
            command.arg("--release");
        }
        for package in packages {
            command.args(["-p", package]);
        }
        let output = command
            .output()
            .map_err(Error::io("running `cargo build`"))?;
        if !output.status.success() {
            return Err(Error::Build {
                status: output.status,
            });
        }
        let found = executables(&String::from_utf8_lossy(&output.stdout));
        for package in packages {
            if !found.contains_key(*package) {
                return Err(Error::MissingBinary((*package).to_owned()));
            }
        }
        Ok(Binaries {
            source: Source::Built(found),
        })
    }

    /// The executables in `dir`, as cargo lays them out in `target/<profile>/`.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Binaries {
        Binaries {
            source: Source::Dir(dir.into()),
        }
    }

    /// The directory of the running executable's profile: `target/<profile>/` for a test binary
    /// (which lives in `target/<profile>/deps/`), where `cargo test --workspace` also builds the
    /// service binaries.
    pub fn beside_test_binary() -> Result<Binaries> {
        let exe = env::current_exe().map_err(Error::io("locating the test binary"))?;
        let dir = exe
            .parent()
            .and_then(Path::parent)
            .ok_or_else(|| Error::Io {
                what: format!("locating target/<profile>/ from {}", exe.display()),
                source: std::io::ErrorKind::NotFound.into(),
            })?;
        Ok(Binaries::in_dir(dir))
    }

    /// The executable of binary `name`.
    pub fn get(&self, name: &str) -> Result<PathBuf> {
        match &self.source {
            Source::Built(found) => found
                .get(name)
                .cloned()
                .ok_or_else(|| Error::MissingBinary(name.to_owned())),
            Source::Dir(dir) => {
                let path = dir.join(format!("{name}{}", env::consts::EXE_SUFFIX));
                if path.is_file() {
                    Ok(path)
                } else {
                    Err(Error::NotBuilt {
                        name: name.to_owned(),
                        dir: dir.clone(),
                    })
                }
            }
        }
    }
}

/// Binary name → executable path, from `cargo build --message-format=json` output.
fn executables(messages: &str) -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    for line in messages.lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        if let (Some(name), Some(exe)) = (
            message["target"]["name"].as_str(),
            message["executable"].as_str(),
        ) {
            found.insert(name.to_owned(), PathBuf::from(exe));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executables_from_cargo_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"telemetry","kind":["lib"]},"executable":null,"fresh":true}
{"reason":"compiler-artifact","target":{"name":"order-service","kind":["bin"]},"executable":"/build/debug/order-service","fresh":false}
{"reason":"build-finished","success":true}
not json"#;
        let found = executables(messages);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found["order-service"],
            Path::new("/build/debug/order-service")
        );
    }

    #[test]
    fn a_missing_executable_says_how_to_build_it() {
        let binaries = Binaries::in_dir(std::env::temp_dir().join("devstack-no-such-dir"));
        let err = binaries.get("order-service").unwrap_err().to_string();
        assert!(err.contains("cargo build --workspace --bins"), "{err}");
    }
}
