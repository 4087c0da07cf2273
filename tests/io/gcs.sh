#!/bin/sh
# gs:// through the XML API: a bearer token (GOOGLE_OAUTH_ACCESS_TOKEN) and
# HMAC keys (SigV4, region "auto"), against tests/io/objserver.py.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/io/lib.sh"

unset GS_ACCESS_KEY_ID GS_SECRET_ACCESS_KEY
random_file "$WORK/data.bin" 3000
start_objserver bearer --bearer ya29.test-bearer-token
GCS_ENDPOINT_URL="http://127.0.0.1:$PORT" GOOGLE_OAUTH_ACCESS_TOKEN=ya29.test-bearer-token
export GCS_ENDPOINT_URL GOOGLE_OAUTH_ACCESS_TOKEN
cp_ok 1 "$WORK/data.bin" gs://bucket/reports/data.bin
cp_ok 1 gs://bucket/reports/data.bin "$WORK/data.back"
same "$WORK/data.bin" "$WORK/data.back"
GOOGLE_OAUTH_ACCESS_TOKEN=ya29.expired expect_exit 3 "HTTP 401" 1 cp gs://bucket/reports/data.bin "$WORK/x"

stop_servers
unset GOOGLE_OAUTH_ACCESS_TOKEN
start_objserver hmac --sigv4 GOOG1EKEYID:gcs-hmac-secret
GCS_ENDPOINT_URL="http://127.0.0.1:$PORT" GS_ACCESS_KEY_ID=GOOG1EKEYID GS_SECRET_ACCESS_KEY=gcs-hmac-secret
export GCS_ENDPOINT_URL GS_ACCESS_KEY_ID GS_SECRET_ACCESS_KEY
cp_ok 1 --part-size 1024 "$WORK/data.bin" gs://bucket/multi.bin
is "XML API multipart parts" "$(requests PUT)" 3
cp_ok 1 gs://bucket/multi.bin "$WORK/multi.back"
same "$WORK/data.bin" "$WORK/multi.back"
GS_SECRET_ACCESS_KEY=wrong expect_exit 3 "SignatureDoesNotMatch" 1 cp gs://bucket/multi.bin "$WORK/x"
finish
