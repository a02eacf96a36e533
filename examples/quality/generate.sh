#!/usr/bin/env bash
# Regenerates the quality-gate example with real tools: pytest (+ pytest-rerunfailures, so the
# flaky test is rerun), coverage.py and flake8 on app/ (this version), and a baseline this action
# wrote from the same suite against app/calc.v1.py (the "base branch"). Needs those tools on PATH
# (`pip install pytest pytest-rerunfailures coverage flake8`) and a built `gantry`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
examples="$(dirname "$here")"
gantry="${GANTRY:-$examples/../target/debug/gantry}"
scan() { # <workspace> <calc.py>
  local work="$1"
  rm -rf "$work" && mkdir -p "$work/quality/reports"
  cp -r "$here/app" "$here/tests" "$work/quality/"
  cp "$2" "$work/quality/app/calc.py"
  rm -f "$work/quality/app/calc.v1.py"
  export FLAKY_MARKER="$work/flaky-marker"
  (cd "$work/quality" && coverage run --branch -m pytest -q -p no:cacheprovider --reruns 1 \
      --junitxml=reports/pytest.xml tests >/dev/null || true)
  (cd "$work/quality" && coverage xml -q -o coverage.xml)
  (cd "$work" && flake8 quality/app quality/tests > quality/flake8.txt || true)
}
base="$(mktemp -d)"; head="$(mktemp -d)"
trap 'rm -rf "$base" "$head"' EXIT
scan "$base" "$here/app/calc.v1.py"
(cd "$base" && GITHUB_WORKSPACE="$base" "$gantry" quality-gate --dry-run --comment off \
  --junit quality/reports/pytest.xml --coverage quality/coverage.xml --lint quality/flake8.txt \
  --summary-file baseline.json >/dev/null || true)
scan "$head" "$here/app/calc.py"
cp "$head/quality/reports/pytest.xml" "$here/reports/pytest.xml"
cp "$head/quality/coverage.xml" "$here/coverage.xml"
cp "$head/quality/flake8.txt" "$here/flake8.txt"
cp "$base/baseline.json" "$here/baseline.json"
