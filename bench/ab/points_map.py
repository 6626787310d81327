#!/usr/bin/python3
"""bench/ab/points_map.py — same-run A/B of reading the points file mapped
(the program's default) against copied with pread (RASTERPOOL_MAP_POINTS=0),
on one build: the runs alternate, so the machine's load falls on both
alike. Prints the medians of the -v phases, the wall time and the CPU time, checks the
two outputs are byte-identical, and reports the load.

Run: bench/ab/points_map.py RASTERPOOL RASTER POINTS [THREADS] [RUNS]
"""
import os
import re
import resource
import statistics
import subprocess
import sys
import time

PHASES = re.compile(r"time: read points ([0-9.]+) s, read rasters ([0-9.]+) s, write ([0-9.]+) s")


def one(rp, raster, points, threads, out, mapped):
    env = dict(os.environ)
    env["RASTERPOOL_MAP_POINTS"] = "1" if mapped else "0"
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
    outs = {True: "/tmp/ab_map.csv", False: "/tmp/ab_pread.csv"}
    res = {True: [], False: []}
    load0 = os.getloadavg()[0]
    for mapped in (True, False):  # warm-up
        one(rp, raster, points, threads, outs[mapped], mapped)
    for k in range(runs):
        for mapped in ((True, False) if k % 2 == 0 else (False, True)):
            res[mapped].append(one(rp, raster, points, threads, outs[mapped], mapped))
    load1 = os.getloadavg()[0]
    with open(outs[True], "rb") as a, open(outs[False], "rb") as b:
        same = a.read() == b.read()
    print("%s, -j %d, %d runs each, alternating; load %.1f -> %.1f; outputs %s" % (
        os.path.basename(points), threads, runs, load0, load1,
        "byte-identical" if same else "DIFFER"))
    print("| read | wall s | read points s | read rasters s | write s | points + write s "
          "| user CPU s | system CPU s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for mapped in (False, True):
        med = [statistics.median(r[i] for r in res[mapped]) for i in range(6)]
        print("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.2f | %.2f |" % (
            "mapped" if mapped else "pread", med[0], med[1], med[2], med[3], med[1] + med[3],
            med[4], med[5]))
    for f in outs.values():
        os.remove(f)
    if not same:
        sys.exit(1)


main()
