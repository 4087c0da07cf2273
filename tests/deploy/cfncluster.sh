#!/bin/sh
# The CfnCluster INI and ParallelCluster 3 YAML parse, carry the keys their
# tools require and reference files that exist; cfncluster/bootstrap.sh gets
# the source from a directory or a tarball and runs tools/bootstrap.sh (the
# README's install path) and make install with the right prefix.
# shellcheck disable=SC1091,SC2015,SC2154 # ok never fails; make check sets top_srcdir
. "$top_srcdir/tests/integration/lib.sh"
C="$top_srcdir/cfncluster"
K="python3 $top_srcdir/tests/deploy/clusters.py"

$K ini "$top_srcdir" "$C/config" && ok || fail "CfnCluster config"
if ! python3 -c 'import yaml' 2>/dev/null && [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q \
        python3-yaml >/dev/null 2>&1 || true
fi
if python3 -c 'import yaml' 2>/dev/null; then
    $K yaml "$top_srcdir" "$C/cluster.yaml" && ok || fail "ParallelCluster cluster.yaml"
    if command -v yamllint >/dev/null 2>&1; then
        yamllint -d '{extends: default, rules: {line-length: {max: 100}, document-start: disable}}' \
            "$C/cluster.yaml" && ok || fail "yamllint cluster.yaml"
    fi
    # The checks bite: each edit must be refused.
    for edit in 'c["Scheduling"]["Scheduler"] = "awsbatch"' \
        'del c["HeadNode"]["Networking"]' \
        'c["Scheduling"]["SlurmQueues"][1]["ComputeResources"][0]["InstanceType"] = "c5.xlarge"' \
        'c["Scheduling"]["SlurmQueues"][0]["CustomActions"]["OnNodeConfigured"]["Script"] = "s3://my-bucket/x/missing.sh"' \
        'c["HeadNode"]["Iam"]["S3Access"][0]["BucketName"] = "other-bucket"' \
        'c["Scheduling"]["SlurmQueues"][0]["ComputeResources"][0]["MinCount"] = 9'; do
        python3 - "$C/cluster.yaml" "$WORK/bad.yaml" "$edit" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
exec(sys.argv[3])
yaml.safe_dump(c, open(sys.argv[2], "w"))
PY
        $K yaml "$top_srcdir" "$WORK/bad.yaml" >/dev/null 2>&1 && fail "accepted: $edit" || ok
    done
else
    echo "NOTE: python3-yaml not installed and not installable: cluster.yaml not checked"
fi
for edit in 's/^scheduler = slurm/scheduler = sge/' 's/^key_name = .*//' \
    's/^initial_queue_size = 4/initial_queue_size = 40/' 's|bootstrap.sh$|boot.sh|'; do
    sed "$edit" "$C/config" >"$WORK/bad.ini"
    $K ini "$top_srcdir" "$WORK/bad.ini" >/dev/null 2>&1 && fail "accepted: $edit" || ok
done

# bootstrap.sh is the README's install path: tools/bootstrap.sh, shipped in
# release tarballs too (the nodes install from one).
[ -f "$top_srcdir/tools/bootstrap.sh" ] && ok || fail "no tools/bootstrap.sh in this tree"
sh -n "$C/bootstrap.sh" && ok || fail "bootstrap.sh syntax"

# bootstrap.sh on a stand-in source tree whose tools/bootstrap.sh records its
# arguments and writes a Makefile that installs a stand-in mpibatch.
fake="$WORK/fake/mpibatch-9.9"
mkdir -p "$fake/tools"
cat >"$fake/tools/bootstrap.sh" <<'SH'
#!/bin/sh
set -eu
cd "$(dirname "$0")/.."
echo "$*" >"$BOOT_LOG"
mkdir -p "$1"
prefix=${2#--prefix=}
printf 'install:\n\tmkdir -p %s/bin\n\tprintf "#!/bin/sh\\necho mpibatch 9.9\\n" >%s/bin/mpibatch\n\tchmod +x %s/bin/mpibatch\n' \
    "$prefix" "$prefix" "$prefix" >"$1/Makefile"
SH
export BOOT_LOG="$WORK/boot.log"
if sh "$C/bootstrap.sh" "$fake" "$WORK/prefix1" >"$WORK/b1.txt" 2>&1; then
    [ "$(cat "$BOOT_LOG")" = "build-node --prefix=$WORK/prefix1" ] && ok || fail "tree: args $(cat "$BOOT_LOG")"
    grep -q "installed mpibatch 9.9" "$WORK/b1.txt" && ok || fail "tree: $(cat "$WORK/b1.txt")"
else
    fail "bootstrap.sh from a tree: $(tail -n 5 "$WORK/b1.txt")"
fi
rm -rf "$fake/build-node"
tar -czf "$WORK/mpibatch-9.9.tar.gz" -C "$WORK/fake" mpibatch-9.9
if MPIBATCH_BUILD_ROOT="$WORK/opt" sh "$C/bootstrap.sh" "$WORK/mpibatch-9.9.tar.gz" "$WORK/prefix2" \
    >"$WORK/b2.txt" 2>&1; then
    [ -x "$WORK/prefix2/bin/mpibatch" ] && [ -f "$WORK/opt/src/tools/bootstrap.sh" ] && ok ||
        fail "tarball: not unpacked to MPIBATCH_BUILD_ROOT/src or not installed"
else
    fail "bootstrap.sh from a tarball: $(tail -n 5 "$WORK/b2.txt")"
fi
mkdir -p "$WORK/empty"
sh "$C/bootstrap.sh" "$WORK/empty" "$WORK/prefix3" >/dev/null 2>"$WORK/b3.txt"
[ $? -eq 3 ] && grep -q "not an mpibatch source tree" "$WORK/b3.txt" && ok || fail "no tree: $(cat "$WORK/b3.txt")"
finish
