//! Markdown that untrusted text cannot break.
//!
//! Resource names, test names and scanner messages come from people we do not trust (a fork PR
//! names its own tests). Everything such text passes through here before it reaches a comment,
//! a summary or an issue, so that it cannot open an HTML tag, close our `<details>` early, ping
//! `@someone` or `#123`, end a code fence, split a table cell, or hide behind a right-to-left mark.
//!
//! The helpers return `String`s of rendered markdown; the rule is that every untrusted string is
//! wrapped by [`text`], [`code`], [`code_block`] or a [`Table`] cell on its way in. [`Document`]
//! then assembles blocks and cuts the whole to a byte budget without losing the verdict.

use std::fmt::Write as _;

/// Zero-width space, as an entity: breaks `@name` and `#123` auto-links without changing what a
/// reader sees.
const BREAK_LINK: &str = "&#8203;";

/// Characters that reorder or hide text (bidirectional controls): shown as `[U+XXXX]`.
fn is_bidi_control(character: char) -> bool {
    matches!(character, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Characters that take no room (zero-width space, joiners, word joiner, the byte-order mark):
/// they hide a difference between two names that look alike, so they are shown as `[U+200B]`.
fn is_zero_width(character: char) -> bool {
    matches!(
        character,
        '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{180E}' | '\u{00AD}'
    )
}

/// Replaces what a reader cannot see or that changes the display: control characters become
/// U+FFFD, bidi controls and zero-width characters a visible `[U+202E]`, line breaks and tabs a
/// space.
fn visible(character: char, out: &mut String) -> bool {
    match character {
        '\n' | '\r' | '\t' => out.push(' '),
        c if is_bidi_control(c) || is_zero_width(c) => {
            let _ = write!(out, "[U+{:04X}]", u32::from(c));
        }
        c if c.is_control() => out.push('\u{FFFD}'),
        _ => return false,
    }
    true
}

/// Untrusted text as inline markdown: HTML-escaped, markdown punctuation backslash-escaped,
/// mentions and issue references broken, invisible characters made visible, all on one line.
pub fn text(untrusted: &str) -> String {
    let mut out = String::with_capacity(untrusted.len() + untrusted.len() / 8);
    let mut previous = ' ';
    for character in untrusted.chars() {
        if visible(character, &mut out) {
            previous = ' ';
            continue;
        }
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '@' => {
                out.push('@');
                out.push_str(BREAK_LINK);
            }
            '#' => {
                out.push_str("\\#");
                out.push_str(BREAK_LINK);
            }
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '+' | '-' | '!' | '|' | '~' | '{'
            | '}' | '=' | '$' | ':' => {
                out.push('\\');
                out.push(character);
            }
            // `1.` at the start of a line would start a list; escape every dot after a digit.
            '.' if previous.is_ascii_digit() => out.push_str("\\."),
            c => out.push(c),
        }
        previous = character;
    }
    // Leading spaces would indent (a code block), trailing ones break the line: make the outer
    // ones entities, which render as spaces but count as neither.
    if out.starts_with(' ') {
        out.replace_range(0..1, "&#32;");
    }
    if out.ends_with(' ') {
        out.replace_range(out.len() - 1.., "&#32;");
    }
    out
}

/// A sentence of ours that quotes names in backticks (`` `baseline: auto` found no baseline on
/// `main` ``), as inline markdown: what is between a pair of backticks becomes a code span
/// ([`code`]), the rest is escaped ([`text`]). The pieces are each made inert, so a quoted name
/// that holds a backtick of its own can only shift which piece is code, never break out.
pub fn prose(sentence: &str) -> String {
    let mut out = String::with_capacity(sentence.len() + 16);
    for piece in quoted(sentence) {
        match piece {
            Piece::Code(name) => out.push_str(&code(name)),
            Piece::Words {
                text: words,
                first,
                last,
                stray,
            } => {
                if stray {
                    out.push_str(&text("`"));
                }
                // Spaces inside the sentence need no entity: only its own ends could indent
                // or break a line.
                let mut escaped = text(words);
                if !first && escaped.starts_with("&#32;") {
                    escaped.replace_range(..5, " ");
                }
                if !last && escaped.ends_with("&#32;") {
                    let at = escaped.len() - 5;
                    escaped.replace_range(at.., " ");
                }
                out.push_str(&escaped);
            }
        }
    }
    out
}

/// A piece of a sentence that quotes names in backticks.
enum Piece<'a> {
    /// A quoted name.
    Code(&'a str),
    /// Words around the names; `stray` when an unpaired backtick came before them.
    Words {
        text: &'a str,
        first: bool,
        last: bool,
        stray: bool,
    },
}

/// The sentence's pieces: what is between a pair of backticks is a name; a last unpaired
/// backtick opens nothing.
fn quoted(sentence: &str) -> impl Iterator<Item = Piece<'_>> {
    let pieces: Vec<&str> = sentence.split('`').collect();
    let count = pieces.len();
    let paired = if count % 2 == 1 { count } else { count - 1 };
    pieces.into_iter().enumerate().map(move |(index, piece)| {
        if index % 2 == 1 && index < paired {
            Piece::Code(piece)
        } else {
            Piece::Words {
                text: piece,
                first: index == 0,
                last: index + 1 == count,
                stray: index >= paired,
            }
        }
    })
}

/// Untrusted text as an inline code span: the fence is longer than any backtick run inside, so
/// the text cannot end it; invisible characters are made visible; all on one line.
pub fn code(untrusted: &str) -> String {
    let mut content = String::with_capacity(untrusted.len());
    if is_plain_ascii(untrusted, false) {
        content.push_str(untrusted);
    } else {
        for character in untrusted.chars() {
            if !visible(character, &mut content) {
                content.push(character);
            }
        }
    }
    if content.is_empty() {
        return "` `".to_owned();
    }
    let content = break_comment_openers(content);
    let fence = "`".repeat(longest_run(&content, b'`') + 1);
    // A space on each side when the content touches a backtick (or is all spaces); CommonMark
    // strips exactly one from each side.
    let pad = content.starts_with('`') || content.ends_with('`') || content.starts_with(' ');
    let space = if pad { " " } else { "" };
    format!("{fence}{space}{content}{space}{fence}")
}

/// Untrusted text as a fenced code block (`language` may be empty). The fence is longer than
/// any backtick run in the text, so the text cannot close it; it ends with a newline.
pub fn code_block(language: &str, untrusted: &str) -> String {
    let mut content = String::with_capacity(untrusted.len());
    if is_plain_ascii(untrusted, true) {
        content.push_str(untrusted);
    } else {
        for character in untrusted.chars() {
            match character {
                '\n' | '\t' => content.push(character),
                '\r' => {}
                c if is_bidi_control(c) || is_zero_width(c) => {
                    let _ = write!(content, "[U+{:04X}]", u32::from(c));
                }
                c if c.is_control() => content.push('\u{FFFD}'),
                c => content.push(c),
            }
        }
    }
    let content = break_comment_openers(content);
    let fence = "`".repeat((longest_run(&content, b'`') + 1).max(3));
    let language: String = language
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '_'))
        .collect();
    let newline = if content.ends_with('\n') || content.is_empty() {
        ""
    } else {
        "\n"
    };
    format!("{fence}{language}\n{content}{newline}{fence}\n")
}

/// Zero-width space, as a character: [`inert`] puts it in text it must not re-escape (a code
/// block shows an entity as written).
const ZERO_WIDTH_SPACE: char = '\u{200B}';

/// Code shows `<` as it is, so untrusted code could hold `<!-- gantry:terraform-plan:infra -->`
/// or a section delimiter, and a body quoting it would pose as another of our comments or end
/// our section early. A zero-width space after `<!-` breaks every HTML comment opener without
/// changing what a reader sees.
fn break_comment_openers(content: String) -> String {
    if !content.contains("<!--") {
        return content;
    }
    content.replace("<!--", "<!-\u{200B}-")
}

/// An HTML character reference that stands for `@` or `#` (`&#64;`, `&#x40;`, `&commat;`,
/// `&#35;`, `&#x23;`, `&num;`, with any leading zeros or case): GitHub decodes it before it
/// links mentions and issues. Returns the character and the reference's length.
fn pinging_reference(rest: &str) -> Option<(char, usize)> {
    let end = rest.get(..rest.len().min(16))?.find(';')?;
    let name = rest[1..end].to_ascii_lowercase();
    let decoded = if let Some(hex) = name.strip_prefix("#x") {
        u32::from_str_radix(hex, 16).ok()
    } else if let Some(decimal) = name.strip_prefix('#') {
        decimal.parse::<u32>().ok()
    } else {
        match name.as_str() {
            "commat" => Some(0x40),
            "num" => Some(0x23),
            _ => None,
        }
    };
    match decoded? {
        0x40 => Some(('@', end + 1)),
        0x23 => Some(('#', end + 1)),
        _ => None,
    }
}

/// Markdown written by someone else (a saved report from a fork's run), made inert without
/// changing how it reads: outside code, `@name` no longer mentions anyone and `#123`, `GH-123`
/// and `owner/repo#123` no longer link an issue; everywhere, code included, an HTML comment
/// that opens like gantry's markers (`<!-- gantry:`) is broken, so the text can neither pose as
/// one of our comments nor end one of our sections. Code keeps its text otherwise: nothing in a
/// code span or block links or mentions.
pub fn inert(untrusted: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut code: Vec<std::ops::Range<usize>> = Vec::new();
    for (event, range) in Parser::new_ext(untrusted, options).into_offset_iter() {
        if matches!(event, Event::Code(_) | Event::Start(Tag::CodeBlock(_))) {
            code.push(range);
        }
    }
    let in_code = |at: usize| code.iter().any(|range| range.contains(&at));
    let mut out = String::with_capacity(untrusted.len() + untrusted.len() / 16);
    let mut characters = untrusted.char_indices().peekable();
    while let Some((at, character)) = characters.next() {
        if character == '&' && !in_code(at) {
            if let Some((stands_for, length)) = pinging_reference(&untrusted[at..]) {
                // Written as the character it stands for, then treated as that character.
                out.push_str(&untrusted[at..at + length]);
                while characters
                    .peek()
                    .is_some_and(|&(next_at, _)| next_at < at + length)
                {
                    characters.next();
                }
                let next = characters.peek().map(|&(_, next)| next);
                let links = if stands_for == '@' {
                    next.is_some_and(|next| next.is_ascii_alphanumeric())
                } else {
                    next.is_some_and(|next| next.is_ascii_digit())
                };
                if links {
                    out.push(ZERO_WIDTH_SPACE);
                }
                continue;
            }
        }
        out.push(character);
        let next = characters.peek().map(|&(_, next)| next);
        match character {
            '@' | '#' if !in_code(at) => {
                let links = if character == '@' {
                    next.is_some_and(|next| next.is_ascii_alphanumeric())
                } else {
                    next.is_some_and(|next| next.is_ascii_digit())
                };
                if links {
                    out.push(ZERO_WIDTH_SPACE);
                }
            }
            'H' if !in_code(at)
                && out.ends_with("GH")
                && untrusted[at + 1..].starts_with('-')
                && untrusted[at + 1..]
                    .chars()
                    .nth(1)
                    .is_some_and(|digit| digit.is_ascii_digit()) =>
            {
                out.push(ZERO_WIDTH_SPACE);
            }
            '-' if untrusted[..=at].ends_with("<!--")
                && untrusted[at + 1..].trim_start().starts_with("gantry") =>
            {
                out.push(ZERO_WIDTH_SPACE);
            }
            _ => {}
        }
    }
    out
}

/// GitHub's limit on an issue's title, in characters.
pub const TITLE_LIMIT_CHARS: usize = 256;

/// Untrusted text as an issue or check-run title, which GitHub shows as plain text on one
/// line: line breaks and tabs become spaces, control, bidi and zero-width characters are made
/// visible, no HTML comment opens, and it is cut to `max_chars` characters.
pub fn title(untrusted: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(untrusted.len());
    for character in untrusted.chars() {
        if !visible(character, &mut out) {
            out.push(character);
        }
    }
    let out = break_comment_openers(out);
    shorten(out.trim(), max_chars).into_owned()
}

/// `text` cut to at most `limit` bytes at a character boundary, with `…` when cut.
pub fn fit(text: &str, limit: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= limit {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut end = limit.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!("{}…", &text[..end]))
}

/// Printable ASCII only (and newlines and tabs when `lines`): nothing to make visible, so the
/// text can be copied as it is.
fn is_plain_ascii(text: &str, lines: bool) -> bool {
    text.bytes()
        .all(|byte| matches!(byte, b' '..=b'~') || (lines && matches!(byte, b'\n' | b'\t')))
}

fn longest_run(text: &str, wanted: u8) -> usize {
    let mut longest = 0;
    let mut current = 0;
    for byte in text.bytes() {
        if byte == wanted {
            current += 1;
            longest = longest.max(current);
        } else {
            current = 0;
        }
    }
    longest
}

/// At most `max_chars` characters of `untrusted`, with `…` when cut (apply before escaping).
pub fn shorten(untrusted: &str, max_chars: usize) -> std::borrow::Cow<'_, str> {
    if untrusted.len() <= max_chars {
        // No more bytes than the limit, so no more characters.
        return std::borrow::Cow::Borrowed(untrusted);
    }
    match untrusted.char_indices().nth(max_chars.saturating_sub(1)) {
        Some((index, _)) if untrusted[index..].chars().nth(1).is_some() => {
            std::borrow::Cow::Owned(format!("{}…", &untrusted[..index]))
        }
        _ => std::borrow::Cow::Borrowed(untrusted),
    }
}

/// A link whose label is untrusted text and whose address is built by us; characters that
/// would end the address (`()<>`, spaces, quotes) are percent-encoded.
pub fn link(untrusted_label: &str, url: &str) -> String {
    format!("[{}]({})", text(untrusted_label), link_address(url))
}

/// A link whose label is an untrusted name shown as code (a rule id, a CVE).
pub fn code_link(untrusted_label: &str, url: &str) -> String {
    format!("[{}]({})", code(untrusted_label), link_address(url))
}

/// `url` with what would end a link's address percent-encoded.
fn link_address(url: &str) -> String {
    let mut address = String::with_capacity(url.len());
    for byte in url.bytes() {
        if byte.is_ascii_graphic() && !b"()<>\"'\\`".contains(&byte) {
            address.push(char::from(byte));
        } else {
            let _ = write!(address, "%{byte:02X}");
        }
    }
    address
}

/// `url` with any `user:password@` before its host replaced by `***@`, for every place a URL
/// is printed (an error, a log line, a summary): credentials in a URL are sent as
/// authorization, never shown.
pub fn redact_userinfo(url: &str) -> std::borrow::Cow<'_, str> {
    let Some(scheme_end) = url.find("://") else {
        return std::borrow::Cow::Borrowed(url);
    };
    let authority_start = scheme_end + 3;
    let rest = &url[authority_start..];
    let authority_end = rest.find(['/', '?', '#']).map_or(rest.len(), |end| end);
    // The userinfo is before the host; a password written with a raw `/` (not `%2F`) ends the
    // authority early, so `user:…@` before the query counts too.
    let before_query = rest.find(['?', '#', ' ']).map_or(rest.len(), |end| end);
    let userinfo_end = rest[..authority_end].rfind('@').or_else(|| {
        rest[..before_query]
            .rfind('@')
            .filter(|&at| rest[..at].contains(':'))
    });
    match userinfo_end {
        Some(at) => {
            std::borrow::Cow::Owned(format!("{}***{}", &url[..authority_start], &rest[at..]))
        }
        None => std::borrow::Cow::Borrowed(url),
    }
}

/// Percent-encodes one path of a URL (a file path from a report): `/` is kept.
pub fn url_path(untrusted_path: &str) -> String {
    percent_encode(untrusted_path, b"/-_.~")
}

/// Percent-encodes a query-string value: only unreserved characters are kept.
pub fn url_query_value(untrusted: &str) -> String {
    percent_encode(untrusted, b"-_.~")
}

fn percent_encode(text: &str, keep: &[u8]) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || keep.contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

/// A folded block. `summary` is untrusted text; `body` is markdown built with these helpers.
/// The blank lines around the body make GitHub render it as markdown, not HTML.
pub fn details(untrusted_summary: &str, body: &str, open: bool) -> String {
    details_html(&html_text(untrusted_summary), body, open)
}

/// A fold whose summary is HTML already made inert ([`html_text`], [`html_prose`]): markdown
/// inside `<summary>` is not markdown, so a code span there is written as `<code>`.
pub fn details_html(summary: &str, body: &str, open: bool) -> String {
    let open = if open { " open" } else { "" };
    let newline = if body.ends_with('\n') { "" } else { "\n" };
    format!("<details{open}><summary>{summary}</summary>\n\n{body}{newline}\n</details>\n")
}

/// A sentence of ours that quotes names in backticks, as HTML for inside an element (a
/// `<summary>`): the quoted names as `<code>`, everything escaped ([`prose`]'s rule).
pub fn html_prose(sentence: &str) -> String {
    let mut out = String::with_capacity(sentence.len() + 16);
    for piece in quoted(sentence) {
        match piece {
            Piece::Code(name) => {
                let _ = write!(out, "<code>{}</code>", html_text(name));
            }
            Piece::Words {
                text: words, stray, ..
            } => {
                if stray {
                    out.push('`');
                }
                out.push_str(&html_text(words));
            }
        }
    }
    out
}

/// Untrusted text inside an HTML element (a `<summary>`): HTML-escaped, pings broken, one line.
/// Markdown is not parsed inside raw HTML blocks, so no backslashes are added.
pub fn html_text(untrusted: &str) -> String {
    let mut out = String::with_capacity(untrusted.len());
    for character in untrusted.chars() {
        if visible(character, &mut out) {
            continue;
        }
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '@' => {
                out.push('@');
                out.push_str(BREAK_LINK);
            }
            '#' => {
                out.push('#');
                out.push_str(BREAK_LINK);
            }
            c => out.push(c),
        }
    }
    out
}

/// How a table column is aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Left (text).
    Left,
    /// Right (numbers).
    Right,
    /// Centre.
    Center,
}

/// A GitHub-flavoured markdown table. Cells are inline markdown built with [`text`], [`code`] or
/// [`link`]; the table itself makes sure no cell can add a column or a row.
#[derive(Debug, Clone)]
pub struct Table {
    header: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these (trusted) column titles and alignments.
    pub fn new(columns: &[(&str, Align)]) -> Self {
        Self {
            header: columns
                .iter()
                .map(|(title, align)| ((*title).to_owned(), *align))
                .collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row of inline-markdown cells; missing cells are left blank, extra ones dropped.
    pub fn row<I, S>(&mut self, cells: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut row: Vec<String> = cells.into_iter().map(Into::into).collect();
        row.resize(self.header.len(), String::new());
        self.rows.push(row);
        self
    }

    /// Number of rows so far.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Renders the table, ending with a newline.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push('|');
        for (title, _) in &self.header {
            let _ = write!(out, " {} |", table_cell(title));
        }
        out.push_str("\n|");
        for (_, align) in &self.header {
            out.push_str(match align {
                Align::Left => " --- |",
                Align::Right => " ---: |",
                Align::Center => " :---: |",
            });
        }
        out.push('\n');
        for row in &self.rows {
            out.push('|');
            for cell in row {
                let _ = write!(out, " {} |", table_cell(cell));
            }
            out.push('\n');
        }
        out
    }
}

/// Makes inline markdown safe as a cell: one line, every `|` escaped (GFM un-escapes `\|`
/// inside code spans in cells too), never empty.
fn table_cell(inline: &str) -> String {
    let mut out = String::with_capacity(inline.len() + 2);
    let mut backslashes = 0usize;
    for character in inline.chars() {
        match character {
            '\n' | '\r' => {
                out.push(' ');
                backslashes = 0;
            }
            '|' => {
                if backslashes % 2 == 0 {
                    out.push('\\');
                }
                out.push('|');
                backslashes = 0;
            }
            '\\' => {
                out.push('\\');
                backslashes += 1;
            }
            c => {
                out.push(c);
                backslashes = 0;
            }
        }
    }
    if out.trim().is_empty() {
        out.clear();
        out.push(' ');
    }
    out
}

/// Whether a block of a [`Document`] may be shortened or left out to meet a budget.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Keep {
    /// Verdict, totals, warnings: never left out.
    Always,
    /// Details: folded to `folded` (when given), then left out, largest first.
    IfRoom {
        label: String,
        folded: Option<std::sync::Arc<str>>,
    },
}

/// A block's text: its own, or a range of a shared buffer (a rendering that is also the step
/// summary, so the summary and the blocks the comment is cut from are one copy in memory).
#[derive(Debug, Clone)]
enum Text {
    Own(std::sync::Arc<str>),
    Shared(std::sync::Arc<String>, std::ops::Range<usize>),
}

impl Text {
    fn as_str(&self) -> &str {
        match self {
            Self::Own(text) => text,
            Self::Shared(buffer, range) => buffer.get(range.clone()).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone)]
struct Block {
    /// Shared, so appending a rendered section to several documents copies no text.
    markdown: Text,
    keep: Keep,
}

/// What [`Document::render_within`] had to leave out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cut {
    /// Labels of the sections shown folded (shortened) rather than in full.
    pub folded: Vec<String>,
    /// Labels of the sections left out entirely.
    pub omitted: Vec<String>,
    /// Whether even the essential blocks had to be cut.
    pub essentials_cut: bool,
}

impl Cut {
    /// Whether nothing was shortened.
    pub fn is_empty(&self) -> bool {
        self.folded.is_empty() && self.omitted.is_empty() && !self.essentials_cut
    }
}

/// A markdown document of blocks that knows which blocks matter most.
#[derive(Debug, Clone, Default)]
pub struct Document {
    blocks: Vec<Block>,
}

impl Document {
    /// An empty document.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a block that must survive every cut: the verdict, the totals, the warnings.
    pub fn essential(&mut self, markdown: impl Into<String>) -> &mut Self {
        self.blocks.push(Block {
            markdown: Text::Own(with_block_end(markdown.into()).into()),
            keep: Keep::Always,
        });
        self
    }

    /// Adds a block whose text is `range` of a shared `buffer` (ending with the blank line of
    /// [`block_ending`]): an essential one when `label` is `None`, else a detail as
    /// [`Document::detail`]. Nothing is copied.
    pub fn shared(
        &mut self,
        buffer: &std::sync::Arc<String>,
        range: std::ops::Range<usize>,
        label: Option<String>,
        folded: Option<String>,
    ) -> &mut Self {
        self.blocks.push(Block {
            markdown: Text::Shared(std::sync::Arc::clone(buffer), range),
            keep: match label {
                None => Keep::Always,
                Some(label) => Keep::IfRoom {
                    label,
                    folded: folded.map(|folded| with_block_end(folded).into()),
                },
            },
        });
        self
    }

    /// Adds a detail block, labelled for the "left out" note (the label is untrusted text);
    /// `folded` is a shorter form to use before dropping it.
    pub fn detail(
        &mut self,
        label: impl Into<String>,
        markdown: impl Into<String>,
        folded: Option<String>,
    ) -> &mut Self {
        self.blocks.push(Block {
            markdown: Text::Own(with_block_end(markdown.into()).into()),
            keep: Keep::IfRoom {
                label: label.into(),
                folded: folded.map(|folded| with_block_end(folded).into()),
            },
        });
        self
    }

    /// Adds every block of `other` after these, keeping their kinds.
    pub fn append(&mut self, other: &Document) -> &mut Self {
        self.blocks.extend(other.blocks.iter().cloned());
        self
    }

    /// The whole document.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(self.len());
        for block in &self.blocks {
            out.push_str(block.markdown.as_str());
        }
        out
    }

    /// The length in bytes of the whole document.
    pub fn len(&self) -> usize {
        self.blocks
            .iter()
            .map(|block| block.markdown.as_str().len())
            .sum()
    }

    /// Whether the document has no text.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The document in at most `budget` bytes of UTF-8. Details are folded, then left out,
    /// largest first; essential blocks are kept (cut at a line only if they alone are over the
    /// budget). When anything was cut a note says what, and where the full text is
    /// (`full_text_at`, e.g. "the job's step summary").
    pub fn render_within(&self, budget: usize, full_text_at: &str) -> (String, Cut) {
        let full_len = self.len();
        if full_len <= budget {
            return (self.render(), Cut::default());
        }
        let mut chosen: Vec<Option<&str>> = self
            .blocks
            .iter()
            .map(|block| Some(block.markdown.as_str()))
            .collect();
        let mut cut = Cut::default();
        // Room for the note, which lists at most a few labels.
        let reserve = 600 + full_text_at.len().min(200);
        let target = budget.saturating_sub(reserve);
        let mut size = full_len;

        // Largest first; among equals, the later block goes first (the reader meets the earlier).
        let mut details: Vec<usize> = (0..self.blocks.len())
            .filter(|&index| matches!(self.blocks[index].keep, Keep::IfRoom { .. }))
            .collect();
        details.sort_by_key(|&index| {
            (
                std::cmp::Reverse(self.blocks[index].markdown.as_str().len()),
                std::cmp::Reverse(index),
            )
        });

        for &index in &details {
            if size <= target {
                break;
            }
            if let Keep::IfRoom {
                label,
                folded: Some(folded),
            } = &self.blocks[index].keep
            {
                let full_len = self.blocks[index].markdown.as_str().len();
                if folded.len() < full_len {
                    chosen[index] = Some(folded);
                    size = size - full_len + folded.len();
                    cut.folded.push(label.clone());
                }
            }
        }
        if size > target {
            let mut by_current_size = details;
            by_current_size.sort_by_key(|&index| {
                (
                    std::cmp::Reverse(chosen[index].map_or(0, str::len)),
                    std::cmp::Reverse(index),
                )
            });
            let mut dropped_folded = crate::collections::FixedHashSet::default();
            for &index in &by_current_size {
                if size <= target {
                    break;
                }
                if let Keep::IfRoom { label, .. } = &self.blocks[index].keep {
                    size -= chosen[index].map_or(0, str::len);
                    let full: &str = self.blocks[index].markdown.as_str();
                    if chosen[index].is_some_and(|text| !std::ptr::eq(text, full)) {
                        dropped_folded.insert(label.clone());
                    }
                    chosen[index] = None;
                    cut.omitted.push(label.clone());
                }
            }
            if !dropped_folded.is_empty() {
                cut.folded.retain(|label| !dropped_folded.contains(label));
            }
        }

        // The note says what was cut and must always fit: drop more details (largest first)
        // until text and note fit together.
        let mut note = cut_note(&cut, full_text_at);
        while size + note.len() > budget {
            let largest = (0..self.blocks.len())
                .filter(|&index| {
                    matches!(self.blocks[index].keep, Keep::IfRoom { .. })
                        && chosen[index].is_some()
                })
                .max_by_key(|&index| (chosen[index].map_or(0, str::len), std::cmp::Reverse(index)));
            let Some(index) = largest else { break };
            if let Keep::IfRoom { label, .. } = &self.blocks[index].keep {
                size -= chosen[index].map_or(0, str::len);
                chosen[index] = None;
                cut.folded.retain(|folded| folded != label);
                cut.omitted.push(label.clone());
            }
            note = cut_note(&cut, full_text_at);
        }
        let mut out = String::with_capacity(budget);
        for block in chosen.iter().flatten() {
            out.push_str(block);
        }
        if out.len() + note.len() > budget {
            // Only the essential blocks are left, and they alone are too long.
            cut.essentials_cut = true;
            note = cut_note(&cut, full_text_at);
            truncate_at_line(&mut out, budget.saturating_sub(note.len()));
        }
        out.push_str(&note);
        if out.len() > budget {
            // Only reachable with a budget smaller than the note itself.
            truncate_at_line(&mut out, budget);
        }
        (out, cut)
    }
}

fn with_block_end(mut markdown: String) -> String {
    markdown.push_str(block_ending(&markdown));
    markdown
}

/// What a block needs appended to end with the blank line that separates blocks (what
/// [`Document`] adds to every block; for callers that build shared buffers).
pub fn block_ending(markdown: &str) -> &'static str {
    if markdown.ends_with("\n\n") {
        ""
    } else if markdown.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    }
}

/// Cuts `text` to at most `limit` bytes at a line boundary (or a character boundary when the
/// first line alone is longer).
fn truncate_at_line(text: &mut String, limit: usize) {
    if text.len() <= limit {
        return;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if let Some(newline) = text[..end].rfind('\n') {
        end = newline + 1;
    }
    text.truncate(end);
}

fn cut_note(cut: &Cut, full_text_at: &str) -> String {
    const LISTED: usize = 5;
    let describe = |labels: &[String]| {
        let mut named: Vec<String> = labels
            .iter()
            .take(LISTED)
            .map(|label| text(&shorten(label, 48)))
            .collect();
        if labels.len() > LISTED {
            named.push(format!("{} more", labels.len() - LISTED));
        }
        named.join(", ")
    };
    let mut parts = Vec::new();
    if !cut.folded.is_empty() {
        parts.push(format!(
            "{} section(s) shortened ({})",
            cut.folded.len(),
            describe(&cut.folded)
        ));
    }
    if !cut.omitted.is_empty() {
        parts.push(format!(
            "{} section(s) left out ({})",
            cut.omitted.len(),
            describe(&cut.omitted)
        ));
    }
    if cut.essentials_cut {
        parts.push("the summary itself was cut".to_owned());
    }
    format!(
        "\n> [!NOTE]\n> This text was too long for GitHub: {}. The full text is in {}.\n",
        parts.join("; "),
        text(&shorten(full_text_at, 200))
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn prose_makes_quoted_names_code_and_escapes_the_rest() {
        assert_eq!(
            prose("`baseline: auto` found *none* on `main`"),
            "`baseline: auto` found \\*none\\* on `main`"
        );
        // A name with a backtick of its own shifts the pairing; nothing is left unescaped.
        let odd = prose("on `ma`in` <b>");
        assert!(!odd.contains("<b>"), "{odd}");
        assert!(
            odd.ends_with("\\`in\\` &lt;b&gt;") || odd.contains("&lt;b&gt;"),
            "{odd}"
        );
    }

    use super::*;

    /// Every way a gantry marker or section delimiter could be written by untrusted text.
    const FORGERIES: [&str; 3] = [
        "<!-- gantry:terraform-plan:infra -->",
        "<!-- gantry:section:prod -->",
        "<!-- gantry:section-end:prod -->",
    ];

    #[test]
    fn untrusted_text_can_never_write_a_marker_or_a_section_delimiter() {
        for forged in FORGERIES {
            let value = format!("a\n{forged}\nb");
            let table = {
                let mut table = Table::new(&[("value", Align::Left)]);
                table.row([code(&value)]).row([text(&value)]);
                table.render()
            };
            for rendered in [
                text(&value),
                code(&value),
                code_block("hcl", &value),
                html_text(&value),
                details(&value, "body", false),
                table,
            ] {
                assert!(!rendered.contains("<!--"), "{forged} survived: {rendered}");
            }
            // Someone else's markdown keeps its own HTML comments, never one like ours.
            let kept = inert(&value);
            assert!(!kept.contains("<!-- gantry"), "{forged} survived: {kept}");
        }
        // What a reader sees is unchanged: only a zero-width space was put in.
        assert_eq!(code("<!-- x -->").replace('\u{200B}', ""), "`<!-- x -->`");
    }

    #[test]
    fn character_references_that_ping_are_broken_like_the_characters() {
        for reference in ["&#64;", "&#x40;", "&#X40;", "&commat;", "&#064;"] {
            let written = inert(&format!("Approved by {reference}octo-org/admins"));
            assert!(
                written.contains(&format!("{reference}\u{200B}octo")),
                "{reference}: {written}"
            );
        }
        for reference in ["&#35;", "&#x23;", "&num;"] {
            let written = inert(&format!("fixes {reference}123"));
            assert!(
                written.contains(&format!("{reference}\u{200B}123")),
                "{reference}: {written}"
            );
        }
        // Other references, and ones that ping nothing, are left as they are.
        assert_eq!(inert("a &amp; b &#64; c"), "a &amp; b &#64; c");
        // In text, `&` itself is escaped: a reference is shown, never decoded.
        assert_eq!(text("&#64;admins"), "&amp;\\#&#8203;64;admins");
    }

    #[test]
    fn credentials_in_a_url_are_never_shown() {
        assert_eq!(
            redact_userinfo("https://admin:pa/ss@prom.example:9090/api?q=a@b"),
            "https://***@prom.example:9090/api?q=a@b"
        );
        assert_eq!(redact_userinfo("http://tok@host"), "http://***@host");
        assert_eq!(
            redact_userinfo("https://host/path@x"),
            "https://host/path@x"
        );
        assert_eq!(redact_userinfo("not a url"), "not a url");
    }

    #[test]
    fn titles_are_one_plain_line_within_githubs_limit() {
        let hostile = format!(
            "Drift: stack prod\r\n<!-- gantry:drift-report:stack/x --> \u{202E}{}",
            "x".repeat(400)
        );
        let shown = title(&hostile, TITLE_LIMIT_CHARS);
        assert!(!shown.contains(['\r', '\n', '\u{202E}']), "{shown}");
        assert!(!shown.contains("<!--"));
        assert!(shown.contains("[U+202E]"));
        assert_eq!(shown.chars().count(), TITLE_LIMIT_CHARS);
        assert_eq!(title("Drift: stack `shop`", 256), "Drift: stack `shop`");
    }

    #[test]
    fn zero_width_characters_are_shown_like_bidi_controls() {
        let name = "test_lo\u{200B}gin\u{FEFF}";
        assert_eq!(text(name), "test\\_lo[U+200B]gin[U+FEFF]");
        assert_eq!(code(name), "`test_lo[U+200B]gin[U+FEFF]`");
        assert!(code_block("", name).contains("lo[U+200B]gin"));
        assert_eq!(html_text(name), "test_lo[U+200B]gin[U+FEFF]");
    }

    #[test]
    fn inert_markdown_mentions_and_links_nothing_outside_code_and_only_inserts_breaks() {
        let text = "cc @octo-org/admins and @alice: fixes #12, GH-7 and o/r#3.\n\n\
                    ## Heading #not\n\n`@code #1` and\n\n```\n@block #2 GH-9\n```\n\n\
                    <!-- gantry:terraform-plan:ci/plan -->\n<!--gantry:section:x -->\nmail a@b.c";
        let out = inert(text);
        for linked in ["@octo", "@alice", "#12", "GH-7", "#3"] {
            assert!(!out.contains(linked), "{linked} in {out}");
        }
        assert!(
            out.contains("`@code #1`") && out.contains("@block #2 GH-9"),
            "{out}"
        );
        assert!(out.contains("## Heading #not"), "{out}");
        assert!(
            !out.contains("<!-- gantry:") && !out.contains("<!--gantry:"),
            "{out}"
        );
        // Only zero-width spaces are added: what a reader sees is unchanged.
        assert_eq!(out.replace('\u{200B}', ""), text);
        // A marker inside code is broken too: the comment finder reads raw text.
        let in_code = inert("```\n<!-- gantry:a:b -->\n```");
        assert!(!in_code.contains("<!-- gantry:a:b -->"), "{in_code}");
    }

    #[test]
    fn fit_cuts_at_a_character_boundary_within_the_limit() {
        assert_eq!(fit("short", 10), "short");
        let cut = fit("ééééé", 6);
        assert!(cut.len() <= 6 && cut.ends_with('…'), "{cut}");
        assert_eq!(fit("abcdef", 6), "abcdef");
        assert!(fit("abcdefg", 6).len() <= 6);
    }

    #[test]
    fn text_escapes_html_markdown_and_pings() {
        assert_eq!(
            text("<b>@octo #12 *x*</b>"),
            "&lt;b&gt;@&#8203;octo \\#&#8203;12 \\*x\\*&lt;/b&gt;"
        );
        assert_eq!(text("a\nb\u{202E}c\u{7}"), "a b[U+202E]c\u{FFFD}");
        assert_eq!(text("1. item"), "1\\. item");
    }

    #[test]
    fn code_spans_outlast_backticks() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x`"), "`` `x` ``");
        assert_eq!(code(""), "` `");
        assert_eq!(code("two\nlines"), "`two lines`");
    }

    #[test]
    fn code_blocks_outlast_fences() {
        assert_eq!(code_block("hcl", "a = 1"), "```hcl\na = 1\n```\n");
        assert_eq!(
            code_block("", "```\nbreak out\n```"),
            "````\n```\nbreak out\n```\n````\n"
        );
        assert_eq!(code_block("sh; rm -rf", "x\n"), "```shrm-rf\nx\n```\n");
    }

    #[test]
    fn tables_keep_pipes_inside_cells() {
        let mut table = Table::new(&[("name", Align::Left), ("n", Align::Right)]);
        table.row([text("a|b"), "1".to_owned()]);
        table.row([code("x|y"), String::new()]);
        table.row([format!("{}\n{}", text("multi"), text("line"))]);
        assert_eq!(
            table.render(),
            "| name | n |\n| --- | ---: |\n| a\\|b | 1 |\n| `x\\|y` |   |\n| multi line |   |\n"
        );
    }

    #[test]
    fn shorten_counts_characters() {
        assert_eq!(shorten("héllo", 10), "héllo");
        assert_eq!(shorten("héllo", 5), "héllo");
        assert_eq!(shorten("héllo", 3), "hé…");
    }

    #[test]
    fn links_cannot_end_early() {
        assert_eq!(
            link("a](x)", "https://h/blob/s/dir name/(x).rs#L3"),
            "[a\\]\\(x\\)](https://h/blob/s/dir%20name/%28x%29.rs#L3)"
        );
        assert_eq!(url_path("dir name/é(x).rs"), "dir%20name/%C3%A9%28x%29.rs");
    }

    #[test]
    fn render_within_keeps_essentials_and_says_what_was_cut() {
        let mut document = Document::new();
        document.essential("**Verdict: failed** — 3 to add, 1 to destroy");
        document.detail("small", "small detail", None);
        document.detail(
            "big",
            "x".repeat(5_000),
            Some("big (folded: 5000 bytes)".to_owned()),
        );
        document.detail("huge", "y".repeat(20_000), None);
        let (rendered, cut) = document.render_within(3_000, "the step summary");
        assert!(rendered.len() <= 3_000, "{}", rendered.len());
        assert!(rendered.starts_with("**Verdict: failed**"));
        assert!(rendered.contains("small detail"));
        assert!(rendered.contains("big (folded"));
        assert_eq!(cut.folded, ["big"]);
        assert_eq!(cut.omitted, ["huge"]);
        assert!(
            rendered.contains("1 section(s) left out (huge)"),
            "{rendered}"
        );
        assert!(rendered.contains("the step summary"));

        let (untouched, cut) = document.render_within(100_000, "x");
        assert!(cut.is_empty());
        assert_eq!(untouched, document.render());
    }

    #[test]
    fn the_cut_note_survives_many_long_labels() {
        let mut document = Document::new();
        document.essential("**Verdict**");
        for n in 0..2_000 {
            let label =
                format!("module.service_{n}.aws_instance.worker[\"w-{n:06}\"]_with_a_long_tail");
            document.detail(label, "x".repeat(300), Some(format!("- folded {n}")));
        }
        let (rendered, cut) = document.render_within(20_000, "the step summary");
        assert!(rendered.len() <= 20_000);
        assert!(
            rendered.contains("too long for GitHub"),
            "{}",
            &rendered[rendered.len() - 500..]
        );
        assert!(!cut.omitted.is_empty());
    }

    #[test]
    fn render_within_cuts_essentials_only_when_they_alone_overflow() {
        let mut document = Document::new();
        document.essential("line\n".repeat(1_000));
        let (rendered, cut) = document.render_within(1_000, "the log");
        assert!(rendered.len() <= 1_000);
        assert!(cut.essentials_cut);
        assert!(rendered.starts_with("line\nline\n"));
    }
}
