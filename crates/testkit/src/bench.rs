//! What the file-reading benchmarks share: each measurement in a child process of its own (so
//! its peak RSS is its own), and `python3 -c 'json.load'` on the same file as the yardstick.

use std::process::Command;

/// `python3 -c PYTHON_JSON_LOAD <file>` prints seconds, peak RSS KiB and RSS KiB before the
/// load, as a `--one` child of a benchmark does.
pub const PYTHON_JSON_LOAD: &str = "import json,resource,sys,time\nb=[l for l in open('/proc/self/status') if l.startswith('VmRSS:')][0].split()[1]\nt=time.perf_counter()\njson.load(open(sys.argv[1]))\nprint(f'{time.perf_counter()-t:.4f}', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, b)";

/// Runs a measuring child; returns the seconds, peak RSS KiB and RSS KiB before the work it
/// printed.
///
/// # Panics
/// When the child cannot be run or fails.
pub fn child(program: &str, args: &[&str]) -> (f64, u64, u64) {
    let output = Command::new(program)
        .args(args)
        .output()
        .expect("run the measurement");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let mut fields = text.split_whitespace();
    let seconds = fields
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN);
    let mut kib = || fields.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let peak = kib();
    (seconds, peak, kib())
}

/// The fastest time, the largest peak and the largest growth over the before-RSS of runs
/// (memory is reported pessimistically).
pub fn best(runs: &[(f64, u64, u64)]) -> (f64, u64, u64) {
    runs.iter().fold((f64::INFINITY, 0u64, 0u64), |best, run| {
        (
            best.0.min(run.0),
            best.1.max(run.1),
            best.2.max(run.1.saturating_sub(run.2)),
        )
    })
}
