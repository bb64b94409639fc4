#!/usr/bin/env bash
# start_slurm.sh [BASEDIR]
# Start a throw-away single-node Slurm (Debian bookworm slurm-wlm 22.05) as root,
# with all config/state/spool/logs under BASEDIR (no default).
# Does NOT install anything. Stop with stop_slurm.sh [BASEDIR].
#
# Env knobs:
#   SLURM_AUTH=munge|none   (default munge; auth/none + cred/none also exist in 22.05)
#   SLURM_CTLD_PORT=6817  SLURM_D_PORT=6818   (change to run several clusters at once)
#   SLURM_START_TIMEOUT=60  seconds to wait for the node to become idle
#   SLURM_NODE_CPUS=2       CPUs= on the NodeName line
#   SLURM_MIN_JOB_AGE=300   MinJobAge. NB sbatch --wait polls at t=2,10,42,74,...s
#                           when MinJobAge>=18; with MinJobAge<=5 it polls every 2 s,
#                           BUT finished array tasks are then purged after ~5 s and
#                           their non-zero exit codes are lost from sbatch --wait's rc.
#   SLURM_SCHED_PARAMS=...  SchedulerParameters (default: schedule ASAP, 1 s cadence)
# On success prints "export SLURM_CONF=..." lines on stdout (eval-able) and
# writes the same to BASEDIR/env.sh. Exit code != 0 on failure.
set -euo pipefail

BASE=${1:?usage: start_slurm.sh BASEDIR}
AUTH=${SLURM_AUTH:-munge}
CTLD_PORT=${SLURM_CTLD_PORT:-6817}
D_PORT=${SLURM_D_PORT:-6818}
TIMEOUT=${SLURM_START_TIMEOUT:-60}
PLUGINDIR=/usr/lib/x86_64-linux-gnu/slurm-wlm

log() { echo "[start_slurm] $*" >&2; }

# The daemons must not inherit the caller's other descriptors (a test's output pipes would then never close).
for fd in $(ls /proc/$$/fd); do
    if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
done

# ---------- 1. check prerequisites (no installation here) ----------
missing=()
for b in slurmctld slurmd sinfo sbatch scontrol squeue; do
    command -v "$b" >/dev/null 2>&1 || missing+=("$b")
done
[ "$AUTH" = munge ] && { command -v munged >/dev/null 2>&1 || missing+=(munged); command -v mungekey >/dev/null 2>&1 || missing+=(mungekey); }
if [ -d "$PLUGINDIR" ]; then
    for p in auth_$AUTH cred_$AUTH select_cons_tres proctrack_linuxproc task_none; do
        [ -e "$PLUGINDIR/$p.so" ] || missing+=("plugin:$p.so")
    done
else
    missing+=("plugindir:$PLUGINDIR")
fi
if [ ${#missing[@]} -gt 0 ]; then
    log "missing: ${missing[*]}"
    log "install with: DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge"
    exit 2
fi
[ "$(id -u)" = 0 ] || { log "must run as root (SlurmUser=root)"; exit 2; }

# refuse to start on top of a running instance from the same BASE
for pf in "$BASE"/pids/*.pid; do
    [ -e "$pf" ] || continue
    if kill -0 "$(cat "$pf")" 2>/dev/null; then
        log "a daemon from $BASE is still running (pid file $pf); run stop_slurm.sh first"; exit 3
    fi
done

# ---------- 2. fresh directories + config ----------
T0=$(date +%s.%N)
case "$BASE" in /|/tmp|/tmp/|"") log "refusing BASEDIR='$BASE'"; exit 2;; esac
if [ -d "$BASE" ] && [ -n "$(ls -A "$BASE")" ] && [ ! -e "$BASE/.slurm_test_base" ]; then
    log "$BASE exists, is not empty and was not created by this script; refusing to wipe it"; exit 2
fi
rm -rf "$BASE"            # fresh state every time (no stale job/node state)
HOST=$(hostname -s)
mkdir -p "$BASE"/{etc,state,log,pids,munge} "$BASE/spool/slurmd-$HOST"
touch "$BASE/.slurm_test_base"
chmod 755 "$BASE/munge"   # munged wants o+x on the socket dir
NCPU=${SLURM_NODE_CPUS:-2}
# RealMemory: what slurmd itself detects (must not exceed it or node goes INVALID)
MEM=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)
[ -n "$MEM" ] || MEM=$(( $(awk '/MemTotal/{print $2}' /proc/meminfo) / 1024 ))
MEM=$(( MEM > 200 ? MEM - 100 : MEM ))  # small margin

if [ "$AUTH" = munge ]; then
    AUTHLINES="AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$BASE/munge/munge.socket"
else
    AUTHLINES="AuthType=auth/none
CredType=cred/none"
fi

CONF=$BASE/etc/slurm.conf
cat > "$CONF" <<EOF
ClusterName=testcluster
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$D_PORT
SlurmUser=root
SlurmdUser=root
$AUTHLINES
StateSaveLocation=$BASE/state
SlurmdSpoolDir=$BASE/spool/slurmd-%n
SlurmctldPidFile=$BASE/pids/slurmctld.pid
SlurmdPidFile=$BASE/pids/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=${SLURM_SCHED_PARAMS:-batch_sched_delay=0,sched_interval=1,bf_interval=1,sched_min_interval=0}
ReturnToService=2
MinJobAge=${SLURM_MIN_JOB_AGE:-300}
KillWait=5
InactiveLimit=0
MailProg=/bin/true
# trust the NodeName line even if hardware differs (no drain on CPU/mem mismatch)
SlurmdParameters=config_overrides
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$NCPU RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF

export SLURM_CONF=$CONF

# ---------- 3. start daemons ----------
# on any failure from here on, kill whatever we already started
cleanup_on_fail() {
    local rc=$? pf
    [ $rc -eq 0 ] && return
    set +e
    for pf in "$BASE"/pids/*.launcher.pid; do [ -e "$pf" ] && kill -TERM "$(cat "$pf")" 2>/dev/null; done
    sleep 2
    for pf in "$BASE"/pids/*.launcher.pid; do [ -e "$pf" ] && kill -KILL -- "-$(cat "$pf")" 2>/dev/null; rm -f "$pf"; done
    log "start failed (rc=$rc); started daemons were killed; logs in $BASE/log"
}
trap cleanup_on_fail EXIT
start_bg() {  # name, cmd...   runs in foreground mode in its own session, records pid
    local name=$1; shift
    setsid "$@" >"$BASE/log/$name.out" 2>&1 < /dev/null &
    echo $! > "$BASE/pids/$name.launcher.pid"
}

if [ "$AUTH" = munge ]; then
    mungekey --create --keyfile="$BASE/munge/munge.key"
    chmod 400 "$BASE/munge/munge.key"
    start_bg munged munged -F --force \
        --socket="$BASE/munge/munge.socket" \
        --key-file="$BASE/munge/munge.key" \
        --pid-file="$BASE/pids/munged.pid" \
        --log-file="$BASE/log/munged.log" \
        --seed-file="$BASE/munge/munged.seed"
    for _ in $(seq 100); do [ -S "$BASE/munge/munge.socket" ] && break; sleep 0.1; done
    [ -S "$BASE/munge/munge.socket" ] || { log "munged did not come up:"; cat "$BASE/log/munged.out" >&2; exit 4; }
fi

start_bg slurmctld slurmctld -D -c -i -f "$CONF"
start_bg slurmd    slurmd    -D -c -N "$HOST" -f "$CONF"

# ---------- 4. wait for node idle ----------
state=""
deadline=$(( $(date +%s) + TIMEOUT ))
while [ "$(date +%s)" -lt "$deadline" ]; do
    for d in slurmctld slurmd; do
        if ! kill -0 "$(cat "$BASE/pids/$d.launcher.pid")" 2>/dev/null; then
            log "$d died; tail of its logs:"; tail -n 20 "$BASE/log/$d.out" "$BASE/log/$d.log" >&2 2>/dev/null || true; exit 5
        fi
    done
    state=$(sinfo -h -N -n "$HOST" -o %t 2>/dev/null | head -1 || true)
    [ "$state" = idle ] && break
    sleep 0.5
done
if [ "$state" != idle ]; then
    log "node not idle after ${TIMEOUT}s (state='$state')"
    tail -n 20 "$BASE/log/slurmctld.log" "$BASE/log/slurmd.log" >&2 2>/dev/null || true
    exit 6
fi
T1=$(date +%s.%N)
log "slurm up on $HOST (auth=$AUTH) in $(awk "BEGIN{printf \"%.1f\", $T1-$T0}") s; logs in $BASE/log"

cat > "$BASE/env.sh" <<EOF
export SLURM_CONF=$CONF
EOF
cat "$BASE/env.sh"
