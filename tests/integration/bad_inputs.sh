#!/bin/sh
# The bad-input suite (issue 8): inputs users did not write themselves.
# Each case asserts the exit status, a message naming the file, line or
# field, and what is left behind: nothing after a fatal error; after bad
# records (per-task failures, docs/user-guide.md "classify"), the output
# with the failures listed by line.  Job-spec flags are covered by
# bad_input.sh; here the same mistakes come in job files.
. "$top_srcdir/tests/integration/lib.sh"

OUT="$WORK/o"
mkdir "$OUT"
o="--out $OUT/r.h5 --report $OUT/r.json"
D="$WORK/d"
mkdir "$D"

# reasons: the report's failure reasons, one per line.
reasons() {
    python3 -c 'import json,sys
for f in json.load(open(sys.argv[1]))["failures"]: print(f["task"], f["reason"])' "$OUT/r.json"
}

# bad_records FILE COUNT PATTERN: classify FILE on 2 ranks: exit 1, COUNT
# failures, a reason matching PATTERN, the rest classified and written.
bad_records() {
    expect_exit 1 "tasks failed" 2 classify --input "$1" --model "$MODEL" $o
    n=$(json_get "$OUT/r.json" result.bad_records 2>/dev/null)
    if [ "$n" != "$2" ]; then
        fail "$1: $n bad records, expected $2"
    elif ! reasons | grep -q -- "$3"; then
        fail "$1: no failure reason matches '$3': $(reasons | head -3)"
    elif ! "$H5DUMP" -H "$OUT/r.h5" >/dev/null 2>&1; then
        fail "$1: the output of a run with bad records is not readable"
    else
        ok
    fi
    rm -f "$OUT"/r.*
}

# succeeds N ARGS...: the run exits 0.
succeeds() {
    mb "$@" >"$WORK/out.txt" 2>"$WORK/err.txt"
    got=$?
    [ "$got" -eq 0 ] && ok || fail "mpibatch $*: exit $got: $(head -c 400 "$WORK/err.txt")"
}

# fatal CODE PATTERN ARGS...: expect_exit on 2 ranks, then nothing is left.
fatal() {
    code=$1 pattern=$2
    shift 2
    expect_exit "$code" "$pattern" 2 "$@"
    no_outputs "$OUT"
}

# A small model and document store of our own.
"$MPIBATCH" corpus --out "$D/c.jsonl" --docs 120 >/dev/null &&
    mb 1 train --input "$D/c.jsonl" --out "$D/model.h5" --hash-bits 12 --quiet &&
    mb 1 import --input "$D/c.jsonl" --out "$D/docs.h5" --quiet ||
    { echo "cannot make the model and store" >&2; exit 1; }
MODEL="$D/model.h5"
head -n 3 "$D/c.jsonl" >"$D/good3.jsonl"

# ---- JSON-lines input: bad records fail their own task -----------------
: >"$D/empty.jsonl"
succeeds 2 classify --input "$D/empty.jsonl" --model "$MODEL" $o
[ "$(json_get "$OUT/r.json" tasks)" = 0 ] && ok || fail "empty input: tasks != 0"
rm -f "$OUT"/r.*
printf '  \n\t\n' >"$D/blank.jsonl"
bad_records "$D/blank.jsonl" 2 "^1 line 2: malformed JSON"
{ cat "$D/good3.jsonl"; head -n 1 "$D/c.jsonl" | head -c 80; } >"$D/truncated.jsonl"
bad_records "$D/truncated.jsonl" 1 "^3 line 4: malformed JSON"
{ head -n 1 "$D/good3.jsonl"; echo 'id,title,abstract'; } >"$D/csv.jsonl"
bad_records "$D/csv.jsonl" 1 "line 2: malformed JSON"
printf '{"id": "a", "abstract": 42}\n' >"$D/type.jsonl"
bad_records "$D/type.jsonl" 1 'line 1: "abstract" is not a string'
printf '{"title": "t", "abstract": "a"}\n' >"$D/noid.jsonl"
bad_records "$D/noid.jsonl" 1 'line 1: missing "id"'
printf '{"id": "a", "abstract": "Schr\366dinger"}\n' >"$D/latin1.jsonl"
bad_records "$D/latin1.jsonl" 1 "line 1: invalid UTF-8 at byte offset 29"
{ cat "$D/good3.jsonl"; printf '{"id": "a", "abstract": "x\000y"}\n'; } >"$D/nul.jsonl"
bad_records "$D/nul.jsonl" 1 "line 4: NUL byte at offset 26"
# (A primary category outside the topics alone is a good record: input.sh.)
printf '{"id": "a", "abstract": "x", "categories": "stat.ML", "label": "math"}\n' >"$D/topic.jsonl"
bad_records "$D/topic.jsonl" 1 'primary category "stat.ML" is outside the five topics'
# Deeply nested: cJSON's nesting limit refuses it, no stack overflow.
python3 -c 'print("[" * 100000 + "]" * 100000)' >"$D/deep.jsonl"
bad_records "$D/deep.jsonl" 1 "line 1: malformed JSON"
# 50 MB on one line: cut at the 1 MiB limit, the rest skipped unread.
{ head -n 1 "$D/good3.jsonl"
  python3 -c 'import sys; sys.stdout.write("{\"id\": \"big\", \"abstract\": \"" + "a" * 50000000 + "\"}\n")'
  tail -n 1 "$D/good3.jsonl"; } >"$D/big.jsonl"
bad_records "$D/big.jsonl" 1 "^1 line 2: record is 1048577 bytes, over the 1048576-byte limit"
# Binary garbage (the same bytes every run): every "line" fails, nothing
# crashes or hangs (a bound of 120 s: it takes well under one).
python3 -c 'import random, sys; r = random.Random(8)
sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(65536)))' >"$D/garbage.jsonl"
timeout 120 "$MPIEXEC" --oversubscribe -n 2 ${MB_WRAPPER:-} "$MPIBATCH" classify \
    --input "$D/garbage.jsonl" --model "$MODEL" $o >"$WORK/out.txt" 2>"$WORK/err.txt"
got=$?
[ "$got" -eq 1 ] && grep -q "tasks failed" "$WORK/err.txt" && ok ||
    fail "binary garbage: exit $got (124: hung), expected 1: $(head -c 300 "$WORK/err.txt")"
rm -f "$OUT"/r.* "$OUT"/.r.*
# --strict: the first bad record stops the job, nothing is written.
fatal 3 "line 4: malformed JSON" classify --input "$D/truncated.jsonl" --model "$MODEL" --strict $o

# ---- accepted variations of well-formed input ---------------------------
sed 's/$/\r/' "$D/good3.jsonl" >"$D/crlf.jsonl"
succeeds 2 classify --input "$D/crlf.jsonl" --model "$MODEL" $o
[ "$(json_get "$OUT/r.json" tasks_failed)" = 0 ] && ok || fail "CRLF lines failed"
rm -f "$OUT"/r.*
{ printf '\357\273\277'; cat "$D/good3.jsonl"; } >"$D/bom.jsonl"
succeeds 2 classify --input "$D/bom.jsonl" --model "$MODEL" $o
[ "$(json_get "$OUT/r.json" tasks_failed)" = 0 ] && ok || fail "a byte-order mark failed line 1"
rm -f "$OUT"/r.*

# ---- HDF5 files: models and document stores -----------------------------
: >"$D/empty.h5"
fatal 3 "$D/empty.h5" classify --input "$D/good3.jsonl" --model "$D/empty.h5" $o
head -c 4000 "$MODEL" >"$D/truncated.h5"
fatal 3 "$D/truncated.h5" classify --input "$D/good3.jsonl" --model "$D/truncated.h5" $o
cp "$D/good3.jsonl" "$D/text.h5"
fatal 3 "$D/text.h5" classify --input "$D/good3.jsonl" --model "$D/text.h5" $o
fatal 3 "$D/docs.h5" classify --input "$D/good3.jsonl" --model "$D/docs.h5" $o
head -c 8000 "$D/docs.h5" >"$D/docs-cut.h5"
fatal 3 "$D/docs-cut.h5" classify --input "$D/docs-cut.h5" --model "$MODEL" $o
fatal 3 "'$MODEL' is an HDF5 file but not an mpibatch document store" \
    classify --input "$MODEL" --format store --model "$MODEL" $o
python3 -c 'import random, sys; r = random.Random(9)
sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(65536)))' >"$D/garbage.h5"
fatal 3 "$D/garbage.h5" classify --input "$D/good3.jsonl" --model "$D/garbage.h5" $o
# A 49-byte superblock whose B-tree K made HDF5 itself take 4 GB (found by
# the docstore fuzzer): refused before HDF5 reads it, as model and as store.
K="$top_srcdir/tests/fuzz/regress/docstore/superblock-huge-k"
fatal 3 "'$K': its superblock asks for B-tree nodes" \
    classify --input "$D/good3.jsonl" --model "$K" $o
fatal 3 "cannot open document store '$K': its superblock" \
    classify --input "$K" --format store --model "$MODEL" $o

# A newer format version: patch the stored version (8 bytes right after the
# attribute's name, type and shape) to 99; h5dump confirms it.
newer() {
    version=$("$H5DUMP" -a /format_version "$1" | sed -n 's/.*(0): //p')
    python3 - "$1" "$2" "$version" <<'PY'
import struct, sys
src, dst, version = sys.argv[1], sys.argv[2], int(sys.argv[3] or 0)
data = bytearray(open(src, "rb").read())
at = data.find(b"format_version\0")
one = data.rfind(struct.pack("<Q", version), at, at + 64) if at >= 0 and version else -1
if one < 0:
    sys.exit(1)
data[one:one + 8] = struct.pack("<Q", 99)
open(dst, "wb").write(data)
PY
    "$H5DUMP" -a /format_version "$2" 2>/dev/null | grep -q '(0): 99'
}
if newer "$MODEL" "$D/newer-model.h5"; then
    fatal 3 "model file .$D/newer-model.h5.: format version 99" \
        classify --input "$D/good3.jsonl" --model "$D/newer-model.h5" $o
else
    fail "could not make a model with format_version 99"
fi
if newer "$D/docs.h5" "$D/newer-docs.h5"; then
    fatal 3 "'$D/newer-docs.h5': document store format version 99" \
        classify --input "$D/newer-docs.h5" --model "$MODEL" $o
else
    fail "could not make a store with format_version 99"
fi

# ---- job files ----------------------------------------------------------
spec() {
    printf '%s' "$2" >"$D/$1.json"
    shift 2
    fatal 2 "$@"
}
spec neg '{"kernel": "euler", "terms": -5}' "'terms' must be between" run "$D/neg.json" $o
spec frac '{"kernel": "sleep", "tasks": 2.5}' "'tasks' must be a whole number" run "$D/frac.json" $o
spec blocks '{"kernel": "euler", "terms": 10, "blocks": 11}' \
    "'blocks' (11) must not exceed 'terms' (10)" run "$D/blocks.json" $o
spec chunk '{"kernel": "euler", "chunk": -3}' "'chunk' must be between" run "$D/chunk.json" $o
spec bool '{"kernel": "sleep", "quiet": "yes"}' "'quiet'" run "$D/bool.json" $o
spec nokernel '{"terms": 10}' "kernel" run "$D/nokernel.json" $o
spec array '[{"kernel": "euler"}]' "$D/array.json" run "$D/array.json" $o
spec absurd '{"kernel": "sleep", "tasks": 1e300}' "'tasks'" run "$D/absurd.json" $o
spec nested '{"kernel": "euler", "terms": {"a": {"b": [[[[1]]]]}}}' "'terms'" run "$D/nested.json" $o
spec unknown '{"kernel": "classify", "modle": "m.h5"}' "unknown key 'modle'" run "$D/unknown.json" $o

# ---- outputs ------------------------------------------------------------
fatal 3 "cannot create output '$WORK/none/r.h5'" classify --input "$D/good3.jsonl" \
    --model "$MODEL" --out "$WORK/none/r.h5"
: >"$D/afile"
fatal 3 "'$D/afile/r.h5'" euler --terms 100 --out "$D/afile/r.h5"
# Root ignores permissions, so "unwritable" is a read-only file system.
fatal 3 "cannot create output '/proc/r.h5'" euler --terms 100 --out /proc/r.h5
# A full disk during the final write: a file-size limit (in the ranks only,
# Open MPI's launcher needs its own files) below the output's size.  The
# write fails with EFBIG: exit 3, no crash on SIGXFSZ, no output left.
"$MPIEXEC" --oversubscribe -n 2 sh -c "ulimit -f 20000; exec $MPIBATCH sleep --tasks 1000000 \
    --seconds 0 --quiet $o" >"$WORK/out.txt" 2>"$WORK/err.txt"
got=$?
if [ "$got" -ne 3 ]; then
    fail "file-size limit: exit $got, expected 3: $(grep -v '^--' "$WORK/err.txt" | head -c 300)"
elif ! grep -q "$OUT/r.h5" "$WORK/err.txt"; then
    fail "file-size limit: the message does not name the output: $(head -c 300 "$WORK/err.txt")"
else
    ok
fi
no_outputs "$OUT"

# ---- input that changes while the job runs ------------------------------
# Cut to half while rank 0 streams it: a truncated last line, or fewer
# lines; never a crash, and whatever finishes is a complete output.
"$MPIBATCH" corpus --out "$D/long.jsonl" --docs 20000 >/dev/null
size=$(wc -c <"$D/long.jsonl")
mb 2 classify --input "$D/long.jsonl" --model "$MODEL" $o >"$WORK/out.txt" 2>"$WORK/err.txt" &
pid=$!
sleep 1
truncate -s $((size / 2)) "$D/long.jsonl"
wait "$pid"
got=$?
case $got in
0 | 1) "$H5DUMP" -H "$OUT/r.h5" >/dev/null 2>&1 && ok || fail "input cut mid-run: bad output" ;;
3) no_outputs "$OUT" ;;
*) fail "input cut mid-run: exit $got: $(head -c 300 "$WORK/err.txt")" ;;
esac
rm -f "$OUT"/r.*
# Removed while read: the open file stays readable on POSIX systems.  It
# is removed once a process has it open (not after a fixed sleep, which a
# loaded machine outruns), or after 60 s if the job ended first; the format
# is given, so the only open is the one that streams it.
"$MPIBATCH" corpus --out "$D/long.jsonl" --docs 20000 >/dev/null
mb 2 classify --input "$D/long.jsonl" --format jsonl --model "$MODEL" $o >"$WORK/out.txt" \
    2>"$WORK/err.txt" &
pid=$!
i=0
while [ "$i" -lt 600 ] && kill -0 "$pid" 2>/dev/null &&
    ! ls -l /proc/[0-9]*/fd 2>/dev/null | grep -q -- "-> $D/long.jsonl\$"; do
    sleep 0.1
    i=$((i + 1))
done
rm -f "$D/long.jsonl"
wait "$pid"
got=$?
[ "$got" -eq 0 ] && [ "$(json_get "$OUT/r.json" tasks)" = 20000 ] && ok ||
    fail "input removed mid-run: exit $got, $(head -c 300 "$WORK/err.txt")"
finish
