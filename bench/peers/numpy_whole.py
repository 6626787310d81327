#!/usr/bin/python3
"""numpy_whole — the other common Python approach: read the whole band into
memory (GDAL_NUM_THREADS=ALL_CPUS lets GDAL decode tiles in parallel, set by
the bench), then index it with the points' rows and columns.

Usage: numpy_whole.py RASTER POINTS.csv OUT.csv
Prints api_seconds=X on stderr: read and index, without the CSV I/O."""
import sys
import time

import numpy as np
from osgeo import gdal

from pointsio import finish, read_points

gdal.UseExceptions()


def main():
    raster, points, out = sys.argv[1:4]
    ids, xs, ys = read_points(points)
    t0 = time.perf_counter()
    ds = gdal.Open(raster)
    inv = gdal.InvGeoTransform(ds.GetGeoTransform())
    band = ds.GetRasterBand(1)
    arr = band.ReadAsArray()
    cols = np.floor(inv[0] + inv[1] * xs + inv[2] * ys).astype(np.int64)
    rows = np.floor(inv[3] + inv[4] * xs + inv[5] * ys).astype(np.int64)
    inside = (cols >= 0) & (cols < ds.RasterXSize) & (rows >= 0) & (rows < ds.RasterYSize)
    values = np.full(len(xs), np.nan)
    values[inside] = arr[rows[inside], cols[inside]]
    finish(out, ids, values, band.GetNoDataValue(), t0)


main()
