"""calc — block-wise raster processing: rasterpool calc against gdal_calc.py,
the rasterio guide's ThreadPoolExecutor pattern (bench/peers/
calc_threadpool.py), and the codec floor (gdal_translate with the same
creation options, decoding and encoding with all threads).

Scenarios: 1. A*2+1 and 2. NDVI of two inputs, 8192x8192 Float32 DEFLATE
256x256 tiles to a DEFLATE tiled output; 3. the band-reversing CPU-heavy
kernel (examples/kernels/reverse_bands.c) on a 3-band raster, thread scaling.
After timing, every tool's output is checked against rasterpool's.
"""
import os

import numpy as np
from osgeo import gdal

import benchlib
from benchlib import Scenario, Table, api_seconds, measure

gdal.UseExceptions()

TILE = 256
# Every tool gets the same creation options, NUM_THREADS (GDAL's encoder
# threads) included.
CO = ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "COMPRESS=DEFLATE"]


def make_input(ctx, size, seed):
    """size x size Float32, DEFLATE, 256x256 tiles: smooth terrain plus
    centimetre noise (compresses about 2:1, like real data)."""
    name = "calc_%d_%d.tif" % (size, seed)
    params = {"size": size, "seed": seed, "v": 1}

    def make(path):
        ds = gdal.GetDriverByName("GTiff").Create(
            path, size, size, 1, gdal.GDT_Float32,
            ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "COMPRESS=DEFLATE",
             "NUM_THREADS=ALL_CPUS", "BIGTIFF=IF_SAFER"])
        ds.SetGeoTransform([500000, 10, 0, 6000000, 0, -10])
        band = ds.GetRasterBand(1)
        rng = np.random.default_rng(seed)
        u = np.arange(size, dtype=np.float32) / size
        for y0 in range(0, size, TILE):
            v = (np.arange(y0, min(y0 + TILE, size), dtype=np.float32) / size)[:, None]
            z = (800 + 400 * np.sin(6.0 * u + seed)[None, :] * np.cos(4.0 * v)
                 + 150 * np.sin(31.0 * u + 17.0 * v))
            z += np.round(rng.normal(0, 0.5, z.shape), 2)
            band.WriteArray(z.astype(np.float32), 0, y0)
        ds = None

    return benchlib.cached(ctx, name, params, make)


def make_rgb(ctx, size):
    name = "calc_rgb_%d.tif" % size
    params = {"size": size, "v": 1}

    def make(path):
        ds = gdal.GetDriverByName("GTiff").Create(
            path, size, size, 3, gdal.GDT_Byte,
            ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "COMPRESS=DEFLATE"])
        rng = np.random.default_rng(size)
        for b in range(3):
            ds.GetRasterBand(b + 1).WriteArray(rng.integers(0, 256, (size, size), dtype=np.uint8))
        ds = None

    return benchlib.cached(ctx, name, params, make)


def all_blocks(ctx, raster):
    """Every block of a raster, for the floor program (decode only)."""
    name = os.path.basename(raster)[:-4] + ".allblocks"
    params = {"raster": os.path.basename(raster), "mtime": os.path.getmtime(raster)}

    def make(path):
        ds = gdal.Open(raster)
        nx = (ds.RasterXSize + TILE - 1) // TILE
        ny = (ds.RasterYSize + TILE - 1) // TILE
        with open(path, "w") as f:
            for y in range(ny):
                for x in range(nx):
                    f.write("%d %d\n" % (x, y))

    return benchlib.cached(ctx, name, params, make)


def read(path):
    return gdal.Open(path).ReadAsArray()


def check(tool, want, path, exact):
    got = read(path)
    ok = got.shape == want.shape and (
        np.array_equal(got, want, equal_nan=True) if exact
        else np.allclose(got, want, rtol=2e-7, atol=0, equal_nan=True))
    if not ok:
        raise benchlib.BenchError("%s gave a different raster from rasterpool (%s)" % (tool, path))


def co_args(flag, threads):
    out = []
    for c in CO + ["NUM_THREADS=%d" % threads]:
        out += [flag, c]
    return out


def expr_table(ctx, title, inputs, expr, gdal_calc_expr, mode):
    t = ctx.threads
    out = ctx.out
    ds = gdal.Open(inputs[0])
    setup = "%d input(s) %dx%d Float32 DEFLATE 256x256 tiles -> Float32 DEFLATE 256x256 tiles; " \
            "%d threads; expression %s" % (len(inputs), ds.RasterXSize, ds.RasterYSize, t, expr)
    table = Table(title, setup)
    names = "AB"
    args = []
    for n, p in zip(names, inputs):
        args += ["-i", "%s=%s" % (n, p)]
    rp = table.add("rasterpool calc", measure(ctx, [
        ctx.rasterpool, "calc"] + args + ["-e", expr, "-o", out("rp_calc.tif"), "--ot", "Float32",
                                          "-j", str(t), "-q"] + co_args("--co", t)), threads=t)
    ref = read(out("rp_calc.tif"))
    # the codec floor: decode the inputs and encode one output, all threads
    tr = table.add("gdal_translate (codec floor)", measure(ctx, [
        "gdal_translate", "-q", "--config", "GDAL_NUM_THREADS", str(t)] + co_args("-co", t) + [
        inputs[0], out("translate.tif")]), threads=t,
        note="decode + encode input A, the same creation options")
    floor_rows = [tr]
    if len(inputs) > 1:
        dec = table.add("floor_read of input B (decode only)", measure(ctx, [
            ctx.floor, inputs[1], all_blocks(ctx, inputs[1]), str(t)]), threads=t,
            note="bench/floor/floor_read.c, every block")
        floor_rows.append(dec)
    floor_s = sum(table.seconds(r) for r in floor_rows)
    gc_args = []
    for n, p in zip(names, inputs):
        gc_args += ["-%s" % n, p]
    gc_cmd = ["gdal_calc.py", "--quiet", "--overwrite", "--type=Float32",
              "--calc=" + gdal_calc_expr, "--outfile=" + out("gdal_calc.tif")] + gc_args
    gc = table.add("gdal_calc.py", measure(ctx, gc_cmd + co_args("--co", t)[:-2]), threads=1,
                   note="as usually run: the same options but NUM_THREADS; numpy, float32")
    check("gdal_calc.py", ref, out("gdal_calc.tif"), exact=mode == "a2p1")
    gct = table.add("gdal_calc.py --co NUM_THREADS=%d" % t, measure(ctx, gc_cmd + co_args("--co", t)),
                    threads="1 + %d encoder" % t, note="its encoder on all threads")
    check("gdal_calc.py NUM_THREADS", ref, out("gdal_calc.tif"), exact=mode == "a2p1")
    tp = table.add("rasterio + ThreadPoolExecutor (guide)", measure(ctx, [
        benchlib.PYTHON, os.path.join(ctx.peers, "calc_threadpool.py"), mode,
        out("threadpool.tif"), str(t)] + inputs), threads=t,
        note="bench/peers/calc_threadpool.py")
    tp.api = api_seconds(tp.result)
    check("rasterio ThreadPoolExecutor", ref, out("threadpool.tif"), exact=mode == "a2p1")
    r = table.seconds(rp) / floor_s
    table.target("rasterpool <= 1.2x the codec floor", r <= 1.2,
                 "%.2fx (floor %.3f s%s)" % (r, floor_s,
                                             " = translate A + decode B" if len(inputs) > 1 else ""))
    table.ratio_target(">= 3x faster than gdal_calc.py (as usually run)", gc, rp, 3, at_most=False)
    table.notes.append("Against gdal_calc.py with its encoder on %d threads: %.2fx." % (
        t, table.seconds(gct) / table.seconds(rp)))
    table.notes.append("Outputs checked against rasterpool's after timing (%s)." % (
        "exactly" if mode == "a2p1" else
        "within 2e-7 relative: the peers compute in float32, rasterpool in double"))
    if t < 4:
        table.notes.append(
            "On %d CPUs every tool is bound by the same DEFLATE decode and encode work; "
            "gdal_calc.py decodes and computes on one thread, so no tool can gain much more "
            "than %dx on it here." % (t, t))
    return [table]


def s1_scale(ctx):
    size = ctx.size(1024, 8192)
    a = make_input(ctx, size, 1)
    return expr_table(ctx, "1. A*2+1, Float32 DEFLATE to DEFLATE", [a], "A*2+1", "A*2+1", "a2p1")


def s2_ndvi(ctx):
    size = ctx.size(1024, 8192)
    a, b = make_input(ctx, size, 1), make_input(ctx, size, 2)
    return expr_table(ctx, "2. NDVI of two inputs, Float32 DEFLATE to DEFLATE", [a, b],
                      "(A-B)/(A+B)", "(A-B)/(A+B)", "ndvi")


def s3_kernel(ctx):
    size = ctx.size(512, 2048)
    iterations = ctx.size(100, 2000)  # 2000: the guide's
    rgb = make_rgb(ctx, size)
    kernel = os.path.join(ctx.build_dir, "reverse_bands.so") + ":reverse_bands"
    counts = [t for t in (1, 2, 4, 8, 16) if t <= max(2, ctx.threads)]
    table = Table("3. reverse_bands kernel (CPU-heavy), thread scaling",
                  "%dx%d 3-band Byte DEFLATE; %d additions a value; threads %s on %d usable CPUs; "
                  "vs rasterpool = against rasterpool at 1 thread" % (
                      size, size, iterations, ", ".join(map(str, counts)), ctx.threads))
    rows = {}
    for t in counts:
        rows[t] = table.add("rasterpool calc --kernel, -j %d" % t, measure(ctx, [
            ctx.rasterpool, "calc", "-i", "A=" + rgb, "--kernel", kernel, "--kernel-arg",
            str(iterations), "-o", ctx.out("rp_rev_%d.tif" % t), "-j", str(t), "-q"] +
            co_args("--co", t)), threads=t)
    want = read(rgb)[::-1]
    check("rasterpool -j 1", want, ctx.out("rp_rev_1.tif"), exact=True)
    tp = table.add("rasterio + ThreadPoolExecutor (guide), numpy work", measure(ctx, [
        benchlib.PYTHON, os.path.join(ctx.peers, "calc_threadpool.py"), "reverse",
        ctx.out("tp_rev.tif"), str(ctx.threads), rgb, str(iterations)], runs=ctx.size(None, 3)),
        threads=ctx.threads, note="the same additions as numpy array passes")
    tp.api = api_seconds(tp.result)
    check("ThreadPoolExecutor", want, ctx.out("tp_rev.tif"), exact=True)
    r1 = table.seconds(rows[1])
    if 2 in rows:
        table.ratio_target(">= 1.8x faster from 1 to 2 threads (on 2 idle cores)", rows[1],
                           rows[2], 1.8, at_most=False)
    for t in counts[2:]:
        table.notes.append("speed-up 1 -> %d threads: %.2fx" % (t, r1 / table.seconds(rows[t])))
    if ctx.threads < 16:
        table.notes.append("This machine has %d usable CPUs: larger counts were not run. The "
                           "machine is shared, so a busy neighbour lowers the 2-thread figure."
                           % ctx.threads)
    return [table]


SCENARIOS = [
    Scenario("calc_scale", "calc 1: A*2+1 on 8192x8192 Float32 DEFLATE", s1_scale),
    Scenario("calc_ndvi", "calc 2: NDVI of two 8192x8192 Float32 DEFLATE inputs", s2_ndvi),
    Scenario("calc_kernel", "calc 3: reverse_bands kernel, thread scaling", s3_kernel),
]
