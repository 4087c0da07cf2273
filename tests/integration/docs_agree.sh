#!/bin/sh
# --help, the man page and the user guide name the same options and kernels.
. "$top_srcdir/tests/integration/lib.sh"

man="$top_srcdir/docs/mpibatch.1"
guide="$top_srcdir/docs/user-guide.md"
for k in $("$MPIBATCH" --help | sed -n '/^Kernels:/,/^$/p' | awk 'NF > 1 {print $1}'); do
    grep -q "^\.SS $k\$" "$man" && ok || fail "man page lacks kernel $k"
    grep -q "^### $k\$" "$guide" && ok || fail "user guide lacks kernel $k"
    for opt in $("$MPIBATCH" help "$k" | grep -o '^  --[a-z-]*' | sed 's/^  --//'); do
        grep -q "^\.B \\\\-\\\\-$opt\$" "$man" && ok || fail "man page lacks --$opt ($k)"
        grep -q -- "--$opt\`" "$guide" && ok || fail "user guide lacks --$opt ($k)"
    done
done
# And the other way: every option entry (.TP then .B --name) exists.
for opt in $(awk 'prev == ".TP" && /^\.B \\-\\-[a-z-]+$/ {sub(/^\.B \\-\\-/, ""); print} {prev = $0}' "$man" | sort -u); do
    found=no
    for k in $("$MPIBATCH" --help | sed -n '/^Kernels:/,/^$/p' | awk 'NF > 1 {print $1}'); do
        "$MPIBATCH" help "$k" | grep -q "^  --$opt\b" && found=yes
    done
    [ $found = yes ] && ok || fail "man page documents unknown option --$opt"
done
finish
