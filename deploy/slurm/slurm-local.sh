#!/usr/bin/env bash
# Copied from the project's shared CI kit (ci/slurm-local.sh), unchanged apart from this line.
# Start a single-node Slurm cluster on localhost (Debian 12 packages, no systemd, as root),
# so that tests can submit real job arrays. Usage:
#   eval "$(../shared/ci/slurm-local.sh start)"   # starts, waits until the node is idle, prints `export SLURM_CONF=...`
#   ../shared/ci/slurm-local.sh stop              # stops the daemons by their pid files
# Known facts: the node name must equal `hostname -s`; sacct needs slurmdbd (not started here):
# use squeue/scontrol; PMIx and MailProg warnings in the logs are harmless.
set -euo pipefail
S=${SLURM_LOCAL_DIR:-${TMPDIR:-/tmp}/slurm-local}
export SLURM_CONF=$S/slurm.conf

install() {
  command -v slurmctld >/dev/null && command -v munged >/dev/null && return
  export DEBIAN_FRONTEND=noninteractive
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d  # keep postinst from starting services
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends slurm-wlm slurmctld slurmd slurm-client munge >&2
  rm -f /usr/sbin/policy-rc.d
}

start() {
  install
  mkdir -p "$S"/{state,spool,log} /run/munge
  chown munge:munge /run/munge
  local h; h=$(hostname -s)
  cat > "$SLURM_CONF" <<CONF
ClusterName=localci
SlurmctldHost=${h}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
NodeName=${h} NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  pgrep -u munge -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
  munge -n | unmunge >/dev/null
  /usr/sbin/slurmctld -c >&2
  sleep 2
  /usr/sbin/slurmd >&2
  for _ in $(seq 30); do
    if sinfo -h -o %T 2>/dev/null | grep -q idle; then
      echo "export SLURM_CONF=$SLURM_CONF"
      return 0
    fi
    sleep 1
  done
  echo "slurm-local: node did not become idle; see $S/log" >&2
  return 1
}

stop() {
  for p in "$S/slurmd.pid" "$S/slurmctld.pid"; do
    [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: slurm-local.sh start|stop" >&2; exit 2 ;;
esac
