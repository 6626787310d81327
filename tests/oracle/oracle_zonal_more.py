#!/usr/bin/env python3
"""oracle_zonal_more — `rasterpool zonal` features beyond oracle_zonal.py,
against oracles that do not use rasterpool:

- coverage_weight=area_spherical_m2 / _km2 on a longitude/latitude grid:
  each cell's area computed here by hand, R^2 * dlon * (sin(lat2) -
  sin(lat1)) with R = 6378137 m (exactextract's radius), times shapely's
  exact coverage fractions, then the sums/means with numpy; the whole globe
  against 4 pi R^2; a projected raster refused (exit 2);
- frac and weighted_frac against numpy over shapely fractions and a
  weights raster;
- rasters on different grids (resolution, origin, CRS) in one pass: each
  column equal to the same raster run alone, and one case against numpy
  over shapely fractions on each grid; the same bytes at -j 1/2/7;
- --max-memory: a tiny cap refused before any pixel (exit 2), a polygon
  whose value lists exceed the cap failed alone with its FID and the bytes
  named (exit 1), a generous cap the same bytes as no cap.
Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 oracle_zonal_more.py
"""
import csv
import io
import math
import os
import random
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from rptest import Tester, Limited, rp  # noqa: E402
from oracle_zonal import fractions  # noqa: E402 (shapely's exact cell fractions)

import numpy as np  # noqa: E402
from osgeo import gdal, ogr, osr  # noqa: E402

R_SPHERE = 6378137.0
COUNTS = {"values": 0}
csv.field_size_limit(1 << 30)  # the whole-raster polygon's values list


def srs_of(epsg):
    s = osr.SpatialReference()
    s.ImportFromEPSG(epsg)
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return s


def make_raster(path, gt, w, h, epsg, seed, dtype="Float32", nodata=-9999.0, ints=False,
                block=16):
    """A tiled raster of random values (10% nodata); returns (array, valid) as GDAL reads
    them back."""
    rnd = np.random.default_rng(seed)
    ds = gdal.GetDriverByName("GTiff").Create(
        path, w, h, 1, gdal.GetDataTypeByName(dtype),
        ["TILED=YES", "BLOCKXSIZE=%d" % block, "BLOCKYSIZE=%d" % block])
    ds.SetGeoTransform(gt)
    ds.SetProjection(srs_of(epsg).ExportToWkt())
    a = rnd.integers(1, 6, (h, w)).astype(float) if ints else rnd.normal(100, 30, (h, w))
    a[rnd.random((h, w)) < 0.1] = nodata
    ds.GetRasterBand(1).SetNoDataValue(nodata)
    ds.GetRasterBand(1).WriteArray(a)
    ds = None
    ds = gdal.Open(path)  # kept alive while its band is read
    b = ds.GetRasterBand(1).ReadAsArray().astype(np.float64)
    ds = None
    return b, b != nodata


def star_wkt(rnd, cx, cy, r_out, n):
    pts = []
    for i in range(n):
        t = 2 * math.pi * i / n
        rad = r_out if i % 2 == 0 else r_out * rnd.uniform(0.4, 0.9)
        pts.append((cx + rad * math.cos(t), cy + rad * math.sin(t)))
    if rnd.random() < 0.5:
        pts = pts[::-1]
    return "POLYGON((%s))" % ", ".join("%.10f %.10f" % p for p in pts + [pts[0]])


def write_polys(path, wkts, epsg):
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    lyr = ds.CreateLayer("polys", srs_of(epsg), ogr.wkbPolygon)
    lyr.CreateField(ogr.FieldDefn("pid", ogr.OFTInteger))
    for i, t in enumerate(wkts):
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetField("pid", i)
        f.SetGeometry(ogr.CreateGeometryFromWkt(t))
        lyr.CreateFeature(f)
    ds = None


def random_polys(rnd, x0, y1, x1, y0, sizes, n):
    out = []
    for _ in range(n):
        cx, cy = rnd.uniform(x0, x1), rnd.uniform(y0, y1)
        out.append(star_wkt(rnd, cx, cy, rnd.choice(sizes), rnd.randrange(3, 20) * 2))
    return out


def sphere_cell_area(gt, row):
    """By hand: the zone of a sphere between the row's two latitudes, dlon wide."""
    top, bottom = gt[3] + row * gt[5], gt[3] + (row + 1) * gt[5]
    return R_SPHERE ** 2 * math.radians(abs(gt[1])) * abs(
        math.sin(math.radians(top)) - math.sin(math.radians(bottom)))


def run_zonal(T, case, args, code=0):
    r = rp(["zonal"] + [str(a) for a in args] + ["-q"])
    if not T.check(case, r.code == code, "want exit %d: %s" % (code, r.describe())):
        return None, r
    return list(csv.DictReader(io.StringIO(r.text))), r


def close(a, b, rtol=1e-9):
    return abs(a - b) <= rtol * max(1.0, abs(b))


def check_value(T, lim, i, col, got, want, rtol=1e-9):
    COUNTS["values"] += 1
    if want is None:
        if got != "":
            lim.add("polygon %d %s: got %r, want empty" % (i, col, got))
    elif got == "" or not close(float(got), want, rtol):
        lim.add("polygon %d %s: got %r, oracle %.17g" % (i, col, got, want))


# --- coverage_weight=area_spherical_m2 -------------------------------------------------

GEO_GT = [10.0, 0.25, 0.0, 61.0, 0.0, -0.25]
GEO_W, GEO_H = 40, 36


def case_spherical(T, case, d):
    a, ok = make_raster(d + "/g.tif", GEO_GT, GEO_W, GEO_H, 4326, seed=5)
    rnd = random.Random(7)
    wkts = random_polys(rnd, 9.5, 61.5, 20.5, 51.5, [0.1, 0.6, 2.0, 5.0], 25)
    wkts.append("POLYGON((10 61, 20 61, 20 52, 10 52, 10 61))")  # the whole raster
    write_polys(d + "/p.gpkg", wkts, 4326)
    ops = ["s=sum(coverage_weight=area_spherical_m2)", "n=count(coverage_weight=area_spherical_m2)",
           "m=mean(coverage_weight=area_spherical_m2)", "km=count(coverage_weight=area_spherical_km2)",
           "cov=coverage(coverage_weight=area_spherical_m2)",
           "md=median(coverage_weight=area_spherical_m2)"]
    rows, r = run_zonal(T, case, [d + "/g.tif", "--polygons", d + "/p.gpkg"] +
                        sum([["-s", o] for o in ops], []))
    if rows is None:
        return
    outs = [rp(["zonal", d + "/g.tif", "--polygons", d + "/p.gpkg", "-q", "-j", j] +
               sum([["-s", o] for o in ops], [])).out for j in ("1", "2", "7")]
    T.check(case, outs[0] == outs[1] == outs[2] == r.out, "output differs between -j 1, 2, 7")
    lim = Limited(T, case)
    for i, (row, wkt) in enumerate(zip(rows, wkts)):
        cells = [(r_, c_, f) for r_, c_, f in fractions(wkt, GEO_GT, GEO_W, GEO_H) if ok[r_, c_]]
        wts = np.array([f * sphere_cell_area(GEO_GT, r_) for r_, c_, f in cells])
        vals = np.array([a[r_, c_] for r_, c_, f in cells])
        empty = len(cells) == 0
        check_value(T, lim, i, "s", row["s"], None if empty else float((wts * vals).sum()))
        check_value(T, lim, i, "n", row["n"], None if empty else float(wts.sum()))
        check_value(T, lim, i, "m", row["m"],
                    None if empty else float((wts * vals).sum() / wts.sum()))
        check_value(T, lim, i, "km", row["km"], None if empty else float(wts.sum()) * 1e-6)
        got = [] if row["cov"] == "" else [float(x) for x in row["cov"].strip("[]").split(",")]
        order = sorted(range(len(cells)), key=lambda k: (cells[k][0], cells[k][1]))
        want = [wts[k] for k in order]
        COUNTS["values"] += 1
        if len(got) != len(want) or any(not close(g, w_) for g, w_ in zip(got, want)):
            lim.add("polygon %d coverage list: got %r, want %r" % (i, got[:4], want[:4]))
        if not empty:  # the weighted median: any value of the polygon, checked loosely
            COUNTS["values"] += 1
            if row["md"] == "" or not (vals.min() <= float(row["md"]) <= vals.max()):
                lim.add("polygon %d median %r outside the values" % (i, row["md"]))
    lim.flush()

    # the whole globe: 4 pi R^2, by hand
    ds = gdal.GetDriverByName("GTiff").Create(d + "/globe.tif", 36, 18, 1, gdal.GDT_Byte)
    ds.SetGeoTransform([-180, 10, 0, 90, 0, -10])
    ds.SetProjection(srs_of(4326).ExportToWkt())
    ds.GetRasterBand(1).Fill(1)
    ds = None
    write_polys(d + "/globe.gpkg", ["POLYGON((-180 -90, 180 -90, 180 90, -180 90, -180 -90))"],
                4326)
    rows, r = run_zonal(T, case, [d + "/globe.tif", "--polygons", d + "/globe.gpkg", "-s",
                                  "count(coverage_weight=area_spherical_m2)"])
    if rows:
        got = float(rows[0]["count(coverage_weight=area_spherical_m2)"])
        T.check(case, close(got, 4 * math.pi * R_SPHERE ** 2, 1e-12),
                "globe: %.17g vs 4 pi R^2 %.17g" % (got, 4 * math.pi * R_SPHERE ** 2))

    # a projected raster: no spherical cell area defined; refused
    make_raster(d + "/utm.tif", [500000, 30, 0, 4200000, 0, -30], 20, 20, 32633, seed=1)
    write_polys(d + "/u.gpkg", ["POLYGON((500100 4199900, 500300 4199900, 500300 4199700, "
                                "500100 4199900))"], 32633)
    r = rp(["zonal", d + "/utm.tif", "--polygons", d + "/u.gpkg", "-q", "-s",
            "a=sum(coverage_weight=area_spherical_m2)"])
    T.check(case, r.code == 2 and "longitude/latitude" in r.err and "utm.tif" in r.err and
            "-s a" in r.err, "projected raster: want exit 2 naming it: " + r.describe())
    r = rp(["zonal", d + "/utm.tif", "--polygons", d + "/u.gpkg", "-q", "-s",
            "a=sum(coverage_weight=area_spherical)"])
    T.check(case, r.code == 2 and "area_spherical_m2" in r.err, "bad kind: " + r.describe())


# --- frac and weighted_frac -------------------------------------------------------------

UTM_GT = [500000.0, 30.0, 0.0, 4200000.0, 0.0, -30.0]


def case_frac(T, case, d):
    a, ok = make_raster(d + "/lc.tif", UTM_GT, 60, 50, 32633, seed=11, dtype="Int16",
                        nodata=0, ints=True)
    wv, wok = make_raster(d + "/w.tif", UTM_GT, 60, 50, 32633, seed=12)
    rnd = random.Random(13)
    wkts = random_polys(rnd, 500000, 4200000, 501800, 4198500, [30, 100, 400], 25)
    write_polys(d + "/p.gpkg", wkts, 32633)
    rows, r = run_zonal(T, case, [d + "/lc.tif", "--polygons", d + "/p.gpkg", "--weights",
                                  d + "/w.tif", "-s", "frac", "-s", "weighted_frac"])
    if rows is None:
        return
    keys = sorted(set(a[ok].astype(int).tolist()))
    lim = Limited(T, case)
    seen = set()
    for i, (row, wkt) in enumerate(zip(rows, wkts)):
        cells = [(r_, c_, f) for r_, c_, f in fractions(wkt, UTM_GT, 60, 50) if ok[r_, c_]]
        for r_, c_, f in cells:
            seen.add(int(a[r_, c_]))
        v = np.array([a[r_, c_] for r_, c_, f in cells])
        cov = np.array([f for r_, c_, f in cells])
        wcells = [(r_, c_, f) for r_, c_, f in cells if wok[r_, c_]]
        wv_ = np.array([a[r_, c_] for r_, c_, f in wcells])
        cw = np.array([f * wv[r_, c_] for r_, c_, f in wcells])
        for k in keys:
            col, wcol = "frac_%d" % k, "weighted_frac_%d" % k
            if col not in row:
                continue
            check_value(T, lim, i, col, row[col],
                        None if len(cells) == 0 else float(cov[v == k].sum() / cov.sum()))
            check_value(T, lim, i, wcol, row[wcol],
                        None if len(wcells) == 0 or cw.sum() == 0
                        else float(cw[wv_ == k].sum() / cw.sum()))
    want_cols = ["frac_%d" % k for k in sorted(seen)] + \
        ["weighted_frac_%d" % k for k in sorted(seen)]
    T.check(case, list(rows[0].keys())[1:] == want_cols,
            "columns %r, want %r" % (list(rows[0].keys()), want_cols))
    lim.flush()


# --- rasters on different grids in one pass -------------------------------------------

def utm_to_geo_box(x0, y1, x1, y0):
    ct = osr.CoordinateTransformation(srs_of(32633), srs_of(4326))
    pts = [ct.TransformPoint(x, y)[:2] for x in (x0, x1) for y in (y0, y1)]
    return (min(p[0] for p in pts), max(p[1] for p in pts), max(p[0] for p in pts),
            min(p[1] for p in pts))


def case_grids(T, case, d):
    a, aok = make_raster(d + "/a.tif", UTM_GT, 60, 50, 32633, seed=21)
    b_gt = [499985.0, 45.0, 0.0, 4200020.0, 0.0, -45.0]  # other resolution and origin
    b, bok = make_raster(d + "/b.tif", b_gt, 42, 36, 32633, seed=22, dtype="Int16",
                         nodata=0, ints=True, block=16)
    lon0, lat1, lon1, lat0 = utm_to_geo_box(499900, 4200100, 501900, 4198400)
    c_gt = [lon0, 0.0003, 0.0, lat1, 0.0, -0.0003]  # another CRS
    make_raster(d + "/c.tif", c_gt, int((lon1 - lon0) / 0.0003) + 1,
                int((lat1 - lat0) / 0.0003) + 1, 4326, seed=23)
    make_raster(d + "/a2.tif", UTM_GT, 60, 50, 32633, seed=24)  # a's grid: shares its pass
    rnd = random.Random(25)
    wkts = random_polys(rnd, 499900, 4200100, 501900, 4198400, [30, 100, 400], 30)
    write_polys(d + "/p.gpkg", wkts, 32633)
    stats = ["-s", "mean", "-s", "count", "-s", "median", "-s", "values", "-s", "cell_id",
             "-s", "frac"]
    names = ["a", "b", "c", "a2"]
    outs = []
    for j in (1, 2, 7):
        rows, r = run_zonal(T, case, [d + "/%s.tif" % n for n in names] +
                            ["--polygons", d + "/p.gpkg", "--status", "-j", j] + stats)
        outs.append(r.out)
    T.check(case, outs[0] == outs[1] == outs[2], "output differs between -j 1, 2 and 7")
    if rows is None:
        return
    lim = Limited(T, case)
    for n in names:  # each raster's columns == that raster run alone
        alone, r = run_zonal(T, case, [d + "/%s.tif" % n, "--polygons", d + "/p.gpkg"] + stats)
        if alone is None:
            continue
        for i, (row, one) in enumerate(zip(rows, alone)):
            for k, v in one.items():
                if k == "pid":
                    continue
                COUNTS["values"] += 1
                if row.get("%s_%s" % (n, k)) != v:
                    lim.add("polygon %d %s_%s: %r, alone %r" % (i, n, k,
                                                               row.get("%s_%s" % (n, k)), v))
    T.check(case, all(row["status"] == "ok" for row in rows),
            "statuses: %r" % [row["status"] for row in rows])
    for i, (row, wkt) in enumerate(zip(rows, wkts)):  # numpy over shapely fractions
        for n, arr, ok, gt, w, h in (("a", a, aok, UTM_GT, 60, 50), ("b", b, bok, b_gt, 42, 36)):
            cells = [(r_, c_, f) for r_, c_, f in fractions(wkt, gt, w, h) if ok[r_, c_]]
            cov = np.array([f for _, _, f in cells])
            v = np.array([arr[r_, c_] for r_, c_, _ in cells])
            check_value(T, lim, i, n + "_count", row[n + "_count"],
                        float(cov.sum()) if cells else None)
            check_value(T, lim, i, n + "_mean", row[n + "_mean"],
                        float((cov * v).sum() / cov.sum()) if cells else None)
    lim.flush()
    r = rp(["zonal", d + "/a.tif", d + "/c.tif", "--polygons", d + "/p.gpkg", "-s", "mean",
            "--plan"])
    T.check(case, r.code == 0 and r.text.count("raster: ") == 2 and "c.tif" in r.text,
            "--plan: one plan per grid: " + r.describe() + r.text)
    r = rp(["zonal", d + "/a.tif", d + "/b.tif", "--polygons", d + "/p.gpkg", "-q",
            "--weights", d + "/a2.tif", "-s", "weighted_mean"])
    T.check(case, r.code == 2 and "different grids" in r.err and "resampl" in r.err,
            "--weights with rasters on two grids: refused: " + r.describe())
    with open(d + "/nocrs.csv", "w") as f:  # a CSV with WKT has no CRS
        f.write("pid,WKT\n" + "".join('%d,"%s"\n' % (i, w) for i, w in enumerate(wkts[:3])))
    r = rp(["zonal", d + "/a.tif", d + "/b.tif", "--polygons", d + "/nocrs.csv", "-q", "-s",
            "mean"])
    T.check(case, r.code == 0, "polygons without a CRS, rasters in one CRS: " + r.describe())
    r = rp(["zonal", d + "/a.tif", d + "/c.tif", "--polygons", d + "/nocrs.csv", "-q", "-s",
            "mean"])
    T.check(case, r.code == 2 and "has no CRS" in r.err and "nocrs.csv" in r.err,
            "polygons without a CRS, rasters in two CRSs: refused: " + r.describe())


# --- --max-memory -----------------------------------------------------------------------

def case_memory(T, case, d):
    gt = [0.0, 1.0, 0.0, 200.0, 0.0, -1.0]
    make_raster(d + "/m.tif", gt, 200, 200, 32633, seed=31, block=32)
    sq = "POLYGON((%d %d, %d %d, %d %d, %d %d, %d %d))"
    wkts = [sq % (0, 0, 200, 0, 200, 200, 0, 200, 0, 0)]  # the whole raster: 40,000 cells
    for k in range(30):  # 30 squares of 20 x 20 cells
        x, y = 5 + (k % 6) * 32, 5 + (k // 6) * 38
        wkts.append(sq % (x, y, x + 20, y, x + 20, y + 20, x, y + 20, x, y))
    write_polys(d + "/big.gpkg", wkts, 32633)
    write_polys(d + "/small.gpkg", wkts[1:], 32633)
    stats = ["-s", "mean", "-s", "median", "-s", "values", "--status"]
    base = [d + "/m.tif", "-j", "7"] + stats

    def run(poly, *extra):
        return rp(["zonal", "--polygons", d + "/" + poly] + base + list(extra) + ["-q"])
    ref = run("big.gpkg")
    T.check(case, ref.code == 0, ref.describe())
    r = run("big.gpkg", "--max-memory", "1G")
    T.check(case, r.code == 0 and r.out == ref.out, "a generous cap: the same bytes as none: " +
            r.describe())
    r = run("big.gpkg", "--max-memory", "1K")
    T.check(case, r.code == 2 and "--max-memory" in r.err and "needs at least" in r.err,
            "a tiny cap: exit 2 before any pixel: " + r.describe())
    fixed = int(r.err.split("needs at least ")[1].split(" ")[0]) if r.code == 2 else 0
    T.check(case, fixed > 0, "the fixed part is named: " + r.err)
    r = run("big.gpkg", "--max-memory", "x")
    T.check(case, r.code == 2 and "not a size" in r.err, "--max-memory x: " + r.describe())
    # room for the squares (30 x 400 cells x 16 bytes x 2 lists = 384,000 bytes) but not for
    # the whole-raster polygon (40,000 x 32 = 1,280,000 bytes): it alone fails
    rows_ref = list(csv.DictReader(io.StringIO(ref.text)))
    for j in ("1", "7"):
        r = rp(["zonal", "--polygons", d + "/big.gpkg", d + "/m.tif", "-j", j] + stats +
               ["--max-memory", str(fixed + 600000), "-q"])
        rows = list(csv.DictReader(io.StringIO(r.text)))
        T.check(case, r.code == 1 and "FID 1" in r.err and "1280000 bytes" in r.err and
                "over_memory" in r.err, "-j %s: the big polygon fails alone: %s" % (j, r.describe()))
        T.check(case, len(rows) == 31 and rows[0]["status"] == "over_memory" and
                rows[0]["mean"] == "" and rows[0]["values"] == "" and
                rows[1:] == rows_ref[1:], "-j %s: its row empty, the others as without a cap: %r"
                % (j, rows[0] if rows else None))
    # each square fits alone, all 30 together do not: the job stops, exit 3
    r = run("small.gpkg", "--max-memory", "1K")
    small_fixed = int(r.err.split("needs at least ")[1].split(" ")[0]) if r.code == 2 else 0
    r = run("small.gpkg", "--max-memory", str(small_fixed + 200000))
    T.check(case, r.code == 3 and "value lists" in r.err and "--max-memory" in r.err,
            "lists over the cap together: exit 3: " + r.describe())
    r = run("small.gpkg", "--max-memory", str(small_fixed + 400000))
    T.check(case, r.code == 0, "lists within the cap: " + r.describe())


def main():
    T = Tester("oracle_zonal_more")
    for name, fn in [("coverage_weight=area_spherical_m2", case_spherical),
                     ("frac and weighted_frac", case_frac),
                     ("rasters on different grids", case_grids),
                     ("--max-memory", case_memory)]:
        d = tempfile.mkdtemp(prefix="rp_zonal_more_")
        try:
            T.run_case(name, lambda c, dd, f=fn: f(T, c, dd), d)
        finally:
            shutil.rmtree(d, ignore_errors=True)
    print("compared %d statistics with numpy over shapely fractions" % COUNTS["values"])
    T.finish()


if __name__ == "__main__":
    main()
