#!/usr/bin/env python3
"""oracle_zonal — `rasterpool zonal` statistics against oracles that do not
use rasterpool: coverage fractions from shapely's exact cell ∩ polygon
areas, pixels from a whole-band GDAL read, statistics computed here with
numpy (count, sum, mean, min, max, variance, stdev, coefficient_of_variation,
majority, minority, variety, median, quantile, weighted_sum, weighted_mean,
min_coverage_frac, coverage_weight=none, default_value), and, where R and
terra are installed, terra::extract(exact=TRUE) cell fractions for
mean/sum/min/max. Also: nodata, NaN, a mask, Int16, Float32 and signed-byte bands,
multi-band, polygons off the raster, holes, a polygon CRS that differs
from the raster's, identical bytes at -j 1/2/7, --plan, and the list-valued
operations (values, coverage, cell_id, center_x, center_y, unique) in CSV,
GeoJSON (RealList) and GeoPackage (text).
"""
import csv
import io
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from rptest import Tester, Limited, rp  # noqa: E402

import numpy as np  # noqa: E402
from osgeo import gdal, ogr, osr  # noqa: E402
from shapely import wkt as shapely_wkt  # noqa: E402
from shapely.geometry import box  # noqa: E402
from shapely.prepared import prep  # noqa: E402

RTOL = 1e-9
COUNTS = {"values": 0}
GT = [500000.0, 30.0, 0.0, 4200000.0, 0.0, -30.0]
W, H = 150, 120


def make_raster(path, dtype, nbands=1, nodata=None, nan=False, mask=False, seed=1):
    rnd = np.random.default_rng(seed)
    drv = gdal.GetDriverByName("GTiff")
    gtype = gdal.GetDataTypeByName(dtype)
    ds = drv.Create(path, W, H, nbands, gtype, ["TILED=YES", "BLOCKXSIZE=32", "BLOCKYSIZE=32"])
    ds.SetGeoTransform(GT)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    arrays = []
    for b in range(nbands):
        if dtype.startswith("Float"):
            a = (rnd.normal(100, 30, (H, W))).astype(np.float32 if dtype == "Float32" else np.float64)
        else:
            a = rnd.integers(0, 7, (H, W)).astype(np.int16)
        if nodata is not None:
            a[rnd.random((H, W)) < 0.1] = nodata
            ds.GetRasterBand(b + 1).SetNoDataValue(nodata)
        if nan:
            a[rnd.random((H, W)) < 0.05] = np.nan
        ds.GetRasterBand(b + 1).WriteArray(a)
        arrays.append(a)
    if mask:
        ds.CreateMaskBand(gdal.GMF_PER_DATASET)
        m = (rnd.random((H, W)) > 0.1).astype(np.uint8) * 255
        ds.GetRasterBand(1).GetMaskBand().WriteArray(m)
    ds = None
    ds = gdal.Open(path)
    valid = []
    for b in range(nbands):
        band = ds.GetRasterBand(b + 1)
        a = band.ReadAsArray().astype(np.float64)
        ok = ~np.isnan(a)
        if band.GetNoDataValue() is not None:
            ok &= a != band.GetNoDataValue()
        if mask:
            ok &= band.GetMaskBand().ReadAsArray() != 0
        valid.append((a, ok))
    return valid


def star_wkt(rnd, cx, cy, r_out, n, hole):
    pts = []
    for i in range(n):
        t = 2 * math.pi * i / n
        rad = r_out if i % 2 == 0 else r_out * rnd.uniform(0.4, 0.9)
        pts.append((cx + rad * math.cos(t), cy + rad * math.sin(t)))
    if rnd.random() < 0.5:
        pts = pts[::-1]
    ring = ", ".join("%.10f %.10f" % p for p in pts + [pts[0]])
    text = "POLYGON((%s)" % ring
    if hole:
        h = [(cx + r_out * 0.15 * math.cos(2 * math.pi * i / 9),
              cy + r_out * 0.15 * math.sin(2 * math.pi * i / 9)) for i in range(9)]
        text += ", (%s)" % ", ".join("%.10f %.10f" % p for p in h + [h[0]])
    return text + ")"


def make_polygons(path, n=30, seed=3, epsg=32633):
    rnd = random.Random(seed)
    x0, y1 = GT[0], GT[3]
    x1, y0 = x0 + W * GT[1], y1 + H * GT[5]
    wkts = []
    for i in range(n):
        cx, cy = rnd.uniform(x0 - 300, x1 + 300), rnd.uniform(y0 - 300, y1 + 300)
        r_out = rnd.choice([10, 40, 200, 900])
        wkts.append(star_wkt(rnd, cx, cy, r_out, rnd.randrange(2, 50) * 2, i % 4 == 0))
    wkts.append("POLYGON((%f %f, %f %f, %f %f, %f %f))" % (x0 + 300, y1 - 300, x0 + 600, y1 - 300,
                                                           x0 + 600, y1 - 600, x0 + 300, y1 - 300))
    wkts.append("POLYGON((%f %f, %f %f, %f %f, %f %f))" % (
        x0 - 900, y1 + 900, x0 - 800, y1 + 900, x0 - 800, y1 + 800, x0 - 900, y1 + 900))
    wkts.append("MULTIPOLYGON(((%f %f, %f %f, %f %f, %f %f)), ((%f %f, %f %f, %f %f, %f %f)))" % (
        x0 + 10, y1 - 10, x0 + 400, y1 - 20, x0 + 50, y1 - 700, x0 + 10, y1 - 10,
        x1 - 10, y0 + 10, x1 - 400, y0 + 20, x1 - 50, y0 + 700, x1 - 10, y0 + 10))
    drv = ogr.GetDriverByName("GPKG")
    ds = drv.CreateDataSource(path)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    src = osr.SpatialReference()
    src.ImportFromEPSG(32633)
    src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(src, srs) if epsg != 32633 else None
    lyr = ds.CreateLayer("polys", srs, ogr.wkbMultiPolygon)
    lyr.CreateField(ogr.FieldDefn("pid", ogr.OFTInteger))
    lyr.CreateField(ogr.FieldDefn("label", ogr.OFTString))
    for i, t in enumerate(wkts):
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetField("pid", i)
        f.SetField("label", "poly, %d" % i)
        g = ogr.ForceToMultiPolygon(ogr.CreateGeometryFromWkt(t))
        if ct:
            g.Transform(ct)
        f.SetGeometry(g)
        lyr.CreateFeature(f)
    ds = None
    return wkts


def fractions(wkt, gt=None, w=None, h=None):
    """[(row, col, fraction)] of the cells of grid (gt, w, h) the polygon
    covers (shapely's exact areas); the default grid is this file's raster's.
    oracle_zonal_more.py uses it on its own grids."""
    gt = GT if gt is None else gt
    w = W if w is None else w
    h = H if h is None else h
    g = shapely_wkt.loads(wkt)
    pg = prep(g)
    minx, miny, maxx, maxy = g.bounds
    c0 = max(0, int(math.floor((minx - gt[0]) / gt[1])))
    c1 = min(w, int(math.ceil((maxx - gt[0]) / gt[1])))
    r0 = max(0, int(math.floor((maxy - gt[3]) / gt[5])))
    r1 = min(h, int(math.ceil((miny - gt[3]) / gt[5])))
    out = []
    area = gt[1] * -gt[5]
    for r in range(r0, r1):
        for c in range(c0, c1):
            x, y = gt[0] + c * gt[1], gt[3] + r * gt[5]
            cell = box(x, y + gt[5], x + gt[1], y)
            if pg.intersects(cell):
                f = g.intersection(cell).area / area
                if f > 1e-12:
                    out.append((r, c, min(f, 1.0)))
    return out


def wquantile(vals, wts, q):
    order = np.lexsort((wts, vals))
    v, w = np.asarray(vals)[order], np.asarray(wts)[order]
    n = len(v)
    if n == 1:
        return v[0]
    cum = np.concatenate([[0.0], np.cumsum(w)[:-1]])
    s = np.arange(n) * w + (n - 1) * cum
    target = q * (n - 1) * w.sum()
    k = np.searchsorted(s, target, side="right")
    if k == 0:
        return v[0]
    if k >= n:
        return v[-1]
    return v[k - 1] + (target - s[k - 1]) * (v[k] - v[k - 1]) / (s[k] - s[k - 1])


def oracle_stat(op, vals, covs, wts=None):
    vals, covs = np.asarray(vals, float), np.asarray(covs, float)
    if len(vals) == 0:
        return None
    W_ = covs.sum()
    mean = (covs * vals).sum() / W_
    var = (covs * (vals - mean) ** 2).sum() / W_
    if op == "count":
        return W_
    if op == "sum":
        return (covs * vals).sum()
    if op == "mean":
        return mean
    if op == "min":
        return vals.min()
    if op == "max":
        return vals.max()
    if op == "variance":
        return var
    if op == "stdev":
        return math.sqrt(var)
    if op == "coefficient_of_variation":
        return math.sqrt(var) / mean
    if op in ("majority", "minority", "variety"):
        u = sorted(set(vals.tolist()))
        tot = [covs[vals == x].sum() for x in u]
        if op == "variety":
            return len(u)
        best = 0
        for i in range(1, len(u)):
            if (tot[i] > tot[best]) if op == "majority" else (tot[i] < tot[best]):
                best = i
        return u[best]
    if op == "median":
        return wquantile(vals, covs, 0.5)
    if op.startswith("quantile"):
        return wquantile(vals, covs, float(op.split("=")[1].rstrip(")")))
    if op == "weighted_sum":
        return (covs * vals * wts).sum()
    if op == "weighted_mean":
        return (covs * vals * wts).sum() / (covs * wts).sum()
    if op in ("weighted_variance", "weighted_stdev"):
        cw = covs * wts
        m = (cw * vals).sum() / cw.sum()
        v = (cw * (vals - m) ** 2).sum() / cw.sum()
        return v if op == "weighted_variance" else math.sqrt(v)
    raise ValueError(op)


def close(a, b, scale):
    return abs(a - b) <= RTOL * max(1.0, abs(b), scale)


def run_zonal(T, case, args):
    r = rp(["zonal"] + args + ["-q"])
    if not T.check(case, r.code in (0, 1), "rasterpool failed: " + r.describe()):
        return None, r
    return list(csv.DictReader(io.StringIO(r.text))), r


def compare_rows(T, case, rows, wkts, bands, ops, pick=None, wts=None, polys_for_oracle=None):
    """bands: list of (array, valid) per band; ops: list of (column, op, filt)."""
    lim = Limited(T, case)
    T.check(case, len(rows) == len(wkts), "%d rows for %d polygons" % (len(rows), len(wkts)))
    for i, (row, wkt) in enumerate(zip(rows, polys_for_oracle or wkts)):
        T.check(case, row["pid"] == str(i), "row %d has pid %s (input order)" % (i, row["pid"]))
        fr = fractions(wkt)
        for b, (a, ok) in enumerate(bands):
            for col, op, filt in ops:
                name = col if len(bands) == 1 else "b%d_%s" % (b + 1, col)
                vals, covs, ws, cx, cy = [], [], [], [], []
                for r_, c_, f in fr:
                    v = a[r_, c_]
                    valid = ok[r_, c_]
                    if filt.get("min_cov") and f < filt["min_cov"]:
                        continue
                    if not valid:
                        if "default" not in filt:
                            continue
                        v = filt["default"]
                    if wts is not None:
                        if not wts[1][r_, c_]:
                            continue
                        ws.append(wts[0][r_, c_])
                    vals.append(v)
                    cx.append(GT[0] + (c_ + 0.5) * GT[1])
                    cy.append(GT[3] + (r_ + 0.5) * GT[5])
                    covs.append(1.0 if filt.get("none") else f * filt.get("area", 1.0))
                base = op if op.startswith("quantile") else op.split("(")[0]
                if base.endswith("center_x") or base.endswith("center_y"):
                    pos = cx if base.endswith("x") else cy
                    want = (min(pos) if base.startswith("min") else max(pos)) if pos else None
                else:
                    want = oracle_stat(base, vals, covs,
                                       np.asarray(ws) if wts is not None else None)
                got = row[name]
                COUNTS["values"] += 1
                if want is None:
                    if got != "":
                        lim.add("polygon %d %s: got %r, want empty" % (i, name, got))
                    continue
                scale = float(np.sum(np.abs(np.asarray(vals) * np.asarray(covs)))) if vals else 1
                if got == "" or not close(float(got), float(want), scale):
                    lim.add("polygon %d %s: got %r, oracle %.17g" % (i, name, got, want))
    lim.flush()


FLOAT_OPS = [(o, o, {}) for o in ("count", "sum", "mean", "min", "max", "variance", "stdev",
                                  "coefficient_of_variation", "median")] + [
    ("p90", "quantile(q=0.9)", {}), ("p10", "quantile(q=0.1)", {})]
INT_OPS = [(o, o, {}) for o in ("count", "sum", "mean", "min", "max", "majority", "minority",
                                "variety", "median")]


def s_args(ops):
    out = []
    for col, op, _ in ops:
        out += ["-s", op if col == op else "%s=%s" % (col, op)]
    return out


def case_float(T, case, d):
    bands = make_raster(os.path.join(d, "f.tif"), "Float32", nodata=-9999, nan=True)
    wkts = make_polygons(os.path.join(d, "p.gpkg"))
    rows, r = run_zonal(T, case, [d + "/f.tif", "--polygons", d + "/p.gpkg",
                                  "--status"] + s_args(FLOAT_OPS))
    if rows is not None:
        compare_rows(T, case, rows, wkts, bands, FLOAT_OPS)
        T.check(case, rows[-2]["status"] == "outside", "an off-raster polygon's status")
        T.check(case, rows[0]["label"] == "poly, 0", "attributes carried (quoted comma)")


def case_int_multiband_mask(T, case, d):
    bands = make_raster(os.path.join(d, "i.tif"), "Int16", nbands=2, nodata=6, mask=True)
    wkts = make_polygons(os.path.join(d, "p.gpkg"), seed=5)
    rows, r = run_zonal(T, case, [d + "/i.tif", "--polygons", d + "/p.gpkg"] + s_args(INT_OPS) +
                        ["-s", "frac"])
    if rows is None:
        return
    compare_rows(T, case, rows, wkts, bands, INT_OPS)
    # frac: one column per value found under any polygon, b<N>_frac_<value>
    lim = Limited(T, case)
    for b, (a, ok) in enumerate(bands):
        per_poly = []
        for wkt in wkts:
            tot = {}
            for r_, c_, f in fractions(wkt):
                if ok[r_, c_]:
                    tot[a[r_, c_]] = tot.get(a[r_, c_], 0.0) + f
            per_poly.append(tot)
        keys = sorted(set(k for t in per_poly for k in t))
        want_cols = ["b%d_frac_%d" % (b + 1, k) for k in keys]
        got_cols = [k for k in rows[0] if k.startswith("b%d_frac_" % (b + 1))]
        T.check(case, got_cols == want_cols, "frac columns %r, want %r" % (got_cols, want_cols))
        for i, (row, tot) in enumerate(zip(rows, per_poly)):
            s = sum(tot.values())
            for k, col in zip(keys, want_cols):
                COUNTS["values"] += 1
                got = row.get(col, "?")
                if s == 0:
                    if got != "":
                        lim.add("polygon %d %s: got %r, want empty" % (i, col, got))
                elif got == "" or abs(float(got) - tot.get(k, 0.0) / s) > 1e-9:
                    lim.add("polygon %d %s: got %r, want %r" % (i, col, got, tot.get(k, 0.0) / s))
    lim.flush()


def case_signed_byte(T, case, d):
    """Issue 15 item 3: a Byte band with PIXELTYPE=SIGNEDBYTE (GDAL 3.6's
    Int8) holds -20, not 236, and its nodata -128 is matched. The oracle is
    GDAL's own Python read, which gives int8; the weights raster is one too."""
    rnd = np.random.default_rng(11)
    p = os.path.join(d, "s8.tif")
    ds = gdal.GetDriverByName("GTiff").Create(p, W, H, 1, gdal.GDT_Byte, [
        "PIXELTYPE=SIGNEDBYTE", "TILED=YES", "BLOCKXSIZE=32", "BLOCKYSIZE=32"])
    ds.SetGeoTransform(GT)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    v = rnd.integers(-128, 128, (H, W)).astype(np.int8)
    v[rnd.random((H, W)) < 0.1] = -128
    ds.GetRasterBand(1).SetNoDataValue(-128)
    ds.GetRasterBand(1).WriteArray(v.view(np.uint8))
    ds = None
    src = gdal.Open(p)
    band = src.GetRasterBand(1)
    a = band.ReadAsArray()
    if not T.check(case, a.dtype == np.int8 and band.GetNoDataValue() == -128,
                   "oracle: GDAL's read gives %s, nodata %r" % (a.dtype, band.GetNoDataValue())):
        return
    bands = [(a.astype(np.float64), a != -128)]
    wkts = make_polygons(os.path.join(d, "p.gpkg"), seed=7)
    ops = INT_OPS + [("variance", "variance", {})]
    rows, r = run_zonal(T, case, [p, "--polygons", d + "/p.gpkg"] + s_args(ops))
    if rows is not None:
        compare_rows(T, case, rows, wkts, bands, ops)
    rows, r = run_zonal(T, case, [p, "--polygons", d + "/p.gpkg", "--weights", p, "-s",
                                  "weighted_sum"])
    if rows is not None:
        compare_rows(T, case, rows, wkts, bands, [("weighted_sum", "weighted_sum", {})],
                     wts=bands[0])


LIST_OPS = ["values", "coverage", "cell_id", "center_x", "center_y", "unique"]


def case_lists(T, case, d):
    """The list-valued operations (issue 11): each polygon's covered valid
    cells in raster order (values, coverage fractions, cell ids row * width +
    col, centres) and its distinct values (unique), against shapely's
    fractions and numpy. CSV holds a JSON array in one field; GeoJSON a
    RealList field; GeoPackage (no list fields) the CSV text. Cells covered
    less than 1e-9 (shapely's rounding noise) are left out on both sides."""
    import json
    bands = make_raster(os.path.join(d, "l.tif"), "Int16", nodata=6, seed=9)
    a, ok = bands[0]
    wkts = make_polygons(os.path.join(d, "p.gpkg"), seed=13)
    args = [d + "/l.tif", "--polygons", d + "/p.gpkg"] + [x for o in LIST_OPS for x in ("-s", o)]
    rows, r = run_zonal(T, case, args)
    if rows is None:
        return
    lim = Limited(T, case)
    for i, (row, wkt) in enumerate(zip(rows, wkts)):
        cells = [(r_, c_, f) for r_, c_, f in fractions(wkt) if ok[r_, c_]]
        if not cells:
            if any(row[o] != "" for o in LIST_OPS):
                lim.add("polygon %d: no valid cell, got %r" % (i, [row[o] for o in LIST_OPS]))
            continue
        got = {o: json.loads(row[o]) if row[o] else [] for o in LIST_OPS}
        keep = [k for k, f in enumerate(got["coverage"]) if f > 1e-9]
        got_l = {o: [got[o][k] for k in keep] for o in LIST_OPS if o != "unique"}
        want = [(r_, c_, f) for r_, c_, f in cells if f > 1e-9]
        COUNTS["values"] += 6
        if got_l["cell_id"] != [r_ * W + c_ for r_, c_, _ in want]:
            lim.add("polygon %d cell_id: %r..., want %r..." % (
                i, got_l["cell_id"][:5], [r_ * W + c_ for r_, c_, _ in want][:5]))
            continue
        if got_l["values"] != [float(a[r_, c_]) for r_, c_, _ in want]:
            lim.add("polygon %d values differ" % i)
        if any(abs(g - f) > 1e-9 for g, (_, _, f) in zip(got_l["coverage"], want)):
            lim.add("polygon %d coverage differs" % i)
        if got_l["center_x"] != [GT[0] + (c_ + 0.5) * GT[1] for _, c_, _ in want] or \
                got_l["center_y"] != [GT[3] + (r_ + 0.5) * GT[5] for r_, _, _ in want]:
            lim.add("polygon %d centres differ" % i)
        all_vals = sorted(set(float(a[r_, c_]) for r_, c_, _ in cells))
        if got["unique"] != all_vals:
            lim.add("polygon %d unique %r, want %r" % (i, got["unique"], all_vals))
    lim.flush()
    # GeoJSON: RealList fields; GeoPackage: the same text as CSV
    for ext in ("geojson", "gpkg"):
        out = "%s/lists.%s" % (d, ext)
        r2 = rp(["zonal"] + args + ["-q", "-o", out])
        if not T.check(case, r2.code == 0, r2.describe()):
            continue
        ds = ogr.Open(out)
        lyr = ds.GetLayer(0)
        defn = lyr.GetLayerDefn()
        types = [defn.GetFieldDefn(defn.GetFieldIndex(o)).GetTypeName() for o in LIST_OPS]
        want_t = "RealList" if ext == "geojson" else "String"
        T.check(case, types == [want_t] * 6, "%s: field types %r" % (ext, types))
        for f, row in zip(lyr, rows):
            for o in LIST_OPS:
                v = f.GetField(o)
                want_v = json.loads(row[o]) if row[o] else None
                if ext == "gpkg":
                    v = json.loads(v) if v is not None else None
                # GeoJSON's writer keeps 15 significant digits of a list item
                same = v == want_v or (v is not None and want_v is not None and
                                       len(v) == len(want_v) and
                                       all(abs(x - y) <= 1e-13 * max(1, abs(y))
                                           for x, y in zip(v, want_v)))
                if not same:
                    T.check(case, False, "%s %s: %.200r vs CSV %.200r" % (ext, o, v, row[o]))
        ds = None


def case_args(T, case, d):
    bands = make_raster(os.path.join(d, "f.tif"), "Float32", nodata=-9999, seed=9)
    wkts = make_polygons(os.path.join(d, "p.gpkg"), seed=6)
    ops = [("half_mean", "mean(min_coverage_frac=0.5)", {"min_cov": 0.5}),
           ("cells", "count(coverage_weight=none)", {"none": True}),
           ("s0", "sum(default_value=0)", {"default": 0.0}),
           ("m", "mean(coverage_weight=none,min_coverage_frac=0.25)",
            {"none": True, "min_cov": 0.25}),
           ("area", "sum(coverage_weight=area_cartesian)", {"area": GT[1] * -GT[5]}),
           ("acount", "count(coverage_weight=area_cartesian)", {"area": GT[1] * -GT[5]}),
           ("min_center_x", "min_center_x", {}), ("max_center_x", "max_center_x", {}),
           ("min_center_y", "min_center_y", {}), ("max_center_y", "max_center_y", {})]
    rows, r = run_zonal(T, case, [d + "/f.tif", "--polygons", d + "/p.gpkg"] + s_args(ops))
    if rows is not None:
        compare_rows(T, case, rows, wkts, bands, ops)


def case_weights(T, case, d):
    bands = make_raster(os.path.join(d, "f.tif"), "Float32", nodata=-9999, seed=2)
    wb = make_raster(os.path.join(d, "w.tif"), "Float32", nodata=-9999, seed=4)
    wkts = make_polygons(os.path.join(d, "p.gpkg"), seed=8)
    ops = [("weighted_sum", "weighted_sum", {}), ("weighted_mean", "weighted_mean", {}),
           ("weighted_variance", "weighted_variance", {}),
           ("weighted_stdev", "weighted_stdev", {})]
    rows, r = run_zonal(T, case, [d + "/f.tif", "--polygons", d + "/p.gpkg",
                                  "--weights", d + "/w.tif"] + s_args(ops))
    if rows is not None:
        compare_rows(T, case, rows, wkts, bands, ops, wts=wb[0])


def case_rasters(T, case, d):
    a = make_raster(os.path.join(d, "dem.tif"), "Float32", nodata=-9999, nan=True, seed=61)
    b = make_raster(os.path.join(d, "slope.tif"), "Int16", nbands=2, nodata=6, seed=62)
    wkts = make_polygons(os.path.join(d, "p.gpkg"), seed=63)
    rows, r = run_zonal(T, case, [d + "/dem.tif", d + "/slope.tif", "--polygons",
                                  d + "/p.gpkg", "-s", "mean", "-s", "max"])
    if rows is None:
        return
    T.check(case, list(rows[0].keys()) == ["pid", "label", "dem_b1_mean", "dem_b1_max",
                                           "slope_b1_mean", "slope_b1_max", "slope_b2_mean",
                                           "slope_b2_max"], "columns: %r" % list(rows[0].keys()))
    ops = [("mean", "mean", {}), ("max", "max", {})]
    for prefix, band in [("dem_b1_", a[0]), ("slope_b1_", b[0]), ("slope_b2_", b[1])]:
        sub_rows = [dict(row, **{k[len(prefix):]: v for k, v in row.items()
                                 if k.startswith(prefix)}) for row in rows]
        compare_rows(T, case, sub_rows, wkts, [band], ops)


def case_crs(T, case, d):
    bands = make_raster(os.path.join(d, "f.tif"), "Float32", nodata=-9999, seed=12)
    make_polygons(os.path.join(d, "p.gpkg"), seed=13, epsg=4326)
    # the oracle's polygons: the file's, transformed to the raster's CRS by OGR here
    ds = ogr.Open(d + "/p.gpkg")
    lyr = ds.GetLayer(0)
    dst = osr.SpatialReference()
    dst.ImportFromEPSG(32633)
    dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    src = lyr.GetSpatialRef().Clone()
    src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(src, dst)
    wkts = []
    for f in lyr:
        g = f.GetGeometryRef().Clone()
        g.Transform(ct)
        wkts.append(g.ExportToWkt())
    ops = [("mean", "mean", {}), ("count", "count", {})]
    rows, r = run_zonal(T, case, [d + "/f.tif", "--polygons", d + "/p.gpkg"] + s_args(ops))
    if rows is not None:
        compare_rows(T, case, rows, wkts, bands, ops)


def case_threads(T, case, d):
    make_raster(os.path.join(d, "f.tif"), "Float32", nodata=-9999, nan=True, seed=21)
    make_polygons(os.path.join(d, "p.gpkg"), n=60, seed=22)
    outs = []
    for j in (1, 2, 7):
        r = rp(["zonal", d + "/f.tif", "--polygons", d + "/p.gpkg", "-j", j, "-q"] +
               s_args(FLOAT_OPS))
        T.check(case, r.code == 0, r.describe())
        outs.append(r.out)
    T.check(case, outs[0] == outs[1] == outs[2], "output differs between -j 1, 2 and 7")


TERRA_R = r"""
suppressMessages(library(terra))
a <- commandArgs(TRUE)
r <- rast(a[1]); v <- vect(a[2])
e <- extract(r, v, exact=TRUE)
names(e) <- c("ID", "value", "fraction")
e <- e[!is.na(e$value) & e$fraction > 0, ]
for (i in seq_len(nrow(v))) {
  s <- e[e$ID == i, ]
  if (nrow(s) == 0) { cat(i, "NA NA NA NA\n"); next }
  cat(i, sprintf("%.17g", sum(s$value * s$fraction)), sprintf("%.17g", sum(s$value * s$fraction) / sum(s$fraction)),
      sprintf("%.17g", min(s$value)), sprintf("%.17g", max(s$value)), "\n")
}
"""


def case_terra(T, case, d):
    if not shutil.which("Rscript") or subprocess.run(
            ["Rscript", "-e", "library(terra)"], capture_output=True).returncode != 0:
        print("   (R terra not installed: case skipped)")
        return
    tb = make_raster(os.path.join(d, "f.tif"), "Float32", nodata=-9999, seed=31)
    vmax = float(np.max(np.abs(tb[0][0][tb[0][1]])))
    make_polygons(os.path.join(d, "p.gpkg"), seed=32)
    with open(d + "/t.R", "w") as f:
        f.write(TERRA_R)
    t = subprocess.run(["Rscript", d + "/t.R", d + "/f.tif", d + "/p.gpkg"], capture_output=True,
                       text=True)
    if not T.check(case, t.returncode == 0, "terra failed: " + t.stderr[-800:]):
        return
    ops = ["sum", "mean", "min", "max"]
    rows, r = run_zonal(T, case, [d + "/f.tif", "--polygons", d + "/p.gpkg"] +
                        sum([["-s", o] for o in ops], []))
    if rows is None:
        return
    lim = Limited(T, case)
    lines = [ln.split() for ln in t.stdout.strip().splitlines()]
    for i, (row, ln) in enumerate(zip(rows, lines)):
        for k, o in enumerate(ops):
            want, got = ln[1 + k], row[o]
            COUNTS["terra"] = COUNTS.get("terra", 0) + 1
            if want == "NA":
                if got != "":
                    lim.add("polygon %d %s: got %r, terra NA" % (i, o, got))
            # terra's own fractions agree to about 1e-8 of a cell, so agreement
            # is checked at 1e-6 of the largest |value| (or of the result).
            elif got == "" or abs(float(got) - float(want)) > 1e-6 * max(1, abs(float(want)), vmax):
                lim.add("polygon %d %s: got %r, terra %s" % (i, o, got, want))
    lim.flush()


def case_plan(T, case, d):
    make_raster(os.path.join(d, "f.tif"), "Float32", nodata=-9999, seed=41)
    wkts = make_polygons(os.path.join(d, "p.gpkg"), seed=42)
    r = rp(["zonal", d + "/f.tif", "--polygons", d + "/p.gpkg", "-s", "mean", "--plan"])
    T.check(case, r.code == 0, r.describe())
    blocks = set()
    for w in wkts:
        g = shapely_wkt.loads(w)
        minx, miny, maxx, maxy = g.bounds
        c0 = max(0, int(math.floor((minx - GT[0]) / GT[1])))
        c1 = min(W, int(math.ceil((maxx - GT[0]) / GT[1])))
        r0 = max(0, int(math.floor((maxy - GT[3]) / GT[5])))
        r1 = min(H, int(math.ceil((miny - GT[3]) / GT[5])))
        if c0 < c1 and r0 < r1:
            for by in range(r0 // 32, (r1 - 1) // 32 + 1):
                for bx in range(c0 // 32, (c1 - 1) // 32 + 1):
                    blocks.add((bx, by))
    T.check(case, ("blocks touched: %d of 20" % len(blocks)) in r.text,
            "plan should say %d blocks touched:\n%s" % (len(blocks), r.text))


def case_invalid(T, case, d):
    make_raster(os.path.join(d, "f.tif"), "Float32", seed=51)
    x, y = GT[0], GT[3]
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(d + "/bad.gpkg")
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    lyr = ds.CreateLayer("p", srs, ogr.wkbPolygon)
    lyr.CreateField(ogr.FieldDefn("pid", ogr.OFTInteger))
    bow = "POLYGON((%f %f, %f %f, %f %f, %f %f, %f %f))" % (
        x + 300, y - 300, x + 600, y - 600, x + 300, y - 600, x + 600, y - 300, x + 300, y - 300)
    good = "POLYGON((%f %f, %f %f, %f %f, %f %f))" % (x, y, x + 90, y, x + 90, y - 90, x, y)
    assert good.count(",") == 3
    for i, t in enumerate([good, bow, good]):
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetField("pid", i)
        f.SetGeometry(ogr.CreateGeometryFromWkt(t))
        lyr.CreateFeature(f)
    ds = None
    r = rp(["zonal", d + "/f.tif", "--polygons", d + "/bad.gpkg", "-s", "count", "--status", "-q"])
    T.check(case, r.code == 1, "exit %s, want 1: %s" % (r.code, r.describe()))
    T.check(case, "FID 2" in r.err, "the warning names the feature's FID: " + r.err)
    rows = list(csv.DictReader(io.StringIO(r.text)))
    T.check(case, [x["status"] for x in rows] == ["ok", "repaired", "ok"], str(rows))
    # the bowtie repaired: two triangles of 5 x 5 cells each, half covered
    T.check(case, rows[1]["count"] in ("50", "50.000000000000007", "49.999999999999993") or
            abs(float(rows[1]["count"]) - 50) < 1e-9, "repaired bowtie count: %r" % rows[1])
    T.check(case, abs(float(rows[0]["count"]) - 4.5) < 1e-12, "triangle of 3x3 cells: 4.5")


def main():
    T = Tester("oracle_zonal")
    for name, fn in [("float32 nodata NaN, all float ops", case_float),
                     ("int16 two bands, mask, value-list ops", case_int_multiband_mask),
                     ("signed bytes (PIXELTYPE=SIGNEDBYTE)", case_signed_byte),
                     ("list-valued operations", case_lists),
                     ("operation arguments", case_args),
                     ("weights", case_weights),
                     ("polygons in another CRS", case_crs),
                     ("two rasters on one grid, three bands", case_rasters),
                     ("same bytes at -j 1/2/7", case_threads),
                     ("terra exact=TRUE", case_terra),
                     ("--plan", case_plan),
                     ("invalid geometry", case_invalid)]:
        d = tempfile.mkdtemp(prefix="rp_zonal_")
        try:
            T.run_case(name, lambda c, dd, f=fn: f(T, c, dd), d)
        finally:
            shutil.rmtree(d, ignore_errors=True)
    print("compared %d statistics with numpy over shapely fractions; %d with terra" % (
        COUNTS["values"], COUNTS.get("terra", 0)))
    T.finish()


if __name__ == "__main__":
    main()
