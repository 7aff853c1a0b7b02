#!/usr/bin/env bash
# CI: the smoke-scale study as a Slurm job array on a one-node cluster
# started here (scripts/slurm/cluster.sh), collected by an afterok job, and
# compared byte for byte with a local reproduce of the same scale and seed.
#
#   scripts/slurm/ci-sweep.sh FLOWLAB LOCAL_RUNS
#
# FLOWLAB is the flowlab binary; LOCAL_RUNS holds `flowlab reproduce all
# --scale smoke --seed 1`. The daemons are stopped at the end, on failure too.
set -euo pipefail
flowlab=$(realpath "$1")
local_runs=$2
here=$(cd "$(dirname "$0")" && pwd)
plan=${TMPDIR:-/tmp}/flowlab-ci-sweep
timeout_s=${FLOWLAB_CI_SLURM_TIMEOUT:-1200}

"$here/cluster.sh" install >/tmp/ci-slurm-install.log 2>&1 || { cat /tmp/ci-slurm-install.log; exit 1; }
trap '"$here/cluster.sh" stop' EXIT
eval "$("$here/cluster.sh" start)"
echo "ci: slurm cluster up: $(sinfo -h -o '%P %D node(s) %c cpus %T')"

rm -rf "$plan"
"$flowlab" sweep plan all --scale smoke --seed 1 --out "$plan"
submitted=$("$flowlab" sweep slurm "$plan" --cpus 1)
echo "ci: $submitted"
# "submitted array job J: N cells (--array=LIST)[ (afterok:…)]", a line per
# array (a second one holds the cells that read others' results), then
# "submitted collect job C (afterok:J[:J2])"
array_jobs=$(sed -n 's/^submitted array job \([0-9]*\):.*/\1/p' <<<"$submitted" | paste -sd, -)
cells=$(($(sed -n 's/^submitted array job [0-9]*: \([0-9]*\) cells.*/\1/p' <<<"$submitted" | paste -sd+ -)))
collect_job=$(sed -n 's/^submitted collect job \([0-9]*\).*/\1/p' <<<"$submitted")
[ -n "$array_jobs" ] && [ -n "$collect_job" ] && [ -n "$cells" ] || { echo "ci: could not read the job ids"; exit 1; }
echo "ci: slurm array jobs $array_jobs, $cells cells, collect job $collect_job"

t0=$(date +%s)
while [ -n "$(squeue -h -j "$array_jobs,$collect_job" -o %i 2>/dev/null)" ]; do
  if [ $(($(date +%s) - t0)) -gt "$timeout_s" ]; then
    echo "ci: the sweep did not finish within $timeout_s s"
    squeue || true
    scancel ${array_jobs//,/ } "$collect_job" || true
    exit 1
  fi
  sleep 2
done
echo "ci: jobs left the queue after $(($(date +%s) - t0)) s"

status=$("$flowlab" sweep status "$plan")
echo "$status" | head -n 5
if ! grep -q "^all $cells cells done" <<<"$status"; then
  echo "ci: not every cell is done; task logs:"
  tail -n 5 "$plan"/slurm/cell-*.out | tail -n 40
  exit 1
fi
echo "ci: all $cells cells done"
if ! grep -q "^collected $cells cells" "$plan"/slurm/collect-"$collect_job".out; then
  echo "ci: the collect job did not collect:"
  cat "$plan"/slurm/collect-"$collect_job".out
  exit 1
fi

n=0
for m in "$local_runs"/*/metrics.json; do
  name=$(basename "$(dirname "$m")")
  cmp "$m" "$plan/runs/$name/metrics.json"
  n=$((n + 1))
done
want=$(ls "$plan"/runs/*/metrics.json | wc -l)
[ "$n" -gt 0 ] && [ "$n" -eq "$want" ] || { echo "ci: compared $n experiments, the sweep collected $want"; exit 1; }
echo "ci: collect identical to local (metrics.json of $n experiments)"
