//! The docs, tested like code.
//!
//! Every page a reader learns from — `README.md`, `ARCHITECTURE.md` and `docs/**/*.md` — is
//! checked against the repository and the code (`tests/docs.rs` runs each check as a test):
//!
//! - **links** ([`checks::links`]): every relative link resolves to a file or folder of the
//!   repository, and every `#anchor` to a heading of its page, by GitHub's slug rules;
//! - **names** ([`checks::names`]): every metric name, settings-like variable, endpoint, file
//!   path and `cargo xtask` command a page names exists — in the services' registries,
//!   command lines and OpenAPI documents ([`facts`], from `docgen`), on disk, or in an explicit
//!   list of outside names with the reason each is there;
//! - **chapters** ([`checks::chapters`]): each chapter of `docs/` opens with its outcome
//!   ("After this page you can …") and closes with a "Check yourself" section holding a command;
//! - **runnable blocks** ([`runnable`]): every fenced block marked ```` ```sh runnable ```` runs,
//!   in reading order, against a native stack the test starts ([`stack`]) on free ports, with
//!   the default addresses in the block rewritten to the stack's, and must exit 0.
//!
//! Known gaps are listed, each with its reason, in `tests/docs/allowlist.txt` ([`allowlist`]);
//! an entry that no longer matches a finding fails the test too, so the list only shrinks.
//!
//! # Layout
//! - [`pages`]: which files are read, parsed once ([`markdown`]) with heading slugs ([`slug`]).
//! - [`facts`]: what the code defines, gathered once per test.
//! - [`checks`]: one module per check, each returning [`Finding`]s.
//! - [`runnable`] + [`stack`]: the runnable blocks and the processes they run against.

pub mod allowlist;
pub mod checks;
pub mod facts;
pub mod markdown;
pub mod pages;
pub mod runnable;
pub mod slug;
pub mod stack;

use std::fmt;
use std::path::{Path, PathBuf};

/// One thing a page gets wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Which check: `link`, `metric`, `variable`, `endpoint`, `path`, `xtask`,
    /// `chapter-outcome`, `chapter-check`.
    pub check: &'static str,
    /// The page, relative to the repository root.
    pub file: String,
    pub line: usize,
    /// What is wrong, as the allow-list names it: the link, name or path.
    pub item: String,
    /// Why it is wrong, for the reader of the failure.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: [{}] {}: {}",
            self.file, self.line, self.check, self.item, self.message
        )
    }
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
