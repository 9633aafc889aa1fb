//! The docs tested like code: one test per check (see the crate documentation of `docs_tests`).

use docs_tests::facts::Facts;
use docs_tests::runnable::{self, Block};
use docs_tests::stack::Stack;
use docs_tests::{allowlist, checks, pages, repo_root};

fn pages() -> Vec<docs_tests::markdown::Page> {
    let pages = pages::all(&repo_root()).expect("read the pages");
    assert!(
        pages.len() >= 9,
        "README, ARCHITECTURE and docs/: found {}",
        pages.len()
    );
    pages
}

fn allowlist() -> Vec<allowlist::Entry> {
    allowlist::load(&repo_root()).expect("read the allow-list")
}

#[test]
fn links_and_anchors_resolve() {
    let findings = checks::links::check(&repo_root(), &pages());
    allowlist::assert_clean("links", findings, &allowlist(), &["link"]);
}

#[test]
fn every_name_the_docs_use_exists_in_the_code() {
    let root = repo_root();
    let facts = Facts::gather(&root).expect("gather the facts from the code");
    assert!(facts
        .metrics
        .contains_key("webstore_payment_duration_seconds"));
    assert!(facts.settings.contains("PAYMENT_TIMEOUT"));
    let findings = checks::names::check(&facts, &pages());
    allowlist::assert_clean(
        "names",
        findings,
        &allowlist(),
        &["metric", "variable", "endpoint", "path", "xtask"],
    );
}

#[test]
fn chapters_open_with_their_outcome_and_close_with_a_check() {
    let findings = checks::chapters::check(&pages());
    allowlist::assert_clean(
        "chapters",
        findings,
        &allowlist(),
        &["chapter-outcome", "chapter-check"],
    );
}

/// The blocks that need only the stack and `curl`: run on every machine.
#[test]
fn runnable_blocks_run_against_the_native_stack() {
    let ran = run_blocks(|b| !needs_prometheus(b));
    assert!(ran > 0, "no runnable block needs only the stack");
}

/// The blocks that use Prometheus's tools (`promtool`) or its port: run where they are
/// installed, reported skipped by the runner elsewhere (docs/TESTING.md).
mod needs_prometheus {
    mod needs_promtool {
        #[test]
        #[ignore = "needs: prometheus, promtool"]
        fn runnable_blocks_that_need_prometheus_run() {
            test_support::require(test_support::Dependency::Prometheus);
            test_support::require(test_support::Dependency::Promtool);
            super::super::run_blocks(super::super::needs_prometheus);
        }
    }
}

fn needs_prometheus(block: &Block) -> bool {
    block.ports().contains(&9090) || block.programs().contains(&"promtool")
}

/// Runs every runnable block `select` picks, in reading order, against one native stack;
/// returns how many ran. A block needing a program this machine lacks fails, naming it.
fn run_blocks(select: fn(&Block) -> bool) -> usize {
    let root = repo_root();
    let all = runnable::blocks(&pages()).unwrap_or_else(|e| panic!("{e}"));
    assert!(!all.is_empty(), "no block is marked runnable");
    let problems: Vec<String> = all
        .iter()
        .flat_map(|b| {
            b.problems()
                .into_iter()
                .map(move |p| format!("{}: {p}", b.location()))
        })
        .collect();
    assert!(
        problems.is_empty(),
        "runnable blocks that cannot be checked:\n{}",
        problems.join("\n")
    );
    let blocks: Vec<&Block> = all.iter().filter(|b| select(b)).collect();
    for b in &blocks {
        let missing: Vec<&str> = b
            .programs()
            .into_iter()
            .filter(|p| !runnable::installed(p))
            .collect();
        assert!(
            missing.is_empty(),
            "{}: the block needs {}, which this machine lacks",
            b.location(),
            missing.join(", ")
        );
    }

    let scratch = std::env::temp_dir().join(format!(
        "webstore-docs-{}-{}",
        std::process::id(),
        blocks.len()
    ));
    std::fs::create_dir_all(&scratch).expect("scratch directory");
    let needs_stack = blocks.iter().any(|b| !b.ports().is_empty());
    let with_prometheus = blocks.iter().any(|b| b.ports().contains(&9090));
    let stack = needs_stack.then(|| {
        Stack::start(&scratch, with_prometheus).unwrap_or_else(|e| {
            panic!("starting the native stack (run `cargo build --workspace --bins` first when running this test alone): {e}")
        })
    });
    let addresses = stack
        .as_ref()
        .map(|s| s.addresses.clone())
        .unwrap_or_default();

    for (i, b) in blocks.iter().enumerate() {
        let script = b.substituted(&addresses);
        let outcome = runnable::run(&script, &root, &scratch.join(format!("block-{i}.log")))
            .unwrap_or_else(|e| panic!("{}: running bash: {e}", b.location()));
        assert!(
            outcome.success,
            "{}: the runnable block failed ({}).\n--- script (addresses rewritten to the test stack's)\n{script}--- output\n{}\n{}",
            b.location(),
            outcome.status,
            outcome.output,
            stack.as_ref().map(|s| s.log_tails(15)).unwrap_or_default()
        );
        println!("ran {} ({})", b.location(), outcome.status);
    }
    drop(stack);
    let _ = std::fs::remove_dir_all(&scratch);
    println!("docs: {} runnable blocks executed", blocks.len());
    blocks.len()
}
