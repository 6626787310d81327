"""extract_local — point extraction from local GeoTIFFs: rasterpool against
the floor (bench/floor/floor_read.c: only decode the touched blocks) and the
tools users would otherwise pick: terra::extract, the numpy tile-grouped
extractor (1 and N threads), numpy whole-band read + index, rasterio
sample() (on a subset, time scaled) and gdallocationinfo (stdin batch mode).

Every tool reads the same points CSV (id,x,y) and writes its values to a
file; after timing, each tool's values are checked equal to rasterpool's, so
the table only ever compares tools that gave the same answer.
"""
import os
import re
import statistics

import numpy as np
from osgeo import gdal, osr

import benchlib
from benchlib import Scenario, Table, api_seconds, measure

gdal.UseExceptions()

PIXEL = 10.0
X0, Y0 = 500000.0, 6000000.0  # UTM 32N
TILE = 256


# --------------------------------------------------------------------------
# Data (cached in bench/data, reproducible: fixed seeds)


def make_raster(ctx, size, compress):
    """size x size Float32 GeoTIFF, 256x256 tiles: rolling terrain plus
    centimetre noise, so DEFLATE has real work to do (about 2:1)."""
    name = "dem_%d_%s.tif" % (size, compress.lower())
    params = {"size": size, "compress": compress, "tile": TILE, "v": 1}

    def make(path):
        drv = gdal.GetDriverByName("GTiff")
        ds = drv.Create(path, size, size, 1, gdal.GDT_Float32,
                        ["TILED=YES", "BLOCKXSIZE=%d" % TILE, "BLOCKYSIZE=%d" % TILE,
                         "COMPRESS=%s" % compress, "NUM_THREADS=ALL_CPUS", "BIGTIFF=IF_SAFER"])
        ds.SetGeoTransform([X0, PIXEL, 0, Y0, 0, -PIXEL])
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(32632)
        ds.SetProjection(srs.ExportToWkt())
        band = ds.GetRasterBand(1)
        rng = np.random.default_rng(size)
        u = np.arange(size, dtype=np.float32) / size
        for y0 in range(0, size, TILE):
            v = (np.arange(y0, min(y0 + TILE, size), dtype=np.float32) / size)[:, None]
            z = (800 + 400 * np.sin(6.0 * u)[None, :] * np.cos(4.0 * v)
                 + 150 * np.sin(31.0 * u + 17.0 * v))
            z += np.round(rng.normal(0, 0.5, z.shape), 2)
            band.WriteArray(z.astype(np.float32), 0, y0)
        ds = None

    return benchlib.cached(ctx, name, params, make)


def make_points(ctx, size, n, kind, seed):
    """n points as CSV id,x,y over a size x size raster at PIXEL spacing:
    uniform over the whole raster, or in 5 Gaussian clusters."""
    name = "points_%d_%d_%s.csv" % (size, n, kind)
    params = {"size": size, "n": n, "kind": kind, "seed": seed, "v": 1}

    def make(path):
        rng = np.random.default_rng(seed)
        extent = size * PIXEL
        if kind == "uniform":
            u = rng.uniform(0, 1, n)
            v = rng.uniform(0, 1, n)
        else:  # 5 clusters, sigma sized to touch about 200 tiles in all
            centres = rng.uniform(0.15, 0.85, (5, 2))
            which = rng.integers(0, 5, n)
            sigma = 1.6 * TILE / size
            u = np.clip(centres[which, 0] + rng.normal(0, sigma, n), 0, 0.999999)
            v = np.clip(centres[which, 1] + rng.normal(0, sigma, n), 0, 0.999999)
        xs = X0 + u * extent
        ys = Y0 - v * extent
        with open(path, "w") as f:
            f.write("id,x,y\n")
            np.savetxt(f, np.column_stack([np.arange(1, n + 1), xs, ys]), delimiter=",",
                       fmt=["%d", "%.2f", "%.2f"])

    return benchlib.cached(ctx, name, params, make)


def touched_blocks(ctx, raster, points):
    """The floor's input: the distinct blocks the points touch, one
    'XBLOCK YBLOCK' line each (the same arithmetic as the numpy peer)."""
    name = os.path.basename(points)[:-4] + ".blocks"
    params = {"raster": os.path.basename(raster), "points": os.path.basename(points),
              "mtime": (os.path.getmtime(raster), os.path.getmtime(points))}

    def make(path):
        ds = gdal.Open(raster)
        inv = gdal.InvGeoTransform(ds.GetGeoTransform())
        data = np.loadtxt(points, delimiter=",", skiprows=1, usecols=(1, 2))
        cols = np.floor(inv[0] + inv[1] * data[:, 0] + inv[2] * data[:, 1]).astype(np.int64)
        rows = np.floor(inv[3] + inv[4] * data[:, 0] + inv[5] * data[:, 1]).astype(np.int64)
        keep = (cols >= 0) & (cols < ds.RasterXSize) & (rows >= 0) & (rows < ds.RasterYSize)
        blocks = np.unique(np.column_stack([cols[keep] // TILE, rows[keep] // TILE]), axis=0)
        np.savetxt(path, blocks, fmt="%d")

    return benchlib.cached(ctx, name, params, make)


def count_lines(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f)


# --------------------------------------------------------------------------
# Checking answers


def last_column(path):
    """The last comma-separated field of each line as float (empty -> NaN),
    skipping a header line."""
    with open(path) as f:
        first = f.readline()
        rest = f.read().splitlines()
    lines = rest if any(c.isalpha() for c in first) else [first.rstrip("\n")] + rest
    return np.array([float(l.rsplit(",", 1)[-1] or "nan") for l in lines])


def check_same(tool, reference_values, path, limit=None):
    got = last_column(path)
    want = reference_values[: limit or len(reference_values)]
    same = len(got) == len(want) and np.array_equal(
        got.astype(np.float32), want.astype(np.float32), equal_nan=True)
    if not same:
        raise benchlib.BenchError("%s gave different values from rasterpool (%s)" % (tool, path))


# --------------------------------------------------------------------------
# One extraction table: rasterpool, the floor, and the peers


def extract_table(ctx, title, raster, points, peers=True, threads=None, floor_target=True):
    threads = threads or ctx.threads
    n = count_lines(points) - 1
    blocks = touched_blocks(ctx, raster, points)
    nblocks = count_lines(blocks)
    ds = gdal.Open(raster)
    setup = "%dx%d Float32 %s, %dx%d tiles; %s points (%s); %d blocks touched; %d threads" % (
        ds.RasterXSize, ds.RasterYSize,
        ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") or "uncompressed",
        TILE, TILE, format(n, ","), os.path.basename(points), nblocks, threads)
    table = Table(title, setup)
    out = ctx.out

    rp = table.add("rasterpool extract", measure(ctx, [
        ctx.rasterpool, "extract", raster, "--points", points, "-o", out("rp.csv"),
        "-j", str(threads), "--quiet"], fresh=out("rp.csv")), threads=threads,
        note="CSV in -> CSV out (a new file each run)")
    ref = last_column(out("rp.csv"))
    floor = table.add("floor (decode touched blocks only)", measure(ctx, [
        ctx.floor, raster, blocks, str(threads)]), threads=threads, note="bench/floor/floor_read.c")
    if floor_target:  # the target for scenarios 1 and 2
        table.ratio_target("rasterpool <= 1.25x the floor", rp, floor, 1.25, at_most=True)
    else:
        rp.note += "; %.2fx the floor" % (table.seconds(rp) / table.seconds(floor))
    if not peers:
        return table, rp, floor

    py = benchlib.PYTHON
    terra = table.add("terra::extract (R)", measure(ctx, [
        "Rscript", os.path.join(ctx.peers, "terra_extract.R"), raster, points, out("terra.csv")]),
        threads=1)
    terra.api = api_seconds(terra.result)
    check_same("terra", ref, out("terra.csv"))

    tiles1 = table.add("numpy tile-grouped", measure(ctx, [
        py, os.path.join(ctx.peers, "numpy_tiles.py"), raster, points, out("np_tiles.csv"), "1"]),
        threads=1)
    tiles1.api = api_seconds(tiles1.result)
    check_same("numpy tile-grouped", ref, out("np_tiles.csv"))
    tilesn = table.add("numpy tile-grouped + ThreadPoolExecutor", measure(ctx, [
        py, os.path.join(ctx.peers, "numpy_tiles.py"), raster, points, out("np_tiles_n.csv"),
        str(threads)]), threads=threads)
    tilesn.api = api_seconds(tilesn.result)
    check_same("numpy tile-grouped threads", ref, out("np_tiles_n.csv"))

    whole = table.add("numpy whole-band read + index", measure(ctx, [
        py, os.path.join(ctx.peers, "numpy_whole.py"), raster, points, out("np_whole.csv")],
        env={"GDAL_NUM_THREADS": "ALL_CPUS"}), threads="GDAL: all")
    whole.api = api_seconds(whole.result)
    check_same("numpy whole-band", ref, out("np_whole.csv"))

    subset = min(n, ctx.size(2000, 20000))
    rio = table.add("rasterio sample()", measure(ctx, [
        py, os.path.join(ctx.peers, "rasterio_sample.py"), raster, points, out("rio.csv"),
        str(subset)]), threads=1, note="")
    # Only the sampling loop is scaled up to all points; start-up and CSV
    # reading are counted once, as measured.
    sample_s = api_seconds(rio.result)
    rio.scale = (rio.result.median + sample_s * (n / subset - 1)) / rio.result.median
    rio.note = "sample() on the first %s points: %.3f s, scaled to all %s" % (
        format(subset, ","), sample_s, format(n, ","))
    check_same("rasterio", ref, out("rio.csv"), limit=subset)

    gli = table.add("gdallocationinfo -valonly (stdin)", measure(ctx,
        "tail -n +2 '%s' | cut -d, -f2,3 | tr , ' ' | gdallocationinfo -valonly -geoloc '%s'"
        % (points, raster), stdout=out("gli.txt")), threads=1, note="cut | tr | gdallocationinfo")
    check_same("gdallocationinfo", ref, out("gli.txt"))

    best_numpy = min(tiles1, tilesn, key=table.seconds)
    table.ratio_target(">= 1.5x faster than terra::extract", terra, rp, 1.5, at_most=False)
    table.ratio_target(">= 1.5x faster than the numpy tile-grouped extractor (its faster row)",
                       best_numpy, rp, 1.5, at_most=False)
    table.ratio_target(">= 15x faster than rasterio sample()", rio, rp, 15, at_most=False)
    table.ratio_target(">= 2x faster than gdallocationinfo", gli, rp, 2, at_most=False)
    table.notes.append("All tools gave the same values as rasterpool (checked after timing, as "
                       "float32).")
    return table, rp, floor


# --------------------------------------------------------------------------
# Scenarios


def raster_size(ctx):
    return ctx.size(2048, 8192)


def s1_uniform(ctx):
    size = raster_size(ctx)
    raster = make_raster(ctx, size, "DEFLATE")
    points = make_points(ctx, size, ctx.size(20000, 500000), "uniform", 1)
    return [extract_table(ctx, "1. uniform points, DEFLATE (every tile touched)", raster, points)[0]]


def s2_clustered(ctx):
    size = raster_size(ctx)
    raster = make_raster(ctx, size, "DEFLATE")
    points = make_points(ctx, size, ctx.size(20000, 500000), "clusters", 2)
    return [extract_table(ctx, "2. points in 5 Gaussian clusters, DEFLATE", raster, points)[0]]


def s3_memory(ctx):
    """Time and peak RSS per point: the same raster at two point counts, so
    that the difference in peak RSS is what the points cost. rasterpool and
    the floor only: the peers' answers to scenario 1 hold here too, and a
    whole-band read of 4 GiB would measure swap, not extraction."""
    size = ctx.size(4096, 32768)
    raster = make_raster(ctx, size, "DEFLATE")
    big_n, small_n = ctx.size(200000, 2000000), ctx.size(20000, 200000)
    big = make_points(ctx, size, big_n, "uniform", 3)
    small = make_points(ctx, size, small_n, "uniform", 4)
    table, rp, floor = extract_table(
        ctx, "3. %s points on a %dx%d raster: time and memory per point" % (
            format(big_n, ","), size, size), raster, big, peers=False, floor_target=False)
    small_res = measure(ctx, [ctx.rasterpool, "extract", raster, "--points", small, "-o",
                              ctx.out("rp_small.csv"), "-j", str(ctx.threads), "--quiet"])
    table.add("rasterpool extract, %s points" % format(small_n, ","), small_res,
              threads=ctx.threads, note="for the memory slope")
    slope = (rp.result.max_rss - small_res.max_rss) / (big_n - small_n)
    table.target("peak RSS <= 64 bytes a point plus block buffers", slope <= 64,
                 "%.1f B/point (peak RSS %.0f MB at %s points, %.0f MB at %s)" % (
                     slope, rp.result.max_rss / 1e6, format(big_n, ","),
                     small_res.max_rss / 1e6, format(small_n, ",")))
    table.notes.append("Bytes a point = difference of rasterpool's peak RSS between the two "
                       "point counts, divided by the difference of the counts.")
    return [table]


def s4_uncompressed(ctx):
    size = raster_size(ctx)
    raster = make_raster(ctx, size, "NONE")
    points = make_points(ctx, size, ctx.size(20000, 500000), "uniform", 1)
    table = extract_table(ctx, "4. uniform points, uncompressed tiles (per-point overhead)",
                          raster, points, floor_target=False)[0]
    return [table]


def s5_threads(ctx):
    size = raster_size(ctx)
    raster = make_raster(ctx, size, "DEFLATE")
    points = make_points(ctx, size, ctx.size(20000, 500000), "uniform", 1)
    blocks = touched_blocks(ctx, raster, points)
    counts = [1, 2] if ctx.quick else [t for t in (1, 2, 4, 8, 16) if t <= max(4, ctx.threads)]
    table = Table("5. thread scaling (scenario 1's data)",
                  "threads %s on %d usable CPUs; vs rasterpool = against rasterpool at 1 thread"
                  % (", ".join(map(str, counts)), ctx.threads))
    rows = {}
    py = benchlib.PYTHON
    for t in counts:
        rp = table.add("rasterpool extract -j %d" % t, measure(ctx, [
            ctx.rasterpool, "extract", raster, "--points", points, "-o", ctx.out("rp.csv"),
            "-j", str(t), "--quiet"]), threads=t)
        fl = table.add("floor -j %d" % t, measure(ctx, [ctx.floor, raster, blocks, str(t)]),
                       threads=t)
        np_t = table.add("numpy tile-grouped, %d threads" % t, measure(ctx, [
            py, os.path.join(ctx.peers, "numpy_tiles.py"), raster, points, ctx.out("np.csv"),
            str(t)]), threads=t)
        rp.note = "%.2fx the floor" % (table.seconds(rp) / table.seconds(fl))
        rows[t] = (rp, fl, np_t)
    r1 = table.seconds(rows[1][0])
    for t in counts[1:]:
        table.notes.append("rasterpool speed-up 1 -> %d threads: %.2fx (floor: %.2fx)" % (
            t, r1 / table.seconds(rows[t][0]),
            table.seconds(rows[1][1]) / table.seconds(rows[t][1])))
    if ctx.threads < 16:
        table.notes.append("This machine has %d usable CPUs: counts above it are "
                           "oversubscribed and show overhead, not scaling." % ctx.threads)
    return [table]


def phases(result):
    """The medians of the -v phases over the timed runs: read points (pass
    1: parse), read rasters (plan + block reading), write (pass 2: format
    and write)."""
    found = [re.search(r"time: read points ([0-9.]+) s, read rasters ([0-9.]+) s, write "
                       r"([0-9.]+) s", e) for e in result.stderrs]
    if not all(found):
        raise benchlib.BenchError("rasterpool -v printed no phase times")
    return [statistics.median(float(m.group(k)) for m in found) for k in (1, 2, 3)]


def s6_ten_million(ctx):
    """10M points: where the text work stands against the block work. The
    -v phases of rasterpool, and three floors: decoding the touched blocks,
    reading the points file (cat), writing as many bytes as the output
    (dd, buffered and with O_DIRECT as rasterpool writes a CSV file): the
    work no extractor avoids."""
    size = raster_size(ctx)
    raster = make_raster(ctx, size, "DEFLATE")
    n = ctx.size(200000, 10000000)
    points = make_points(ctx, size, n, "uniform", 6)
    blocks = touched_blocks(ctx, raster, points)
    t = ctx.threads
    table = Table("6. %s uniform points, DEFLATE: phases of the work" % format(n, ","),
                  "%dx%d Float32 DEFLATE, 256x256 tiles; %s points (%s, %.0f MB); %d blocks "
                  "touched; %d threads" % (size, size, format(n, ","), os.path.basename(points),
                                           os.path.getsize(points) / 1e6, count_lines(blocks), t))
    out = ctx.out("rp10m.csv")
    rp = table.add("rasterpool extract -v", measure(ctx, [
        ctx.rasterpool, "extract", raster, "--points", points, "-o", out, "-j", str(t), "-v"],
        fresh=out), threads=t, note="CSV in -> CSV out (a new file each run)")
    parse, blocks_s, write = phases(rp.result)
    out_bytes = os.path.getsize(out)
    rp.note += "; phases (medians): read points %.3f s, read rasters %.3f s, write %.3f s; " \
               "peak RSS / points: %.0f B" % (parse, blocks_s, write, rp.result.max_rss / n)
    again = table.add("rasterpool extract -v, replacing its output", measure(ctx, [
        ctx.rasterpool, "extract", raster, "--points", points, "-o", out, "-j", str(t), "-v"]),
        threads=t, note="each run replaces the previous run's output")
    again.note += "; write phase (median) %.3f s: freeing the old file's blocks is the file " \
                  "system's work" % phases(again.result)[2]
    floor = table.add("floor (decode touched blocks only)", measure(ctx, [
        ctx.floor, raster, blocks, str(t)]), threads=t, note="bench/floor/floor_read.c")
    table.add("read the points file (cat > /dev/null)", measure(
        ctx, "cat '%s' > /dev/null" % points), threads=1, note="page cache to user space")
    table.add("write the output's bytes (dd bs=4M)", measure(
        ctx, "dd if=/dev/zero of='%s' bs=4M count=%d iflag=count_bytes status=none" % (
            ctx.out("dd10m.bin"), out_bytes), fresh=ctx.out("dd10m.bin")), threads=1,
        note="%.0f MB into a new file beside rasterpool's output" % (out_bytes / 1e6))
    table.add("write the output's bytes (dd bs=4M oflag=direct)", measure(
        ctx, "dd if=/dev/zero of='%s' bs=4M count=%d iflag=count_bytes oflag=direct "
        "status=none" % (ctx.out("dd10m.bin"), out_bytes), fresh=ctx.out("dd10m.bin")),
        threads=1,
        note="the same past the page cache, as rasterpool writes a CSV file")
    os.remove(ctx.out("dd10m.bin"))
    table.target("parse + format phases <= the block-reading phase",
                 parse + write <= blocks_s, "%.3f + %.3f = %.3f s against %.3f s (%.2fx)" % (
                     parse, write, parse + write, blocks_s, (parse + write) / blocks_s))
    rp_floor = table.seconds(rp) / table.seconds(floor)
    table.notes.append("rasterpool end to end: %.2fx the decode floor. The phases are "
                       "rasterpool's own (-v): read points = pass 1 over the CSV (parse the "
                       "coordinates), read rasters = plan + decode + scatter values to the "
                       "points, write = pass 2 (read the rows again, format the values, "
                       "write)." % rp_floor)
    return [table]


SCENARIOS = [
    Scenario("uniform", "scenario 1: 500k uniform points, DEFLATE", s1_uniform),
    Scenario("clustered", "scenario 2: 500k clustered points, DEFLATE", s2_clustered),
    Scenario("memory", "scenario 3: 2M points on 32768x32768, time and RSS per point", s3_memory),
    Scenario("uncompressed", "scenario 4: 500k points, uncompressed tiles", s4_uncompressed),
    Scenario("threads", "scenario 5: thread scaling", s5_threads),
    Scenario("ten_million", "scenario 6: 10M uniform points, DEFLATE: phases", s6_ten_million),
]
