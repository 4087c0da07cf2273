#!/bin/sh
# Under mpirun -n 2 only rank 0 transfers: the server sees one download and
# one upload whatever the rank count, and a failure is reported once with
# the same exit status on every rank.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/io/lib.sh"

start_objserver http
url="http://127.0.0.1:$PORT"
random_file "$WORK/data.bin" 100000
for n in 2 3; do
    ctl /_reset >/dev/null
    cp_ok "$n" "$WORK/data.bin" "$url/data.bin"
    cp_ok "$n" "$url/data.bin" "$WORK/data.back"
    same "$WORK/data.bin" "$WORK/data.back"
    is "uploads on $n ranks" "$(requests PUT)" 1
    is "downloads on $n ranks" "$(requests GET)" 1
    is "summaries on $n ranks" "$(grep -c 'copied 100000 bytes' "$WORK/out.txt")" 1
done
expect_exit 3 "HTTP 404" 2 cp "$url/missing" "$WORK/x"
is "messages on 2 ranks" "$(grep -c '^mpibatch: ' "$WORK/err.txt")" 1
finish
