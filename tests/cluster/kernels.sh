#!/bin/sh
# Every kernel across 4 simulated hosts x 2 ranks (tests/cluster/cluster.sh),
# under both schedules: the same results as a 1-host run (h5diff of
# /results, the euler total to the bit), /ranks/host and the report's hosts
# naming the 4 hosts, exec tasks seeing their own host's MB_HOST and
# writing their logs (on the shared file system, and on each host's own
# disk), classify at levels 1 and 2 with one model table per
# host.  Skips (77) only where the namespaces cannot be made.
# shellcheck disable=SC1091,SC2015,SC2154,SC2086,SC2016 # ok never fails; make check sets top_srcdir; MB_WRAPPER is words; commands in single quotes
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/cluster/testlib.sh"
trap 'cluster_down "$C"; rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM
HOSTS=4
PER=2
cluster_up "$C" $HOSTS || { fail "the cluster did not come up"; finish; exit 1; }
build=$(dirname "$MPIBATCH")

# cm ARGS...: mpibatch on HOSTS x PER ranks of the cluster, from its head.
cm() {
    cluster_head "$C" "$MPIEXEC" --host "$(cluster_hostlist $HOSTS $PER)" \
        -n $((HOSTS * PER)) ${MB_WRAPPER:-} "$MPIBATCH" "$@"
}

# same NAME ONE MANY: the two outputs' /results are identical but for the
# fields that are measurements (sleep's overslept, exec's time and memory;
# h5diff's excluded paths are relative to the group compared).
same() {
    h5diff --exclude-path /overslept --exclude-path /wall_seconds --exclude-path /peak_rss_kib \
        "$2" "$3" /results >"$WORK/diff.txt" 2>&1 && ok ||
        fail "$1: results differ from the 1-host run: $(head -c 300 "$WORK/diff.txt")"
}

# spread NAME H5 REPORT: the output's /ranks/host and the report's hosts
# and per_rank name node1..node4, PER ranks each, in rank order.
spread() {
    python3 - "$2" "$3" $HOSTS $PER <<'PY' && ok || fail "$1: hosts"
import json, subprocess, sys
h5, rep, hosts, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
want = ["node%d" % (r // per + 1) for r in range(hosts * per)]
out = subprocess.run(["h5dump", "-A", "0", "-y", "-w", "0", "-d", "/ranks/host", h5],
                     capture_output=True, text=True, check=True).stdout
got = [s.strip().strip('"') for s in out.split("DATA {")[1].split("}")[0].split(",")]
assert got == want, ("/ranks/host", got)
r = json.load(open(rep))
assert r["hosts"] == want[::per], ("hosts", r["hosts"])
assert [p["host"] for p in r["per_rank"]] == want, ("per_rank", r["per_rank"])
assert r["ranks"] == hosts * per and r["tasks_failed"] == 0, r
PY
}

# across NAME ARGS...: the job at 1 host (2 ranks) and on the cluster under
# both schedules: same results, hosts named.
across() {
    name=$1
    shift
    mb 2 "$@" --out "$WORK/$name-1.h5" --report "$WORK/$name-1.json" --quiet ||
        { fail "$name: 1-host run"; return; }
    for sched in static dynamic; do
        t="$name-$sched"
        cm "$@" --schedule $sched --out "$WORK/$t.h5" --report "$WORK/$t.json" --quiet ||
            { fail "$t: cluster run"; continue; }
        same "$t" "$WORK/$name-1.h5" "$WORK/$t.h5"
        spread "$t" "$WORK/$t.h5" "$WORK/$t.json"
    done
}

across euler euler --terms 2e7 --blocks 40 --chunk 3
for sched in static dynamic; do
    [ "$(json_get "$WORK/euler-$sched.json" result.total)" = \
        "$(json_get "$WORK/euler-1.json" result.total)" ] && ok ||
        fail "euler $sched: total differs from the 1-host run in its last bits"
done
across sleep sleep --tasks 24 --seconds 0.01
across plugin --kernel-lib "$build/examples/libmbexample.so" --kernel mcpi --tasks 16 \
    --samples 20000 --chunk 2

# exec: results that do not depend on the host, then each task's MB_HOST.
seq 1 24 | awk '{ printf "printf \"%%s %%s\" \"$MB_TASK_ID\" %d; echo \"$MB_TASK_ID\" >&2\n", $1 * $1 }' \
    >"$WORK/cmds.txt"
across exec exec --commands "$WORK/cmds.txt" --chunk 2
printf '%s\n' 'printf "%s %s %s" "$MB_RANK" "$MB_HOST" "$(hostname)"; echo "$MB_HOST" >&2' |
    awk '{for (i = 0; i < 16; i++) print}' >"$WORK/hosts.txt"
# Static, one task per chunk: every rank runs two of the 16 tasks.
cm exec --commands "$WORK/hosts.txt" --schedule static --chunk 1 --logs "$WORK/logs" \
    --out "$WORK/host.h5" --quiet ||
    fail "exec MB_HOST: run"
python3 - "$WORK/host.h5" "$WORK/logs" $PER "$MPIBATCH" <<'PY' && ok || fail "exec: MB_HOST and logs"
import subprocess, sys
h5, logs, per, mpibatch = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def log(t, stream):
    return subprocess.run([mpibatch, "logs", logs, str(t), "--stream", stream],
                          capture_output=True, text=True, check=True).stdout
def field(name):
    out = subprocess.run(["h5dump", "-A", "0", "-y", "-w", "0", "-d", name, h5],
                         capture_output=True, text=True, check=True).stdout
    return [s.strip().strip('"') for s in out.split("DATA {")[1].split("}")[0].split(",")]
ranks = field("/tasks/rank")
hosts = field("/ranks/host")
seen = set()
for t, line in enumerate(field("/results/stdout")):
    rank, mbhost, hostname = line.split()
    assert int(rank) == int(ranks[t]), (t, line, ranks[t])
    assert mbhost == hostname == hosts[int(rank)] == "node%d" % (int(rank) // per + 1), (t, line)
    assert log(t, "out") == line, t  # each rank's streamed log (mpibatch logs)
    assert log(t, "err") == mbhost + "\n", t
    seen.add(mbhost)
assert sorted(seen) == sorted(set(hosts)) and len(seen) == len(hosts) // per, seen
PY

# --logs on each host's own disk (a tmpfs in each node's mount namespace,
# as a node's local scratch): every rank writes its tasks' logs on its
# host, nothing reaches the shared directory, and `mpibatch logs` on a
# host prints the tasks that ran there and names a task that did not.
mkdir -p "$WORK/local"
i=1
while [ $i -le $HOSTS ]; do
    cluster_on "$C" node$i mount -t tmpfs -o size=16m tmpfs "$WORK/local" ||
        fail "node$i: no tmpfs for its local logs"
    i=$((i + 1))
done
cm exec --commands "$WORK/hosts.txt" --schedule static --chunk 1 --logs "$WORK/local/logs" \
    --out "$WORK/local.h5" --quiet || fail "exec --logs on local disks: run"
[ -z "$(ls -A "$WORK/local")" ] && ok || fail "local logs reached the shared directory"
h5dump -A 0 -y -w 0 -d /tasks/rank "$WORK/local.h5" |
    awk '/DATA \{/ {f = 1; next} /\}/ {f = 0} f' | tr -c '0-9' '\n' | sed '/^$/d' >"$WORK/local.ranks"
t=0
while read -r rank; do
    node=$((rank / PER + 1))
    other=$((node % HOSTS + 1))
    got=$(cluster_on "$C" node$node "$MPIBATCH" logs "$WORK/local/logs" $t --stream out)
    [ "$got" = "$rank node$node node$node" ] && ok || fail "task $t on node$node: '$got'"
    if err=$(cluster_on "$C" node$other "$MPIBATCH" logs "$WORK/local/logs" $t 2>&1); then
        fail "task $t found on node$other: $err"
    else
        echo "$err" | grep -q "task $t" && ok || fail "task $t on node$other: $err"
    fi
    t=$((t + 1))
done <"$WORK/local.ranks"
[ $t = 16 ] && ok || fail "local logs: $t tasks in /tasks/rank"
i=1
while [ $i -le $HOSTS ]; do
    files=$(cluster_on "$C" node$i ls "$WORK/local/logs" | grep -c '^rank-.*\.idx$')
    [ "$files" = $PER ] && ok || fail "node$i holds $files rank indexes, not $PER"
    cluster_on "$C" node$i umount "$WORK/local" || fail "node$i: umount"
    i=$((i + 1))
done

# classify: a model trained on 1 host and on the cluster (the same bits),
# then classification at levels 1 and 2.
mb 1 corpus --docs 1500 --seed 1 --out "$WORK/train.jsonl" &&
    mb 1 corpus --docs 400 --seed 2 --first-id 1500 --out "$WORK/test.jsonl" || fail "corpus"
mb 1 train --input "$WORK/train.jsonl" --out "$WORK/m1.h5" --quiet || fail "train at 1 host"
cm train --input "$WORK/train.jsonl" --out "$WORK/m8.h5" --report "$WORK/t8.json" --quiet ||
    fail "train on the cluster"
h5diff "$WORK/m1.h5" "$WORK/m8.h5" >"$WORK/diff.txt" && ok ||
    fail "train: the cluster's model differs: $(head -3 "$WORK/diff.txt")"
for levels in 1 2; do
    across "classify$levels" classify --model "$WORK/m1.h5" --input "$WORK/test.jsonl" \
        --levels $levels
done

# One model table per host: the probe maps a segment the way classify does
# (mb_shm) and each rank names the file behind its mapping.
cm_probe() {
    cluster_head "$C" "$MPIEXEC" --host "$(cluster_hostlist $HOSTS $PER)" \
        -n $((HOSTS * PER)) "$build/tests/cluster/shm_probe" "$@"
}
cm_probe 1048576 >"$WORK/probe.txt" 2>&1 || fail "shm probe: $(tail -3 "$WORK/probe.txt")"
python3 - "$WORK/probe.txt" $HOSTS $PER <<'PY' && ok || fail "one table per host: $(cat "$WORK/probe.txt")"
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.startswith("rank ")]
hosts, per = int(sys.argv[2]), int(sys.argv[3])
assert len(rows) == hosts * per, rows
seg = {}
for _, rank, host, ident, ok in rows:
    # A file-backed mapping (inode 0 would be private memory, not shared).
    assert ok == "filled" and not ident.endswith(":0"), rows
    seg.setdefault(host, set()).add(ident)
# Every host maps exactly one segment of its own, shared by its ranks.
assert sorted(seg) == ["node%d" % i for i in range(1, hosts + 1)], seg
assert all(len(s) == 1 for s in seg.values()), seg
assert len(set.union(*seg.values())) == hosts, seg
PY
finish
