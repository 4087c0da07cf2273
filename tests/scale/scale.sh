#!/bin/sh
# scale.sh [BUILDDIR] [RANKS] - the scale runs of docs/benchmarks.md
# ("Scale"): sleep --seconds 0 at 10^5, 10^6 and 10^7 tasks, exec at 10^5
# tasks and euler at 10^12 terms, each rank's peak resident memory taken by
# /usr/bin/time.  Measures, asserts nothing; prints one line per run.
set -eu
cd "$(dirname "$0")/../.."
builddir=${1:-build}
ranks=${2:-2}
mpibatch=$(pwd)/$builddir/mpibatch
work=$(mktemp -d "${TMPDIR:-/tmp}/mpibatch-scale.XXXXXX")
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# run NAME ARGS...: every rank under /usr/bin/time; prints wall seconds,
# the peak RSS of rank 0 and the largest of the others, and the output size.
run() {
    name=$1
    shift
    rm -f "$work"/rss-* "$work/out.h5"
    start=$(date +%s.%N)
    mpirun --oversubscribe -n "$ranks" sh -c '/usr/bin/time -f "%M" -o "$0/rss-$OMPI_COMM_WORLD_RANK" "$@"' \
        "$work" "$mpibatch" "$@" --out "$work/out.h5" --report "$work/report.json" --quiet
    end=$(date +%s.%N)
    r0=$(cat "$work/rss-0")
    rest=$(cat "$work"/rss-[1-9]* 2>/dev/null | sort -n | tail -1)
    printf '%-28s wall %7.1f s  rank0 %7.1f MiB  others %7.1f MiB  output %8.1f MiB\n' "$name" \
        "$(echo "$end - $start" | bc)" "$(echo "$r0 / 1024" | bc -l)" \
        "$(echo "${rest:-0} / 1024" | bc -l)" "$(echo "$(stat -c %s "$work/out.h5") / 1048576" | bc -l)"
}

for n in 100000 1000000 10000000; do
    run "sleep $n tasks" sleep --tasks "$n" --seconds 0
done
if "$mpibatch" help exec >/dev/null 2>&1; then
    yes true | head -n 100000 >"$work/commands.txt"
    run "exec 100000 tasks" exec --commands "$work/commands.txt"
fi
run "euler 10^12 terms" euler --terms 1000000000000
python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["result"]
print("euler 10^12: total %.17g exact %.17g error %.3g" % (r["total"], r["exact"], r["error"]))' \
    "$work/report.json"
