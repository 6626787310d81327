#!/usr/bin/python3
"""rasterio_sample — rasterio's DatasetReader.sample(), the call most Python
users reach for first. It reads point by point, so the bench runs it on the
first LIMIT points only and scales the time (the table says so).

Usage: rasterio_sample.py RASTER POINTS.csv OUT.csv LIMIT
Prints api_seconds=X on stderr: the sample() loop alone."""
import sys
import time

import numpy as np
import rasterio

from pointsio import read_points, write_values


def main():
    raster, points, out, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    ids, xs, ys = read_points(points)
    ids, xs, ys = ids[:limit], xs[:limit], ys[:limit]
    t0 = time.perf_counter()
    with rasterio.open(raster) as src:
        values = np.array([v[0] for v in src.sample(zip(xs, ys), indexes=1)
                           ], dtype=np.float64)
    print("api_seconds=%.6f" % (time.perf_counter() - t0), file=sys.stderr)
    write_values(out, ids, values)


main()
