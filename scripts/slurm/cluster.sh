#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for tests and CI: munged, slurmctld
# and slurmd started by hand (no systemd), a slurm.conf written for this host.
#
#   scripts/slurm/cluster.sh install   # Debian's slurmctld, slurmd, slurm-client, munge
#   scripts/slurm/cluster.sh start     # prints: export SLURM_CONF=...
#   scripts/slurm/cluster.sh stop
#
# State lives in $FLOWLAB_SLURM_DIR (default /tmp/flowlab-slurm); nothing in
# /etc/slurm is changed. Clients (sbatch, squeue, …) find the cluster through
# SLURM_CONF, which start prints and writes to $FLOWLAB_SLURM_DIR/env.
set -euo pipefail
dir=${FLOWLAB_SLURM_DIR:-/tmp/flowlab-slurm}

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null; then
    return
  fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge
}

start_munge() {
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown munge:munge /run/munge /var/lib/munge /var/log/munge
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged --force --pid-file="$dir/munged.pid"
    touch "$dir/munged.ours"
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return; sleep 0.1; done
    echo "cluster: munged did not answer" >&2
    exit 1
  fi
}

write_conf() {
  local host node
  host=$(hostname -s)
  # slurmd -C prints this node's line (CPUs, sockets, memory) and an UpTime line.
  node=$(slurmd -C | head -n 1)
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  cat > "$dir/slurm.conf" <<CONF
ClusterName=flowlab
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
$node State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  printf 'export SLURM_CONF=%s\n' "$dir/slurm.conf" > "$dir/env"
}

start() {
  install
  mkdir -p "$dir"
  chown munge "$dir" 2>/dev/null || true
  start_munge
  write_conf
  export SLURM_CONF=$dir/slurm.conf
  if ! scontrol ping >/dev/null 2>&1 || ! scontrol ping | grep -q UP; then
    slurmctld -D -f "$SLURM_CONF" >"$dir/log/slurmctld.out" 2>&1 &
    echo $! > "$dir/slurmctld.bg"
  fi
  slurmd -D -f "$SLURM_CONF" >"$dir/log/slurmd.out" 2>&1 &
  echo $! > "$dir/slurmd.bg"
  for _ in $(seq 100); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
      cat "$dir/env"
      return
    fi
    sleep 0.2
  done
  echo "cluster: the node did not come up; logs in $dir/log" >&2
  sinfo >&2 || true
  tail -n 20 "$dir/log/"*.log >&2 || true
  exit 1
}

stop() {
  # Only the daemons this script started (their pids), never a system's own.
  local pids=()
  for d in slurmd slurmctld; do
    if [ -f "$dir/$d.bg" ]; then
      pids+=("$(cat "$dir/$d.bg")")
      rm -f "$dir/$d.bg"
    fi
  done
  if [ -f "$dir/munged.ours" ] && [ -f "$dir/munged.pid" ]; then
    pids+=("$(cat "$dir/munged.pid")")
    rm -f "$dir/munged.ours"
  fi
  [ ${#pids[@]} -gt 0 ] || return 0
  kill "${pids[@]}" 2>/dev/null || true
  # The daemons finish their jobs' clean-up before exiting; wait, then insist.
  for _ in $(seq 100); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return 0
    sleep 0.1
  done
  kill -9 "${pids[@]}" 2>/dev/null || true
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
