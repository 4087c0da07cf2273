#!/bin/sh
# --help, the man page and the user guide name the same options and kernels.
. "$top_srcdir/tests/integration/lib.sh"

man="$top_srcdir/docs/mpibatch.1"
guide="$top_srcdir/docs/user-guide.md"
for k in $("$MPIBATCH" --help | sed -n '/^Kernels:/,/^$/p' | awk 'NF > 1 {print $1}'); do
    grep -q "^\.SS $k\$" "$man" && ok || fail "man page lacks kernel $k"
    grep -q "^### $k\$" "$guide" && ok || fail "user guide lacks kernel $k"
    for opt in $("$MPIBATCH" help "$k" | grep -o '^  --[a-z0-9-]*' | sed 's/^  --//'); do
        grep -q "^\.B \\\\-\\\\-$opt\$" "$man" && ok || fail "man page lacks --$opt ($k)"
        grep -q -- "--$opt\`" "$guide" && ok || fail "user guide lacks --$opt ($k)"
    done
done
# Commands with options (those `mpibatch help NAME` answers): each option
# is documented in the command's own section of the man page and the guide.
# The global help's own options (plug-in kernels) count as documented too.
"$MPIBATCH" --help >"$WORK/help-all.txt"
for c in $("$MPIBATCH" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 {print $1}'); do
    "$MPIBATCH" help "$c" >"$WORK/help.txt" 2>/dev/null || continue
    # The storage options are documented once, in their own section (below).
    opts=$(sed '/^Storage options/,$d' "$WORK/help.txt" | grep -o '^  --[a-z0-9-]*' | sed 's/^  --//')
    [ -n "$opts" ] || continue
    cat "$WORK/help.txt" >>"$WORK/help-all.txt"
    grep -q "^\.SS $c\$" "$man" && ok || fail "man page lacks command $c"
    grep -q "^### $c\$" "$guide" && ok || fail "user guide lacks command $c"
    awk -v h=".SS $c" '$0 == h {on = 1; next} on && /^\.S[SH] / {exit} on' "$man" >"$WORK/man-section.txt"
    awk -v h="### $c" '$0 == h {on = 1; next} on && /^##?#? / {exit} on' "$guide" >"$WORK/guide-section.txt"
    for opt in $opts; do
        grep -q "^\.B \\\\-\\\\-$opt\$" "$WORK/man-section.txt" && ok ||
            fail "man page section $c lacks --$opt"
        grep -q -- "--$opt\`" "$WORK/guide-section.txt" && ok || fail "user guide section $c lacks --$opt"
    done
done
# The storage options: in the man page's and the guide's own section.
awk '$0 == ".SH STORAGE OPTIONS" {on = 1; next} on && /^\.SH / {exit} on' "$man" >"$WORK/man-storage.txt"
awk '$0 == "## Storage options" {on = 1; next} on && /^## / {exit} on' "$guide" >"$WORK/guide-storage.txt"
for opt in $("$MPIBATCH" help euler | sed -n '/^Storage options/,$p' | grep -o '^  --[a-z0-9-]*' | sed 's/^  --//'); do
    grep -q "^\.B \\\\-\\\\-$opt\$" "$WORK/man-storage.txt" && ok || fail "man page storage section lacks --$opt"
    grep -q -- "--$opt\`" "$WORK/guide-storage.txt" && ok || fail "user guide storage section lacks --$opt"
done
# And the other way: every option entry (.TP then .B --name) exists in the
# help of some kernel or command.
for k in $("$MPIBATCH" --help | sed -n '/^Kernels:/,/^$/p' | awk 'NF > 1 {print $1}'); do
    "$MPIBATCH" help "$k" >>"$WORK/help-all.txt"
done
for opt in $(awk 'prev == ".TP" && /^\.B \\-\\-[a-z0-9-]+$/ {sub(/^\.B \\-\\-/, ""); print} {prev = $0}' "$man" | sort -u); do
    grep -q "^  --$opt\b" "$WORK/help-all.txt" && ok || fail "man page documents unknown option --$opt"
done
finish
