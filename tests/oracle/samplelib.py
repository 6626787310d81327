#!/usr/bin/python3
"""samplelib — the numpy oracles of sampling around points (--method,
--window), written from GDAL's published formulas (GDALInterpolateAtPoint,
GDAL >= 3.10) and numpy slices; shared by oracle_sample.py and
cli_remote.py.

interp(): pixel-is-area, the kernel on cell centres (px - 0.5), clamped
into the raster (edge rows and columns repeated); bilinear x first then y;
cubic convolution (a = -0.5) and the cubic B-spline over 4x4 cells, summed
row by row and divided by the weights of the cells used; small rasters
fall back (cubic to bilinear under 4 cells, bilinear to nearest under 2).
Nodata policies: gdal (bilinear: none if any of the 4 cells is nodata;
cubic: skip and renormalise), renormalize, strict.
"""
import math

import numpy as np



def k_cubic(x):
    ax = abs(x)
    if ax <= 1.0:
        return x * x * (1.5 * ax - 2.5) + 1
    if ax <= 2.0:
        return x * x * (-0.5 * ax + 2.5) - 4 * ax + 2
    return 0.0


def k_spline(x):
    if x > 2.0:
        return 0.0
    xp2, xp1, xm1 = x + 2.0, x + 1.0, x - 1.0
    a = xp2 * xp2 * xp2 if xp2 > 0 else 0.0
    b = xp1 * xp1 * xp1 if xp1 > 0 else 0.0
    c = x * x * x if x > 0 else 0.0
    d = xm1 * xm1 * xm1 if xm1 > 0 else 0.0
    return 0.16666666666666666667 * (a - 4.0 * b + 6.0 * c - 4.0 * d)


def pixel_of(gt, x, y):
    """Pixel coordinates as the cell contract computes them (north-up)."""
    return (x - gt[0]) / gt[1], (y - gt[3]) / gt[5]


def interp(vals, valid, method, policy, px, py):
    """('outside'|'nodata'|'ok', value) at pixel (px, py) of vals (H, W)
    (float64 array), valid (H, W) bool (False: nodata or masked)."""
    H, W = vals.shape
    if not (0.0 <= px <= W and 0.0 <= py <= H):
        return "outside", None
    m = method
    if m in ("cubic", "cubicspline") and (W < 4 or H < 4):
        m = "bilinear"
    if m == "bilinear" and (W < 2 or H < 2):
        m = "nearest"
    if m == "nearest":
        c, r = min(int(math.floor(px)), W - 1), min(int(math.floor(py)), H - 1)
        return ("ok", float(vals[r, c])) if valid[r, c] else ("nodata", None)
    fx, fy = px - 0.5, py - 0.5
    x0, y0 = math.floor(fx), math.floor(fy)
    dx, dy = fx - x0, fy - y0
    n = 2 if m == "bilinear" else 4
    first = 0 if n == 2 else -1
    cols = [min(max(x0 + first + j, 0), W - 1) for j in range(n)]
    rows = [min(max(y0 + first + i, 0), H - 1) for i in range(n)]
    v = [[float(vals[r, c]) for c in cols] for r in rows]
    ok = [[bool(valid[r, c]) for c in cols] for r in rows]
    all_ok = all(all(row) for row in ok)
    if not all_ok and (policy == "strict" or (policy == "gdal" and n == 2)):
        return "nodata", None
    if n == 2 and all_ok:
        xz1 = v[0][0] * (1.0 - dx) + v[0][1] * dx
        xz2 = v[1][0] * (1.0 - dx) + v[1][1] * dx
        return "ok", xz1 * (1.0 - dy) + xz2 * dy
    if n == 2:
        w = [[(1.0 - dx) * (1.0 - dy), dx * (1.0 - dy)], [(1.0 - dx) * dy, dx * dy]]
    else:
        k = k_spline if m == "cubicspline" else k_cubic
        w = [[k(j - 1 - dx) * k(i - 1 - dy) for j in range(4)] for i in range(4)]
    s = sw = 0.0
    for i in range(n):
        for j in range(n):
            if ok[i][j]:
                s += v[i][j] * w[i][j]
                sw += w[i][j]
    if sw == 0.0:
        return "nodata", None
    return "ok", s / sw


def window_oracle(vals, valid, px, py, n):
    """(status, {stat: value}, cells) of the n x n window at (px, py)."""
    H, W = vals.shape
    if not (0.0 <= px <= W and 0.0 <= py <= H):
        return "outside", {}, None
    c, r = min(int(math.floor(px)), W - 1), min(int(math.floor(py)), H - 1)
    h = n // 2
    cells = []
    for i in range(r - h, r + h + 1):
        for j in range(c - h, c + h + 1):
            if 0 <= i < H and 0 <= j < W:
                cells.append(("ok" if valid[i, j] else "nodata", vals[i, j]))
            else:
                cells.append(("outside", None))
    win = vals[max(r - h, 0):r + h + 1, max(c - h, 0):c + h + 1]
    ok = valid[max(r - h, 0):r + h + 1, max(c - h, 0):c + h + 1] & ~np.isnan(win)
    v = win[ok]
    st = {"count": float(v.size)}
    if v.size:
        st.update(mean=float(np.mean(v)), min=float(np.min(v)), max=float(np.max(v)),
                  sum=float(np.sum(v)), stdev=float(np.std(v)), median=float(np.median(v)))
    return "ok", st, cells


