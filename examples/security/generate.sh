#!/usr/bin/env bash
# Regenerates the security-scan example: Bandit's real report of app/ (this version), and a
# baseline this action wrote from Bandit's report of app.v1.py (the "base branch"). Needs
# `bandit` on PATH (`pip install bandit`) and a built `gantry` (cargo build -p gantry).
# The Trivy reports are the corpus's real scan of alpine:3.10, in native JSON and SARIF.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
examples="$(dirname "$here")"
gantry="${GANTRY:-$examples/../target/debug/gantry}"
base="$(mktemp -d)"
trap 'rm -rf "$base"' EXIT
mkdir -p "$base/security/app"
cp "$here/app.v1.py" "$base/security/app/app.py"
(cd "$base" && bandit -q -f json -o bandit.json -r security/app || true)
(cd "$base" && GITHUB_WORKSPACE="$base" "$gantry" security-scan --dry-run \
  --reports bandit.json --fail-on none --comment off --output baseline.sarif >/dev/null)
cp "$base/baseline.sarif" "$here/baseline.sarif"
(cd "$examples" && bandit -q -f json -o security/reports/bandit.json -r security/app || true)
