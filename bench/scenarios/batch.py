"""batch — one gdalwarp job over many files: rasterpool batch warp against
GNU parallel + gdalwarp (one gdalwarp process per file) and a Python
multiprocessing Pool (spawn, per-worker init, gdal.Warp; peers/mp_warp.py),
all at the same number of parallel jobs (the CPUs this process may use).

Two scenarios: many small files, where the per-file start-up cost of a new
process dominates (rasterpool's workers are started once and stay); and a few
large files, where the warp itself dominates and rasterpool must not be
slower. Every timed run starts from an empty output folder. After timing,
some outputs of each peer are checked equal (pixels, geotransform, size) to
rasterpool's, so the table only compares tools that gave the same answer.
Peak RSS (GNU time) is that of the largest single process of the run (a
worker, a gdalwarp, or the pool's parent), not the sum over processes.
"""
import os

import numpy as np
from osgeo import gdal, osr

import benchlib
from benchlib import BenchError, Scenario, Table, measure

gdal.UseExceptions()

WARP = ["-t_srs", "EPSG:4326", "-r", "bilinear", "-co", "COMPRESS=DEFLATE", "-co", "TILED=YES"]


def make_set(ctx, tag, count, size):
    """count Int16 DEFLATE GeoTIFFs of size x size (UTM 33N, 10 m, terrain
    plus noise, 256x256 tiles), in a folder of their own; returns the list
    file (one path a line)."""
    folder = ctx.data("batch_%s_%d_%d" % (tag, count, size))
    params = {"count": count, "size": size, "v": 1}

    def make(list_path):
        os.makedirs(folder, exist_ok=True)
        paths = []
        for i in range(count):
            p = os.path.join(folder, "s%04d.tif" % i)
            ds = gdal.GetDriverByName("GTiff").Create(
                p, size, size, 1, gdal.GDT_Int16,
                ["TILED=YES", "COMPRESS=DEFLATE", "NUM_THREADS=ALL_CPUS"])
            x0 = 300000.0 + (i % 20) * size * 10.0
            y0 = 5200000.0 - (i // 20) * size * 10.0
            ds.SetGeoTransform([x0, 10.0, 0, y0, 0, -10.0])
            srs = osr.SpatialReference()
            srs.ImportFromEPSG(32633)
            ds.SetProjection(srs.ExportToWkt())
            band = ds.GetRasterBand(1)
            rng = np.random.default_rng(i)
            u = np.arange(size, dtype=np.float32) / size
            step = 1024
            for r0 in range(0, size, step):
                v = (np.arange(r0, min(r0 + step, size), dtype=np.float32) / size)[:, None]
                z = 800 + 400 * np.sin(6.0 * u + i)[None, :] * np.cos(4.0 * v) \
                    + rng.normal(0, 2, (v.shape[0], size))
                band.WriteArray(z.astype(np.int16), 0, r0)
            ds = None
            paths.append(p)
        with open(list_path, "w") as f:
            f.write("\n".join(paths) + "\n")

    return benchlib.cached(ctx, "batch_%s_%d_%d.txt" % (tag, count, size), params, make)


def fresh(out):
    """Shell prefix: an empty output folder for every timed run."""
    return "rm -rf %s && mkdir -p %s && " % (out, out)


def check_same(list_path, dirs, every):
    """Outputs of every `every`-th input must be equal across tools."""
    with open(list_path) as f:
        names = [os.path.basename(line.strip()) for line in f if line.strip()]
    ref_dir = dirs[0][1]
    for name in names[::every]:
        ref = gdal.Open(os.path.join(ref_dir, name))
        ra = ref.ReadAsArray()
        for tool, d in dirs[1:]:
            other = gdal.Open(os.path.join(d, name))
            if (other.RasterXSize, other.RasterYSize) != (ref.RasterXSize, ref.RasterYSize) or \
                    not np.allclose(other.GetGeoTransform(), ref.GetGeoTransform(), rtol=0,
                                    atol=1e-12) or not np.array_equal(other.ReadAsArray(), ra):
                raise BenchError("%s: %s differs from rasterpool's output" % (tool, name))


def run_set(ctx, title, tag, count, size, runs):
    lst = make_set(ctx, tag, count, size)
    j = ctx.threads
    opts = " ".join(WARP)
    out = {k: ctx.out("batch_%s_%s" % (tag, k)) for k in ("rp", "parallel", "mp")}
    rp_cmd = fresh(out["rp"]) + "%s batch warp --inputs %s --out-dir %s -j %d -q -- %s" % (
        ctx.rasterpool, lst, out["rp"], j, opts)
    par_cmd = fresh(out["parallel"]) + (
        "parallel --will-cite -j %d gdalwarp -q -overwrite %s {} %s/{/} :::: %s" % (
            j, opts, out["parallel"], lst))
    mp_cmd = fresh(out["mp"]) + "%s %s %d %s %s %s" % (
        benchlib.PYTHON, os.path.join(ctx.peers, "mp_warp.py"), j, lst, out["mp"], opts)
    table = Table(title, "%d Int16 DEFLATE GeoTIFFs of %dx%d (UTM 33N) -> gdalwarp %s; "
                  "%d parallel jobs" % (count, size, size, opts, j))
    rp = table.add("rasterpool batch warp", measure(ctx, rp_cmd, runs=runs), threads=j,
                   note="persistent workers, atomic outputs, journal")
    par = table.add("GNU parallel + gdalwarp", measure(ctx, par_cmd, runs=runs), threads=j,
                    note="one gdalwarp process per file")
    mpr = table.add("Python multiprocessing + gdal.Warp", measure(ctx, mp_cmd, runs=runs),
                    threads=j, note="spawn Pool, per-worker init")
    check_same(lst, [("rasterpool", out["rp"]), ("parallel", out["parallel"]),
                     ("multiprocessing", out["mp"])], max(1, count // 10))
    return table, rp, par, mpr


def small(ctx):
    count, size = ctx.size((24, 128), (200, 512))
    table, rp, par, mpr = run_set(ctx, "batch warp: many small files", "small", count, size,
                                  None)
    table.ratio_target(">= 1.5x faster than GNU parallel + gdalwarp", par, rp, 1.5, False)
    table.ratio_target(">= 1.5x faster than Python multiprocessing", mpr, rp, 1.5, False)
    return [table]


def large(ctx):
    count, size = ctx.size((2, 1024), (8, 8192))
    runs = ctx.size(None, 3)
    table, rp, par, mpr = run_set(ctx, "batch warp: a few large files", "large", count, size,
                                  runs)
    table.ratio_target("no slower than GNU parallel + gdalwarp", rp, par, 1.05, True)
    table.ratio_target("no slower than Python multiprocessing", rp, mpr, 1.05, True)
    table.notes.append("'no slower' allows 5% of run-to-run noise on this shared machine.")
    return [table]


SCENARIOS = [
    Scenario("batch_small", "batch warp: 200 small files to EPSG:4326 vs parallel and "
             "multiprocessing", small),
    Scenario("batch_large", "batch warp: 8 large files to EPSG:4326 vs parallel and "
             "multiprocessing", large),
]
