#!/usr/bin/python3
"""oracle_points_crs — points in another CRS than the raster's.

  - lon/lat CSV (EPSG:4326) with --points-crs EPSG:4326 against a UTM 33N
    raster (EPSG:32633) and a web-mercator raster (EPSG:3857): the oracle
    transforms the points itself with osr (OAMS_TRADITIONAL_GIS_ORDER,
    x = lon) and indexes the whole-band array; gdallocationinfo is given the
    transformed points. Points within 1e-6 pixel of a cell edge are not
    compared with gdallocationinfo (formula-dependent);
  - a GeoPackage point layer declaring EPSG:4326, no --points-crs: the
    points must be transformed automatically; CSV output columns are x, y,
    the attribute fields, then the values (two rasters in two CRSs at once);
  - the same with -o out.gpkg: read back with ogr, fields carried, value
    fields present with the right values and types, geometry = input point.
Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 oracle_points_crs.py
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

import rptest  # noqa: E402
from rptest import ogr, osr  # noqa: E402

W, H = 300, 217
UTM_GT = (495000.0, 30.0, 0.0, 4990000.0, 0.0, -30.0)       # EPSG:32633, near 15E 45N
MERC_GT = (1650000.0, 150.0, 0.0, 5640000.0, 0.0, -150.0)   # EPSG:3857, same area


def srs(code):
    s = osr.SpatialReference()
    s.SetFromUserInput(code)
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return s


def transform(xs, ys, src, dst):
    ct = osr.CoordinateTransformation(srs(src), srs(dst))
    out = ct.TransformPoints([(float(x), float(y)) for x, y in zip(xs, ys)])
    return np.array([p[0] for p in out]), np.array([p[1] for p in out])


def make_rasters(tmp):
    rng = np.random.default_rng(3)
    utm = rptest.create_raster(os.path.join(tmp, "utm.tif"), rng.normal(0, 100, (H, W)),
                               "Float32", gt=UTM_GT, srs="EPSG:32633", nodata=-9999.0)
    merc = rptest.create_raster(os.path.join(tmp, "merc.tif"),
                                rng.integers(-30000, 30000, (H, W)), "Int16", gt=MERC_GT,
                                srs="EPSG:3857", block=(32, 32))
    return utm, merc


def lonlat_points(gt, crs, seed, n=1500):
    xs, ys = rptest.random_points(gt, W, H, n_inside=n, n_outside=200, n_edge=100, seed=seed)
    return transform(xs, ys, crs, "EPSG:4326")


def csv_case(case, tmp, T, raster, gt, crs, seed):
    lon, lat = lonlat_points(gt, crs, seed)
    pts = os.path.join(tmp, "ll_%d.csv" % seed)
    lines = rptest.write_points_csv(pts, lon, lat, header=("id", "lon", "lat"))
    # the oracle transforms what was written (text parsed back)
    lon2 = np.array([float(l.split(",")[1]) for l in lines[1:]])
    lat2 = np.array([float(l.split(",")[2]) for l in lines[1:]])
    tx, ty = transform(lon2, lat2, "EPSG:4326", crs)
    o = rptest.ArrayOracle(raster)
    r = rptest.extract([raster, "--points", pts, "--points-crs", "EPSG:4326", "--status"])
    rptest.compare_extract(T, case, r, tx, ty, o, [1], lines, status=True)


def write_gpkg(path, lon, lat):
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    lyr = ds.CreateLayer("pts", srs("EPSG:4326"), ogr.wkbPoint)
    lyr.CreateField(ogr.FieldDefn("id", ogr.OFTInteger))
    lyr.CreateField(ogr.FieldDefn("name", ogr.OFTString))
    lyr.CreateField(ogr.FieldDefn("weight", ogr.OFTReal))
    attrs = []
    for i, (x, y) in enumerate(zip(lon, lat)):
        f = ogr.Feature(lyr.GetLayerDefn())
        name = 'p%d, "q" ;%d' % (i, i % 7)
        weight = i * 0.25 - 3.0
        f.SetField("id", i)
        f.SetField("name", name)
        f.SetField("weight", weight)
        g = ogr.Geometry(ogr.wkbPoint)
        g.AddPoint_2D(float(x), float(y))
        f.SetGeometry(g)
        lyr.CreateFeature(f)
        attrs.append((i, name, weight))
    ds = None
    return attrs


def gpkg_points(tmp):
    lon1, lat1 = lonlat_points(UTM_GT, "EPSG:32633", 41, n=700)
    lon2, lat2 = lonlat_points(MERC_GT, "EPSG:3857", 42, n=700)
    lon = np.concatenate([lon1, lon2])
    lat = np.concatenate([lat1, lat2])
    path = os.path.join(tmp, "pts.gpkg")
    attrs = write_gpkg(path, lon, lat)
    return path, lon, lat, attrs


def expected(raster, crs, lon, lat):
    tx, ty = transform(lon, lat, "EPSG:4326", crs)
    o = rptest.ArrayOracle(raster)
    st, pix, _, _ = o.expect(tx, ty, 1)
    return st, pix, o.dtype[1], o.near_edge(tx, ty)


def gpkg_csv_case(case, tmp, T):
    utm, merc = make_rasters(tmp)
    path, lon, lat, attrs = gpkg_points(tmp)
    r = rptest.extract([utm, merc, "--points", path, "--status"])
    if not T.check(case, r.code == 0, "exit %s\n    %s" % (r.code, r.describe())):
        return
    header, rows = rptest.parse_csv(r.text)
    want = ["x", "y", "id", "name", "weight", "utm_b1", "utm_b1_status", "merc_b1", "merc_b1_status"]
    if not T.check(case, header == want, "header %r, want %r\n    %s" % (header, want, r.cmd)):
        return
    if not T.check(case, len(rows) == len(lon), "%d rows, want %d" % (len(rows), len(lon))):
        return
    bad = [i for i, row in enumerate(rows) if len(row) != len(want)]
    if not T.check(case, not bad, "%d rows do not have %d fields, e.g. row %s: %r" % (
            len(bad), len(want), bad[:1], rows[bad[0]] if bad else None)):
        return
    lim = rptest.Limited(T, case)
    for k, (raster, crs) in enumerate([(utm, "EPSG:32633"), (merc, "EPSG:3857")]):
        st, pix, t, near = expected(raster, crs, lon, lat)
        vi, si = 5 + 2 * k, 6 + 2 * k
        for i, row in enumerate(rows):
            if k == 0:
                try:
                    okxy = float(row[0]) == lon[i] and float(row[1]) == lat[i]
                except ValueError:
                    okxy = False
                if not okxy:
                    lim.add("row %d: x,y %r,%r, want the stored %r,%r" % (i, row[0], row[1], lon[i], lat[i]))
                aid, aname, aw = attrs[i]
                try:
                    okattr = int(row[2]) == aid and row[3] == aname and float(row[4]) == aw
                except ValueError:
                    okattr = False
                if not okattr:
                    lim.add("row %d: attributes %r, want %r" % (i, row[2:5], attrs[i]))
            if near[i]:
                continue
            if st[i] == "ok":
                err = "empty" if row[vi] == "" else rptest.check_value_text(t, row[vi], pix[i])
                if err:
                    lim.add("row %d %s: %r vs pixel %r: %s" % (i, header[vi], row[vi], pix[i], err))
            elif row[vi] != "":
                lim.add("row %d %s: %r, want empty (%s)" % (i, header[vi], row[vi], st[i]))
            if row[si] != st[i]:
                lim.add("row %d %s: %r, want %r" % (i, header[si], row[si], st[i]))
    lim.flush(r.cmd + "\n    ")
    nin = sum(1 for s in expected(utm, "EPSG:32633", lon, lat)[0] if s == "ok")
    T.check(case, nin > 500, "test setup: only %d points fall in the UTM raster" % nin)


def gpkg_out_case(case, tmp, T):
    utm, merc = make_rasters(tmp)
    path, lon, lat, attrs = gpkg_points(tmp)
    out = os.path.join(tmp, "out.gpkg")
    r = rptest.extract([utm, merc, "--points", path, "--status", "-o", out])
    if not T.check(case, r.code == 0, "exit %s\n    %s" % (r.code, r.describe())):
        return
    T.check(case, r.out == b"", "stdout should be empty with -o, got %r" % r.out[:200])
    ds = ogr.Open(out)
    if not T.check(case, ds is not None and ds.GetLayerCount() >= 1, "cannot read %s back" % out):
        return
    lyr = ds.GetLayer(0)
    defn = lyr.GetLayerDefn()
    names = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())]
    want = ["id", "name", "weight", "utm_b1", "utm_b1_status", "merc_b1", "merc_b1_status"]
    if not T.check(case, names == want, "fields %r, want %r" % (names, want)):
        return
    ftype = {defn.GetFieldDefn(i).GetName(): defn.GetFieldDefn(i).GetType() for i in range(len(names))}
    T.check(case, ftype["utm_b1"] == ogr.OFTReal, "utm_b1 (Float32) field type %s, want Real" %
            ogr.GetFieldTypeName(ftype["utm_b1"]))
    T.check(case, ftype["merc_b1"] in (ogr.OFTInteger, ogr.OFTInteger64),
            "merc_b1 (Int16) field type %s, want Integer/Integer64" % ogr.GetFieldTypeName(ftype["merc_b1"]))
    for s in ("utm_b1_status", "merc_b1_status"):
        T.check(case, ftype[s] == ogr.OFTString, "%s field type %s, want String" % (
            s, ogr.GetFieldTypeName(ftype[s])))
    feats = list(lyr)
    if not T.check(case, len(feats) == len(lon), "%d features, want %d" % (len(feats), len(lon))):
        return
    exp = [expected(utm, "EPSG:32633", lon, lat), expected(merc, "EPSG:3857", lon, lat)]
    lim = rptest.Limited(T, case)
    for i, f in enumerate(feats):
        g = f.GetGeometryRef()
        if g is None or g.GetX() != lon[i] or g.GetY() != lat[i]:
            lim.add("feature %d: geometry %s, want POINT (%r %r)" % (
                i, g.ExportToWkt() if g else None, lon[i], lat[i]))
        if (f.GetField("id"), f.GetField("name"), f.GetField("weight")) != attrs[i]:
            lim.add("feature %d: attributes %r, want %r" % (
                i, (f.GetField("id"), f.GetField("name"), f.GetField("weight")), attrs[i]))
        for k, col in enumerate(("utm_b1", "merc_b1")):
            st, pix, t, near = exp[k]
            if near[i]:
                continue
            v = f.GetField(col) if f.IsFieldSetAndNotNull(col) else None
            if st[i] == "ok":
                if v is None or v != pix[i]:
                    lim.add("feature %d %s: %r, want %r" % (i, col, v, pix[i]))
            elif v is not None:
                lim.add("feature %d %s: %r, want null (%s)" % (i, col, v, st[i]))
            s = f.GetField(col + "_status")
            if s != st[i]:
                lim.add("feature %d %s_status: %r, want %r" % (i, col, s, st[i]))
    lim.flush(r.cmd + "\n    ")


def main():
    T = rptest.Tester("oracle_points_crs")
    rptest.binary()
    with tempfile.TemporaryDirectory(prefix="rp_crs_") as tmp:
        utm, merc = make_rasters(tmp)
        T.run_case("lon/lat CSV --points-crs EPSG:4326 vs UTM 33N raster", csv_case, tmp, T,
                   utm, UTM_GT, "EPSG:32633", 31)
        T.run_case("lon/lat CSV --points-crs EPSG:4326 vs web-mercator raster", csv_case, tmp, T,
                   merc, MERC_GT, "EPSG:3857", 32)
        T.run_case("GeoPackage EPSG:4326 points, automatic transform, CSV out", gpkg_csv_case, tmp, T)
        T.run_case("GeoPackage EPSG:4326 points, -o out.gpkg read back", gpkg_out_case, tmp, T)
    T.finish()


if __name__ == "__main__":
    main()
