#!/usr/bin/python3
"""oracle_grids — rasterpool extract vs GDAL over many geotransforms.

Cases:
  - hand-computed edge cases (north-up, south-up, UTM-like origin, 1x1):
    cell centres, cell corners, interior edges (-> higher col/row), outer
    edges and corners (inside; right/bottom -> last col/row), 1 ulp outside
    each outer edge (math.nextafter) -> outside, 1 ulp inside, NaN and inf
    coordinates -> outside. Expected cells are literal numbers worked out by
    hand from the DESIGN.md convention (px = (x - gt0) / gt1, ...), values
    are row*1000+col so the expected value is readable;
  - random points (inside, outside, on edges) over: north-up, south-up,
    rotated, sheared (gt2 only, gt4 only), fractional resolutions (0.1, 1/3),
    a UTM-like origin, odd sizes with partial last blocks, a VRT mosaic of 4
    GeoTIFF tiles with a gap (nodata), each against the numpy oracle and
    gdallocationinfo (away from cell edges);
  - one moderately sized case (2000x1500 Float32, 100k points): identical
    stdout at --threads 1, 2 and 7, and input order kept with shuffled points.
Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 oracle_grids.py
"""
import math
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

import rptest  # noqa: E402

NaN = float("nan")
INF = float("inf")
up = lambda v: math.nextafter(v, INF)  # noqa: E731
down = lambda v: math.nextafter(v, -INF)  # noqa: E731


def index_raster(path, W, H, gt, block=(64, 64)):
    """Int32 raster whose value is row*1000 + col."""
    rows, cols = np.mgrid[0:H, 0:W]
    rptest.create_raster(path, (rows * 1000 + cols).astype(np.int32), "Int32", gt=gt,
                         block=block)
    return path


def run_hand(T, case, tmp, name, gt, W, H, points):
    """points: (label, x, y, (col, row) or None for outside)."""
    path = index_raster(os.path.join(tmp, name + ".tif"), W, H, gt)
    xs = [p[1] for p in points]
    ys = [p[2] for p in points]
    # Validate the numpy oracle against the hand-computed cells.
    o = rptest.ArrayOracle(path)
    inside, col, row = o.locate(xs, ys)
    for i, (label, x, y, want) in enumerate(points):
        got = (int(col[i]), int(row[i])) if inside[i] else None
        if got != want:
            T.oracle_problem(case, "%s: numpy oracle cell %s, hand %s" % (label, got, want))
    pts = os.path.join(tmp, name + ".csv")
    lines = rptest.write_points_csv(pts, xs, ys)
    r = rptest.extract([path, "--points", pts, "--status"])
    if not T.check(case, r.code == 0, "exit %s, want 0\n    %s" % (r.code, r.describe())):
        return
    header, rows = rptest.parse_csv(r.text)
    if not T.check(case, header == ["id", "x", "y", "b1", "status"] and len(rows) == len(points),
                   "header %r / %d rows, want id,x,y,b1,status / %d rows\n    %s" % (
                       header, len(rows), len(points), r.describe())):
        return
    lim = rptest.Limited(T, case, limit=40)
    for i, (label, x, y, want) in enumerate(points):
        if rows[i][:3] != lines[i + 1].split(","):
            lim.add("%s: row %r does not carry the input %r" % (label, rows[i][:3], lines[i + 1]))
            continue
        if want is None:
            exp_v, exp_s = "", "outside"
        else:
            exp_v, exp_s = str(want[1] * 1000 + want[0]), "ok"
        if rows[i][3] != exp_v or rows[i][4] != exp_s:
            lim.add("%s (x=%r y=%r): got value %r status %r, want %r %r (cell %s)" % (
                label, x, y, rows[i][3], rows[i][4], exp_v, exp_s, want))
    lim.flush("%s\n    " % r.cmd)


def hand_north_up(case, tmp, T):
    # gt = (1000, 0.5, 0, 2000, 0, -0.25), 300 x 217: right edge x = 1150,
    # bottom edge y = 1945.75; col edge k at x = 1000 + k/2, row edge k at
    # y = 2000 - k/4. Everything here is exact in binary.
    gt = (1000.0, 0.5, 0.0, 2000.0, 0.0, -0.25)
    P = [
        ("centre of (0,0)", 1000.25, 1999.875, (0, 0)),
        ("centre of (299,216)", 1149.75, 1945.875, (299, 216)),
        ("centre of (17,33)", 1008.75, 1991.625, (17, 33)),
        ("top-left corner", 1000.0, 2000.0, (0, 0)),
        ("top-right corner", 1150.0, 2000.0, (299, 0)),
        ("bottom-left corner", 1000.0, 1945.75, (0, 216)),
        ("bottom-right corner", 1150.0, 1945.75, (299, 216)),
        ("interior col edge 10", 1005.0, 1999.875, (10, 0)),
        ("interior row edge 5", 1000.25, 1998.75, (0, 5)),
        ("interior cell corner (10,5)", 1005.0, 1998.75, (10, 5)),
        ("block corner (64,64)", 1032.0, 1984.0, (64, 64)),
        ("interior corner (299 edge, 216 edge)", 1149.5, 1946.0, (299, 216)),
        ("left edge, row edge 40", 1000.0, 1990.0, (0, 40)),
        ("top edge, col edge 150", 1075.0, 2000.0, (150, 0)),
        ("right edge, row edge 40", 1150.0, 1990.0, (299, 40)),
        ("bottom edge, col edge 150", 1075.0, 1945.75, (150, 216)),
        ("right edge, mid cell", 1150.0, 1990.1, (299, 39)),
        ("bottom edge, mid cell", 1075.1, 1945.75, (150, 216)),
        ("1 ulp left of left edge", down(1000.0), 1990.0, None),
        ("1 ulp right of right edge", up(1150.0), 1990.0, None),
        ("1 ulp above top edge", 1075.0, up(2000.0), None),
        ("1 ulp below bottom edge", 1075.0, down(1945.75), None),
        ("1 ulp outside bottom-right corner", up(1150.0), down(1945.75), None),
        ("1 ulp outside top-left corner", down(1000.0), up(2000.0), None),
        ("1 ulp inside left edge", up(1000.0), 1990.0, (0, 40)),
        ("1 ulp inside right edge", down(1150.0), 1990.0, (299, 40)),
        ("1 ulp inside top edge", 1075.0, down(2000.0), (150, 0)),
        ("1 ulp inside bottom edge", 1075.0, up(1945.75), (150, 216)),
        ("1 ulp left of interior col edge 10", down(1005.0), 1999.875, (9, 0)),
        ("1 ulp above interior row edge 5", 1000.25, up(1998.75), (0, 4)),
        ("NaN x", NaN, 1990.0, None),
        ("NaN y", 1075.0, NaN, None),
        ("NaN x and y", NaN, NaN, None),
        ("+inf x", INF, 1990.0, None),
        ("-inf y", 1075.0, -INF, None),
        ("far away", 0.0, 0.0, None),
    ]
    run_hand(T, case, tmp, "hand_north", gt, 300, 217, P)


def hand_south_up(case, tmp, T):
    # gt = (-50, 2, 0, 100, 0, 0.5): y grows with the row; row edge k at
    # y = 100 + k/2, bottom (row 217 edge) at y = 208.5; right edge x = 550.
    gt = (-50.0, 2.0, 0.0, 100.0, 0.0, 0.5)
    P = [
        ("origin corner", -50.0, 100.0, (0, 0)),
        ("far corner", 550.0, 208.5, (299, 216)),
        ("centre of (3,4)", -43.0, 102.25, (3, 4)),
        ("interior row edge 5", -49.0, 102.5, (0, 5)),
        ("1 ulp before interior row edge 5", -49.0, down(102.5), (0, 4)),
        ("interior col edge 10", -30.0, 100.25, (10, 0)),
        ("last row edge (bottom) mid", 0.0, 208.5, (25, 216)),
        ("1 ulp below y origin", 0.0, down(100.0), None),
        ("1 ulp beyond last row edge", 0.0, up(208.5), None),
        ("1 ulp beyond right edge", up(550.0), 150.0, None),
        ("right edge", 550.0, 150.0, (299, 100)),
    ]
    run_hand(T, case, tmp, "hand_south", gt, 300, 217, P)


def hand_utm(case, tmp, T):
    # gt = (500000, 30, 0, 4000000, 0, -30): right x = 509000, bottom
    # y = 3993490.
    gt = (500000.0, 30.0, 0.0, 4000000.0, 0.0, -30.0)
    P = [
        ("top-left", 500000.0, 4000000.0, (0, 0)),
        ("bottom-right", 509000.0, 3993490.0, (299, 216)),
        ("block corner (64,64)", 501920.0, 3998080.0, (64, 64)),
        ("interior corner (1,1)", 500030.0, 3999970.0, (1, 1)),
        ("centre (2,3)", 500075.0, 3999895.0, (2, 3)),
        ("1 ulp left", down(500000.0), 3999000.0, None),
        ("1 ulp right", up(509000.0), 3999000.0, None),
        ("1 ulp below", 505000.0, down(3993490.0), None),
        ("1 ulp above", 505000.0, up(4000000.0), None),
        ("1 ulp inside right", down(509000.0), 3999000.0, (299, 33)),
    ]
    run_hand(T, case, tmp, "hand_utm", gt, 300, 217, P)


def hand_one_pixel(case, tmp, T):
    gt = (10.0, 4.0, 0.0, 20.0, 0.0, -4.0)  # the cell spans x 10..14, y 16..20
    P = [
        ("centre", 12.0, 18.0, (0, 0)),
        ("top-left", 10.0, 20.0, (0, 0)),
        ("top-right", 14.0, 20.0, (0, 0)),
        ("bottom-left", 10.0, 16.0, (0, 0)),
        ("bottom-right", 14.0, 16.0, (0, 0)),
        ("1 ulp right", up(14.0), 18.0, None),
        ("1 ulp below", 12.0, down(16.0), None),
        ("1 ulp left", down(10.0), 18.0, None),
        ("1 ulp above", 12.0, up(20.0), None),
    ]
    run_hand(T, case, tmp, "hand_one", gt, 1, 1, P)


def random_grid(case, tmp, T, name, gt, W, H, dtype="Float32", block=(64, 64), seed=1,
                n_inside=2000):
    rng = np.random.default_rng(seed)
    data = rng.normal(0, 100, (2, H, W))
    if dtype == "Int16":
        data = rng.integers(-32768, 32767, (2, H, W), endpoint=True)
    path = rptest.create_raster(os.path.join(tmp, name + ".tif"), data, dtype, gt=gt, block=block)
    check_points(case, tmp, T, path, name, gt, W, H, seed, n_inside, bands=[1, 2])


def check_points(case, tmp, T, path, name, gt, W, H, seed, n_inside=2000, bands=(1,)):
    o = rptest.ArrayOracle(path, bands=list(bands))
    xs, ys = rptest.random_points(gt, W, H, n_inside=n_inside, n_outside=300, n_edge=300, seed=seed)
    pts = os.path.join(tmp, name + ".csv")
    lines = rptest.write_points_csv(pts, xs, ys)
    args = [path, "--points", pts, "--status"]
    for b in bands:
        args += ["-b", b]
    r = rptest.extract(args)
    rptest.compare_extract(T, case, r, xs, ys, o, list(bands), lines, status=True)


def vrt_mosaic(case, tmp, T):
    # 300 x 217 overall, 4 tiles with a 10-column gap in the lower right
    # (cols 150..159, rows 100..216), VRT nodata -9999 fills the gap.
    W, H = 300, 217
    gt = (300000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0)
    rng = np.random.default_rng(7)
    full = rng.integers(-30000, 30000, (H, W)).astype(np.int16)
    tiles = [(0, 0, 150, 100), (150, 0, 150, 100), (0, 100, 150, 117), (160, 100, 140, 117)]
    srcs = []
    for k, (c0, r0, w, h) in enumerate(tiles):
        tgt = (gt[0] + c0 * gt[1], gt[1], 0.0, gt[3] + r0 * gt[5], 0.0, gt[5])
        p = os.path.join(tmp, "tile%d.tif" % k)
        rptest.create_raster(p, full[r0:r0 + h, c0:c0 + w], "Int16", gt=tgt, block=(32, 32))
        srcs.append(p)
    vrt = rptest.build_vrt(os.path.join(tmp, "mosaic.vrt"), srcs, {"VRTNodata": -9999})
    # generator check: the VRT reads back as the tiles + nodata gap
    o = rptest.ArrayOracle(vrt)
    want = full.copy()
    want[100:, 150:160] = -9999
    if o.gt != gt or not np.array_equal(o.data[1], want) or o.nodata[1] != -9999:
        raise AssertionError("test setup: the VRT does not read back as the tiles")
    cells = [(c, r) for c in range(148, 162) for r in (99, 100, 150)]
    xs, ys = rptest.random_points(gt, W, H, n_inside=2000, n_outside=200, n_edge=300, seed=8,
                                  extra_pixels=cells)
    pts = os.path.join(tmp, "mosaic.csv")
    lines = rptest.write_points_csv(pts, xs, ys)
    r = rptest.extract([vrt, "--points", pts, "--status"])
    rptest.compare_extract(T, case, r, xs, ys, o, [1], lines, status=True)


def big_threads_and_order(case, tmp, T):
    W, H = 2000, 1500
    gt = (-180.0, 0.125, 0.0, 90.0, 0.0, -0.0625)
    rng = np.random.default_rng(11)
    data = rng.normal(0, 1000, (H, W)).astype(np.float32)
    path = rptest.create_raster(os.path.join(tmp, "big.tif"), data, "Float32", gt=gt,
                                block=(256, 256), nodata=None)
    xs, ys = rptest.random_points(gt, W, H, n_inside=95000, n_outside=3000, n_edge=2000, seed=12)
    pts = os.path.join(tmp, "big.csv")
    lines = rptest.write_points_csv(pts, xs, ys)
    outs = {}
    for th in (1, 2, 7):
        r = rptest.extract([path, "--points", pts, "--threads", th, "--status"])
        if not T.check(case, r.code == 0, "--threads %d: exit %s\n    %s" % (th, r.code, r.describe())):
            return
        outs[th] = r
    for th in (2, 7):
        if outs[th].out != outs[1].out:
            a, b = outs[1].text.split("\n"), outs[th].text.split("\n")
            diff = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
            T.fail(case, "stdout at --threads %d differs from --threads 1 (first at line %d: %r vs %r)" % (
                th, diff + 1, a[diff] if diff < len(a) else None, b[diff] if diff < len(b) else None))
    o = rptest.ArrayOracle(path)
    rptest.compare_extract(T, case + " (values)", outs[1], xs, ys, o, [1], lines, status=True,
                           use_gli=False)
    # shuffled input: rows come out in the new input order, each identical
    perm = np.random.default_rng(13).permutation(len(xs))
    spts = os.path.join(tmp, "big_shuffled.csv")
    with open(spts, "w") as f:
        f.write(lines[0] + "\n")
        for k in perm:
            f.write(lines[k + 1] + "\n")
    r = rptest.extract([path, "--points", spts, "-j", 7, "--status"])
    if not T.check(case, r.code == 0, "shuffled: exit %s\n    %s" % (r.code, r.describe())):
        return
    base = outs[1].text.split("\n")
    got = r.text.split("\n")
    lim = rptest.Limited(T, case + " (shuffled order)")
    if len(got) != len(base):
        lim.add("shuffled output has %d lines, want %d" % (len(got), len(base)))
    else:
        for i, k in enumerate(perm):
            if got[i + 1] != base[k + 1]:
                lim.add("output line %d: %r, want %r (input point id %d)" % (i + 2, got[i + 1], base[k + 1], k))
    lim.flush(r.cmd + "\n    ")


def main():
    T = rptest.Tester("oracle_grids")
    rptest.binary()
    with tempfile.TemporaryDirectory(prefix="rp_grids_") as tmp:
        T.run_case("hand: north-up edges", hand_north_up, tmp, T)
        T.run_case("hand: south-up edges", hand_south_up, tmp, T)
        T.run_case("hand: UTM-like origin edges", hand_utm, tmp, T)
        T.run_case("hand: 1x1 raster", hand_one_pixel, tmp, T)
        grids = [
            ("north-up binary", "north", (1000.0, 0.5, 0.0, 2000.0, 0.0, -0.25), 300, 217, (64, 64)),
            ("south-up", "south", (-50.0, 2.0, 0.0, 100.0, 0.0, 0.5), 300, 217, (64, 64)),
            ("rotated", "rot", (1000.0, 0.5, 0.1, 2000.0, 0.05, -0.5), 300, 217, (64, 64)),
            ("rotated 30 degrees", "rot30", (500.0, 0.8660254037844387, 0.5, 900.0, 0.5,
                                             -0.8660254037844387), 300, 217, (64, 64)),
            ("sheared gt2 only", "shear2", (0.0, 1.0, 0.3, 0.0, 0.0, -1.0), 300, 217, (64, 64)),
            ("sheared gt4 only", "shear4", (0.0, 1.0, 0.0, 0.0, -0.2, -1.0), 300, 217, (64, 64)),
            ("fractional res 0.1", "frac01", (10.1, 0.1, 0.0, 50.3, 0.0, -0.1), 300, 217, (64, 64)),
            ("fractional res 1/3", "frac13", (12.345, 1.0 / 3.0, 0.0, -7.7, 0.0, -1.0 / 3.0), 300, 217, (64, 64)),
            ("degrees 0.00025", "deg", (-3.14159, 0.00025, 0.0, 51.5, 0.0, -0.00025), 300, 217, (64, 64)),
            ("UTM-like origin", "utm", (500000.0, 30.0, 0.0, 4000000.0, 0.0, -30.0), 300, 217, (64, 64)),
            ("UTM-like origin, res 0.3", "utm03", (499999.7, 0.3, 0.0, 4000000.1, 0.0, -0.3), 300, 217, (64, 64)),
            ("odd size 257x129 blocks 256x128", "odd1", (0.0, 1.0, 0.0, 129.0, 0.0, -1.0), 257, 129, (256, 128)),
            ("odd size 1x301 striped", "odd2", (5.0, 2.0, 0.0, 700.0, 0.0, -2.0), 1, 301, 7),
            ("odd size 301x1", "odd3", (5.0, 2.0, 0.0, 700.0, 0.0, -2.0), 301, 1, (16, 16)),
            ("odd size 1x1", "odd4", (5.0, 2.0, 0.0, 700.0, 0.0, -2.0), 1, 1, None),
        ]
        for k, (label, name, gt, W, H, block) in enumerate(grids):
            T.run_case("grid: " + label, random_grid, tmp, T, name, gt, W, H,
                       dtype="Int16" if k % 2 else "Float32", block=block, seed=20 + k)
        T.run_case("grid: VRT mosaic of 4 tiles with a gap", vrt_mosaic, tmp, T)
        T.run_case("threads 1/2/7 identical, shuffled order kept", big_threads_and_order, tmp, T)
    T.finish()


if __name__ == "__main__":
    main()
