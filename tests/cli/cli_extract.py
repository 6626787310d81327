#!/usr/bin/python3
"""cli_extract — every option of `rasterpool extract`, end to end.

Expected values come from the numpy oracle (tests/oracle/rptest.py) or are
computed by hand; expected text of CSV records is built here byte by byte.
Cases: --points FILE / stdin default / '-', -o FILE vs stdout, several
rasters (column names, duplicate stems), -b repeated and the default (all
bands), --threads/-j, --status, --x-col/--y-col, column autodetection (any
case), ';' and TAB delimiters, RFC 4180 quoting carried byte for byte
(embedded delimiters, doubled quotes, newlines), CRLF input, --plan (counts
vs numpy; works when pixel data is unreadable), --config, vector input
(.gpkg with --layer, .geojson), vector output by extension (.gpkg,
.geojson, .fgb) and -o .csv, --help.
Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 cli_extract.py
"""
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
sys.path.insert(0, HERE)
import numpy as np  # noqa: E402

import rptest  # noqa: E402
from rptest import gdal, ogr, osr  # noqa: E402

W, H = 300, 217
GT = (1000.0, 0.5, 0.0, 2000.0, 0.0, -0.25)


def index_raster(path, nbands=3, gt=GT, nodata=None, srs=None, W=W, H=H, **kw):
    """Int32, band b value = b*1000000 + row*1000 + col (readable by hand)."""
    rows, cols = np.mgrid[0:H, 0:W]
    data = np.stack([b * 1000000 + rows * 1000 + cols for b in range(1, nbands + 1)])
    if nodata is not None:
        data[:, 5, 5] = nodata  # cell (5,5) is nodata in every band
    return rptest.create_raster(path, data.astype(np.int32), "Int32", gt=gt, nodata=nodata,
                                srs=srs, **kw)


def expect_texts(oracle, xs, ys, band):
    st, pix, _, _ = oracle.expect(xs, ys, band)
    return [str(int(p)) if s == "ok" else "" for s, p in zip(st, pix)], st


def points(seed=1, n=250, gt=GT, W=W, H=H):
    # the centre of cell (5,5) (nodata in index rasters) is among them
    return rptest.random_points(gt, W, H, n_inside=n, n_outside=30, n_edge=20, seed=seed,
                                extra_pixels=[(5, 5), (5, 5)])


def expected_output(header, records, values, delim=","):
    """header/records: raw text (no line end); values: per record list."""
    out = header + delim + delim.join(values[0]) + "\n"
    for rec, v in zip(records, values[1:]):
        out += rec + delim + delim.join(v) + "\n"
    return out


def same_bytes(T, case, run, want):
    got = run.text
    if got == want and run.code == 0:
        return True
    if run.code != 0:
        T.fail(case, "exit %s, want 0\n    %s" % (run.code, run.describe()))
        return False
    gl, wl = got.split("\n"), want.split("\n")
    i = next((k for k in range(min(len(gl), len(wl))) if gl[k] != wl[k]), min(len(gl), len(wl)))
    T.fail(case, "output differs from expected at line %d:\n    got  %r\n    want %r\n    %s" % (
        i + 1, gl[i] if i < len(gl) else "<end>", wl[i] if i < len(wl) else "<end>", run.cmd))
    return False


class Env:
    def __init__(self, tmp):
        self.tmp = tmp
        self.r3 = index_raster(os.path.join(tmp, "idx3.tif"), nbands=3, nodata=-1)
        self.o3 = rptest.ArrayOracle(self.r3)
        self.xs, self.ys = points()
        self.pts = os.path.join(tmp, "pts.csv")
        self.lines = rptest.write_points_csv(self.pts, self.xs, self.ys)

    def p(self, name):
        return os.path.join(self.tmp, name)


# --------------------------------------------------------------------------


def case_points_sources(case, E, T):
    want_vals = [["b2"]] + [[v] for v in expect_texts(E.o3, E.xs, E.ys, 2)[0]]
    want = expected_output(E.lines[0], E.lines[1:], want_vals)
    data = open(E.pts, "rb").read()
    r1 = rptest.extract([E.r3, "--points", E.pts, "-b", 2])
    same_bytes(T, case + " (--points FILE)", r1, want)
    r2 = rptest.extract([E.r3, "-b", 2], stdin=data)
    same_bytes(T, case + " (stdin default)", r2, want)
    r3 = rptest.extract([E.r3, "--points", "-", "-b", 2], stdin=data)
    same_bytes(T, case + " (--points -)", r3, want)


def case_output_file(case, E, T):
    want_vals = [["b1"]] + [[v] for v in expect_texts(E.o3, E.xs, E.ys, 1)[0]]
    want = expected_output(E.lines[0], E.lines[1:], want_vals)
    for opt, name in (("-o", "out.csv"), ("--output", "out2.csv")):
        out = E.p(name)
        r = rptest.extract([E.r3, "--points", E.pts, "-b", 1, opt, out])
        if not T.check(case, r.code == 0, "%s: exit %s\n    %s" % (opt, r.code, r.describe())):
            continue
        T.check(case, r.out == b"", "%s: stdout should be empty, got %r" % (opt, r.out[:100]))
        got = open(out, newline="").read() if os.path.exists(out) else None
        T.check(case, got == want, "%s %s: file content differs from the expected CSV (%s)\n    %s" % (
            opt, out, "missing" if got is None else "first line %r" % got.split("\n")[0], r.cmd))


def case_bands(case, E, T):
    # default: all bands
    r = rptest.extract([E.r3, "--points", E.pts])
    vals = [expect_texts(E.o3, E.xs, E.ys, b)[0] for b in (1, 2, 3)]
    want = expected_output(E.lines[0], E.lines[1:], [["b1", "b2", "b3"]] + [list(v) for v in zip(*vals)])
    same_bytes(T, case + " (no -b: all bands)", r, want)
    # -b 1 -b 3
    r = rptest.extract([E.r3, "--points", E.pts, "-b", 1, "-b", 3])
    want = expected_output(E.lines[0], E.lines[1:], [["b1", "b3"]] + [[a, c] for a, _, c in zip(*vals)])
    same_bytes(T, case + " (-b 1 -b 3)", r, want)
    # --band 2 (long form from --help)
    r = rptest.extract([E.r3, "--points", E.pts, "--band", 2])
    want = expected_output(E.lines[0], E.lines[1:], [["b2"]] + [[b] for b in vals[1]])
    same_bytes(T, case + " (--band 2)", r, want)
    # -b 3 -b 1: columns b3 and b1, each with its band's values (order not
    # asserted: the contract does not fix it)
    r = rptest.extract([E.r3, "--points", E.pts, "-b", 3, "-b", 1])
    if T.check(case, r.code == 0, "-b 3 -b 1: exit %s\n    %s" % (r.code, r.describe())):
        header, rows = rptest.parse_csv(r.text)
        if T.check(case, sorted(header[3:]) == ["b1", "b3"] and len(header) == 5,
                   "-b 3 -b 1: header %r, want id,x,y + b3,b1" % header):
            print("   -b 3 -b 1 gives columns in order %s" % header[3:])
            for b, v in ((1, vals[0]), (3, vals[2])):
                k = header.index("b%d" % b)
                bad = [i for i in range(len(rows)) if rows[i][k] != v[i]]
                T.check(case, not bad, "-b 3 -b 1: column b%d wrong at %d rows, e.g. row %s: %r want %r" % (
                    b, len(bad), bad[:1], rows[bad[0]][k] if bad else "", v[bad[0]] if bad else ""))


def case_threads(case, E, T):
    base = rptest.extract([E.r3, "--points", E.pts, "--threads", 1, "--status"])
    T.check(case, base.code == 0, "--threads 1: exit %s\n    %s" % (base.code, base.describe()))
    for args in (["--threads", 2], ["-j", 2], ["-j", 5], ["--threads", 16]):
        r = rptest.extract([E.r3, "--points", E.pts, "--status"] + args)
        T.check(case, r.code == 0 and r.out == base.out,
                "%s: output differs from --threads 1 (exit %s)\n    %s" % (args, r.code, r.describe()))


def case_coordinate_formats(case, E, T):
    """Coordinates written every way a CSV holds them (17 digits, exponents,
    a '+', spaces, quotes, 25 decimals, a trailing point, leading zeros):
    the parser's fast path and its fallbacks read each as Python's float()
    (correctly rounded) does, so every value is the oracle's at that cell;
    rows copied byte for byte; the same bytes at -j 1, 2 and 7."""
    rng = np.random.default_rng(16)
    n = 3000
    px, py = rng.uniform(0, W, n), rng.uniform(0, H, n)
    xs, ys = rptest.pixel_to_world(GT, px, py)
    fmts = [("%.17g", "%.17g"), ("%.3e", "%.6E"), (" %.2f", "%.2f "), ('"%.4f"', '"%.4f"'),
            ("+%.1f", "%.25f"), ("%.9f", "%.9f"), ("0000%.5f", "%.5f"), ("%.0f.", "%.1f")]
    header, records, fx, fy = "id,x,y", [], [], []
    for i in range(n):
        f = fmts[i % len(fmts)]
        tx, ty = f[0] % xs[i], f[1] % ys[i]
        records.append("%d,%s,%s" % (i, tx, ty))
        fx.append(float(tx.strip().strip('"')))
        fy.append(float(ty.strip().strip('"')))
    pts = E.p("formats.csv")
    with open(pts, "w") as fh:
        fh.write(header + "\n" + "\n".join(records) + "\n")
    vals, _ = expect_texts(E.o3, np.array(fx), np.array(fy), 1)
    want = expected_output(header, records, [["b1"]] + [[v] for v in vals])
    outs = []
    for j in (1, 2, 7):
        r = rptest.extract([E.r3, "--points", pts, "-b", 1, "-j", j])
        same_bytes(T, "%s -j %d" % (case, j), r, want)
        outs.append(r.out)
    T.check(case, outs[0] == outs[1] == outs[2], "-j 1, 2, 7 should give the same bytes")


def case_status(case, E, T):
    st = {b: expect_texts(E.o3, E.xs, E.ys, b) for b in (1, 2)}
    r = rptest.extract([E.r3, "--points", E.pts, "-b", 2, "--status"])
    want = expected_output(E.lines[0], E.lines[1:], [["b2", "status"]] +
                           [[v, s] for v, s in zip(*st[2])])
    same_bytes(T, case + " (one value column: status)", r, want)
    r = rptest.extract([E.r3, "--points", E.pts, "-b", 1, "-b", 2, "--status"])
    want = expected_output(E.lines[0], E.lines[1:], [["b1", "b1_status", "b2", "b2_status"]] +
                           [[v1, s1, v2, s2] for v1, s1, v2, s2 in zip(*st[1], *st[2])])
    same_bytes(T, case + " (two value columns: <col>_status)", r, want)
    seen = set(st[1][1])
    T.check(case, {"ok", "nodata", "outside"} <= seen, "test setup: statuses seen %s" % seen)


def case_many_rasters(case, E, T):
    os.makedirs(E.p("a"), exist_ok=True)
    os.makedirs(E.p("b"), exist_ok=True)
    dem_a = index_raster(E.p("a/dem.tif"), nbands=1)
    slope = index_raster(E.p("slope.tif"), nbands=2, gt=(1010.0, 0.25, 0.0, 1990.0, 0.0, -0.25))
    dem_b = index_raster(E.p("b/dem.tif"), nbands=2, gt=(990.0, 1.0, 0.0, 2010.0, 0.0, -1.0),
                         block=(32, 32))
    oa, os_, ob = rptest.ArrayOracle(dem_a), rptest.ArrayOracle(slope), rptest.ArrayOracle(dem_b)
    # two rasters, distinct stems, -b 1
    r = rptest.extract([dem_a, slope, "--points", E.pts, "-b", 1])
    va = expect_texts(oa, E.xs, E.ys, 1)[0]
    vs = expect_texts(os_, E.xs, E.ys, 1)[0]
    want = expected_output(E.lines[0], E.lines[1:], [["dem_b1", "slope_b1"]] + [list(t) for t in zip(va, vs)])
    same_bytes(T, case + " (stems)", r, want)
    # same stem twice, plus a third raster: <stem>_<position>_b<N>
    r = rptest.extract([dem_a, slope, dem_b, "--points", E.pts, "-b", 1])
    vb = expect_texts(ob, E.xs, E.ys, 1)[0]
    want = expected_output(E.lines[0], E.lines[1:], [["dem_1_b1", "slope_b1", "dem_3_b1"]] +
                           [list(t) for t in zip(va, vs, vb)])
    same_bytes(T, case + " (duplicate stems)", r, want)
    # the same file twice: <stem>_<position>_b<N>, same values
    r = rptest.extract([dem_a, dem_a, "--points", E.pts])
    want = expected_output(E.lines[0], E.lines[1:], [["dem_1_b1", "dem_2_b1"]] + [[t, t] for t in va])
    same_bytes(T, case + " (same file twice)", r, want)
    # default bands differ per raster: all bands of each
    r = rptest.extract([slope, dem_b, "--points", E.pts, "--status"])
    cols = ["slope_b1", "slope_b1_status", "slope_b2", "slope_b2_status",
            "dem_b1", "dem_b1_status", "dem_b2", "dem_b2_status"]
    vals = []
    for o in (os_, ob):
        for b in (1, 2):
            v, s = expect_texts(o, E.xs, E.ys, b)
            vals += [v, s]
    want = expected_output(E.lines[0], E.lines[1:], [cols] + [list(t) for t in zip(*vals)])
    same_bytes(T, case + " (all bands of each, --status)", r, want)


def write_raw(path, text, mode="w"):
    with open(path, mode, newline="") as f:
        f.write(text)
    return path


def case_columns(case, E, T):
    o = E.o3
    xs, ys = E.xs[:60], E.ys[:60]
    v = expect_texts(o, xs, ys, 1)[0]
    X = [rptest.fmt_coord(x) for x in xs]
    Y = [rptest.fmt_coord(y) for y in ys]
    layouts = [
        ("X,Y", "{x},{y}", []),
        ("lon,lat", "{x},{y}", []),
        ("Lon,LAT", "{x},{y}", []),
        ("longitude,latitude", "{x},{y}", []),
        ("LONGITUDE,Latitude", "{x},{y}", []),
        ("easting,northing", "{x},{y}", []),
        ("name,Easting,foo,NORTHING,bar", "n{i},{x},f,{y},b", []),
        ("lat,id,lon", "{y},{i},{x}", []),
        ("y,x", "{y},{x}", []),
        ("id,east_m,north_m", "{i},{x},{y}", ["--x-col", "east_m", "--y-col", "north_m"]),
        ("id,X,Y,x2,y2", "{i},0,0,{x},{y}", ["--x-col", "x2", "--y-col", "y2"]),
    ]
    for k, (header, fmt, extra) in enumerate(layouts):
        recs = [fmt.format(i=i, x=X[i], y=Y[i]) for i in range(len(xs))]
        path = write_raw(E.p("cols%d.csv" % k), header + "\n" + "\n".join(recs) + "\n")
        r = rptest.extract([E.r3, "--points", path, "-b", 1] + extra)
        want = expected_output(header, recs, [["b1"]] + [[t] for t in v])
        same_bytes(T, "%s (header %s %s)" % (case, header, " ".join(extra)), r, want)


def case_delimiters(case, E, T):
    o = E.o3
    xs, ys = E.xs[:80], E.ys[:80]
    v1 = expect_texts(o, xs, ys, 1)[0]
    v3 = expect_texts(o, xs, ys, 3)[0]
    for d, name in ((";", "semicolon"), ("\t", "tab")):
        header = d.join(["id", "label", "x", "y"])
        recs = [d.join([str(i), "a,b%d" % i, rptest.fmt_coord(x), rptest.fmt_coord(y)])
                for i, (x, y) in enumerate(zip(xs, ys))]
        path = write_raw(E.p("delim_%s.csv" % name), header + "\n" + "\n".join(recs) + "\n")
        r = rptest.extract([E.r3, "--points", path, "-b", 1, "-b", 3])
        vals = [["b1", "b3"]] + [[a, c] for a, c in zip(v1, v3)]
        same_bytes(T, "%s (%s)" % (case, name), r, expected_output(header, recs, vals, d))


def q(s):
    return '"' + s.replace('"', '""') + '"'


def case_quoting(case, E, T):
    o = E.o3
    xs, ys = E.xs[:40], E.ys[:40]
    v = expect_texts(o, xs, ys, 2)[0]
    # raw field texts as they appear in the file
    names = ['plain', '"a,b"', '"say ""hi"""', '"line1\nline2"', '"x;y\tz"', '""', '" spaced "',
             '""""', '"end,"', 'un quoted', '"two\n\nblank lines"', '"cr\r\nlf inside"']
    header = 'id,"the name",x,y,"note, with comma"'
    recs = []
    for i, (x, y) in enumerate(zip(xs, ys)):
        field = names[i % len(names)]
        note = q("n%d,\"q\"" % i) if i % 3 == 0 else "n%d" % i
        xt, yt = rptest.fmt_coord(x), rptest.fmt_coord(y)
        if i % 5 == 4:
            xt, yt = q(xt), q(yt)  # quoted numbers are numbers
        recs.append(",".join([str(i), field, xt, yt, note]))
    text = header + "\n" + "\n".join(recs) + "\n"
    path = write_raw(E.p("quoted.csv"), text)
    r = rptest.extract([E.r3, "--points", path, "-b", 2])
    want = expected_output(header, recs, [["b2"]] + [[t] for t in v])
    same_bytes(T, case, r, want)


def case_crlf(case, E, T):
    o = E.o3
    xs, ys = E.xs[:50], E.ys[:50]
    v = expect_texts(o, xs, ys, 1)[0]
    header = "id,x,y"
    recs = ["%d,%s,%s" % (i, rptest.fmt_coord(x), rptest.fmt_coord(y)) for i, (x, y) in enumerate(zip(xs, ys))]
    # CRLF everywhere (plain rows); the last row has no line end.
    text = header + "\r\n" + "\r\n".join(recs)
    path = write_raw(E.p("crlf.csv"), text)
    r = rptest.extract([E.r3, "--points", path, "-b", 1])
    want = expected_output(header, recs, [["b1"]] + [[t] for t in v])
    same_bytes(T, case + " (CRLF, no final line end)", r, want)
    path = write_raw(E.p("crlf2.csv"), header + "\r\n" + "\r\n".join(recs) + "\r\n")
    r = rptest.extract([E.r3, "-b", 1], stdin=open(path, "rb").read())
    same_bytes(T, case + " (CRLF on stdin)", r, want)


PLAN_RE = {
    "inside": re.compile(r"points inside:\s*(\d+)"),
    "outside": re.compile(r"points outside:\s*(\d+)"),
    "blocks": re.compile(r"blocks touched:\s*(\d+)\s+of\s+(\d+)"),
    "bytes": re.compile(r"estimated bytes to read:\s*(\d+|unknown)"),
}


def plan_expect(path, xs, ys):
    o = rptest.ArrayOracle(path)
    inside, col, row = o.locate(xs, ys)
    bx, by = o.block[1]
    nbx, nby = (o.width + bx - 1) // bx, (o.height + by - 1) // by
    blocks = set(zip((col[inside] // bx).tolist(), (row[inside] // by).tolist()))
    return int(inside.sum()), int((~inside).sum()), len(blocks), nbx * nby


def check_plan(T, case, r, want):
    if not T.check(case, r.code == 0, "exit %s, want 0\n    %s" % (r.code, r.describe())):
        return
    text = r.text
    got = {}
    for k, rx in PLAN_RE.items():
        m = rx.search(text)
        if not T.check(case, m is not None, "plan output lacks the %r line:\n%s\n    %s" % (
                rx.pattern, text[:800], r.cmd)):
            return
        got[k] = m.groups()
    ins, outs, blocks, total = want
    T.check(case, int(got["inside"][0]) == ins, "points inside: %s, want %d" % (got["inside"][0], ins))
    T.check(case, int(got["outside"][0]) == outs, "points outside: %s, want %d" % (got["outside"][0], outs))
    T.check(case, (int(got["blocks"][0]), int(got["blocks"][1])) == (blocks, total),
            "blocks touched: %s of %s, want %d of %d" % (got["blocks"][0], got["blocks"][1], blocks, total))


def case_plan(case, E, T):
    path = rptest.create_raster(E.p("plan.tif"), np.arange(W * H, dtype=np.int32).reshape(H, W) % 30000,
                                "Int16", gt=GT, block=(64, 64))
    # points over only part of the raster so that not every block is touched
    xs, ys = rptest.random_points(GT, 150, 100, n_inside=400, n_outside=0, n_edge=50, seed=5)
    xo, yo = rptest.random_points(GT, W, H, n_inside=0, n_outside=77, n_edge=0, seed=6)
    xs, ys = np.concatenate([xs, xo, [1150.0, 1000.0]]), np.concatenate([ys, yo, [1945.75, 1945.75]])
    pts = E.p("plan.csv")
    rptest.write_points_csv(pts, xs, ys)
    want = plan_expect(path, xs, ys)
    if want[2] == want[3]:
        raise AssertionError("test setup: every block touched")
    r = rptest.extract([path, "--points", pts, "--plan"])
    check_plan(T, case, r, want)
    # two rasters: one set of lines per raster, in command-line order
    other = rptest.create_raster(E.p("plan_other.tif"), np.zeros((H, W), dtype=np.uint8), "Byte",
                                 gt=(1000.0, 0.25, 0.0, 2000.0, 0.0, -0.25), block=(32, 32))
    want2 = plan_expect(other, xs, ys)
    r = rptest.extract([path, other, "--points", pts, "--plan"])
    if T.check(case, r.code == 0, "two rasters: exit %s\n    %s" % (r.code, r.describe())):
        got = [tuple(int(v) for v in m) for m in re.findall(
            r"points inside:\s*(\d+).*?points outside:\s*(\d+).*?blocks touched:\s*(\d+)\s+of\s+(\d+)",
            r.text, re.S)]
        T.check(case, got == [want, want2], "two rasters: plan counts %s, want %s\n%s" % (
            got, [want, want2], r.text[:1500]))
    # pixel data unreadable (every tile overwritten with garbage), header fine
    bad = E.p("plan_corrupt.tif")
    with open(path, "rb") as f, open(bad, "wb") as g:
        g.write(f.read())
    rptest.corrupt_blocks(bad, list(rptest.block_offsets(bad).keys()))
    try:
        gdal.Open(bad).ReadAsArray()
        raise AssertionError("test setup: corrupted file still reads")
    except RuntimeError:
        pass
    r = rptest.extract([bad, "--points", pts, "--plan"])
    check_plan(T, case + " (unreadable pixels)", r, want)
    # and the real run on it does fail (so the plan truly read nothing)
    r = rptest.extract([bad, "--points", pts])
    T.check(case, r.code == 1, "test setup/contract: extract on the corrupted file exit %s, want 1\n    %s" % (
        r.code, r.describe()))


def case_config(case, E, T):
    path = E.p("pixel_is_point.tif")
    index_raster(path, nbands=1, gt=(100.0, 10.0, 0.0, 200.0, 0.0, -10.0),
                 metadata={"AREA_OR_POINT": "Point"})
    o_def = rptest.ArrayOracle(path)
    o_ign = rptest.ArrayOracle(path, config={"GTIFF_POINT_GEO_IGNORE": "TRUE"})
    if o_def.gt == o_ign.gt:
        raise AssertionError("test setup: GTIFF_POINT_GEO_IGNORE has no effect")
    xs, ys = rptest.random_points(o_def.gt, W, H, n_inside=200, n_outside=10, n_edge=0, seed=9)
    pts = E.p("pp.csv")
    lines = rptest.write_points_csv(pts, xs, ys)
    vd = expect_texts(o_def, xs, ys, 1)[0]
    vi = expect_texts(o_ign, xs, ys, 1)[0]
    if sum(a != b for a, b in zip(vd, vi)) < 100:
        raise AssertionError("test setup: the config option changes too few values")
    r = rptest.extract([path, "--points", pts])
    same_bytes(T, case + " (without --config)", r,
               expected_output(lines[0], lines[1:], [["b1"]] + [[t] for t in vd]))
    r = rptest.extract([path, "--points", pts, "--config", "GTIFF_POINT_GEO_IGNORE", "TRUE"])
    same_bytes(T, case + " (--config GTIFF_POINT_GEO_IGNORE TRUE)", r,
               expected_output(lines[0], lines[1:], [["b1"]] + [[t] for t in vi]))
    r = rptest.extract([path, "--config", "GTIFF_POINT_GEO_IGNORE", "TRUE", "--points", pts,
                        "--config", "GDAL_CACHEMAX", "64"])
    same_bytes(T, case + " (--config repeated, before --points)", r,
               expected_output(lines[0], lines[1:], [["b1"]] + [[t] for t in vi]))


def lonlat_env(E):
    gt = (10.0, 0.01, 0.0, 50.0, 0.0, -0.01)
    path = index_raster(E.p("ll.tif"), nbands=2, gt=gt, srs="EPSG:4326")
    return path, gt, rptest.ArrayOracle(path)


def write_vector(path, driver, layers):
    """layers: [(name, srs or None, [(x, y, {field: value})], [(field, type)])]"""
    ds = ogr.GetDriverByName(driver).CreateDataSource(path)
    for name, srs, feats, fields in layers:
        s = None
        if srs:
            s = osr.SpatialReference()
            s.SetFromUserInput(srs)
            s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        lyr = ds.CreateLayer(name, s, ogr.wkbPoint)
        for fname, ftype in fields:
            lyr.CreateField(ogr.FieldDefn(fname, ftype))
        for x, y, attrs in feats:
            f = ogr.Feature(lyr.GetLayerDefn())
            for k, v in attrs.items():
                f.SetField(k, v)
            g = ogr.Geometry(ogr.wkbPoint)
            g.AddPoint_2D(float(x), float(y))
            f.SetGeometry(g)
            lyr.CreateFeature(f)
    ds = None
    return path


def read_back(path, layer):
    """Features as stored (drivers may round coordinates when writing)."""
    ds = ogr.Open(path)
    lyr = ds.GetLayerByName(layer)
    defn = lyr.GetLayerDefn()
    names = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())]
    out = []
    for f in lyr:
        g = f.GetGeometryRef()
        out.append((g.GetX(), g.GetY(), {n: f.GetField(n) for n in names}))
    return out


def check_vector_csv(T, case, r, feats, fields, oracle, bands):
    if not T.check(case, r.code == 0, "exit %s\n    %s" % (r.code, r.describe())):
        return
    header, rows = rptest.parse_csv(r.text)
    want = ["x", "y"] + [f for f, _ in fields] + ["b%d" % b for b in bands]
    if not T.check(case, header == want, "header %r, want %r\n    %s" % (header, want, r.cmd)):
        return
    if not T.check(case, len(rows) == len(feats), "%d rows, want %d" % (len(rows), len(feats))):
        return
    xs = np.array([f[0] for f in feats])
    ys = np.array([f[1] for f in feats])
    lim = rptest.Limited(T, case)
    vals = {b: expect_texts(oracle, xs, ys, b)[0] for b in bands}
    for i, row in enumerate(rows):
        if len(row) != len(want):
            lim.add("row %d: %r" % (i, row))
            continue
        try:
            if float(row[0]) != xs[i] or float(row[1]) != ys[i]:
                lim.add("row %d: x,y %r,%r want %r,%r" % (i, row[0], row[1], xs[i], ys[i]))
        except ValueError:
            lim.add("row %d: x,y %r,%r not numbers" % (i, row[0], row[1]))
        for k, (fname, ftype) in enumerate(fields):
            wantv = feats[i][2][fname]
            got = row[2 + k]
            okv = (got == wantv) if ftype == ogr.OFTString else (got != "" and float(got) == wantv)
            if not okv:
                lim.add("row %d field %s: %r want %r" % (i, fname, got, wantv))
        for k, b in enumerate(bands):
            if row[2 + len(fields) + k] != vals[b][i]:
                lim.add("row %d b%d: %r want %r" % (i, b, row[2 + len(fields) + k], vals[b][i]))
    lim.flush(r.cmd + "\n    ")


def case_vector_in(case, E, T):
    path, gt, o = lonlat_env(E)
    xs, ys = rptest.random_points(gt, W, H, n_inside=150, n_outside=20, n_edge=10, seed=21)
    fields = [("name", ogr.OFTString), ("n", ogr.OFTInteger), ("w", ogr.OFTReal)]
    feats1 = [(x, y, {"name": "a%d, \"x\"" % i, "n": i, "w": i / 4.0}) for i, (x, y) in enumerate(zip(xs, ys))]
    xs2, ys2 = rptest.random_points(gt, W, H, n_inside=90, n_outside=5, n_edge=5, seed=22)
    fields2 = [("code", ogr.OFTString)]
    feats2 = [(x, y, {"code": "c%d" % i}) for i, (x, y) in enumerate(zip(xs2, ys2))]
    gpkg = write_vector(E.p("in.gpkg"), "GPKG", [("first", "EPSG:4326", feats1, fields),
                                                 ("second", "EPSG:4326", feats2, fields2)])
    r = rptest.extract([path, "--points", gpkg])
    check_vector_csv(T, case + " (.gpkg first layer)", r, read_back(gpkg, "first"), fields, o, [1, 2])
    r = rptest.extract([path, "--points", gpkg, "--layer", "second", "-b", 2])
    check_vector_csv(T, case + " (.gpkg --layer second)", r, read_back(gpkg, "second"), fields2, o, [2])
    gj = write_vector(E.p("in.geojson"), "GeoJSON", [("pts", "EPSG:4326", feats1, fields)])
    r = rptest.extract([path, "--points", gj, "-b", 1])
    check_vector_csv(T, case + " (.geojson)", r, read_back(gj, "pts"), fields, o, [1])


def case_vector_out(case, E, T):
    o = E.o3
    xs, ys, lines = E.xs, E.ys, E.lines
    st = {b: o.expect(xs, ys, b) for b in (1, 3)}
    for ext, drv in ((".gpkg", "GPKG"), (".geojson", "GeoJSON"), (".fgb", "FlatGeobuf")):
        out = E.p("out" + ext)
        r = rptest.extract([E.r3, "--points", E.pts, "-b", 1, "-b", 3, "--status", "-o", out])
        c = "%s (%s)" % (case, ext)
        if not T.check(c, r.code == 0, "exit %s\n    %s" % (r.code, r.describe())):
            continue
        ds = ogr.Open(out)
        if not T.check(c, ds is not None, "cannot open %s" % out):
            continue
        T.check(c, ds.GetDriver().GetName() == drv, "written by driver %s, want %s" % (
            ds.GetDriver().GetName(), drv))
        lyr = ds.GetLayer(0)
        defn = lyr.GetLayerDefn()
        names = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())]
        need = ["b1", "b1_status", "b3", "b3_status"]
        if not T.check(c, names[-4:] == need and "id" in names,
                       "fields %r, want the input's (id, ...) then %r" % (names, need)):
            continue
        for fname in ("b1", "b3"):
            ft = defn.GetFieldDefn(names.index(fname)).GetType()
            T.check(c, ft in (ogr.OFTInteger, ogr.OFTInteger64), "%s (Int32 band) type %s, want Integer" % (
                fname, ogr.GetFieldTypeName(ft)))
            ft = defn.GetFieldDefn(names.index(fname + "_status")).GetType()
            T.check(c, ft == ogr.OFTString, "%s_status type %s, want String" % (fname, ogr.GetFieldTypeName(ft)))
        feats = list(lyr)
        if ext == ".fgb":
            # FlatGeobuf may reorder features by its spatial index unless
            # asked not to; match them by id
            feats.sort(key=lambda f: int(f.GetField("id")))
        if not T.check(c, len(feats) == len(xs), "%d features, want %d" % (len(feats), len(xs))):
            continue
        lim = rptest.Limited(T, c)
        for i, f in enumerate(feats):
            if str(f.GetField("id")) != str(i):
                lim.add("feature %d: id %r" % (i, f.GetField("id")))
                continue
            g = f.GetGeometryRef()
            same = g is not None and g.GetX() == xs[i] and g.GetY() == ys[i]
            if not same:
                lim.add("feature %d: geometry %s, want POINT (%r %r)" % (
                    i, g.ExportToWkt() if g else None, xs[i], ys[i]))
            for b in (1, 3):
                s, pix, _, _ = st[b]
                v = f.GetField("b%d" % b) if f.IsFieldSetAndNotNull("b%d" % b) else None
                wantv = int(pix[i]) if s[i] == "ok" else None
                if v != wantv:
                    lim.add("feature %d b%d: %r want %r (%s)" % (i, b, v, wantv, s[i]))
                if f.GetField("b%d_status" % b) != s[i]:
                    lim.add("feature %d b%d_status: %r want %r" % (i, b, f.GetField("b%d_status" % b), s[i]))
        lim.flush(r.cmd + "\n    ")
    # -o .csv: the CSV writer, same bytes as stdout
    out = E.p("out_table.csv")
    r1 = rptest.extract([E.r3, "--points", E.pts, "-b", 1, "--status", "-o", out])
    r2 = rptest.extract([E.r3, "--points", E.pts, "-b", 1, "--status"])
    got = open(out, newline="").read() if os.path.exists(out) else None
    T.check(case + " (.csv)", r1.code == 0 and r2.code == 0 and got == r2.text,
            "-o out.csv content differs from stdout CSV (exit %s/%s)\n    %s" % (r1.code, r2.code, r1.cmd))


OPTIONS = ["--points", "-o", "-b", "-j", "--threads", "--status", "--x-col", "--y-col",
           "--points-crs", "--layer", "--plan", "--config", "--help"]


def case_help(case, E, T):
    r = rptest.extract(["--help"])
    T.check(case, r.code == 0, "exit %s, want 0\n    %s" % (r.code, r.describe()))
    missing = [o for o in OPTIONS if not re.search(r"(^|[\s\[,|])%s([\s,=\]|]|$)" % re.escape(o), r.text)]
    T.check(case, not missing, "--help does not mention %s" % missing)
    r2 = rptest.extract(["-h"])
    T.check(case, r2.code == 0 and r2.out == r.out, "-h (listed in --help) differs from --help (exit %s)" % r2.code)


def main():
    T = rptest.Tester("cli_extract")
    rptest.binary()
    with tempfile.TemporaryDirectory(prefix="rp_cli_") as tmp:
        E = Env(tmp)
        for name, fn in [
            ("points from FILE, stdin, -", case_points_sources),
            ("-o FILE", case_output_file),
            ("-b and default bands", case_bands),
            ("--threads / -j", case_threads),
            ("coordinate formats, -j 1/2/7", case_coordinate_formats),
            ("--status", case_status),
            ("several rasters", case_many_rasters),
            ("x/y column detection and --x-col/--y-col", case_columns),
            ("delimiters", case_delimiters),
            ("quoted fields carried through", case_quoting),
            ("CRLF input", case_crlf),
            ("--plan", case_plan),
            ("--config", case_config),
            ("vector input", case_vector_in),
            ("vector output", case_vector_out),
            ("--help", case_help),
        ]:
            T.run_case(name, fn, E, T)
    T.finish()


if __name__ == "__main__":
    main()
