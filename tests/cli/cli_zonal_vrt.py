#!/usr/bin/python3
"""cli_zonal_vrt — `rasterpool zonal` over VRT mosaics read from their source
files, and over remote rasters (HTTP) read with the I/O pool in merged runs.

Oracles that do not use rasterpool: GDAL's whole-band read of the VRT (its
own VRT driver paints the mosaic) with numpy statistics over shapely's
exact cell fractions (tests/oracle/oracle_zonal.py's harness), and
byte-equality with the same mosaic translated to one GeoTIFF (same block
grid: the same sums in the same order). Cases:
- a mosaic of 20 tiles made with gdalbuildvrt: --plan says the band is read
  from its source files and counts the touched sources and source blocks
  (against the count made here from the polygons' windows); -v says every
  touched source block was decoded once; bytes equal to the GeoTIFF's at
  -j 1 and -j 3; statistics equal to the oracle's;
- overlapping tiles with a source nodata (transparent), a VRT nodata and a
  gap with no tile: the oracle (GDAL's painting) agrees;
- a missing source file: exit 1, the message names it, polygons on it
  get status read_error, the others their values;
- a resampled source: --plan says GDAL's VRT driver reads it, and why;
  values agree with the oracle;
- a COG on the local HTTP test server (tests/support/httpserver.py): the
  same bytes as over the local file, and fewer GETs than touched tiles for
  clustered polygons (runs of adjacent tiles read with one request); a VRT
  of tiles over HTTP gives the local VRT's bytes.
Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 cli_zonal_vrt.py
"""
import csv
import io
import math
import os
import random
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
sys.path.insert(0, os.path.join(HERE, "..", "support"))

import numpy as np  # noqa: E402

import oracle_zonal as oz  # noqa: E402
import rptest  # noqa: E402
from httpserver import HttpServer  # noqa: E402
from rptest import gdal, ogr, osr  # noqa: E402

T = rptest.Tester("cli_zonal_vrt")
GT = [500000.0, 30.0, 0.0, 4200000.0, 0.0, -30.0]
W, H = 600, 500
TILE, SRC_BLOCK = 128, 64
OPS = [("count", "count", {}), ("sum", "sum", {}), ("mean", "mean", {}), ("min", "min", {}),
       ("max", "max", {}), ("median", "median", {})]


def zonal(args, **kw):
    return rptest.rp(["zonal"] + [str(a) for a in args], **kw)


def save(path, a, dtype, gt, nodata=None, block=None, extra=()):
    opts = ["TILED=YES", "BLOCKXSIZE=%d" % block[0], "BLOCKYSIZE=%d" % block[1]] if block else []
    ds = gdal.GetDriverByName("GTiff").Create(path, a.shape[1], a.shape[0], 1, rptest.gdt(dtype),
                                              opts + list(extra))
    ds.SetGeoTransform(list(gt))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    if nodata is not None:
        ds.GetRasterBand(1).SetNoDataValue(nodata)
    ds.GetRasterBand(1).WriteArray(a)
    ds = None


def tile_gt(tx, ty):
    return [GT[0] + tx * GT[1], GT[1], 0.0, GT[3] + ty * GT[5], 0.0, GT[5]]


def make_tiles(d, a, dtype, nodata, skip=(), overlap=0, tile=TILE):
    """The raster cut into tile x tile tiles (plus `overlap` cells right and
    down), SRC_BLOCK-square blocks; returns their names."""
    names = []
    for ty in range(0, a.shape[0], tile):
        for tx in range(0, a.shape[1], tile):
            if (tx, ty) in skip:
                continue
            name = "t_%d_%d.tif" % (tx, ty)
            save(os.path.join(d, name), a[ty:ty + tile + overlap, tx:tx + tile + overlap], dtype,
                 tile_gt(tx, ty), nodata, (SRC_BLOCK, SRC_BLOCK))
            names.append(name)
    return names


def build_vrt(d, name, tiles, options=None):
    cwd = os.getcwd()
    os.chdir(d)
    try:
        rptest.build_vrt(name, tiles, options)
    finally:
        os.chdir(cwd)
    return os.path.join(d, name)


def polygons(d, n=40, seed=5):
    oz.GT, oz.W, oz.H = GT, W, H
    path = os.path.join(d, "p.gpkg")
    return path, oz.make_polygons(path, n=n, seed=seed)


def oracle_band(vrt):
    """GDAL's own whole-band read of the VRT: (values, valid)."""
    ds = gdal.Open(vrt)
    b = ds.GetRasterBand(1)
    a = b.ReadAsArray().astype(np.float64)
    nd = b.GetNoDataValue()
    ok = ~np.isnan(a) if nd is None else (~np.isnan(a)) & (a != nd)
    return a, ok


def rows_of(run):
    return list(csv.DictReader(io.StringIO(run.text)))


def windows(wkts):
    """Each polygon's window of cells on the raster [c0, c1) x [r0, r1), or None."""
    out = []
    for t in wkts:
        g = ogr.CreateGeometryFromWkt(t)
        x0, x1, y0, y1 = g.GetEnvelope()
        c0 = max(0, math.floor((x0 - GT[0]) / GT[1]))
        c1 = min(W, math.ceil((x1 - GT[0]) / GT[1]))
        r0 = max(0, math.floor((y1 - GT[3]) / GT[5]))
        r1 = min(H, math.ceil((y0 - GT[3]) / GT[5]))
        out.append((c0, r0, c1, r1) if c0 < c1 and r0 < r1 else None)
    return out


def expected_source_blocks(wkts, grid, tile=TILE):
    """The source blocks (tile, block) under the grid blocks the polygons'
    windows touch: what reading each touched grid block from its tiles needs."""
    blocks = set()
    for w in windows(wkts):
        if w:
            for by in range(w[1] // grid, (w[3] - 1) // grid + 1):
                for bx in range(w[0] // grid, (w[2] - 1) // grid + 1):
                    blocks.add((bx, by))
    src = set()
    for bx, by in blocks:  # every cell of the touched grid blocks: its tile and block
        ys = np.arange(by * grid, min(H, (by + 1) * grid))
        xs = np.arange(bx * grid, min(W, (bx + 1) * grid))
        ty, tx = ys // tile, xs // tile
        sy, sx = (ys % tile) // SRC_BLOCK, (xs % tile) // SRC_BLOCK
        for a_ in set(zip(ty.tolist(), sy.tolist())):
            for b_ in set(zip(tx.tolist(), sx.tolist())):
                src.add((b_[0], a_[0], b_[1], a_[1]))
    return len(src), len({s[:2] for s in src})


def check_oracle(case, run, vrt, wkts):
    rows = rows_of(run)
    oz.GT, oz.W, oz.H = GT, W, H
    oz.compare_rows(T, case, rows, wkts, [oracle_band(vrt)], OPS)


def case_mosaic(case, d):
    rng = np.random.default_rng(7)
    a = rng.normal(500, 120, (H, W)).astype(np.float32)
    a[40:90, 300:420] = -9999
    names = make_tiles(d, a, "Float32", -9999)
    vrt = build_vrt(d, "mosaic.vrt", names)
    full = os.path.join(d, "full.tif")
    gdal.Translate(full, vrt, creationOptions=["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"])
    polys, wkts = polygons(d)
    s = [x for _, op, _ in OPS for x in ("-s", op)]
    plan = zonal([vrt, "--polygons", polys, "--plan"] + s)
    T.check(case, plan.code == 0 and "band 1: read from its source files" in plan.text,
            "--plan should say the band is read from its source files: " + plan.describe())
    m = re.search(r"VRT sources touched: (\d+) in (\d+) file\(s\); source blocks touched: (\d+) "
                  r"\(each decoded once\)", plan.text)
    want_blocks, want_files = expected_source_blocks(wkts, 256)
    T.check(case, m and int(m.group(3)) == want_blocks and int(m.group(2)) == want_files,
            "--plan should count %d source blocks in %d files: %s" % (
                want_blocks, want_files, plan.text))
    T.check(case, "grid blocks: 256 x 256" in plan.text, "grid of 256 blocks: " + plan.text)
    runs = {}
    for j in (1, 3):
        runs[j] = zonal([vrt, "--polygons", polys, "--include-col", "pid", "-j", j, "-v"] + s)
        T.check(case, runs[j].code == 0, "-j %d: %s" % (j, runs[j].describe()))
    dec = re.search(r"(\d+) VRT source blocks decoded \((\d+) touched\)", runs[1].err)
    T.check(case, dec and dec.group(1) == dec.group(2) == str(want_blocks),
            "-v: every touched source block decoded once (%d): %s" % (want_blocks, runs[1].err))
    T.check(case, runs[1].out == runs[3].out, "-j 1 and -j 3 differ")
    tif = zonal([full, "--polygons", polys, "--include-col", "pid", "-q"] + s)
    T.check(case, tif.code == 0 and tif.out == runs[1].out,
            "the VRT's bytes differ from the translated GeoTIFF's:\n%s\n---\n%s" % (
                runs[1].text[:600], tif.text[:600]))
    check_oracle(case, runs[1], vrt, wkts)


def case_tiles_off_block_grid(case, d):
    """100-cell tiles of 64-cell blocks: no block grid holds each source
    block, the tile grid does (zonal blocks of 300 cells)."""
    a = np.random.default_rng(17).normal(50, 9, (H, W)).astype(np.float32)
    vrt = build_vrt(d, "hundreds.vrt", make_tiles(d, a, "Float32", None, tile=100))
    polys, wkts = polygons(d, n=30, seed=15)
    s = [x for _, op, _ in OPS for x in ("-s", op)]
    plan = zonal([vrt, "--polygons", polys, "--plan"] + s)
    want_blocks, _ = expected_source_blocks(wkts, 300, tile=100)
    T.check(case, "grid blocks: 300 x 300" in plan.text and
            "source blocks touched: %d (each decoded once)" % want_blocks in plan.text,
            "--plan: grid of 300, %d source blocks: %s" % (want_blocks, plan.text))
    run = zonal([vrt, "--polygons", polys, "--include-col", "pid", "-v"] + s)
    dec = re.search(r"(\d+) VRT source blocks decoded \((\d+) touched\)", run.err)
    T.check(case, dec and dec.group(1) == dec.group(2) == str(want_blocks),
            "-v: every touched source block decoded once: " + run.err)
    check_oracle(case, run, vrt, wkts)


def case_overlap_nodata_gap(case, d):
    """Tiles overlapping by 20 cells, every 7th cell the source nodata (GDAL
    shows the tile below through it), a VRT nodata, one tile missing (a gap)."""
    rng = np.random.default_rng(8)
    names = []
    for k, (tx, ty) in enumerate([(x, y) for y in range(0, H, TILE) for x in range(0, W, TILE)]):
        if (tx, ty) == (256, 128):
            continue
        t = rng.integers(-500, 3000, (TILE + 20, TILE + 20)).astype(np.int16)
        t[::7, ::3] = -1
        name = "o_%d_%d.tif" % (tx, ty)
        save(os.path.join(d, name), t, "Int16", tile_gt(tx, ty), -1, (SRC_BLOCK, SRC_BLOCK))
        names.append(name)
    vrt = build_vrt(d, "overlap.vrt", names, {"srcNodata": -1, "VRTNodata": -32768,
                                               "outputBounds": [GT[0], GT[3] + H * GT[5],
                                                                GT[0] + W * GT[1], GT[3]]})
    polys, wkts = polygons(d, n=50, seed=9)
    s = [x for _, op, _ in OPS for x in ("-s", op)]
    plan = zonal([vrt, "--polygons", polys, "--plan"] + s)
    T.check(case, "band 1: read from its source files" in plan.text, plan.describe())
    run = zonal([vrt, "--polygons", polys, "--include-col", "pid", "-q"] + s)
    T.check(case, run.code == 0, run.describe())
    check_oracle(case, run, vrt, wkts)


def case_missing_source(case, d):
    a = np.random.default_rng(9).normal(100, 10, (H, W)).astype(np.float32)
    names = make_tiles(d, a, "Float32", None)
    vrt = build_vrt(d, "gone.vrt", names)
    polys, wkts = polygons(d, n=40, seed=11)
    before = zonal([vrt, "--polygons", polys, "--include-col", "pid", "-s", "mean", "--status",
                    "-q"])
    gone = os.path.join(d, "t_128_128.tif")
    os.remove(gone)
    plan = zonal([vrt, "--polygons", polys, "-s", "mean", "--plan"])
    T.check(case, "sources that cannot be opened: 1" in plan.text, plan.describe())
    run = zonal([vrt, "--polygons", polys, "--include-col", "pid", "-s", "mean", "--status"])
    T.check(case, run.code == 1, "exit 1 expected: " + run.describe())
    T.check(case, "t_128_128.tif" in run.err and "source" in run.err,
            "the message should name the missing source: " + run.err)
    hit = 0
    for w, old, new in zip(windows(wkts), rows_of(before), rows_of(run)):
        on_it = w and w[0] < 256 and w[2] > 128 and w[1] < 256 and w[3] > 128
        if on_it:
            hit += 1
            T.check(case, new["status"] == "read_error" and new["mean"] == "",
                    "polygon %s on the missing tile: %r" % (new["pid"], new))
        elif w is not None and new["status"] != "read_error":
            T.check(case, new == old, "polygon %s off the missing tile changed: %r -> %r" % (
                new["pid"], old, new))
    T.check(case, hit > 0, "some polygon should touch the missing tile")


def case_resampled_fallback(case, d):
    a = np.random.default_rng(10).normal(100, 10, (H, W)).astype(np.float32)
    names = make_tiles(d, a, "Float32", None)
    # one tile at half resolution: its source is resampled (SrcRect != DstRect)
    lo = os.path.join(d, "t_0_0.tif")
    gdal.Translate(os.path.join(d, "half.tif"), lo, width=TILE // 2, height=TILE // 2)
    names[0] = "half.tif"
    vrt = build_vrt(d, "resampled.vrt", names, {"resolution": "highest"})
    polys, wkts = polygons(d, n=30, seed=12)
    plan = zonal([vrt, "--polygons", polys, "-s", "mean", "--plan"])
    T.check(case, "read through GDAL's VRT driver" in plan.text and "resampled" in plan.text,
            "--plan should say GDAL's VRT driver reads it, and why: " + plan.describe())
    s = [x for _, op, _ in OPS for x in ("-s", op)]
    run = zonal([vrt, "--polygons", polys, "--include-col", "pid", "-q"] + s)
    T.check(case, run.code == 0, run.describe())
    check_oracle(case, run, vrt, wkts)


def noise_cog(path, size=1024, block=128):
    """Incompressible tiles: a tile read alone is a GET of its own."""
    a = np.random.default_rng(21).normal(100, 30, (size, size)).astype(np.float32)
    mem = gdal.GetDriverByName("MEM").Create("", size, size, 1, gdal.GDT_Float32)
    mem.SetGeoTransform(GT)
    mem.GetRasterBand(1).WriteArray(a)
    gdal.Translate(path, mem, format="COG",
                   creationOptions=["BLOCKSIZE=%d" % block, "COMPRESS=NONE", "OVERVIEWS=NONE"])


def clustered(d):
    """Three wide polygons over rows of adjacent tiles."""
    path = os.path.join(d, "wide.gpkg")
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    lyr = ds.CreateLayer("p", None, ogr.wkbPolygon)
    lyr.CreateField(ogr.FieldDefn("pid", ogr.OFTInteger))
    for i, (c0, r0, c1, r1) in enumerate([(40, 60, 900, 180), (100, 400, 1000, 470),
                                          (10, 700, 700, 1000)]):
        x0, x1 = GT[0] + c0 * GT[1] + 7, GT[0] + c1 * GT[1] - 11
        y0, y1 = GT[3] + r1 * GT[5] + 5, GT[3] + r0 * GT[5] - 3
        t = "POLYGON((%f %f, %f %f, %f %f, %f %f, %f %f))" % (x0, y0, x1, y0, (x0 + x1) / 2, y1,
                                                             x0 + 30, y1, x0, y0)
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetField("pid", i)
        f.SetGeometry(ogr.CreateGeometryFromWkt(t))
        lyr.CreateFeature(f)
    ds = None
    return path


def case_remote_cog(case, d):
    cog = os.path.join(d, "noise.tif")
    noise_cog(cog)
    polys = clustered(d)
    s = ["-s", "mean", "-s", "count", "-s", "max", "--include-col", "pid"]
    local = zonal([cog, "--polygons", polys, "-q"] + s)
    T.check(case, local.code == 0, local.describe())
    plan = zonal([cog, "--polygons", polys, "--plan"] + s)
    m = re.search(r"blocks touched: (\d+)", plan.text)
    tiles = int(m.group(1)) if m else 0
    with HttpServer(d, latency_ms=5) as srv:
        rplan = zonal([srv.url("noise.tif"), "--polygons", polys, "--plan"] + s)
        before = srv.stats()["get"]
        run = zonal([srv.url("noise.tif"), "--polygons", polys, "-q"] + s)
        gets = srv.stats()["get"] - before
    T.check(case, "remote: 32 I/O workers" in rplan.text, "--plan on a URL: " + rplan.text)
    T.check(case, run.code == 0 and run.out == local.out,
            "over HTTP the bytes differ from the local file's:\n%s\n---\n%s" % (
                run.describe(), local.text))
    T.check(case, tiles >= 20, "the polygons should touch many tiles (%d)" % tiles)
    T.check(case, 0 < gets < tiles * 0.6,
            "%d GETs for %d touched tiles: reads are not merged" % (gets, tiles))


def case_remote_vrt(case, d):
    a = np.random.default_rng(12).normal(100, 10, (H, W)).astype(np.float32)
    names = make_tiles(d, a, "Float32", None)
    vrt = build_vrt(d, "http.vrt", names)
    polys, wkts = polygons(d, n=25, seed=13)
    s = ["-s", "mean", "-s", "sum", "--include-col", "pid"]
    local = zonal([vrt, "--polygons", polys, "-q"] + s)
    with HttpServer(d) as srv:
        plan = zonal([srv.url("http.vrt"), "--polygons", polys, "--plan"] + s)
        run = zonal([srv.url("http.vrt"), "--polygons", polys, "-q"] + s)
    T.check(case, "read from its source files" in plan.text and "remote:" in plan.text,
            plan.describe())
    T.check(case, local.code == 0 and run.code == 0 and run.out == local.out,
            "the VRT over HTTP differs from the local one:\n%s\n---\n%s" % (run.describe(),
                                                                            local.text))


def main():
    for name, fn in [("VRT mosaic of 20 tiles", case_mosaic),
                     ("tiles off their block grid", case_tiles_off_block_grid),
                     ("overlapping tiles, source nodata, a gap", case_overlap_nodata_gap),
                     ("a missing source", case_missing_source),
                     ("a resampled source: GDAL's VRT driver", case_resampled_fallback),
                     ("COG over HTTP: same bytes, merged requests", case_remote_cog),
                     ("VRT of tiles over HTTP", case_remote_vrt)]:
        d = tempfile.mkdtemp(prefix="rp_zonal_vrt_")
        try:
            T.run_case(name, lambda c, dd, f=fn: f(c, dd), d)
        finally:
            shutil.rmtree(d, ignore_errors=True)
    print("compared %d statistics with numpy over GDAL's read of the VRT" % oz.COUNTS["values"])
    T.finish()


if __name__ == "__main__":
    main()
