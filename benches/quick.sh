#!/usr/bin/env bash
# Quick benchmarks for pipelines: every criterion bench in quick mode, then a table on the
# terminal and the same figures as JSON (name, size, throughput, unit, commit).
#   bash benches/quick.sh [OUT.json]        (default target/perf/quick.json)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/perf/quick.json}"
cargo bench --benches -- --quick --noplot
cargo run --release --quiet -- perf-report --criterion target/criterion --json "$out"
