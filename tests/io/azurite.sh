#!/bin/sh
# Azure Blob against Microsoft's emulator Azurite (npm azurite@3.35.0, the
# last release for Node 20): shared-key and SAS requests, Put Blob, block
# upload (Put Block + Put Block List), ranged reads, wrong keys.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/io/lib.sh"

azurite=$(npm_tool azurite@3.35.0 azurite-blob) || exit $?
port=$(free_port)
mkdir -p "$WORK/azurite"
"$azurite" --blobHost 127.0.0.1 --blobPort "$port" --disableTelemetry --silent \
    --location "$WORK/azurite" --debug "$WORK/azurite.log" >"$WORK/azurite.out" 2>&1 &
SERVER_PIDS="$SERVER_PIDS $!"
wait_for_port "$port" 20 || { echo "azurite did not start: $(cat "$WORK/azurite.out")" >&2; exit 99; }

# The emulator's well-known development account (public, documented).
account=devstoreaccount1
key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
endpoint="http://127.0.0.1:$port/$account"
python3 "$top_srcdir/tests/io/azhelper.py" container "$endpoint" "$account" "$key" data
unset AZURE_STORAGE_SAS_TOKEN
AZURE_STORAGE_BLOB_ENDPOINT=$endpoint AZURE_STORAGE_KEY=$key
export AZURE_STORAGE_BLOB_ENDPOINT AZURE_STORAGE_KEY
random_file "$WORK/small.bin" 4000
random_file "$WORK/big.bin" 2500000
part="--part-size 1048576"

# Shared key: Put Blob, then blocks, and ranged reads back.
cp_ok 1 "$WORK/small.bin" az://$account/data/small.bin
cp_ok 1 az://$account/data/small.bin "$WORK/small.back"
same "$WORK/small.bin" "$WORK/small.back"
cp_ok 1 $part "$WORK/big.bin" "az://$account/data/dir/big file.bin"
blocks=$(grep -c 'comp=block&\|comp=block"\|comp=block$\|comp=block ' "$WORK/azurite.log" 2>/dev/null || true)
[ "${blocks:-0}" -ge 3 ] && ok || fail "no Put Block requests in Azurite's log ($blocks)"
cp_ok 1 $part "az://$account/data/dir/big file.bin" "$WORK/big.back"
same "$WORK/big.bin" "$WORK/big.back"

# A wrong key is refused at once with Azure's message, without the MAC.
AZURE_STORAGE_KEY=$(printf 'wrong-key-wrong-key-wrong-key!!!' | base64) \
    expect_exit 3 "HTTP 403: Authorization" 1 cp az://$account/data/small.bin "$WORK/x"
expect_exit 3 "HTTP 404" 1 cp az://$account/data/missing.bin "$WORK/x"

# SAS: in an https-style URL (Azure recognised by sv= and sig=) and from
# AZURE_STORAGE_SAS_TOKEN.
sas=$(python3 "$top_srcdir/tests/io/azhelper.py" sas "$account" "$key")
unset AZURE_STORAGE_KEY
cp_ok 1 "$WORK/small.bin" "$endpoint/data/sas.bin?$sas"
grep -q "sig=REDACTED" "$WORK/out.txt" && ok || fail "summary not redacted: $(cat "$WORK/out.txt")"
cp_ok 1 "$endpoint/data/sas.bin?$sas" "$WORK/sas.back"
same "$WORK/small.bin" "$WORK/sas.back"
AZURE_STORAGE_SAS_TOKEN="?$sas" cp_ok 1 $part "$WORK/big.bin" az://$account/data/sasbig.bin
AZURE_STORAGE_SAS_TOKEN="$sas" cp_ok 1 az://$account/data/sasbig.bin "$WORK/sasbig.back"
same "$WORK/big.bin" "$WORK/sasbig.back"
badsas=$(echo "$sas" | sed 's/sig=[^&]*/sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D/')
expect_exit 3 "HTTP 403" 1 cp "$endpoint/data/sas.bin?$badsas" "$WORK/x"
finish
