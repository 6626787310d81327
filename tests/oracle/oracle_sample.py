#!/usr/bin/python3
"""oracle_sample — rasterpool extract --method / --window vs numpy oracles.

The interpolation oracle is written here in numpy/Python from GDAL's
published formulas (GDALInterpolateAtPoint, GDAL >= 3.10): pixel-is-area,
the kernel on cell centres (px - 0.5), clamped into the raster (edge rows
and columns repeated); bilinear x first then y; cubic convolution with
a = -0.5 and the cubic B-spline over 4x4 cells, summed row by row and
divided by the weights of the cells used; small rasters fall back (cubic
to bilinear under 4 cells, bilinear to nearest under 2). Nodata rules:
gdal (bilinear: none if any of the 4 cells is nodata; cubic: skip and
renormalise), renormalize, strict. A second, independent oracle: GDAL
3.6's own resampling RasterIO (a 1x1 read of the window centred on the
point, GRIORA_Bilinear/Cubic/CubicSpline) for interior points whose kernel
has no nodata (GDAL computes it in the band's precision: 1e-5 relative).
R terra's extract(method="bilinear") is a third for interior points when R
and terra are installed.

Windows are checked against numpy slices of the band (off-raster, nodata,
masked and NaN cells left out).

Cases: every real data type and CFloat32 (the real part), 37x29 rasters
with 16x16 blocks, nodata around test points; points at cell centres, cell
corners, 1e-9 from block edges, on the outer edges and corners, outside by
an ulp, random; 1x1, 2x2, 3x3, 4x1 and 5x4 rasters; an internal mask; a
striped raster; a VRT mosaic of 4 tiles (kernels straddle source files);
several rasters and bands (column names); determinism at -j 1/2/7 and
across block layouts (tiles, strips, untiled); a corrupt block failing
exactly the kernels that touch it; bad options (exit 2). Agreement counts are printed.
Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 oracle_sample.py
"""
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

import rptest  # noqa: E402
from samplelib import interp, pixel_of, window_oracle  # noqa: E402
from rptest import gdal  # noqa: E402

T = rptest.Tester("oracle_sample")
TMP = tempfile.mkdtemp(prefix="rp_oracle_sample_")
GT = (1000.0, 0.5, 0.0, 2000.0, 0.0, -0.25)
REAL_TYPES = ["Byte", "UInt16", "Int16", "UInt32", "Int32", "UInt64", "Int64", "Float32",
              "Float64"]
METHODS = ["bilinear", "cubic", "cubicspline"]
AGREE = {}  # what -> [exact, within tolerance, total]


def agree(what, exact, within, compared):
    a = AGREE.setdefault(what, [0, 0, 0])
    a[0] += exact
    a[1] += within
    a[2] += compared


def close(a, b, rel):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= rel * max(1.0, abs(a), abs(b))


# --------------------------------------------------------------------------
# Rasters and points
# --------------------------------------------------------------------------


def random_band(t, rng, shape):
    if t in rptest.INT_TYPES:
        lo, hi = rptest.type_range(t)
        lo, hi = max(lo, -(2 ** 40)), min(hi, 2 ** 40)
        a = rng.integers(lo, hi, size=shape, endpoint=True)
        return a.astype(rptest.NP_REAL[t])
    return rng.normal(100.0, 50.0, shape).astype(rptest.NP_REAL.get(t, np.float64))


def nodata_value(t):
    return 7 if t in rptest.INT_TYPES else -9999.0


def make_case(name, t, W, H, rng, block=(16, 16), nodata=True, around=(), mask=None):
    """A raster of type t with nodata cells (~8%, plus cells around the pixel
    points `around`); returns (path, vals float64, valid)."""
    real = rptest.COMPLEX_TYPES.get(t, t)
    a = random_band(real, rng, (H, W))
    nd = nodata_value(real) if nodata and t not in rptest.COMPLEX_TYPES else None
    if nd is not None:
        a[a == nd] = nd + 1  # nodata only where placed
        hole = rng.random((H, W)) < 0.08
        for px, py in around:
            c, r = int(px), int(py)
            for dr, dc in ((0, 0), (0, 1), (1, 0), (-1, -1), (2, 1)):
                if 0 <= r + dr < H and 0 <= c + dc < W and rng.random() < 0.3:
                    hole[r + dr, c + dc] = True
        a[hole] = nd
    if t in rptest.COMPLEX_TYPES:
        data = a.astype(np.complex128) + 1j * random_band(real, rng, (H, W))
    else:
        data = a
    path = os.path.join(TMP, name + ".tif")
    rptest.create_raster(path, data, t, gt=GT, nodata=nd, block=block, mask=mask)
    vals = a.astype(np.float64)
    valid = np.ones((H, W), bool) if nd is None else (a != nd)
    if mask is not None:
        valid &= mask != 0
    return path, vals, valid


def test_pixels(W, H, rng, n_random=150, block=16):
    """Pixel coordinates of the test points."""
    pts = []
    for _ in range(n_random):
        pts.append((rng.uniform(0, W), rng.uniform(0, H)))
    for _ in range(40):  # centres and corners
        c, r = int(rng.integers(0, W)), int(rng.integers(0, H))
        pts += [(c + 0.5, r + 0.5), (float(c), float(r))]
    for k in range(1, max(W, H) // block + 1):  # 1e-9 either side of block edges
        e = float(k * block)
        for d in (-1e-9, 1e-9, 0.0):
            if e + d <= W:
                pts.append((e + d, rng.uniform(0, H)))
            if e + d <= H:
                pts.append((rng.uniform(0, W), e + d))
    for fx in (0.0, W):  # outer edges and corners
        pts += [(fx, rng.uniform(0, H)), (fx, 0.0), (fx, float(H)), (fx, H - 0.25)]
    for fy in (0.0, H):
        pts += [(rng.uniform(0, W), fy), (0.25, fy)]
    pts += [(0.5, 0.5), (W - 0.5, H - 0.5), (W / 2.0, H / 2.0), (1e-9, 1e-9)]
    return pts


def world_points(pixels, W, H):
    """World coordinates of pixel points, plus points an ulp outside each
    outer edge (and which of them are meant to be outside)."""
    xs = [GT[0] + px * GT[1] for px, _ in pixels]
    ys = [GT[3] + py * GT[5] for _, py in pixels]
    left, right = GT[0], GT[0] + W * GT[1]
    top, bottom = GT[3], GT[3] + H * GT[5]
    mid_x, mid_y = GT[0] + W / 2 * GT[1], GT[3] + H / 2 * GT[5]
    outs = [(math.nextafter(left, -math.inf), mid_y), (math.nextafter(right, math.inf), mid_y),
            (mid_x, math.nextafter(top, math.inf)), (mid_x, math.nextafter(bottom, -math.inf))]
    return xs + [x for x, _ in outs], ys + [y for _, y in outs], len(outs)


def run_csv(args, xs, ys, name):
    path = os.path.join(TMP, name + ".csv")
    rptest.write_points_csv(path, xs, ys)
    r = rptest.extract(list(args) + ["--points", path])
    return r, path


def columns(run):
    header, rows = rptest.parse_csv(run.text)
    return {h: [row[i] for row in rows] for i, h in enumerate(header)}


# --------------------------------------------------------------------------
# Interpolation
# --------------------------------------------------------------------------


def check_interp(case, path, vals, valid, xs, ys, method, policy, extra=(), rel=1e-12,
                 col="b1", status_col="status"):
    args = [path, "--method", method, "--status"] + list(extra)
    if policy != "gdal":
        args += ["--nodata-policy", policy]
    r, _ = run_csv(args, xs, ys, case.replace("/", "_"))
    if not T.check(case, r.code == 0, "exit %s\n    %s" % (r.code, r.describe())):
        return
    got = columns(r)
    bad = rptest.Limited(T, case)
    exact = near = 0
    nvalues = 0
    for i, (x, y) in enumerate(zip(xs, ys)):
        px, py = pixel_of(GT, x, y)
        st, want = interp(vals, valid, method, policy, px, py)
        text, gst = got[col][i], got[status_col][i]
        if gst != st:
            bad.add("point %d (px %r, py %r): status %s, oracle %s" % (i, px, py, gst, st))
            continue
        if st != "ok":
            if text != "":
                bad.add("point %d: value %r with status %s" % (i, text, st))
            continue
        v = float(text)
        nvalues += 1
        if v == want or (math.isnan(v) and math.isnan(want)):
            exact += 1
        elif close(v, want, rel):
            near += 1
        else:
            bad.add("point %d (px %r, py %r): %r, oracle %r" % (i, px, py, v, want))
    agree("%s: statuses vs numpy oracle" % method, len(xs) - bad.n, len(xs) - bad.n, len(xs))
    agree("%s: values vs numpy oracle" % method, exact, exact + near, nvalues)
    bad.flush()
    return got


def gdal_resampled(path, px, py, method):
    alg = {"bilinear": gdal.GRIORA_Bilinear, "cubic": gdal.GRIORA_Cubic,
           "cubicspline": gdal.GRIORA_CubicSpline}[method]
    ds = gdal.Open(path)
    raw = ds.GetRasterBand(1).ReadRaster(px - 0.5, py - 0.5, 1, 1, 1, 1, gdal.GDT_Float64,
                                         resample_alg=alg)
    return struct.unpack("d", raw)[0]


def check_gdal_resampler(case, path, vals, valid, xs, ys, got, method):
    """Interior points (kernel 2 cells away from the edges) with no nodata in
    the kernel: GDAL 3.6's resampling RasterIO must agree."""
    H, W = vals.shape
    bad = rptest.Limited(T, case)
    n = 0
    for i, (x, y) in enumerate(zip(xs, ys)):
        px, py = pixel_of(GT, x, y)
        if not (2.5 < px < W - 2.5 and 2.5 < py < H - 2.5):
            continue
        if (px - 0.5).is_integer() and (py - 0.5).is_integer():
            continue  # an aligned 1:1 window: GDAL 3.6 reads the cell, no kernel
        c0, r0 = int(math.floor(px - 0.5)) - 1, int(math.floor(py - 0.5)) - 1
        if not valid[r0:r0 + 4, c0:c0 + 4].all() or got["status"][i] != "ok":
            continue
        want = gdal_resampled(path, px, py, method)
        v = float(got["b1"][i])
        n += 1
        if not close(v, want, 1e-5):
            bad.add("point %d (px %r, py %r): %r, GDAL's resampler %r" % (i, px, py, v, want))
    T.check(case, n > 10, "only %d interior points checked" % n)
    agree("%s: vs GDAL 3.6 resampling RasterIO (interior)" % method, 0, n - bad.n, n)
    bad.flush()


def case_types(case):
    rng = np.random.default_rng(12)
    W, H = 37, 29
    pixels = test_pixels(W, H, rng)
    xs, ys, nout = world_points(pixels, W, H)
    for px, py in [pixel_of(GT, x, y) for x, y in zip(xs[-nout:], ys[-nout:])]:
        T.check(case, interp(np.zeros((H, W)), np.ones((H, W), bool), "bilinear", "gdal", px,
                             py)[0] == "outside", "an ulp outside is not outside in the oracle")
    for t in REAL_TYPES + ["CFloat32"]:
        path, vals, valid = make_case("types_" + t, t, W, H, rng, around=pixels[:60])
        for method in METHODS:
            policies = ["gdal", "renormalize", "strict"] if t in ("Float32", "Int16") else ["gdal"]
            for policy in policies:
                sub = "%s/%s/%s/%s" % (case, t, method, policy)
                got = check_interp(sub, path, vals, valid, xs, ys, method, policy)
                if got and t in ("Float64", "Int32") and policy == "gdal":
                    check_gdal_resampler(sub + "/gdal-resampler", path, vals, valid, xs, ys,
                                         got, method)


def case_gdal_resampler(case):
    """More interior points against GDAL 3.6's own resampling RasterIO."""
    rng = np.random.default_rng(31)
    W, H = 60, 50
    path, vals, valid = make_case("resampler", "Float64", W, H, rng, nodata=False)
    pixels = [(rng.uniform(3, W - 3), rng.uniform(3, H - 3)) for _ in range(400)]
    xs, ys, _ = world_points(pixels, W, H)
    xs, ys = xs[:len(pixels)], ys[:len(pixels)]
    for method in METHODS:
        got = check_interp("%s/%s" % (case, method), path, vals, valid, xs, ys, method, "gdal")
        if got:
            check_gdal_resampler("%s/%s" % (case, method), path, vals, valid, xs, ys, got,
                                 method)


def case_small(case):
    """1x1, 2x2, 3x3, 4x1, 5x4: GDAL's fall-backs and the clamping."""
    rng = np.random.default_rng(5)
    for W, H in ((1, 1), (2, 2), (3, 3), (4, 1), (1, 4), (5, 4), (4, 4)):
        pixels = [(rng.uniform(0, W), rng.uniform(0, H)) for _ in range(40)]
        pixels += [(0.0, 0.0), (W, H), (W / 2.0, H / 2.0), (W, 0.0), (0.5, 0.5)]
        xs, ys, _ = world_points(pixels, W, H)
        path, vals, valid = make_case("small_%dx%d" % (W, H), "Float64", W, H, rng, nodata=False)
        for method in METHODS:
            check_interp("%s/%dx%d/%s" % (case, W, H, method), path, vals, valid, xs, ys, method,
                         "gdal")
        r, _ = run_csv([path, "--method", "cubic", "--plan"], xs, ys, "small_plan")
        if W < 4 or H < 4:
            T.check(case, "falls back to" in r.text, "--plan does not say cubic falls back:\n" +
                    r.text)


def case_mask_and_strips(case):
    rng = np.random.default_rng(9)
    W, H = 40, 33
    mask = (rng.random((H, W)) > 0.1).astype(np.uint8) * 255
    pixels = test_pixels(W, H, rng)
    xs, ys, _ = world_points(pixels, W, H)
    path, vals, valid = make_case("masked", "Int16", W, H, rng, mask=mask)
    for method in METHODS:
        check_interp("%s/mask/%s" % (case, method), path, vals, valid, xs, ys, method, "gdal")
    path, vals, valid = make_case("striped", "Float32", W, H, rng, block=3)
    for method in METHODS:
        check_interp("%s/strips/%s" % (case, method), path, vals, valid, xs, ys, method, "gdal")


def case_vrt(case):
    """A 2x2 mosaic of GeoTIFF tiles: kernels straddle the source files."""
    rng = np.random.default_rng(21)
    tw, th = 30, 20
    full = rng.normal(0, 10, (2 * th, 2 * tw)).astype(np.float32)
    full[rng.random(full.shape) < 0.05] = -9999.0
    tiles = []
    for ty in range(2):
        for tx in range(2):
            gt = (GT[0] + tx * tw * GT[1], GT[1], 0.0, GT[3] + ty * th * GT[5], 0.0, GT[5])
            p = os.path.join(TMP, "tile_%d_%d.tif" % (tx, ty))
            rptest.create_raster(p, full[ty * th:(ty + 1) * th, tx * tw:(tx + 1) * tw],
                                 "Float32", gt=gt, nodata=-9999.0, block=(16, 16))
            tiles.append(p)
    vrt = rptest.build_vrt(os.path.join(TMP, "mosaic.vrt"), tiles)
    W, H = 2 * tw, 2 * th
    pixels = test_pixels(W, H, rng, block=10)
    pixels += [(tw + d, th + e) for d in (-0.6, -0.4, 0.0, 0.4) for e in (-0.7, 0.0, 0.3)]
    xs, ys, _ = world_points(pixels, W, H)
    vals, valid = full.astype(np.float64), full != -9999.0
    for method in METHODS:
        check_interp("%s/%s" % (case, method), vrt, vals, valid, xs, ys, method, "gdal")
    r, _ = run_csv([vrt, "--method", "cubic", "--plan"], xs, ys, "vrt_plan")
    T.check(case, "read from its sources directly" in r.text and "kernels" in r.text,
            "--plan of the mosaic:\n" + r.text)
    # the seam points alone: their cells lie on one source each, their
    # kernels on all four; --plan surveys the sources for the kernels' cells
    seam = [(tw + d, th + e) for d in (-0.6, 0.4) for e in (-0.7, 0.3)]
    sx, sy, _ = world_points(seam, W, H)
    for method, files in (("nearest", "4 files"), ("bilinear", "4 files")):
        r, _ = run_csv([vrt, "--method", method, "--plan"], sx[:4], sy[:4], "vrt_seam")
        T.check(case, files in r.text, "%s: want %s in:\n%s" % (method, files, r.text))
    one = [(tw - 0.4, th - 0.3)]  # cell (29, 19) on tile 0; cols 29-30, rows 19-20
    ox, oy, _ = world_points(one, W, H)
    for method, files in (("nearest", "1 files"), ("bilinear", "4 files"), ("cubic", "4 files")):
        r, _ = run_csv([vrt, "--method", method, "--plan"], ox[:1], oy[:1], "vrt_one")
        T.check(case, files + " touched" in r.text, "%s at one seam point: want %s in:\n%s" % (
            method, files, r.text))
    check_windows("%s/window" % case, vrt, vals, valid, xs, ys, 5,
                  ["mean", "count", "min", "values"], parse=f32)


def case_terra(case):
    """R terra's bilinear extract, interior points without nodata."""
    if not shutil.which("Rscript") or subprocess.run(
            ["Rscript", "-e", "library(terra)"], capture_output=True).returncode != 0:
        print("   (R terra not installed: third oracle skipped)")
        return
    rng = np.random.default_rng(33)
    W, H = 50, 40
    path, vals, valid = make_case("terra", "Float64", W, H, rng, nodata=False)
    pixels = [(rng.uniform(1, W - 1), rng.uniform(1, H - 1)) for _ in range(300)]
    xs, ys, _ = world_points(pixels, W, H)
    xs, ys = xs[:len(pixels)], ys[:len(pixels)]
    got = check_interp(case + "/numpy", path, vals, valid, xs, ys, "bilinear", "gdal")
    pts = os.path.join(TMP, "terra_pts.csv")
    rptest.write_points_csv(pts, xs, ys)
    script = ("library(terra); r <- rast('%s'); p <- read.csv('%s');"
              "v <- extract(r, as.matrix(p[, c('x', 'y')]), method='bilinear');"
              "write.csv(v, '%s', row.names=FALSE)") % (path, pts, pts + ".out")
    p = subprocess.run(["Rscript", "-e", script], capture_output=True)
    if not T.check(case, p.returncode == 0, "Rscript failed: %s" % p.stderr.decode()[-500:]):
        return
    header, rows = rptest.parse_csv(open(pts + ".out").read())
    bad = rptest.Limited(T, case)
    for i, row in enumerate(rows):
        if not close(float(got["b1"][i]), float(row[-1]), 1e-9):
            bad.add("point %d: %s, terra %s" % (i, got["b1"][i], row[-1]))
    agree("bilinear: vs terra extract (interior)", 0, len(rows) - bad.n, len(rows))
    bad.flush()


# --------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------


def f32(text):
    return float(np.float32(text))


def check_windows(case, path, vals, valid, xs, ys, n, stats, extra=(), parse=float):
    """parse: the text of a cell value (min, max, values keep the band's
    type: Float32 prints the shortest text of the float32)."""
    args = [path, "--window", str(n), "--status"] + list(extra)
    for s in stats:
        args += ["--window-stat", s]
    r, _ = run_csv(args, xs, ys, case.replace("/", "_"))
    if not T.check(case, r.code == 0, "exit %s\n    %s" % (r.code, r.describe())):
        return
    got = columns(r)
    bad = rptest.Limited(T, case)
    exact = total = 0
    for i, (x, y) in enumerate(zip(xs, ys)):
        px, py = pixel_of(GT, x, y)
        st, want, cells = window_oracle(vals, valid, px, py, n)
        for s in stats:
            if s == "values":
                for k in range(n * n):
                    name = "b1_w%d_%d" % (n, k + 1)
                    total += 1
                    before = bad.n
                    cst, cv = cells[k] if cells else ("outside", None)
                    if got[name + "_status"][i] != cst:
                        bad.add("point %d cell %d: status %s, oracle %s" % (
                            i, k, got[name + "_status"][i], cst))
                    elif cst == "nodata" and got[name][i] != "":
                        bad.add("point %d cell %d: %r for a nodata cell" % (i, k, got[name][i]))
                    elif cst == "ok" and parse(got[name][i]) != float(cv):
                        bad.add("point %d cell %d: %s, oracle %r" % (i, k, got[name][i], cv))
                    exact += bad.n == before
                continue
            name = "b1_" + s
            gst, text = got[name + "_status"][i], got[name][i]
            wst = st if st == "outside" or s in want else "nodata"
            total += 1
            if gst != wst:
                bad.add("point %d %s: status %s, oracle %s" % (i, s, gst, wst))
            elif wst == "ok":
                v = parse(text) if s in ("min", "max") else float(text)
                exact += v == want[s]
                if not close(v, want[s], 1e-12 if s != "stdev" else 1e-9):
                    bad.add("point %d %s: %r, oracle %r" % (i, s, v, want[s]))
    agree("window statistics and cells vs numpy", exact, total - bad.n, total)
    bad.flush()


def case_windows(case):
    rng = np.random.default_rng(44)
    W, H = 37, 29
    pixels = test_pixels(W, H, rng, n_random=100)
    xs, ys, _ = world_points(pixels, W, H)
    all_stats = ["mean", "min", "max", "sum", "count", "stdev", "median", "values"]
    for t in ("Float32", "Int16", "Byte", "Float64", "UInt64", "CInt16"):
        path, vals, valid = make_case("win_" + t, t, W, H, rng, around=pixels[:60])
        for n in (1, 3, 5):
            check_windows("%s/%s/w%d" % (case, t, n), path, vals, valid, xs, ys, n, all_stats,
                          parse=f32 if t == "Float32" else float)
    path, vals, valid = make_case("win_big", "Float32", W, H, rng)
    check_windows("%s/w31" % case, path, vals, valid, xs, ys, 31, ["mean", "count", "median"])
    # window 101: 256 MiB of cell state hold 1,547 points of one Float32
    # band, so 3,500 points take 3 rounds
    path, vals, valid = make_case("win_101", "Float32", 150, 120, rng, block=(32, 32))
    px = [(rng.uniform(0, 150), rng.uniform(0, 120)) for _ in range(3500)]
    bx, by, _ = world_points(px, 150, 120)
    r, _ = run_csv([path, "--window", "101", "--plan"], bx, by, "w101_plan")
    T.check(case, "rounds: 3 (at most 1547 points a round" in r.text, "--plan:\n" + r.text)
    check_windows("%s/w101-rounds" % case, path, vals, valid, bx, by, 101,
                  ["mean", "count", "max"], parse=f32)
    # a window larger than the raster
    path, vals, valid = make_case("win_small", "Float32", 3, 2, rng, nodata=False)
    px = [(0.5, 0.5), (3.0, 2.0), (1.5, 1.0)]
    sx, sy, _ = world_points(px, 3, 2)
    check_windows("%s/w7-on-3x2" % case, path, vals, valid, sx, sy, 7,
                  ["sum", "count", "values"], parse=f32)


# --------------------------------------------------------------------------
# Columns, determinism, bad input
# --------------------------------------------------------------------------


def case_columns(case):
    rng = np.random.default_rng(3)
    a = os.path.join(TMP, "dem.tif")
    b = os.path.join(TMP, "sst.tif")
    rptest.create_raster(a, rng.normal(0, 1, (2, 20, 20)), "Float32", gt=GT)
    rptest.create_raster(b, rng.normal(0, 1, (20, 20)), "Float32", gt=GT)
    xs, ys, _ = world_points([(5.5, 5.5)], 20, 20)
    r, _ = run_csv([a, b, "--window", "3", "--window-stat", "mean", "--window-stat", "values"],
                   xs, ys, "cols")
    header = r.text.split("\n")[0].split(",")
    want = ["id", "x", "y"]
    for stem, bands in (("dem", (1, 2)), ("sst", (1,))):
        for band in bands:
            want += ["%s_b%d_mean" % (stem, band)]
            want += ["%s_b%d_w3_%d" % (stem, band, k) for k in range(1, 10)]
    T.check(case, header == want, "header %s, want %s" % (header, want))
    r, _ = run_csv([a, "-b", "2", "--method", "bilinear", "--status"], xs, ys, "cols2")
    T.check(case, r.text.split("\n")[0] == "id,x,y,b1,status".replace("b1", "b2"),
            "header %r" % r.text.split("\n")[0])


def case_threads(case):
    rng = np.random.default_rng(8)
    W, H = 700, 500
    path, vals, valid = make_case("threads", "Float32", W, H, rng, block=(64, 64))
    pixels = [(rng.uniform(0, W), rng.uniform(0, H)) for _ in range(30000)]
    xs, ys, _ = world_points(pixels, W, H)
    pts = os.path.join(TMP, "threads.csv")
    rptest.write_points_csv(pts, xs, ys)
    for args in (["--method", "bilinear"], ["--method", "cubic"],
                 ["--window", "5", "--window-stat", "mean", "--window-stat", "median"]):
        outs = [rptest.extract([path, "--points", pts, "-j", str(j)] + args) for j in (1, 2, 7)]
        T.check(case, all(o.code == 0 for o in outs), "exit codes %s" % [o.code for o in outs])
        T.check(case, outs[0].out == outs[1].out == outs[2].out,
                "%s: output differs between -j 1, 2 and 7" % args)


def case_layouts(case):
    """The same values tiled 16x16, 64x32, in strips of 1 and 7 rows and
    untiled: byte-identical output (nothing depends on block edges)."""
    rng = np.random.default_rng(17)
    W, H = 90, 70
    a = rng.normal(0, 100, (H, W)).astype(np.float32)
    a[rng.random((H, W)) < 0.05] = -9999.0
    pixels = test_pixels(W, H, rng, n_random=400)
    xs, ys, _ = world_points(pixels, W, H)
    pts = os.path.join(TMP, "layouts.csv")
    rptest.write_points_csv(pts, xs, ys)
    paths = []
    for k, block in enumerate([(16, 16), (64, 32), 1, 7, None]):
        p = os.path.join(TMP, "layout_%d.tif" % k)
        rptest.create_raster(p, a, "Float32", gt=GT, nodata=-9999.0, block=block)
        paths.append(p)
    for args in (["--method", "cubic"], ["--method", "bilinear", "--nodata-policy",
                                         "renormalize"],
                 ["--window", "5", "--window-stat", "stdev", "--window-stat", "values"]):
        outs = [rptest.extract([p, "--points", pts, "--status"] + args) for p in paths]
        T.check(case, all(o.code == 0 for o in outs), "exit codes %s" % [o.code for o in outs])
        T.check(case, all(o.out == outs[0].out for o in outs),
                "%s: output depends on the block layout" % args)


def case_corrupt_block(case):
    """A block that cannot be decoded fails exactly the points whose kernel
    touches it (status error, exit 1, the block named); the others keep
    their values."""
    rng = np.random.default_rng(23)
    W, H = 64, 64
    path, vals, valid = make_case("corrupt", "Float32", W, H, rng, nodata=False)
    rptest.corrupt_blocks(path, [(1, 1)])
    pixels = [(rng.uniform(0, W), rng.uniform(0, H)) for _ in range(600)]
    pixels += [(15.9, 20.0), (16.2, 20.0), (15.4, 20.0), (14.4, 20.0), (14.6, 20.0)]
    xs, ys, _ = world_points(pixels, W, H)
    xs, ys = xs[:len(pixels)], ys[:len(pixels)]
    for method in ("bilinear", "cubic"):
        r, _ = run_csv([path, "--method", method, "--status"], xs, ys, "corrupt_" + method)
        T.check(case, r.code == 1 and "block x=1 y=1" in r.err,
                "%s: exit %s, stderr %r" % (method, r.code, r.err[:300]))
        got = columns(r)
        bad = rptest.Limited(T, "%s/%s" % (case, method))
        n = 2 if method == "bilinear" else 4
        for i, (x, y) in enumerate(zip(xs, ys)):
            px, py = pixel_of(GT, x, y)
            first = 0 if n == 2 else -1
            cols = {min(max(math.floor(px - 0.5) + first + j, 0), W - 1) for j in range(n)}
            rows = {min(max(math.floor(py - 0.5) + first + j, 0), H - 1) for j in range(n)}
            hits = any(16 <= c < 32 for c in cols) and any(16 <= r < 32 for r in rows)
            st, want = interp(vals, valid, method, "gdal", px, py)
            wst = "error" if hits else st
            if got["status"][i] != wst:
                bad.add("point %d (px %r, py %r): %s, want %s" % (i, px, py, got["status"][i],
                                                                  wst))
            elif wst == "ok" and float(got["b1"][i]) != want:
                bad.add("point %d: %s, oracle %r" % (i, got["b1"][i], want))
        bad.flush()


def case_plan_counts(case):
    """--plan's kernel block counts, worked out by hand: 64x64, 16x16 blocks."""
    path = os.path.join(TMP, "plan64.tif")
    rptest.create_raster(path, np.zeros((64, 64), np.float32), "Float32", gt=GT, block=(16, 16))
    # Own cells: blocks (1, 0), (2, 2), (0, 3).
    # bilinear: (16.2, 8): cols 15-16, rows 7-8 -> (0, 0) (1, 0); (40, 40): cols and rows
    #   39-40 -> (2, 2); (0.1, 63.9): cols -1..0, rows 63..64 clamped -> (0, 3): 4, 1 more.
    # cubic: cols 14-17 rows 6-9 -> (0, 0) (1, 0); 38-41 -> (2, 2); cols 0-1 (clamped),
    #   rows 62-63 -> (0, 3): 4, 1 more.
    # window 17 (8 each side): cells (16, 8): cols 8-24 rows 0-16 -> 4 blocks; (40, 40):
    #   32-48 -> 4 blocks; (0, 63): cols 0-8, rows 55-63 -> (0, 3): 9, 6 more.
    xs, ys, _ = world_points([(16.2, 8.0), (40.0, 40.0), (0.1, 63.9)], 64, 64)
    for method, window, want in (("bilinear", None, "4 (1 more"), ("cubic", None, "4 (1 more"),
                                 (None, 17, "9 (6 more")):
        args = ["--method", method] if method else ["--window", str(window)]
        r, _ = run_csv([path, "--plan"] + args, xs[:3], ys[:3], "plan64")
        T.check(case, "blocks touched by the kernels: %s" % want in r.text,
                "%s: want %r in:\n%s" % (args, want, r.text))
        # and each of them is decoded once: the run's count of blocks read
        r, _ = run_csv([path, "-v", "-j", "3"] + args, xs[:3], ys[:3], "plan64")
        nblocks = want.split(" ")[0]
        T.check(case, ", %s blocks read (0 failed)" % nblocks in r.err,
                "%s: want %s blocks read: %s" % (args, nblocks, r.err))


def case_bad_input(case):
    path = os.path.join(TMP, "types_Float32.tif")
    for args, what in ((["--window", "4"], "odd"), (["--window", "0"], "odd"),
                       (["--window", "102"], "101"), (["--window", "99999999999"], "number"),
                       (["--method", "lanczos"], "not a method"),
                       (["--window", "3", "--window-stat", "avg"], "not a statistic"),
                       (["--window-stat", "mean"], "needs --window"),
                       (["--window", "3", "--method", "cubic"], "cannot be combined"),
                       (["--method", "cubic", "--nodata-policy", "x"], "not a policy"),
                       (["--window", "3", "--nodata-policy", "strict"], "applies to"),
                       (["--nodata-policy", "renormalize"], "applies to")):
        r = rptest.extract([path] + args, stdin="x,y\n1,1\n")
        T.check(case, r.code == 2 and what in r.err,
                "%s: exit %s, stderr %r (want 2 and %r)" % (args, r.code, r.err, what))


T.run_case("types", case_types)
T.run_case("gdal_resampler", case_gdal_resampler)
T.run_case("small", case_small)
T.run_case("mask_strips", case_mask_and_strips)
T.run_case("vrt", case_vrt)
T.run_case("terra", case_terra)
T.run_case("windows", case_windows)
T.run_case("columns", case_columns)
T.run_case("threads", case_threads)
T.run_case("layouts", case_layouts)
T.run_case("corrupt_block", case_corrupt_block)
T.run_case("plan_counts", case_plan_counts)
T.run_case("bad_input", case_bad_input)
print("== agreement (bit-exact / within tolerance / compared; 0 exact: not counted):")
for what, (exact, within, total) in AGREE.items():
    print("   %-56s %d / %d / %d" % (what, exact, within, total))
shutil.rmtree(TMP, ignore_errors=True)
T.finish()
