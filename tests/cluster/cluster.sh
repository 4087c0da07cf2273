#!/bin/sh
# shellcheck disable=SC2016,SC1091,SC2015 # sh -c scripts take their arguments as $1..; env is made by up
# cluster.sh - a simulated cluster of hosts on one machine, made of Linux
# namespaces, for the multi-host tests and benchmarks (docs/cluster.md).
#
# Command line (as root):
#   cluster.sh up [-d DIR] [-n N] [--delay T] [--rate R] [--loss P]
#   cluster.sh run [-d DIR] COMMAND...     run on the head host, with the
#                                          cluster's Open MPI settings
#   cluster.sh exec [-d DIR] HOST COMMAND...   run on one host
#   cluster.sh status [-d DIR]             hosts, addresses and shaping
#   cluster.sh down [-d DIR]               remove everything (always safe)
# DIR defaults to $MB_CLUSTER, else ${TMPDIR:-/tmp}/mbcluster.
#
# Sourced (POSIX sh, also under set -e), it gives the same as functions: cluster_up DIR N
# [SHAPING...], cluster_down DIR, cluster_head DIR CMD..., cluster_on DIR
# HOST CMD..., cluster_hostlist N RANKS, cluster_shape DIR SHAPING...,
# cluster_check (why namespaces cannot be made, or nothing).
#
# Each host (head, node1..nodeN) is one long-lived process started with
# unshare --net --uts --mount: its own network stack with one interface
# eth0 (10.77.0.10 is head, 10.77.0.10+i is node i), its own host name,
# its own /dev/shm and an /etc/hosts that names the cluster.  The interfaces
# are veth pairs whose other ends sit on a bridge in a namespace of its
# own, so no address or link is ever added to the machine's own namespace.
# The launch agent DIR/agent enters a host's namespaces with nsenter: with
# OMPI_MCA_plm_rsh_agent pointing at it, mpirun on the head starts its
# daemons "on" the other hosts without sshd.  DIR/env holds the settings
# (TCP only on the cluster's subnet, no binding); cluster_head exports it.

CLUSTER_NET=10.77.0
CLUSTER_SUBNET=10.77.0.0/24

# cluster_check: nothing when this process can make the namespaces the
# cluster needs, else one line saying what is missing (for a test's skip).
cluster_check() {
    [ "$(id -u)" -eq 0 ] || { echo "not root (namespaces and veth need root)"; return 1; }
    for c in unshare nsenter ip; do
        command -v $c >/dev/null 2>&1 || { echo "no '$c' (util-linux, iproute2)"; return 1; }
    done
    if ! unshare --net --uts --mount --propagation private sh -c \
        'hostname mbcheck && ip link add mbc0 type veth peer name mbc1 &&
         ip link add mbbr type bridge' >/dev/null 2>&1; then
        echo "cannot create network, UTS and mount namespaces with a veth pair and a bridge" \
            "(unshare --net --uts --mount; a container without CAP_SYS_ADMIN?)"
        return 1
    fi
}

# host_pid DIR HOST: the pid holding HOST's namespaces.
host_pid() {
    cat "$1/pids/$2" 2>/dev/null
}

# start_host DIR NAME: a process that holds NAME's namespaces; its pid in
# DIR/pids/NAME.  It lives MB_CLUSTER_LIFETIME seconds (default 6 hours) at
# most, so a cluster nobody took down does not stay forever.
start_host() {
    rm -f "$1/pids/$2"
    (setsid unshare --net --uts --mount --propagation private -- sh -c '
        echo $$ >"$1.tmp" && hostname "$2" && ip link set lo up &&
        mount -t tmpfs -o mode=1777,size=50% tmpfs /dev/shm &&
        mount --bind "$3" /etc/hosts && mv "$1.tmp" "$1" && exec sleep "$4"' \
        sh "$1/pids/$2" "$2" "$1/hosts" "${MB_CLUSTER_LIFETIME:-21600}" \
        </dev/null >"$1/$2.log" 2>&1 &)
    _cw=0
    while [ ! -s "$1/pids/$2" ]; do
        [ $_cw -lt 400 ] || { echo "cluster: host $2 did not start in 20 s: $(cat "$1/$2.log")" >&2; return 1; }
        sleep 0.05
        _cw=$((_cw + 1))
    done
}

# in_ns DIR HOST CMD...: CMD inside HOST's network, UTS and mount namespaces.
in_ns() {
    _ns_pid=$(host_pid "$1" "$2")
    [ -n "$_ns_pid" ] || { echo "cluster: no host '$2' in $1" >&2; return 1; }
    shift 2
    nsenter -t "$_ns_pid" -n -u -m --wd="$PWD" -- "$@"
}

# cluster_up DIR N [--delay T] [--rate R] [--loss P]: start head and
# node1..nodeN in DIR (made if needed).  Returns 1 (with a message) on any
# failure, after removing what it made.
cluster_up() {
    _cd=$1 _cn=$2
    shift 2
    mkdir -p "$_cd/pids" && _cd=$(cd "$_cd" && pwd) || return 1
    [ ! -s "$_cd/pids/bridge" ] || { echo "cluster: $_cd is already up (cluster.sh down -d $_cd)" >&2; return 1; }
    {
        echo "127.0.0.1 localhost"
        echo "$CLUSTER_NET.10 head"
        _ci=1
        while [ $_ci -le "$_cn" ]; do
            echo "$CLUSTER_NET.$((10 + _ci)) node$_ci"
            _ci=$((_ci + 1))
        done
    } >"$_cd/hosts"
    echo "$_cn" >"$_cd/nodes"
    start_host "$_cd" bridge || { cluster_down "$_cd"; return 1; }
    in_ns "$_cd" bridge sh -c 'ip link add br0 type bridge && ip link set br0 up' ||
        { cluster_down "$_cd"; return 1; }
    _ci=0
    for _ch in head $(cluster_nodes "$_cd"); do
        start_host "$_cd" "$_ch" && in_ns "$_cd" bridge sh -c '
            ip link add "v$1" type veth peer name eth0 netns "$2" &&
            ip link set "v$1" master br0 up' sh "$_ch" "$(host_pid "$_cd" "$_ch")" &&
            in_ns "$_cd" "$_ch" sh -c 'ip addr add "$1/24" dev eth0 && ip link set eth0 up' \
                sh "$CLUSTER_NET.$((10 + _ci))" || { cluster_down "$_cd"; return 1; }
        _ci=$((_ci + 1))
    done
    write_agent "$_cd"
    write_env "$_cd"
    if [ $# -gt 0 ]; then
        cluster_shape "$_cd" "$@" || { cluster_down "$_cd"; return 1; }
    fi
    # Every link is up (a bridge port forwards at once: no STP) before
    # anyone uses the cluster.
    _ci=0
    while in_ns "$_cd" bridge ip -o link show | grep -v br0 | grep -q 'state DOWN\|LOWERLAYERDOWN'; do
        [ $_ci -lt 400 ] || { echo "cluster: links still down after 20 s" >&2; cluster_down "$_cd"; return 1; }
        sleep 0.05
        _ci=$((_ci + 1))
    done
}

# cluster_nodes DIR: the node names, node1..nodeN.
cluster_nodes() {
    seq -f 'node%g' 1 "$(cat "$1/nodes")"
}

# cluster_hostlist N RANKS: "node1:RANKS,...,nodeN:RANKS" for mpirun --host.
cluster_hostlist() {
    seq -f "node%g:$2" 1 "$1" | paste -sd, -
}

# write_agent DIR: Open MPI's launch agent: "agent [OPTIONS] HOST COMMAND..."
# runs COMMAND (a shell command line, as ssh would) on HOST.
write_agent() {
    cat >"$1/agent" <<EOF
#!/bin/sh
# Open MPI's plm_rsh_agent for the cluster in $1 (tests/cluster/cluster.sh).
while [ \$# -gt 0 ]; do
    case \$1 in -*) shift ;; *) break ;; esac
done
pid=\$(cat "$1/pids/\$1" 2>/dev/null) || { echo "agent: no host '\$1' in $1" >&2; exit 255; }
shift
# The same working directory (the file system is shared), as ssh to a
# cluster with shared home directories gives.
exec nsenter -t "\$pid" -n -u -m --wd="\$PWD" -- sh -c "\$*"
EOF
    chmod 755 "$1/agent"
}

# write_env DIR: the Open MPI settings every cluster job uses.
write_env() {
    cat >"$1/env" <<EOF
OMPI_MCA_plm_rsh_agent=$1/agent
OMPI_MCA_plm_rsh_no_tree_spawn=1
OMPI_MCA_btl=self,vader,tcp
OMPI_MCA_btl_tcp_if_include=$CLUSTER_SUBNET
OMPI_MCA_oob_tcp_if_include=$CLUSTER_SUBNET
OMPI_MCA_hwloc_base_binding_policy=none
OMPI_MCA_rmaps_base_oversubscribe=1
OMPI_ALLOW_RUN_AS_ROOT=1
OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
EOF
}

# cluster_shape DIR [--delay T] [--rate R] [--loss P]: shape every host's
# outgoing traffic (replacing earlier shaping): T added to each packet
# (netem units: 70us, 1ms), R a rate (100mbit), P a loss (0.1%).  With no
# option, shaping is removed.  Delay and loss need the kernel's netem
# qdisc; a rate alone uses tbf.
cluster_shape() {
    _cd=$1
    shift
    _cdelay='' _crate='' _closs=''
    while [ $# -gt 0 ]; do
        case $1 in
        --delay) _cdelay=$2 ;;
        --rate) _crate=$2 ;;
        --loss) _closs=$2 ;;
        *) echo "cluster: unknown shaping option '$1' (--delay T, --rate R, --loss P)" >&2; return 2 ;;
        esac
        [ $# -ge 2 ] || { echo "cluster: $1 needs a value" >&2; return 2; }
        shift 2
    done
    if [ -n "$_cdelay$_closs" ]; then
        set -- netem ${_cdelay:+delay "$_cdelay"} ${_closs:+loss "$_closs"} ${_crate:+rate "$_crate"}
    elif [ -n "$_crate" ]; then
        set -- tbf rate "$_crate" burst 64kb latency 50ms
    else
        set --
    fi
    for _ch in head $(cluster_nodes "$_cd"); do
        in_ns "$_cd" "$_ch" tc qdisc del dev eth0 root >/dev/null 2>&1 || true
        [ $# -eq 0 ] && continue
        if ! _cerr=$(in_ns "$_cd" "$_ch" tc qdisc add dev eth0 root "$@" 2>&1); then
            case $1:$_cerr in
            netem:*nknown*) echo "cluster: this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM):" \
                "--delay and --loss cannot be applied" >&2 ;;
            *) echo "cluster: tc qdisc add dev eth0 root $*: $_cerr" >&2 ;;
            esac
            return 1
        fi
    done
    echo "$*" >"$_cd/shaping"
}

# cluster_head DIR CMD...: CMD on the head host with DIR/env exported.
cluster_head() {
    _cd=$1
    shift
    (
        set -a
        . "$_cd/env"
        set +a
        in_ns "$_cd" head "$@"
    )
}

# cluster_on DIR HOST CMD...: CMD on HOST (head, nodeI or bridge).
cluster_on() {
    in_ns "$@"
}

# kill_in DIR HOST: end every process in HOST's network namespace (its
# holder last), so the namespace and its links go away.
kill_in() {
    _cp=$(host_pid "$1" "$2")
    [ -n "$_cp" ] || return 0
    _cns=$(readlink "/proc/$_cp/ns/net" 2>/dev/null) || { rm -f "$1/pids/$2"; return 0; }
    for _csig in TERM KILL; do
        for _cq in /proc/[0-9]*; do
            _cq=${_cq#/proc/}
            [ "$_cq" = "$_cp" ] || [ "$_cq" = $$ ] && continue
            [ "$(readlink "/proc/$_cq/ns/net" 2>/dev/null)" = "$_cns" ] && { kill -s $_csig "$_cq" 2>/dev/null || true; }
        done
        [ $_csig = TERM ] && sleep 0.2
    done
    kill -s KILL "$_cp" 2>/dev/null || true
    rm -f "$1/pids/$2"
}

# cluster_down DIR: stop every process on every host of DIR and remove the
# namespaces (they go with their last process).  Safe to run twice, or on
# a cluster that never came up.
cluster_down() {
    [ -d "$1/pids" ] || return 0
    for _cf in "$1"/pids/*; do
        [ -e "$_cf" ] || continue
        _ch=${_cf##*/}
        _ch=${_ch%.tmp}
        [ "$_ch" = bridge ] || kill_in "$1" "$_ch"
    done
    kill_in "$1" bridge
    rm -f "$1"/pids/*.tmp "$1/shaping"
}

cluster_status() {
    _cd=$1
    [ -s "$_cd/pids/bridge" ] || { echo "cluster in $_cd: down"; return 1; }
    echo "cluster in $_cd: up; shaping: $(cat "$_cd/shaping" 2>/dev/null || echo none)"
    for _ch in head $(cluster_nodes "$_cd"); do
        printf '%s  %s\n' "$(in_ns "$_cd" "$_ch" hostname)" \
            "$(in_ns "$_cd" "$_ch" ip -4 -o addr show dev eth0 | awk '{print $4}')"
    done
    echo "run a job:  sh $0 run -d $_cd mpirun --host $(cluster_hostlist "$(cat "$_cd/nodes")" 2) -n $((2 * $(cat "$_cd/nodes"))) hostname"
}

cluster_main() {
    cmd=${1:-}
    [ $# -gt 0 ] && shift
    d=${MB_CLUSTER:-${TMPDIR:-/tmp}/mbcluster}
    n=4
    if [ "${1:-}" = -d ]; then
        d=$2
        shift 2
    fi
    case $cmd in
    up)
        if [ "${1:-}" = -n ]; then
            n=$2
            shift 2
        fi
        why=$(cluster_check) || { echo "cluster: $why" >&2; exit 1; }
        cluster_up "$d" "$n" "$@" || exit 1
        cluster_status "$d"
        ;;
    down) cluster_down "$d" ;;
    status) cluster_status "$d" ;;
    run) cluster_head "$d" "$@" ;;
    exec) cluster_on "$d" "$@" ;;
    shape) cluster_shape "$d" "$@" ;;
    *)
        echo "usage: cluster.sh up [-d DIR] [-n N] [--delay T] [--rate R] [--loss P]" >&2
        echo "       cluster.sh run|exec HOST|shape|status|down [-d DIR] ..." >&2
        exit 2
        ;;
    esac
}

case ${0##*/} in
cluster.sh) cluster_main "$@" ;;
esac
