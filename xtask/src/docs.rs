//! `cargo xtask docs`: the reference pages generated from the code.
//!
//! The generator (`crates/docgen`) links the three services to read their command lines and
//! registries, which xtask must never do (it builds before them, in seconds); so xtask runs it
//! as a program.

use anyhow::{Context, Result};
use xshell::{cmd, Shell};

use crate::flags;

impl flags::Docs {
    pub(crate) fn run(self, sh: &Shell) -> Result<()> {
        let check = self.check.then_some("--check");
        cmd!(sh, "cargo run -q -p docgen -- {check...}")
            .run()
            .context(if self.check {
                "the generated reference differs from the code: run `cargo xtask docs`"
            } else {
                "generating the reference pages failed"
            })
    }
}
