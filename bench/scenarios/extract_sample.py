"""extract_sample — interpolation and windows at points (issue 12), on
scenario 1's data (8192² Float32 DEFLATE, 256² tiles, 500k uniform points):
rasterpool's --method bilinear, cubic, cubicspline and --window 5 against
its own nearest extract (the target: interpolation costs at most 1.3x
nearest), terra::extract(method="bilinear"), the rasterstats-style
bilinear (one 2x2 read per point) and a numpy loop that reads each 5x5
window (both per point: on a subset, the loop's time scaled to all
points, as rasterio sample() in extract_local).

Answers are checked after timing: terra and the per-point bilinear against
rasterpool's bilinear (interior points; float32 tolerance: terra and the
loop compute in other orders), the numpy windows against --window 5 mean.
"""
import os

import numpy as np

import benchlib
import extract_local
from benchlib import Scenario, Table, api_seconds, measure


def values_of(path):
    return extract_local.last_column(path)


def check_close(tool, want, path, limit=None, rtol=1e-6):
    got = values_of(path)
    want = want[: limit or len(want)]
    both = np.isfinite(got) & np.isfinite(want)
    if len(got) != len(want) or both.sum() < 0.98 * len(want):
        raise benchlib.BenchError("%s: %d values, %d comparable of %d" % (
            tool, len(got), both.sum(), len(want)))
    if not np.allclose(got[both], want[both], rtol=rtol, atol=0):
        bad = np.flatnonzero(~np.isclose(got[both], want[both], rtol=rtol, atol=0))
        raise benchlib.BenchError("%s gave different values from rasterpool (%d of %d, first "
                                  "%r vs %r)" % (tool, len(bad), both.sum(),
                                                 got[both][bad[0]], want[both][bad[0]]))


def scaled(table, row, n, subset):
    loop_s = api_seconds(row.result)
    row.scale = (row.result.median + loop_s * (n / subset - 1)) / row.result.median
    row.note = "a read per point, first %s points: %.3f s, scaled to all %s" % (
        format(subset, ","), loop_s, format(n, ","))


def s_sample(ctx):
    size = extract_local.raster_size(ctx)
    raster = extract_local.make_raster(ctx, size, "DEFLATE")
    points = extract_local.make_points(ctx, size, ctx.size(20000, 500000), "uniform", 1)
    n = extract_local.count_lines(points) - 1
    t = ctx.threads
    table = Table("S1. interpolation and 5x5 windows at uniform points",
                  "%dx%d Float32 DEFLATE, 256x256 tiles; %s uniform points; %d threads" % (
                      size, size, format(n, ","), t))
    out = ctx.out

    def rp(label, args, name):
        return table.add(label, measure(ctx, [
            ctx.rasterpool, "extract", raster, "--points", points, "-o", out(name), "-j",
            str(t), "--quiet"] + args), threads=t)

    near = rp("rasterpool extract (nearest)", [], "rp_nearest.csv")
    bil = rp("rasterpool --method bilinear", ["--method", "bilinear"], "rp_bilinear.csv")
    cub = rp("rasterpool --method cubic", ["--method", "cubic"], "rp_cubic.csv")
    spl = rp("rasterpool --method cubicspline", ["--method", "cubicspline"], "rp_spline.csv")
    win = rp("rasterpool --window 5 --window-stat mean", ["--window", "5"], "rp_w5.csv")
    ref_bil = values_of(out("rp_bilinear.csv"))
    ref_win = values_of(out("rp_w5.csv"))

    terra = table.add("terra::extract(method=\"bilinear\") (R)", measure(ctx, [
        "Rscript", os.path.join(ctx.peers, "terra_extract.R"), raster, points,
        out("terra_bilinear.csv"), "bilinear"]), threads=1)
    terra.api = api_seconds(terra.result)
    check_close("terra bilinear", ref_bil, out("terra_bilinear.csv"))

    py = benchlib.PYTHON
    subset = min(n, ctx.size(2000, 20000))
    rs = table.add("rasterstats-style bilinear (2x2 read per point)", measure(ctx, [
        py, os.path.join(ctx.peers, "window_per_point.py"), raster, points, out("rs.csv"),
        "bilinear", str(subset)]), threads=1)
    scaled(table, rs, n, subset)
    check_close("per-point bilinear", ref_bil, out("rs.csv"), limit=subset)
    npw = table.add("numpy 5x5 read per point + mean", measure(ctx, [
        py, os.path.join(ctx.peers, "window_per_point.py"), raster, points, out("npw.csv"),
        "5", str(subset)]), threads=1)
    scaled(table, npw, n, subset)
    check_close("numpy windows", ref_win, out("npw.csv"), limit=subset, rtol=1e-8)

    table.ratio_target("bilinear <= 1.3x nearest", bil, near, 1.3, at_most=True)
    table.ratio_target("cubic <= 1.3x nearest", cub, near, 1.3, at_most=True)
    table.ratio_target("bilinear faster than terra bilinear", terra, bil, 1.0, at_most=False)
    table.ratio_target("bilinear faster than a 2x2 read per point", rs, bil, 1.0, at_most=False)
    table.ratio_target("--window 5 faster than a numpy read per window", npw, win, 1.0,
                       at_most=False)
    spl.note = "for comparison"
    table.notes.append("terra and the per-point bilinear agree with rasterpool's bilinear "
                       "(float32 tolerance, interior points); the numpy windows with "
                       "--window 5 mean (1e-8: the peers write 9 digits). Checked after timing.")
    return [table]


SCENARIOS = [
    Scenario("sample", "interpolation (bilinear, cubic) and --window 5 at 500k points vs "
             "nearest, terra, per-point reads", s_sample),
]
