//! `cargo bench -p gantry-terraform-plan`: renders generated plans of 3,000 and 30,000
//! resources and reports MB/s and peak RSS beside `python3 -c 'import json; json.load(...)'` on
//! the same file. Each measurement runs in its own process so peak RSS is its own; seven runs
//! of each, taking turns, and the fastest is reported.
//! Target: faster than the Python parse alone, at no more than twice the file's size in memory.

#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::time::Instant;

use gantry_terraform_plan::{CommentSetting, Options, StackSource, run};

/// The child: read the file and run the action once; print seconds, peak RSS and the RSS before
/// the work began (the process itself: binary, libc, stack).
fn measure_one(path: &str) {
    let before = gantry_testkit::process_kib("VmRSS:");
    let start = Instant::now();
    let bytes = std::fs::read(path).expect("read the plan");
    let options = Options {
        comment: CommentSetting::Update,
        comment_key: None,
        fail_on_destroy: false,
        destroy_allowlist: Vec::new(),
        expect_digest: None,
        workflow_and_job: "bench/plan".into(),
    };
    let report = run(
        &options,
        &[StackSource {
            name: "bench".into(),
            file: path.into(),
            bytes: &bytes,
        }],
    )
    .expect("a valid plan");
    let seconds = start.elapsed().as_secs_f64();
    assert!(!report.summary.is_empty());
    println!(
        "{seconds:.4} {} {before}",
        gantry_testkit::process_kib("VmHWM:")
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|arg| arg == "--write") {
        // `--write <resources> <file>`: keep a generated plan, for profiling `--one`.
        let resources = args[position + 1].parse().expect("a number of resources");
        std::fs::write(
            &args[position + 2],
            gantry_testkit::terraform::synthetic_plan(resources).0,
        )
        .expect("write");
        return;
    }
    if let Some(position) = args.iter().position(|arg| arg == "--one") {
        measure_one(&args[position + 1]);
        return;
    }
    let me = std::env::current_exe().expect("own path");
    let me = me.to_string_lossy();
    let folder = std::env::temp_dir().join(format!("gantry-plan-bench-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("temp folder");
    println!(
        "| resources | file MB | gantry s | gantry MB/s | gantry peak RSS MB (× file) | gantry RSS growth MB (× file) | python json.load s | python MB/s | python peak RSS MB | python RSS growth MB (× file) |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for resources in [3_000usize, 30_000] {
        let (plan, _) = gantry_testkit::terraform::synthetic_plan(resources);
        let path = folder.join(format!("plan-{resources}.json"));
        std::fs::write(&path, &plan).expect("write the plan");
        let path_text = path.to_string_lossy().into_owned();
        #[expect(clippy::cast_precision_loss, reason = "sizes far below 2^52")]
        let megabytes = plan.len() as f64 / 1e6;
        let python_code = gantry_testkit::bench::PYTHON_JSON_LOAD;
        // Seven runs each, taking turns, so a noisy neighbour slows both alike.
        let (mut our_runs, mut python_runs) = (Vec::new(), Vec::new());
        for _ in 0..7 {
            our_runs.push(gantry_testkit::bench::child(&me, &["--one", &path_text]));
            python_runs.push(gantry_testkit::bench::child(
                "python3",
                &["-c", python_code, &path_text],
            ));
        }
        let ours = gantry_testkit::bench::best(&our_runs);
        let python = gantry_testkit::bench::best(&python_runs);
        #[expect(clippy::cast_precision_loss, reason = "RSS in KiB, far below 2^52")]
        let mb = |kib: u64| kib as f64 / 1024.0;
        let times_file = |kib: u64| mb(kib) * 1.048_576 / megabytes;
        println!(
            "| {resources} | {megabytes:.1} | {:.3} | {:.0} | {:.1} ({:.2}×) | {:.1} ({:.2}×) | {:.3} | {:.0} | {:.1} | {:.1} ({:.2}×) |",
            ours.0,
            megabytes / ours.0,
            mb(ours.1),
            times_file(ours.1),
            mb(ours.2),
            times_file(ours.2),
            python.0,
            megabytes / python.0,
            mb(python.1),
            mb(python.2),
            times_file(python.2),
        );
    }
    let _ = std::fs::remove_dir_all(&folder);
}
