#!/usr/bin/python3
"""cli_real_data — what real rasters and point files broke (issue 15), each
case built here shaped like the real one, checked against GDAL's own reads
(python3-gdal, gdallocationinfo, GDAL's transformers) or by hand.

Cases (issue 15 item): signed bytes on GDAL 3.6 (3), a NUL byte in a
coordinate (5), points exactly on interior corners of rotated grids (6),
rasters without a geotransform (2), a raster whose CRS cannot be reached
(7), duplicate x/y columns (8), Shapefile field names (9), MultiPoints
(10), every row bad (11), coordinate column names and WKT geometry (12),
--names desc and netCDF variables (13), --unscale (14), the corrupt-block
message (16), --plan texts and complex values (17).
Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 cli_real_data.py
"""
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
import numpy as np  # noqa: E402

import rptest  # noqa: E402
from rptest import gdal, ogr, osr  # noqa: E402


class Env:
    def __init__(self, tmp):
        self.tmp = tmp

    def p(self, name):
        return os.path.join(self.tmp, name)


def run_csv(T, case, args, stdin=None, code=0):
    """Runs extract; checks the exit code; returns (header, rows, run)."""
    r = rptest.extract(args, stdin=stdin)
    T.check(case, r.code == code, "exit %s, want %s\n    %s" % (r.code, code, r.describe()))
    header, rows = rptest.parse_csv(r.text) if r.out else ([], [])
    return header, rows, r


# ---- item 3: signed bytes --------------------------------------------------


def case_signed_byte(case, E, T):
    path = E.p("signed.tif")
    vals = np.array([[-20, -128, 0, 127], [1, -1, 5, -5], [100, -100, 3, 4]], dtype=np.int8)
    ds = gdal.GetDriverByName("GTiff").Create(path, 4, 3, 1, gdal.GDT_Byte,
                                              ["PIXELTYPE=SIGNEDBYTE"])
    ds.SetGeoTransform([0, 1, 0, 3, 0, -1])
    ds.GetRasterBand(1).WriteArray(vals.view(np.uint8))
    ds.GetRasterBand(1).SetNoDataValue(-128)
    ds = None
    # the oracle: GDAL's Python reads of the band (numpy int8 on GDAL 3.6)
    ds = gdal.Open(path)
    want = ds.GetRasterBand(1).ReadAsArray().astype(np.int64)
    nodata = ds.GetRasterBand(1).GetNoDataValue()
    ds = None
    T.check(case, nodata == -128, "oracle: nodata %r" % nodata)
    lines = ["x,y"]
    cells = [(c, r) for r in range(3) for c in range(4)]
    for c, r in cells:
        lines.append("%s,%s" % (c + 0.5, 3 - r - 0.5))
    header, rows, _ = run_csv(T, case, [path, "--status"], stdin="\n".join(lines) + "\n")
    for (c, r), row in zip(cells, rows):
        v = int(want[r][c])
        exp = ("", "nodata") if v == -128 else (str(v), "ok")
        T.check(case, tuple(row[2:4]) == exp, "cell (%d,%d): %r, want %r" % (c, r, row[2:], exp))
    # a vector output carries them as integers too
    out = E.p("signed_out.gpkg")
    r = rptest.extract([path, "-o", out], stdin="x,y\n0.5,2.5\n")
    if T.check(case, r.code == 0, r.describe()):
        ds = ogr.Open(out)
        f = ds.GetLayer(0).GetNextFeature()
        T.check(case, f.GetField("b1") == -20, "gpkg b1 %r, want -20" % f.GetField("b1"))
        f = ds = None


# ---- item 5: a NUL byte inside a coordinate field ----------------------------


def small_raster(E, name="small.tif"):
    """4x3 Int16, values 10*row + col, pixel size 1, top-left (0, 3)."""
    rows, cols = np.mgrid[0:3, 0:4]
    return rptest.create_raster(E.p(name), rows * 10 + cols, "Int16",
                                gt=(0, 1, 0, 3, 0, -1), block=None, compress=None)


def case_nul_byte(case, E, T):
    r = small_raster(E)
    text = b"id,x,y\n1,9\x009.5,1\n2,0.5,2.5\n3,\"1\x00.5\",0.5\n4,1.5,0.5\x00\n"
    want = [("", "error"), ("0", "ok"), ("", "error"), ("", "error")]
    # standard input, a small file, and a file big enough to be read in parallel pieces
    big = E.p("nul_big.csv")
    filler = b"".join(b"%d,0.5,2.5\n" % (i + 10) for i in range(120000))
    with open(big, "wb") as f:
        f.write(text + filler + b"999,2\x005,0.5\n")
    small = E.p("nul.csv")
    with open(small, "wb") as f:
        f.write(text)
    for how, args, stdin in (("stdin", [], text), ("file", ["--points", small], None),
                             ("big file", ["--points", big], None)):
        c = "%s (%s)" % (case, how)
        header, rows, run = run_csv(T, c, [r, "--status"] + args, stdin=stdin, code=1)
        got = [tuple(row[3:5]) for row in rows[:4]]
        T.check(c, got == want, "values %r, want %r" % (got, want))
        T.check(c, "NUL byte" in run.err, "stderr does not name the NUL byte: %r" % run.err[:300])
        if how == "big file":
            T.check(c, rows and tuple(rows[-1][3:5]) == ("", "error"), "last row %r" % rows[-1:])


def main():
    T = rptest.Tester("cli_real_data")
    rptest.binary()
    with tempfile.TemporaryDirectory(prefix="rp_real_") as tmp:
        E = Env(tmp)
        for name, fn in [
            ("3 signed bytes", case_signed_byte),
            ("5 NUL byte in a coordinate", case_nul_byte),
        ]:
            T.run_case(name, fn, E, T)
    T.finish()


if __name__ == "__main__":
    main()
