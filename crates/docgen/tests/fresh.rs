//! The committed reference pages are what `cargo xtask docs` writes from the code as it is.

#[test]
fn committed_reference_pages_match_the_code() {
    let pages = docgen::generate().expect("generate the reference pages");
    let stale = docgen::stale(&docgen::workspace_root(), &pages);
    assert!(
        stale.is_empty(),
        "the generated reference is out of date: run `cargo xtask docs` and commit the result\n{}",
        stale
            .iter()
            .map(|s| format!("  {s}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
