# shellcheck shell=sh disable=SC1091,SC2154,SC2034 # make check sets top_srcdir; C is for the test
# testlib.sh - what every test on the simulated cluster starts with, sourced
# after tests/integration/lib.sh: the cluster's functions (cluster.sh),
# cluster_skip, a skip (77) when the namespaces cannot be made here, and C,
# the cluster's directory under the test's WORK.  The test sets its own
# EXIT trap, which must call cluster_down "$C".

# Each simulated host has a /dev/shm of its own, gone with the host, as a
# real node has: shared-memory files stay there, not in one directory on
# the file system every host sees (lib.sh's choice for one-host tests).
unset OMPI_MCA_btl_vader_backing_directory
. "$top_srcdir/tests/cluster/cluster.sh"

# cluster_skip WHY...: skip the test, saying why where a CI log shows it.
cluster_skip() {
    echo "SKIP: ************************************************************"
    echo "SKIP: $*"
    echo "SKIP: ************************************************************"
    exit 77
}

why=$(cluster_check) || cluster_skip "the simulated cluster cannot be made here: $why"
C="$WORK/cluster"

# cluster_procs HOST: the processes in HOST's namespaces but the one that
# holds them (a host to kill or freeze whole).
cluster_procs() {
    _h=$(cat "$C/pids/$1") _ns=$(readlink "/proc/$(cat "$C/pids/$1")/ns/net")
    for _q in /proc/[0-9]*; do
        _q=${_q#/proc/}
        [ "$_q" != "$_h" ] && [ "$(readlink "/proc/$_q/ns/net" 2>/dev/null)" = "$_ns" ] &&
            alive "$_q" && echo "$_q"
    done
}
