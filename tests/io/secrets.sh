#!/bin/sh
# No secret ever reaches an output stream or a file: runs that succeed,
# fail for good, and give up after retries, with every kind of credential
# (SigV4 secret and session token, bearer token, SAS signature, Azure key),
# are captured whole and searched for each secret value.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/io/lib.sh"

aws_secret=mbSecretAwsKey0123456789abcdefghijklmnopq
aws_token=mbSessionToken-0123456789-zyxwvutsrq
bearer=ya29.mbBearerToken-0123456789
sas_sig=mbSasSignature0123456789abcdefghijklmnopqrs%3D
az_key=$(printf 'mb-azure-account-key-0123456789ab' | base64)
secrets="$aws_secret $aws_token $bearer $sas_sig $az_key mbSasSignature"
mkdir -p "$WORK/out"
log="$WORK/all.log"
: >"$log"
random_file "$WORK/data.bin" 3000

# run ARGS...: mpibatch cp on 2 ranks, everything it prints kept in $log.
run() {
    mb 2 cp --url-retries 1 --url-retry-max-seconds 0.5 "$@" >>"$log" 2>&1
    echo "exit $?" >>"$log"
}

start_objserver s3 --sigv4 AKIDSECRETS:$aws_secret
s3port=$PORT
start_objserver plain
plain=$PORT
export AWS_ENDPOINT_URL="http://127.0.0.1:$s3port" AWS_ACCESS_KEY_ID=AKIDSECRETS
export AWS_SECRET_ACCESS_KEY=$aws_secret AWS_SESSION_TOKEN=$aws_token
run "$WORK/data.bin" s3://b/data.bin
run s3://b/data.bin "$WORK/out/data.s3"
run s3://b/missing "$WORK/out/x"
AWS_SECRET_ACCESS_KEY=${aws_secret}wrong run s3://b/data.bin "$WORK/out/y"
run --part-size 1024 "$WORK/data.bin" s3://b/multi.bin
PORT=$s3port fault 503 5
run s3://b/data.bin "$WORK/out/z"

export GCS_ENDPOINT_URL="http://127.0.0.1:$plain" GOOGLE_OAUTH_ACCESS_TOKEN=$bearer
run "$WORK/data.bin" gs://b/data.bin
run gs://b/missing "$WORK/out/g"

export AZURE_STORAGE_BLOB_ENDPOINT="http://127.0.0.1:$plain/acct" AZURE_STORAGE_KEY=$az_key
run --part-size 1024 "$WORK/data.bin" az://acct/c/data.bin
run az://acct/c/missing "$WORK/out/a"
sas="sv=2021-08-06&sp=rw&se=2099-01-01&sig=$sas_sig"
run "$WORK/data.bin" "http://127.0.0.1:$plain/acct/c/sas.bin?$sas"
run "http://127.0.0.1:$plain/acct/c/sas.bin?$sas" "$WORK/out/sas.bin"
run "http://127.0.0.1:$plain/acct/c/none.bin?$sas" "$WORK/out/n"
run "http://user:$aws_secret@127.0.0.1:$plain/acct/c/none.bin" "$WORK/out/u"
AZURE_STORAGE_SAS_TOKEN=$sas run az://acct/c/gone "$WORK/out/s"
PORT=$plain fault 503 5
run "http://127.0.0.1:$plain/acct/c/sas.bin?$sas" "$WORK/out/r"

grep -q "copied 3000 bytes" "$log" && ok || fail "no run succeeded: $(head -c 500 "$log")"
grep -q "sig=REDACTED" "$log" && ok || fail "no redacted SAS in the output"
for s in $secrets; do
    if grep -r -l -F -- "$s" "$log" "$WORK/out" >/dev/null 2>&1; then
        fail "secret $s appears in: $(grep -r -l -F -- "$s" "$log" "$WORK/out" | head -3)"
    else
        ok
    fi
done
finish
