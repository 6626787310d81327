"""zonal_fixture — the zonal test data shared by cli_mpi.py and
cli_shard.py: a small raster with nodata, 61 polygons of every kind (cell
rectangles, triangles, off the raster, no geometry, a bow-tie), and the
numpy oracle for the rectangles' count and mean."""
import csv
import io
import os

import numpy as np

import rptest


def zonal_data(tmp, tag):
    """A 200x150 Float32 raster (32x32 tiles, nodata -9999 in a corner) and
    61 polygons (GeoPackage): 40 rectangles on cell edges (the oracle's), 15
    triangles, 3 off the raster, one without geometry, one bow-tie (invalid:
    repaired, exit 1), one more rectangle. Returns the raster, the
    polygons and the rectangles' cell windows by feature index."""
    from osgeo import ogr, osr
    rng = np.random.default_rng(21)
    data = (rng.random((150, 200)) * 100).astype(np.float32)
    data[:12, :12] = -9999
    raster = rptest.create_raster(os.path.join(tmp, "z_%s.tif" % tag), data, "Float32",
                                  gt=(0.0, 1.0, 0.0, 150.0, 0.0, -1.0), nodata=-9999,
                                  block=(32, 32), srs="EPSG:32633")
    path = os.path.join(tmp, "z_%s.gpkg" % tag)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    lyr = ds.CreateLayer("polys", srs, ogr.wkbPolygon)
    lyr.CreateField(ogr.FieldDefn("name", ogr.OFTString))
    wkts, windows = [], {}
    for i in range(40):
        c0, r0 = int(rng.integers(0, 180)), int(rng.integers(0, 130))
        c1, r1 = c0 + int(rng.integers(1, 20)), r0 + int(rng.integers(1, 20))
        windows[len(wkts)] = (c0, c1, r0, r1)
        wkts.append("POLYGON((%d %d,%d %d,%d %d,%d %d,%d %d))" % (
            c0, 150 - r0, c1, 150 - r0, c1, 150 - r1, c0, 150 - r1, c0, 150 - r0))
    for i in range(15):
        x, y = rng.uniform(0, 190, 3), rng.uniform(0, 140, 3)
        wkts.append("POLYGON((%f %f,%f %f,%f %f,%f %f))" % (
            x[0], y[0], x[1] + 9, y[1], x[2], y[2] + 9, x[0], y[0]))
    for i in range(3):
        wkts.append("POLYGON((%d 500,%d 500,%d 510,%d 510,%d 500))" % (
            300 + i, 320 + i, 320 + i, 300 + i, 300 + i))
    wkts.append(None)
    wkts.append("POLYGON((10 10,30 30,30 10,10 30,10 10))")
    wkts.append("POLYGON((50 50,60 50,60 60,50 60,50 50))")
    windows[len(wkts) - 1] = (50, 60, 90, 100)
    for i, w in enumerate(wkts):
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetField("name", "poly %d" % i)
        if w:
            f.SetGeometry(ogr.CreateGeometryFromWkt(w))
        lyr.CreateFeature(f)
    ds = None
    return data, raster, path, windows


ZONAL_STATS = ["-s", "mean", "-s", "count", "-s", "median", "-s", "values", "--status", "--fid"]


def check_zonal_numpy(T, case, text, data, windows):
    """The rectangles' count and mean are numpy's over their cells."""
    lim = rptest.Limited(T, case)
    rows = list(csv.reader(io.StringIO(text)))
    head = rows[0]
    for i, (c0, c1, r0, r1) in windows.items():
        row = dict(zip(head, rows[1 + i]))
        win = data[r0:r1, c0:c1].astype(np.float64)
        valid = win[win != -9999]
        if int(row["count"] or 0) != valid.size:
            lim.add("polygon %d: count %s, numpy %d" % (i, row["count"], valid.size))
        elif valid.size and abs(float(row["mean"]) - valid.mean()) > 1e-9 * abs(valid.mean()):
            lim.add("polygon %d: mean %s, numpy %r" % (i, row["mean"], valid.mean()))
    lim.flush("plain vs numpy: ")
