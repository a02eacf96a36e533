//! Custom metrics: a YAML file of PromQL templates, read from the parser's events into a small
//! tree (no generic deserializer: it would hash with the OS's randomness), then checked so that
//! no template can silently compare a workload with itself.
//!
//! ```yaml
//! requests: 'sum(increase(app_requests_total{namespace="{{namespace}}",app="{{workload}}"}[{{interval}}]))'
//! metrics:
//!   - name: errors
//!     kind: ratio                # numerator and denominator: counts over {{interval}}
//!     numerator: 'sum(increase(app_requests_total{…,status=~"5.."}[{{interval}}]))'
//!     denominator: 'sum(increase(app_requests_total{…}[{{interval}}]))'
//!     labelled: 'sum(increase(app_requests_total{…,status=~".+"}[{{interval}}]))'  # optional:
//!                                # requests that carry the label errors are told by
//!     max: 0.05                  # optional absolute bounds
//!     critical: true
//!   - name: latency
//!     kind: latency              # buckets: sum by (le) (rate(…_bucket{…}[{{interval}}]))
//!     buckets: '…'
//!     quantiles: [0.5, 0.99]
//!     unit: s
//!   - name: queue
//!     kind: gauge
//!     query: 'avg(avg_over_time(queue_depth{…}[{{interval}}]))'
//!     bad: increase              # or decrease
//! ```

use crate::metrics::{Bad, Kind, Metric, MetricSet};

/// A YAML value with where it starts.
#[derive(Debug, Clone)]
enum Node {
    Scalar(String, String),
    List(Vec<Node>, String),
    Map(Vec<(String, Node)>, String),
}

impl Node {
    fn place(&self) -> &str {
        match self {
            Self::Scalar(_, place) | Self::List(_, place) | Self::Map(_, place) => place,
        }
    }
}

struct Reader<'input> {
    parser: saphyr_parser::Parser<'input, saphyr_parser::StrInput<'input>>,
    place: String,
}

fn place_of(marker: saphyr_parser::Marker) -> String {
    format!("line {} column {}", marker.line(), marker.col() + 1)
}

impl<'input> Reader<'input> {
    fn next(&mut self) -> Result<saphyr_parser::Event<'input>, String> {
        match self.parser.next_event() {
            Some(Ok((event, span))) => {
                self.place = place_of(span.start);
                Ok(event)
            }
            Some(Err(error)) => Err(format!(
                "not valid YAML at {}: {}",
                place_of(*error.marker()),
                error.info()
            )),
            None => Err("the YAML ends early".to_owned()),
        }
    }

    /// The node that starts with `event`.
    fn node(&mut self, event: saphyr_parser::Event<'input>) -> Result<Node, String> {
        use saphyr_parser::Event;
        let place = self.place.clone();
        match event {
            Event::Scalar(text, ..) => Ok(Node::Scalar(text.into_owned(), place)),
            Event::SequenceStart(..) => {
                let mut items = Vec::new();
                loop {
                    match self.next()? {
                        Event::SequenceEnd => return Ok(Node::List(items, place)),
                        event => items.push(self.node(event)?),
                    }
                }
            }
            Event::MappingStart(..) => {
                let mut entries: Vec<(String, Node)> = Vec::new();
                loop {
                    let key = match self.next()? {
                        Event::MappingEnd => return Ok(Node::Map(entries, place)),
                        Event::Scalar(key, ..) => key.into_owned(),
                        _ => return Err(format!("a key that is not text at {}", self.place)),
                    };
                    if entries.iter().any(|(seen, _)| *seen == key) {
                        return Err(format!("`{key}` twice at {}", self.place));
                    }
                    let event = self.next()?;
                    entries.push((key, self.node(event)?));
                }
            }
            Event::Alias(_) => Err(format!("YAML aliases are not accepted at {place}")),
            other => Err(format!("unexpected {other:?} at {place}")),
        }
    }

    /// The one document's root.
    fn document(mut self) -> Result<Node, String> {
        use saphyr_parser::Event;
        let mut root = None;
        loop {
            match self.next()? {
                Event::StreamStart | Event::DocumentStart(_) | Event::DocumentEnd => {}
                Event::StreamEnd => return root.ok_or_else(|| "the file is empty".to_owned()),
                event => {
                    if root.is_some() {
                        return Err(format!("a second document at {}", self.place));
                    }
                    root = Some(self.node(event)?);
                }
            }
        }
    }
}

fn text<'a>(node: &'a Node, what: &str) -> Result<&'a str, String> {
    match node {
        Node::Scalar(text, _) => Ok(text),
        other => Err(format!("{what} at {} is not text", other.place())),
    }
}

fn number(node: &Node, what: &str) -> Result<f64, String> {
    text(node, what)?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|value| value.is_finite())
        .ok_or_else(|| format!("{what} at {} is not a number", node.place()))
}

/// A template that selects each workload by `{{workload}}` and counts over `{{interval}}`.
fn template(node: &Node, what: &str) -> Result<String, String> {
    let template = text(node, what)?.trim().to_owned();
    for placeholder in ["{{workload}}", "{{interval}}"] {
        if !template.contains(placeholder) {
            return Err(format!(
                "{what} at {} has no {placeholder}: {}",
                node.place(),
                if placeholder == "{{workload}}" {
                    "canary and baseline would be the same series"
                } else {
                    "each point must cover its own interval (a longer range keeps a dead canary's old samples)"
                }
            ));
        }
    }
    Ok(template)
}

/// Reads a custom metrics file; errors name the place (`line 4 column 7`).
pub fn read(yaml: &str) -> Result<MetricSet, String> {
    let root = Reader {
        parser: saphyr_parser::Parser::new_from_str(yaml),
        place: String::new(),
    }
    .document()?;
    let Node::Map(entries, _) = &root else {
        return Err("the file is not a mapping of `requests` and `metrics`".to_owned());
    };
    let get = |key: &str| entries.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    if let Some((key, node)) = entries
        .iter()
        .find(|(key, _)| !matches!(key.as_str(), "requests" | "metrics"))
    {
        return Err(format!("unknown key `{key}` at {}", node.place()));
    }
    let requests = template(
        get("requests").ok_or("no `requests`: the count of requests over {{interval}}")?,
        "requests",
    )?;
    let Some(Node::List(items, place)) = get("metrics") else {
        return Err("no `metrics` list".to_owned());
    };
    if items.is_empty() {
        return Err(format!("the `metrics` list at {place} is empty"));
    }
    let mut metrics = Vec::new();
    for item in items {
        let Node::Map(fields, place) = item else {
            return Err(format!("metric at {} is not a mapping", item.place()));
        };
        let field = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let name = text(
            field("name").ok_or(format!("metric at {place} has no `name`"))?,
            "name",
        )?
        .trim()
        .to_owned();
        if name.is_empty() || metrics.iter().any(|m: &Metric| m.name == name) {
            return Err(format!("metric at {place}: `name` is empty or used twice"));
        }
        let what = |key: &str| format!("{name}: `{key}`");
        let need =
            |key: &str| field(key).ok_or_else(|| format!("{name} (at {place}) has no `{key}`"));
        let kind_word = text(need("kind")?, &what("kind"))?.trim().to_owned();
        let (kind, allowed): (Kind, &[&str]) = match kind_word.as_str() {
            "ratio" => (
                Kind::Ratio {
                    numerator: template(need("numerator")?, &what("numerator"))?,
                    denominator: template(need("denominator")?, &what("denominator"))?,
                    labelled: field("labelled")
                        .map(|node| template(node, &what("labelled")))
                        .transpose()?,
                },
                &["numerator", "denominator", "labelled"],
            ),
            "latency" => {
                let quantiles = match field("quantiles") {
                    None => vec![0.5, 0.99],
                    Some(Node::List(values, _)) => values
                        .iter()
                        .map(|value| number(value, &what("quantiles")))
                        .collect::<Result<Vec<_>, _>>()?,
                    Some(other) => {
                        return Err(format!(
                            "{} at {} is not a list",
                            what("quantiles"),
                            other.place()
                        ));
                    }
                };
                if quantiles.is_empty() || quantiles.iter().any(|q| !(*q > 0.0 && *q < 1.0)) {
                    return Err(format!(
                        "{} must be numbers between 0 and 1",
                        what("quantiles")
                    ));
                }
                (
                    Kind::Latency {
                        buckets: template(need("buckets")?, &what("buckets"))?,
                        quantiles,
                    },
                    &["buckets", "quantiles"],
                )
            }
            "gauge" => (
                Kind::Gauge {
                    query: template(need("query")?, &what("query"))?,
                },
                &["query"],
            ),
            other => {
                return Err(format!(
                    "{}: `{other}` is not ratio, latency or gauge",
                    what("kind")
                ));
            }
        };
        for (key, node) in fields {
            let common = ["name", "kind", "bad", "max", "min", "critical", "unit"];
            if !common.contains(&key.as_str()) && !allowed.contains(&key.as_str()) {
                return Err(format!(
                    "{name}: unknown key `{key}` at {} for a {kind_word}",
                    node.place()
                ));
            }
        }
        let bad = match field("bad")
            .map(|node| text(node, &what("bad")))
            .transpose()?
            .map(str::trim)
        {
            None | Some("increase") => Bad::Increase,
            Some("decrease") => Bad::Decrease,
            Some(other) => {
                return Err(format!(
                    "{}: `{other}` is not increase or decrease",
                    what("bad")
                ));
            }
        };
        let critical = match field("critical")
            .map(|node| text(node, &what("critical")))
            .transpose()?
            .map(str::trim)
        {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(format!(
                    "{}: `{other}` is not true or false",
                    what("critical")
                ));
            }
        };
        let bound = |key: &str| field(key).map(|node| number(node, &what(key))).transpose();
        let unit = match field("unit") {
            Some(node) => text(node, &what("unit"))?.trim().to_owned(),
            None if matches!(kind, Kind::Ratio { .. }) => "ratio".to_owned(),
            None => String::new(),
        };
        let (max, min) = (bound("max")?, bound("min")?);
        metrics.push(Metric {
            name: name.clone(),
            kind,
            bad,
            max,
            min,
            critical,
            unit,
        });
    }
    Ok(MetricSet { requests, metrics })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
requests: 'sum(increase(app_requests_total{namespace="{{namespace}}",app="{{workload}}"}[{{interval}}]))'
metrics:
  - name: errors
    kind: ratio
    numerator: 'sum(increase(app_requests_total{namespace="{{namespace}}",app="{{workload}}",status=~"5.."}[{{interval}}]))'
    denominator: 'sum(increase(app_requests_total{namespace="{{namespace}}",app="{{workload}}"}[{{interval}}]))'
    max: 0.05
    critical: true
  - name: latency
    kind: latency
    buckets: 'sum by (le) (rate(app_seconds_bucket{app="{{workload}}"}[{{interval}}]))'
    quantiles: [0.9]
    unit: s
  - name: hits
    kind: gauge
    query: 'avg(avg_over_time(cache_hit_ratio{app="{{workload}}"}[{{interval}}]))'
    bad: decrease
"#;

    #[test]
    fn a_file_reads_into_metrics() {
        let set = read(FILE).unwrap();
        assert!(set.requests.starts_with("sum(increase(app_requests_total"));
        assert_eq!(set.metrics.len(), 3);
        assert_eq!(set.metrics[0].max, Some(0.05));
        assert!(set.metrics[0].critical && !set.metrics[2].critical);
        assert_eq!(set.metrics[0].unit, "ratio");
        assert!(
            matches!(&set.metrics[1].kind, Kind::Latency { quantiles, .. } if quantiles == &[0.9])
        );
        assert_eq!(set.metrics[2].bad, Bad::Decrease);
    }

    #[test]
    fn mistakes_are_named_with_their_place() {
        for (change, says) in [
            (
                FILE.replace(r#"app="{{workload}}",status"#, r#"app="cart",status"#),
                "errors: `numerator` at line 6 column 16 has no {{workload}}",
            ),
            (
                FILE.replace(
                    "[{{interval}}]))'\n    quantiles",
                    "[10m]))'\n    quantiles",
                ),
                "latency: `buckets` at line 12 column 14 has no {{interval}}",
            ),
            (
                FILE.replace("kind: gauge", "kind: counter"),
                "hits: `kind`: `counter` is not ratio, latency or gauge",
            ),
            (
                FILE.replace("    bad: decrease", "    bad: decrease\n    threshold: 3"),
                "hits: unknown key `threshold` at line 19 column 16 for a gauge",
            ),
            (
                FILE.replace("quantiles: [0.9]", "quantiles: [99]"),
                "latency: `quantiles` must be numbers between 0 and 1",
            ),
            (
                FILE.replace("name: hits", "name: errors"),
                "`name` is empty or used twice",
            ),
            (
                FILE.replace("max: 0.05", "max: lots"),
                "errors: `max` at line 8 column 10 is not a number",
            ),
            ("metrics: [\n".to_owned(), "not valid YAML at"),
            (format!("{FILE}---\n{FILE}"), "a second document at"),
        ] {
            let error = read(&change).unwrap_err();
            assert!(error.contains(says), "{error}\n(expected: {says})");
        }
    }
}
