"""python_api — rasterpool from Python, in process: arrays in, arrays out.

500k uniform points on scenario 1's 8192x8192 Float32 DEFLATE raster
(--quick: 20k on 2048x2048), all timed inside one Python process
(bench/peers/python_inprocess.py): rasterpool.extract_points at the bench's
threads, the same job through the bare C calls (the binding's overhead),
the pixtract-style tile-grouped numpy extractor with ThreadPoolExecutor(8)
(and at the bench's threads), and rasterio's sample() on a subset, scaled.
The package is compiled from python/ against build-bench/ first (not timed).
Every tool's values are checked equal to rasterpool's.
"""
import json
import os
import subprocess
import sys

import benchlib
from benchlib import Result, Scenario, Table

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import extract_local  # noqa: E402  (its raster and points)


def build_package(ctx):
    """Compiles python/rasterpool against build-bench/ into bench/out/pypkg."""
    out = ctx.out("pypkg")
    script = (
        "import os, shutil, sys; sys.path.insert(0, %r); import _build; "
        "d = %r; shutil.rmtree(d, ignore_errors=True); "
        "shutil.copytree(%r, os.path.join(d, 'rasterpool'), "
        "ignore=shutil.ignore_patterns('__pycache__', '*.so')); "
        "_build.build(d, *_build._from_build_dir(%r))"
        % (os.path.join(benchlib.ROOT, "python", "rasterpool"), out,
           os.path.join(benchlib.ROOT, "python", "rasterpool"), ctx.build_dir))
    subprocess.run([benchlib.PYTHON, "-c", script], check=True)
    return out


def python_table(ctx):
    size = extract_local.raster_size(ctx)
    raster = extract_local.make_raster(ctx, size, "DEFLATE")
    n = ctx.size(20000, 500000)
    points = extract_local.make_points(ctx, size, n, "uniform", 1)
    pkg = build_package(ctx)
    threads = min(2, ctx.threads) if ctx.threads >= 2 else 1
    subset = ctx.size(2000, 20000)
    r = subprocess.run([benchlib.PYTHON, os.path.join(ctx.peers, "python_inprocess.py"), pkg,
                        raster, points, str(threads), str(ctx.runs), str(subset)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise benchlib.BenchError("python_inprocess.py failed:\n" + r.stderr[-2000:])
    res = json.loads(r.stdout.strip().splitlines()[-1])
    if res["check"]:
        raise benchlib.BenchError("different values from rasterpool: %s" % res["check"])
    t = res["times"]
    table = Table("P1. in-process Python, arrays in and out",
                  "%dx%d Float32 DEFLATE, 256x256 tiles; %s uniform points as numpy arrays; "
                  "times of the calls alone, inside one Python process (no start-up, no CSV)"
                  % (size, size, format(n, ",")))

    def row(key, tool, threads_, note=""):
        return table.add(tool, Result(t[key], 0, "", ""), threads=threads_, note=note)

    rp = row("rasterpool", "rasterpool.extract_points", threads, "float64 (n, 1) out")
    c = row("c_only", "the same job through the bare C calls", threads,
            "rp_extract_options_new + rp_extract_run_arrays + free, via cffi")
    tiles_n = row("tiles_%d" % threads, "numpy tile-grouped + ThreadPoolExecutor(%d)" % threads,
                  threads)
    tiles8 = row("tiles_8", "numpy tile-grouped + ThreadPoolExecutor(8)", 8) \
        if threads != 8 else tiles_n
    rio = None
    if "rasterio_subset" in t:
        rio = row("rasterio_subset", "rasterio sample()", 1,
                  "on the first %s points, scaled to all" % format(subset, ","))
        rio.scale = n / subset
    overhead = table.seconds(rp) / table.seconds(c) - 1
    table.target("binding overhead vs the C call <= 5%", overhead <= 0.05,
                 "%+.1f%%" % (100 * overhead))
    best = min(tiles_n, tiles8, key=table.seconds)
    table.ratio_target(">= 1.5x faster than the tile-grouped numpy extractor (its faster row), "
                       "at %d threads" % threads, best, rp, 1.5, at_most=False)
    if rio is not None:
        table.ratio_target(">= 15x faster than rasterio sample()", rio, rp, 15, at_most=False)
    table.notes.append("Peak RSS is not measured here (one process runs every tool). All tools "
                       "gave rasterpool's values (checked as float32). terra has no in-process "
                       "Python call; see scenario 1 for it.")
    return [table]


SCENARIOS = [
    Scenario("python", "scenario P1: in-process Python, 500k points, arrays in and out",
             python_table),
]
