#!/usr/bin/python3
"""cli_real_data — what real rasters and point files broke (issue 15), each
case built here shaped like the real one, checked against GDAL's own reads
(python3-gdal, gdallocationinfo, GDAL's transformers) or by hand.

Cases (issue 15 item): signed bytes on GDAL 3.6 (3), a NUL byte in a
coordinate (5), points exactly on interior corners of rotated grids (6),
rasters without a geotransform (2), a raster whose CRS cannot be reached
(7), duplicate x/y columns (8), Shapefile field names (9), MultiPoints
(10), every row bad (11), coordinate column names and WKT geometry (12),
--names desc and netCDF variables (13), --unscale (14), the corrupt-block
message (16), --plan texts and complex values (17).
Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 cli_real_data.py
"""
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
import numpy as np  # noqa: E402

import rptest  # noqa: E402
from rptest import gdal, ogr, osr  # noqa: E402


class Env:
    def __init__(self, tmp):
        self.tmp = tmp

    def p(self, name):
        return os.path.join(self.tmp, name)


def run_csv(T, case, args, stdin=None, code=0):
    """Runs extract; checks the exit code; returns (header, rows, run)."""
    r = rptest.extract(args, stdin=stdin)
    T.check(case, r.code == code, "exit %s, want %s\n    %s" % (r.code, code, r.describe()))
    header, rows = rptest.parse_csv(r.text) if r.out else ([], [])
    return header, rows, r


# ---- item 3: signed bytes --------------------------------------------------


def case_signed_byte(case, E, T):
    path = E.p("signed.tif")
    vals = np.array([[-20, -128, 0, 127], [1, -1, 5, -5], [100, -100, 3, 4]], dtype=np.int8)
    ds = gdal.GetDriverByName("GTiff").Create(path, 4, 3, 1, gdal.GDT_Byte,
                                              ["PIXELTYPE=SIGNEDBYTE"])
    ds.SetGeoTransform([0, 1, 0, 3, 0, -1])
    ds.GetRasterBand(1).WriteArray(vals.view(np.uint8))
    ds.GetRasterBand(1).SetNoDataValue(-128)
    ds = None
    # the oracle: GDAL's Python reads of the band (numpy int8 on GDAL 3.6)
    ds = gdal.Open(path)
    want = ds.GetRasterBand(1).ReadAsArray().astype(np.int64)
    nodata = ds.GetRasterBand(1).GetNoDataValue()
    ds = None
    T.check(case, nodata == -128, "oracle: nodata %r" % nodata)
    lines = ["x,y"]
    cells = [(c, r) for r in range(3) for c in range(4)]
    for c, r in cells:
        lines.append("%s,%s" % (c + 0.5, 3 - r - 0.5))
    header, rows, _ = run_csv(T, case, [path, "--status"], stdin="\n".join(lines) + "\n")
    for (c, r), row in zip(cells, rows):
        v = int(want[r][c])
        exp = ("", "nodata") if v == -128 else (str(v), "ok")
        T.check(case, tuple(row[2:4]) == exp, "cell (%d,%d): %r, want %r" % (c, r, row[2:], exp))
    # a vector output carries them as integers too
    out = E.p("signed_out.gpkg")
    r = rptest.extract([path, "-o", out], stdin="x,y\n0.5,2.5\n")
    if T.check(case, r.code == 0, r.describe()):
        ds = ogr.Open(out)
        f = ds.GetLayer(0).GetNextFeature()
        T.check(case, f.GetField("b1") == -20, "gpkg b1 %r, want -20" % f.GetField("b1"))
        f = ds = None


def case_signed_byte_sampled(case, E, T):
    """Signed bytes through --method and --window: the cells read as int8
    (GDAL's own reads), and the computed columns print in their own type."""
    path = E.p("signed_s.tif")
    vals = np.array([[-20, -10, 0, 10], [-30, 40, -50, 60], [70, -80, 90, -100]], dtype=np.int8)
    ds = gdal.GetDriverByName("GTiff").Create(path, 4, 3, 1, gdal.GDT_Byte,
                                              ["PIXELTYPE=SIGNEDBYTE"])
    ds.SetGeoTransform([0, 1, 0, 3, 0, -1])
    ds.GetRasterBand(1).WriteArray(vals.view(np.uint8))
    ds = None
    ds = gdal.Open(path)
    want = ds.GetRasterBand(1).ReadAsArray().astype(np.float64)  # int8 on GDAL 3.6
    ds = None
    # bilinear at the corner shared by cells (1,0),(2,0),(1,1),(2,1): their mean
    header, rows, _ = run_csv(T, case, [path, "--method", "bilinear"], stdin="x,y\n2,2\n")
    exp = (want[0][1] + want[0][2] + want[1][1] + want[1][2]) / 4
    T.check(case, rows and float(rows[0][2]) == exp, "bilinear %r, want %r" % (rows[:1], exp))
    # a 3x3 window at cell (1,1): min/max keep the int8 values, mean is a float
    header, rows, _ = run_csv(T, case, [path, "--window", "3", "--window-stat", "min",
                                        "--window-stat", "max", "--window-stat", "mean"],
                              stdin="x,y\n1.5,1.5\n")
    win = want[0:3, 0:3]
    got = dict(zip(header, rows[0])) if rows else {}
    T.check(case, got.get("b1_min") == str(int(win.min())) and
            got.get("b1_max") == str(int(win.max())) and
            float(got.get("b1_mean", "nan")) == win.mean(),
            "window %r, want min %d max %d mean %r" % (got, win.min(), win.max(), win.mean()))
    # --unscale cannot be combined with a window's statistics (yet): refused
    r = rptest.extract([path, "--window", "3", "--unscale"], stdin="x,y\n1.5,1.5\n")
    T.check(case, r.code == 2 and "--unscale" in r.err, "--unscale --window: " + r.describe())


# ---- item 5: a NUL byte inside a coordinate field ----------------------------


def small_raster(E, name="small.tif"):
    """4x3 Int16, values 10*row + col, pixel size 1, top-left (0, 3)."""
    rows, cols = np.mgrid[0:3, 0:4]
    return rptest.create_raster(E.p(name), rows * 10 + cols, "Int16",
                                gt=(0, 1, 0, 3, 0, -1), block=None, compress=None)


def case_nul_byte(case, E, T):
    r = small_raster(E)
    text = b"id,x,y\n1,9\x009.5,1\n2,0.5,2.5\n3,\"1\x00.5\",0.5\n4,1.5,0.5\x00\n"
    want = [("", "error"), ("0", "ok"), ("", "error"), ("", "error")]
    # standard input, a small file, and a file big enough to be read in parallel pieces
    big = E.p("nul_big.csv")
    filler = b"".join(b"%d,0.5,2.5\n" % (i + 10) for i in range(120000))
    with open(big, "wb") as f:
        f.write(text + filler + b"999,2\x005,0.5\n")
    small = E.p("nul.csv")
    with open(small, "wb") as f:
        f.write(text)
    for how, args, stdin in (("stdin", [], text), ("file", ["--points", small], None),
                             ("big file", ["--points", big], None)):
        c = "%s (%s)" % (case, how)
        header, rows, run = run_csv(T, c, [r, "--status"] + args, stdin=stdin, code=1)
        got = [tuple(row[3:5]) for row in rows[:4]]
        T.check(c, got == want, "values %r, want %r" % (got, want))
        T.check(c, "NUL byte" in run.err, "stderr does not name the NUL byte: %r" % run.err[:300])
        if how == "big file":
            T.check(c, rows and tuple(rows[-1][3:5]) == ("", "error"), "last row %r" % rows[-1:])


# ---- item 2: rasters without a geotransform ----------------------------------

GW, GH = 200, 150


def nogt_raster(path, gcps=None, gcp_srs="EPSG:32633", rpc=None, geoloc=None):
    """An Int32 raster (value = row * 1000 + col) with no geotransform; GCPs,
    RPC or GEOLOCATION metadata as given."""
    rows, cols = np.mgrid[0:GH, 0:GW]
    ds = gdal.GetDriverByName("GTiff").Create(path, GW, GH, 1, gdal.GDT_Int32)
    ds.GetRasterBand(1).WriteArray((rows * 1000 + cols).astype(np.int32))
    if gcps:
        s = osr.SpatialReference()
        s.SetFromUserInput(gcp_srs)
        ds.SetGCPs(gcps, s.ExportToWkt())
    if rpc:
        ds.SetMetadata(rpc, "RPC")
    if geoloc:
        ds.SetMetadata(geoloc, "GEOLOCATION")
    ds = None
    return path


def rpc_metadata():
    """RPCs over a small area near (10 E, 45 N) with cross terms (not affine)."""
    def coeffs(d):
        a = ["0"] * 20
        for k, v in d.items():
            a[k] = repr(v)
        return " ".join(a)
    # terms: 0:1 1:L 2:P 3:H 4:L*P ...
    return {"LINE_OFF": "75", "SAMP_OFF": "100", "LAT_OFF": "45", "LONG_OFF": "10",
            "HEIGHT_OFF": "0", "LINE_SCALE": "75", "SAMP_SCALE": "100", "LAT_SCALE": "0.01",
            "LONG_SCALE": "0.01", "HEIGHT_SCALE": "100",
            "LINE_NUM_COEFF": coeffs({2: -1.0, 4: 0.02}), "LINE_DEN_COEFF": coeffs({0: 1.0}),
            "SAMP_NUM_COEFF": coeffs({1: 1.0, 4: 0.05, 3: 0.1}),
            "SAMP_DEN_COEFF": coeffs({0: 1.0})}


def transformer_oracle(path, method, npts=300, seed=5, options=()):
    """Points made at cell centres (+-0.3 pixel) and mapped to georeferenced
    coordinates by GDAL's transformer; the oracle maps them back with it and
    reads the cell from a whole-band read."""
    ds = gdal.Open(path)
    tr = gdal.Transformer(ds, None, ["METHOD=" + method] + list(options))
    rng = np.random.default_rng(seed)
    cols = rng.integers(0, GW, npts)
    rows = rng.integers(0, GH, npts)
    px = cols + 0.5 + rng.uniform(-0.3, 0.3, npts)
    py = rows + 0.5 + rng.uniform(-0.3, 0.3, npts)
    geo, ok = tr.TransformPoints(0, [(float(a), float(b), 0.0) for a, b in zip(px, py)])
    pts = [(g[0], g[1]) for g, k in zip(geo, ok) if k]
    back, ok2 = tr.TransformPoints(1, [(x, y, 0.0) for x, y in pts])
    arr = ds.GetRasterBand(1).ReadAsArray()
    want = []
    for (bx, by, _), k in zip(back, ok2):
        c, r = int(np.floor(bx)), int(np.floor(by))
        inside = k and 0 <= c < GW and 0 <= r < GH
        want.append(str(arr[r, c]) if inside else "")
    return pts, want


def check_against(T, case, path, method, gdal_method, extra_args=(), options=()):
    pts, want = transformer_oracle(path, gdal_method, options=options)
    T.check(case, sum(1 for w in want if w) > 250, "oracle: too few points inside")
    stdin = "x,y\n" + "".join("%r,%r\n" % p for p in pts)
    header, rows, r = run_csv(T, case, [path, "--transformer", method] + list(extra_args),
                              stdin=stdin)
    got = [row[2] if len(row) > 2 else None for row in rows]
    bad = [(i, g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w]
    T.check(case, len(got) == len(want) and not bad,
            "%d of %d differ from GDAL's transformer, first: %r" % (len(bad), len(want), bad[:5]))


def case_no_geotransform(case, E, T):
    # GCPs (not affine: polynomial order 2 and TPS differ from order 1)
    gcps = [gdal.GCP(500000 + px * 10 + py * 0.5 + 0.001 * px * py,
                     4000000 - py * 10 + px * 0.3, 0, px, py)
            for px in (0, 50, 100, 150, 200) for py in (0, 75, 150)]
    gcp = nogt_raster(E.p("cog_gcps.tif"), gcps=gcps)
    rpc = nogt_raster(E.p("rpc_only.tif"), rpc=rpc_metadata())
    bare = nogt_raster(E.p("bare.tif"))
    # refused by default, with what the raster has and what to say
    for path, mentions in ((gcp, ("15 GCPs", "--transformer gcp")),
                           (rpc, ("RPC", "--transformer rpc")),
                           (bare, ("no geotransform", "--transformer pixel"))):
        r = rptest.extract([path], stdin="lon,lat\n10,45\n")
        c = "%s (refused: %s)" % (case, os.path.basename(path))
        T.check(c, r.code == 2 and not r.out, "exit %s, output %r\n    %s" % (r.code, r.out[:80],
                                                                               r.describe()))
        for m in mentions:
            T.check(c, m in r.err, "stderr does not mention %r: %r" % (m, r.err))
    # a method the raster has nothing for is refused too
    r = rptest.extract([gcp, "--transformer", "rpc"], stdin="x,y\n1,1\n")
    T.check(case, r.code == 2 and "15 GCPs" in r.err, "gcp raster with rpc: %s" % r.describe())
    r = rptest.extract([gcp, "--transformer", "affine"], stdin="x,y\n1,1\n")
    T.check(case, r.code == 2 and "--transformer" in r.err, "bad method: %s" % r.describe())
    # sampled through GDAL's transformers, as GDAL's Python transformer maps them
    check_against(T, case + " (gcp)", gcp, "gcp", "GCP_POLYNOMIAL")
    check_against(T, case + " (gcp order 2)", gcp, "gcp", "GCP_POLYNOMIAL",
                  ["--to", "MAX_GCP_ORDER=2"], ["MAX_GCP_ORDER=2"])
    check_against(T, case + " (gcp_tps)", gcp, "gcp_tps", "GCP_TPS")
    check_against(T, case + " (rpc)", rpc, "rpc", "RPC")
    check_against(T, case + " (rpc height)", rpc, "rpc", "RPC", ["--to", "RPC_HEIGHT=50"],
                  ["RPC_HEIGHT=50"])
    # geolocation arrays (as swath products carry them)
    rows_, cols_ = np.mgrid[0:GH, 0:GW]
    for name, a in (("lon", 10 + cols_ * 0.001 + rows_ * 0.0001),
                    ("lat", 45 - rows_ * 0.001 + cols_ * 0.00005)):
        rptest.create_raster(E.p(name + ".tif"), a, "Float64", block=None, compress=None)
    wgs = osr.SpatialReference()
    wgs.ImportFromEPSG(4326)
    geoloc = nogt_raster(E.p("swath.tif"), geoloc={
        "X_DATASET": E.p("lon.tif"), "X_BAND": "1", "Y_DATASET": E.p("lat.tif"), "Y_BAND": "1",
        "PIXEL_OFFSET": "0", "LINE_OFFSET": "0", "PIXEL_STEP": "1", "LINE_STEP": "1",
        "SRS": wgs.ExportToWkt()})
    check_against(T, case + " (geoloc)", geoloc, "geoloc", "GEOLOC_ARRAY")
    # points in another CRS are moved to the GCPs' CRS first
    pts, want = transformer_oracle(gcp, "GCP_POLYNOMIAL", npts=50)
    s32633, s4326 = osr.SpatialReference(), osr.SpatialReference()
    s32633.ImportFromEPSG(32633)
    s4326.ImportFromEPSG(4326)
    s4326.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    s32633.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(s32633, s4326)
    ll = [ct.TransformPoint(x, y)[:2] for x, y in pts]
    stdin = "lon,lat\n" + "".join("%r,%r\n" % p for p in ll)
    header, rows, r = run_csv(T, case + " (lon/lat points)", [gcp, "--transformer", "gcp",
                                                              "--points-crs", "EPSG:4326"],
                              stdin=stdin)
    got = [row[2] for row in rows]
    T.check(case + " (lon/lat points)", got == want, "got %r\n    want %r" % (got[:6], want[:6]))
    # --transformer pixel: the old pixel/line reading, now asked for
    header, rows, r = run_csv(T, case + " (pixel)", [bare, "--transformer", "pixel"],
                              stdin="x,y\n10.5,45.5\n")
    T.check(case + " (pixel)", rows and rows[0][2] == "45010", "pixel (10,45): %r" % rows)


# ---- item 6: points on interior corners of rotated grids ----------------------


def case_rotated_corners(case, E, T):
    """Points made at interior cell corners of rotated grids (so within
    rounding of a corner); the oracle is exact rational arithmetic on the
    very doubles given: px = ((x - gt0) gt5 - (y - gt3) gt2) / det."""
    from fractions import Fraction
    import math
    W, H = 120, 90
    c30, s30 = math.cos(math.radians(30)), math.sin(math.radians(30))
    grids = [(500000.123, 30 * c30, -30 * s30, 4000000.456, -30 * s30, -30 * c30),
             (1000.1, 0.3 * c30, 0.3 * s30, 2000.7, 0.3 * s30, -0.3 * c30),
             (0.1, 0.7, 0.2, 0.3, 0.1, -0.9)]
    rows, cols = np.mgrid[0:H, 0:W]
    for k, gt in enumerate(grids):
        c = "%s (grid %d)" % (case, k)
        path = rptest.create_raster(E.p("rot%d.tif" % k), rows * 1000 + cols, "Int32", gt=gt)
        rng = np.random.default_rng(k)
        cs, rs = rng.integers(0, W + 1, 1500), rng.integers(0, H + 1, 1500)
        xs = [gt[0] + a * gt[1] + b * gt[2] for a, b in zip(cs, rs)]
        ys = [gt[3] + a * gt[4] + b * gt[5] for a, b in zip(cs, rs)]
        g = [Fraction(v) for v in gt]
        det = g[1] * g[5] - g[2] * g[4]
        want = []
        for x, y in zip(xs, ys):
            dx, dy = Fraction(x) - g[0], Fraction(y) - g[3]
            px, py = (dx * g[5] - dy * g[2]) / det, (dy * g[1] - dx * g[4]) / det
            if 0 <= px <= W and 0 <= py <= H:
                want.append(str(min(math.floor(py), H - 1) * 1000 + min(math.floor(px), W - 1)))
            else:
                want.append("")
        stdin = "x,y\n" + "".join("%r,%r\n" % p for p in zip(xs, ys))
        header, got_rows, r = run_csv(T, c, [path], stdin=stdin)
        got = [row[2] for row in got_rows]
        bad = [(i, xs[i], ys[i], g_, w) for i, (g_, w) in enumerate(zip(got, want)) if g_ != w]
        T.check(c, len(got) == len(want) and not bad,
                "%d of %d points in the wrong cell, first: %r" % (len(bad), len(want), bad[:3]))


# ---- item 7: one raster whose CRS cannot be reached ---------------------------

ENGCRS = ('ENGCRS["Site grid",EDATUM["local"],CS[Cartesian,2],'
          'AXIS["x",east,ORDER[1],LENGTHUNIT["metre",1]],'
          'AXIS["y",north,ORDER[2],LENGTHUNIT["metre",1]]]')


def case_unreachable_crs(case, E, T):
    data = np.arange(12).reshape(3, 4)
    good = rptest.create_raster(E.p("lonlat.tif"), data, "Int16", gt=(10, 1, 0, 50, 0, -1),
                                srs="EPSG:4326")
    site = rptest.create_raster(E.p("site.tif"), data, "Int16", gt=(10, 1, 0, 50, 0, -1))
    ds = gdal.Open(site, gdal.GA_Update)
    ds.SetProjection(ENGCRS)
    ds = None
    ds = gdal.Open(good)
    want = str(ds.GetRasterBand(1).ReadAsArray()[1][1])  # the cell of (11.5, 48.5)
    ds = None
    out = E.p("crs_out.csv")
    r = rptest.extract([good, site, "--points-crs", "EPSG:4326", "--status", "-o", out],
                       stdin="lon,lat\n11.5,48.5\n")
    T.check(case, r.code == 1, "exit %s, want 1\n    %s" % (r.code, r.describe()))
    T.check(case, os.path.exists(out), "no output written")
    if os.path.exists(out):
        header, rows = rptest.parse_csv(open(out).read())
        T.check(case, header == ["lon", "lat", "lonlat_b1", "lonlat_b1_status", "site_b1",
                                 "site_b1_status"], "header %r" % header)
        T.check(case, rows == [["11.5", "48.5", want, "ok", "", "error"]], "rows %r" % rows)
    T.check(case, r.err.count("site.tif: cannot transform") == 1,
            "the raster's problem must be said once: %r" % r.err)
    # --plan says it too, and reads the other
    r = rptest.extract([good, site, "--points-crs", "EPSG:4326", "--plan"],
                       stdin="lon,lat\n11.5,48.5\n")
    T.check(case, "site.tif: not read" in r.text and "lonlat.tif (GTiff)" in r.text,
            "plan: %r" % r.text)
    # every raster unreachable: nothing to do, an error as before
    r = rptest.extract([site, "--points-crs", "EPSG:4326"], stdin="lon,lat\n11.5,48.5\n")
    T.check(case, r.code not in (0, 1) and not r.out, "alone: %s" % r.describe())


# ---- item 14: --unscale ------------------------------------------------------


def case_unscale(case, E, T):
    rows, cols = np.mgrid[0:3, 0:4]
    data = np.stack([rows * 1000 + cols * 7 - 2000, rows + cols])
    path = rptest.create_raster(E.p("scaled.tif"), data, "Int16", gt=(0, 1, 0, 3, 0, -1),
                                nodata=-2000)
    ds = gdal.Open(path, gdal.GA_Update)
    b1 = ds.GetRasterBand(1)
    b1.SetScale(0.01)
    b1.SetOffset(-5.5)
    ds = None
    # the oracle: GDAL's reads, scaled as GDAL reports scale and offset (terra's rule)
    ds = gdal.Open(path)
    b1 = ds.GetRasterBand(1)
    raw = b1.ReadAsArray().astype(np.float64)
    scale, offset = b1.GetScale(), b1.GetOffset()
    raw2 = ds.GetRasterBand(2).ReadAsArray()
    b1 = ds = None
    cells = [(c, r) for r in range(3) for c in range(4)]
    stdin = "x,y\n" + "".join("%s,%s\n" % (c + 0.5, 3 - r - 0.5) for c, r in cells)
    header, got, _ = run_csv(T, case, [path, "--unscale", "--status"], stdin=stdin)
    for (c, r), row in zip(cells, got):
        if raw[r][c] == -2000:
            T.check(case, row[2:4] == ["", "nodata"], "nodata cell (%d,%d): %r" % (c, r, row))
            continue
        want = raw[r][c] * scale + offset
        T.check(case, row[3] == "ok" and float(row[2]) == want and repr(want) == row[2],
                "cell (%d,%d): %r, want %r" % (c, r, row[2], want))
        T.check(case, row[4] == str(raw2[r][c]), "band 2 (no scale) %r, want %r" % (
            row[4], raw2[r][c]))
    # without --unscale: the stored values, as gdallocationinfo gives them
    header, got, _ = run_csv(T, case, [path], stdin=stdin)
    T.check(case, got[1][2] == str(int(raw[0][1])), "raw: %r" % got[1])
    # a vector output gets a real field
    out = E.p("scaled.gpkg")
    r = rptest.extract([path, "--unscale", "-o", out], stdin="x,y\n1.5,2.5\n")
    if T.check(case, r.code == 0, r.describe()):
        ds = ogr.Open(out)
        lyr = ds.GetLayer(0)
        fd = lyr.GetLayerDefn().GetFieldDefn(lyr.GetLayerDefn().GetFieldIndex("b1"))
        f = lyr.GetNextFeature()
        T.check(case, fd.GetType() == ogr.OFTReal and f.GetField("b1") == raw[0][1] * scale + offset,
                "gpkg b1 %r (%s)" % (f.GetField("b1"), fd.GetTypeName()))
        f = lyr = ds = None


# ---- item 11: every row bad: the rows are the problem -----------------------


def write_vector(path, wkts, fields=(), driver="GPKG", srs="EPSG:4326"):
    """A vector layer of the given WKT geometries; fields: [(name, ogr type,
    [values])]."""
    drv = ogr.GetDriverByName(driver)
    ds = drv.CreateDataSource(path)
    s = osr.SpatialReference()
    s.SetFromUserInput(srs)
    lyr = ds.CreateLayer("pts", s, ogr.wkbUnknown)
    for name, t, _ in fields:
        lyr.CreateField(ogr.FieldDefn(name, t))
    for i, w in enumerate(wkts):
        f = ogr.Feature(lyr.GetLayerDefn())
        for name, _, vals in fields:
            f.SetField(name, vals[i])
        if w:
            f.SetGeometry(ogr.CreateGeometryFromWkt(w))
        lyr.CreateFeature(f)
        f = None
    lyr = ds = None
    return path


def case_all_rows_bad(case, E, T):
    r = small_raster(E)
    c = case + " (decimal commas)"
    run = rptest.extract([r], stdin="x;y\n0,5;2,5\n1,5;2,5\n")
    T.check(c, run.code == 1, run.describe())
    T.check(c, "are they in its CRS" not in run.err, "CRS hint for bad rows: %r" % run.err)
    T.check(c, "decimal comma" in run.err and "NUL" not in run.err, "cause: %r" % run.err)
    T.check(c, "has a usable point" in run.err, "no summary of the rows: %r" % run.err)
    c = case + " (polygons)"
    poly = write_vector(E.p("polys.gpkg"), ["POLYGON((0 0,1 0,1 1,0 0))"] * 3, srs="EPSG:32633")
    run = rptest.extract([r, "--points", poly])
    T.check(c, run.code == 1, run.describe())
    T.check(c, "are they in its CRS" not in run.err, "CRS hint for bad rows: %r" % run.err)
    T.check(c, "not a point" in run.err and "has a usable point" in run.err, "cause: %r" % run.err)
    # good rows that all fall off the raster still get the CRS hint
    run = rptest.extract([r], stdin="x,y\n1000,1000\n")
    T.check(case, "are they in its CRS" in run.err, "CRS hint missing: %r" % run.err)


# ---- item 12: coordinate columns and WKT geometry ----------------------------


def case_column_names(case, E, T):
    r = small_raster(E)
    ds = gdal.Open(r)
    arr = ds.GetRasterBand(1).ReadAsArray()
    ds = None
    # (x, y) -> the cell's value, by hand: x in [0,4), y in [0,3), row = floor(3 - y)
    pts = [(0.5, 2.5), (3.25, 0.75), (1.5, 1.5)]
    want = [str(arr[int(3 - y)][int(x)]) for x, y in pts]
    for xn, yn in (("POINT_X", "POINT_Y"), ("point_x", "point_y"), ("xcoord", "ycoord"),
                   ("XCOORD", "YCOORD")):
        c = "%s (%s,%s)" % (case, xn, yn)
        stdin = "id,%s,%s\n" % (xn, yn) + "".join("%d,%r,%r\n" % (i, x, y)
                                                for i, (x, y) in enumerate(pts))
        header, rows, _ = run_csv(T, c, [r], stdin=stdin)
        T.check(c, [row[3] for row in rows] == want, "values %r, want %r" % (rows, want))
    # a CSV with a WKT geometry column, as ogr2ogr -lco GEOMETRY=AS_WKT writes it
    src = write_vector(E.p("wkt_src.gpkg"), ["POINT (%r %r)" % p for p in pts],
                       fields=[("site", ogr.OFTString, ["a", "b", "c"])], srs="EPSG:32633")
    csv_path = E.p("wkt.csv")
    gdal.VectorTranslate(csv_path, src, format="CSV", layerCreationOptions=["GEOMETRY=AS_WKT"])
    header, rows, run = run_csv(T, case + " (WKT)", [r, "--points", csv_path])
    T.check(case + " (WKT)", header[:2] == ["WKT", "site"] and [row[-1] for row in rows] == want,
            "header %r rows %r, want values %r" % (header, rows, want))
    # WKT that is not one point: a bad row each, named
    stdin = ('wkt\n"POINT Z (0.5 2.5 9)"\n"MULTIPOINT ((3.25 0.75))"\n"MULTIPOINT (1 1, 2 2)"\n'
             '"POLYGON ((0 0,1 0,1 1,0 0))"\n"POINT EMPTY"\n')
    header, rows, run = run_csv(T, case + " (WKT rows)", [r, "--status"], stdin=stdin, code=1)
    got = [tuple(row[1:3]) for row in rows]
    T.check(case + " (WKT rows)", got == [(want[0], "ok"), (want[1], "ok"), ("", "error"),
                                          ("", "error"), ("", "error")], "rows %r" % got)
    T.check(case + " (WKT rows)", ":4: WKT MULTIPOINT has several points" in run.err and
            ":5: WKT geometry 'POLYGON" in run.err, "messages: %r" % run.err)
    # a wrong --x-col lists the header's names
    run = rptest.extract([r, "--x-col", "lon"], stdin="id,Easting_m,Northing_m\n1,2,3\n")
    T.check(case, run.code == 2 and "'id', 'Easting_m', 'Northing_m'" in run.err,
            "--x-col message: %s" % run.describe())
    run = rptest.extract([r], stdin="id,E,N\n1,2,3\n")
    T.check(case, run.code == 2 and "'id', 'E', 'N'" in run.err, "no x/y: %s" % run.describe())


# ---- item 8: a vector layer with x and y fields, written as CSV ---------------


def case_duplicate_xy(case, E, T):
    r = small_raster(E)
    ds = gdal.Open(r)
    arr = ds.GetRasterBand(1).ReadAsArray()
    ds = None
    pts = [(0.5, 2.5), (3.25, 0.75)]
    # the layer's own x/y fields hold other numbers (a projected copy, say)
    vec = write_vector(E.p("sites.gpkg"), ["POINT (%r %r)" % p for p in pts],
                       fields=[("site_id", ogr.OFTString, ["s1", "s2"]),
                               ("x", ogr.OFTReal, [700000.5, 700001.5]),
                               ("y", ogr.OFTReal, [5000000.25, 5000001.25])],
                       srs="EPSG:32633")
    header, rows, run = run_csv(T, case, [r, "--points", vec])
    T.check(case, header == ["x_2", "y_2", "site_id", "x", "y", "b1"], "header %r" % header)
    T.check(case, len(set(h.lower() for h in header)) == len(header), "duplicate names %r" % header)
    want = [["0.5", "2.5", "s1", "700000.5", "5000000.25", str(arr[0][0])],
            ["3.25", "0.75", "s2", "700001.5", "5000001.25", str(arr[2][3])]]
    T.check(case, rows == want, "rows %r, want %r" % (rows, want))
    T.check(case, "the point's x column is 'x_2'" in run.err, "no note: %r" % run.err)
    # a layer without x/y fields keeps x,y (no note)
    vec2 = write_vector(E.p("sites2.gpkg"), ["POINT (0.5 2.5)"],
                        fields=[("site_id", ogr.OFTString, ["s1"])], srs="EPSG:32633")
    header, rows, run = run_csv(T, case, [r, "--points", vec2])
    T.check(case, header == ["x", "y", "site_id", "b1"] and "column is" not in run.err,
            "header %r, stderr %r" % (header, run.err))


# ---- item 10: MultiPoints ------------------------------------------------------


def case_multipoints(case, E, T):
    r = small_raster(E)
    ds = gdal.Open(r)
    arr = ds.GetRasterBand(1).ReadAsArray()
    ds = None
    wkts = ["MULTIPOINT ((0.5 2.5))", "MULTIPOINT ((3.25 0.75))", "POINT (1.5 1.5)",
            "MULTIPOINT ((0.5 0.5),(1.5 0.5))", "MULTIPOINT ((0.5 0.5),(1.5 0.5),(2.5 0.5))",
            "LINESTRING (0 0,1 1)"]
    for driver, ext in (("GPKG", ".gpkg"), ("ESRI Shapefile", ".shp")):
        c = "%s (%s)" % (case, ext)
        ws = wkts if ext == ".gpkg" else wkts[:2] + ["MULTIPOINT ((1.5 1.5))"] + wkts[3:5]
        vec = write_vector(E.p("mp" + ext), ws, driver=driver, srs="EPSG:32633",
                           fields=[("id", ogr.OFTInteger, list(range(len(ws))))])
        header, rows, run = run_csv(T, c, [r, "--points", vec, "--status"], code=1)
        got = [tuple(row[-2:]) for row in rows]
        want = [(str(arr[0][0]), "ok"), (str(arr[2][3]), "ok"), (str(arr[1][1]), "ok"),
                ("", "error"), ("", "error")] + ([("", "error")] if ext == ".gpkg" else [])
        T.check(c, got == want, "values %r, want %r" % (got, want))
        T.check(c, run.err.count("MultiPoints of several points") == 1 and
                "2 feature(s) are MultiPoints of several points (up to 3)" in run.err,
                "the several-point MultiPoints must be said once with the count: %r" % run.err)
        if ext == ".gpkg":
            T.check(c, "is a Line String, not a point" in run.err, "line: %r" % run.err)


# ---- item 9: Shapefile field names truncated ----------------------------------


def case_shapefile_names(case, E, T):
    a = small_raster(E, "sent2_L2A_2024-08-24.tif")
    b = small_raster(E, "sent2_L2A_2024-09-03.tif")
    out = E.p("values.shp")
    r = rptest.extract([a, b, "--status", "-o", out], stdin="x,y,site_name_long\n0.5,2.5,s\n")
    if not T.check(case, r.code == 0, r.describe()):
        return
    ds = ogr.Open(out)
    defn = ds.GetLayer(0).GetLayerDefn()
    stored = [defn.GetFieldDefn(k).GetName() for k in range(defn.GetFieldCount())]
    ds = None
    asked = ["x", "y", "site_name_long", "sent2_L2A_2024-08-24_b1",
             "sent2_L2A_2024-08-24_b1_status", "sent2_L2A_2024-09-03_b1",
             "sent2_L2A_2024-09-03_b1_status"]
    T.check(case, len(stored) == len(asked), "stored fields %r" % stored)
    for want, got in zip(asked, stored):
        if want != got:
            T.check(case, "%s -> %s" % (want, got) in r.err,
                    "the mapping %s -> %s is not said: %r" % (want, got, r.err))
    T.check(case, "x -> " not in r.err, "unchanged names listed: %r" % r.err)


# ---- item 13: --names desc, netCDF variables in the stem ----------------------


def case_names(case, E, T):
    rows, cols = np.mgrid[0:3, 0:4]
    data = np.stack([rows * 10 + cols, rows * 10 + cols + 100, rows * 10 + cols + 200])
    path = rptest.create_raster(E.p("s2.tif"), data, "Int16", gt=(0, 1, 0, 3, 0, -1))
    ds = gdal.Open(path, gdal.GA_Update)
    ds.GetRasterBand(1).SetDescription("B08")
    ds.GetRasterBand(2).SetDescription("B04")
    ds = None
    header, got, _ = run_csv(T, case, [path, "--names", "desc"], stdin="x,y\n1.5,1.5\n")
    T.check(case, header == ["x", "y", "B08", "B04", "b3"] and got == [["1.5", "1.5", "11",
                                                                        "111", "211"]],
            "header %r rows %r" % (header, got))
    header, got, _ = run_csv(T, case, [path], stdin="x,y\n1.5,1.5\n")
    T.check(case, header == ["x", "y", "b1", "b2", "b3"], "default names %r" % header)
    other = rptest.create_raster(E.p("l8.tif"), data[:1], "Int16", gt=(0, 1, 0, 3, 0, -1))
    header, got, _ = run_csv(T, case, [path, other, "--names", "desc", "--status"],
                             stdin="x,y\n1.5,1.5\n")
    T.check(case, header == ["x", "y", "s2_B08", "s2_B08_status", "s2_B04", "s2_B04_status",
                             "s2_b3", "s2_b3_status", "l8_b1", "l8_b1_status"],
            "two rasters: %r" % header)
    run = rptest.extract([path, "--names", "bands"], stdin="x,y\n1,1\n")
    T.check(case, run.code == 2 and "--names" in run.err, run.describe())
    # netCDF variables: the stem carries the variable, not a position
    if gdal.GetDriverByName("netCDF") is None:
        print("note: no netCDF driver; the netCDF part is skipped")
        return
    nc = E.p("clim.nc")
    ds = gdal.GetDriverByName("netCDF").CreateMultiDimensional(nc)
    rg = ds.GetRootGroup()
    dy, dx = rg.CreateDimension("y", None, None, 3), rg.CreateDimension("x", None, None, 4)
    for k, var in enumerate(("pr", "tas")):
        a = rg.CreateMDArray(var, [dy, dx], gdal.ExtendedDataType.Create(gdal.GDT_Int16))
        a.Write((rows * 10 + cols + 1000 * (k + 1)).astype(np.int16))
        a = None
    dy = dx = rg = ds = None  # every handle closed: the file is complete
    subs = ['NETCDF:"%s":pr' % nc, 'NETCDF:"%s":tas' % nc]
    want = []
    for sub in subs:
        d = gdal.Open(sub)
        want.append(str(d.GetRasterBand(1).ReadAsArray()[1][2]))  # pixel/line (2.5, 1.5)
        d = None
    header, got, _ = run_csv(T, case + " (netCDF)", subs + ["--transformer", "pixel"],
                             stdin="x,y\n2.5,1.5\n")
    T.check(case + " (netCDF)", header == ["x", "y", "clim_pr_b1", "clim_tas_b1"] and
            got == [["2.5", "1.5"] + want], "header %r rows %r, want %r" % (header, got, want))


# ---- item 16: the corrupt-block message and its count -------------------------


def gdal_block_errors(path, band, bx, by):
    """GDAL's own messages when it reads one block (python3-gdal)."""
    msgs = []

    def handler(level, num, msg):
        if level >= gdal.CE_Failure:
            msgs.append(msg)
    gdal.PushErrorHandler(handler)
    try:
        ds = gdal.Open(path)
        b = ds.GetRasterBand(band)
        try:
            b.ReadBlock(bx, by)
        except RuntimeError:
            pass
        b = ds = None
    finally:
        gdal.PopErrorHandler()
    return msgs


def case_corrupt_block(case, E, T):
    data = np.random.default_rng(1).integers(0, 255, (3, 128, 128))
    path = rptest.create_raster(E.p("scene.tif"), data, "Byte", gt=(0, 1, 0, 128, 0, -1),
                                block=(64, 64))
    rptest.corrupt_blocks(path, [(1, 0)])          # garbage in a tile
    off, size = rptest.block_offsets(path)[(1, 1)]
    with open(path, "r+b") as f:                   # a file cut short in the last tile
        f.truncate(off + size // 2)
    firsts = []
    for bx, by in ((1, 0), (1, 1)):
        msgs = gdal_block_errors(path, 1, bx, by)
        T.check(case, len(msgs) >= 2, "oracle: GDAL's messages for block %d,%d: %r" % (bx, by,
                                                                                        msgs))
        firsts.append(msgs[0] if msgs else "?")
    # (70, 10) is in block (1, 0), (70, 100) in (1, 1), (10, 10) in (0, 1): readable
    stdin = "x,y\n70.5,117.5\n70.5,27.5\n10.5,27.5\n"
    header, rows, r = run_csv(T, case, [path, "--status", "-j", "1"], stdin=stdin, code=1)
    T.check(case, [row[3] for row in rows] == ["error", "error", "ok"], "statuses %r" % rows)
    lines = [l for l in r.err.splitlines() if "cannot read" in l]
    T.check(case, len(lines) == 2, "one message per unreadable block, got %r" % lines)
    T.check(case, "2 unreadable block(s)" in r.err, "summary count: %r" % r.err)
    # libtiff names the row and column as the read path knew them (a whole
    # block read says 4294967295): compare the rest
    import re

    def norm(text):
        return re.sub(r"(row|col) \d+", r"\1 N", text.strip())
    for first in firsts:
        T.check(case, any(norm(first) in norm(l) for l in lines),
                "GDAL's informative first line %r is not in %r" % (first, lines))
    T.check(case, all("bands 1, 2, 3" in l for l in lines), "bands not named: %r" % lines)


# ---- item 17: --plan texts, complex values -------------------------------------


def case_small_texts(case, E, T):
    r = small_raster(E)
    # --plan with a bad row: the report counts it, and the plan is done (exit 0)
    run = rptest.extract([r, "--plan"], stdin="x,y\n0.5,0.5\nabc,1\n")
    T.check(case, run.code == 0 and "bad rows: 1" in run.text, "--plan: %s\n%s" % (
        run.describe(), run.text))
    # a resampled VRT source: "band 1:" is said once per line
    src = rptest.create_raster(E.p("half.tif"), np.arange(6).reshape(2, 3), "Int16",
                               gt=(0, 2, 0, 4, 0, -2))
    vrt = E.p("up.vrt")
    gdal.Translate(vrt, src, format="VRT", width=6, height=4)
    run = rptest.extract([vrt, "--plan"], stdin="x,y\n0.5,0.5\n")
    lines = [l for l in run.text.splitlines() if "VRT reader" in l]
    T.check(case, lines and all(l.count("band 1:") == 1 for l in lines),
            "plan lines: %r" % run.text)
    # complex values as R and GDAL write them: 1-2i
    data = np.array([[1 - 2j, -3.5 + 0.25j], [0 + 0j, 7 - 0j]])
    for t in ("CInt16", "CFloat32"):
        if t == "CInt16":
            vals = np.round(data.real) + 1j * np.round(data.imag)
        else:
            vals = data
        c = "%s (%s)" % (case, t)
        path = rptest.create_raster(E.p("cx_%s.tif" % t), vals, t, gt=(0, 1, 0, 2, 0, -1))
        ds = gdal.Open(path)
        raw = ds.GetRasterBand(1).ReadRaster(buf_type=gdal.GDT_CFloat64)
        ds = None
        px = np.frombuffer(raw, dtype=np.complex128).reshape(2, 2)
        header, rows, _ = run_csv(T, c, [path], stdin="x,y\n0.5,1.5\n1.5,1.5\n")
        for row, v in zip(rows, px[0]):
            m = rptest._COMPLEX_RE.match(row[2])
            ok = m is not None and float(m.group(1)) == v.real and \
                float(m.group(2) + m.group(3)) == v.imag
            T.check(c, ok, "complex %r, GDAL reads %r" % (row[2], v))
        T.check(c, rows and rows[0][2] == "1-2i", "first value %r, want 1-2i" % rows[:1])


def main():
    T = rptest.Tester("cli_real_data")
    rptest.binary()
    with tempfile.TemporaryDirectory(prefix="rp_real_") as tmp:
        E = Env(tmp)
        for name, fn in [
            ("2 rasters without a geotransform", case_no_geotransform),
            ("3 signed bytes", case_signed_byte),
            ("3 signed bytes sampled and windowed", case_signed_byte_sampled),
            ("5 NUL byte in a coordinate", case_nul_byte),
            ("6 rotated grid corners decided exactly", case_rotated_corners),
            ("7 a raster whose CRS cannot be reached", case_unreachable_crs),
            ("8 duplicate x/y columns", case_duplicate_xy),
            ("9 Shapefile field names", case_shapefile_names),
            ("10 MultiPoints", case_multipoints),
            ("11 every row bad", case_all_rows_bad),
            ("12 coordinate columns and WKT", case_column_names),
            ("13 --names desc and netCDF variables", case_names),
            ("14 --unscale", case_unscale),
            ("16 corrupt-block message", case_corrupt_block),
            ("17 --plan texts and complex values", case_small_texts),
        ]:
            T.run_case(name, fn, E, T)
    T.finish()


if __name__ == "__main__":
    main()
