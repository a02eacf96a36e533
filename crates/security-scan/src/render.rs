//! The comment and the step summary: verdict and a severity × tool table first, then new
//! findings (most severe first, linked to the file and line at the head commit), fixed,
//! suppressed, expired suppressions. Scanner text is untrusted and escaped throughout.

use std::fmt::Write as _;

use gantry_core::markdown::{Align, Document, Table, code, link, shorten, text, url_path};

use crate::merge::{BaselineState, Merged};
use crate::severity::Severity;
use crate::{Options, Scan};

const ROWS_PER_TABLE: usize = 50;

/// Rows rendered per list at most: more could never fit the 1 MiB step summary (a row is
/// 150–400 bytes); the rest are counted, and all of them are in the SARIF file.
const MAX_ROWS: usize = 4_000;

fn place(entry: &Merged, options: &Options) -> String {
    let location = &entry.finding.location;
    let Some(path) = &location.path else {
        return String::new();
    };
    let label = match location.start_line {
        Some(line) => format!("{path}:{line}"),
        None => path.clone(),
    };
    match &options.blob_base {
        Some(base) if entry.finding.package.is_none() || location.start_line.is_some() => {
            let anchor = location
                .start_line
                .map(|line| format!("#L{line}"))
                .unwrap_or_default();
            link(
                &shorten(&label, 80),
                &format!("{base}{}{anchor}", url_path(path)),
            )
        }
        _ => code(&shorten(&label, 80)),
    }
}

fn what(entry: &Merged) -> String {
    let finding = &entry.finding;
    let mut out = text(&shorten(&finding.title, 120));
    if let (Some(package), Some(version)) = (&finding.package, &finding.version) {
        let _ = write!(out, " — {}", code(&format!("{package} {version}")));
    }
    out
}

fn table(entries: &[&Merged], options: &Options, with_state: bool) -> Vec<String> {
    entries
        .chunks(ROWS_PER_TABLE)
        .map(|chunk| {
            let mut columns = vec![
                ("severity", Align::Left),
                ("rule", Align::Left),
                ("where", Align::Left),
                ("tools", Align::Left),
                ("finding", Align::Left),
            ];
            if with_state {
                columns.push(("state", Align::Left));
            }
            let mut table = Table::new(&columns);
            for entry in chunk {
                let mut row = vec![
                    entry.finding.severity.word().to_owned(),
                    code(&shorten(
                        entry
                            .finding
                            .vulnerability
                            .as_deref()
                            .unwrap_or(&entry.finding.rule_id),
                        60,
                    )),
                    place(entry, options),
                    text(&entry.tools.join(", ")),
                    what(entry),
                ];
                if with_state {
                    row.push(entry.state.map_or("", BaselineState::word).to_owned());
                }
                table.row(row);
            }
            table.render()
        })
        .collect()
}

/// Tables of findings under a heading, each table its own detail block (cut separately).
fn headed_tables(document: &mut Document, heading: &str, entries: &[&Merged], options: &Options) {
    let shown = &entries[..entries.len().min(MAX_ROWS)];
    for (index, part) in table(shown, options, false).into_iter().enumerate() {
        let title = if index == 0 {
            format!("#### {heading} ({})\n\n", entries.len())
        } else {
            String::new()
        };
        document.detail(
            format!("{}, part {}", heading.to_lowercase(), index + 1),
            format!("{title}{part}"),
            None,
        );
    }
    if entries.len() > shown.len() {
        document.essential(format!(
            "_{} more {} are not listed here; every one is in the merged SARIF file._",
            entries.len() - shown.len(),
            heading.to_lowercase()
        ));
    }
}

/// The detail sections, rendered once for every budget.
pub(crate) fn sections(scan: &Scan, options: &Options, new_findings: &[&Merged]) -> Document {
    let mut document = Document::new();
    headed_tables(&mut document, "New findings", new_findings, options);
    if !scan.absent.is_empty() {
        let mut fixed: Vec<&Merged> = scan.absent.iter().collect();
        fixed.sort_by(|a, b| crate::sarif_out::severity_order(a, b));
        headed_tables(&mut document, "Fixed since the baseline", &fixed, options);
    }
    let suppressed: Vec<&Merged> = scan
        .findings
        .iter()
        .filter(|entry| Scan::is_suppressed(entry))
        .collect();
    if !suppressed.is_empty() {
        let mut block = format!("#### Suppressed ({})\n\n", suppressed.len());
        for entry in suppressed.iter().take(MAX_ROWS) {
            let why = match entry
                .suppressed_by
                .and_then(|index| scan.suppressions.get(index))
            {
                Some(suppression) => format!(
                    "{}{}",
                    text(&suppression.reason),
                    suppression
                        .expires
                        .as_deref()
                        .map(|day| format!(" (until {day})"))
                        .unwrap_or_default()
                ),
                None => "suppressed in the source".to_owned(),
            };
            let _ = writeln!(
                block,
                "- {} {} at {} — {why}",
                entry.finding.severity.word(),
                code(&shorten(&entry.finding.rule_id, 60)),
                place(entry, options)
            );
        }
        document.detail("suppressed findings", block, None);
    }
    let known: Vec<&Merged> = scan
        .findings
        .iter()
        .filter(|entry| {
            !Scan::is_suppressed(entry)
                && matches!(
                    entry.state,
                    Some(BaselineState::Unchanged | BaselineState::Updated)
                )
        })
        .collect();
    if !known.is_empty() {
        let mut known = known;
        known.sort_by(|a, b| crate::sarif_out::severity_order(a, b));
        let count = known.len();
        known.truncate(MAX_ROWS);
        for (index, part) in table(&known, options, true).into_iter().enumerate() {
            document.detail(
                format!("known findings, part {}", index + 1),
                gantry_core::markdown::details(
                    &format!("Already in the baseline ({count})"),
                    &part,
                    false,
                ),
                None,
            );
        }
    }
    document
}

/// The whole text within `budget` bytes.
pub(crate) fn render(
    scan: &Scan,
    options: &Options,
    failing: &[&Merged],
    sections: &Document,
    budget: usize,
    full_text_at: &str,
) -> String {
    let mut document = Document::new();
    let new_count = scan
        .findings
        .iter()
        .filter(|entry| Scan::is_new(entry))
        .count();
    let verdict = if failing.is_empty() {
        format!(
            "### ✅ Security scan: {new_count} new finding(s){}",
            options
                .fail_on
                .map(|floor| format!(", none at or above {}", floor.word()))
                .unwrap_or_default()
        )
    } else {
        format!(
            "### ❌ Security scan: {} new finding(s) at or above {}",
            failing.len(),
            options.fail_on.map_or("", Severity::word)
        )
    };
    document.essential(verdict);

    // Severity × tool: unsuppressed current findings; a finding several tools reported counts
    // in each tool's row and once in the total.
    let mut columns = vec![("tool", Align::Left)];
    columns.extend(
        Severity::ALL
            .iter()
            .map(|severity| (severity.word(), Align::Right)),
    );
    columns.push(("new", Align::Right));
    let mut table = Table::new(&columns);
    // One pass: per tool and overall, unsuppressed findings by severity (most severe first)
    // and new ones.
    let mut by_tool: std::collections::BTreeMap<&str, [usize; 6]> = scan
        .tools
        .iter()
        .map(|tool| (tool.as_str(), [0; 6]))
        .collect();
    let mut all = [0usize; 6];
    for entry in &scan.findings {
        let suppressed = Scan::is_suppressed(entry);
        let column = Severity::ALL
            .iter()
            .position(|severity| *severity == entry.finding.severity)
            .unwrap_or(4);
        let new = Scan::is_new(entry);
        let add = |counts: &mut [usize; 6]| {
            if !suppressed {
                counts[column] += 1;
            }
            if new {
                counts[5] += 1;
            }
        };
        for tool in &entry.tools {
            if let Some(counts) = by_tool.get_mut(tool.as_str()) {
                add(counts);
            }
        }
        add(&mut all);
    }
    let row = |label: String, counts: &[usize; 6]| {
        std::iter::once(label)
            .chain(counts.iter().map(ToString::to_string))
            .collect::<Vec<_>>()
    };
    for (tool, counts) in &by_tool {
        table.row(row(text(tool), counts));
    }
    table.row(row("**all (deduplicated)**".to_owned(), &all));
    document.essential(table.render());

    let suppressed = scan
        .findings
        .iter()
        .filter(|entry| Scan::is_suppressed(entry))
        .count();
    let mut totals = format!(
        "{} finding(s) after deduplication · {new_count} new · {suppressed} suppressed",
        scan.findings.len()
    );
    if scan.with_baseline {
        let _ = write!(totals, " · {} fixed since the baseline", scan.absent.len());
    } else {
        totals.push_str(" · no baseline given, so every finding counts as new");
    }
    document.essential(totals);

    if !scan.expired_used.is_empty() {
        let mut block = String::from(
            "> [!WARNING]\n> Expired suppressions (they no longer suppress anything; renew or remove them):\n",
        );
        for index in &scan.expired_used {
            if let Some(entry) = scan.suppressions.get(*index) {
                let _ = writeln!(
                    block,
                    "> - {} expired {} — {}",
                    code(&entry.id),
                    entry.expires.as_deref().unwrap_or_default(),
                    text(&entry.reason)
                );
            }
        }
        document.essential(block);
    }
    if !scan.notes.is_empty() {
        let mut block = String::from("> [!NOTE]\n");
        for note in scan.notes.iter().take(20) {
            let _ = writeln!(block, "> - {}", gantry_core::markdown::prose(note));
        }
        document.essential(block);
    }
    document.append(sections);
    document.render_within(budget, full_text_at).0
}
