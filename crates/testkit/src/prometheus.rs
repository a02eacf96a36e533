//! A real Prometheus on 127.0.0.1 serving backfilled data: the test writes OpenMetrics at fixed
//! times, `promtool tsdb create-blocks-from openmetrics` turns it into blocks, and `prometheus`
//! serves them (no scrape jobs, `--storage.tsdb.retention.time=100y` so old fixed times survive).
//! Queries must name their time (`time=`, `start`/`end`): the data is not "now".
//!
//! Facts the writer keeps (promtool applies them silently otherwise): timestamps in seconds,
//! each series' samples in increasing time order, `# EOF` at the end.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::random::Seeded;

/// OpenMetrics text being written: families in order, each series' samples appended in time
/// order.
#[derive(Debug, Default)]
pub struct OpenMetrics {
    families: BTreeMap<String, Family>,
}

/// A metric family: its type and its series' samples.
#[derive(Debug, Default)]
struct Family {
    kind: String,
    series: BTreeMap<String, Vec<(i64, f64)>>,
}

impl OpenMetrics {
    /// Appends a sample of `family` (`counter`, `histogram`, `gauge`) to the series
    /// `name{labels}` (labels as written inside the braces).
    ///
    /// # Panics
    /// When the sample is not later than the series' last one (promtool would drop it).
    pub fn sample(&mut self, family: &str, kind: &str, series: &str, time: i64, value: f64) {
        let family = self
            .families
            .entry(family.to_owned())
            .or_insert_with(|| Family {
                kind: kind.to_owned(),
                series: BTreeMap::new(),
            });
        let samples = family.series.entry(series.to_owned()).or_default();
        assert!(
            samples.last().is_none_or(|&(last, _)| last < time),
            "{series}: samples must be in increasing time order"
        );
        samples.push((time, value));
    }

    /// Appends one scrape of a histogram `family{labels}`: a `_bucket` per `(upper bound,
    /// cumulative count)`, the `+Inf` bucket, `_count` and `_sum`.
    pub fn histogram(
        &mut self,
        family: &str,
        labels: &str,
        time: i64,
        buckets: &[(f64, f64)],
        count: f64,
        sum: f64,
    ) {
        for (bound, cumulative) in buckets {
            let series = format!(r#"{family}_bucket{{{labels},le="{bound}"}}"#);
            self.sample(family, "histogram", &series, time, *cumulative);
        }
        let series = format!(r#"{family}_bucket{{{labels},le="+Inf"}}"#);
        self.sample(family, "histogram", &series, time, count);
        self.sample(
            family,
            "histogram",
            &format!("{family}_count{{{labels}}}"),
            time,
            count,
        );
        self.sample(
            family,
            "histogram",
            &format!("{family}_sum{{{labels}}}"),
            time,
            sum,
        );
    }

    /// The text, ending in `# EOF`.
    #[must_use]
    pub fn text(&self) -> String {
        let mut text = String::new();
        for (name, family) in &self.families {
            let _ = writeln!(text, "# TYPE {name} {}", family.kind);
            for (name, samples) in &family.series {
                for (time, value) in samples {
                    let _ = writeln!(text, "{name} {value} {time}");
                }
            }
        }
        text.push_str("# EOF\n");
        text
    }
}

/// A running Prometheus serving backfilled blocks; stopped when dropped.
#[derive(Debug)]
pub struct Backfilled {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    _folder: tempfile::TempDir,
}

fn tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|folder| folder.join(name))
            .find(|candidate| candidate.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("{name} is not on PATH: scripts/test.sh installs Debian's prometheus package")
    })
}

impl Backfilled {
    /// Backfills `metrics` and starts Prometheus on a free port of 127.0.0.1.
    ///
    /// # Panics
    /// When promtool or Prometheus fail, or Prometheus is not ready within 30 s.
    #[must_use]
    pub fn start(metrics: &OpenMetrics) -> Self {
        let folder = tempfile::tempdir().expect("a folder");
        let data = folder.path().join("data");
        let series = folder.path().join("series.om");
        std::fs::write(&series, metrics.text()).expect("write the OpenMetrics");
        let backfill = Command::new(tool("promtool"))
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&series)
            .arg(&data)
            .output()
            .expect("promtool");
        assert!(
            backfill.status.success(),
            "promtool: {}",
            String::from_utf8_lossy(&backfill.stderr)
        );
        let config = folder.path().join("prometheus.yml");
        std::fs::write(&config, "global:\n  scrape_interval: 15s\n").expect("write the config");
        let port = free_port();
        let log_path = folder.path().join("prometheus.log");
        let log = std::fs::File::create(&log_path).expect("a log");
        let child = Command::new(tool("prometheus"))
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--storage.tsdb.retention.time=100y")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus");
        let mut server = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _folder: folder,
        };
        server.wait_ready(port, &log_path);
        server
    }

    fn wait_ready(&mut self, port: u16, log: &Path) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "prometheus exited ({status}): {}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = write!(
                    stream,
                    "GET /-/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                );
                let mut answer = String::new();
                let _ = stream.read_to_string(&mut answer);
                if answer.starts_with("HTTP/1.1 200") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "prometheus was not ready within 30 s: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }
}

impl Drop for Backfilled {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// Seconds between scrapes of the written workloads.
pub const SCRAPE: i64 = 15;

/// Which preset's metric names a workload reports in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// Istio's standard metrics.
    Istio,
    /// `http_requests_total` and `http_request_duration_seconds`.
    Http,
}

/// One workload's traffic.
#[derive(Debug, Clone)]
pub struct Workload {
    pub namespace: &'static str,
    pub name: &'static str,
    pub names: Names,
    pub rps: f64,
    pub error_rate: f64,
    pub median_ms: f64,
    /// The share of requests that are four times slower: moves the tail, not the middle.
    pub slow: f64,
    /// Reports from this time on, until `until`.
    pub from: i64,
    pub until: i64,
    /// Its counters start again from zero here (a restart).
    pub restart: Option<i64>,
    /// From the first time until the second, its error rate is this.
    pub errors_between: Option<(i64, i64, f64)>,
    /// Istio's `reporter="source"` series as well (the client side's view of the same calls).
    pub source_reporter: bool,
}

impl Workload {
    /// A workload reporting from `from` to `until` at 10 req/s, 0.5 % errors, 60 ms median.
    pub fn new(
        namespace: &'static str,
        name: &'static str,
        names: Names,
        from: i64,
        until: i64,
    ) -> Self {
        Self {
            namespace,
            name,
            names,
            rps: 10.0,
            error_rate: 0.005,
            median_ms: 60.0,
            slow: 0.005,
            from,
            until,
            restart: None,
            errors_between: None,
            source_reporter: false,
        }
    }
}

/// The latency buckets' bounds, in milliseconds.
pub const BUCKETS_MS: [f64; 10] = [
    5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0,
];

/// Cumulative counters of one workload, scraped every 15 s.
#[expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "seconds and request counts, small and non-negative"
)]
pub fn write(metrics: &mut OpenMetrics, workload: &Workload, seed: u64) {
    let mut random = Seeded(seed);
    let (mut ok, mut bad, mut count, mut sum) = (0.0, 0.0, 0.0, 0.0);
    let mut buckets = [0.0; BUCKETS_MS.len()];
    let mut seen_error = false;
    let mut time = workload.from;
    while time <= workload.until {
        if workload.restart.is_some_and(|at| at == time) {
            (ok, bad, count, sum) = (0.0, 0.0, 0.0, 0.0);
            buckets = [0.0; BUCKETS_MS.len()];
        }
        let rate = match workload.errors_between {
            Some((from, until, rate)) if (from..until).contains(&time) => rate,
            _ => workload.error_rate,
        };
        let requests = random.poisson(workload.rps * SCRAPE as f64);
        let errors = random.poisson(requests * rate).min(requests);
        ok += requests - errors;
        bad += errors;
        for _ in 0..requests as usize {
            let mut ms = workload.median_ms * (0.35 * random.normal()).exp();
            if random.unit() < workload.slow {
                ms *= 4.0;
            }
            count += 1.0;
            sum += ms;
            for (bucket, bound) in buckets.iter_mut().zip(BUCKETS_MS) {
                if ms <= bound {
                    *bucket += 1.0;
                }
            }
        }
        seen_error |= bad > 0.0;
        let (ns, name) = (workload.namespace, workload.name);
        match workload.names {
            Names::Istio => {
                let reporters: &[&str] = if workload.source_reporter {
                    &["destination", "source"]
                } else {
                    &["destination"]
                };
                for reporter in reporters {
                    let labels = format!(
                        r#"reporter="{reporter}",destination_workload="{name}",destination_workload_namespace="{ns}""#
                    );
                    let family = "istio_requests";
                    metrics.sample(
                        family,
                        "counter",
                        &format!(r#"istio_requests_total{{{labels},response_code="200"}}"#),
                        time,
                        ok,
                    );
                    if seen_error {
                        // Istio creates the 5xx series with the first 5xx.
                        metrics.sample(
                            family,
                            "counter",
                            &format!(r#"istio_requests_total{{{labels},response_code="503"}}"#),
                            time,
                            bad,
                        );
                    }
                    let buckets: Vec<(f64, f64)> = BUCKETS_MS.into_iter().zip(buckets).collect();
                    metrics.histogram(
                        "istio_request_duration_milliseconds",
                        &labels,
                        time,
                        &buckets,
                        count,
                        sum,
                    );
                }
            }
            Names::Http => {
                let labels = format!(r#"namespace="{ns}",deployment="{name}""#);
                let family = "http_requests";
                metrics.sample(
                    family,
                    "counter",
                    &format!(r#"http_requests_total{{{labels},code="200"}}"#),
                    time,
                    ok,
                );
                metrics.sample(
                    family,
                    "counter",
                    &format!(r#"http_requests_total{{{labels},code="500"}}"#),
                    time,
                    bad,
                );
                let buckets: Vec<(f64, f64)> = BUCKETS_MS
                    .into_iter()
                    .map(|bound| bound / 1000.0)
                    .zip(buckets)
                    .collect();
                metrics.histogram(
                    "http_request_duration_seconds",
                    &labels,
                    time,
                    &buckets,
                    count,
                    sum / 1000.0,
                );
            }
        }
        time += SCRAPE;
    }
}
