#!/usr/bin/env bash
# stop_slurm.sh [BASEDIR]  -- stop what start_slurm.sh BASEDIR started.
# Only signals pids recorded under BASEDIR/pids, their process groups, and
# slurmstepd processes that hold BASEDIR/log/slurmd.log open (no pkill by name).
BASE=${1:?usage: stop_slurm.sh BASEDIR}
PIDS=$BASE/pids
[ -d "$PIDS" ] || { echo "[stop_slurm] nothing to stop in $BASE"; exit 0; }
export SLURM_CONF=$BASE/etc/slurm.conf

pid_of() { [ -f "$PIDS/$1.launcher.pid" ] && cat "$PIDS/$1.launcher.pid"; }
alive()  { local p; p=$(pid_of "$1") && kill -0 "$p" 2>/dev/null; }

# 1. cancel jobs and let slurmstepd report completion while slurmctld is still up
#    (otherwise slurmstepd lingers forever retrying its "job complete" RPC)
if alive slurmctld; then
    if [ -n "$(timeout 5 squeue -h -o %i 2>/dev/null)" ]; then
        timeout 5 scancel --quiet --user=root >/dev/null 2>&1 || true
        for _ in $(seq 100); do   # up to 10 s for CG jobs to finish
            [ -z "$(timeout 5 squeue -h -o %i 2>/dev/null)" ] && break
            sleep 0.1
        done
    fi
fi

stop_group() {  # names...: SIGTERM all, wait up to 10 s, then SIGKILL; also their process groups
    local n pid pids=()
    for n in "$@"; do
        pid=$(pid_of "$n") || continue
        kill -0 "$pid" 2>/dev/null && { kill -TERM "$pid" 2>/dev/null; pids+=("$pid"); }
    done
    for _ in $(seq 100); do
        local any=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && any=1; done
        [ $any = 0 ] && break
        sleep 0.1
    done
    for n in "$@"; do
        pid=$(pid_of "$n") || continue
        if kill -0 "$pid" 2>/dev/null; then
            echo "[stop_slurm] $n ($pid) ignored SIGTERM, sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null
        fi
        kill -KILL -- "-$pid" 2>/dev/null || true   # own process group (started via setsid)
        rm -f "$PIDS/$n.launcher.pid"
    done
}

stop_group slurmd slurmctld   # in parallel (~2 s each)

# 2. stray slurmstepd (own session, so not in slurmd's group): find by open log fd
for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [ "$pid" = $$ ] && continue
    for fd in "$p"/fd/*; do
        if [ "$(readlink "$fd" 2>/dev/null)" = "$BASE/log/slurmd.log" ]; then
            echo "[stop_slurm] killing leftover $(tr '\0' ' ' < "$p/cmdline" 2>/dev/null) (pid $pid)" >&2
            kill -KILL "$pid" 2>/dev/null
            break
        fi
    done
done

stop_group munged             # last: slurm daemons need it while shutting down
rm -f "$PIDS"/*.pid
echo "[stop_slurm] stopped ($BASE)"
