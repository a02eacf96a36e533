//! The release's own code (`scripts/release.py`, which `.github/workflows/release.yml` runs):
//! one list of targets for the launcher, the script and the build matrix; archives that are the
//! same bytes from the same binary; checksums that name what they cover; a release that lacks
//! a target does not happen.

use std::ffi::OsStr;
use std::process::Command;

use gantry_tests::{Shipped, TARGET, node24, release_py, repository, sha256_hex};

#[test]
fn the_launcher_the_script_and_the_build_matrix_know_the_same_targets() {
    let script: Vec<String> = release_py(&["targets".as_ref()])
        .lines()
        .map(str::to_owned)
        .collect();
    let launcher = Command::new(node24())
        .arg("--input-type=module")
        .arg("-e")
        .arg(format!(
            "const {{ TARGETS }} = await import({}); console.log(Object.values(TARGETS).join('\\n'));",
            serde_json::Value::String(
                url_of(&repository().join("launcher/gantry.mjs"))
            )
        ))
        .output()
        .expect("node");
    assert!(
        launcher.status.success(),
        "{}",
        String::from_utf8_lossy(&launcher.stderr)
    );
    let launcher: Vec<String> = String::from_utf8_lossy(&launcher.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(script, launcher);
    assert_eq!(script.len(), 5);
    let workflow =
        std::fs::read_to_string(repository().join(".github/workflows/release.yml")).unwrap();
    let matrix: Vec<&str> = workflow
        .lines()
        .filter_map(|line| line.trim().strip_prefix("- target: "))
        .collect();
    assert_eq!(matrix, script, "the build matrix of release.yml");
}

fn url_of(path: &std::path::Path) -> String {
    format!("file://{}", path.canonicalize().unwrap().display())
}

#[test]
fn an_archive_is_the_same_bytes_from_the_same_binary_and_holds_only_it() {
    let binary = gantry_testkit::harness::gantry_binary();
    let first = Shipped::new(&binary, "1.2.3");
    let second = Shipped::new(&binary, "1.2.3");
    assert_eq!(
        std::fs::read(&first.archive).unwrap(),
        std::fs::read(&second.archive).unwrap()
    );
    // tar itself (not our reader) lists one executable file, gantry, owned by 0:0.
    let listing = Command::new("tar")
        .arg("-tvzf")
        .arg(&first.archive)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 1, "{listing}");
    assert!(
        lines[0].starts_with("-rwxr-xr-x 0/0") && lines[0].ends_with(" gantry"),
        "{listing}"
    );
    // checksums.json says the archive's and the binary's SHA-256, as sha256sum reads them.
    let checksums: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(first.repo().join("launcher/checksums.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(checksums["version"], "1.2.3");
    assert_eq!(
        checksums["targets"][TARGET]["archive"],
        sha256_hex(&first.archive)
    );
    assert_eq!(checksums["targets"][TARGET]["binary"], sha256_hex(&binary));
    let sums = std::fs::read_to_string(first.folder.path().join("dist/SHA256SUMS")).unwrap();
    assert_eq!(
        sums,
        format!(
            "{}  gantry-1.2.3-{TARGET}.tar.gz\n",
            sha256_hex(&first.archive)
        )
    );
}

fn release_py_fails(args: &[&OsStr]) -> String {
    let output = Command::new("python3")
        .arg(repository().join("scripts/release.py"))
        .args(args)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{args:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_release_without_every_target_or_with_the_wrong_version_stops() {
    let shipped = Shipped::new(&gantry_testkit::harness::gantry_binary(), "1.2.3");
    let dist = shipped.folder.path().join("dist");
    let out = shipped.folder.path().join("checksums.json");
    let said = release_py_fails(&[
        "checksums".as_ref(),
        "1.2.3".as_ref(),
        dist.as_os_str(),
        out.as_os_str(),
        "--all-targets".as_ref(),
    ]);
    assert!(
        said.contains("no archive for aarch64-unknown-linux-musl, x86_64-apple-darwin"),
        "{said}"
    );
    assert!(!out.exists(), "nothing written half-way");
    // A file named like an archive that is not one stops the release, naming it.
    std::fs::write(
        dist.join("gantry-1.2.3-aarch64-apple-darwin.tar.gz"),
        b"not gzip",
    )
    .unwrap();
    let said = release_py_fails(&[
        "checksums".as_ref(),
        "1.2.3".as_ref(),
        dist.as_os_str(),
        out.as_os_str(),
    ]);
    assert!(
        said.contains("gantry-1.2.3-aarch64-apple-darwin.tar.gz: not a readable tar.gz"),
        "{said}"
    );
    let said = release_py_fails(&["check".as_ref(), "99.0.0".as_ref()]);
    assert!(
        said.contains(&format!(
            "[workspace.package] version is {}, not 99.0.0",
            env!("CARGO_PKG_VERSION")
        )),
        "{said}"
    );
    let said = release_py_fails(&["check".as_ref(), "v1.0".as_ref()]);
    assert!(said.contains("'v1.0' is not X.Y.Z"), "{said}");
    release_py(&["check".as_ref(), env!("CARGO_PKG_VERSION").as_ref()]);
}

#[test]
fn main_carries_the_version_it_builds_and_no_checksums() {
    // Only a release commit (release.yml writes it) names binaries: an action used from a
    // branch has nothing to download and says so.
    let checksums: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repository().join("launcher/checksums.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(checksums["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(checksums["targets"], serde_json::json!({}));
}
