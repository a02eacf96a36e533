#!/usr/bin/env bash
# Fuzzes every reader of untrusted bytes with cargo fuzz (nightly, libFuzzer + AddressSanitizer),
# each target seeded from ../shared/corpus. Not part of CI: CI replays the crashing inputs kept
# as regression tests (crates/*/tests/fuzz_regressions.rs).
#
#   scripts/fuzz.sh [seconds per target, default 620] [target …]
#
# One job, one core. Crashes land in fuzz/artifacts/<target>/; the log in fuzz/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-620}"
shift || true
shared="${GANTRY_SHARED_DIR:-../shared}"
corpus="$shared/corpus"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(terraform_plan drift_report sarif native_scanners test_reports coverage lint event suppressions baseline)
fi

seed() { # seed <target> <find arguments…>
  local dir="fuzz/corpus/$1"
  shift
  mkdir -p "$dir"
  find "$@" -type f -size -256k -print0 | while IFS= read -r -d '' file; do
    cp "$file" "$dir/$(sha1sum "$file" | cut -c1-16)"
  done
}
seed terraform_plan "$corpus/terraform/plan-json" "$corpus/terraform/invalid" "$corpus/terraform/hcp-redacted"
seed sarif "$corpus/security/sarif" "$corpus/security/github-ingestion"
seed native_scanners "$corpus/security/native"
seed test_reports "$corpus/quality/tests"
seed coverage "$corpus/quality/coverage"
seed lint "$corpus/quality/lint"
seed event "$shared/contracts/events" "$corpus/quality/github-events"
seed suppressions examples/security fuzz/seeds/suppressions
seed baseline "$corpus/security/sarif/shell-analysis" "$corpus/security/multitool"

mkdir -p fuzz/logs
cargo +nightly fuzz build -O
for target in "${targets[@]}"; do
  mkdir -p "fuzz/artifacts/$target"
  echo "== $target: $seconds s"
  # -rss_limit_mb catches memory blow-ups, -timeout hangs; keep going after a crash so one
  # finding does not hide the next (-fork=1 restarts the worker).
  cargo +nightly fuzz run -O "$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=262144 \
    -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    >"fuzz/logs/$target.log" 2>&1 || echo "   $target exited $? (see fuzz/logs/$target.log)"
  grep -E '^#[0-9]+.*(DONE|pulse)|stat::' "fuzz/logs/$target.log" | tail -1 || true
  ls "fuzz/artifacts/$target" | head
done
