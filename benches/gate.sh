#!/usr/bin/env bash
# Instruction-count regression gate. Runs each small scenario in benches/gate/ under
# callgrind (instructions, not seconds: the same on a busy or an idle machine) and compares
# the count with benches/gate/baseline.txt. Fails if a case needs more than
# CRUCIBLE_GATE_TOLERANCE (default 0.03 = 3 %) more instructions than its baseline.
#   bash benches/gate.sh            check
#   bash benches/gate.sh --update   rewrite the baseline (commit it with the change that
#                                   explains the new figures)
set -euo pipefail
cd "$(dirname "$0")/.."
tolerance="${CRUCIBLE_GATE_TOLERANCE:-0.03}"
baseline=benches/gate/baseline.txt
command -v valgrind >/dev/null || { echo "gate: valgrind is not installed (Debian package valgrind)"; exit 2; }
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
new=""
printf '%-10s %16s %16s %9s  %s\n' case baseline now change verdict
for scenario in benches/gate/*.toml; do
  name=$(basename "$scenario" .toml)
  # One rayon thread: work stealing would make counts vary between runs.
  RAYON_NUM_THREADS=1 valgrind --tool=callgrind --callgrind-out-file="$work/$name.out" \
    target/release/crucible run "$scenario" --out "$work/$name" >/dev/null 2>"$work/$name.err" \
    || { echo "gate: $name failed to run:"; tail -5 "$work/$name.err"; exit 1; }
  count=$(awk '/^summary:/ {print $2}' "$work/$name.out")
  new+="$name $count"$'\n'
  base=$(awk -v n="$name" '$1 == n {print $2}' "$baseline" 2>/dev/null || true)
  if [ -z "$base" ]; then
    printf '%-10s %16s %16s %9s  %s\n' "$name" "-" "$count" "-" "no baseline"
    continue
  fi
  verdict=$(awk -v b="$base" -v c="$count" -v t="$tolerance" 'BEGIN {
    d = (c - b) / b; printf "%+8.2f%% ", 100 * d; if (d > t) print "REGRESSION"; else if (d < -t) print "faster (update the baseline)"; else print "ok" }')
  printf '%-10s %16s %16s %s\n' "$name" "$base" "$count" "$verdict"
  case "$verdict" in *REGRESSION*) status=1 ;; esac
done
if [ "${1:-}" = "--update" ]; then
  printf '%s' "$new" > "$baseline"
  echo "gate: baseline written to $baseline"
  exit 0
fi
exit $status
