#!/bin/sh
# Plain HTTP: put and get, range reads, retry with back-off on 503, 429,
# dropped connections and stalls, resume of a cut download, and the bounds
# of --url-retries and --url-retry-max-seconds.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/io/lib.sh"

start_objserver http
url="http://127.0.0.1:$PORT/data"
random_file "$WORK/small.bin" 1000
random_file "$WORK/big.bin" 3000000
part="--part-size 1048576"

# Put and get back, small and large (plain HTTP always puts in one request).
cp_ok 1 "$WORK/small.bin" "$url/small.bin"
cp_ok 1 "$url/small.bin" "$WORK/small.back"
same "$WORK/small.bin" "$WORK/small.back"
grep -q "copied 1000 bytes from $url/small.bin to " "$WORK/out.txt" && ok || fail "summary: $(cat "$WORK/out.txt")"
cp_ok 1 $part "$WORK/big.bin" "$url/big.bin"
is "one PUT per file" "$(requests PUT)" 2

# A large download is read range by range (3 ranges of 1 MiB).
ctl /_reset >/dev/null
cp_ok 1 "$WORK/big.bin" "$url/big.bin"
cp_ok 1 "$WORK/small.bin" "$url/small.bin"
cp_ok 1 $part "$url/big.bin" "$WORK/big.back"
same "$WORK/big.bin" "$WORK/big.back"
is "ranges" "$(ranges | tr '\n' ' ')" "bytes=0-1048575 bytes=1048576-2097151 bytes=2097152-3145727 "

# Transient failures are retried: 503, 429, dropped connections, a stall.
for mode in 503 429 drop; do
    fault "$mode" 2 GET
    rm -f "$WORK/small.back"
    cp_ok 1 --url-retry-max-seconds 5 "$url/small.bin" "$WORK/small.back"
    same "$WORK/small.bin" "$WORK/small.back"
done
fault slow 1 GET 5
start=$(date +%s)
cp_ok 1 --url-timeout 1 "$url/small.bin" "$WORK/small.back"
[ $(($(date +%s) - start)) -lt 5 ] && ok || fail "a stalled attempt was not abandoned after --url-timeout"

# A download cut in the middle resumes from the byte it reached.
ctl /_reset >/dev/null
cp_ok 1 "$WORK/big.bin" "$url/big.bin"
fault cut 2 GET
cp_ok 1 "$url/big.bin" "$WORK/big.back"
same "$WORK/big.bin" "$WORK/big.back"
resumed=$(ranges | grep -c -v '^bytes=0-')
[ "$resumed" -ge 2 ] && ok || fail "no resumed range requests: $(ranges | tr '\n' ' ')"

# --url-retries bounds the attempts; the message says so.
ctl /_reset >/dev/null
cp_ok 1 "$WORK/small.bin" "$url/small.bin"
fault 503 10 GET
expect_exit 3 "gave up after 2 retries" 1 cp --url-retries 2 "$url/small.bin" "$WORK/x"
grep -q "HTTP 503: SlowDown" "$WORK/err.txt" && ok || fail "no server text: $(cat "$WORK/err.txt")"
is "attempts with --url-retries 2" "$(requests GET)" 3
# --url-retry-max-seconds bounds the waiting however many retries are allowed.
ctl /_reset >/dev/null
fault 503 1000
start=$(date +%s)
expect_exit 3 "HTTP 503" 1 cp --url-retries 100 --url-retry-max-seconds 1 "$url/small.bin" "$WORK/x"
[ $(($(date +%s) - start)) -lt 6 ] && ok || fail "--url-retry-max-seconds 1 did not bound the wait"

# A server that ignores Range still gives the right bytes (one whole GET).
stop_servers
start_objserver norange --ignore-range
url="http://127.0.0.1:$PORT/data"
cp_ok 1 "$WORK/big.bin" "$url/big.bin"
rm -f "$WORK/big.back"
cp_ok 1 $part --url-retries 0 "$url/big.bin" "$WORK/big.back"
same "$WORK/big.bin" "$WORK/big.back"
is "GETs without Range support" "$(requests GET)" 2
[ ! -e "$WORK/x" ] && ok || fail "a failed download left its file"
finish
