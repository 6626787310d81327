#!/usr/bin/env bash
# demo.sh — the README's demo: builds rasterpool (Release, in build-release/), makes a
# 4096x4096 DEM and 200,000 points in demo-out/ (scripts/make-demo-data.py),
# extracts the DEM's value at every point, and shows the first rows, how many
# points got a value / nodata / were outside, and how long it took; then runs
# the example calc kernel (examples/kernels/reverse_bands.c, built as
# build-release/reverse_bands.so) over the DEM.
#
# Usage: scripts/demo.sh [--no-install] [--size N] [--points N]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

install=1
gen_args=()
while [ $# -gt 0 ]; do
    case "$1" in
    --no-install) install=0 ;;
    --size | --points)
        [ $# -ge 2 ] || { echo "demo.sh: $1 needs a value" >&2; exit 2; }
        gen_args+=("$1" "$2")
        shift
        ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
    shift
done

# Debian's python sees python3-gdal; a pyenv python3 first on PATH does not.
PY=/usr/bin/python3

if [ "$install" = 1 ]; then
    echo "== install-deps"
    bash scripts/install-deps
fi

echo "== build (Release, build-release/)"
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build build-release -j"$(nproc)" --target rasterpool_cli reverse_bands

echo "== demo data (demo-out/)"
"$PY" scripts/make-demo-data.py demo-out ${gen_args[@]+"${gen_args[@]}"}

echo "== rasterpool extract"
cmd=(build-release/rasterpool extract demo-out/dem.tif --points demo-out/points.csv
    -o demo-out/values.csv --status)
echo "\$ ${cmd[*]}"
TIMEFORMAT='%3R %3U %3S'
timing=$(mktemp)
trap 'rm -f "$timing"' EXIT
rc=0
# `time` reports on this group's stderr (into $timing); the program's own
# stderr goes to ours (fd 3).
{ time "${cmd[@]}" 2>&3; } 3>&2 2>"$timing" || rc=$?
read -r real user sys <"$timing" || true

echo
echo "== result"
if [ "$rc" -ne 0 ]; then
    echo "rasterpool exited with $rc"
fi
if [ ! -s demo-out/values.csv ]; then
    echo "demo.sh: no demo-out/values.csv was written" >&2
    exit 1
fi
echo "demo-out/values.csv, first 5 lines:"
head -n 5 demo-out/values.csv | sed 's/^/  /'
# Count the status column(s) with a real CSV parser: names hold commas.
"$PY" - demo-out/values.csv <<'EOF'
import collections, csv, sys
with open(sys.argv[1], newline="") as f:
    rows = csv.reader(f)
    header = next(rows)
    cols = [i for i, h in enumerate(header) if h.lower().endswith("status")]
    counts = [collections.Counter() for _ in cols]
    n = 0
    for row in rows:
        n += 1
        for c, i in zip(counts, cols):
            c[row[i] if i < len(row) else "(missing)"] += 1
print("rows: %d" % n)
if not cols:
    print("no status column in the header: %s" % ",".join(header))
for c, i in zip(counts, cols):
    print("%s: %s" % (header[i], ", ".join("%s %d" % kv for kv in sorted(c.items()))))
EOF
echo "elapsed: ${real:-?} s (user ${user:-?} s, sys ${sys:-?} s) on $(nproc) CPUs"

echo
echo "== rasterpool calc with the example kernel"
kcmd=(build-release/rasterpool calc -i A=demo-out/dem.tif
    --kernel build-release/reverse_bands.so:reverse_bands --kernel-arg 100
    -o demo-out/dem_kernel.tif -q)
echo "\$ ${kcmd[*]}"
krc=0
"${kcmd[@]}" || krc=$?
if [ "$krc" -ne 0 ]; then
    echo "rasterpool calc exited with $krc"
else
    # one band reversed is itself: the kernel's output equals the DEM
    "$PY" - demo-out/dem.tif demo-out/dem_kernel.tif <<'EOF'
import sys
import numpy as np
from osgeo import gdal
a, b = (gdal.Open(p).ReadAsArray() for p in sys.argv[1:3])
print("demo-out/dem_kernel.tif equals the DEM: %s" % ("yes" if np.array_equal(a, b) else "NO"))
EOF
fi
[ "$rc" -ne 0 ] && exit "$rc"
exit "$krc"
