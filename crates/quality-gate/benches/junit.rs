//! `cargo bench -p gantry-quality-gate`: reads a generated 1 GB `JUnit` report (100,000 test
//! cases, each with ~10 KB of captured output, every 50th failing) from disk as a stream, and
//! reports the time and the peak RSS — which stays a small fraction of the file, because the
//! report is never loaded whole.

#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::io::{BufReader, BufWriter, Write as _};
use std::time::Instant;

use gantry_core::junit::Totals;
use gantry_quality_gate::junit::read_test_report;

const CASES: usize = 100_000;

fn main() {
    let path = std::env::temp_dir().join(format!("gantry-junit-bench-{}.xml", std::process::id()));
    {
        let file = std::fs::File::create(&path).expect("a temporary file");
        let mut out = BufWriter::new(file);
        let output_line =
            "2026-11-26T12:00:00Z INFO request handled in 12ms status=200 path=/api/v1/items\n";
        let output: String = output_line.repeat(10_500 / output_line.len());
        writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><testsuites><testsuite name=\"big\" tests=\"{CASES}\">").expect("write");
        for index in 0..CASES {
            let failure = if index % 50 == 0 {
                "<failure message=\"assert false\">Traceback: line 1</failure>"
            } else {
                ""
            };
            writeln!(
                out,
                "<testcase classname=\"suite.module{}\" name=\"test_{index}\" time=\"0.01\">{failure}<system-out><![CDATA[{output}]]></system-out></testcase>",
                index % 100
            )
            .expect("write");
        }
        writeln!(out, "</testsuite></testsuites>").expect("write");
    }
    let bytes = std::fs::metadata(&path).map_or(0, |metadata| metadata.len());
    let start = Instant::now();
    let file = std::fs::File::open(&path).expect("the report");
    let report =
        read_test_report("big.xml", BufReader::with_capacity(256 * 1024, file)).expect("a report");
    let seconds = start.elapsed().as_secs_f64();
    let totals = Totals::of(&report.suites);
    let _ = std::fs::remove_file(&path);
    assert_eq!(totals.tests, CASES as u64);
    #[expect(clippy::cast_precision_loss, reason = "sizes far below 2^52")]
    let megabytes = bytes as f64 / 1_048_576.0;
    #[expect(clippy::cast_precision_loss, reason = "RSS in KiB")]
    let rss = gantry_testkit::process_kib("VmHWM:") as f64 / 1024.0;
    println!("| report MB | test cases | failed | seconds | MB/s | peak RSS MB (× file) |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| {megabytes:.0} | {} | {} | {seconds:.2} | {:.0} | {rss:.0} ({:.3}×) |",
        totals.tests,
        totals.failed,
        megabytes / seconds,
        rss / megabytes
    );
}
