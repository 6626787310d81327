"""extract_remote — point extraction from cloud-optimized GeoTIFFs over HTTP.

The files are served by tests/support/httpserver.py on 127.0.0.1 with 20 ms
added to every request (a nearby object store's latency), so the cost is
round trips, not decoding. rasterpool runs with its default settings (a
bare http:// URL: 32 I/O threads, GDAL's network options set by
rasterpool); the peers read the same URLs through /vsicurl/ with
GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR (what a COG user sets): the numpy
tile-grouped extractor at 1, 8 and 16 threads, and terra::extract.

Two rows are not tools: the "request floor" is (requests x latency /
concurrency), the time 32 connections need for the GETs rasterpool made
(counted by the server) if each cost exactly the added latency; the
"decode floor" is bench/floor/floor_read.c decoding the same tiles from the
local DEM (the COGs hold the same 256x256 DEFLATE tiles): the CPU cost with
no network. On a 2-core machine that also runs the server, the larger of
the two bounds the time.

Scenarios: a COG with 5k clustered points (about 200 tiles) and with 50k
uniform points (every tile); a 64-tile VRT of COGs with 50k uniform points.
"""
import os
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
IO_THREADS = 32  # rasterpool's default for remote rasters
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


def remote_table(ctx, title, raster, points, srv, local):
    n = sum(1 for _ in open(points)) - 1
    url = srv.url(os.path.basename(raster))
    vsi = "/vsicurl/" + url
    out = ctx.out
    ds = gdal.Open(raster)
    table = Table(title, "%s (%dx%d) over HTTP, %d ms added per request; %s points (%s)" % (
        os.path.basename(raster), ds.RasterXSize, ds.RasterYSize, LATENCY_MS, format(n, ","),
        os.path.basename(points)))
    before = srv.stats()["get"]
    rp = table.add("rasterpool extract (defaults)", measure(ctx, [
        ctx.rasterpool, "extract", url, "--points", points, "-o", out("rp_remote.csv"),
        "--quiet"]), threads="%d I/O" % IO_THREADS, note="bare URL, default settings")
    gets = (srv.stats()["get"] - before) / float(ctx.runs + ctx.warmup)
    ref = last_column(out("rp_remote.csv"))
    floor_s = gets * LATENCY_MS / 1000.0 / IO_THREADS
    floor = table.add("request floor (not a tool)", benchlib.Result([floor_s], 0, "", ""),
                      threads=IO_THREADS,
                      note="%.0f GETs x %d ms / %d connections" % (gets, LATENCY_MS, IO_THREADS))
    # the same tiles decoded from the local DEM (same 256x256 DEFLATE grid):
    # what the CPUs cost, with no network at all
    blocks = touched_blocks(ctx, local, points)
    table.add("decode floor (local file, not a tool)", measure(ctx, [
        ctx.floor, local, blocks, str(ctx.threads)]), threads=ctx.threads,
        note="bench/floor/floor_read.c on the same tiles of the local DEM")
    py = benchlib.PYTHON
    rows = {}
    # --quick (CI's smoke test) runs the 16-thread peer and terra once each
    peer_runs = 1 if ctx.quick else None
    for t in ((16,) if ctx.quick else (1, 8, 16)):
        row = table.add("numpy tile-grouped, %d thread%s" % (t, "s" if t > 1 else ""), measure(
            ctx, [py, os.path.join(ctx.peers, "numpy_tiles.py"), vsi, points,
                  out("np_remote_%d.csv" % t), str(t)], env=PEER_ENV, runs=peer_runs),
            threads=t, note="/vsicurl/")
        row.api = api_seconds(row.result)
        check_same("numpy tile-grouped %d" % t, ref, out("np_remote_%d.csv" % t))
        rows[t] = row
    terra = table.add("terra::extract (R)", measure(ctx, [
        "Rscript", os.path.join(ctx.peers, "terra_extract.R"), vsi, points,
        out("terra_remote.csv")], env=PEER_ENV, runs=peer_runs), threads=1, note="/vsicurl/")
    terra.api = api_seconds(terra.result)
    check_same("terra", ref, out("terra_remote.csv"))
    table.ratio_target(">= 4x faster than the 16-thread numpy extractor", rows[16], rp, 4,
                       at_most=False)
    table.ratio_target("within 1.5x of requests x latency / concurrency", rp, floor, 1.5,
                       at_most=True)
    table.notes.append("All tools gave the same values as rasterpool (checked after timing, as "
                       "float32). The request floor counts only the added latency; transfer "
                       "and decoding come on top.")
    return table


def with_server(ctx, fn):
    with HttpServer(ctx.data_dir, latency_ms=LATENCY_MS) as srv:
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


SCENARIOS = [
    Scenario("remote_clustered", "remote R1: COG over HTTP (20 ms), 5k clustered points",
             r1_clustered),
    Scenario("remote_uniform", "remote R2: COG over HTTP (20 ms), 50k uniform points",
             r2_uniform),
    Scenario("remote_vrt", "remote R3: 64-tile VRT of COGs over HTTP, 50k uniform points",
             r3_vrt),
]
