#!/bin/sh
# The Azure Batch templates: they parse and carry what the Batch REST API
# requires (schemas in batch-schema.json), submit.py fills them in and hands
# them to `az batch`, and the job preparation, coordination and MPI command
# lines really run here with AZ_BATCH_* set as Batch sets them.
# shellcheck disable=SC1091,SC2015,SC2154 # ok never fails; make check sets top_srcdir
. "$top_srcdir/tests/integration/lib.sh"
A="$top_srcdir/azure"
B="python3 $top_srcdir/tests/deploy/batch.py"

if ! python3 -c 'import jsonschema' 2>/dev/null && [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q \
        python3-jsonschema >/dev/null 2>&1 || true
fi

# The templates as shipped.
$B validate "$top_srcdir" "$A" && ok || fail "templates"

# The validator bites: a misspelt key, a pool without inter-node
# communication, a job on another pool, a task on more nodes than the pool has.
if python3 -c 'import jsonschema' 2>/dev/null; then
    for broken in 'pool["enableInternodeCommunication"] = pool.pop("enableInterNodeCommunication")' \
        'pool["enableInterNodeCommunication"] = False' \
        'job["poolInfo"]["poolId"] = "other"' \
        'task["multiInstanceSettings"]["numberOfInstances"] = 9' \
        'task["userIdentity"] = {"autoUser": {"scope": "task"}}' \
        'del pool["userAccounts"][0]["password"]' \
        'del task["outputFiles"][0]["uploadOptions"]' \
        'pool["startTask"]["commandLine"] = "/bin/bash -c \"sh src/cfncluster/missing.sh\""'; do
        rm -rf "$WORK/broken" && mkdir -p "$WORK/broken"
        python3 - "$A" "$WORK/broken" "$broken" <<'PY'
import json, os, sys
src, dst, edit = sys.argv[1:]
pool, job, task = (json.load(open(os.path.join(src, n + ".json"))) for n in ("pool", "job", "task"))
exec(edit)
for n, b in (("pool", pool), ("job", job), ("task", task)):
    json.dump(b, open(os.path.join(dst, n + ".json"), "w"))
PY
        $B validate "$top_srcdir" "$WORK/broken" >/dev/null 2>&1 && fail "validator accepted: $broken" || ok
    done
else
    echo "NOTE: python3-jsonschema not installed: schema checks and their negative cases skipped"
fi

# submit.py fills in the parameters everywhere; without az it prints the commands.
PATH_NO_AZ=$PATH
echo "stand-in private key" >"$WORK/key"
python3 "$A/submit.py" --ssh-key "$WORK/key" --source-url "https://st.blob.core.windows.net/in/mb.tar.gz?sv=1" \
    --job-spec-url "https://st.blob.core.windows.net/in/euler.json?sv=1" \
    --output-url "https://st.blob.core.windows.net/out?sv=2" --nodes 3 --low-priority \
    --pool-id p1 --job-id j1 --task-id t1 --out "$WORK/filled" --dry-run >"$WORK/dry.txt" ||
    fail "submit.py --dry-run"
$B validate "$top_srcdir" "$WORK/filled" >/dev/null && ok || fail "filled-in templates"
python3 - "$WORK/filled" <<'PY' && ok || fail "filled-in values"
import json, os, sys
d = sys.argv[1]
pool, job, task = (json.load(open(os.path.join(d, n + ".json"))) for n in ("pool", "job", "task"))
assert pool["id"] == "p1" and job["poolInfo"]["poolId"] == "p1" and job["id"] == "j1" and task["id"] == "t1"
assert pool["targetLowPriorityNodes"] == 3 and pool["targetDedicatedNodes"] == 0
assert task["multiInstanceSettings"]["numberOfInstances"] == 3
assert pool["startTask"]["resourceFiles"][0]["httpUrl"].endswith("mb.tar.gz?sv=1")
assert task["resourceFiles"][0]["httpUrl"].endswith("euler.json?sv=1")
dests = [o["destination"]["container"] for o in task["outputFiles"]]
assert all(c["containerUrl"] == "https://st.blob.core.windows.net/out?sv=2" for c in dests)
assert [c["path"] for c in dests] == ["j1/t1", "j1/t1/logs"], dests
text = "".join(open(os.path.join(d, n + ".json")).read() for n in ("pool", "job", "task"))
assert "STORAGE_ACCOUNT" not in text and "SET_BY_SUBMIT_PY" not in text
user = pool["userAccounts"][0]
assert user["linuxUserConfiguration"]["sshPrivateKey"] == "stand-in private key\n"
assert len(user["password"]) >= 24
assert task["userIdentity"]["username"] == user["name"]
PY
grep -q "^az batch task create --job-id j1 --json-file $WORK/filled/task.json$" "$WORK/dry.txt" && ok ||
    fail "dry run commands: $(cat "$WORK/dry.txt")"
# With az on PATH it runs pool, job and task create, in that order (and
# makes the MPI user's key with ssh-keygen when there is one).
keyopt=""
command -v ssh-keygen >/dev/null 2>&1 || keyopt="--ssh-key $WORK/key"
mkdir -p "$WORK/bin"
cat >"$WORK/bin/az" <<'SH'
#!/bin/sh
echo "$*" >>"$AZ_LOG"
SH
chmod +x "$WORK/bin/az"
# shellcheck disable=SC2086 # keyopt is empty or two words
AZ_LOG="$WORK/az.log" PATH="$WORK/bin:$PATH_NO_AZ" python3 "$A/submit.py" $keyopt \
    --source-url https://s/a.tgz --job-spec-url https://s/j.json --output-url https://s/o \
    --out "$WORK/filled2" >/dev/null || fail "submit.py with az"
[ "$(cut -d' ' -f1-3 "$WORK/az.log" 2>/dev/null | tr '\n' ,)" = "batch pool create,batch job create,batch task create," ] &&
    ok || fail "az calls: $(cat "$WORK/az.log" 2>/dev/null)"
if [ -z "$keyopt" ]; then
    grep -q 'BEGIN RSA PRIVATE KEY' "$WORK/filled2/pool.json" && [ -f "$WORK/filled2/mpi_key.pub" ] &&
        ok || fail "no ssh key generated"
fi

# The command lines on this machine as one Batch node (host list 127.0.0.1):
# the job spec is the task's resource file; 2 ranks per node.
mkdir -p "$WORK/resources"
echo '{"kernel": "euler", "terms": 1000000, "blocks": 16}' >"$WORK/resources/job.json"
if wd=$(MPIBATCH_RANKS_PER_NODE=2 $B run "$A" "$WORK" 2>"$WORK/run.err"); then
    ok
    python3 - "$wd/results/report.json" "$(hostname)" <<'PY' && ok || fail "MPI task report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ranks"] == 2 and r["tasks"] == 16 and r["tasks_failed"] == 0, r
assert r["result"]["terms"] == 10**6 and abs(r["result"]["error"]) < 1e-12, r["result"]
assert r["output"] == "results/mpibatch.h5", r["output"]
assert all(p["tasks"] > 0 for p in r["per_rank"]), r["per_rank"]
PY
    "$H5DUMP" -d /results/sum "$wd/results/mpibatch.h5" >/dev/null 2>&1 && ok || fail "MPI task HDF5"
    [ "$(cat "$wd/hostfile")" = "127.0.0.1 slots=2" ] && ok || fail "hostfile: $(cat "$wd/hostfile")"
    grep -q "upload results/report.json" "$WORK/run.err" && ok || fail "report not uploaded"
    grep -q "upload ../stdout.txt" "$WORK/run.err" && ok || fail "log not uploaded"
    grep -q "ready for mpibatch-task" "$wd/../stdout.txt" && ok || fail "coordination command"
else
    fail "Batch command lines: $(tail -n 5 "$WORK/run.err")"
fi

# Three nodes, the primary not first in the host list: the hostfile puts the
# primary first (rank 0, which writes the outputs Batch uploads, runs there),
# two slots each, six ranks. A stand-in mpirun records that and runs one rank.
cat >"$WORK/bin/mpirun" <<'SH'
#!/bin/sh
echo "$*" >"$MPIRUN_LOG"
cp hostfile "$MPIRUN_LOG.hostfile"
shift 4
exec "$@"
SH
chmod +x "$WORK/bin/mpirun"
rm -rf "$WORK/batch"
if MPIRUN_LOG="$WORK/mpirun.log" MPIBATCH_RANKS_PER_NODE=2 PATH="$WORK/bin:$PATH" \
    $B run "$A" "$WORK" 10.1.0.7,10.1.0.4,10.1.0.5 10.1.0.4 >/dev/null 2>"$WORK/run3.err"; then
    printf '10.1.0.4 slots=2\n10.1.0.7 slots=2\n10.1.0.5 slots=2\n' | cmp -s - "$WORK/mpirun.log.hostfile" &&
        ok || fail "3-node hostfile: $(cat "$WORK/mpirun.log.hostfile")"
    grep -q "^--hostfile hostfile -n 6 $MPIBATCH run job.json" "$WORK/mpirun.log" && ok ||
        fail "3-node mpirun: $(cat "$WORK/mpirun.log")"
else
    fail "3-node run: $(tail -n 5 "$WORK/run3.err")"
fi
finish
