#!/bin/sh
# Failures of `mpibatch cp`: usage errors (exit 2), permanent HTTP errors
# failing at once with the server's text (exit 3), unreachable servers,
# local files, and TLS verification with and without --insecure.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/io/lib.sh"

printf 'data\n' >"$WORK/f.txt"
"$MPIBATCH" help cp >"$WORK/help.txt" && ok || fail "mpibatch help cp"
for opt in url-retries url-retry-max-seconds url-timeout part-size insecure; do
    grep -q -- "--$opt" "$WORK/help.txt" && ok || fail "help lacks --$opt"
done
expect_exit 2 "needs SRC and DST" 1 cp
expect_exit 2 "needs SRC and DST" 1 cp "$WORK/f.txt"
expect_exit 2 "two operands" 1 cp a b c
expect_exit 2 "unknown option --bogus" 1 cp --bogus a b
expect_exit 2 "'url-retries' must be between" 1 cp --url-retries -1 a b
expect_exit 2 "unsupported URL scheme" 1 cp "ftp://host/x?sig=hideme" "$WORK/x"
grep -q hideme "$WORK/err.txt" && fail "secret in a usage error" || ok
expect_exit 2 "expected s3://BUCKET/KEY" 1 cp "$WORK/f.txt" s3://bucket-only

start_objserver http
url="http://127.0.0.1:$PORT"
expect_exit 3 "cannot read '$WORK/missing'" 1 cp "$WORK/missing" "$url/x"
expect_exit 3 "cannot GET $url/nothing: HTTP 404: NoSuchKey" 1 cp "$url/nothing" "$WORK/x"
is "requests for a 404" "$(requests GET)" 1
fault 403 1 PUT
expect_exit 3 "cannot PUT $url/x: HTTP 403: AccessDenied" 1 cp "$WORK/f.txt" "$url/x"
is "requests for a 403" "$(requests PUT)" 1
cp_ok 1 "$WORK/f.txt" "$url/f.txt"
expect_exit 3 "cannot create '$WORK/no/dir/x'" 1 cp "$url/f.txt" "$WORK/no/dir/x"

# Nothing listens: retried (connection refused is transient), then given up.
dead=$(free_port)
expect_exit 3 "gave up after 1 retries" 1 cp --url-retries 1 "http://127.0.0.1:$dead/x" "$WORK/x"

# TLS: a self-signed certificate is refused unless --insecure is given.
stop_servers
if openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
        -days 1 -subj /CN=127.0.0.1 >/dev/null 2>&1; then
    start_objserver tls --tls "$WORK/cert.pem" "$WORK/key.pem"
    expect_exit 3 "certificate" 1 cp --url-retries 0 "$WORK/f.txt" "https://127.0.0.1:$PORT/t.txt"
    cp_ok 1 --insecure "$WORK/f.txt" "https://127.0.0.1:$PORT/t.txt"
    cp_ok 1 --insecure "https://127.0.0.1:$PORT/t.txt" "$WORK/t.back"
    same "$WORK/f.txt" "$WORK/t.back"
else
    echo "openssl cannot make a certificate: TLS checks skipped"
fi
no_outputs "$WORK"
finish
