#!/usr/bin/python3
"""cli_bad_input — bad input gets the documented outcome, never a crash.

Exit codes (DESIGN.md): 0 ok; 1 some rows/blocks failed, rest complete;
2 usage error (bad option, no x/y columns, unknown CRS, bad band);
3 input cannot be opened or read at all. Messages go to stderr prefixed
"rasterpool: "; bad rows as "rasterpool: FILE:LINE: reason" with the 1-based
physical line (header = line 1).
Cases: missing raster, not-a-raster, missing points file, CSV without x/y
columns (and --x-col naming no column), non-numeric / empty / missing
coordinates (line numbers counted across a quoted multi-line field, from a
file and from stdin), unknown CRS, header-only points file, 0-byte points
file (file and stdin), a corrupted tile in an otherwise valid GeoTIFF (one
block fails, the rest and another raster are complete), unknown options and
bad option values, -b 5 on a 1-band raster, no raster at all; an output
format that cannot hold the input's fields (list fields to .fgb/.shp: exit 2
before any pixel is read), and input fields whose type the output driver
changes (carried converted, not as raw bytes).
Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 cli_bad_input.py
"""
import os
import csv
import io
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
sys.path.insert(0, HERE)
import numpy as np  # noqa: E402

import rptest  # noqa: E402
from rptest import gdal, ogr  # noqa: E402

W, H = 300, 217
GT = (1000.0, 0.5, 0.0, 2000.0, 0.0, -0.25)


def index_raster(path, **kw):
    rows, cols = np.mgrid[0:H, 0:W]
    return rptest.create_raster(path, (rows * 1000 + cols).astype(np.int32), "Int32", gt=GT, **kw)


def check_stderr_prefix(T, case, r):
    lines = [l for l in r.err.split("\n") if l.strip()]
    bad = [l for l in lines if not l.startswith("rasterpool: ")]
    T.check(case, lines, "no message on stderr\n    %s" % r.describe())
    T.check(case, not bad, "stderr lines without the 'rasterpool: ' prefix: %r" % bad[:3])


def expect_fail(T, case, args, code, mentions=(), stdin=None):
    r = rptest.extract(args, stdin=stdin)
    T.check(case, r.code == code, "exit %s, want %s\n    %s" % (r.code, code, r.describe()))
    T.check(case, r.code != 0 or code == 0, "must not succeed")
    for m in mentions:
        T.check(case, m in r.err, "stderr does not mention %r\n    %s" % (m, r.describe()))
    if r.code != 0:
        check_stderr_prefix(T, case, r)
    T.check(case, isinstance(r.code, int) and r.code >= 0 and r.code < 128,
            "killed by a signal / crashed / timed out (exit %s)" % r.code)
    return r


class Env:
    def __init__(self, tmp):
        self.tmp = tmp
        self.r = index_raster(os.path.join(tmp, "good.tif"), block=(64, 64))
        self.o = rptest.ArrayOracle(self.r)
        xs, ys = rptest.random_points(GT, W, H, n_inside=40, n_outside=5, n_edge=5, seed=3)
        self.xs, self.ys = xs, ys
        self.pts = os.path.join(tmp, "pts.csv")
        self.lines = rptest.write_points_csv(self.pts, xs, ys)

    def p(self, name):
        return os.path.join(self.tmp, name)


def case_missing_raster(case, E, T):
    path = E.p("no_such_dir/nope_raster.tif")
    expect_fail(T, case, [path, "--points", E.pts], 3, mentions=["nope_raster.tif"])
    # the good raster first, the missing one second: still exit 3
    expect_fail(T, case + " (second raster)", [E.r, path, "--points", E.pts], 3,
                mentions=["nope_raster.tif"])


def case_not_a_raster(case, E, T):
    path = E.p("text_not_raster.tif")
    with open(path, "w") as f:
        f.write("this is not a raster\n")
    expect_fail(T, case, [path, "--points", E.pts], 3, mentions=["text_not_raster.tif"])
    # a vector dataset is not a raster either
    expect_fail(T, case + " (CSV as raster)", [E.pts, "--points", E.pts], 3,
                mentions=[os.path.basename(E.pts)])


def case_missing_points(case, E, T):
    path = E.p("missing_points.csv")
    expect_fail(T, case, [E.r, "--points", path], 3, mentions=["missing_points.csv"])
    path = E.p("missing_points.gpkg")
    expect_fail(T, case + " (.gpkg)", [E.r, "--points", path], 3, mentions=["missing_points.gpkg"])


def case_no_xy(case, E, T):
    path = E.p("noxy.csv")
    with open(path, "w") as f:
        f.write("id,a,b\n1,1000.5,1990.5\n")
    expect_fail(T, case, [E.r, "--points", path], 2, mentions=["--x-col"])
    with open(path, "rb") as f:
        expect_fail(T, case + " (stdin)", [E.r], 2, mentions=["--x-col"], stdin=f.read())
    # only one of the pair present
    path2 = E.p("onlyx.csv")
    with open(path2, "w") as f:
        f.write("id,x,b\n1,1000.5,1990.5\n")
    expect_fail(T, case + " (x without y)", [E.r, "--points", path2], 2, mentions=["--x-col"])
    # --x-col naming a column that is not there
    expect_fail(T, case + " (--x-col nope)", [E.r, "--points", E.pts, "--x-col", "nope", "--y-col", "y"],
                2, mentions=["nope"])


def bad_rows_file(E):
    """(text, bad physical lines, per-record (raw text, x, y or None))."""
    X = lambda i: rptest.fmt_coord(E.xs[i])  # noqa: E731
    Y = lambda i: rptest.fmt_coord(E.ys[i])  # noqa: E731
    recs = []  # (raw record, good?, point index)
    recs.append(("0,%s,%s,ok" % (X(0), Y(0)), True, 0))                 # line 2
    recs.append(("1,abc,%s,non-numeric x" % Y(1), False, 1))             # line 3
    recs.append(("2,%s,,empty y" % X(2), False, 2))                      # line 4
    recs.append(('3,%s,%s,"multi\nline"' % (X(3), Y(3)), True, 3))      # lines 5-6
    recs.append(("4,1.5x,%s,trailing junk" % Y(4), False, 4))            # line 7
    recs.append(("5,%s,%s,ok" % (X(5), Y(5)), True, 5))                 # line 8
    recs.append(("6,%s" % X(6), False, 6))                               # line 9: too short
    recs.append(('7,%s,%s,"a\n\nb"' % (X(7), Y(7)), True, 7))           # lines 10-12
    recs.append(("8,,,both empty", False, 8))                            # line 13
    recs.append(("9,%s,12..5,two dots" % X(9), False, 9))                # line 14
    recs.append(("10,%s,%s,ok" % (X(10), Y(10)), True, 10))              # line 15
    recs.append(("11,--1,%s,double sign" % Y(11), False, 11))            # line 16
    for i in range(12, 30):
        recs.append(("%d,%s,%s,ok" % (i, X(i), Y(i)), True, i))
    header = "id,x,y,note"
    lines_of = []
    line = 2
    for raw, good, i in recs:
        lines_of.append(line)
        line += raw.count("\n") + 1
    text = header + "\n" + "\n".join(r for r, _, _ in recs) + "\n"
    return header, recs, lines_of, text


def check_bad_rows(T, case, r, E, header, recs, lines_of, fname):
    T.check(case, r.code == 1, "exit %s, want 1\n    %s" % (r.code, r.describe()))
    want_bad = [ln for (raw, good, i), ln in zip(recs, lines_of) if not good]
    got_lines = sorted(int(m) for m in re.findall(r"^rasterpool: .*?:(\d+): ", r.err, re.M))
    T.check(case, got_lines == want_bad, "stderr names lines %s, want %s\n    %s" % (
        got_lines, want_bad, r.describe(1500)))
    if fname is not None:
        for ln in want_bad:
            T.check(case, re.search(r"^rasterpool: %s:%d: \S" % (re.escape(fname), ln), r.err, re.M),
                    "stderr lacks 'rasterpool: %s:%d: <reason>'" % (fname, ln))
    # output: every record, in order, bad ones with empty value and status error
    want = header + ",b1,status\n"
    for raw, good, i in recs:
        if good:
            st, pix, _, _ = E.o.expect([E.xs[i]], [E.ys[i]], 1)
            v = str(int(pix[0])) if st[0] == "ok" else ""
            want += raw + "," + v + "," + st[0] + "\n"
        else:
            # a row shorter than the header is padded with empty fields, so
            # its value and status stand under their own names
            nfields = len(list(csv.reader(io.StringIO(raw)))[0])
            pad = "," * max(0, header.count(",") + 1 - nfields)
            want += raw + pad + ",,error\n"
    got = r.text
    if got != want:
        gl, wl = got.split("\n"), want.split("\n")
        k = next((j for j in range(min(len(gl), len(wl))) if gl[j] != wl[j]), min(len(gl), len(wl)))
        T.fail(case, "output differs at output line %d: got %r, want %r\n    %s" % (
            k + 1, gl[k] if k < len(gl) else "<end>", wl[k] if k < len(wl) else "<end>", r.cmd))


def case_bad_rows(case, E, T):
    header, recs, lines_of, text = bad_rows_file(E)
    path = E.p("bad_rows.csv")
    with open(path, "w", newline="") as f:
        f.write(text)
    r = rptest.extract([E.r, "--points", path, "--status"])
    check_bad_rows(T, case + " (file)", r, E, header, recs, lines_of, path)
    r = rptest.extract([E.r, "--status", "--threads", 3], stdin=text)
    check_bad_rows(T, case + " (stdin)", r, E, header, recs, lines_of, None)
    # CRLF: same physical line numbers
    crlf = text.replace("\n", "\r\n")
    path2 = E.p("bad_rows_crlf.csv")
    with open(path2, "w", newline="") as f:
        f.write(crlf)
    r = rptest.extract([E.r, "--points", path2, "--status"])
    T.check(case + " (CRLF)", r.code == 1, "exit %s, want 1\n    %s" % (r.code, r.describe()))
    got_lines = sorted(int(m) for m in re.findall(r"^rasterpool: .*?:(\d+): ", r.err, re.M))
    want_bad = [ln for (raw, good, i), ln in zip(recs, lines_of) if not good]
    T.check(case + " (CRLF)", got_lines == want_bad, "stderr names lines %s, want %s" % (got_lines, want_bad))


def case_unknown_crs(case, E, T):
    expect_fail(T, case, [E.r, "--points", E.pts, "--points-crs", "EPSG:999999"], 2,
                mentions=["EPSG:999999"])
    expect_fail(T, case + " (garbage)", [E.r, "--points", E.pts, "--points-crs", "NOT_A_CRS_AT_ALL"], 2,
                mentions=["NOT_A_CRS_AT_ALL"])


def case_header_only(case, E, T):
    for text, label in (("id,x,y\n", "with newline"), ("id,x,y", "no newline"), ("id,x,y\r\n", "CRLF")):
        path = E.p("header_only.csv")
        with open(path, "w", newline="") as f:
            f.write(text)
        r = rptest.extract([E.r, "--points", path])
        T.check(case, r.code == 0 and r.text == "id,x,y,b1\n",
                "(%s) exit %s output %r, want 0 and 'id,x,y,b1\\n'\n    %s" % (label, r.code, r.text, r.describe()))
    r = rptest.extract([E.r, "--status"], stdin="id;x;y\n")
    T.check(case, r.code == 0 and r.text == "id;x;y;b1;status\n",
            "(stdin, ';', --status) exit %s output %r, want 'id;x;y;b1;status\\n'" % (r.code, r.text))


def case_empty_file(case, E, T):
    path = E.p("empty.csv")
    open(path, "w").close()
    r = expect_fail(T, case, [E.r, "--points", path], 3, mentions=["empty.csv"])
    T.check(case, r.out == b"", "stdout should be empty, got %r" % r.out[:100])
    r = rptest.extract([E.r], stdin=b"")
    T.check(case + " (stdin)", isinstance(r.code, int) and 0 < r.code < 128 and r.err.strip(),
            "0 bytes on stdin: exit %s with message %r, want non-zero and a message" % (r.code, r.err))


def case_corrupt_tile(case, E, T):
    path = E.p("corrupt.tif")
    rows, cols = np.mgrid[0:H, 0:W]
    rptest.create_raster(path, ((rows * 1000 + cols) % 30000).astype(np.int16), "Int16", gt=GT,
                         block=(64, 64), compress="DEFLATE")
    rptest.corrupt_blocks(path, [(2, 1)])
    ds = gdal.Open(path)
    b = ds.GetRasterBand(1)
    try:
        b.ReadBlock(2, 1)
        raise AssertionError("test setup: block (2,1) still reads")
    except RuntimeError:
        pass
    b.ReadBlock(1, 1)  # a neighbour must read (raises otherwise)
    ds = None
    # points: random, plus several inside block (2,1) = cols 128..191, rows 64..127
    extra = [(130, 70), (191, 127), (128, 64), (150, 100), (127, 70), (192, 70), (130, 63), (130, 128)]
    xs, ys = rptest.random_points(GT, W, H, n_inside=400, n_outside=20, n_edge=20, seed=44,
                                  extra_pixels=extra)
    pts = E.p("corrupt_pts.csv")
    lines = rptest.write_points_csv(pts, xs, ys)
    r = rptest.extract([path, E.r, "--points", pts, "--status"])
    T.check(case, r.code == 1, "exit %s, want 1\n    %s" % (r.code, r.describe()))
    o_bad = rptest.ArrayOracle(E.r)  # any Int32 index raster gives the cells
    inside, col, row = o_bad.locate(xs, ys)
    good = rptest.ArrayOracle(E.r)
    header, rows_ = rptest.parse_csv(r.text)
    want_header = ["id", "x", "y", "corrupt_b1", "corrupt_b1_status", "good_b1", "good_b1_status"]
    if not T.check(case, header == want_header and len(rows_) == len(xs),
                   "header %r / %d rows, want %r / %d" % (header, len(rows_), want_header, len(xs))):
        return
    st_good, pix_good, _, _ = good.expect(xs, ys, 1)
    lim = rptest.Limited(T, case)
    n_err = 0
    for i, rw in enumerate(rows_):
        if rw[:3] != lines[i + 1].split(","):
            lim.add("row %d does not carry its input: %r" % (i, rw[:3]))
        in_block = inside[i] and 128 <= col[i] < 192 and 64 <= row[i] < 128
        if in_block:
            n_err += 1
            if rw[3] != "" or rw[4] != "error":
                lim.add("row %d (col %d row %d, in the corrupt block): corrupt_b1 %r %r, want '' 'error'" % (
                    i, col[i], row[i], rw[3], rw[4]))
        elif inside[i]:
            want = str((row[i] * 1000 + col[i]) % 30000)
            if rw[3] != want or rw[4] != "ok":
                lim.add("row %d (col %d row %d): corrupt_b1 %r %r, want %r 'ok'" % (i, col[i], row[i], rw[3], rw[4], want))
        elif rw[3] != "" or rw[4] != "outside":
            lim.add("row %d (outside): corrupt_b1 %r %r, want '' 'outside'" % (i, rw[3], rw[4]))
        wv = str(int(pix_good[i])) if st_good[i] == "ok" else ""
        if rw[5] != wv or rw[6] != st_good[i]:
            lim.add("row %d: good_b1 %r %r, want %r %r" % (i, rw[5], rw[6], wv, st_good[i]))
    lim.flush(r.cmd + "\n    ")
    T.check(case, n_err >= 4, "test setup: only %d points in the corrupt block" % n_err)
    # stderr names the file and the block (block indices 2,1 or pixel offsets 128,64)
    blines = [l for l in r.err.split("\n") if "block" in l.lower()]
    named = any("corrupt.tif" in l and (
        (re.search(r"\b2\b", l) and re.search(r"\b1\b", l)) or ("128" in l and "64" in l))
        for l in blines)
    T.check(case, named, "stderr does not name the corrupt block (2,1) of corrupt.tif:\n    %r" % r.err[:1000])
    check_stderr_prefix(T, case, r)


def case_bad_options(case, E, T):
    expect_fail(T, case + " (unknown option)", [E.r, "--points", E.pts, "--frobnicate"], 2,
                mentions=["--frobnicate"])
    expect_fail(T, case + " (-b without value)", [E.r, "--points", E.pts, "-b"], 2)
    expect_fail(T, case + " (-b 0)", [E.r, "--points", E.pts, "-b", "0"], 2)
    expect_fail(T, case + " (-b abc)", [E.r, "--points", E.pts, "-b", "abc"], 2)
    expect_fail(T, case + " (--threads abc)", [E.r, "--points", E.pts, "--threads", "abc"], 2)
    expect_fail(T, case + " (--config with one argument)", [E.r, "--points", E.pts, "--config", "A"], 2)
    expect_fail(T, case + " (no raster)", ["--points", E.pts], 2)
    r = rptest.rp(["no-such-command"])
    T.check(case, r.code == 2, "rasterpool no-such-command: exit %s, want 2" % r.code)


def case_unwritable_output(case, E, T):
    path = E.p("no_such_dir/out.csv")
    r = rptest.extract([E.r, "--points", E.pts, "-o", path])
    T.check(case, isinstance(r.code, int) and 0 < r.code < 128,
            "exit %s, want a non-zero exit (3 in rasterpool.h: RP_WRITE)\n    %s" % (r.code, r.describe()))
    T.check(case, "no_such_dir" in r.err, "stderr does not name the output: %r" % r.err)
    path = E.p("no_such_dir/out.gpkg")
    r = rptest.extract([E.r, "--points", E.pts, "-o", path])
    T.check(case, isinstance(r.code, int) and 0 < r.code < 128,
            "(.gpkg) exit %s, want non-zero\n    %s" % (r.code, r.describe()))


def case_bad_band(case, E, T):
    r = expect_fail(T, case, [E.r, "--points", E.pts, "-b", "5"], 2, mentions=["good.tif"])
    T.check(case, re.search(r"\b5\b", r.err), "stderr does not name band 5: %r" % r.err)
    T.check(case, r.out == b"", "stdout should be empty, got %r" % r.out[:100])


def write_geojson(path, feats, fields):
    """feats: [(x, y, {field: value})]; fields: [(name, OGR type)]."""
    ds = ogr.GetDriverByName("GeoJSON").CreateDataSource(path)
    lyr = ds.CreateLayer("pts", None, ogr.wkbPoint)
    for name, ftype in fields:
        lyr.CreateField(ogr.FieldDefn(name, ftype))
    for x, y, attrs in feats:
        f = ogr.Feature(lyr.GetLayerDefn())
        for k, v in attrs.items():
            setter = {ogr.OFTStringList: f.SetFieldStringList,
                      ogr.OFTIntegerList: f.SetFieldIntegerList,
                      ogr.OFTInteger64: f.SetFieldInteger64}.get(dict(fields)[k], f.SetField)
            setter(f.GetFieldIndex(k), v)
        g = ogr.Geometry(ogr.wkbPoint)
        g.AddPoint_2D(float(x), float(y))
        f.SetGeometry(g)
        lyr.CreateFeature(f)
    ds = None
    return path


def read_fields(path, names):
    """{name: [each feature's value as GDAL's text]}."""
    ds = ogr.Open(path)
    if ds is None:
        return None
    feats = list(ds.GetLayer(0))
    out = {n: [f.GetFieldAsString(n) for f in feats] for n in names}
    feats = None
    ds = None
    return out


def case_output_fields(case, E, T):
    """List fields: Shapefile refuses them, FlatGeobuf fails when it writes
    one. Either must fail before any pixel work: exit 2 (usage: pick another
    format), -v reports 0 blocks read, and no output appears."""
    feats = [(E.xs[i], E.ys[i], {"name": "p%d" % i, "ids": [i, i + 1]}) for i in range(5)]
    feats[0][2]["tags"] = ["a", "b,c"]
    gj = write_geojson(E.p("lists.geojson"), feats, [("name", ogr.OFTString),
                                                   ("tags", ogr.OFTStringList),
                                                   ("ids", ogr.OFTIntegerList)])
    for ext in (".fgb", ".shp"):
        out = E.p("lists_out" + ext)
        c = "%s (%s)" % (case, ext)
        r = expect_fail(T, c, [E.r, "--points", gj, "-v", "-o", out], 2)
        T.check(c, "tags" in r.err or "ids" in r.err,
                "stderr does not name a list field\n    %s" % r.describe())
        T.check(c, re.search(r"\b0 blocks read\b", r.err),
                "-v does not report 0 blocks read: pixel work ran before the check\n    %s"
                % r.describe())
        T.check(c, not os.path.exists(out), "%s was written" % out)
    # GeoPackage stores lists as text: still written, with GDAL's own text
    out = E.p("lists_out.gpkg")
    r = rptest.extract([E.r, "--points", gj, "-o", out])
    if T.check(case + " (.gpkg)", r.code == 0, "exit %s\n    %s" % (r.code, r.describe())):
        want, have = read_fields(gj, ("tags", "ids")), read_fields(out, ("tags", "ids"))
        T.check(case + " (.gpkg)", have == want, "fields %r, want %r" % (have, want))


def case_converted_fields(case, E, T):
    """A driver may create a field with another type than the input's
    (PCIDSK: Integer64 and DateTime as String; Shapefile: DateTime as
    Date). The values must arrive converted (as ogr2ogr does), not as the
    input's raw bytes (which crashed on .pix). Oracle: GDAL's own reading of
    the input."""
    feats = [(E.xs[i], E.ys[i], {"big": 5000000000 + i, "when": "2020-01-0%dT03:04:05" % (i + 1)})
             for i in range(4)]
    gj = write_geojson(E.p("typed.geojson"), feats, [("big", ogr.OFTInteger64),
                                                    ("when", ogr.OFTDateTime)])
    src = read_fields(gj, ("big", "when"))
    date_only = [w.split(" ")[0] for w in src["when"]]
    for ext, want in ((".pix", src), (".shp", {"big": src["big"], "when": date_only})):
        out = E.p("typed_out" + ext)
        c = "%s (%s)" % (case, ext)
        r = rptest.extract([E.r, "--points", gj, "-o", out])
        if not T.check(c, r.code == 0, "exit %s\n    %s" % (r.code, r.describe())):
            continue
        have = read_fields(out, ("big", "when"))
        T.check(c, have == want, "fields %r, want %r" % (have, want))

def main():
    T = rptest.Tester("cli_bad_input")
    rptest.binary()
    with tempfile.TemporaryDirectory(prefix="rp_bad_") as tmp:
        E = Env(tmp)
        for name, fn in [
            ("missing raster", case_missing_raster),
            ("not a raster", case_not_a_raster),
            ("missing points file", case_missing_points),
            ("CSV without x/y columns", case_no_xy),
            ("bad rows", case_bad_rows),
            ("unknown CRS", case_unknown_crs),
            ("header-only points file", case_header_only),
            ("0-byte points file", case_empty_file),
            ("corrupted tile", case_corrupt_tile),
            ("bad options", case_bad_options),
            ("-b 5 on a 1-band raster", case_bad_band),
            ("unwritable output", case_unwritable_output),
            ("output format cannot hold the fields", case_output_fields),
            ("output driver converts field types", case_converted_fields),
        ]:
            T.run_case(name, fn, E, T)
    T.finish()


if __name__ == "__main__":
    main()
