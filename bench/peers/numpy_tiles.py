#!/usr/bin/python3
"""numpy_tiles — the tile-grouped extractor users write in Python (the
published pixtract algorithm), written for the bench: inverse geotransform,
argsort the points by the tile that holds them, one ReadAsArray per touched
tile, values indexed out of it; optionally the tiles are spread over a
ThreadPoolExecutor with one GDAL dataset per thread.

Usage: numpy_tiles.py RASTER POINTS.csv OUT.csv [THREADS]
Prints api_seconds=X on stderr: the extraction alone, without the CSV I/O.
tiles_extract() is the extractor as a function (python_inprocess.py uses it)."""
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from osgeo import gdal


gdal.UseExceptions()


def tiles_extract(raster, xs, ys, threads=1):
    """Values of band 1 at (xs, ys), NaN outside the raster, and the band's
    nodata value (not applied). threads == 1 reads the tiles in a plain loop;
    more spread them over a ThreadPoolExecutor, one dataset per thread."""
    ds = gdal.Open(raster)
    inv = gdal.InvGeoTransform(ds.GetGeoTransform())
    band = ds.GetRasterBand(1)
    bw, bh = band.GetBlockSize()
    width, height = ds.RasterXSize, ds.RasterYSize
    cols = np.floor(inv[0] + inv[1] * xs + inv[2] * ys).astype(np.int64)
    rows = np.floor(inv[3] + inv[4] * xs + inv[5] * ys).astype(np.int64)
    inside = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
    values = np.full(len(xs), np.nan)

    nbx = (width + bw - 1) // bw
    idx = np.nonzero(inside)[0]
    tile = (rows[idx] // bh) * nbx + cols[idx] // bw
    order = np.argsort(tile, kind="stable")
    idx, tile = idx[order], tile[order]
    starts = np.flatnonzero(np.r_[True, tile[1:] != tile[:-1]])
    ends = np.r_[starts[1:], len(tile)]

    local = threading.local()

    def read_tile(k):
        if not hasattr(local, "band"):
            local.ds = gdal.Open(raster)
            local.band = local.ds.GetRasterBand(1)
        t = tile[starts[k]]
        xoff, yoff = (t % nbx) * bw, (t // nbx) * bh
        w, h = min(bw, width - xoff), min(bh, height - yoff)
        arr = local.band.ReadAsArray(int(xoff), int(yoff), int(w), int(h))
        sel = idx[starts[k]:ends[k]]
        values[sel] = arr[rows[sel] - yoff, cols[sel] - xoff]

    if threads == 1:
        for k in range(len(starts)):
            read_tile(k)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(read_tile, range(len(starts))))
    return values, band.GetNoDataValue()


def main():
    from pointsio import finish, read_points
    raster, points, out = sys.argv[1:4]
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    ids, xs, ys = read_points(points)
    t0 = time.perf_counter()
    values, nodata = tiles_extract(raster, xs, ys, threads)
    finish(out, ids, values, nodata, t0)


if __name__ == "__main__":
    main()
