//! `govulncheck -json` (a stream of messages).

use serde_json::Value;

use super::parts::{Vulnerable, every_item, line, strings, text};
use crate::finding::Finding;
use crate::severity::{Severity, SeveritySource};

pub(super) fn detect(report: &Value) -> bool {
    every_item(report, |item| {
        item.as_object().is_some_and(|map| {
            map.len() == 1
                && map.keys().all(|key| {
                    matches!(
                        key.as_str(),
                        "config" | "progress" | "osv" | "finding" | "SBOM"
                    )
                })
        })
    }) && report[0]["config"]["scanner_name"].as_str() == Some("govulncheck")
}

/// govulncheck: one finding per vulnerability and module. Its severity says how far the
/// vulnerable code is reached — a call path from this code is high, an imported package low, a
/// required module only a note — since OSV records for Go carry no score.
pub(super) fn read(report: &Value) -> Vec<Finding> {
    let items = report.as_array().map_or(&[][..], Vec::as_slice);
    let records: gantry_core::collections::FixedHashMap<&str, &Value> = items
        .iter()
        .filter_map(|item| {
            let osv = item.get("osv")?;
            Some((osv["id"].as_str()?, osv))
        })
        .collect();
    // (id, module) → (reach: 2 called, 1 imported, 0 required; the finding's trace).
    let mut best: std::collections::BTreeMap<(String, String), (u8, &Value)> =
        std::collections::BTreeMap::new();
    for finding in items.iter().filter_map(|item| item.get("finding")) {
        let Some(id) = finding["osv"].as_str() else {
            continue;
        };
        let first = &finding["trace"][0];
        let module = text(&first["module"]).unwrap_or_else(|| "(module)".to_owned());
        let reach = if first.get("function").is_some() {
            2
        } else {
            u8::from(first.get("package").is_some())
        };
        let entry = best
            .entry((id.to_owned(), module))
            .or_insert((reach, finding));
        if reach > entry.0 {
            *entry = (reach, finding);
        }
    }
    best.into_iter()
        .map(|((id, module), (reach, found))| {
            let record = records.get(id.as_str()).copied().unwrap_or(&Value::Null);
            let version = text(&found["trace"][0]["version"]);
            // The frame in this code: the last with a position.
            let position = found["trace"]
                .as_array()
                .and_then(|trace| trace.iter().rev().find(|frame| frame.get("position").is_some()))
                .map_or(&Value::Null, |frame| &frame["position"]);
            let summary = text(&record["summary"]).unwrap_or_else(|| id.clone());
            let how = match reach {
                2 => "your code calls the vulnerable function",
                1 => "your code imports the vulnerable package but does not call the vulnerable function",
                _ => "a required module has the vulnerability; its package is not imported",
            };
            let fixed = text(&found["fixed_version"])
                .map(|fixed| format!(" Fixed in {fixed}."))
                .unwrap_or_default();
            let severity = match reach {
                2 => Severity::High,
                1 => Severity::Low,
                _ => Severity::Note,
            };
            let vulnerable = Vulnerable {
                tool: "govulncheck",
                id: &id,
                aliases: strings(&record["aliases"]),
                package: &module,
                version,
                path: if reach == 2 {
                    text(&position["filename"])
                } else {
                    None
                },
            };
            let mut item = vulnerable.finding(
                summary.clone(),
                format!("{summary}: {how}.{fixed}"),
                (severity, SeveritySource::ToolWord, None),
            );
            if reach == 2 {
                item.location.start_line = line(&position["line"]);
                item.location.start_column = line(&position["column"]);
            }
            item.help_uri = Some(format!("https://pkg.go.dev/vuln/{id}"));
            item.fixed_in = text(&found["fixed_version"]);
            item
        })
        .collect()
}
