//! Reading a process's log back: the part this run wrote, its last lines, readable.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// Lines of a log shown when a process fails to start or exits on its own.
pub const TAIL_LINES: usize = 30;

/// The text of `path` from byte `offset` on (lossy UTF-8).
pub fn read_from(path: &Path, offset: u64) -> io::Result<String> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The last `n` lines of `text`, readable: a trailing `Stack backtrace:` section (anyhow under
/// RUST_BACKTRACE) is left out, so the error itself shows, and very long lines are cut.
pub fn excerpt(text: &str, n: usize) -> String {
    const MAX_LINE: usize = 500;
    let (text, omitted) = match text.find("\nStack backtrace:") {
        Some(at) => (&text[..at], true),
        None => (text, false),
    };
    let mut lines: Vec<String> = last_lines(text.trim_end(), n)
        .lines()
        .map(|line| match line.char_indices().nth(MAX_LINE) {
            Some((at, _)) => format!("{}… ({} more bytes)", &line[..at], line.len() - at),
            None => line.to_owned(),
        })
        .collect();
    if omitted {
        lines.push("(stack backtrace omitted; the full log has it)".to_owned());
    }
    lines.join("\n")
}

/// The last `n` lines of `text`.
pub fn last_lines(text: &str, n: usize) -> &str {
    if n == 0 {
        return "";
    }
    let text = text.trim_end_matches('\n');
    let start = text
        .char_indices()
        .filter(|(_, c)| *c == '\n')
        .map(|(i, _)| i + 1)
        .rev()
        .nth(n - 1)
        .unwrap_or(0);
    &text[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_shows_the_error_not_the_backtrace() {
        let long = "x".repeat(600);
        let text = format!(
            "starting\n{long}\nError: no database\n\nStack backtrace:\n   0: main\n   1: _start\n"
        );
        assert_eq!(
            excerpt(&text, 2),
            format!(
                "{}… (100 more bytes)\nError: no database\n(stack backtrace omitted; the full log has it)",
                "x".repeat(500)
            )
        );
        assert_eq!(excerpt("a\nb\nc\n", 2), "b\nc");
    }

    #[test]
    fn tail_of_a_log() {
        assert_eq!(last_lines("a\nb\nc\nd\n", 2), "c\nd");
        assert_eq!(last_lines("a\nb", 5), "a\nb");
        assert_eq!(last_lines("", 3), "");
        assert_eq!(last_lines("a\nb", 0), "");
    }
}
