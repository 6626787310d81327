"""zonal — zonal statistics over polygons: rasterpool zonal against the
floor (bench/floor/floor_read.c decoding every block the polygons' bounding
boxes touch, once, on the same threads), terra::extract(fun=mean) (cell
centres), terra::extract(exact=TRUE) (exact fractions; on a subset of the
polygons, time scaled up, as it is very slow) and a rasterstats-style
Python baseline (per polygon: a window read and a rasterization of the
polygon on it, numpy mean).

Scenarios (a), (b), (c) of issue 11 ((b) and (c): rasterpool against the
floor, and the rasterstats-style baseline on (c)). (a): the 8192x8192 Float32 DEFLATE DEM of
extract_local (256x256 tiles), 2,000 star-shaped polygons of 4-200
vertices, a sixth of them 3-12 km across, some with holes, some partly or
wholly off the raster. --quick: the 2048x2048 DEM and 200 polygons.

Answers are checked after timing: terra exact=TRUE's means agree with
rasterpool's within 1e-6 relative on its subset; the cell-centre tools
answer a different question (a cell counts whole when its centre is
inside), so their means are compared only loosely (median relative
difference reported in a note).
"""
import math
import os

import numpy as np
from osgeo import gdal, ogr, osr

import benchlib
from benchlib import Scenario, Table, api_seconds, measure
from extract_local import PIXEL, TILE, X0, Y0, make_raster

gdal.UseExceptions()
ogr.UseExceptions()

TERRA_MEAN_R = r"""
suppressMessages(library(terra))
a <- commandArgs(TRUE)
r <- rast(a[1]); v <- vect(a[2])
if (length(a) > 3) v <- v[seq_len(as.integer(a[4])), ]
t0 <- Sys.time()
e <- extract(r, v, fun=mean, na.rm=TRUE, exact=(a[5] == "exact"))
cat(sprintf("api_seconds=%.6f\n", as.numeric(Sys.time() - t0, units="secs")), file=stderr())
write.csv(e, a[3], row.names=FALSE)
"""

RASTERSTATS_PY = r"""
import sys, time
import numpy as np
from osgeo import gdal, ogr
gdal.UseExceptions()
r, polys, out = sys.argv[1:4]
ds = gdal.Open(r); band = ds.GetRasterBand(1); gt = ds.GetGeoTransform()
nd = band.GetNoDataValue()
t0 = time.time()
vds = ogr.Open(polys)
lyr = vds.GetLayer(0)
res = []
mem = gdal.GetDriverByName("MEM")
for f in lyr:
    g = f.GetGeometryRef()
    x0, x1, y0, y1 = g.GetEnvelope()
    c0 = max(0, int(np.floor((x0 - gt[0]) / gt[1]))); c1 = min(ds.RasterXSize, int(np.ceil((x1 - gt[0]) / gt[1])))
    r0 = max(0, int(np.floor((y1 - gt[3]) / gt[5]))); r1 = min(ds.RasterYSize, int(np.ceil((y0 - gt[3]) / gt[5])))
    if c0 >= c1 or r0 >= r1:
        res.append(""); continue
    a = band.ReadAsArray(c0, r0, c1 - c0, r1 - r0)
    m = mem.Create("", c1 - c0, r1 - r0, 1, gdal.GDT_Byte)
    m.SetGeoTransform((gt[0] + c0 * gt[1], gt[1], 0, gt[3] + r0 * gt[5], 0, gt[5]))
    one = ogr.GetDriverByName("Memory").CreateDataSource("")
    l1 = one.CreateLayer("p", lyr.GetSpatialRef(), ogr.wkbPolygon)
    f1 = ogr.Feature(l1.GetLayerDefn()); f1.SetGeometry(g.Clone()); l1.CreateFeature(f1)
    gdal.RasterizeLayer(m, [1], l1, burn_values=[1])
    sel = m.ReadAsArray() == 1
    if nd is not None:
        sel &= a != nd
    res.append("%.17g" % a[sel].mean() if sel.any() else "")
sys.stderr.write("api_seconds=%.6f\n" % (time.time() - t0))
open(out, "w").write("mean\n" + "\n".join(res) + "\n")
"""


def star(rng, cx, cy, r_out, n):
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    rad = np.where(np.arange(n) % 2 == 0, r_out, r_out * rng.uniform(0.45, 0.9, n))
    return [(cx + rr * math.cos(tt), cy + rr * math.sin(tt)) for rr, tt in zip(rad, t)]


def make_polygons(ctx, size, n, seed):
    """n star polygons over a size x size raster (PIXEL m cells), in its CRS:
    4-200 vertices; a sixth 3-12 km across, the rest 100 m - 2 km; every
    fifth with a hole; about 5% partly or wholly off the raster."""
    name = "zonal_stars_%d_%d.gpkg" % (size, n)
    params = {"size": size, "n": n, "seed": seed, "v": 1}

    def make(path):
        rng = np.random.default_rng(seed)
        extent = size * PIXEL
        drv = ogr.GetDriverByName("GPKG")
        ds = drv.CreateDataSource(path)
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(32632)
        lyr = ds.CreateLayer("stars", srs, ogr.wkbPolygon)
        lyr.CreateField(ogr.FieldDefn("pid", ogr.OFTInteger))
        lyr.StartTransaction()
        for i in range(n):
            big = i % 6 == 0
            diam = rng.uniform(3000, 12000) if big else rng.uniform(100, 2000)
            off = rng.random() < 0.05
            lo, hi = (-0.1, 1.1) if off else (0.02, 0.98)
            cx, cy = X0 + rng.uniform(lo, hi) * extent, Y0 - rng.uniform(lo, hi) * extent
            nv = int(rng.integers(2, 101)) * 2
            ring = ogr.Geometry(ogr.wkbLinearRing)
            pts = star(rng, cx, cy, diam / 2, nv)
            for x, y in pts + [pts[0]]:
                ring.AddPoint_2D(x, y)
            poly = ogr.Geometry(ogr.wkbPolygon)
            poly.AddGeometry(ring)
            if i % 5 == 0:
                hole = ogr.Geometry(ogr.wkbLinearRing)
                hp = [(cx + diam * 0.08 * math.cos(a), cy + diam * 0.08 * math.sin(a))
                      for a in np.linspace(0, 2 * math.pi, 12, endpoint=False)]
                for x, y in hp + [hp[0]]:
                    hole.AddPoint_2D(x, y)
                poly.AddGeometry(hole)
            f = ogr.Feature(lyr.GetLayerDefn())
            f.SetField("pid", i)
            f.SetGeometry(poly)
            lyr.CreateFeature(f)
        lyr.CommitTransaction()
        ds = None

    return benchlib.cached(ctx, name, params, make)


def touched_blocks(ctx, raster, polys):
    """The floor's input: the blocks the polygons' bounding boxes touch."""
    name = os.path.basename(polys)[:-5] + ".blocks"
    params = {"raster": os.path.basename(raster), "polys": os.path.basename(polys),
              "mtime": (os.path.getmtime(raster), os.path.getmtime(polys))}

    def make(path):
        ds = gdal.Open(raster)
        gt, w, h = ds.GetGeoTransform(), ds.RasterXSize, ds.RasterYSize
        blocks = set()
        vds = ogr.Open(polys)
        for f in vds.GetLayer(0):
            x0, x1, y0, y1 = f.GetGeometryRef().GetEnvelope()
            c0 = max(0, math.floor((x0 - gt[0]) / gt[1]))
            c1 = min(w, math.ceil((x1 - gt[0]) / gt[1]))
            r0 = max(0, math.floor((y1 - gt[3]) / gt[5]))
            r1 = min(h, math.ceil((y0 - gt[3]) / gt[5]))
            if c0 < c1 and r0 < r1:
                for by in range(r0 // TILE, (r1 - 1) // TILE + 1):
                    for bx in range(c0 // TILE, (c1 - 1) // TILE + 1):
                        blocks.add((bx, by))
        with open(path, "w") as out:
            out.writelines("%d %d\n" % b for b in sorted(blocks))

    return benchlib.cached(ctx, name, params, make)


def read_means(path, column):
    """The values of one column (a name, or a position) of a CSV file."""
    import csv
    with open(path) as f:
        rows = list(csv.reader(f))
    k = rows[0].index(column) if isinstance(column, str) else column
    return np.array([float(r[k]) if r[k] not in ("", "NA", "NaN") else np.nan for r in rows[1:]])


def sa_zonal(ctx):
    size = ctx.size(2048, 8192)
    n = ctx.size(200, 2000)
    threads = ctx.threads
    raster = make_raster(ctx, size, "DEFLATE")
    polys = make_polygons(ctx, size, n, 11)
    blocks = touched_blocks(ctx, raster, polys)
    with open(blocks) as f:
        nblocks = sum(1 for _ in f)
    table = Table("a. %s star polygons (4-200 vertices, a sixth 3-12 km across)" % format(n, ","),
                  "%dx%d Float32 DEFLATE, 256x256 tiles; %d blocks touched; %d threads" % (
                      size, size, nblocks, threads))
    out = ctx.out
    rp = table.add("rasterpool zonal -s mean", measure(ctx, [
        ctx.rasterpool, "zonal", raster, "--polygons", polys, "-s", "mean", "-o", out("zonal.csv"),
        "-j", str(threads), "-q"]), threads=threads, note="exact coverage fractions")
    ref = read_means(out("zonal.csv"), "mean")
    floor = table.add("floor (decode touched blocks only)", measure(ctx, [
        ctx.floor, raster, blocks, str(threads)]), threads=threads,
        note="bench/floor/floor_read.c")
    table.ratio_target("rasterpool within 2x of the decode floor", rp, floor, 2.0, at_most=True)

    if ctx.quick:  # terra takes minutes even on small inputs: full runs only
        table.notes.append("--quick: terra rows left out (minutes even at this size).")
    else:
        terra_rows(ctx, table, raster, polys, n, ref, rp)
    with open(out("rasterstats_like.py"), "w") as f:
        f.write(RASTERSTATS_PY)
    rs = table.add("rasterstats-style Python (window + rasterize)", measure(ctx, [
        benchlib.PYTHON, out("rasterstats_like.py"), raster, polys, out("rs.csv")]), threads=1)
    rs.api = api_seconds(rs.result)
    table.notes.append("peak RSS is in the table; rasterpool's bound: README 'Bounds', "
                       "zonal rows.")
    return [table]


def terra_rows(ctx, table, raster, polys, n, ref, rp):
    out = ctx.out
    with open(out("terra_zonal.R"), "w") as f:
        f.write(TERRA_MEAN_R)
    terra = table.add("terra::extract(fun=mean) (cell centres)", measure(ctx, [
        "Rscript", out("terra_zonal.R"), raster, polys, out("terra_mean.csv"), str(n), "centre"],
        runs=1),
        threads=1)
    terra.api = api_seconds(terra.result)
    sub = 10
    ex = table.add("terra::extract(exact=TRUE)", measure(ctx, [
        "Rscript", out("terra_zonal.R"), raster, polys, out("terra_exact.csv"), str(sub), "exact"],
        runs=1),
        threads=1)
    ex_api = api_seconds(ex.result)
    ex.scale = (ex.result.median + ex_api * (n / sub - 1)) / ex.result.median
    ex.note = "on the first %d polygons: extract() %.2f s, scaled to all %d" % (sub, ex_api, n)
    te = read_means(out("terra_exact.csv"), 1)
    both = ~np.isnan(te) & ~np.isnan(ref[:sub])
    if not np.allclose(te[both], ref[:sub][both], rtol=1e-6) or \
            (np.isnan(te) != np.isnan(ref[:sub])).any():
        raise benchlib.BenchError("terra exact=TRUE means differ from rasterpool's")

    tc = read_means(out("terra_mean.csv"), 1)
    ok = ~np.isnan(tc) & ~np.isnan(ref)
    rel = np.median(np.abs(tc[ok] - ref[ok]) / np.abs(ref[ok])) if ok.any() else float("nan")
    table.ratio_target(">= 20x faster than terra's default", terra, rp, 20, at_most=False)
    table.notes.append("terra exact=TRUE agrees with rasterpool's means within 1e-6 relative on "
                       "its subset; the cell-centre tools answer another question (median "
                       "relative difference of terra's cell-centre means: %.2g)." % rel)


def make_boxes(ctx, size, n, kind, seed):
    """(b) n small parcels (20-200 m quadrilaterals, slightly skewed) spread
    over the raster, or (c) n polygons each covering a large share of it
    (octagons 40-70% of the raster across, overlapping)."""
    name = "zonal_%s_%d_%d.gpkg" % (kind, size, n)
    params = {"size": size, "n": n, "kind": kind, "seed": seed, "v": 1}

    def make(path):
        rng = np.random.default_rng(seed)
        extent = size * PIXEL
        ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(32632)
        lyr = ds.CreateLayer(kind, srs, ogr.wkbPolygon)
        lyr.CreateField(ogr.FieldDefn("pid", ogr.OFTInteger))
        lyr.StartTransaction()
        for i in range(n):
            cx, cy = X0 + rng.uniform(0.02, 0.98) * extent, Y0 - rng.uniform(0.02, 0.98) * extent
            if kind == "parcels":
                r = rng.uniform(10, 100)
                ang = np.sort(rng.uniform(0, 2 * math.pi, 4))
            else:
                r = rng.uniform(0.2, 0.35) * extent
                cx, cy = X0 + rng.uniform(0.35, 0.65) * extent, Y0 - rng.uniform(0.35, 0.65) * extent
                ang = np.linspace(0, 2 * math.pi, 8, endpoint=False) + rng.uniform(0, 1)
            ring = ogr.Geometry(ogr.wkbLinearRing)
            pts = [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in ang]
            for x, y in pts + [pts[0]]:
                ring.AddPoint_2D(x, y)
            poly = ogr.Geometry(ogr.wkbPolygon)
            poly.AddGeometry(ring)
            f = ogr.Feature(lyr.GetLayerDefn())
            f.SetField("pid", i)
            f.SetGeometry(poly)
            lyr.CreateFeature(f)
        lyr.CommitTransaction()
        ds = None

    return benchlib.cached(ctx, name, params, make)


def floor_table(ctx, title, raster, polys, target, extra=None):
    """rasterpool against the decode floor (and the rasterstats-style
    baseline when asked)."""
    blocks = touched_blocks(ctx, raster, polys)
    with open(blocks) as f:
        nblocks = sum(1 for _ in f)
    ds = gdal.Open(raster)
    table = Table(title, "%dx%d Float32 DEFLATE, 256x256 tiles; %d blocks touched; %d threads" % (
        ds.RasterXSize, ds.RasterYSize, nblocks, ctx.threads))
    rp = table.add("rasterpool zonal -s mean", measure(ctx, [
        ctx.rasterpool, "zonal", raster, "--polygons", polys, "-s", "mean", "-o",
        ctx.out("zonal_bc.csv"), "-j", str(ctx.threads), "-q"]), threads=ctx.threads)
    floor = table.add("floor (decode touched blocks only)", measure(ctx, [
        ctx.floor, raster, blocks, str(ctx.threads)]), threads=ctx.threads,
        note="bench/floor/floor_read.c")
    table.ratio_target("rasterpool within %gx of the decode floor" % target, rp, floor, target,
                       at_most=True)
    if extra:
        with open(ctx.out("rasterstats_like.py"), "w") as f:
            f.write(RASTERSTATS_PY)
        rs = table.add("rasterstats-style Python (window + rasterize)", measure(ctx, [
            benchlib.PYTHON, ctx.out("rasterstats_like.py"), raster, polys, ctx.out("rs_bc.csv")],
            runs=1), threads=1)
        rs.api = api_seconds(rs.result)
    return [table]


def sb_parcels(ctx):
    size = ctx.size(2048, 8192)
    n = ctx.size(5000, 100000)
    raster = make_raster(ctx, size, "DEFLATE")
    polys = make_boxes(ctx, size, n, "parcels", 12)
    return floor_table(ctx, "b. %s small parcels (20-200 m)" % format(n, ","), raster, polys, 3.0,
                       extra=ctx.quick)


def sc_large(ctx):
    size = ctx.size(2048, 8192)
    raster = make_raster(ctx, size, "DEFLATE")
    polys = make_boxes(ctx, size, 20, "large", 13)
    return floor_table(ctx, "c. 20 polygons each covering a large share of the raster", raster,
                       polys, 3.0, extra=True)


def list_bytes(ctx, raster, polys, stat):
    """What the value lists of stat need: the smallest --max-memory the job
    runs under, found by halving (a job over the cap stops: exit 3)."""
    lo, hi = 1 << 20, 1 << 36
    while hi - lo > hi // 50:
        mid = (lo + hi) // 2
        try:
            benchlib._timed([ctx.rasterpool, "zonal", raster, "--polygons", polys, "-s", stat,
                             "-o", ctx.out("zonal_mem_probe.csv"), "-j", str(ctx.threads), "-q",
                             "--max-memory", str(mid)], None, None, None, None)
            hi = mid
        except benchlib.BenchError:
            lo = mid
    return hi


def sm_memory(ctx):
    """Value lists (median) on (c)'s polygons over the 2048^2 DEM (the
    8192^2 one would need about 5 GB of lists): peak RSS against mean's,
    and under --max-memory just above what the job needs."""
    raster = make_raster(ctx, 2048, "DEFLATE")
    polys = make_boxes(ctx, 2048, 20, "large", 13)
    table = Table("m. median's value lists: 20 large polygons, 2048x2048", "%d threads" %
                  ctx.threads)

    def run(stat, *extra):
        return measure(ctx, [ctx.rasterpool, "zonal", raster, "--polygons", polys, "-s", stat,
                             "-o", ctx.out("zonal_mem.csv"), "-j", str(ctx.threads), "-q"] +
                       list(extra))
    rp = table.add("rasterpool zonal -s mean", run("mean"), threads=ctx.threads)
    table.add("rasterpool zonal -s median", run("median"), threads=ctx.threads)
    need = list_bytes(ctx, raster, polys, "median")
    table.add("rasterpool zonal -s median --max-memory %d" % need, run(
        "median", "--max-memory", str(need)), threads=ctx.threads,
        note="the smallest cap it runs under (found by halving, within 2%)")
    table.notes.append("median keeps 16 bytes per covered cell per polygon until the merge; "
                       "--max-memory %.0f MB is the least this job runs under: the rest of the "
                       "peak RSS is the process (GDAL, libraries), the merge (a polygon's lists "
                       "held twice while merged) and the output table" % (need / 1e6))
    del rp
    return [table]


def through_gdal_vrt(ctx, vrt):
    """The same VRT with an empty <OpenOptions/> in every source: rasterpool
    then reads it through GDAL's VRT driver (lib/read/vrt_xml.c keeps sources
    with open options on GDAL), as zonal did before issue 11's per-source
    reader; GDAL ignores the empty element, so the pixels are the same."""
    name = os.path.basename(vrt)[:-4] + "_via_gdal.vrt"
    params = {"vrt": os.path.basename(vrt), "mtime": os.path.getmtime(vrt), "v": 1}

    def make(path):
        with open(vrt) as f:
            text = f.read()
        text = text.replace("<SourceFilename", "<OpenOptions/><SourceFilename")
        with open(path, "w") as f:
            f.write(text)

    return benchlib.cached(ctx, name, params, make)


def sv_vrt(ctx):
    """(v) the DEM cut into 64 tiles (8 x 8 COGs, 256x256 blocks) and a
    gdalbuildvrt VRT over them; (a)'s star polygons. rasterpool reading the
    VRT from its source files against the same VRT through GDAL's VRT driver
    (the old path), the one GeoTIFF, and the decode floor (the same touched
    blocks of the one GeoTIFF: the tiles hold the same blocks)."""
    from extract_remote import make_mosaic
    size = ctx.size(2048, 8192)
    n = ctx.size(200, 2000)
    threads = ctx.threads
    raster = make_raster(ctx, size, "DEFLATE")
    vrt = make_mosaic(ctx, size)
    old = through_gdal_vrt(ctx, vrt)
    polys = make_polygons(ctx, size, n, 11)
    blocks = touched_blocks(ctx, raster, polys)
    with open(blocks) as f:
        nblocks = sum(1 for _ in f)
    table = Table("v. %s star polygons over a VRT of 64 tiles" % format(n, ","),
                  "%dx%d Float32 DEFLATE in 8x8 COG tiles (256x256 blocks), gdalbuildvrt; %d "
                  "blocks touched; %d threads" % (size, size, nblocks, threads))
    out = ctx.out

    def zonal(path, csv_name):
        return measure(ctx, [ctx.rasterpool, "zonal", path, "--polygons", polys, "-s", "mean",
                             "-o", out(csv_name), "-j", str(threads), "-q"])

    per_source = table.add("rasterpool zonal mosaic.vrt (from the source files)",
                           zonal(vrt, "zonal_vrt.csv"), threads=threads,
                           note="grid blocks of 256: each source block decoded once")
    via_gdal = table.add("rasterpool zonal through GDAL's VRT driver (the old path)",
                         zonal(old, "zonal_vrt_gdal.csv"), threads=threads,
                         note="the VRT's own 128x128 blocks, read with RasterIO")
    one = table.add("rasterpool zonal on the one GeoTIFF", zonal(raster, "zonal_tif.csv"),
                    threads=threads)
    floor = table.add("floor (decode touched blocks only)", measure(ctx, [
        ctx.floor, raster, blocks, str(threads)]), threads=threads,
        note="bench/floor/floor_read.c on the one GeoTIFF")
    table.ratio_target("per-source within 2x of the decode floor", per_source, floor, 2.0,
                       at_most=True)
    table.ratio_target("per-source faster than through GDAL's VRT driver", per_source, via_gdal,
                       1.0, at_most=True)
    table.ratio_target("per-source within 1.2x of the one GeoTIFF", per_source, one, 1.2,
                       at_most=True)
    a, b, c = (read_means(out(x), "mean") for x in ("zonal_vrt.csv", "zonal_vrt_gdal.csv",
                                                     "zonal_tif.csv"))
    if not (np.array_equal(np.isnan(a), np.isnan(c)) and np.array_equal(a[~np.isnan(a)],
                                                                        c[~np.isnan(c)])):
        raise benchlib.BenchError("the VRT's means differ from the one GeoTIFF's")
    ok = ~np.isnan(a)
    if not (np.array_equal(ok, ~np.isnan(b)) and np.allclose(a[ok], b[ok], rtol=1e-9)):
        raise benchlib.BenchError("per-source and GDAL-VRT means differ")
    table.notes.append("per-source means are the one GeoTIFF's, bit for bit; through GDAL's "
                       "VRT driver within 1e-9 relative (other blocks: other summation order).")
    return [table]


SCENARIOS = [Scenario("zonal_a", "zonal: 2,000 star polygons on an 8192^2 DEM", sa_zonal),
             Scenario("zonal_b", "zonal: 100,000 small parcels on an 8192^2 DEM", sb_parcels),
             Scenario("zonal_c", "zonal: 20 polygons covering most of an 8192^2 DEM", sc_large),
             Scenario("zonal_mem", "zonal: median's value lists and --max-memory", sm_memory),
             Scenario("zonal_vrt", "zonal: star polygons over a VRT of 64 tiles", sv_vrt)]
