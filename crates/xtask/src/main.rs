//! `cargo xtask`: repository chores.
//!
//! - `codegen [--check]`: writes `actions/<action>/action.yml` and its `main.mjs` (the launcher
//!   with the action's subcommand), the root `action.yml` and `main.mjs`, and the README's
//!   input/output tables from the action registry; `--check` fails when the checked-in files
//!   differ (CI runs it).
//! - `wasm-check`: builds the sans-IO crates into a WASI module and fails unless every import is
//!   on [`ALLOWED_WASI_IMPORTS`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail, ensure};
use gantry_core::action::{ActionSpec, BINARY_URL_INPUT, ENTRY_FILE, GITHUB_TOKEN_INPUT};

// What a pure computation reading stdin and writing stdout needs, and nothing more: `fd_read`,
// `fd_write`, `proc_exit`, and `environ_get`/`environ_sizes_get`, which std itself imports (a
// program that only copies stdin to stdout imports them: the panic hook reads
// `RUST_BACKTRACE`). The probe takes its inputs on stdin, not the environment; that no sans-IO
// crate reads the environment is checked in their sources ([`SANS_IO_CRATES`]). Anything else,
// `random_get` (the default `HashMap` hasher), `clock_time_get` (`SystemTime::now`),
// `path_open` (`std::fs`), means a sans-IO crate touches the world.
const ALLOWED_WASI_IMPORTS: [&str; 5] = [
    "fd_read",
    "fd_write",
    "proc_exit",
    "environ_get",
    "environ_sizes_get",
];

/// The crates that do no I/O: their sources may not name the environment.
const SANS_IO_CRATES: [&str; 7] = [
    "core",
    "terraform-plan",
    "drift-report",
    "security-scan",
    "quality-gate",
    "canary-verify",
    "helm-deploy",
];

const README_START: &str = "<!-- gantry:action-tables:start -->";
const README_END: &str = "<!-- gantry:action-tables:end -->";
const FORK_START: &str = "<!-- gantry:fork-workflows:start -->";
const FORK_END: &str = "<!-- gantry:fork-workflows:end -->";
/// The example workflows the README shows as they are (and `scripts/test.sh` lints).
const FORK_WORKFLOWS: [&str; 2] = [
    "examples/workflows/fork-pr.yml",
    "examples/workflows/fork-publish.yml",
];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    match args.first().map(String::as_str) {
        Some("codegen") => codegen(&root, args.iter().any(|arg| arg == "--check")),
        Some("wasm-check") => wasm_check(&root),
        _ => bail!("usage: cargo xtask codegen [--check] | cargo xtask wasm-check"),
    }
}

/// Every generated file and its contents.
fn generated(root: &Path) -> anyhow::Result<BTreeMap<PathBuf, String>> {
    let specs = gantry::action_specs();
    let mut files = BTreeMap::new();
    for spec in &specs {
        let folder = root.join("actions").join(spec.name);
        files.insert(folder.join("action.yml"), spec.action_yml());
        files.insert(folder.join(ENTRY_FILE), spec.entry_mjs());
    }
    files.insert(root.join("action.yml"), root_action_yml(&specs));
    files.insert(root.join(ENTRY_FILE), root_entry_mjs(&specs));
    let readme_path = root.join("README.md");
    let readme = std::fs::read_to_string(&readme_path).context("read README.md")?;
    let (Some(start), Some(end)) = (readme.find(README_START), readme.find(README_END)) else {
        bail!("README.md lacks the {README_START} … {README_END} markers");
    };
    let mut tables = String::from("\n");
    if specs.is_empty() {
        tables.push_str("_No action is implemented yet._\n");
    }
    for spec in &specs {
        let _ = write!(
            tables,
            "\n### `{}`\n\n{}\n\n{}",
            spec.name,
            spec.description,
            spec.markdown_tables()
        );
    }
    tables.push('\n');
    let mut updated = readme[..start + README_START.len()].to_owned();
    updated.push_str(&tables);
    updated.push_str(&readme[end..]);
    let (Some(start), Some(end)) = (updated.find(FORK_START), updated.find(FORK_END)) else {
        bail!("README.md lacks the {FORK_START} … {FORK_END} markers");
    };
    let mut shown = String::from("\n");
    for path in FORK_WORKFLOWS {
        let text =
            std::fs::read_to_string(root.join(path)).with_context(|| format!("read {path}"))?;
        let _ = write!(shown, "\n`{path}`:\n\n```yaml\n{text}```\n");
    }
    shown.push('\n');
    let updated = format!(
        "{}{shown}{}",
        &updated[..start + FORK_START.len()],
        &updated[end..]
    );
    files.insert(readme_path, updated);
    Ok(files)
}

/// The root action: `uses: OWNER/gantry@v1` with `command:` naming the action. It declares the
/// union of all inputs without defaults (each action applies its own).
fn root_action_yml(specs: &[&ActionSpec]) -> String {
    let quote = |text: &str| serde_json::Value::String(text.to_owned()).to_string();
    let mut yml = String::new();
    yml.push_str(
        "# Generated by `cargo xtask codegen` from crates/cli/src/registry.rs: do not edit.\n",
    );
    yml.push_str("name: \"Gantry\"\n");
    yml.push_str("description: \"Pull request to production, safely: security scan, quality gate, Terraform plan, drift, Helm deploy and canary verification.\"\n");
    yml.push_str("author: Gantry\nbranding:\n  icon: shield\n  color: blue\ninputs:\n");
    let names: Vec<&str> = specs.iter().map(|spec| spec.name).collect();
    let _ = writeln!(
        yml,
        "  command:\n    description: {}\n    required: true",
        quote(&format!(
            "The action to run: {}.",
            if names.is_empty() {
                "none is implemented yet".to_owned()
            } else {
                names.join(", ")
            }
        ))
    );
    let mut seen = BTreeMap::new();
    for spec in specs {
        for input in spec.inputs {
            seen.entry(input.name)
                .or_insert_with(Vec::new)
                .push(spec.name);
        }
    }
    seen.entry(GITHUB_TOKEN_INPUT.name).or_default();
    seen.entry(BINARY_URL_INPUT.name).or_default();
    for (name, used_by) in &seen {
        let _ = writeln!(yml, "  {name}:");
        if *name == BINARY_URL_INPUT.name {
            let _ = writeln!(
                yml,
                "    description: {}\n    required: false",
                quote(BINARY_URL_INPUT.description)
            );
        } else if *name == GITHUB_TOKEN_INPUT.name {
            let _ = writeln!(
                yml,
                "    description: {}\n    required: false\n    default: {}",
                quote(GITHUB_TOKEN_INPUT.description),
                quote(GITHUB_TOKEN_INPUT.default.unwrap_or_default())
            );
        } else {
            let _ = writeln!(
                yml,
                "    description: {}\n    required: false",
                quote(&format!("See the `{}` action.", used_by.join("`, `")))
            );
        }
    }
    yml.push_str("outputs:\n");
    let mut outputs = BTreeMap::new();
    for spec in specs {
        for output in spec.outputs {
            outputs.entry(output.name).or_insert(output.description);
        }
    }
    outputs
        .entry("result")
        .or_insert(gantry_core::action::RESULT_OUTPUT.description);
    for (name, description) in outputs {
        let _ = writeln!(yml, "  {name}:\n    description: {}", quote(description));
    }
    let _ = writeln!(yml, "runs:\n  using: node24\n  main: {}", quote(ENTRY_FILE));
    yml
}

/// The root `main.mjs`: the launcher with the subcommand the `command` input names, which must
/// be one of the registered actions (nothing else of gantry's, and never a file, can run).
fn root_entry_mjs(specs: &[&ActionSpec]) -> String {
    let commands: Vec<String> = specs
        .iter()
        .map(|spec| serde_json::Value::String(spec.name.to_owned()).to_string())
        .collect();
    format!(
        "// Generated by `cargo xtask codegen` from crates/cli/src/registry.rs: do not edit.\n\
         import {{ main }} from \"./launcher/gantry.mjs\";\n\
         await main(process.env.INPUT_COMMAND ?? \"\", process.env, {{ commands: [{}] }});\n",
        commands.join(", ")
    )
}

fn codegen(root: &Path, check: bool) -> anyhow::Result<()> {
    let mut drifted = Vec::new();
    for (path, contents) in generated(root)? {
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == contents {
            continue;
        }
        if check {
            drifted.push(
                path.strip_prefix(root)
                    .unwrap_or(&path)
                    .display()
                    .to_string(),
            );
        } else {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, contents).with_context(|| format!("write {}", path.display()))?;
        }
    }
    // An action folder whose action is no longer registered is drift too.
    let registered: Vec<&str> = gantry::action_specs()
        .iter()
        .map(|spec| spec.name)
        .collect();
    if let Ok(entries) = std::fs::read_dir(root.join("actions")) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !registered.contains(&name.as_str()) {
                drifted.push(format!("actions/{name} (no such action in the registry)"));
            }
        }
    }
    ensure!(
        drifted.is_empty(),
        "generated files differ from the registry; run `cargo xtask codegen`:\n  {}",
        drifted.join("\n  ")
    );
    Ok(())
}

#[expect(
    clippy::print_stdout,
    reason = "a developer command reporting its result"
)]
fn wasm_check(root: &Path) -> anyhow::Result<()> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args([
            "build",
            "--quiet",
            "--release",
            "--package",
            "gantry-wasm-probe",
            "--target",
            "wasm32-wasip1",
        ])
        .current_dir(root)
        .status()
        .context("run cargo build for wasm32-wasip1")?;
    ensure!(
        status.success(),
        "the sans-IO crates do not build for wasm32-wasip1"
    );
    let target_dir =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let module = target_dir.join("wasm32-wasip1/release/gantry-wasm-probe.wasm");
    let bytes = std::fs::read(&module).with_context(|| format!("read {}", module.display()))?;
    let imports = wasm_imports(&bytes).with_context(|| format!("parse {}", module.display()))?;
    let foreign: Vec<String> = imports
        .iter()
        .filter(|(module, name)| {
            module != "wasi_snapshot_preview1" || !ALLOWED_WASI_IMPORTS.contains(&name.as_str())
        })
        .map(|(module, name)| format!("{module}::{name}"))
        .collect();
    ensure!(
        foreign.is_empty(),
        "the WASI module imports what a pure computation does not need: {}",
        foreign.join(", ")
    );
    let readers = environment_readers(root)?;
    ensure!(
        readers.is_empty(),
        "a sans-IO crate reads the environment (std::env), which the WASI imports cannot show: {}",
        readers.join(", ")
    );
    println!(
        "wasm-check: {} ({} bytes) imports {} functions, all on the allowed list",
        module.strip_prefix(root).unwrap_or(&module).display(),
        bytes.len(),
        imports.len()
    );
    run_under_node(root, &module)
}

/// `file:line` of every mention of `std::env` / `env::var` / `env::args` in a sans-IO crate's
/// sources (comments included: cheaper to reword a comment than to miss a call).
fn environment_readers(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut found = Vec::new();
    let mut stack: Vec<PathBuf> = SANS_IO_CRATES
        .iter()
        .map(|name| root.join("crates").join(name).join("src"))
        .collect();
    while let Some(folder) = stack.pop() {
        for entry in
            std::fs::read_dir(&folder).with_context(|| format!("read {}", folder.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let text = std::fs::read_to_string(&path)?;
                for (number, line) in text.lines().enumerate() {
                    if ["std::env", "env::var", "env::args"]
                        .iter()
                        .any(|word| line.contains(word))
                    {
                        let shown = path.strip_prefix(root).unwrap_or(&path).display();
                        found.push(format!("{shown}:{}", number + 1));
                    }
                }
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The probe's cases: an action, its inputs, its files (role, path under `examples/`), and a
/// line its output must hold.
type ProbeCase = (
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
    &'static str,
);

const PROBE_CASES: [ProbeCase; 6] = [
    (
        "drift-report",
        &["INPUT_IGNORE=aws_instance.tags_all"],
        &[
            ("plan", "drift/shop-aws/plan.json"),
            ("plan", "drift/clean/plan.json"),
        ],
        "passed: Drift in 1 of 2 stacks: 4 objects changed outside Terraform or Helm.",
    ),
    (
        "terraform-plan",
        &[],
        &[
            ("plan", "terraform/app/plan.json"),
            ("plan", "terraform/network/plan.json"),
        ],
        "passed: Plan: 4 to add, 2 to change, 3 to destroy.",
    ),
    (
        "security-scan",
        &["INPUT_FAIL-ON=high"],
        &[
            ("report", "security/reports/trivy.sarif"),
            ("report", "security/reports/trivy.json"),
            ("report", "security/reports/bandit.json"),
            ("baseline", "security/baseline.sarif"),
            ("suppressions", "security/suppressions.yml"),
        ],
        "failed: 1 new finding(s) at or above high",
    ),
    (
        "quality-gate",
        &["INPUT_MIN-COVERAGE=80"],
        &[
            ("tests", "quality/reports/pytest.xml"),
            ("coverage", "quality/coverage.xml"),
            ("lint", "quality/flake8.txt"),
            ("baseline", "quality/baseline.json"),
        ],
        "failed: 1 test(s) failed",
    ),
    (
        "helm-deploy",
        &[
            "INPUT_RELEASE=cart",
            "INPUT_CHART=podinfo",
            "INPUT_NAMESPACE=shop",
            "INPUT_STRATEGY=canary",
            "INPUT_TRAFFIC=istio",
            "INPUT_PROMETHEUS-URL=http://prometheus:9090",
            "INPUT_TIMEOUT=30m",
        ],
        &[("manifest", "helm/podinfo-manifest.yaml")],
        "passed: cart: the plan of a canary deploy",
    ),
    (
        "event",
        &["INPUT_EVENT=pull_request"],
        &[("payload", "../crates/xtask/src/pull_request.json")],
        "passed: pull_request pr=Some(7)",
    ),
];

/// Runs each action's whole `run` in the module under Node's WASI on the bundled examples, and
/// natively: the outputs must be the same, byte for byte (a sans-IO crate that behaved
/// differently in a WASI host would show here), and hold the expected line.
#[expect(
    clippy::print_stdout,
    reason = "a developer command reporting its result"
)]
fn run_under_node(root: &Path, module: &Path) -> anyhow::Result<()> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args(["build", "--quiet", "--package", "gantry-wasm-probe"])
        .current_dir(root)
        .status()
        .context("build the probe natively")?;
    ensure!(status.success(), "the probe does not build natively");
    let target_dir =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let native = target_dir.join("debug/gantry-wasm-probe");
    let script = root.join("crates/xtask/src/run-wasi.mjs");
    for (action, inputs, files, expected) in PROBE_CASES {
        let mut stdin = format!("{action}\n{}\n", inputs.join("\n")).into_bytes();
        for (role, path) in files {
            let bytes = std::fs::read(root.join("examples").join(path))
                .with_context(|| format!("read examples/{path}"))?;
            stdin.extend_from_slice(format!("\n<<< {role} {path}\n").as_bytes());
            stdin.extend_from_slice(&bytes);
        }
        let under_node = run_with_stdin(
            Command::new("node")
                .arg("--no-warnings")
                .arg(&script)
                .arg(module),
            &stdin,
        )
        .with_context(|| format!("{action} under node's WASI (node is needed)"))?;
        let natively = run_with_stdin(&mut Command::new(&native), &stdin)
            .with_context(|| format!("{action} natively"))?;
        ensure!(
            under_node
                .lines()
                .next()
                .is_some_and(|line| line.starts_with(expected)),
            "{action} under WASI: expected `{expected}` first, got `{}`",
            under_node.lines().next().unwrap_or_default()
        );
        ensure!(
            under_node == natively,
            "{action}: the WASI module and the native build disagree:\n--- WASI\n{under_node}\n--- native\n{natively}"
        );
        println!(
            "wasm-check: {action}'s whole run under Node's WASI matches the native build ({} bytes of output)",
            under_node.len()
        );
    }
    Ok(())
}

fn run_with_stdin(command: &mut Command, stdin: &[u8]) -> anyhow::Result<String> {
    use std::io::Write as _;
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    child.stdin.take().context("stdin")?.write_all(stdin)?;
    let output = child.wait_with_output()?;
    let text = String::from_utf8(output.stdout).context("output is UTF-8")?;
    ensure!(output.status.success(), "exited {}: {text}", output.status);
    Ok(text)
}

/// The (module, name) pairs of a WebAssembly module's import section.
fn wasm_imports(bytes: &[u8]) -> anyhow::Result<Vec<(String, String)>> {
    struct Reader<'b> {
        bytes: &'b [u8],
        at: usize,
    }
    impl Reader<'_> {
        fn byte(&mut self) -> anyhow::Result<u8> {
            let byte = *self
                .bytes
                .get(self.at)
                .context("unexpected end of module")?;
            self.at += 1;
            Ok(byte)
        }
        fn leb(&mut self) -> anyhow::Result<u64> {
            let mut value = 0u64;
            for shift in (0..64).step_by(7) {
                let byte = self.byte()?;
                value |= u64::from(byte & 0x7f) << shift;
                if byte & 0x80 == 0 {
                    return Ok(value);
                }
            }
            bail!("LEB128 number too long")
        }
        fn name(&mut self) -> anyhow::Result<String> {
            let length = usize::try_from(self.leb()?)?;
            let end = self.at.checked_add(length).context("name too long")?;
            let text =
                std::str::from_utf8(self.bytes.get(self.at..end).context("name past the end")?)?
                    .to_owned();
            self.at = end;
            Ok(text)
        }
        fn limits(&mut self) -> anyhow::Result<()> {
            let flags = self.byte()?;
            self.leb()?;
            if flags & 1 == 1 {
                self.leb()?;
            }
            Ok(())
        }
    }
    ensure!(bytes.starts_with(b"\0asm"), "not a WebAssembly module");
    let mut reader = Reader { bytes, at: 8 };
    let mut imports = Vec::new();
    while reader.at < bytes.len() {
        let id = reader.byte()?;
        let size = usize::try_from(reader.leb()?)?;
        let end = reader.at + size;
        if id == 2 {
            let count = reader.leb()?;
            for _ in 0..count {
                let module = reader.name()?;
                let name = reader.name()?;
                match reader.byte()? {
                    0x00 => {
                        reader.leb()?;
                    }
                    0x01 => {
                        reader.byte()?;
                        reader.limits()?;
                    }
                    0x02 => reader.limits()?,
                    0x03 => {
                        reader.byte()?;
                        reader.byte()?;
                    }
                    0x04 => {
                        reader.byte()?;
                        reader.leb()?;
                    }
                    kind => bail!("unknown import kind {kind:#x}"),
                }
                imports.push((module, name));
            }
        }
        reader.at = end;
    }
    Ok(imports)
}
