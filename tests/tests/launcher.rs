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
use gantry_tests::{Shipped, TARGET, node24};

const VERSION: &str = env!("CARGO_PKG_VERSION");

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
    address: std::net::SocketAddr,
    requests: Arc<AtomicUsize>,
    /// The `Authorization` header of each request that had one.
    authorizations: Arc<Mutex<Vec<String>>>,
}

fn release(archive: Vec<u8>, plan: Vec<Answer>) -> Release {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let url = format!(
        "http://{}/releases/download/v{VERSION}",
        listener.local_addr().unwrap()
    );
    let address = listener.local_addr().unwrap();
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&requests);
    let authorizations = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&authorizations);
    let held = Arc::new(Mutex::new(Vec::new()));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("authorization") {
                        seen.lock().unwrap().push(value.trim().to_owned());
                    }
                }
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
    Release {
        url,
        address,
        requests,
        authorizations,
    }
}

/// The actions as a release ships them (see [`Shipped`]), with the binary of this build.
struct Action {
    shipped: Shipped,
    archive: Vec<u8>,
}

impl Action {
    fn new() -> Self {
        let shipped = Shipped::new(&gantry_binary(), VERSION);
        Self {
            archive: std::fs::read(&shipped.archive).unwrap(),
            shipped,
        }
    }

    fn checksums(&self, version: &str, archive: &str, binary: &str) {
        let checksums = serde_json::json!({
            "version": version,
            "targets": {TARGET: {"archive": archive, "binary": binary}},
        });
        std::fs::write(
            self.shipped.repo().join("launcher/checksums.json"),
            checksums.to_string(),
        )
        .unwrap();
    }

    fn entry(&self) -> PathBuf {
        self.shipped.entry(Some("quality-gate"))
    }

    fn cache(&self) -> PathBuf {
        self.shipped.folder.path().join("tool-cache")
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
        launch_entry(harness, &self.entry())
    }
}

/// The runner starting a node action whose entry is `entry`.
fn launch_entry(harness: &RunnerHarness<'_>, entry: &Path) -> RunOutcome {
    harness.run_program(&node24(), &[entry.to_str().unwrap()])
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
        // The action runs from the workflow's own checkout, where GANTRY_BINARY is honoured.
        .env("GITHUB_WORKSPACE", action.shipped.folder.path())
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

#[test]
fn every_action_entry_runs_its_own_subcommand() {
    let action = Action::new();
    let server = release(action.archive.clone(), vec![Answer::Archive]);
    let names: Vec<String> = std::fs::read_dir(action.shipped.repo().join("actions"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.len() >= 3, "{names:?}");
    for name in &names {
        // No inputs: each action names the required input it lacks, in its own words.
        let harness = action.harness(&server);
        let direct = harness.run(&[name]);
        assert_eq!(direct.exit_code, Some(2), "{name}: {}", direct.stdout);
        let launched = launch_entry(&harness, &action.shipped.entry(Some(name)));
        assert_eq!(comparable(&launched), comparable(&direct), "{name}");
        assert_eq!(launched.stdout, direct.stdout, "{name}");
    }
    // The messages differ by action: the test above could not pass with one subcommand for all.
    let said: std::collections::BTreeSet<String> = names
        .iter()
        .map(|name| action.harness(&server).run(&[name]).stdout)
        .collect();
    assert_eq!(said.len(), names.len());
}

#[test]
fn the_root_action_runs_only_the_action_its_command_names() {
    let action = Action::new();
    let server = release(action.archive.clone(), vec![Answer::Archive]);
    let harness = action
        .harness(&server)
        .input("command", " quality-gate\n")
        .input("junit", "junit.xml")
        .input("comment", "off");
    harness.write("junit.xml", FAILING);
    let direct = harness.run(&["quality-gate"]);
    assert_eq!(direct.exit_code, Some(1));
    let launched = launch_entry(&harness, &action.shipped.entry(None));
    assert_eq!(comparable(&launched), comparable(&direct));

    // Another of gantry's subcommands, a flag, a path, nothing: refused before any download.
    let fresh = Action::new();
    for command in ["publish", "--version", "../../bin/sh", ""] {
        let harness = fresh.harness(&server).input("command", command);
        refused(
            &launch_entry(&harness, &fresh.shipped.entry(None)),
            "the command input must name one of the actions (security-scan, quality-gate, terraform-plan",
        );
    }
    assert!(!fresh.cached_binary().exists());
}

#[test]
fn gantry_binary_is_refused_for_an_action_from_outside_the_workspace() {
    // `uses: owner/gantry/actions/…@ref` runs from the runner's _actions folder, not from
    // GITHUB_WORKSPACE: a GANTRY_BINARY in the job's environment must not run there.
    let action = Action::new();
    let (folder, script, marker) = stand_in();
    let server = release(action.archive.clone(), vec![Answer::Archive]);
    let harness = action
        .harness(&server)
        .env("GANTRY_BINARY", script.to_str().unwrap());
    refused(
        &action.launch(&harness),
        "GANTRY_BINARY is honoured only for an action run from the workflow's own checkout",
    );
    assert!(!marker.exists(), "the named file ran");
    assert_eq!(server.requests.load(Ordering::SeqCst), 0);

    // The same action inside the workspace — named through a symbolic link, as a runner's
    // work folder may be — runs it.
    let link = folder.path().join("workspace-link");
    std::os::unix::fs::symlink(action.shipped.folder.path(), &link).unwrap();
    let ran = Command::new(node24())
        .arg(action.entry())
        .env_clear()
        .env("GANTRY_BINARY", &script)
        .env("GITHUB_WORKSPACE", &link)
        .output()
        .unwrap();
    assert_eq!(
        ran.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ran.stdout)
    );
    assert!(
        marker.exists(),
        "GANTRY_BINARY did not run from the workspace"
    );
}

/// An HTTP proxy that tunnels every CONNECT to `to`, whatever host it names, and keeps the
/// targets it was asked for.
fn proxy(to: std::net::SocketAddr) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&asked);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut client) = stream else { continue };
            let mut reader = BufReader::new(client.try_clone().unwrap());
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            if let Some(target) = line.strip_prefix("CONNECT ") {
                let target = target.split_whitespace().next().unwrap_or_default();
                seen.lock().unwrap().push(target.to_owned());
            }
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|read| read > 2) {
                header.clear();
            }
            let Ok(mut upstream) = std::net::TcpStream::connect(to) else {
                continue;
            };
            let _ = client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n");
            let (mut client_in, mut upstream_out) =
                (client.try_clone().unwrap(), upstream.try_clone().unwrap());
            std::thread::spawn(move || std::io::copy(&mut client_in, &mut upstream_out));
            std::thread::spawn(move || std::io::copy(&mut upstream, &mut client));
        }
    });
    (url, asked)
}

#[test]
fn the_runner_proxy_carries_the_download() {
    // A self-hosted runner behind a proxy: the release host resolves only through it.
    let action = Action::new();
    let server = release(action.archive.clone(), vec![Answer::Archive]);
    let (proxy_url, asked) = proxy(server.address);
    let harness = action
        .harness(&server)
        .env(
            "INPUT_BINARY-URL",
            &format!("http://release.gantry.invalid/releases/download/v{VERSION}"),
        )
        .env("HTTP_PROXY", &proxy_url)
        .input("junit", "junit.xml")
        .input("comment", "off");
    harness.write("junit.xml", PASSING);
    let outcome = action.launch(&harness);
    assert_eq!(outcome.exit_code, Some(0), "{}", outcome.stdout);
    assert_eq!(*asked.lock().unwrap(), ["release.gantry.invalid:80"]);
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
}

/// Runs the launcher in the background; fails the test if it has not ended within a minute.
fn launch_within_a_minute(action: &Action, harness: RunnerHarness<'static>) -> RunOutcome {
    let entry = action.entry();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(launch_entry(&harness, &entry));
    });
    receiver
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the launcher hung")
}

/// Issue 25 §5: a FIFO at the cache path hung the launcher, a folder there exited 1, and a
/// symbolic link there was followed.
#[test]
fn a_fifo_a_folder_or_a_link_at_the_cache_path_is_refused_at_once() {
    for kind in ["fifo", "folder", "link"] {
        let action = Action::new();
        let server = release(action.archive.clone(), vec![Answer::Archive]);
        let cached = action.cached_binary();
        std::fs::create_dir_all(cached.parent().unwrap()).unwrap();
        let says = match kind {
            "fifo" => {
                let made = Command::new("mkfifo").arg(&cached).status().unwrap();
                assert!(made.success());
                "is a FIFO (named pipe), not the gantry binary"
            }
            "folder" => {
                std::fs::create_dir(&cached).unwrap();
                "is a folder, not the gantry binary"
            }
            _ => {
                // Even a link to the verified binary itself: the cache holds the file or nothing.
                let elsewhere = action.shipped.folder.path().join("verified-gantry");
                std::fs::copy(gantry_binary(), &elsewhere).unwrap();
                std::os::unix::fs::symlink(&elsewhere, &cached).unwrap();
                "is a symbolic link, not the gantry binary"
            }
        };
        let harness = action.harness(&server).input("junit", "junit.xml");
        harness.write("junit.xml", PASSING);
        let outcome = launch_within_a_minute(&action, harness);
        refused(&outcome, says);
        assert_eq!(server.requests.load(Ordering::SeqCst), 0, "{kind}");
    }
}

/// Issue 25 §5: the launcher hashed the cached binary, then ran it by path, so a process that
/// swapped the file in between ran its own (28 times in 150). Now the hashed bytes are what
/// runs; with the file swapped as fast as it can be, the stand-in never runs.
#[test]
fn what_runs_is_what_was_verified_even_while_the_cache_is_swapped() {
    let action = Action::new();
    let server = release(action.archive.clone(), vec![Answer::Archive]);
    let harness = action.harness(&server).input("junit", "junit.xml");
    harness.write("junit.xml", PASSING);
    assert_eq!(action.launch(&harness).exit_code, Some(0));
    let cached = action.cached_binary();
    let folder = action.shipped.folder.path();
    let good = folder.join("good-gantry");
    std::fs::copy(&cached, &good).unwrap();
    let marker = folder.join("evil-ran");
    let evil = folder.join("evil-gantry");
    std::fs::write(&evil, format!("#!/bin/sh\ntouch {}\n", marker.display())).unwrap();
    std::fs::set_permissions(&evil, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapping = {
        let stop = Arc::clone(&stop);
        let (cached, good, evil) = (cached.clone(), good.clone(), evil.clone());
        std::thread::spawn(move || {
            let staged = cached.with_extension("staged");
            while !stop.load(Ordering::SeqCst) {
                for source in [&good, &evil] {
                    let _ = std::fs::remove_file(&staged);
                    if std::fs::hard_link(source, &staged).is_ok() {
                        let _ = std::fs::rename(&staged, &cached);
                    }
                }
            }
        })
    };
    let (mut ran, mut refused_runs) = (0, 0);
    for _ in 0..60 {
        let outcome = action.launch(&harness);
        match outcome.exit_code {
            Some(0) => ran += 1,
            Some(3) => refused_runs += 1,
            other => panic!("{other:?}: {}\n{}", outcome.stdout, outcome.stderr),
        }
    }
    stop.store(true, Ordering::SeqCst);
    swapping.join().unwrap();
    assert!(!marker.exists(), "the swapped-in file ran");
    assert_eq!(ran + refused_runs, 60);
    assert!(ran > 0, "gantry ran at least once ({refused_runs} refused)");
}

/// Issue 25 §5: with `GITHUB_WORKSPACE=/`, every action on the machine was "inside the
/// workspace" and ran `GANTRY_BINARY`. The workspace must be no root or temp folder, and an
/// action under the runner's `_actions` folder never vouches for it.
#[test]
fn gantry_binary_needs_a_workspace_that_is_no_root_or_temp_folder() {
    let action = Action::new();
    let (_folder, script, marker) = stand_in();
    let run = |workspace: &Path, entry: &Path| {
        Command::new(node24())
            .arg(entry)
            .env_clear()
            .env("GANTRY_BINARY", &script)
            .env("GITHUB_WORKSPACE", workspace)
            .output()
            .unwrap()
    };
    for workspace in [Path::new("/"), &std::env::temp_dir()] {
        let ran = run(workspace, &action.entry());
        assert_eq!(ran.status.code(), Some(3), "{}", workspace.display());
        assert!(
            String::from_utf8_lossy(&ran.stdout).contains("GANTRY_BINARY is honoured only"),
            "{}",
            String::from_utf8_lossy(&ran.stdout)
        );
    }
    // The runner's checkout of `uses: owner/gantry@ref`, under a workspace that holds it.
    let runner_work = tempfile::tempdir().unwrap();
    let fetched = runner_work.path().join("_actions/owner/gantry/v1");
    copy_folder(&action.shipped.repo(), &fetched);
    let entry = fetched.join(action.entry().strip_prefix(action.shipped.repo()).unwrap());
    let ran = run(runner_work.path(), &entry);
    assert_eq!(ran.status.code(), Some(3));
    assert!(!marker.exists(), "the named file ran");
    // The workflow's own checkout still runs it.
    let ran = run(action.shipped.folder.path(), &action.entry());
    assert_eq!(
        ran.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ran.stdout)
    );
    assert!(marker.exists());
}

/// Copies a folder of files and folders.
fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A program that is not gantry, in a folder of its own: it leaves `marker` when it runs.
fn stand_in() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let folder = tempfile::tempdir().unwrap();
    let marker = folder.path().join("ran");
    let script = folder.path().join("not-gantry");
    std::fs::write(&script, format!("#!/bin/sh\ntouch {}\n", marker.display())).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    (folder, script, marker)
}

/// Issue 25 §4: a mirror's `binary-url` with `user:password@` is sent as basic auth (fetch
/// refuses such a URL) and never shown.
#[test]
fn a_mirror_with_credentials_gets_basic_auth_and_its_password_is_never_shown() {
    let action = Action::new();
    let refusing = release(action.archive.clone(), vec![Answer::Status(404)]);
    let with = |server: &Release| server.url.replacen("http://", "http://ci:pa%2Fss@", 1);
    let harness = action
        .harness(&refusing)
        .env("INPUT_BINARY-URL", &with(&refusing));
    let outcome = action.launch(&harness);
    refused(&outcome, "HTTP 404");
    for text in [&outcome.stdout, &outcome.stderr] {
        assert!(
            !text.contains("pa%2Fss") && !text.contains("pa/ss"),
            "{text}"
        );
    }
    assert!(
        outcome.stdout.contains("http://***@127.0.0.1"),
        "{}",
        outcome.stdout
    );
    // base64("ci:pa/ss")
    assert_eq!(
        *refusing.authorizations.lock().unwrap(),
        ["Basic Y2k6cGEvc3M="]
    );

    let serving = release(action.archive.clone(), vec![Answer::Archive]);
    let harness = action
        .harness(&serving)
        .env("INPUT_BINARY-URL", &with(&serving))
        .input("junit", "junit.xml");
    harness.write("junit.xml", PASSING);
    assert_eq!(action.launch(&harness).exit_code, Some(0));
    assert_eq!(
        *serving.authorizations.lock().unwrap(),
        ["Basic Y2k6cGEvc3M="]
    );
}
