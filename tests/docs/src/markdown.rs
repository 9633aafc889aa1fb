//! One page, parsed once as CommonMark (GitHub's flavour: tables, strikethrough): what the
//! checks need and nothing else, each item with its line.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::slug::Slugger;

#[derive(Debug, Default)]
pub struct Page {
    /// Relative to the repository root, `/`-separated.
    pub path: String,
    pub text: String,
    pub headings: Vec<Heading>,
    /// Link and image destinations as written.
    pub links: Vec<Located>,
    /// Inline code spans' contents.
    pub code_spans: Vec<Located>,
    pub blocks: Vec<CodeBlock>,
    /// The first paragraph after the page's first heading, as plain text.
    pub opening: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Heading {
    /// 1 for `#`, 2 for `##`, …
    pub level: usize,
    pub text: String,
    pub slug: String,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Located {
    pub text: String,
    pub line: usize,
}

/// A fenced code block.
#[derive(Debug, Clone)]
pub struct CodeBlock {
    /// The info string after the fence: ```` ```sh runnable ```` → `sh runnable`.
    pub info: String,
    pub code: String,
    /// The line of the opening fence.
    pub line: usize,
}

impl CodeBlock {
    /// The first word of the info string.
    pub fn language(&self) -> &str {
        self.info.split_whitespace().next().unwrap_or("")
    }

    /// The info string's words after the language.
    pub fn has_attribute(&self, attribute: &str) -> bool {
        self.info.split_whitespace().skip(1).any(|w| w == attribute)
    }
}

impl Page {
    pub fn parse(path: &str, text: &str) -> Page {
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let line_of = |offset: usize| line_starts.partition_point(|&s| s <= offset);

        let mut page = Page {
            path: path.to_owned(),
            text: text.to_owned(),
            ..Page::default()
        };
        let mut slugs = Slugger::default();
        let mut heading: Option<(usize, String, usize)> = None;
        let mut block: Option<CodeBlock> = None;
        // 0: before the first heading; 1: waiting for the first paragraph after it; 2: inside
        // it; 3: done.
        let mut opening_state = 0;
        let mut opening = String::new();

        let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
        for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
            let line = line_of(range.start);
            match event {
                Event::Start(Tag::Heading { level, .. }) => {
                    heading = Some((level_number(level), String::new(), line));
                    if opening_state == 1 {
                        opening_state = 3;
                    }
                }
                Event::End(TagEnd::Heading(_)) => {
                    if let Some((level, text, line)) = heading.take() {
                        let slug = slugs.next(&text);
                        page.headings.push(Heading {
                            level,
                            text,
                            slug,
                            line,
                        });
                    }
                    if opening_state == 0 {
                        opening_state = 1;
                    }
                }
                Event::Start(Tag::Paragraph) if opening_state == 1 => opening_state = 2,
                Event::End(TagEnd::Paragraph) if opening_state == 2 => {
                    opening_state = 3;
                    page.opening = Some(opening.trim().to_owned());
                }
                Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                    page.links.push(Located {
                        text: dest_url.to_string(),
                        line,
                    });
                }
                Event::Start(Tag::CodeBlock(kind)) => {
                    if opening_state == 1 {
                        opening_state = 3;
                    }
                    let info = match kind {
                        CodeBlockKind::Fenced(info) => info.to_string(),
                        CodeBlockKind::Indented => String::new(),
                    };
                    block = Some(CodeBlock {
                        info,
                        code: String::new(),
                        line,
                    });
                }
                Event::End(TagEnd::CodeBlock) => page.blocks.extend(block.take()),
                Event::Text(t) => {
                    if let Some(b) = block.as_mut() {
                        b.code.push_str(&t);
                    }
                    if let Some((_, h, _)) = heading.as_mut() {
                        h.push_str(&t);
                    }
                    if opening_state == 2 {
                        opening.push_str(&t);
                    }
                }
                Event::Code(c) => {
                    if let Some((_, h, _)) = heading.as_mut() {
                        h.push_str(&c);
                    }
                    if opening_state == 2 {
                        opening.push_str(&c);
                    }
                    page.code_spans.push(Located {
                        text: c.to_string(),
                        line,
                    });
                }
                Event::SoftBreak | Event::HardBreak if opening_state == 2 => opening.push(' '),
                Event::Start(Tag::List(_) | Tag::Table(_) | Tag::BlockQuote(_))
                    if opening_state == 1 =>
                {
                    opening_state = 3
                }
                _ => {}
            }
        }
        page
    }

    /// The anchors a link may point at.
    pub fn has_anchor(&self, anchor: &str) -> bool {
        self.headings.iter().any(|h| h.slug == anchor)
    }

    /// Every line of the page with its number, code blocks included.
    pub fn lines(&self) -> impl Iterator<Item = (usize, &str)> {
        self.text.lines().enumerate().map(|(i, l)| (i + 1, l))
    }
}

fn level_number(level: HeadingLevel) -> usize {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "# Title\n\nAfter this page you can `run` things\nand more.\n\n## Links — here\n\nSee [a](other.md#x) and ![i](img.png).\n\n```sh runnable\ncurl -f http://127.0.0.1:8080/healthz\n```\n\n## Links — here\n";

    #[test]
    fn headings_links_spans_blocks_and_the_opening() {
        let p = Page::parse("docs/x.md", PAGE);
        let slugs: Vec<&str> = p.headings.iter().map(|h| h.slug.as_str()).collect();
        assert_eq!(slugs, ["title", "links--here", "links--here-1"]);
        assert_eq!(p.headings[1].line, 6);
        let links: Vec<&str> = p.links.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(links, ["other.md#x", "img.png"]);
        assert_eq!(p.links[0].line, 8);
        assert_eq!(p.code_spans[0].text, "run");
        assert_eq!(p.blocks.len(), 1);
        assert_eq!(p.blocks[0].language(), "sh");
        assert!(p.blocks[0].has_attribute("runnable"));
        assert_eq!(p.blocks[0].line, 10);
        assert_eq!(p.blocks[0].code, "curl -f http://127.0.0.1:8080/healthz\n");
        assert_eq!(
            p.opening.as_deref(),
            Some("After this page you can run things and more.")
        );
    }

    #[test]
    fn no_opening_when_the_title_is_followed_by_code() {
        let p = Page::parse("x.md", "# T\n\n```sh\nls\n```\n\nLater.\n");
        assert_eq!(p.opening, None);
    }
}
