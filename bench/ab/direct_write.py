#!/usr/bin/python3
"""bench/ab/direct_write.py — same-run A/B of writing the CSV output with
O_DIRECT (the default, io/direct_out.c) against buffered writes into the
page cache (RASTERPOOL_DIRECT_WRITE=0), on one build: the runs alternate,
so the machine's load falls on both alike. Prints the medians of the -v phases, the wall time and the CPU time, checks the
two outputs are byte-identical, and reports the load.

Run: bench/ab/direct_write.py RASTERPOOL RASTER POINTS [THREADS] [RUNS]
"""
import os
import re
import resource
import statistics
import subprocess
import sys
import time

PHASES = re.compile(r"time: read points ([0-9.]+) s, read rasters ([0-9.]+) s, write ([0-9.]+) s")


def one(rp, raster, points, threads, out, direct):
    env = dict(os.environ)
    env["RASTERPOOL_DIRECT_WRITE"] = "1" if direct else "0"
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


def main():
    rp, raster, points = sys.argv[1:4]
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    runs = int(sys.argv[5]) if len(sys.argv) > 5 else 5
    outs = {True: "/tmp/ab_direct.csv", False: "/tmp/ab_buffered.csv"}
    res = {True: [], False: []}
    load0 = os.getloadavg()[0]
    for direct in (True, False):  # warm-up
        one(rp, raster, points, threads, outs[direct], direct)
    for k in range(runs):
        for direct in ((True, False) if k % 2 == 0 else (False, True)):
            res[direct].append(one(rp, raster, points, threads, outs[direct], direct))
    load1 = os.getloadavg()[0]
    with open(outs[True], "rb") as a, open(outs[False], "rb") as b:
        same = a.read() == b.read()
    print("%s, -j %d, %d runs each, alternating; load %.1f -> %.1f; outputs %s" % (
        os.path.basename(points), threads, runs, load0, load1,
        "byte-identical" if same else "DIFFER"))
    print("| write | wall s | read points s | read rasters s | write s | points + write s "
          "| user CPU s | system CPU s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for direct in (False, True):
        med = [statistics.median(r[i] for r in res[direct]) for i in range(6)]
        print("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.2f | %.2f |" % (
            "direct" if direct else "buffered", med[0], med[1], med[2], med[3], med[1] + med[3],
            med[4], med[5]))
    for f in outs.values():
        os.remove(f)
    if not same:
        sys.exit(1)


main()
