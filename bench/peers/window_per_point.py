#!/usr/bin/python3
"""window_per_point — what users write when a tool samples only the nearest
cell: one small read per point. Two modes:

  bilinear  rasterstats point_query(interpolate="bilinear"): the 2x2 cells
            whose centres surround the point (round the pixel coordinates,
            read the window from (c - 1, r - 1)), bilinear on the unit square;
  window N  the N x N cells centred on the point's cell (clipped to the
            raster), their mean (numpy, nodata left out).

Each point is one ReadAsArray. Usage:
  window_per_point.py RASTER POINTS.csv OUT.csv bilinear|N [SUBSET]
SUBSET: only the first SUBSET points (the bench scales the loop's time).
Prints api_seconds=X on stderr: the per-point loop alone."""
import math
import sys
import time

import numpy as np
from osgeo import gdal

from pointsio import finish, read_points

gdal.UseExceptions()


def main():
    raster, points, out, mode = sys.argv[1:5]
    ids, xs, ys = read_points(points)
    if len(sys.argv) > 5:
        n = int(sys.argv[5])
        ids, xs, ys = ids[:n], xs[:n], ys[:n]
    t0 = time.perf_counter()
    ds = gdal.Open(raster)
    band = ds.GetRasterBand(1)
    nodata = band.GetNoDataValue()
    inv = gdal.InvGeoTransform(ds.GetGeoTransform())
    W, H = ds.RasterXSize, ds.RasterYSize
    values = np.full(len(xs), np.nan)
    for i, (x, y) in enumerate(zip(xs, ys)):
        px = inv[0] + inv[1] * x + inv[2] * y
        py = inv[3] + inv[4] * x + inv[5] * y
        if not (0 <= px <= W and 0 <= py <= H):
            continue
        if mode == "bilinear":
            c, r = int(round(px)), int(round(py))
            if c < 1 or r < 1 or c >= W or r >= H:
                continue  # rasterstats reads boundless here; not compared
            a = band.ReadAsArray(c - 1, r - 1, 2, 2).astype(np.float64)
            dx, dy = px - (c - 0.5), py - (r - 0.5)
            values[i] = (a[0, 0] * (1 - dx) * (1 - dy) + a[0, 1] * dx * (1 - dy)
                         + a[1, 0] * (1 - dx) * dy + a[1, 1] * dx * dy)
        else:
            h = int(mode) // 2
            c, r = min(int(math.floor(px)), W - 1), min(int(math.floor(py)), H - 1)
            c0, r0 = max(c - h, 0), max(r - h, 0)
            c1, r1 = min(c + h + 1, W), min(r + h + 1, H)
            a = band.ReadAsArray(c0, r0, c1 - c0, r1 - r0).astype(np.float64)
            if nodata is not None:
                a = a[a != nodata]
            values[i] = a.mean() if a.size else np.nan
    finish(out, ids, values, None, t0)


if __name__ == "__main__":
    main()
