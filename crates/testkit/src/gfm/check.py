"""Renders markdown as GitHub does (cmark-gfm, GitHub's extensions, raw HTML kept) and says
what a reader would see wrong. Input on stdin: a JSON list of [name, markdown]. Output: a JSON
list of problems, each naming the document."""

import json
import re
import sys
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options

# Markdown we wrote that did not render: a code span or bold shown as its markers, an escape
# shown as a backslash, an entity shown as itself.
LITERAL = [
    (re.compile(r"(?<![\w`])`[^`\s][^`\n]*`(?![\w`])"), "a code span shown with its backticks"),
    (re.compile(r"(?<![\w*])\*\*[^*\s][^*\n]*\*\*(?![\w*])"), "bold shown with its asterisks"),
    (re.compile(r"\\[\\`*_{}\[\]()#+\-.!|~<>:=$]"), "a markdown escape shown as a backslash"),
    (re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-z]+);"), "an entity shown as its text"),
]


class Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.texts = []
        self.counts = {}
        self.cells = 0
        self.problems = []

    def handle_starttag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if tag in ("td", "th"):
            self.cells += 1
        if tag not in ("br", "hr", "img", "input", "meta", "wbr"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass
        self.counts["/" + tag] = self.counts.get("/" + tag, 0) + 1

    def handle_data(self, data):
        if not any(tag in ("code", "pre") for tag in self.stack):
            self.texts.append(data)


def unescaped_pipes(line):
    count, escaped = 0, False
    for character in line:
        if escaped:
            escaped = False
        elif character == "\\":
            escaped = True
        elif character == "|":
            count += 1
    return count


def markdown_cells(markdown):
    """Cells of every pipe table, counted in the source (GFM drops cells beyond the header's)."""
    lines = markdown.split("\n")
    total, index, fenced = 0, 0, False
    delimiter = re.compile(r"^\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$")
    while index < len(lines):
        line = lines[index]
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if (
            not fenced
            and line.startswith("|")
            and index + 1 < len(lines)
            and delimiter.match(lines[index + 1])
        ):
            header = unescaped_pipes(line) - 1
            total += header
            index += 2
            while index < len(lines) and lines[index].startswith("|"):
                cells = unescaped_pipes(lines[index]) - 1
                if cells != header:
                    yield f"a table row has {cells} cells where its header has {header}: {lines[index][:120]!r}"
                total += header
                index += 1
            continue
        index += 1
    yield total


def check(name, markdown):
    problems = []
    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    reader = Reader()
    reader.feed(html)
    text = "".join(reader.texts)
    for pattern, what in LITERAL:
        for found in pattern.finditer(text):
            start = max(found.start() - 40, 0)
            problems.append(f"{name}: {what}: …{text[start:found.end() + 40]!r}")
            break
    for tag in ("details", "summary", "table"):
        opened, closed = reader.counts.get(tag, 0), reader.counts.get("/" + tag, 0)
        if opened != closed:
            problems.append(f"{name}: {opened} <{tag}> but {closed} </{tag}>")
    *row_problems, cells = list(markdown_cells(markdown))
    problems.extend(f"{name}: {problem}" for problem in row_problems)
    if cells != reader.cells:
        problems.append(f"{name}: the tables have {cells} cells in the source but {reader.cells} rendered")
    return problems


def main():
    documents = json.load(sys.stdin)
    problems = []
    for name, markdown in documents:
        problems.extend(check(name, markdown))
    json.dump(problems, sys.stdout)


main()
