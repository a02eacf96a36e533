#!/usr/bin/env bash
# Regenerates recorded.json, the Prometheus answers `gantry demo` replays for canary-verify: a
# canary with twice its baseline's errors and a slower tail, backfilled into the real Prometheus
# (Debian's `prometheus` package), and the raw answer to every query the judge asks.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo test --locked -p gantry-tests --test canary_prometheus -- --ignored --exact record_the_demo
