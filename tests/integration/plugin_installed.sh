#!/bin/sh
# The plug-in ABI as a user gets it: `make install` puts exactly the ABI
# headers under include/mpibatch/, and the example kernel builds from them
# alone with examples/Makefile (no source tree on the include path), then
# runs under mpibatch.
. "$top_srcdir/tests/integration/lib.sh"

: "${top_builddir:?run through make check}"
abi="batch.h clock.h error.h job.h kernel.h options.h source.h"
inst="$WORK/inst"
${MAKE:-make} -s -C "$top_builddir" install-pkgincludeHEADERS DESTDIR="$inst" \
    >"$WORK/install.log" 2>&1 || fail "installing the headers: $(tail -3 "$WORK/install.log")"
dir=$(find "$inst" -type d -name mpibatch | head -n 1)
[ -n "$dir" ] && ok || fail "no include/mpibatch directory installed"
got=$(ls "$dir" | tr '\n' ' ' | sed 's/ $//')
[ "$got" = "$abi" ] && ok || fail "installed headers: '$got', expected '$abi'"

# Each header compiles on its own (it includes what it needs, and nothing
# that is not installed).
for h in $abi; do
    printf '#include <mpibatch/%s>\n' "$h" >"$WORK/one.c"
    mpicc -std=c11 -fsyntax-only $(pkg-config --cflags libcjson) -I"$(dirname "$dir")" \
        "$WORK/one.c" 2>"$WORK/cc.txt" && ok || fail "<mpibatch/$h> alone: $(head -3 "$WORK/cc.txt")"
done

mkdir "$WORK/ex"
cp "$top_srcdir/examples/example_kernel.c" "$top_srcdir/examples/Makefile" "$WORK/ex/"
${MAKE:-make} -s -C "$WORK/ex" PREFIX="$(dirname "$(dirname "$dir")")" >"$WORK/ex.log" 2>&1 &&
    ok || fail "examples/Makefile against the installed headers: $(tail -5 "$WORK/ex.log")"
mb 2 --kernel-lib "$WORK/ex/libmbexample.so" --kernel mcpi --tasks 4 --samples 1000 \
    --out "$WORK/p.h5" --quiet && ok || fail "the example built from installed headers did not run"
finish
