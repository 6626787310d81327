"""bench/ab/env_ab.py — a same-run A/B of one environment switch of
rasterpool extract, on one build: the runs alternate (on, off, then off, on,
...), so the machine's load falls on both alike. Prints the medians of the
-v phases, the wall time and the CPU time, checks the two outputs are
byte-identical, and reports the load. Used by points_map.py and
direct_write.py (each names its variable and its two labels).
"""
import os
import re
import resource
import statistics
import subprocess
import sys
import time

PHASES = re.compile(r"time: read points ([0-9.]+) s, read rasters ([0-9.]+) s, write ([0-9.]+) s")


def one(rp, raster, points, threads, out, var, on):
    env = dict(os.environ)
    env[var] = "1" if on else "0"
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run([rp, "extract", raster, "--points", points, "-o", out, "-j", str(threads),
                        "-v", "-q"], env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    user, system = r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime
    m = PHASES.search(p.stderr)
    if p.returncode != 0 or not m:
        sys.exit("run failed (exit %d): %s" % (p.returncode, p.stderr[-2000:]))
    return [wall] + [float(m.group(k)) for k in (1, 2, 3)] + [user, system]


def main(var, column, labels):
    """var: the switch's variable; column: the table's first heading;
    labels: {True: name when var=1, False: name when var=0}."""
    rp, raster, points = sys.argv[1:4]
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    runs = int(sys.argv[5]) if len(sys.argv) > 5 else 5
    outs = {on: "/tmp/ab_%s.csv" % labels[on] for on in (True, False)}
    res = {True: [], False: []}
    load0 = os.getloadavg()[0]
    for on in (True, False):  # warm-up
        one(rp, raster, points, threads, outs[on], var, on)
    for k in range(runs):
        for on in ((True, False) if k % 2 == 0 else (False, True)):
            res[on].append(one(rp, raster, points, threads, outs[on], var, on))
    load1 = os.getloadavg()[0]
    with open(outs[True], "rb") as a, open(outs[False], "rb") as b:
        same = a.read() == b.read()
    print("%s, -j %d, %d runs each, alternating; load %.1f -> %.1f; outputs %s" % (
        os.path.basename(points), threads, runs, load0, load1,
        "byte-identical" if same else "DIFFER"))
    print("| %s | wall s | read points s | read rasters s | write s | points + write s "
          "| user CPU s | system CPU s |" % column)
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for on in (False, True):
        med = [statistics.median(r[i] for r in res[on]) for i in range(6)]
        print("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.2f | %.2f |" % (
            labels[on], med[0], med[1], med[2], med[3], med[1] + med[3], med[4], med[5]))
    for f in outs.values():
        os.remove(f)
    if not same:
        sys.exit(1)
