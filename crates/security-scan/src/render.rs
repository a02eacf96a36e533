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
    if let Some(fixed_in) = &finding.fixed_in {
        let _ = write!(out, ", fixed in {}", code(&shorten(fixed_in, 60)));
    } else if finding.package.is_some() {
        out.push_str(", no fixed version known");
    }
    out
}

/// Where to read about a finding: the tool's own page when it is a web address, else the
/// advisory database of its vulnerability id.
pub(crate) fn advisory(entry: &Merged) -> Option<String> {
    let finding = &entry.finding;
    if let Some(uri) = finding
        .help_uri
        .as_deref()
        .filter(|uri| uri.starts_with("https://") || uri.starts_with("http://"))
    {
        return Some(uri.to_owned());
    }
    let id = finding.vulnerability.as_deref()?;
    let path = url_path(id);
    Some(if id.starts_with("CVE-") {
        format!("https://nvd.nist.gov/vuln/detail/{path}")
    } else if id.starts_with("GHSA-") {
        format!("https://github.com/advisories/{path}")
    } else if id.starts_with("RUSTSEC-") {
        format!("https://rustsec.org/advisories/{path}.html")
    } else {
        format!("https://osv.dev/vulnerability/{path}")
    })
}

/// The rule (or vulnerability) id, linked to its advisory when there is one.
fn rule_cell(entry: &Merged) -> String {
    let id = entry
        .finding
        .vulnerability
        .as_deref()
        .unwrap_or(&entry.finding.rule_id);
    let id = shorten(id, 60);
    match advisory(entry) {
        Some(url) => gantry_core::markdown::code_link(&id, &url),
        None => code(&id),
    }
}

/// Above this many findings a list is grouped by rule: one row per rule with its count and
/// first locations, the rest folded.
const GROUP_ABOVE: usize = 25;

/// Locations shown in a group's row before the rest are folded.
const FIRST_LOCATIONS: usize = 3;

/// Locations listed in a group's fold at most (all are in the SARIF).
const FOLDED_LOCATIONS: usize = 40;

/// One row per rule (tool, rule or vulnerability, severity), most severe and most frequent
/// first: the count, the first locations, the rest folded.
fn grouped_table(entries: &[&Merged], options: &Options) -> Vec<String> {
    let mut groups: Vec<(String, Vec<&Merged>)> = Vec::new();
    let mut index: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for entry in entries {
        let finding = &entry.finding;
        let key = format!(
            "{}\u{0}{}\u{0}{}\u{0}{}",
            entry.tools.join(","),
            finding.vulnerability.as_deref().unwrap_or(&finding.rule_id),
            finding.severity.word(),
            finding.package.as_deref().unwrap_or_default()
        );
        if let Some(&at) = index.get(&key) {
            groups[at].1.push(entry);
        } else {
            index.insert(key.clone(), groups.len());
            groups.push((key, vec![entry]));
        }
    }
    groups.sort_by(|a, b| {
        crate::sarif_out::severity_order(a.1[0], b.1[0]).then(b.1.len().cmp(&a.1.len()))
    });
    groups.truncate(MAX_ROWS);
    groups
        .chunks(ROWS_PER_TABLE)
        .map(|chunk| {
            let mut table = Table::new(&[
                ("severity", Align::Left),
                ("rule", Align::Left),
                ("count", Align::Right),
                ("where", Align::Left),
                ("tools", Align::Left),
                ("finding", Align::Left),
            ]);
            for (_, members) in chunk {
                let first = members[0];
                let places: Vec<String> = members
                    .iter()
                    .map(|entry| place(entry, options))
                    .filter(|place| !place.is_empty())
                    .collect();
                let mut cell = places
                    .iter()
                    .take(FIRST_LOCATIONS)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                if places.len() > FIRST_LOCATIONS {
                    let rest = &places[FIRST_LOCATIONS..];
                    let listed: Vec<String> = rest.iter().take(FOLDED_LOCATIONS).cloned().collect();
                    let beyond = rest.len() - listed.len();
                    let tail = if beyond > 0 {
                        format!(" and {beyond} more in the SARIF")
                    } else {
                        String::new()
                    };
                    let _ = write!(
                        cell,
                        " <details><summary>{} more</summary>{}{tail}</details>",
                        rest.len(),
                        listed.join(", ")
                    );
                }
                table.row(vec![
                    first.finding.severity.word().to_owned(),
                    rule_cell(first),
                    members.len().to_string(),
                    cell,
                    text(&first.tools.join(", ")),
                    what(first),
                ]);
            }
            table.render()
        })
        .collect()
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
                    rule_cell(entry),
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
    let grouped = entries.len() > GROUP_ABOVE;
    let shown = if grouped {
        entries
    } else {
        &entries[..entries.len().min(MAX_ROWS)]
    };
    let parts = if grouped {
        grouped_table(shown, options)
    } else {
        table(shown, options, false)
    };
    for (index, part) in parts.into_iter().enumerate() {
        let title = if index == 0 && grouped {
            format!("#### {heading} ({}, by rule)\n\n", entries.len())
        } else if index == 0 {
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
