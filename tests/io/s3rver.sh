#!/bin/sh
# s3:// against s3rver (npm s3rver@3.7.1), an S3-compatible server: put,
# get, multipart upload, ranged reads, missing keys.  s3rver does not check
# signatures (tests/io/s3sig.sh proves the signing).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/io/lib.sh"

s3rver=$(npm_tool s3rver@3.7.1 s3rver) || exit $?
port=$(free_port)
mkdir -p "$WORK/s3"
"$s3rver" -d "$WORK/s3" -a 127.0.0.1 -p "$port" --silent --configure-bucket bucket \
    >"$WORK/s3rver.out" 2>&1 &
SERVER_PIDS="$SERVER_PIDS $!"
wait_for_port "$port" 20 || { echo "s3rver did not start: $(cat "$WORK/s3rver.out")" >&2; exit 99; }

AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
unset AWS_SESSION_TOKEN AWS_ENDPOINT_URL_S3
random_file "$WORK/small.bin" 4000
random_file "$WORK/big.bin" 12000000

cp_ok 1 "$WORK/small.bin" s3://bucket/small.bin
cp_ok 1 s3://bucket/small.bin "$WORK/small.back"
same "$WORK/small.bin" "$WORK/small.back"
# S3's smallest part is 5 MiB: 12 MB go up in three parts.
cp_ok 1 --part-size 5242880 "$WORK/big.bin" s3://bucket/dir/big.bin
[ -n "$(find "$WORK/s3" -name '*big.bin*' | head -1)" ] && ok || fail "s3rver did not store big.bin"
cp_ok 1 --part-size 5242880 s3://bucket/dir/big.bin "$WORK/big.back"
same "$WORK/big.bin" "$WORK/big.back"
cp_ok 1 s3://bucket/dir/big.bin s3://bucket/copy.bin
cp_ok 1 s3://bucket/copy.bin "$WORK/copy.back"
same "$WORK/big.bin" "$WORK/copy.back"
expect_exit 3 "NoSuchKey" 1 cp s3://bucket/missing.bin "$WORK/x"
expect_exit 3 "NoSuchBucket" 1 cp "$WORK/small.bin" s3://nobucket/x.bin
finish
