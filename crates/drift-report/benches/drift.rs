//! `cargo bench -p gantry-drift-report`: the action's run on a refresh-only plan of 5,000
//! resources of which 50 really drifted (every one of the 5,000 in `resource_drift` with the
//! provider's `tags_all: null → {}` noise, and the whole prior state), and of 50,000 with 500;
//! seconds and peak RSS beside `python3 -c 'json.load'` of the same file. Each measurement runs
//! in its own process; seven runs of each, taking turns; the fastest time and largest memory.

#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::collections::BTreeMap;
use std::time::Instant;

use gantry_drift_report::{Options, StackSource, run};

fn measure_one(path: &str, expected: &str) {
    let before = gantry_testkit::process_kib("VmRSS:");
    let start = Instant::now();
    let bytes = std::fs::read(path).expect("read the plan");
    let options = Options::from_inputs(
        &gantry_core::runner::Inputs::default(),
        "2026-12-04T06:00:00Z".to_owned(),
        None,
    )
    .expect("default options");
    let report = run(
        &options,
        &[StackSource {
            name: "bench".into(),
            file: path.into(),
            bytes: &bytes,
        }],
        &[],
        &BTreeMap::new(),
    )
    .expect("a valid plan");
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(report.outputs.value("resources-drifted"), Some(expected));
    println!(
        "{seconds:.4} {} {before}",
        gantry_testkit::process_kib("VmHWM:")
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|arg| arg == "--one") {
        measure_one(&args[position + 1], &args[position + 2]);
        return;
    }
    let me = std::env::current_exe().expect("own path");
    let me = me.to_string_lossy();
    let folder = std::env::temp_dir().join(format!("gantry-drift-bench-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("temp folder");
    println!(
        "| resources | drifted | file MB | gantry s | gantry peak RSS MB | gantry RSS growth MB (× file) | python json.load s | python peak RSS MB | python RSS growth MB (× file) |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (resources, drifted) in [(5_000usize, 50usize), (50_000, 500)] {
        let plan = gantry_testkit::terraform::synthetic_drift_plan(resources, drifted);
        let path = folder.join(format!("drift-{resources}.json"));
        std::fs::write(&path, &plan).expect("write the plan");
        let path_text = path.to_string_lossy().into_owned();
        #[expect(clippy::cast_precision_loss, reason = "sizes far below 2^52")]
        let megabytes = plan.len() as f64 / 1e6;
        let expected = drifted.to_string();
        let (mut our_runs, mut python_runs) = (Vec::new(), Vec::new());
        for _ in 0..7 {
            our_runs.push(gantry_testkit::bench::child(
                &me,
                &["--one", &path_text, &expected],
            ));
            python_runs.push(gantry_testkit::bench::child(
                "python3",
                &["-c", gantry_testkit::bench::PYTHON_JSON_LOAD, &path_text],
            ));
        }
        let ours = gantry_testkit::bench::best(&our_runs);
        let python = gantry_testkit::bench::best(&python_runs);
        #[expect(clippy::cast_precision_loss, reason = "RSS in KiB, far below 2^52")]
        let mb = |kib: u64| kib as f64 / 1024.0;
        let times_file = |kib: u64| mb(kib) * 1.048_576 / megabytes;
        println!(
            "| {resources} | {drifted} | {megabytes:.1} | {:.3} | {:.1} | {:.1} ({:.2}×) | {:.3} | {:.1} | {:.1} ({:.2}×) |",
            ours.0,
            mb(ours.1),
            mb(ours.2),
            times_file(ours.2),
            python.0,
            mb(python.1),
            mb(python.2),
            times_file(python.2),
        );
    }
    let _ = std::fs::remove_dir_all(&folder);
}
