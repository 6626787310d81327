#!/usr/bin/python3
"""cli_zonal — every option and bad input of `rasterpool zonal`, end to end.

Expected values are computed by hand on small rasters whose cells are
1 x 1 (a square polygon over whole cells covers them exactly): counts,
sums, empty values for polygons off the raster / on nodata only / with no
geometry, input order, --include-col, --status, -b, -o CSV and vector
formats (read back with OGR), staged output (no leftovers), polygons from a
CSV with a WKT column, --plan (no output written), a corrupt block
(read_error, exit 1, the rest complete), and the usage errors (exit 2) and
unopenable inputs (exit 3), each with a message naming the culprit.
Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 cli_zonal.py
"""
import csv
import io
import os
import stat as st
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
import numpy as np  # noqa: E402

import rptest  # noqa: E402
from rptest import ogr, osr  # noqa: E402

W, H = 100, 80
GT = (0.0, 1.0, 0.0, 80.0, 0.0, -1.0)  # cell (c, r) is [c, c+1] x [79-r, 80-r]


def square(x0, y0, x1, y1):
    return "POLYGON((%g %g, %g %g, %g %g, %g %g, %g %g))" % (x0, y0, x1, y0, x1, y1, x0, y1,
                                                             x0, y0)


def write_polys(path, rows, driver="GPKG"):
    """rows: (pid, name, wkt or None)."""
    ds = ogr.GetDriverByName(driver).CreateDataSource(path)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    lyr = ds.CreateLayer("zones", srs, ogr.wkbPolygon)
    lyr.CreateField(ogr.FieldDefn("pid", ogr.OFTInteger))
    lyr.CreateField(ogr.FieldDefn("name", ogr.OFTString))
    for pid, name, wkt in rows:
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetField("pid", pid)
        f.SetField("name", name)
        if wkt:
            f.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        lyr.CreateFeature(f)
    ds = None


def setup(d):
    a = np.arange(W * H, dtype=np.float64).reshape(H, W) % 97
    a[70:80, 0:10] = -1  # nodata in the bottom-left corner
    b2 = a * 2
    rptest.create_raster(d + "/r.tif", np.stack([a, b2]), "Float32", gt=GT, nodata=-1,
                         srs="EPSG:32633", block=(32, 32))
    rows = [(10, "whole 2x3", square(10, 50, 12, 53)),
            (11, "off the raster", square(200, 200, 210, 210)),
            (12, "nodata only", square(1, 1, 4, 4)),
            (13, "no geometry", None),
            (14, 'half, "quoted"', square(20.5, 40, 21.5, 41))]
    write_polys(d + "/p.gpkg", rows)
    return a, b2, rows


def expected_square(a, x0, y0, x1, y1):
    """cells of [x0,x1] x [y0,y1] (whole cells): rows 80-y1 .. 80-y0."""
    return a[80 - y1:80 - y0, x0:x1]


def zonal(args, **kw):
    return rptest.rp(["zonal"] + [str(x) for x in args] + ["-q"], **kw)


def parse(text):
    return list(csv.DictReader(io.StringIO(text)))


def cases(T, d):
    a, b2, rows = setup(d)
    base = [d + "/r.tif", "--polygons", d + "/p.gpkg"]

    def basic(case):
        r = zonal(base + ["-b", "1", "-s", "count", "-s", "sum", "-s", "mean", "--status"])
        T.check(case, r.code == 0, r.describe())
        got = parse(r.text)
        T.check(case, [g["pid"] for g in got] == ["10", "11", "12", "13", "14"], "input order")
        sq = expected_square(a, 10, 50, 12, 53)
        T.check(case, got[0]["count"] == "6" and float(got[0]["sum"]) == sq.sum(),
                "whole cells: %r vs sum %r" % (got[0], sq.sum()))
        T.check(case, [g["status"] for g in got] ==
                ["ok", "outside", "no_cells", "no_geometry", "ok"], str(got))
        T.check(case, all(got[i][k] == "" for i in (1, 2, 3) for k in ("count", "sum", "mean")),
                "empty values, never a silent zero: %r" % got[1:4])
        # half of cell (20, 39) and half of (21, 39)
        want = 0.5 * a[39, 20] + 0.5 * a[39, 21]
        T.check(case, abs(float(got[4]["sum"]) - want) < 1e-9 and got[4]["count"] == "1",
                "half cells: %r, want sum %r" % (got[4], want))
        T.check(case, got[4]["name"] == 'half, "quoted"', "CSV quoting of attributes")
    T.run_case("counts, sums, statuses, order", basic)

    def bands(case):
        r = zonal(base + ["-s", "max"])
        got = parse(r.text)
        T.check(case, r.code == 0 and list(got[0].keys()) == ["pid", "name", "b1_max", "b2_max"],
                "all bands by default, b<N>_ names: %r" % (list(got[0].keys()),))
        sq = expected_square(b2, 10, 50, 12, 53)
        T.check(case, float(got[0]["b2_max"]) == sq.max(), "band 2 max")
        r = zonal(base + ["-b", "1", "-s", "count", "--fid", "--include-col", "pid"])
        got = parse(r.text)
        T.check(case, r.code == 0 and list(got[0].keys()) == ["fid", "pid", "count"] and
                [g["fid"] for g in got] == ["1", "2", "3", "4", "5"], "--fid: %r" % got[:2])
        r = zonal(base + ["-b", "2", "-s", "top=max", "--include-col", "name"])
        got = parse(r.text)
        T.check(case, list(got[0].keys()) == ["name", "top"] and float(got[0]["top"]) == sq.max(),
                "-b 2, name=op, --include-col: %r" % got[0])
    T.run_case("bands, names, --include-col", bands)

    def lists(case):
        r = zonal(base + ["-b", "1", "-s", "values", "-s", "cell_id", "-s", "center_x", "-s",
                          "center_y", "-s", "coverage", "-s", "unique"])
        got = parse(r.text)
        T.check(case, r.code == 0, r.describe())
        # polygon 10 covers rows 27..29, columns 10..11, in raster order
        cells = [(27, 10), (27, 11), (28, 10), (28, 11), (29, 10), (29, 11)]
        want = {"values": "[%s]" % ",".join("%d" % a[r_, c_] for r_, c_ in cells),
                "cell_id": "[2710,2711,2810,2811,2910,2911]",
                "center_x": "[10.5,11.5,10.5,11.5,10.5,11.5]",
                "center_y": "[52.5,52.5,51.5,51.5,50.5,50.5]",
                "coverage": "[1,1,1,1,1,1]",
                "unique": "[%s]" % ",".join("%d" % v for v in
                                            sorted(set(a[r_, c_] for r_, c_ in cells)))}
        T.check(case, all(got[0][k] == v for k, v in want.items()),
                "polygon 10: %r, want %r" % (got[0], want))
        T.check(case, got[4]["coverage"] == "[0.5,0.5]" and got[4]["cell_id"] == "[3920,3921]",
                "half cells: %r" % got[4])
        T.check(case, all(got[i][k] == "" for i in (1, 2, 3) for k in want),
                "empty lists are empty fields: %r" % got[1:4])
    T.run_case("list-valued operations (CSV)", lists)

    def outputs(case):
        ref = zonal(base + ["-b", "1", "-s", "mean", "-s", "count", "--status"])
        for ext in ("csv", "gpkg", "geojson"):
            out = "%s/out.%s" % (d, ext)
            geom = ["--include-geom"] if ext == "fgb" else []
            r = zonal(base + ["-b", "1", "-s", "mean", "-s", "count", "--status", "-o", out] + geom)
            T.check(case, r.code == 0 and r.out == b"", "%s: %s" % (ext, r.describe()))
            if ext == "csv":
                T.check(case, open(out, "rb").read() == ref.out, "-o csv == stdout")
                continue
            ds = ogr.Open(out)
            feats = list(ds.GetLayer(0))
            T.check(case, len(feats) == 5, "%s: %d features" % (ext, len(feats)))
            want = parse(ref.text)
            for f, w in zip(feats, want):
                m = f.GetField("mean")
                T.check(case, (m is None and w["mean"] == "") or
                        (w["mean"] != "" and abs(m - float(w["mean"])) < 1e-9),
                        "%s: mean %r vs CSV %r" % (ext, m, w["mean"]))
                T.check(case, f.GetField("status") == w["status"], "%s: status" % ext)
        r = zonal(base + ["-s", "mean", "-o", d + "/nogeom.fgb"])
        T.check(case, r.code == 2 and "--include-geom" in r.err, "fgb without geometry: " +
                r.describe())
        r = zonal(base + ["-b", "1", "-s", "count", "--include-geom"])
        got = parse(r.text)
        T.check(case, got[0]["wkt"].startswith("POLYGON ((10 50,") and got[3]["wkt"] == "",
                "--include-geom in CSV: %r" % got[0])
        r = zonal(base + ["-s", "mean", "-o", d + "/holes.fgb", "--include-geom"])
        T.check(case, r.code == 3 and "FID 4" in r.err and not os.path.exists(d + "/holes.fgb"),
                "fgb and a polygon without geometry: refused, nothing written: " + r.describe())
        write_polys(d + "/allgeom.gpkg", [x for x in rows if x[2]])
        r = zonal([d + "/r.tif", "--polygons", d + "/allgeom.gpkg", "-s", "mean",
                   "-o", d + "/out.fgb", "--include-geom"])
        T.check(case, r.code == 0, r.describe())
        ds = ogr.Open(d + "/out.fgb")
        areas = [(f.GetField("pid"), f.GetGeometryRef().GetArea()) for f in ds.GetLayer(0)]
        ds = None
        T.check(case, [a[0] for a in areas] == [10, 11, 12, 14] and abs(areas[0][1] - 6) < 1e-9,
                "fgb: geometry kept, input order: %r" % areas)
        left = [n for n in os.listdir(d) if ".rp-tmp-" in n or n.startswith(".rasterpool")]
        T.check(case, not left, "staging leftovers: %r" % left)
    T.run_case("-o CSV and vector formats, staged", outputs)

    def wkt_csv(case):
        with open(d + "/w.csv", "w") as f:
            f.write("id,WKT\n1,\"%s\"\n2,\"%s\"\n" % (square(10, 50, 12, 53), square(0, 0, 1, 1)))
        r = zonal([d + "/r.tif", "--polygons", d + "/w.csv", "-b", "1", "-s", "count"])
        got = parse(r.text)
        T.check(case, r.code == 0 and [g["count"] for g in got] == ["6", ""],
                "CSV with a WKT column: " + r.describe() + repr(got))
    T.run_case("polygons from a CSV with WKT", wkt_csv)

    def plan(case):
        r = zonal(base + ["-s", "mean", "--plan", "-o", d + "/never.csv"])
        T.check(case, r.code == 0 and "blocks touched: 3 of 12" in r.text, r.describe() + r.text)
        T.check(case, not os.path.exists(d + "/never.csv"), "--plan wrote an output")
    T.run_case("--plan", plan)

    def corrupt(case):
        big = np.arange(64 * 64, dtype=np.float32).reshape(64, 64)
        rptest.create_raster(d + "/c.tif", big, "Float32", gt=(0, 1, 0, 64, 0, -1),
                             srs="EPSG:32633", block=(32, 32))
        rptest.corrupt_blocks(d + "/c.tif", [(1, 0)])
        write_polys(d + "/cp.gpkg", [(1, "in bad block", square(40, 40, 42, 42)),
                                     (2, "good", square(1, 1, 3, 3))])
        r = zonal([d + "/c.tif", "--polygons", d + "/cp.gpkg", "-s", "count", "--status"])
        got = parse(r.text)
        T.check(case, r.code == 1, "exit 1: " + r.describe())
        T.check(case, [g["status"] for g in got] == ["read_error", "ok"] and
                got[1]["count"] == "4", repr(got))
        T.check(case, "block (1, 0)" in r.err, "the block is named: " + r.err)
    T.run_case("a corrupt block", corrupt)

    def bad(case):
        rot = d + "/rot.tif"
        rptest.create_raster(rot, np.zeros((8, 8)), "Float32", gt=(0, 1, 0.1, 8, 0.1, -1))
        usage = [
            ([d + "/r.tif", "-s", "mean"], "--polygons"),
            (["--polygons", d + "/p.gpkg", "-s", "mean"], "no raster"),
            (base, "no statistic"),
            (base + ["-s", "meen"], "unknown operation 'meen'"),
            (base + ["-s", "quantile"], "needs q="),
            (base + ["-s", "quantile(q=2)"], "q must be"),
            (base + ["-s", "mean(q=0.5)"], "quantile only"),
            (base + ["-s", "mean(bogus=1)"], "unknown argument 'bogus'"),
            (base + ["-s", "mean(coverage_weight=all)"], "coverage_weight"),
            (base + ["-s", "mean(coverage_weight=area_spherical_m2)"], "longitude/latitude"),
            (base + ["-s", "mean(min_coverage_frac=x)"], "min_coverage_frac"),
            (base + ["-s", "bad name=mean"], "column name"),
            (base + ["-s", "mean(q=1"], "end with ')'"),
            (base + ["-s", "weighted_mean"], "--weights"),
            ([d + "/r.tif", rot, "--polygons", d + "/p.gpkg", "-s", "mean"], "rotated"),
            (base + ["-s", "mean", "-b", "0"], "band"),
            (base + ["-s", "mean", "-b", "9"], "band"),
            (base + ["-s", "mean", "--include-col", "nope"], "nope"),
            (base + ["-s", "mean", "-o", d], "folder"),
            (base + ["-s", "mean", "-o", d + "/x.nosuchext"], "nosuchext"),
            ([rot, "--polygons", d + "/p.gpkg", "-s", "mean"], "rotated"),
            (base + ["-s", "weighted_sum", "--weights", rot], "grid"),
        ]
        for args, words in usage:
            r = zonal(args)
            T.check(case, r.code == 2 and words in r.err,
                    "want exit 2 with %r: %s" % (words, r.describe()))
        for args, words in [([d + "/none.tif", "--polygons", d + "/p.gpkg", "-s", "mean"],
                              "none.tif"),
                             ([d + "/r.tif", "--polygons", d + "/none.gpkg", "-s", "mean"],
                              "none.gpkg"),
                             (base + ["-s", "mean", "-o", d + "/no/such/x.csv"], "no/such")]:
            r = zonal(args)
            T.check(case, r.code == 3 and words in r.err,
                    "want exit 3 with %r: %s" % (words, r.describe()))
        r = zonal(["--help"])
        T.check(case, r.code == 0 and "usage: rasterpool zonal" in r.text, r.describe())
    T.run_case("usage errors and unopenable inputs", bad)
    georef_cases(T, d, base)
    output_cases(T, d, base)


def georef_cases(T, d, base):
    """Issue 15 item 2: a raster without a geotransform (GCP-only, RPC-only
    or none) reads as GDAL's identity geotransform; laying polygons over its
    pixel/line space would give plausible, wrong numbers. Refused, exit 2,
    naming what it has."""
    data = np.arange(64, dtype=np.uint8).reshape(8, 8)

    def make(name, gcps=False, rpc=False):
        p = "%s/%s.tif" % (d, name)
        ds = rptest.gdal.GetDriverByName("GTiff").Create(p, 8, 8, 1, rptest.gdal.GDT_Byte)
        if gcps:
            s = osr.SpatialReference()
            s.ImportFromEPSG(32633)
            ds.SetGCPs([rptest.gdal.GCP(10.0 + c, 53.0 - r, 0, c, r)
                        for r, c in ((0, 0), (0, 8), (8, 0), (8, 8))], s.ExportToWkt())
        if rpc:
            ds.SetMetadata({"LINE_OFF": "4", "SAMP_OFF": "4", "LAT_OFF": "45", "LONG_OFF": "10",
                            "HEIGHT_OFF": "0", "LINE_SCALE": "4", "SAMP_SCALE": "4",
                            "LAT_SCALE": "0.1", "LONG_SCALE": "0.1", "HEIGHT_SCALE": "1",
                            "LINE_NUM_COEFF": " ".join(["0", "0", "-1"] + ["0"] * 17),
                            "LINE_DEN_COEFF": " ".join(["1"] + ["0"] * 19),
                            "SAMP_NUM_COEFF": " ".join(["0", "1"] + ["0"] * 18),
                            "SAMP_DEN_COEFF": " ".join(["1"] + ["0"] * 19)}, "RPC")
        ds.GetRasterBand(1).WriteArray(data)
        ds = None
        T.check(case_holder[0], rptest.gdal.Open(p).GetGeoTransform(can_return_null=True) is None,
                "%s: oracle sees no geotransform" % name)
        return p

    def refused(case):
        case_holder[0] = case
        for name, kw, words in (("gcps", {"gcps": True}, ["4 GCPs", "no geotransform"]),
                                ("rpc", {"rpc": True}, ["RPC metadata", "no geotransform"]),
                                ("bare", {}, ["no geotransform, GCPs, RPCs"])):
            p = make(name, **kw)
            r = zonal([p, "--polygons", d + "/p.gpkg", "-s", "count", "-o", d + "/g.csv"])
            T.check(case, r.code == 2 and all(w in r.err for w in words) and p in r.err,
                    "%s: want exit 2 naming %r: %s" % (name, words, r.describe()))
            T.check(case, not os.path.exists(d + "/g.csv"), "%s: an output was written" % name)
        # as a second raster or the weights, the same
        g = d + "/gcps.tif"
        for args in ([d + "/r.tif", g] + base[1:], base + ["--weights", g]):
            r = zonal(args + ["-s", "count"] if "--weights" not in args else
                      args + ["-s", "weighted_sum"])
            T.check(case, r.code == 2 and "no geotransform" in r.err and g in r.err,
                    "second raster / weights without a geotransform: " + r.describe())
    case_holder = [None]
    T.run_case("no geotransform: refused (issue 15 item 2)", refused)


def output_cases(T, d, base):
    """Issue 17 item 3: -o that is one of the inputs (the polygons, a raster,
    the weights, through a link or another spelling, a shapefile's .dbf) is
    refused before any work, exit 2, the input untouched; /dev/stdout and a
    FIFO are written directly (no staged file renamed over them)."""
    def digest(p):
        with open(p, "rb") as f:
            return f.read()

    def refused(case):
        write_polys(d + "/ps.shp", [(1, "a", square(10, 50, 12, 53))], driver="ESRI Shapefile")
        os.symlink(d + "/r.tif", d + "/link.tif")
        shp = [d + "/r.tif", "--polygons", d + "/ps.shp"]
        for args, out, victim in (
                (base, d + "/p.gpkg", d + "/p.gpkg"),
                (base, d + "/r.tif", d + "/r.tif"),
                (base, d + "/link.tif", d + "/r.tif"),
                (base, d + "/./r.tif", d + "/r.tif"),
                (base + ["--weights", d + "/p2.tif"], d + "/p2.tif", d + "/p2.tif"),
                (shp, d + "/ps.shp", d + "/ps.shp"),
                (shp, d + "/ps.dbf", d + "/ps.dbf")):
            if victim.endswith("p2.tif") and not os.path.exists(victim):
                rptest.create_raster(victim, np.ones((H, W)), "Float32", gt=GT,
                                     srs="EPSG:32633", block=(32, 32))
            before = digest(victim)
            stat = "weighted_sum" if "--weights" in args else "count"
            r = zonal(args + ["-b", "1", "-s", stat, "-o", out])
            T.check(case, r.code == 2 and "is also an input" in r.err and out in r.err,
                    "-o %s: want exit 2, 'is also an input': %s" % (out, r.describe()))
            T.check(case, digest(victim) == before, "%s was changed" % victim)
        r = zonal(base + ["-b", "1", "-s", "count", "--plan", "-o", d + "/p.gpkg"])
        T.check(case, r.code == 0, "--plan writes nothing, so -o is not checked: " + r.describe())
    T.run_case("-o that is an input: refused (issue 17 item 3)", refused)

    def direct(case):
        ref = zonal(base + ["-b", "1", "-s", "count", "-s", "mean"])
        r = zonal(base + ["-b", "1", "-s", "count", "-s", "mean", "-o", "/dev/stdout"])
        T.check(case, r.code == 0 and r.out == ref.out and ref.out.count(b"\n") == 6,
                "-o /dev/stdout == standard output: " + r.describe())
        fifo = d + "/fifo.csv"
        os.mkfifo(fifo)
        got = {}

        def reader():
            with open(fifo, "rb") as f:
                got["bytes"] = f.read()
        t = threading.Thread(target=reader)
        t.start()
        r = zonal(base + ["-b", "1", "-s", "count", "-s", "mean", "-o", fifo], timeout=60)
        if r.code != 0:  # let the reader go
            with open(fifo, "wb"):
                pass
        t.join(60)
        T.check(case, r.code == 0 and got.get("bytes") == ref.out,
                "-o FIFO: %s; read %r" % (r.describe(), got.get("bytes", b"")[:80]))
        T.check(case, st.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced by a file")
        left = [n for n in os.listdir(d) if ".rp-tmp-" in n or n.startswith(".rasterpool")]
        T.check(case, not left, "staging leftovers: %r" % left)
    T.run_case("-o /dev/stdout and a FIFO: written directly", direct)


def main():
    T = rptest.Tester("cli_zonal")
    with tempfile.TemporaryDirectory(prefix="rp_cli_zonal_") as d:
        cases(T, d)
    T.finish()


if __name__ == "__main__":
    main()
