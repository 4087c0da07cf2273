#!/bin/sh
# Replays every seed and every saved crash input through the fuzz targets,
# built with the ordinary compiler (no libFuzzer): a crash fixed once stays
# fixed.  Under the sanitizer build this is the same check libFuzzer makes.
set -u
dir="$top_srcdir/tests/fuzz"
bin=$(dirname "$MPIBATCH")/tests/fuzz
status=0
for name in job cli jsonl tokenize url response lines model docstore exec_lines; do
    set -- "$dir/corpus/$name"
    [ -d "$dir/regress/$name" ] && set -- "$@" "$dir/regress/$name"
    if ! "$bin/replay_$name" "$@"; then
        echo "FAIL: replay_$name" >&2
        status=1
    fi
done
exit "$status"
