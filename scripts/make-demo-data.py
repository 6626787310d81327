#!/usr/bin/python3
"""make-demo-data.py — the demo's inputs: a DEM and a points table.

Writes into OUTDIR:
  dem.tif     SIZE x SIZE Float32 GeoTIFF, 10 m pixels in UTM 33N (EPSG:32633),
              tiled 256x256, DEFLATE; a smooth synthetic terrain in metres
              (a few Gaussian mountains on rolling hills) with nodata -9999
              over a small lake.
  points.csv  id,x,y,name with POINTS rows (fixed seed): mostly on land, some
              in the lake (nodata), a few off the raster; name is a quoted
              string, with a comma in some rows, to show fields carry through.

The terrain is a function of the position relative to the raster, so any
--size gives the same landscape at a different resolution of the array.

Needs python3-gdal and numpy: run it with Debian's /usr/bin/python3.
Usage: make-demo-data.py OUTDIR [--size 4096] [--points 200000] [--seed 42]
"""
import argparse
import os
import sys
import time

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

PIXEL = 10.0  # metres
X0, Y0 = 400000.0, 5250000.0  # upper-left corner, UTM 33N (the eastern Alps)
NODATA = -9999.0
LAKE_U, LAKE_V, LAKE_R = 0.36, 0.68, 0.045  # centre and radius, fractions of the extent

# (u, v, height m, sigma): mountains, as fractions of the extent.
MOUNTAINS = [
    (0.72, 0.22, 1900.0, 0.11),
    (0.22, 0.28, 1300.0, 0.09),
    (0.55, 0.55, 700.0, 0.16),
    (0.85, 0.80, 1000.0, 0.07),
    (0.10, 0.85, 500.0, 0.12),
]

NAMES = [
    "summit", "spring", "hut", "pass", "chapel", "bridge", "weir", "mill",
    "hut, north", "lake shore, east", "col, upper", "ridge, west",
]


def terrain(u, v):
    """Elevation in metres at fractional positions u (east), v (south)."""
    z = 420.0 + 250.0 * v  # a gentle regional slope
    for mu, mv, h, s in MOUNTAINS:
        z = z + h * np.exp(-((u - mu) ** 2 + (v - mv) ** 2) / (2.0 * s * s))
    z = z + 60.0 * np.sin(2 * np.pi * 3.0 * u) * np.cos(2 * np.pi * 2.0 * v)
    z = z + 9.0 * np.sin(2 * np.pi * (5.0 * u + 3.0 * v))
    z = z + 6.0 * np.sin(2 * np.pi * (-4.0 * u + 9.0 * v) + 1.0)
    return z


def in_lake(u, v):
    return (u - LAKE_U) ** 2 + (v - LAKE_V) ** 2 < LAKE_R ** 2


def write_dem(path, size):
    drv = gdal.GetDriverByName("GTiff")
    opts = ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "COMPRESS=DEFLATE",
            "PREDICTOR=3", "BIGTIFF=IF_SAFER"]
    ds = drv.Create(path, size, size, 1, gdal.GDT_Float32, opts)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    ds.SetGeoTransform([X0, PIXEL, 0.0, Y0, 0.0, -PIXEL])
    band = ds.GetRasterBand(1)
    band.SetNoDataValue(NODATA)
    band.SetDescription("elevation")
    band.SetUnitType("m")
    # Pixel centres, in fractions of the extent; rows in chunks of 256 to
    # keep memory small whatever the size.
    u = (np.arange(size, dtype=np.float64) + 0.5) / size
    lake_pixels = 0
    for r0 in range(0, size, 256):
        r1 = min(size, r0 + 256)
        v = ((np.arange(r0, r1, dtype=np.float64) + 0.5) / size)[:, None]
        z = terrain(u[None, :], v)
        lake = in_lake(u[None, :], v)
        z = np.where(lake, NODATA, z).astype(np.float32)
        lake_pixels += int(lake.sum())
        band.WriteArray(z, 0, r0)
    band = None
    ds = None  # closes and flushes (Dataset.Close() is GDAL >= 3.8)
    return lake_pixels


def write_points(path, n, size, seed):
    rng = np.random.default_rng(seed)
    n_outside = max(1, n // 100) if n >= 3 else 0  # 1%
    n_lake = max(1, n * 4 // 100) if n >= 3 else 0  # 4%
    n_land = n - n_outside - n_lake
    # Land: uniform over the raster (a few land up in the lake too).
    land = rng.random((n_land, 2))
    # Lake: uniform in a disc well inside the shore.
    ang = rng.random(n_lake) * 2 * np.pi
    rad = np.sqrt(rng.random(n_lake)) * LAKE_R * 0.9
    lake = np.column_stack([LAKE_U + rad * np.cos(ang), LAKE_V + rad * np.sin(ang)])
    # Outside: in a band up to 10% of the extent around the raster.
    out = np.empty((0, 2))
    while len(out) < n_outside:
        c = rng.random((n_outside * 3, 2)) * 1.2 - 0.1
        keep = (c < 0.0).any(axis=1) | (c > 1.0).any(axis=1)
        out = np.vstack([out, c[keep]])
    out = out[:n_outside]
    uv = np.vstack([land, lake, out])
    uv = uv[rng.permutation(len(uv))]
    extent = size * PIXEL
    x = X0 + uv[:, 0] * extent
    y = Y0 - uv[:, 1] * extent
    names = rng.integers(0, len(NAMES), len(uv))
    with open(path, "w", encoding="ascii", newline="") as f:
        f.write("id,x,y,name\n")
        for i in range(len(uv)):
            f.write('%d,%.2f,%.2f,"%s %d"\n' % (i + 1, x[i], y[i], NAMES[names[i]], i + 1))
    return n_land, n_lake, n_outside


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir", help="output folder (created if missing)")
    ap.add_argument("--size", type=int, default=4096, help="raster width and height (4096)")
    ap.add_argument("--points", type=int, default=200000, help="number of points (200000)")
    ap.add_argument("--seed", type=int, default=42, help="random seed (42)")
    a = ap.parse_args()
    if a.size < 1 or a.points < 0:
        ap.error("--size must be >= 1 and --points >= 0")
    os.makedirs(a.outdir, exist_ok=True)
    t0 = time.time()
    dem = os.path.join(a.outdir, "dem.tif")
    lake_pixels = write_dem(dem, a.size)
    t1 = time.time()
    print("wrote %s: %dx%d Float32, EPSG:32633, %g m pixels, 256x256 DEFLATE tiles, "
          "nodata %g in %d lake pixels, %.1f MB, %.1fs"
          % (dem, a.size, a.size, PIXEL, NODATA, lake_pixels,
             os.path.getsize(dem) / 1e6, t1 - t0))
    pts = os.path.join(a.outdir, "points.csv")
    n_land, n_lake, n_out = write_points(pts, a.points, a.size, a.seed)
    print("wrote %s: %d points (%d on land, %d in the lake, %d off the raster), "
          "seed %d, %.1f MB, %.1fs"
          % (pts, a.points, n_land, n_lake, n_out, a.seed,
             os.path.getsize(pts) / 1e6, time.time() - t1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
