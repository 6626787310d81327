"""extract_remote — point extraction from cloud-optimized GeoTIFFs over HTTP.

The files are served by tests/support/httpserver.py on 127.0.0.1 with 20 ms
added to every request (a nearby object store's latency), so the cost is
round trips, not decoding. rasterpool runs with its default settings (a
bare http:// URL: the I/O pool sized from the plan, one worker a run of
touched blocks within its bounds when a round trip takes 50 ms or more; GDAL's network options set by
rasterpool), and once more with --io-threads 32 (the pool of the old
default: rounds of 32); the peers read the same URLs through /vsicurl/ with
GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR (what a COG user sets): the numpy
tile-grouped extractor at 1, 8 and 16 threads, and terra::extract.

Two rows are not tools: the "request floor" is the round trips no reader
can avoid times the latency: the HEAD and the header's GET one after the
other, then the other GETs rasterpool made (counted by the server) in
rounds of as many connections as rasterpool had workers (-v's count, from
one untimed run), each costing exactly the added latency; the
"decode floor" is bench/floor/floor_read.c decoding the same tiles from the
local DEM (the COGs hold the same 256x256 DEFLATE tiles): the CPU cost with
no network. A third, "request + decode floor", is their sum: a tile's
bytes arrive only after the last round trip, so its decoding cannot
overlap the round trips, and on this machine's CPUs no reader beats that
sum (the table says how it compares with the 1.5x target).

Scenarios: a COG with 5k clustered points (about 200 tiles) and with 50k
uniform points (every tile); a 64-tile VRT of COGs with 50k uniform points;
R4, the clustered COG again with 100 ms a request (a distant object store),
where round trips are all that counts.

Every row that talks to the server says how many GETs one run of it sent
(the server's count over all its runs, divided by the runs). Each run is a
fresh process, so GDAL's /vsicurl/ cache is cold in every run (the server
caches nothing: it reads the file per request).
"""
import math
import os
import re
import subprocess
import sys

import numpy as np
from osgeo import gdal

import benchlib
from benchlib import Scenario, Table, api_seconds, measure
from extract_local import check_same, last_column, make_points, make_raster, touched_blocks

sys.path.insert(0, os.path.join(benchlib.ROOT, "tests", "support"))
from httpserver import HttpServer  # noqa: E402

gdal.UseExceptions()

LATENCY_MS = 20
IO_THREADS = 32  # rasterpool's pool for remote jobs before a read sizes it
PEER_ENV = {"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"}


def make_cog(ctx, size):
    """The local scenarios' DEM as a COG (256x256 DEFLATE tiles, no overviews)."""
    src = make_raster(ctx, size, "DEFLATE")
    name = "cog_%d.tif" % size
    params = {"size": size, "src": os.path.basename(src), "v": 1}

    def make(path):
        gdal.Translate(path, src, format="COG",
                       creationOptions=["BLOCKSIZE=256", "COMPRESS=DEFLATE", "OVERVIEWS=NONE",
                                        "NUM_THREADS=ALL_CPUS"])

    return benchlib.cached(ctx, name, params, make)


def make_mosaic(ctx, size):
    """The DEM cut into 8 x 8 COG tiles and a VRT over them (relative paths)."""
    src = make_raster(ctx, size, "DEFLATE")
    step = size // 8
    tiles = []
    for ty in range(8):
        for tx in range(8):
            name = "mosaic_%d_%d_%d.tif" % (size, tx, ty)
            params = {"size": size, "tx": tx, "ty": ty, "v": 1}

            def make(path, tx=tx, ty=ty):
                gdal.Translate(path, src, format="COG",
                               srcWin=[tx * step, ty * step, step, step],
                               creationOptions=["BLOCKSIZE=256", "COMPRESS=DEFLATE",
                                                "OVERVIEWS=NONE"])

            tiles.append(os.path.basename(benchlib.cached(ctx, name, params, make)))
    name = "mosaic_%d.vrt" % size
    params = {"size": size, "tiles": tiles, "v": 1}

    def make_vrt(path):
        cwd = os.getcwd()
        os.chdir(ctx.data_dir)
        try:
            # written as mosaic.vrt first: relative names are relative to it
            vrt = gdal.BuildVRT(os.path.basename(path) + ".build.vrt", tiles)
            vrt = None
            os.replace(os.path.basename(path) + ".build.vrt", os.path.basename(path))
        finally:
            os.chdir(cwd)

    return benchlib.cached(ctx, name, params, make_vrt)


def io_workers(ctx, url, points):
    """The I/O workers rasterpool's default run uses (-v's thread count;
    one untimed run)."""
    p = subprocess.run([ctx.rasterpool, "extract", url, "--points", points, "-o",
                        ctx.out("rp_remote_v.csv"), "-v"], capture_output=True, text=True)
    m = re.search(r"(\d+) threads;", p.stderr)
    return int(m.group(1)) if m else IO_THREADS


def counted(srv, fn):
    """fn() -> Result, and the GETs one of its runs (warm-up included) sent."""
    before = srv.stats()["get"]
    result = fn()
    return result, (srv.stats()["get"] - before) / float(len(result.seconds) + 1)


def remote_table(ctx, title, raster, points, srv, local, latency_ms=LATENCY_MS):
    n = sum(1 for _ in open(points)) - 1
    url = srv.url(os.path.basename(raster))
    vsi = "/vsicurl/" + url
    out = ctx.out
    ds = gdal.Open(raster)
    table = Table(title, "%s (%dx%d) over HTTP, %d ms added per request; %s points (%s)" % (
        os.path.basename(raster), ds.RasterXSize, ds.RasterYSize, latency_ms, format(n, ","),
        os.path.basename(points)))
    # one untimed run with -v: the I/O workers rasterpool sized from the plan
    workers = io_workers(ctx, url, points)
    result, gets = counted(srv, lambda: measure(ctx, [
        ctx.rasterpool, "extract", url, "--points", points, "-o", out("rp_remote.csv"),
        "--quiet"]))
    rp = table.add("rasterpool extract (defaults)", result, threads="%d I/O" % workers,
                   note="bare URL, default settings: the I/O pool sized from the plan; "
                   "%.0f GETs a run" % gets)
    ref = last_column(out("rp_remote.csv"))
    # the same job with the pool fixed at the old default: what sizing it buys
    result32, gets32 = counted(srv, lambda: measure(ctx, [
        ctx.rasterpool, "extract", url, "--points", points, "-o", out("rp_remote_32.csv"),
        "--quiet", "--io-threads", str(IO_THREADS)]))
    table.add("rasterpool extract --io-threads %d" % IO_THREADS, result32,
              threads="%d I/O" % IO_THREADS,
              note="the pool fixed at the old default; %.0f GETs a run" % gets32)
    check_same("rasterpool --io-threads %d" % IO_THREADS, ref, out("rp_remote_32.csv"))
    # round trips no reader of this file can avoid: the HEAD and the header's
    # GET, one after the other, then the other GETs in rounds of as many
    # connections as rasterpool had workers (requests x latency / concurrency)
    rounds = 2 + math.ceil(max(gets - 1, 0) / workers)
    floor_s = rounds * latency_ms / 1000.0
    floor = table.add("request floor (not a tool)", benchlib.Result([floor_s], 0, "", ""),
                      threads=workers,
                      note="%d round trips x %d ms: HEAD, header GET, then %.0f GETs in rounds "
                      "of %d" % (rounds, latency_ms, max(gets - 1, 0), workers))
    # the same tiles decoded from the local DEM (same 256x256 DEFLATE grid):
    # what the CPUs cost, with no network at all
    blocks = touched_blocks(ctx, local, points)
    decode = table.add("decode floor (local file, not a tool)", measure(ctx, [
        ctx.floor, local, blocks, str(ctx.threads)]), threads=ctx.threads,
        note="bench/floor/floor_read.c on the same tiles of the local DEM")
    # the two floors one after the other: a tile's bytes arrive only after
    # the last round trip, so its decoding cannot overlap the round trips;
    # on this machine's CPUs no reader can beat this sum (transfer, the
    # server's own CPU and start-up come on top)
    both_s = floor_s + decode.result.median
    both = table.add("request + decode floor (not a tool)", benchlib.Result([both_s], 0, "", ""),
                     threads=ctx.threads,
                     note="the request floor, then the decode floor: what %d CPUs allow at "
                     "best" % ctx.threads)
    py = benchlib.PYTHON
    rows = {}
    # --quick (CI's smoke test) runs the 16-thread peer and terra once each;
    # at 100 ms a request the slow peers (1 thread, terra) run once after the
    # warm-up: their time is round trips, which barely vary
    peer_runs = 1 if ctx.quick else None
    slow_runs = 1 if ctx.quick or latency_ms >= 100 else None
    for t in ((16,) if ctx.quick else (1, 8, 16)):
        result, peer_gets = counted(srv, lambda: measure(
            ctx, [py, os.path.join(ctx.peers, "numpy_tiles.py"), vsi, points,
                  out("np_remote_%d.csv" % t), str(t)], env=PEER_ENV,
            runs=slow_runs if t == 1 else peer_runs))
        row = table.add("numpy tile-grouped, %d thread%s" % (t, "s" if t > 1 else ""), result,
                        threads=t, note="/vsicurl/; %.0f GETs a run" % peer_gets)
        row.api = api_seconds(row.result)
        check_same("numpy tile-grouped %d" % t, ref, out("np_remote_%d.csv" % t))
        rows[t] = row
    result, terra_gets = counted(srv, lambda: measure(ctx, [
        "Rscript", os.path.join(ctx.peers, "terra_extract.R"), vsi, points,
        out("terra_remote.csv")], env=PEER_ENV, runs=slow_runs))
    terra = table.add("terra::extract (R)", result, threads=1,
                      note="/vsicurl/; %.0f GETs a run" % terra_gets)
    terra.api = api_seconds(terra.result)
    check_same("terra", ref, out("terra_remote.csv"))
    table.ratio_target(">= 4x faster than the 16-thread numpy extractor", rows[16], rp, 4,
                       at_most=False)
    table.ratio_target("within 1.5x of the request floor (round trips x latency)", rp, floor, 1.5,
                       at_most=True)
    table.ratio_target("request + decode floor within 1.5x of the request floor (if not, the "
                       "target above is out of reach on these CPUs)", both, floor, 1.5,
                       at_most=True)
    table.ratio_target("rasterpool within 1.5x of the request + decode floor (not an issue "
                       "target: what is left to rasterpool)", rp, both, 1.5, at_most=True)
    table.notes.append("All tools gave the same values as rasterpool (checked after timing, as "
                       "float32). The request floor counts only the added latency; transfer "
                       "and decoding come on top. Every run is a fresh process: GDAL's "
                       "/vsicurl/ cache is cold in each.")
    return table


def with_server(ctx, fn, latency_ms=LATENCY_MS):
    with HttpServer(ctx.data_dir, latency_ms=latency_ms) as srv:
        return fn(srv)


def size(ctx):
    return ctx.size(1024, 8192)


def r1_clustered(ctx):
    cog = make_cog(ctx, size(ctx))
    points = make_points(ctx, size(ctx), ctx.size(500, 5000), "clusters", 21)
    return [with_server(ctx, lambda srv: remote_table(
        ctx, "R1. COG over HTTP, clustered points (about 200 tiles at full size)", cog, points,
        srv, make_raster(ctx, size(ctx), "DEFLATE")))]


def r2_uniform(ctx):
    cog = make_cog(ctx, size(ctx))
    points = make_points(ctx, size(ctx), ctx.size(1000, 50000), "uniform", 22)
    return [with_server(ctx, lambda srv: remote_table(
        ctx, "R2. COG over HTTP, uniform points (every tile)", cog, points, srv,
        make_raster(ctx, size(ctx), "DEFLATE")))]


def r3_vrt(ctx):
    vrt = make_mosaic(ctx, size(ctx))
    points = make_points(ctx, size(ctx), ctx.size(1000, 50000), "uniform", 23)
    return [with_server(ctx, lambda srv: remote_table(
        ctx, "R3. 64-tile VRT of COGs over HTTP, uniform points", vrt, points, srv,
        make_raster(ctx, size(ctx), "DEFLATE")))]


def r4_clustered_far(ctx):
    cog = make_cog(ctx, size(ctx))
    points = make_points(ctx, size(ctx), ctx.size(500, 5000), "clusters", 21)
    return [with_server(ctx, lambda srv: remote_table(
        ctx, "R4. COG over HTTP at 100 ms a request, clustered points", cog, points, srv,
        make_raster(ctx, size(ctx), "DEFLATE"), latency_ms=100), latency_ms=100)]


SCENARIOS = [
    Scenario("remote_clustered", "remote R1: COG over HTTP (20 ms), 5k clustered points",
             r1_clustered),
    Scenario("remote_uniform", "remote R2: COG over HTTP (20 ms), 50k uniform points",
             r2_uniform),
    Scenario("remote_vrt", "remote R3: 64-tile VRT of COGs over HTTP, 50k uniform points",
             r3_vrt),
    Scenario("remote_far", "remote R4: COG over HTTP (100 ms), 5k clustered points",
             r4_clustered_far),
]
