#!/usr/bin/env bash
# run.sh PREFIX — checks an installed rasterpool as its users meet it
# (PROJ's test/postinstall): every file the install must put in PREFIX is
# there; client.c, which includes rasterpool.h alone, builds against PREFIX
# with `pkg-config --cflags --libs rasterpool` and with CMake's
# find_package(rasterpool), runs, and prints expected.txt; the installed
# program finds its library through its RPATH; a batch run by the client
# uses the installed worker (it fails when that worker is taken away, and
# when RASTERPOOL_WORKER names a missing file); a copy of the prefix moved
# elsewhere still runs a batch.
#
# The prefix is modified only for the moment the worker is taken away.
# Work files go to a temporary folder, removed at the end. Exit 0 when
# everything passed; each failure is named on stderr.
set -uo pipefail

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
    echo "usage: $0 PREFIX (an installed rasterpool)" >&2
    exit 2
fi
PREFIX=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0
fail() {
    echo "postinstall: FAIL: $*" >&2
    failures=$((failures + 1))
}
pass() { echo "postinstall: ok: $*"; }

# 1. The files. libdir is lib/ or lib/<multiarch>/: found from the .pc file.
pc=$(find "$PREFIX" -name rasterpool.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || fail "no pkgconfig/rasterpool.pc under $PREFIX"
LIBDIR=$(dirname "$(dirname "${pc:-$PREFIX/lib/pkgconfig/x}")")
for f in bin/rasterpool include/rasterpool.h include/rasterpool_version.h \
    libexec/rasterpool/rasterpool-worker share/man/man1/rasterpool.1 \
    share/doc/rasterpool/LICENSE "${LIBDIR#"$PREFIX"/}/librasterpool.so" \
    "${LIBDIR#"$PREFIX"/}/librasterpool.so.0" \
    "${LIBDIR#"$PREFIX"/}/cmake/rasterpool/rasterpoolConfig.cmake" \
    "${LIBDIR#"$PREFIX"/}/cmake/rasterpool/rasterpoolConfigVersion.cmake" \
    "${LIBDIR#"$PREFIX"/}/cmake/rasterpool/rasterpoolTargets.cmake"; do
    if [ -e "$PREFIX/$f" ]; then pass "installed $f"; else fail "missing $f"; fi
done
for f in bin/rasterpool libexec/rasterpool/rasterpool-worker; do
    [ -x "$PREFIX/$f" ] || fail "$f is not executable"
done
soname=$(objdump -p "$LIBDIR/librasterpool.so.0" 2>/dev/null | awk '$1 == "SONAME" {print $2}')
[ "$soname" = librasterpool.so.0 ] && pass "SONAME $soname" || fail "SONAME '$soname'"

# 2. The client, from a folder of its own (no source-tree header in reach).
mkdir -p "$WORK/src/cmake"
cp "$HERE/client.c" "$WORK/src/"
cp "$HERE/cmake/CMakeLists.txt" "$WORK/src/cmake/"
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig"
unset LD_LIBRARY_PATH RASTERPOOL_WORKER
flags=$(pkg-config --cflags --libs rasterpool) || fail "pkg-config --cflags --libs rasterpool"
libdir_pc=$(pkg-config --variable=libdir rasterpool)
# shellcheck disable=SC2086 # flags are words
if cc -std=c11 -Wall -Werror "$WORK/src/client.c" -o "$WORK/client_pc" $flags \
    -Wl,-rpath,"$libdir_pc"; then
    pass "client built with pkg-config ($flags)"
else
    fail "client does not build with pkg-config ($flags)"
fi
if cmake -S "$WORK/src/cmake" -B "$WORK/cm" -DCMAKE_PREFIX_PATH="$PREFIX" \
    -DCMAKE_BUILD_TYPE=Release >"$WORK/cmake.log" 2>&1 &&
    cmake --build "$WORK/cm" >>"$WORK/cmake.log" 2>&1; then
    pass "client built with find_package(rasterpool)"
else
    cat "$WORK/cmake.log" >&2
    fail "client does not build with find_package(rasterpool)"
fi

# loads_installed BINARY: whether it loads LIBDIR's librasterpool.so.0
# (ldd's path resolved: pkg-config's is PREFIX/lib/pkgconfig/../../lib).
loads_installed() {
    local found
    found=$(ldd "$1" | awk '$1 == "librasterpool.so.0" {print $3}')
    [ -n "$found" ] && [ "$(realpath "$found")" = "$(realpath "$LIBDIR/librasterpool.so.0")" ]
}

# run_client NAME BINARY: runs it in a fresh folder, compares with expected.txt.
run_client() {
    local name=$1 bin=$2 dir="$WORK/run-$1"
    mkdir -p "$dir"
    [ -x "$bin" ] || return
    if "$bin" "$dir" >"$dir/stdout" && diff -u "$HERE/expected.txt" "$dir/stdout"; then
        pass "client ($name) output equals expected.txt"
    else
        fail "client ($name) failed or printed other output"
    fi
    if loads_installed "$bin"; then
        pass "client ($name) loads $LIBDIR/librasterpool.so.0"
    else
        fail "client ($name) does not load the installed library: $(ldd "$bin" | grep rasterpool)"
    fi
}
run_client pkg-config "$WORK/client_pc"
run_client cmake "$WORK/cm/client"

# 3. The program finds its library through its RPATH.
if loads_installed "$PREFIX/bin/rasterpool" &&
    "$PREFIX/bin/rasterpool" --version >"$WORK/version" && grep -q "^rasterpool " "$WORK/version"; then
    pass "bin/rasterpool runs with the installed library"
else
    fail "bin/rasterpool does not find the installed library"
fi

# 4. The batch worker. A missing RASTERPOOL_WORKER fails the batch, naming it.
dir="$WORK/run-missing-env"
mkdir -p "$dir"
if [ -x "$WORK/client_pc" ]; then
    if RASTERPOOL_WORKER="$WORK/no-such-worker" "$WORK/client_pc" "$dir" >/dev/null 2>"$dir/err"; then
        fail "a batch ran with RASTERPOOL_WORKER naming a missing file"
    elif grep -q "no-such-worker" "$dir/err"; then
        pass "RASTERPOOL_WORKER overrides the default worker"
    else
        fail "a missing RASTERPOOL_WORKER is not named: $(cat "$dir/err")"
    fi
fi
# Without the installed worker the client's batch fails, naming it: so the
# batch of step 2 ran the installed worker (an installed library never
# falls back to the build tree's). Meanwhile a moved copy of the prefix
# runs a batch with its own worker.
worker="$PREFIX/libexec/rasterpool/rasterpool-worker"
if [ -x "$WORK/client_pc" ] && [ -e "$worker" ]; then
    cp -a "$PREFIX" "$WORK/moved"
    mv "$worker" "$worker.hidden"
    dir="$WORK/run-no-worker"
    mkdir -p "$dir"
    if "$WORK/client_pc" "$dir" >/dev/null 2>"$dir/err"; then
        fail "a batch ran without the installed worker: which worker did it use?"
    elif grep -q "libexec/rasterpool/rasterpool-worker" "$dir/err"; then
        pass "the default worker is the installed libexec/rasterpool/rasterpool-worker"
    else
        fail "a missing installed worker is not named: $(cat "$dir/err")"
    fi
    dir="$WORK/run-moved"
    mkdir -p "$dir"
    cp "$WORK/run-pkg-config/grid.asc" "$dir/" 2>/dev/null
    if "$WORK/moved/bin/rasterpool" batch translate "$dir/grid.asc" --out-dir "$dir/out" -q \
        -- -of GTiff 2>"$dir/err" && [ -f "$dir/out/grid.tif" ]; then
        pass "a moved copy of the prefix runs a batch with its own worker"
    else
        fail "a moved copy of the prefix cannot run a batch: $(cat "$dir/err")"
    fi
    mv "$worker.hidden" "$worker"
fi

if [ "$failures" -ne 0 ]; then
    echo "postinstall: $failures check(s) failed" >&2
    exit 1
fi
echo "postinstall: all checks passed"
