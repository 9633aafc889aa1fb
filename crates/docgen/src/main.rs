//! `docgen`: writes the generated reference pages, or checks them. `cargo xtask docs` runs it.
//!
//! ```text
//! docgen           write docs/reference/*.md from the code
//! docgen --check   write nothing; exit 1 if a committed page differs
//! ```

use std::process::ExitCode;

use anyhow::Context as _;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("docgen: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let check = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--check") => true,
        Some(other) => anyhow::bail!("unknown argument {other:?}; usage: docgen [--check]"),
    };
    let root = docgen::workspace_root();
    let pages = docgen::generate()?;
    if check {
        let stale = docgen::stale(&root, &pages);
        for s in &stale {
            eprintln!("out of date: {s}");
        }
        if !stale.is_empty() {
            eprintln!("run `cargo xtask docs` and commit the result");
            return Ok(ExitCode::FAILURE);
        }
        println!("{} generated pages up to date", pages.len());
        return Ok(ExitCode::SUCCESS);
    }
    for page in &pages {
        let path = root.join(&page.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let unchanged = std::fs::read_to_string(&path).is_ok_and(|t| t == page.text);
        if !unchanged {
            std::fs::write(&path, &page.text)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        println!(
            "{} {} ({} lines)",
            if unchanged { "unchanged" } else { "wrote    " },
            page.path,
            page.text.lines().count()
        );
    }
    Ok(ExitCode::SUCCESS)
}
