#!/usr/bin/env bash
# Run a small batch as a real Slurm job array on a single-node cluster, merge it, and
# check it equals the same batch run locally. Needs root (installs slurm-wlm and munge).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
eval "$(deploy/slurm/slurm-local.sh start)"
trap 'deploy/slurm/slurm-local.sh stop' EXIT
work=$(mktemp -d)
read -r _ array _ merge < <(deploy/slurm/submit.sh tests/data/small-batch.toml "$work/slurm" 3 --wait)
echo "slurm: array job $array, merge job $merge done"
target/release/crucible batch tests/data/small-batch.toml --out "$work/local" >/dev/null
for f in runs.csv standards.csv stats.csv comparison.csv; do
  cmp "$work/slurm/merged/$f" "$work/local/$f" || { echo "slurm: $f differs from the local batch"; exit 1; }
done
echo "slurm: merged job-array batch equals the local batch (runs.csv, standards.csv, stats.csv, comparison.csv)"
