#!/bin/sh
# s3:// against a server that recomputes AWS Signature V4 for a known key
# (tests/io/objserver.py --sigv4): signed GET, PUT and multipart upload,
# session tokens, keys that need encoding, wrong keys failing at once, and
# a failed multipart upload being aborted.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/io/lib.sh"

start_objserver s3 --sigv4 AKIDMPIBATCHTEST:mpibatch/Secret+Key
AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_REGION=eu-central-1
AWS_ACCESS_KEY_ID=AKIDMPIBATCHTEST AWS_SECRET_ACCESS_KEY=mpibatch/Secret+Key
export AWS_ENDPOINT_URL AWS_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
unset AWS_SESSION_TOKEN AWS_ENDPOINT_URL_S3 AWS_DEFAULT_REGION
random_file "$WORK/small.bin" 5000
random_file "$WORK/big.bin" 2500000
part="--part-size 1048576"

cp_ok 1 "$WORK/small.bin" s3://bucket/small.bin
cp_ok 1 s3://bucket/small.bin "$WORK/small.back"
same "$WORK/small.bin" "$WORK/small.back"

# Multipart: initiate, 3 parts, complete; then a ranged, signed download.
ctl /_reset >/dev/null
cp_ok 1 $part "$WORK/big.bin" s3://bucket/dir/big.bin
is "multipart POSTs (initiate, complete)" "$(requests POST)" 2
is "multipart part PUTs" "$(requests PUT)" 3
cp_ok 1 $part s3://bucket/dir/big.bin "$WORK/big.back"
same "$WORK/big.bin" "$WORK/big.back"

# Keys with characters that must be percent-encoded, and a session token.
AWS_SESSION_TOKEN=session/token+value
export AWS_SESSION_TOKEN
cp_ok 1 "$WORK/small.bin" "s3://bucket/a dir/x+y=z&w.bin"
cp_ok 1 "s3://bucket/a dir/x+y=z&w.bin" "$WORK/odd.back"
same "$WORK/small.bin" "$WORK/odd.back"
unset AWS_SESSION_TOKEN

# A wrong secret or key id fails at once (no retries), naming the URL.
ctl /_reset >/dev/null
AWS_SECRET_ACCESS_KEY=wrong-secret expect_exit 3 "SignatureDoesNotMatch" 1 cp "$WORK/small.bin" s3://bucket/w.bin
grep -q "cannot PUT s3://bucket/w.bin: HTTP 403" "$WORK/err.txt" && ok || fail "message: $(cat "$WORK/err.txt")"
is "requests with a wrong secret" "$(requests PUT)" 1
AWS_ACCESS_KEY_ID=AKIDOTHER expect_exit 3 "InvalidAccessKeyId" 1 cp s3://bucket/small.bin "$WORK/x"
expect_exit 3 "NoSuchKey" 1 cp s3://bucket/missing.bin "$WORK/x"
(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
 expect_exit 3 "HTTP 403" 1 cp s3://bucket/small.bin "$WORK/x"; exit $failures) || fail "unsigned request was accepted"

# A part that fails for good aborts the upload (DELETE ?uploadId=...).
ctl /_reset >/dev/null
fault 503 1 PUT
fault 403 1 PUT
expect_exit 3 "AccessDenied" 1 cp $part "$WORK/big.bin" s3://bucket/aborted.bin
is "abort requests" "$(requests DELETE)" 1
ctl /_stats | grep -q 'DELETE /bucket/aborted.bin?uploadId=' && ok || fail "abort not sent"
expect_exit 3 "NoSuchKey" 1 cp s3://bucket/aborted.bin "$WORK/x"
finish
