//! Coverage reports: Cobertura XML (coverage.py, coverlet, Istanbul, gcovr, scoverage…),
//! `JaCoCo` XML and LCOV, recognised from the content and read as a stream.
//!
//! Totals are the tool's own: Cobertura's `lines-covered`/`lines-valid` (and branches) on the
//! root, `JaCoCo`'s report-level `LINE` and `BRANCH` counters, LCOV's `LF`/`LH`/`BRF`/`BRH`
//! summed over files. Where a tool leaves a total out, it is counted from the lines. Per file:
//! the same counts, from the lines of every class in that file (a line listed by two classes
//! counts once, covered if either covered it).

use std::collections::BTreeMap;
use std::io::BufRead;

use quick_xml::events::Event;

use crate::test_report::TestReportError;
use crate::xml::{attribute, next_event};

/// One file's coverage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileCoverage {
    /// The path as the report gives it.
    pub path: String,
    /// Lines that could run.
    pub lines_valid: u64,
    /// Lines that ran.
    pub lines_covered: u64,
    /// Branches that could be taken.
    pub branches_valid: u64,
    /// Branches taken.
    pub branches_covered: u64,
}

/// Which tool wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverageFormat {
    /// Cobertura XML.
    Cobertura,
    /// `JaCoCo` XML.
    Jacoco,
    /// LCOV tracefile.
    Lcov,
}

/// A coverage report's totals and files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// The format.
    pub format: CoverageFormat,
    /// Lines that could run.
    pub lines_valid: u64,
    /// Lines that ran.
    pub lines_covered: u64,
    /// Branches that could be taken.
    pub branches_valid: u64,
    /// Branches taken.
    pub branches_covered: u64,
    /// Per file, sorted by path.
    pub files: Vec<FileCoverage>,
}

impl Coverage {
    /// Line coverage in percent, `None` without lines.
    pub fn line_percent(&self) -> Option<f64> {
        percent(self.lines_covered, self.lines_valid)
    }

    /// Branch coverage in percent, `None` without branches.
    pub fn branch_percent(&self) -> Option<f64> {
        percent(self.branches_covered, self.branches_valid)
    }
}

/// `covered / valid` in percent.
#[expect(clippy::cast_precision_loss, reason = "line counts far below 2^52")]
pub fn percent(covered: u64, valid: u64) -> Option<f64> {
    (valid > 0).then(|| covered as f64 * 100.0 / valid as f64)
}

/// Per-line facts of one file while reading: hits, and branches (valid, covered).
#[derive(Debug, Default)]
struct Lines {
    lines: BTreeMap<u64, (bool, u64, u64)>,
}

impl Lines {
    fn line(&mut self, number: u64, covered: bool, branches: (u64, u64)) {
        let entry = self.lines.entry(number).or_insert((false, 0, 0));
        entry.0 |= covered;
        entry.1 = entry.1.max(branches.0);
        entry.2 = entry.2.max(branches.1);
    }

    fn summary(&self, path: String) -> FileCoverage {
        FileCoverage {
            path,
            lines_valid: self.lines.len() as u64,
            lines_covered: self.lines.values().filter(|line| line.0).count() as u64,
            branches_valid: self.lines.values().map(|line| line.1).sum(),
            branches_covered: self.lines.values().map(|line| line.2).sum(),
        }
    }
}

/// Reads a coverage report.
pub fn read_coverage<R: BufRead>(file: &str, mut input: R) -> Result<Coverage, TestReportError> {
    let start = input
        .fill_buf()
        .map_err(|error| TestReportError::Io {
            file: file.to_owned(),
            message: error.to_string(),
        })?
        .to_vec();
    let text_start = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&start);
    if text_start.iter().all(u8::is_ascii_whitespace) {
        return Err(TestReportError::Empty {
            file: file.to_owned(),
        });
    }
    if text_start.trim_ascii_start().starts_with(b"<") {
        read_xml(file, input)
    } else {
        read_lcov(file, input)
    }
}

fn number(text: Option<String>) -> Option<u64> {
    text.and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|value| value.is_finite() && *value >= 0.0)
        .map(|value| {
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "a non-negative count"
            )]
            let count = value.round() as u64;
            count
        })
}

/// `50% (1/2)` → (2, 1).
fn condition_coverage(text: &str) -> Option<(u64, u64)> {
    let inside = text.split('(').nth(1)?.trim_end_matches(')');
    let (covered, valid) = inside.split_once('/')?;
    Some((valid.trim().parse().ok()?, covered.trim().parse().ok()?))
}

#[expect(clippy::too_many_lines, reason = "one event loop for both XML formats")]
fn read_xml<R: BufRead>(file: &str, input: R) -> Result<Coverage, TestReportError> {
    let mut reader = quick_xml::Reader::from_reader(input);
    let mut buffer = Vec::new();
    let mut format = None;
    let mut depth = 0usize;
    // Cobertura: root totals, the current class's file.
    let mut root_totals: [Option<u64>; 4] = [None; 4];
    let mut files: BTreeMap<String, Lines> = BTreeMap::new();
    let mut class_file: Option<String> = None;
    // JaCoCo: the package, the source file, and counters by level.
    let mut package = String::new();
    let mut source_file: Option<String> = None;
    let mut jacoco_files: BTreeMap<String, FileCoverage> = BTreeMap::new();
    let mut element_path: Vec<String> = Vec::new();
    loop {
        let event = next_event(&mut reader, &mut buffer, file, depth)?;
        match event {
            Event::Eof => break,
            Event::Start(ref tag) | Event::Empty(ref tag) => {
                let empty = matches!(event, Event::Empty(_));
                let name = tag.local_name().as_ref().to_owned();
                if format.is_none() {
                    format = match name.as_str() {
                        "coverage" => Some(CoverageFormat::Cobertura),
                        "report" => Some(CoverageFormat::Jacoco),
                        other => {
                            return Err(TestReportError::NotCoverage {
                                file: file.to_owned(),
                                what: format!("XML whose root element is `<{other}>`"),
                            });
                        }
                    };
                    if format == Some(CoverageFormat::Cobertura) {
                        root_totals = [
                            number(attribute(tag, "lines-valid")),
                            number(attribute(tag, "lines-covered")),
                            number(attribute(tag, "branches-valid")),
                            number(attribute(tag, "branches-covered")),
                        ];
                    }
                }
                match (format, name.as_str()) {
                    (Some(CoverageFormat::Cobertura), "class") => {
                        class_file = attribute(tag, "filename");
                    }
                    (Some(CoverageFormat::Cobertura), "line") => {
                        if let (Some(path), Some(line)) =
                            (&class_file, number(attribute(tag, "number")))
                        {
                            let hits = number(attribute(tag, "hits")).unwrap_or(0);
                            let branches = attribute(tag, "condition-coverage")
                                .filter(|_| {
                                    attribute(tag, "branch").is_some_and(|branch| branch == "true")
                                })
                                .and_then(|text| condition_coverage(&text))
                                .unwrap_or((0, 0));
                            files
                                .entry(path.clone())
                                .or_default()
                                .line(line, hits > 0, branches);
                        }
                    }
                    (Some(CoverageFormat::Jacoco), "package") => {
                        package = attribute(tag, "name").unwrap_or_default();
                    }
                    (Some(CoverageFormat::Jacoco), "sourcefile") => {
                        source_file = attribute(tag, "name").map(|name| {
                            if package.is_empty() {
                                name
                            } else {
                                format!("{package}/{name}")
                            }
                        });
                    }
                    (Some(CoverageFormat::Jacoco), "counter") => {
                        let missed = number(attribute(tag, "missed")).unwrap_or(0);
                        let covered = number(attribute(tag, "covered")).unwrap_or(0);
                        let kind = attribute(tag, "type").unwrap_or_default();
                        let parent = element_path.last().map(String::as_str);
                        let target = match parent {
                            Some("report") => Some(&mut root_totals),
                            _ => None,
                        };
                        if let Some(totals) = target {
                            match kind.as_str() {
                                "LINE" => {
                                    totals[0] = Some(missed + covered);
                                    totals[1] = Some(covered);
                                }
                                "BRANCH" => {
                                    totals[2] = Some(missed + covered);
                                    totals[3] = Some(covered);
                                }
                                _ => {}
                            }
                        } else if parent == Some("sourcefile") {
                            if let Some(path) = &source_file {
                                let entry = jacoco_files.entry(path.clone()).or_insert_with(|| {
                                    FileCoverage {
                                        path: path.clone(),
                                        ..FileCoverage::default()
                                    }
                                });
                                match kind.as_str() {
                                    "LINE" => {
                                        entry.lines_valid = missed + covered;
                                        entry.lines_covered = covered;
                                    }
                                    "BRANCH" => {
                                        entry.branches_valid = missed + covered;
                                        entry.branches_covered = covered;
                                    }
                                    _ => {}
                                }
                            }
                        }
                    }
                    _ => {}
                }
                if !empty {
                    depth += 1;
                    element_path.push(name);
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if let Some(name) = element_path.pop() {
                    match name.as_str() {
                        "class" => class_file = None,
                        "sourcefile" => source_file = None,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        buffer.clear();
    }
    let Some(format) = format else {
        return Err(TestReportError::Empty {
            file: file.to_owned(),
        });
    };
    let files: Vec<FileCoverage> = match format {
        CoverageFormat::Jacoco => jacoco_files.into_values().collect(),
        _ => files
            .into_iter()
            .map(|(path, lines)| lines.summary(path))
            .collect(),
    };
    let summed = |field: fn(&FileCoverage) -> u64| files.iter().map(field).sum::<u64>();
    Ok(Coverage {
        format,
        lines_valid: root_totals[0].unwrap_or_else(|| summed(|f| f.lines_valid)),
        lines_covered: root_totals[1].unwrap_or_else(|| summed(|f| f.lines_covered)),
        branches_valid: root_totals[2].unwrap_or_else(|| summed(|f| f.branches_valid)),
        branches_covered: root_totals[3].unwrap_or_else(|| summed(|f| f.branches_covered)),
        files,
    })
}

fn read_lcov<R: BufRead>(file: &str, input: R) -> Result<Coverage, TestReportError> {
    let mut files: BTreeMap<String, (Lines, [Option<u64>; 4])> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut seen_record = false;
    for (index, line) in input.lines().enumerate() {
        let line = line.map_err(|error| TestReportError::Io {
            file: file.to_owned(),
            message: format!("line {}: {error}", index + 1),
        })?;
        let line = line.trim();
        let (key, value) = line.split_once(':').unwrap_or((line, ""));
        match key {
            "SF" => {
                seen_record = true;
                current = Some(value.to_owned());
                files.entry(value.to_owned()).or_default();
            }
            "end_of_record" => current = None,
            "DA" | "LF" | "LH" | "BRF" | "BRH" | "BRDA" => {
                let Some(entry) = current.as_ref().and_then(|path| files.get_mut(path)) else {
                    return Err(TestReportError::Xml {
                        file: file.to_owned(),
                        position: index as u64 + 1,
                        message: format!("line {}: `{key}` outside a `SF:` record", index + 1),
                    });
                };
                let mut fields = value.split(',');
                match key {
                    "DA" => {
                        let number = fields.next().and_then(|n| n.trim().parse::<u64>().ok());
                        let hits = fields.next().and_then(|n| n.trim().parse::<f64>().ok());
                        if let (Some(number), Some(hits)) = (number, hits) {
                            entry.0.line(number, hits > 0.0, (0, 0));
                        }
                    }
                    "BRDA" => {
                        let number = fields.next().and_then(|n| n.trim().parse::<u64>().ok());
                        let taken = fields.nth(2).map(str::trim);
                        if let Some(number) = number {
                            let covered =
                                u64::from(taken.is_some_and(|taken| taken != "-" && taken != "0"));
                            let slot = entry.0.lines.entry(number).or_insert((false, 0, 0));
                            slot.1 += 1;
                            slot.2 += covered;
                        }
                    }
                    other => {
                        let slot = match other {
                            "LF" => 0,
                            "LH" => 1,
                            "BRF" => 2,
                            _ => 3,
                        };
                        entry.1[slot] = value.trim().parse().ok();
                    }
                }
            }
            _ => {}
        }
    }
    if !seen_record {
        return Err(TestReportError::NotCoverage {
            file: file.to_owned(),
            what: "text without LCOV's `SF:` records".to_owned(),
        });
    }
    let files: Vec<FileCoverage> = files
        .into_iter()
        .map(|(path, (lines, reported))| {
            let counted = lines.summary(path);
            FileCoverage {
                lines_valid: reported[0].unwrap_or(counted.lines_valid),
                lines_covered: reported[1].unwrap_or(counted.lines_covered),
                branches_valid: reported[2].unwrap_or(counted.branches_valid),
                branches_covered: reported[3].unwrap_or(counted.branches_covered),
                ..counted
            }
        })
        .collect();
    Ok(Coverage {
        format: CoverageFormat::Lcov,
        lines_valid: files.iter().map(|f| f.lines_valid).sum(),
        lines_covered: files.iter().map(|f| f.lines_covered).sum(),
        branches_valid: files.iter().map(|f| f.branches_valid).sum(),
        branches_covered: files.iter().map(|f| f.branches_covered).sum(),
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_are_the_tools_and_files_count_each_line_once() {
        let cobertura = br#"<?xml version="1.0"?>
            <coverage line-rate="0.5" lines-valid="4" lines-covered="2" branches-valid="2" branches-covered="1">
              <packages><package name="p"><classes>
                <class name="A" filename="src/a.py"><lines>
                  <line number="1" hits="1"/>
                  <line number="2" hits="0" branch="true" condition-coverage="50% (1/2)"/>
                </lines></class>
                <class name="A.inner" filename="src/a.py"><lines>
                  <line number="2" hits="3"/>
                  <line number="3" hits="0"/>
                </lines></class>
              </classes></package></packages>
            </coverage>"#;
        let coverage = read_coverage("c.xml", &cobertura[..]).unwrap();
        assert_eq!((coverage.lines_valid, coverage.lines_covered), (4, 2));
        assert_eq!(
            coverage.files,
            [FileCoverage {
                path: "src/a.py".into(),
                lines_valid: 3,
                lines_covered: 2,
                branches_valid: 2,
                branches_covered: 1,
            }]
        );
        let lcov = b"TN:\nSF:src/b.rs\nDA:1,0\nDA:2,5\nBRDA:2,0,0,1\nBRDA:2,0,1,-\nend_of_record\n";
        let coverage = read_coverage("l.info", &lcov[..]).unwrap();
        assert_eq!(
            (
                coverage.lines_valid,
                coverage.lines_covered,
                coverage.branches_valid,
                coverage.branches_covered
            ),
            (2, 1, 2, 1)
        );
        assert_eq!(coverage.line_percent(), Some(50.0));
        let error = read_coverage("x.txt", &b"hello\n"[..]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "x.txt: not a coverage report: text without LCOV's `SF:` records (expected Cobertura or JaCoCo XML, or LCOV)"
        );
    }
}
