# shellcheck shell=sh
# lib.sh - shared by benchmarks/speedup, granularity and overhead (sourced;
# POSIX sh).  Each measured point runs the real mpibatch under the launcher
# REPEATS times and keeps the median; the job time is the report's
# wall_seconds (the launcher's own start-up excluded), the process time is
# the whole launch.

BENCH_ROOT=$(cd "$(dirname "$0")/.." && pwd)
MB=${MPIBATCH:-}
LAUNCHER=${MPIEXEC:-mpirun}
OUT=results
REPEATS=3
BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/mpibatch-bench.XXXXXX")
trap 'rm -rf "$BENCH_TMP"' EXIT
trap 'exit 130' INT TERM

die() {
    echo "$(basename "$0"): $*" >&2
    exit 2
}

# common_option NAME VALUE: the options every script takes; fails if NAME
# is not one of them.
common_option() {
    case $1 in
    --out) OUT=$2 ;;
    --repeats) REPEATS=$2 ;;
    --mpibatch) MB=$2 ;;
    --launcher) LAUNCHER=$2 ;;
    *) die "unknown option $1 (see $0 --help)" ;;
    esac
}

common_help() {
    cat <<EOF
  --out DIR         where the CSV, JSON and PNG go [default: results]
  --repeats R       runs per point; the median is kept [default: 3]
  --mpibatch PATH   the binary [default: \$MPIBATCH, build/mpibatch, or mpibatch on PATH]
  --launcher CMD    launcher given -n N [default: \$MPIEXEC or mpirun; e.g. "srun --mpi=pmix"]
EOF
}

cores() {
    getconf _NPROCESSORS_ONLN
}

# bench_start: check the settings, find the binary, make the output folder.
bench_start() {
    case $REPEATS in '' | *[!0-9]* | 0) die "--repeats must be a positive integer" ;; esac
    if [ -z "$MB" ]; then
        if [ -x "$BENCH_ROOT/build/mpibatch" ]; then MB=$BENCH_ROOT/build/mpibatch
        else MB=$(command -v mpibatch) || die "no mpibatch: build it or pass --mpibatch PATH"
        fi
    fi
    [ -x "$MB" ] || die "$MB is not an executable"
    mkdir -p "$OUT"
    export OMPI_ALLOW_RUN_AS_ROOT="${OMPI_ALLOW_RUN_AS_ROOT:-1}"
    export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}"
}

# check_list NAME LIST: LIST is comma-separated positive integers.
check_list() {
    case $2 in '' | *[!0-9,]* | ,* | *, | *,,*) die "$1 must be a comma-separated list of integers" ;; esac
}

# now: seconds since the epoch, fractional.
now() {
    date +%s.%N
}

# launch N ARGS...: mpibatch on N ranks.  More ranks than cores are allowed
# (Open MPI needs to be told) but measure sharing, so they are flagged.
launch() {
    n=$1
    shift
    if [ "$n" -gt "$(cores)" ]; then
        echo "$(basename "$0"): warning: $n ranks on $(cores) cores: oversubscribed" >&2
        # shellcheck disable=SC2086  # LAUNCHER is a command with its own words
        OMPI_MCA_rmaps_base_oversubscribe=1 $LAUNCHER -n "$n" "$MB" "$@"
    else
        # shellcheck disable=SC2086
        $LAUNCHER -n "$n" "$MB" "$@"
    fi
}

# report_fields FILE: "wall_seconds tasks_per_second load_imbalance" of a report.
report_fields() {
    python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(r["wall_seconds"], r["tasks_per_second"], r["load_imbalance"])' "$1"
}

# median_of COLUMN FILE: the median of a whitespace-separated column.
median_of() {
    awk -v c="$1" '{print $c}' "$2" | sort -g |
        awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# point N ARGS...: run REPEATS times; prints "wall min max process tasks/s
# imbalance", the medians (min and max of the job time), and appends every
# run to $OUT/NAME-runs.csv through RUNS_CSV and RUNS_TAG.
point() {
    n=$1
    shift
    : >"$BENCH_TMP/runs"
    i=0
    while [ "$i" -lt "$REPEATS" ]; do
        i=$((i + 1))
        start=$(now)
        launch "$n" "$@" --report "$BENCH_TMP/report.json" --quiet >/dev/null ||
            die "run failed: mpibatch $* on $n ranks"
        end=$(now)
        line="$(report_fields "$BENCH_TMP/report.json") $(awk "BEGIN {print $end - $start}")"
        echo "$line" >>"$BENCH_TMP/runs"
        echo "$RUNS_TAG,$n,$i,$(echo "$line" | tr ' ' ,)" >>"$RUNS_CSV"
    done
    wall=$(median_of 1 "$BENCH_TMP/runs")
    lo=$(sort -g "$BENCH_TMP/runs" | head -1 | awk '{print $1}')
    hi=$(sort -g "$BENCH_TMP/runs" | tail -1 | awk '{print $1}')
    echo "$wall $lo $hi $(median_of 4 "$BENCH_TMP/runs") $(median_of 2 "$BENCH_TMP/runs") $(median_of 3 "$BENCH_TMP/runs")"
}

# machine: one line naming the CPU, cores, MPI and the load when started.
machine() {
    echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(cores) cores," \
        "$(mpirun --version 2>/dev/null | head -1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

# to_json CSV JSON WHAT ARGS: the CSV's rows as objects (numbers as
# numbers), with the machine, the command line and what was measured.
to_json() {
    python3 - "$1" "$2" "$3" "$(machine)" "$4" <<'PY'
import csv, json, sys
src, dst, what, machine, command = sys.argv[1:]
def value(v):
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v
rows = [{k: value(v) for k, v in row.items()} for row in csv.DictReader(open(src))]
with open(dst + ".tmp", "w") as f:
    json.dump({"what": what, "machine": machine, "command": command, "points": rows}, f, indent=1)
    f.write("\n")
PY
    mv "$2.tmp" "$2"
}

# plot SCRIPT PNG: run a gnuplot script on a PNG terminal, if gnuplot is
# installed (tools/bootstrap.sh installs gnuplot-nox).
plot() {
    if ! command -v gnuplot >/dev/null 2>&1; then
        echo "$(basename "$0"): gnuplot not found: no $2" >&2
        return 0
    fi
    term=png
    gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1 && term=pngcairo
    { echo "set terminal $term size 800,560; set output '$2'; set datafile separator ','"
      echo "set grid; set key top left"
      cat "$1"; } | gnuplot
}
