# shellcheck shell=sh
# slurmlib.sh - a throw-away single-node Slurm cluster on 127.0.0.1 for the
# deploy tests (sourced; POSIX sh). Needs root, munged, slurmctld, slurmd.
#
#   slurm_install          apt-get install slurm-wlm munge when missing (root)
#   slurm_start DIR        munged, slurmctld, slurmd with every file in DIR;
#                          exports SLURM_CONF; returns 1 if no idle node in 20 s
#   slurm_start_cluster DIR CLUSTER
#                          the same on a simulated cluster (tests/cluster/
#                          cluster.sh): slurmctld on its head, one slurmd on
#                          each node; client commands then run on the head
#   slurm_stop             stops the daemons slurm_start started (always safe)
#   slurm_submit ARGS...   sbatch ARGS; prints the job id
#   slurm_wait END ID      waits (until time END) for the job to end; prints its state
#
# Each cluster has its own ports, munge socket, spool, TmpFS and a random
# first job id, so several test runs on one machine do not meet.

SLURM_DIR=
SLURM_NODE=

slurm_install() {
    if command -v munged >/dev/null 2>&1 && command -v slurmctld >/dev/null 2>&1 &&
        command -v slurmd >/dev/null 2>&1 && command -v sbatch >/dev/null 2>&1; then
        return 0
    fi
    [ "$(id -u)" -eq 0 ] || return 1
    echo "slurmlib: installing slurm-wlm munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=900 install -y -q slurm-wlm munge >/dev/null 2>&1 ||
        { apt-get -o DPkg::Lock::Timeout=900 update -q >/dev/null 2>&1 &&
            apt-get -o DPkg::Lock::Timeout=900 install -y -q slurm-wlm munge >/dev/null 2>&1; }
}

# free_ports N: N TCP ports free on 127.0.0.1 now.
free_ports() {
    python3 -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# munge_key: a fresh key in SLURM_DIR, shared by every munged of the cluster.
munge_key() {
    dd if=/dev/urandom of="$SLURM_DIR/munge.key" bs=1024 count=1 2>/dev/null
    chmod 600 "$SLURM_DIR/munge.key"
}

# munge_start [SOCKET [NAME [CMD...]]]: munged with SLURM_DIR's key, its
# socket at SOCKET (default SLURM_DIR/munge.sock) and its files named
# munged[-NAME]; CMD (e.g. a host's namespaces) runs it.
munge_start() {
    ms_sock=${1:-$SLURM_DIR/munge.sock}
    ms_name=munged${2:+-$2}
    if [ $# -gt 2 ]; then shift 2; else set --; fi
    "$@" munged --force --key-file="$SLURM_DIR/munge.key" --socket="$ms_sock" \
        --pid-file="$SLURM_DIR/$ms_name.pid" --log-file="$SLURM_DIR/$ms_name.log" \
        --seed-file="$SLURM_DIR/$ms_name.seed"
}

slurm_start() {
    SLURM_DIR=$1
    mkdir -p "$SLURM_DIR/state" "$SLURM_DIR/spool" "$SLURM_DIR/tmp"
    chmod 700 "$SLURM_DIR"
    # The node's name as slurmd sees it, and its real core count.
    SLURM_NODE=$(slurmd -C 2>/dev/null | sed -n 's/^NodeName=\([^ ]*\).*/\1/p')
    [ -n "$SLURM_NODE" ] || SLURM_NODE=$(hostname -s)
    # shellcheck disable=SC2046
    set -- $(free_ports 2)
    munge_key && munge_start || return 1
    cat >"$SLURM_DIR/slurm.conf" <<CONF
ClusterName=mbtest
SlurmctldHost=$SLURM_NODE(127.0.0.1)
SlurmctldPort=$1
SlurmdPort=$2
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$SLURM_DIR/munge.sock
CredType=cred/munge
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
TmpFS=$SLURM_DIR/tmp
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/slurmctld.log
SlurmdLogFile=$SLURM_DIR/slurmd.log
FirstJobId=$(awk 'BEGIN { srand(); print 1000 + int(rand() * 900000) }')
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=pmix
ReturnToService=2
NodeName=$SLURM_NODE NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
    SLURM_CONF=$SLURM_DIR/slurm.conf
    export SLURM_CONF
    slurmctld -c -f "$SLURM_CONF" || return 1
    slurmd -f "$SLURM_CONF" -N "$SLURM_NODE" || return 1
    i=0
    while [ $i -lt 200 ]; do
        [ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# slurm_start_cluster DIR CLUSTER: one munged on every host of CLUSTER,
# slurmctld on its head and one slurmd on each node, each started inside its host's namespaces so that it has the
# host's name and address (cluster.sh must be sourced).  Every host has its
# own network stack, so the daemons keep Slurm's default ports.  Exports
# SLURM_CONF; returns 1 unless every node is idle within 30 s.
slurm_start_cluster() {
    SLURM_DIR=$1
    SLURM_NODE=head
    mkdir -p "$SLURM_DIR/state" "$SLURM_DIR/spool" "$SLURM_DIR/tmp"
    chmod 700 "$SLURM_DIR"
    # One munged per host, as on a real cluster (munge refuses a credential
    # it has decoded before, and Slurm sends one credential to several
    # nodes: a munged shared by every host logged "Replayed credential").
    # The socket's directory is a tmpfs in each host's mount namespace: one
    # path, one munged per host.
    munge_key || return 1
    mkdir -p "$SLURM_DIR/munge"
    for sh in head $(cluster_nodes "$2"); do
        cluster_on "$2" "$sh" mount -t tmpfs -o mode=755 tmpfs "$SLURM_DIR/munge" &&
            munge_start "$SLURM_DIR/munge/munge.sock" "$sh" cluster_on "$2" "$sh" || return 1
    done
    sn=$(cat "$2/nodes")
    cat >"$SLURM_DIR/slurm.conf" <<CONF
ClusterName=mbcluster
SlurmctldHost=head
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$SLURM_DIR/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool/%n
TmpFS=$SLURM_DIR/tmp
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd-%n.pid
SlurmctldLogFile=$SLURM_DIR/slurmctld.log
SlurmdLogFile=$SLURM_DIR/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=pmix
ReturnToService=2
SlurmdTimeout=60
NodeName=node[1-$sn] CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
    # Slurm's default PMIx fence (tree for data, "mixed") let an Open MPI
    # 4.1 rank leave MPI_Init before a peer on another node had its message
    # handlers in place, and the peer crashed (SIGSEGV in btl_tcp) in about
    # one srun step in fifty here; with the ring fence none did in 340
    # (docs/cluster.md).  A site admin sets the same in mpi.conf.
    echo "PMIxCollFence=ring" >"$SLURM_DIR/mpi.conf"
    SLURM_CONF=$SLURM_DIR/slurm.conf
    export SLURM_CONF
    cluster_on "$2" head slurmctld -c -f "$SLURM_CONF" || return 1
    # TmpFS is each node's own (a tmpfs in its mount namespace), as a
    # node's /tmp is: PMIx keeps per-step directories there.
    for sh in $(cluster_nodes "$2"); do
        mkdir -p "$SLURM_DIR/spool/$sh"
        cluster_on "$2" "$sh" mount -t tmpfs -o mode=700 tmpfs "$SLURM_DIR/tmp" &&
            cluster_on "$2" "$sh" slurmd -f "$SLURM_CONF" || return 1
    done
    si=0
    while [ $si -lt 300 ]; do
        [ "$(cluster_on "$2" head sinfo -h -o '%t %D' 2>/dev/null)" = "idle $sn" ] && return 0
        sleep 0.1
        si=$((si + 1))
    done
    return 1
}

# stop_pid FILE: TERM the daemon whose pid FILE holds, KILL it after 5 s.
stop_pid() {
    [ -f "$1" ] || return 0
    pid=$(cat "$1")
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || return 0
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -9 "$pid" 2>/dev/null || true
}

slurm_stop() {
    [ -n "$SLURM_DIR" ] || return 0
    for f in "$SLURM_DIR"/slurmd.pid "$SLURM_DIR"/slurmd-*.pid; do
        stop_pid "$f"
    done
    stop_pid "$SLURM_DIR/slurmctld.pid"
    for f in "$SLURM_DIR"/munged.pid "$SLURM_DIR"/munged-*.pid; do
        stop_pid "$f"
    done
}

# slurm_logs: the daemons' logs' last lines, for a failure message.
slurm_logs() {
    for f in "$SLURM_DIR"/slurmctld.log "$SLURM_DIR"/slurmd*.log "$SLURM_DIR"/munged*.log; do
        [ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }
    done
}

# slurm_submit ARGS...: sbatch --parsable ARGS; prints the job id.
slurm_submit() {
    sid=$(sbatch --parsable "$@") || return 1
    echo "${sid%%;*}"
}

# slurm_wait END ID: wait until at most time END (seconds since the epoch)
# for job ID to end (cancelling it then); prints its final state
# (COMPLETED, FAILED, ...).
slurm_wait() {
    wend=$1
    [ -n "$2" ] || { echo NO_JOB; return 0; }
    while :; do
        wstate=$(scontrol show job "$2" -o 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
        case $wstate in
        PENDING | RUNNING | CONFIGURING | COMPLETING | SUSPENDED | "") ;;
        *) break ;;
        esac
        if [ "$(date +%s)" -ge "$wend" ]; then
            scancel "$2" 2>/dev/null
            wstate="TIMEOUT_IN_TEST(was ${wstate:-unknown})"
            break
        fi
        sleep 0.2
    done
    echo "$wstate"
}
