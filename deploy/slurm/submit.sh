#!/usr/bin/env bash
# Submit a crucible batch to Slurm: a job array of SHARDS shards, then a merge job that
# starts when every shard succeeded. Prints the two job ids.
#   deploy/slurm/submit.sh BATCH.toml OUT_DIR [SHARDS] [extra sbatch options...]
# OUT_DIR must be on a file system every node sees. The merged batch lands in
# OUT_DIR/merged (runs.csv, standards.csv, plots, report.html).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 BATCH.toml OUT_DIR [SHARDS] [sbatch options...]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
batch=$(realpath "$1"); out=$(realpath -m "$2"); shards=${3:-4}; shift $(( $# < 3 ? $# : 3 ))
crucible=${CRUCIBLE:-$(command -v crucible || echo "$here/../../target/release/crucible")}
[ -x "$crucible" ] || { echo "submit.sh: build crucible first (cargo build --release) or set CRUCIBLE" >&2; exit 2; }
mkdir -p "$out/logs"
env="ALL,CRUCIBLE=$crucible,BATCH=$batch,OUT=$out"
array=$(sbatch --parsable --array=0-$((shards - 1)) --export="$env" \
  --output="$out/logs/shard-%a.out" "$@" "$here/batch.sbatch")
merge=$(sbatch --parsable --dependency=afterok:"$array" --export="$env" \
  --output="$out/logs/merge.out" "$@" "$here/merge.sbatch")
echo "array $array merge $merge"
