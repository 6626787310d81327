#!/usr/bin/python3
"""cli_robustness — `rasterpool extract` at the edges of its contract.

Expected values come from the numpy oracle (tests/oracle/rptest.py), from
GDAL itself (masks, file lists, feature counts) or are computed here by hand;
nothing is taken from rasterpool. Every file lives in a TemporaryDirectory.
Cases:
  1. a quote opened on line 3 and never closed: exit 1, 'FILE:3:' on stderr
     saying so, the rows before it correct, the swallowed row status error
     (and the output still a CSV a reader parses);
  2. output column names that clash with input columns (b1, status) get
     _2 (CSV and .gpkg), with a note on stderr;
  3. FlatGeobuf output keeps every row in input order, bad rows included
     (without geometry);
  4. multi-file formats (.shp, MapInfo .tab): exactly the dataset's files
     under the final name, no staging leftovers; a rerun replaces the old
     dataset whole;
  5. -o naming an existing folder (exit 2) or a file in a missing folder
     (non-zero, not 1): refused before any pixel is read;
  6. Ctrl-C: while reading points from a pipe kept open, and during a longer
     job writing a file: exit 130, no output, no staging folder;
  7. Float32 raster with nodata 1e300 (not a float32) and a +inf pixel: inf, ok;
  8. points all off the raster: a warning naming --points-crs, exit 0;
  9. coordinate 1e400 is a bad row; nan / inf coordinates are outside;
 10. --plan on a VRT with more than 2^32 blocks: counts vs numpy;
 11. -j 100000 and -j 0: exit 2;
 12. a row longer than the header: FILE:LINE warning, exit 0, values after
     its last field;
 13. a row shorter than the header: padded so its value sits under 'b1'.
Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 cli_robustness.py
"""
import csv
import io
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
sys.path.insert(0, HERE)
import numpy as np  # noqa: E402

import rptest  # noqa: E402
from rptest import gdal, ogr  # noqa: E402

W, H = 120, 90
GT = (500000.0, 10.0, 0.0, 4000000.0, 0.0, -10.0)  # UTM 33N metres
FC = rptest.fmt_coord


def index_raster(path, srs="EPSG:32633", **kw):
    """Int32, value = row*1000 + col; cell (5,5) is nodata (-1)."""
    rows, cols = np.mgrid[0:H, 0:W]
    data = (rows * 1000 + cols).astype(np.int32)
    data[5, 5] = -1
    kw.setdefault("block", (32, 32))
    return rptest.create_raster(path, data, "Int32", gt=GT, nodata=-1, srs=srs, **kw)


def write_raw(path, text):
    with open(path, "w", newline="") as f:
        f.write(text)
    return path


def staging_leftovers(folder):
    return [n for n in os.listdir(folder) if n.startswith(".rasterpool-") or "rp-tmp" in n]


class Env:
    def __init__(self, tmp):
        self.tmp = tmp
        self.r = index_raster(self.p("idx.tif"))
        self.o = rptest.ArrayOracle(self.r)
        self.xs, self.ys = rptest.random_points(GT, W, H, n_inside=60, n_outside=10, n_edge=0,
                                                seed=7, extra_pixels=[(5, 5)])
        # cell centres well inside (values known by hand: row*1000 + col)
        self.cells = [(3, 4), (17, 60), (33, 2), (88, 119), (40, 40), (7, 70)]
        self.ix, self.iy = rptest.pixel_to_world(GT, [c + 0.5 for c, _ in self.cells],
                                                 [r + 0.5 for _, r in self.cells])

    def p(self, *names):
        return os.path.join(self.tmp, *names)

    def folder(self, name):
        path = self.p(name)
        os.makedirs(path, exist_ok=True)
        return path

    def expect(self, xs, ys):
        """(value texts, statuses) by the numpy oracle."""
        st, pix, _, _ = self.o.expect(xs, ys, 1)
        return [str(int(v)) if s == "ok" else "" for s, v in zip(st, pix)], st


def same_text(T, case, got, want, cmd):
    if got == want:
        return True
    gl, wl = got.split("\n"), want.split("\n")
    k = next((j for j in range(min(len(gl), len(wl))) if gl[j] != wl[j]), min(len(gl), len(wl)))
    T.fail(case, "output differs at line %d: got %r, want %r\n    %s" % (
        k + 1, gl[k] if k < len(gl) else "<end>", wl[k] if k < len(wl) else "<end>", cmd))
    return False


def fields_of(path):
    ds = ogr.Open(path)
    lyr = ds.GetLayer(0)
    defn = lyr.GetLayerDefn()
    names = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())]
    feats = []
    for f in lyr:
        g = f.GetGeometryRef()
        geom = None if g is None or g.IsEmpty() else (g.GetX(), g.GetY())
        feats.append((geom, {n: (f.GetField(n) if f.IsFieldSetAndNotNull(n) else None) for n in names}))
    return names, feats, lyr.GetSpatialRef()


# --------------------------------------------------------------------------
# 1. unclosed quote
# --------------------------------------------------------------------------




def one_source_vrt(path, w, h, dtype, src, src_w, src_h, band_attrs="", band_xml=""):
    """A hand-written VRT (gdalbuildvrt cannot make these): a w x h band of
    dtype, unit pixels, origin (0, h), with src's src_w x src_h pixels at its
    top-left corner."""
    return write_raw(path, """<VRTDataset rasterXSize="%d" rasterYSize="%d">
  <GeoTransform>0, 1, 0, %d, 0, -1</GeoTransform>
  <VRTRasterBand dataType="%s" band="1"%s>
    %s
    <SimpleSource>
      <SourceFilename relativeToVRT="1">%s</SourceFilename>
      <SourceBand>1</SourceBand>
      <SrcRect xOff="0" yOff="0" xSize="%d" ySize="%d" />
      <DstRect xOff="0" yOff="0" xSize="%d" ySize="%d" />
    </SimpleSource>
  </VRTRasterBand>
</VRTDataset>
""" % (w, h, h, dtype, band_attrs, band_xml, os.path.basename(src), src_w, src_h, src_w, src_h))

def wait_until_catching_sigint(p, timeout=30.0):
    """Waits until process p has installed its SIGINT handler (Linux
    /proc/PID/status SigCgt), so that a signal tests the handler and not the
    start-up; sanitizer builds can take seconds to get there."""
    deadline = time.time() + timeout
    while time.time() < deadline and p.poll() is None:
        try:
            with open("/proc/%d/status" % p.pid) as f:
                for line in f:
                    if line.startswith("SigCgt:") and int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)):
                        return True
        except OSError:
            return False
        time.sleep(0.01)
    return False

def case_unclosed_quote(case, E, T):
    xs, ys = E.ix[:4], E.iy[:4]
    v, st = E.expect(xs, ys)
    assert v[0] == str(E.cells[0][1] * 1000 + E.cells[0][0]) and st[0] == "ok"
    X, Y = [FC(a) for a in xs], [FC(b) for b in ys]
    path = write_raw(E.p("unclosed.csv"),
                     "id,x,y,note\n"
                     "0,%s,%s,fine\n"                 # line 2
                     "1,%s,%s,\"never closed\n"       # line 3: the quote opens here
                     "2,%s,%s,swallowed\n"            # line 4
                     "3,%s,%s,swallowed too\n" % (X[0], Y[0], X[1], Y[1], X[2], Y[2], X[3], Y[3]))
    r = rptest.extract([E.r, "--points", path, "--status"])
    T.check(case, r.code == 1, "exit %s, want 1\n    %s" % (r.code, r.describe()))
    named = [l for l in r.err.split("\n") if re.search(r"%s:3: " % re.escape(path), l)]
    T.check(case, named and re.search(r"never closed|not closed|unclosed|unterminated", named[0], re.I),
            "stderr has no '%s:3: ...' line saying the quote is never closed:\n    %r" % (path, r.err))
    others = sorted(set(re.findall(r"unclosed\.csv:(\d+):", r.err)) - {"3"})
    T.check(case, not others, "stderr names other lines %s (they are inside the open quote)" % others)
    lines = r.text.split("\n")
    T.check(case, lines[0] == "id,x,y,note,b1,status", "header %r" % lines[0])
    want1 = "0,%s,%s,fine,%s,%s" % (X[0], Y[0], v[0], st[0])
    T.check(case, len(lines) > 1 and lines[1] == want1,
            "row before the quote: %r, want %r" % (lines[1] if len(lines) > 1 else None, want1))
    T.check(case, r.text.endswith(",,error\n"),
            "the swallowed row does not end with empty value and status error:\n    %r" % r.text[-200:])
    # the output is itself a CSV: a reader must find the swallowed row's b1 and status
    try:
        rows = list(csv.reader(io.StringIO(r.text, newline=""), strict=True))
    except csv.Error as ex:
        T.fail(case, "output is not valid CSV (%s):\n    %r\n    %s" % (ex, r.text, r.cmd))
        return
    header = rows[0]
    if not T.check(case, len(rows) == 3, "a CSV reader finds %d data records, want 2 (row 0 and the swallowed "
                   "row): %r\n    %s" % (len(rows) - 1, rows[1:], r.cmd)):
        return
    sw = rows[2]
    got = dict(zip(header, sw)) if len(sw) == len(header) else None
    T.check(case, got is not None and got["id"] == "1" and got["b1"] == "" and got["status"] == "error",
            "a CSV reader sees the swallowed row as %r (%d fields, header has %d): want id 1, b1 '' and status "
            "'error' under their names (the value columns land inside the never-closed quote)\n    %s" % (
                sw, len(sw), len(header), r.cmd))


# --------------------------------------------------------------------------
# 2. column name clash
# --------------------------------------------------------------------------


def case_name_clash(case, E, T):
    xs, ys = E.xs[:40], E.ys[:40]
    v, st = E.expect(xs, ys)
    recs = ["%d,%s,%s,old%d,st%d" % (i, FC(x), FC(y), i, i) for i, (x, y) in enumerate(zip(xs, ys))]
    header = "id,x,y,b1,status"
    path = write_raw(E.p("clash.csv"), header + "\n" + "\n".join(recs) + "\n")
    r = rptest.extract([E.r, "--points", path, "--status"])
    T.check(case, r.code == 0, "exit %s, want 0\n    %s" % (r.code, r.describe()))
    want = header + ",b1_2,status_2\n" + "".join("%s,%s,%s\n" % (rec, a, s) for rec, a, s in zip(recs, v, st))
    same_text(T, case + " (CSV --status)", r.text, want, r.cmd)
    for n in ("b1_2", "status_2"):
        T.check(case, n in r.err, "stderr does not mention the rename to %r: %r" % (n, r.err))
    r = rptest.extract([E.r, "--points", path])
    want = header + ",b1_2\n" + "".join("%s,%s\n" % (rec, a) for rec, a in zip(recs, v))
    same_text(T, case + " (CSV)", r.text, want, r.cmd)
    T.check(case, "b1_2" in r.err, "(no --status) stderr does not mention the rename to b1_2: %r" % r.err)
    # .gpkg
    out = E.p("clash.gpkg")
    r = rptest.extract([E.r, "--points", path, "--status", "-o", out])
    if not T.check(case, r.code == 0 and os.path.exists(out), "(.gpkg) exit %s\n    %s" % (r.code, r.describe())):
        return
    names, feats, _ = fields_of(out)
    need = ["id", "x", "y", "b1", "status", "b1_2", "status_2"]
    if not T.check(case, names == need, "(.gpkg) fields %r, want %r" % (names, need)):
        return
    if not T.check(case, len(feats) == len(xs), "(.gpkg) %d features, want %d" % (len(feats), len(xs))):
        return
    lim = rptest.Limited(T, case + " (.gpkg)")
    for i, (geom, f) in enumerate(feats):
        wv = int(v[i]) if st[i] == "ok" else None
        if (f["id"], f["b1"], f["status"]) != (str(i), "old%d" % i, "st%d" % i):
            lim.add("feature %d: input fields %r" % (i, (f["id"], f["b1"], f["status"])))
        if f["b1_2"] != wv or f["status_2"] != st[i]:
            lim.add("feature %d: b1_2 %r status_2 %r, want %r %r" % (i, f["b1_2"], f["status_2"], wv, st[i]))
    lim.flush(r.cmd + "\n    ")


# --------------------------------------------------------------------------
# 3. FlatGeobuf keeps every row in order
# --------------------------------------------------------------------------


def case_fgb_rows(case, E, T):
    rng = np.random.default_rng(3)
    n = len(E.xs)
    ids = rng.permutation(10 * n)[:n]  # not sorted: a reorder shows
    bad_at = {3: ("abc", None), 10: ("", ""), 17: ("1e400", None), 30: (None, "nope"), n - 1: ("x1", None)}
    recs, bad = [], []
    for i in range(n):
        x, y = FC(E.xs[i]), FC(E.ys[i])
        if i in bad_at:
            bx, by = bad_at[i]
            x, y = bx if bx is not None else x, by if by is not None else y
        recs.append("%d,%s,%s" % (ids[i], x, y))
        bad.append(i in bad_at)
    path = write_raw(E.p("fgb_in.csv"), "id,x,y\n" + "\n".join(recs) + "\n")
    out = E.p("rows.fgb")
    r = rptest.extract([E.r, "--points", path, "--status", "-o", out])
    T.check(case, r.code == 1, "exit %s, want 1 (bad rows)\n    %s" % (r.code, r.describe()))
    if not T.check(case, os.path.exists(out), "no %s written" % out):
        return
    # FlatGeobuf (GDAL 3.6) cannot hold features without geometry: the bad
    # rows are left out, and rasterpool must say so; every other row stays,
    # in input order.
    T.check(case, re.search(r"FlatGeobuf cannot hold features without geometry.*%d bad row" % len(bad_at),
                            r.err), "no warning that bad rows are left out\n    %s" % r.describe())
    names, feats, _ = fields_of(out)
    got_ids = [f["id"] for _, f in feats]
    want_ids = [str(k) for i, k in enumerate(ids) if not bad[i]]
    if got_ids != want_ids:
        missing = [want_ids[i] for i in range(n) if want_ids[i] not in got_ids]
        T.fail(case, "%d features, want %d; ids missing: %s (input rows %s, bad ones: %s); order same: %s\n    %s" % (
            len(got_ids), n, missing[:10], [want_ids.index(m) for m in missing[:10]],
            sorted(bad_at), [g for g in got_ids if g not in missing] == [w for w in want_ids if w not in missing],
            r.cmd))
        return
    v, st = E.expect(E.xs, E.ys)
    lim = rptest.Limited(T, case)
    good = [i for i in range(n) if not bad[i]]
    for i, (geom, f) in zip(good, feats):
        if bad[i]:
            if geom is not None or f["status"] != "error" or f["b1"] is not None:
                lim.add("bad row %d: geometry %r b1 %r status %r, want none/None/'error'" % (
                    i, geom, f["b1"], f["status"]))
        else:
            wv = int(v[i]) if st[i] == "ok" else None
            if geom != (E.xs[i], E.ys[i]) or f["b1"] != wv or f["status"] != st[i]:
                lim.add("row %d: %r %r %r, want %r %r %r" % (i, geom, f["b1"], f["status"],
                                                            (E.xs[i], E.ys[i]), wv, st[i]))
    lim.flush(r.cmd + "\n    ")


# --------------------------------------------------------------------------
# 4. multi-file formats
# --------------------------------------------------------------------------


def check_dataset_folder(T, case, folder, name, nrows, srs_expected):
    """srs_expected None: not checked (MapInfo always writes a CoordSys)."""
    path = os.path.join(folder, name)
    left = staging_leftovers(folder)
    T.check(case, not left, "staging leftovers in %s: %s" % (folder, left))
    try:
        ds = gdal.OpenEx(path, gdal.OF_VECTOR)
    except RuntimeError as ex:
        T.fail(case, "GDAL cannot open %s: %s" % (path, ex))
        return None
    files = sorted(os.path.basename(f) for f in ds.GetFileList())
    here = sorted(os.listdir(folder))
    stem = os.path.splitext(name)[0]
    T.check(case, here == files and all(os.path.splitext(f)[0] == stem for f in here),
            "%s holds %s; the dataset's files (GDAL) are %s" % (folder, here, files))
    lyr = ds.GetLayer(0)
    T.check(case, lyr.GetFeatureCount() == nrows, "%s: %d features, want %d" % (name, lyr.GetFeatureCount(), nrows))
    has_srs = lyr.GetSpatialRef() is not None
    T.check(case, srs_expected is None or has_srs == srs_expected, "%s: layer CRS %s, want %s" % (
        name, "set" if has_srs else "none", "set" if srs_expected else "none"))
    return ds


def case_multifile(case, E, T):
    v, st = E.expect(E.xs, E.ys)
    n = len(E.xs)
    pts = E.p("mf.csv")
    rptest.write_points_csv(pts, E.xs, E.ys)
    m = 7
    pts_small = E.p("mf_small.csv")
    rptest.write_points_csv(pts_small, E.xs[:m], E.ys[:m])
    nocrs = index_raster(E.p("idx_nocrs.tif"), srs=None)
    for ext in ("shp", "tab"):
        c = "%s (.%s)" % (case, ext)
        folder = E.folder("out_" + ext)
        name = "out." + ext
        out = os.path.join(folder, name)
        r = rptest.extract([E.r, "--points", pts, "--status", "-o", out])
        if not T.check(c, r.code == 0, "exit %s\n    %s" % (r.code, r.describe())):
            continue
        ds = check_dataset_folder(T, c, folder, name, n, True)
        if ds is not None:
            lim = rptest.Limited(T, c)
            lyr = ds.GetLayer(0)
            for i, f in enumerate(lyr):
                wv = int(v[i]) if st[i] == "ok" else None
                got = f.GetField("b1") if f.IsFieldSetAndNotNull("b1") else None
                if ext == "tab" and st[i] != "ok":
                    got = None  # MapInfo has no null: an unset Integer reads back 0
                if f.GetField("id") != str(i) or got != wv or f.GetField("status") != st[i]:
                    lim.add("feature %d: id %r b1 %r status %r, want %d %r %r" % (
                        i, f.GetField("id"), got, f.GetField("status"), i, wv, st[i]))
            lim.flush(r.cmd + "\n    ")
            ds = None
        # rerun over it: fewer rows, a raster without CRS (so no .prj this time)
        r = rptest.extract([nocrs, "--points", pts_small, "-o", out])
        if not T.check(c + " rerun", r.code == 0, "exit %s\n    %s" % (r.code, r.describe())):
            continue
        ds = check_dataset_folder(T, c + " rerun", folder, name, m, False if ext == "shp" else None)
        ds = None


# --------------------------------------------------------------------------
# 5. -o: existing folder, missing folder
# --------------------------------------------------------------------------


def case_output_folder(case, E, T):
    bad = E.p("corrupt.tif")
    index_raster(bad, block=(32, 32), compress="DEFLATE")
    rptest.corrupt_blocks(bad, list(rptest.block_offsets(bad).keys()))
    pts = E.p("pts5.csv")
    rptest.write_points_csv(pts, E.xs, E.ys)
    # setup: a normal run reads pixels and fails with exit 1
    r = rptest.extract([bad, "--points", pts])
    if r.code != 1:
        raise AssertionError("test setup: extract on the corrupted raster exit %s, want 1\n    %s" % (
            r.code, r.describe()))
    folder = E.folder("existing_folder")
    write_raw(os.path.join(folder, "keep.txt"), "keep\n")
    for target in (folder, folder + "/"):
        t0 = time.time()
        r = rptest.extract([bad, "--points", pts, "-o", target])
        dt = time.time() - t0
        T.check(case, r.code == 2, "-o %s (a folder): exit %s, want 2 (usage)\n    %s" % (target, r.code, r.describe()))
        T.check(case, "existing_folder" in r.err, "-o %s: stderr does not name the folder: %r" % (target, r.err))
        T.check(case, "block" not in r.err.lower(), "-o %s: pixels were read before refusing:\n    %r" % (
            target, r.err[:300]))
        T.check(case, dt < 5, "-o %s: took %.1f s" % (target, dt))
        T.check(case, sorted(os.listdir(folder)) == ["keep.txt"], "-o %s: folder now holds %s" % (
            target, sorted(os.listdir(folder))))
    r = rptest.extract([bad, "-o", folder], stdin=open(pts, "rb").read())
    T.check(case, r.code == 2, "(points on stdin) -o FOLDER: exit %s, want 2\n    %s" % (r.code, r.describe()))
    for name in ("out.csv", "out.gpkg", "out.shp"):
        target = E.p("no_such_folder", name)
        r = rptest.extract([bad, "--points", pts, "-o", target])
        T.check(case, isinstance(r.code, int) and r.code not in (0, 1) and r.code < 128,
                "-o %s: exit %s, want a usage/write error (not 0, not 1)\n    %s" % (target, r.code, r.describe()))
        T.check(case, "no_such_folder" in r.err, "-o %s: stderr does not name the folder: %r" % (target, r.err))
        T.check(case, "block" not in r.err.lower(), "-o %s: pixels were read before refusing:\n    %r" % (
            target, r.err[:300]))
    T.check(case, not os.path.exists(E.p("no_such_folder")), "no_such_folder was created")


# --------------------------------------------------------------------------
# 6. Ctrl-C
# --------------------------------------------------------------------------


def wait_exit(p, timeout):
    try:
        p.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        return False


def case_sigint_pipe(case, E, T):
    folder = E.folder("sigint_pipe")
    out = os.path.join(folder, "out.csv")
    cmd = [rptest.binary(), "extract", E.r, "-o", out, "-q"]
    errf = open(os.path.join(E.tmp, "sigint_pipe.err"), "w+b")
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errf)
    try:
        p.stdin.write(("id,x,y\n" + "".join("%d,%s,%s\n" % (i, FC(E.xs[i]), FC(E.ys[i])) for i in range(5))).encode())
        p.stdin.flush()
        wait_until_catching_sigint(p)
        time.sleep(0.5)
        T.check(case, p.poll() is None, "test setup: rasterpool exited (%s) before SIGINT" % p.returncode)
        t0 = time.time()
        p.send_signal(signal.SIGINT)
        done = wait_exit(p, 5)
        dt = time.time() - t0
        if not done:
            T.fail(case, "still running 5 s after SIGINT while its standard input (a pipe) stays open\n"
                   "    command: %s" % " ".join(cmd))
            p.kill()
            p.wait()
        else:
            T.check(case, p.returncode == 130, "exit %s, want 130 (%.2f s after SIGINT)" % (p.returncode, dt))
    finally:
        try:
            p.stdin.close()
        except OSError:
            pass
        errf.seek(0)
        err = errf.read().decode("utf-8", "replace")
        errf.close()
    T.check(case, not os.path.exists(out), "output %s exists after the interrupt" % out)
    T.check(case, not staging_leftovers(folder) and os.listdir(folder) == [],
            "folder holds %s after the interrupt" % os.listdir(folder))
    if err:
        print("   stderr: %r" % err[:300])


def big_job(E):
    rng = np.random.default_rng(11)
    h, w = 2000, 2000
    gt = (0.0, 1.0, 0.0, float(h), 0.0, -1.0)
    data = rng.random((h, w), dtype=np.float32)
    r1 = rptest.create_raster(E.p("big1.tif"), data, "Float32", gt=gt, block=(64, 64))
    r2 = rptest.create_raster(E.p("big2.tif"), data[::-1], "Float32", gt=gt, block=(64, 64))
    n = 300000
    x = rng.uniform(0, w, n)
    y = rng.uniform(0, h, n)
    path = E.p("big.csv")
    with open(path, "w") as f:
        f.write("id,x,y\n")
        f.write("".join("%d,%.4f,%.4f\n" % (i, a, b) for i, (a, b) in enumerate(zip(x, y))))
    return r1, r2, path


def case_sigint_file(case, E, T):
    r1, r2, pts = big_job(E)
    for ext, delay, old in (("csv", 0.2, "old output\n"), ("gpkg", 0.5, None)):
        c = "%s (-o .%s, SIGINT at %.1f s)" % (case, ext, delay)
        folder = E.folder("sigint_" + ext)
        out = os.path.join(folder, "out." + ext)
        if old is not None:
            write_raw(out, old)
        cmd = [rptest.binary(), "extract", r1, r2, "--points", pts, "-o", out, "-j", "2", "-q"]
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until_catching_sigint(p)
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
        if not wait_exit(p, 30):
            T.fail(c, "still running 30 s after SIGINT\n    command: %s" % " ".join(cmd))
            p.kill()
            p.wait()
            continue
        err = p.stderr.read().decode("utf-8", "replace")
        p.stderr.close()
        if p.returncode == 0:
            print("   NOTE %s: the job finished before SIGINT (exit 0); interrupt not tested" % c)
            continue
        T.check(c, p.returncode == 130, "exit %s, want 130; stderr %r\n    command: %s" % (
            p.returncode, err[:500], " ".join(cmd)))
        T.check(c, not staging_leftovers(folder), "staging leftovers: %s" % staging_leftovers(folder))
        if old is None:
            T.check(c, os.listdir(folder) == [], "folder holds %s after the interrupt" % os.listdir(folder))
        else:
            here = sorted(os.listdir(folder))
            same = os.path.exists(out) and open(out).read() == old
            T.check(c, here == ["out.csv"] and same,
                    "the old out.csv must stay as it was (folder holds %s, unchanged: %s)" % (here, same))


# --------------------------------------------------------------------------
# 7. nodata 1e300 on Float32, +inf pixel
# --------------------------------------------------------------------------


def case_inf_pixel(case, E, T):
    d = (np.arange(16 * 16, dtype=np.float32).reshape(16, 16) / 4).astype(np.float32)
    d[3, 4] = np.inf
    d[5, 6] = -np.inf
    d[7, 7] = np.finfo(np.float32).max
    gt = (0.0, 1.0, 0.0, 16.0, 0.0, -1.0)
    base = rptest.create_raster(E.p("infbase.tif"), d, "Float32", gt=gt, block=(16, 16))
    vrt = one_source_vrt(E.p("inf.vrt"), 16, 16, "Float32", base, 16, 16,
                         band_xml="<NoDataValue>1e300</NoDataValue>")
    envi = rptest.create_raster(E.p("inf_envi.bin"), d, "Float32", gt=gt, nodata=1e300, driver="ENVI", block=None)
    # (col, row) -> expected text
    cells = [((4, 3), "inf"), ((6, 5), "-inf"), ((7, 7), "3.4028235e+38"), ((0, 0), "0"), ((1, 0), "0.25")]
    recs = ["%d,%s,%s" % (k, FC(c + 0.5), FC(16 - r - 0.5)) for k, ((c, r), _) in enumerate(cells)]
    pts = write_raw(E.p("inf.csv"), "id,x,y\n" + "\n".join(recs) + "\n")
    for label, path in (("VRT", vrt), ("ENVI", envi)):
        ds = gdal.Open(path)
        b = ds.GetRasterBand(1)
        nd, arr, mask = b.GetNoDataValue(), b.ReadAsArray(), b.GetMaskBand().ReadAsArray()
        ds = None
        if nd != 1e300 or not np.isposinf(arr[3, 4]) or mask[3, 4] == 0:
            raise AssertionError("test setup (%s): nodata %r, pixel %r, GDAL mask %r" % (
                label, nd, arr[3, 4], mask[3, 4]))
        want = "id,x,y,b1,status\n" + "".join(
            "%s,%s,%s\n" % (rec, t, "ok" if mask[r, c] else "nodata") for rec, ((c, r), t) in zip(recs, cells))
        r = rptest.extract([path, "--points", pts, "--status"])
        T.check(case, r.code == 0, "(%s) exit %s\n    %s" % (label, r.code, r.describe()))
        same_text(T, "%s (%s)" % (case, label), r.text, want, r.cmd)


# --------------------------------------------------------------------------
# 8. every point off the raster
# --------------------------------------------------------------------------


def case_all_outside(case, E, T):
    rng = np.random.default_rng(8)
    lon, lat = rng.uniform(12, 18, 30), rng.uniform(36, 47, 30)
    pts = E.p("lonlat.csv")
    lines = rptest.write_points_csv(pts, lon, lat, header=("id", "lon", "lat"))
    inside, _, _ = E.o.locate(lon, lat)
    assert not inside.any(), "test setup: a lon/lat point falls on the UTM raster"
    r = rptest.extract([E.r, "--points", pts, "--status"])
    T.check(case, r.code == 0, "exit %s, want 0\n    %s" % (r.code, r.describe()))
    T.check(case, re.search(r"none of", r.err, re.I) and "--points-crs" in r.err,
            "stderr does not warn that no point falls on the raster (with --points-crs): %r" % r.err)
    want = lines[0] + ",b1,status\n" + "".join(l + ",,outside\n" for l in lines[1:])
    same_text(T, case, r.text, want, r.cmd)
    # control: one point on the raster -> no such warning
    r = rptest.extract([E.r, "--status"], stdin="\n".join(lines) + "\n%d,%s,%s\n" % (
        len(lon), FC(E.ix[0]), FC(E.iy[0])))
    T.check(case, r.code == 0 and "--points-crs" not in r.err,
            "(one point on the raster) exit %s, stderr %r: no warning expected" % (r.code, r.err))


# --------------------------------------------------------------------------
# 9. 1e400, nan, inf coordinates
# --------------------------------------------------------------------------


def case_special_coords(case, E, T):
    xs, ys = E.xs[:6], E.ys[:6]
    v, st = E.expect(xs, ys)
    X, Y = [FC(a) for a in xs], [FC(b) for b in ys]
    recs = ["0,%s,%s" % (X[0], Y[0]),      # line 2
            "1,1e400,%s" % Y[1],           # line 3: bad
            "2,%s,%s" % (X[2], Y[2]),      # line 4
            "3,%s,-1e400" % X[3],          # line 5: bad
            "4,%s,%s" % (X[4], Y[4])]      # line 6
    path = write_raw(E.p("e400.csv"), "id,x,y\n" + "\n".join(recs) + "\n")
    r = rptest.extract([E.r, "--points", path, "--status"])
    T.check(case, r.code == 1, "(1e400) exit %s, want 1\n    %s" % (r.code, r.describe()))
    got = sorted(int(m) for m in re.findall(r"^rasterpool: %s:(\d+): " % re.escape(path), r.err, re.M))
    T.check(case, got == [3, 5], "(1e400) stderr names lines %s, want [3, 5]: %r" % (got, r.err))
    want = "id,x,y,b1,status\n"
    for k, rec in enumerate(recs):
        want += rec + (",,error\n" if k in (1, 3) else ",%s,%s\n" % (v[k], st[k]))
    same_text(T, case + " (1e400)", r.text, want, r.cmd)
    specials = [("nan", Y[1]), (X[1], "nan"), ("NaN", "NAN"), ("inf", Y[2]), (X[2], "-inf"),
                ("-inf", "inf"), ("Infinity", Y[3])]
    recs = ["0,%s,%s" % (X[0], Y[0])] + ["%d,%s,%s" % (k + 1, a, b) for k, (a, b) in enumerate(specials)]
    path = write_raw(E.p("nan.csv"), "id,x,y\n" + "\n".join(recs) + "\n")
    r = rptest.extract([E.r, "--points", path, "--status"])
    T.check(case, r.code == 0, "(nan/inf) exit %s, want 0\n    %s" % (r.code, r.describe()))
    want = "id,x,y,b1,status\n%s,%s,%s\n" % (recs[0], v[0], st[0]) + "".join(rec + ",,outside\n" for rec in recs[1:])
    same_text(T, case + " (nan/inf)", r.text, want, r.cmd)


# --------------------------------------------------------------------------
# 10. --plan over more than 2^32 blocks
# --------------------------------------------------------------------------


def case_huge_plan(case, E, T):
    HW, HH, B = 40000000, 20000000, 128
    src = rptest.create_raster(E.p("tiny.tif"), np.ones((8, 8), dtype=np.uint8), "Byte", block=None)
    vrt = one_source_vrt(E.p("huge.vrt"), HW, HH, "Byte", src, 8, 8,
                         band_attrs=' blockXSize="%d" blockYSize="%d"' % (B, B))
    ds = gdal.Open(vrt)
    if (ds.RasterXSize, ds.RasterYSize, tuple(ds.GetRasterBand(1).GetBlockSize())) != (HW, HH, (B, B)):
        raise AssertionError("test setup: GDAL reads the VRT as %s" % (
            (ds.RasterXSize, ds.RasterYSize, ds.GetRasterBand(1).GetBlockSize()),))
    ds = None
    xs = np.array([0.5, 0.7, 127.9, 128.0, 39999999.9, 40000000.0, 20000000.5, 20000000.9,
                   100.0, 129.0, -1.0, 5.0, 40000000.5, 17.0, 33333333.3])
    ys = np.array([19999999.5, 19999999.2, 19999873.0, 19999872.0, 0.1, 0.0, 10000000.5, 10000000.1,
                   100.0, 100.0, 5.0, 20000000.5, 3.0, 19000000.0, 123456.7])
    pts = E.p("huge.csv")
    rptest.write_points_csv(pts, xs, ys)
    px, py = xs - 0.0, HH - ys
    inside = (px >= 0) & (px <= HW) & (py >= 0) & (py <= HH)
    col = np.minimum(np.floor(px[inside]), HW - 1).astype(np.int64)
    row = np.minimum(np.floor(py[inside]), HH - 1).astype(np.int64)
    blocks = len(set(zip((col // B).tolist(), (row // B).tolist())))
    total = -(-HW // B) * -(-HH // B)
    assert total > 2 ** 32
    t0 = time.time()
    r = rptest.extract([vrt, "--points", pts, "--plan"], timeout=60)
    dt = time.time() - t0
    if not T.check(case, r.code == 0, "exit %s, want 0\n    %s" % (r.code, r.describe())):
        return
    mi = re.search(r"points inside:\s*(\d+)", r.text)
    mo = re.search(r"points outside:\s*(\d+)", r.text)
    mb = re.search(r"blocks touched:\s*(\d+)\s+of\s+(\d+)", r.text)
    if not T.check(case, mi and mo and mb, "plan output lacks the counts:\n%s" % r.text):
        return
    got = (int(mi.group(1)), int(mo.group(1)), int(mb.group(1)), int(mb.group(2)))
    want = (int(inside.sum()), int((~inside).sum()), blocks, total)
    T.check(case, got == want, "plan (inside, outside, blocks touched, of) %s, want %s\n%s" % (got, want, r.text))
    T.check(case, dt < 20, "--plan took %.1f s" % dt)


# --------------------------------------------------------------------------
# 11. -j bounds
# --------------------------------------------------------------------------


def case_threads_bounds(case, E, T):
    pts = E.p("pts11.csv")
    rptest.write_points_csv(pts, E.xs[:5], E.ys[:5])
    for args in (["-j", "100000"], ["--threads", "100000"], ["-j", "0"], ["-j", "-3"]):
        t0 = time.time()
        r = rptest.extract([E.r, "--points", pts] + args, timeout=60)
        T.check(case, r.code == 2, "%s: exit %s, want 2\n    %s" % (" ".join(args), r.code, r.describe()))
        T.check(case, "-j" in r.err or "--threads" in r.err,
                "%s: stderr does not name -j/--threads: %r" % (" ".join(args), r.err))
        T.check(case, time.time() - t0 < 10, "%s: took %.1f s" % (" ".join(args), time.time() - t0))


# --------------------------------------------------------------------------
# 12/13. rows longer / shorter than the header
# --------------------------------------------------------------------------


def case_long_row(case, E, T):
    xs, ys = E.xs[:5], E.ys[:5]
    v, st = E.expect(xs, ys)
    X, Y = [FC(a) for a in xs], [FC(b) for b in ys]
    recs = ["0,%s,%s,a" % (X[0], Y[0]),
            "1,%s,%s,a,extra,\"more,quoted\"" % (X[1], Y[1]),   # line 3: 6 fields, header 4
            "2,%s,%s,b" % (X[2], Y[2]),
            "3,%s,%s,c,d" % (X[3], Y[3]),                         # line 5: 5 fields
            "4,%s,%s,e" % (X[4], Y[4])]
    path = write_raw(E.p("long.csv"), "id,x,y,note\n" + "\n".join(recs) + "\n")
    r = rptest.extract([E.r, "--points", path, "--status"])
    T.check(case, r.code == 0, "exit %s, want 0\n    %s" % (r.code, r.describe()))
    got = sorted(int(m) for m in re.findall(r"%s:(\d+):" % re.escape(path), r.err))
    T.check(case, got == [3, 5], "stderr warns about lines %s, want [3, 5]: %r" % (got, r.err))
    want = "id,x,y,note,b1,status\n" + "".join("%s,%s,%s\n" % (rec, a, s) for rec, a, s in zip(recs, v, st))
    same_text(T, case, r.text, want, r.cmd)


def case_short_row(case, E, T):
    xs, ys = E.xs[:5], E.ys[:5]
    v, st = E.expect(xs, ys)
    X, Y = [FC(a) for a in xs], [FC(b) for b in ys]
    header = "id,x,y,note,extra"
    recs = ["0,%s,%s,a,b" % (X[0], Y[0]),
            "1,%s,%s" % (X[1], Y[1]),          # 3 of 5 fields
            "2,%s,%s,a,b" % (X[2], Y[2]),
            "3,%s,%s,only" % (X[3], Y[3]),     # 4 of 5 fields
            "4,%s,%s,a,b" % (X[4], Y[4])]
    path = write_raw(E.p("short.csv"), header + "\n" + "\n".join(recs) + "\n")
    for label, args, stdin in (("file", ["--points", path], None), ("stdin", [], open(path, "rb").read())):
        c = "%s (%s)" % (case, label)
        r = rptest.extract([E.r, "--status"] + args, stdin=stdin)
        T.check(c, r.code == 0, "exit %s, want 0\n    %s" % (r.code, r.describe()))
        hdr, rows = rptest.parse_csv(r.text)
        if not T.check(c, hdr == header.split(",") + ["b1", "status"] and len(rows) == 5,
                       "header %r, %d rows\n    %s" % (hdr, len(rows), r.cmd)):
            continue
        kb, ks = hdr.index("b1"), hdr.index("status")
        for i, row in enumerate(rows):
            T.check(c, len(row) == len(hdr) and row[0] == str(i) and row[kb] == v[i] and row[ks] == st[i],
                    "row %d: %r: want %d fields, b1 %r and status %r under their names" % (
                        i, row, len(hdr), v[i], st[i]))
        want_line = "1,%s,%s,,,%s,%s" % (X[1], Y[1], v[1], st[1])
        T.check(c, r.text.split("\n")[2] == want_line, "short row printed %r, want %r" % (
            r.text.split("\n")[2], want_line))


# --------------------------------------------------------------------------
# issue 17, item 7: Ctrl-C in the write phase at -j 1; while opening a FIFO
# --------------------------------------------------------------------------


def staged_file_growing(folder):
    """The size of a staged output file in folder (the writer is writing)."""
    for n in os.listdir(folder):
        if "rp-tmp" in n:
            d = os.path.join(folder, n)
            try:
                for m in os.listdir(d):
                    if os.path.getsize(os.path.join(d, m)) > 0:
                        return True
            except OSError:
                pass
    return False


def case_17_7_sigint_write_j1(case, E, T):
    """SIGINT while the CSV writer writes, at -j 1: the process is stopped
    (SIGSTOP) as soon as its staged output has bytes, sent SIGINT, and
    continued, so the signal lands in the write phase whatever the machine's
    speed: exit 130, no output, no staging folder."""
    pts = E.p("w17.csv")
    if not os.path.exists(pts):
        rng = np.random.default_rng(3)
        x = rng.uniform(GT[0], GT[0] + W * GT[1], 600000)
        y = rng.uniform(GT[3] + H * GT[5], GT[3], 600000)
        pad = "p" * 60
        with open(pts, "w") as f:
            f.write("id,x,y,pad\n")
            f.write("".join("%d,%.3f,%.3f,%s\n" % (i, a, b, pad) for i, (a, b) in enumerate(zip(x, y))))
    folder = E.folder("w17")
    out = os.path.join(folder, "out.csv")
    cmd = [rptest.binary(), "extract", E.r, "--points", pts, "-o", out, "-j", "1", "-q"]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    seen = False
    end = time.time() + 120
    while time.time() < end and p.poll() is None:
        if staged_file_growing(folder):
            p.send_signal(signal.SIGSTOP)
            seen = True
            break
        time.sleep(0.002)
    if not seen:
        p.kill()
        p.wait()
        return T.fail(case, "the write phase was not seen (exit %s)" % p.returncode)
    p.send_signal(signal.SIGINT)
    p.send_signal(signal.SIGCONT)
    if not wait_exit(p, 60):
        p.kill()
        p.wait()
        return T.fail(case, "still running 60 s after SIGINT")
    err = p.stderr.read().decode("utf-8", "replace")
    T.check(case, p.returncode == 130, "exit %s, want 130; stderr %r" % (p.returncode, err[:300]))
    T.check(case, os.listdir(folder) == [], "folder holds %s" % os.listdir(folder))


def case_17_7_sigint_fifo(case, E, T):
    """SIGINT while rasterpool waits to open a FIFO output (no reader yet):
    exit 130, not 3; the FIFO stays a FIFO."""
    folder = E.folder("fifo17")
    fifo = os.path.join(folder, "out.csv")
    os.mkfifo(fifo)
    pts = write_raw(E.p("fifo17.csv"), "x,y\n%s,%s\n" % (FC(E.ix[0]), FC(E.iy[0])))
    p = subprocess.Popen([rptest.binary(), "extract", E.r, "--points", pts, "-o", fifo, "-q"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)

    def waiting_on_fifo():
        try:
            with open("/proc/%d/wchan" % p.pid) as f:
                wchan = f.read()
            return "fifo" in wchan or "partner" in wchan  # wait_for_partner: fifo_open
        except OSError:
            return False
    end = time.time() + 60
    while time.time() < end and p.poll() is None and not waiting_on_fifo():
        time.sleep(0.01)
    if p.poll() is not None or not waiting_on_fifo():
        p.kill()
        p.wait()
        return T.fail(case, "rasterpool never waited on the FIFO (exit %s)" % p.returncode)
    p.send_signal(signal.SIGINT)
    if not wait_exit(p, 30):
        p.kill()
        p.wait()
        return T.fail(case, "still running 30 s after SIGINT")
    err = p.stderr.read().decode("utf-8", "replace")
    T.check(case, p.returncode == 130, "exit %s, want 130; stderr %r" % (p.returncode, err[:300]))
    T.check(case, stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced")


def case_17_12_missing_vrt_source(case, E, T):
    """Issue 17 item 12: a VRT source file that does not exist: its points
    fail (exit 1) and the message says "No such file or directory", not
    "not a raster GDAL can read"."""
    folder = E.folder("vrt17")
    vrt = os.path.join(folder, "m.vrt")
    src = '<SimpleSource><SourceFilename relativeToVRT="1">%s</SourceFilename><SourceBand>1' \
          '</SourceBand><SrcRect xOff="0" yOff="0" xSize="%d" ySize="%d"/><DstRect xOff="0" ' \
          'yOff="0" xSize="%d" ySize="%d"/></SimpleSource>'
    with open(vrt, "w") as f:
        f.write('<VRTDataset rasterXSize="%d" rasterYSize="%d"><GeoTransform>%s</GeoTransform>'
                '<VRTRasterBand dataType="Int32" band="1">%s</VRTRasterBand></VRTDataset>' % (
                    W, H, ",".join(repr(v) for v in GT),
                    src % ("no_such_source.tif", W, H, W, H)))
    pts = write_raw(E.p("vrt17.csv"), "x,y\n%s,%s\n" % (FC(E.ix[0]), FC(E.iy[0])))
    r = rptest.extract([vrt, "--points", pts])
    T.check(case, r.code == 1 and "no_such_source.tif" in r.err
            and "No such file or directory" in r.err and "not a raster GDAL" not in r.err,
            "exit %s: %r" % (r.code, r.err[-400:]))


def case_17_11_spool_tmpdir(case, E, T):
    """Issue 17 item 11: standard input is spooled in $TMPDIR: a TMPDIR that
    does not exist fails with exit 3, naming the folder and the reason."""
    bad = E.p("no_such_tmpdir")
    pts = "x,y\n%s,%s\n" % (FC(E.ix[0]), FC(E.iy[0]))
    p = subprocess.run([rptest.binary(), "extract", E.r, "-q"], input=pts.encode(),
                       capture_output=True, env=dict(os.environ, TMPDIR=bad))
    err = p.stderr.decode("utf-8", "replace")
    T.check(case, p.returncode == 3 and bad in err and "No such file or directory" in err,
            "exit %s: %r" % (p.returncode, err[-300:]))
    ok = E.folder("tmpdir17")
    p = subprocess.run([rptest.binary(), "extract", E.r, "-q"], input=pts.encode(),
                       capture_output=True, env=dict(os.environ, TMPDIR=ok))
    T.check(case, p.returncode == 0 and os.listdir(ok) == [],
            "TMPDIR %s: exit %s, left %s" % (ok, p.returncode, os.listdir(ok)))


# Runs argv[1:] (stdout discarded) and prints its peak RSS in KiB. A child
# of a small process: Linux carries the forking process's peak RSS into the
# child's ru_maxrss across exec, and this test's Python holds big arrays.
_PEAK_RSS_HELPER = """
import os, resource, subprocess, sys
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss_mib(args):
    """Runs rasterpool with args, its output discarded; (exit code, stderr,
    the process's peak resident set in MiB, from the kernel's rusage).
    Under AddressSanitizer (the suite's ASan stage) freed memory waits in a
    quarantine of up to 256 MB before reuse, which would count as held: the
    quarantine is turned off for these runs, so what is measured is what
    rasterpool holds (plus ASan's per-allocation redzones)."""
    env = dict(os.environ)
    if env.get("ASAN_OPTIONS"):
        env["ASAN_OPTIONS"] += ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
    p = subprocess.run([sys.executable, "-c", _PEAK_RSS_HELPER, rptest.binary()] + args,
                       capture_output=True, env=env)
    code, kib = p.stdout.decode().split()
    return int(code), p.stderr.decode("utf-8", "replace"), int(kib) / 1024.0


def case_17_11_long_rows_j1(case, E, T):
    """Issue 17 item 11: at -j 1 a points file with very long rows (48 MB:
    2,400 rows with a 20,000-character text column) is read back in slices
    of at most 8 MiB of text, so the peak memory beyond the same job on a
    10-row file stays within README's in-flight bound (two slices of text
    and their formatted rows, 32 MiB, and the direct output's four 4 MiB
    buffers: 48 MiB; 50 MiB allowed; 42 MiB measured). It used to hold the
    whole file and its formatted rows (about 2 x 48 MB)."""
    note = "n" * 20000
    def write(path, n):
        with open(path, "w") as f:
            f.write("x,y,note\n")
            for i in range(n):
                f.write("%s,%s,%s\n" % (FC(E.ix[i % len(E.ix)]), FC(E.iy[i % len(E.iy)]), note))
        return path
    small, big = write(E.p("long_small.csv"), 10), write(E.p("long_big.csv"), 2400)
    runs = {}
    for name, path in (("small", small), ("big", big)):
        out = E.p("long_%s_out.csv" % name)
        code, err, peak = peak_rss_mib(["extract", E.r, "--points", path, "-j", "1", "-q",
                                        "-o", out])
        T.check(case, code == 0, "%s: exit %s: %r" % (name, code, err[-300:]))
        runs[name] = peak
    with open(E.p("long_big_out.csv")) as f:
        n = sum(1 for _ in f)
    T.check(case, n == 2401, "the output has %d lines, want 2401" % n)
    grew = runs["big"] - runs["small"]
    # ASan's redzones around each allocation add a few MiB (37 measured
    # with two direct buffers, 8 MiB fewer); the whole-file behaviour this
    # guards against costs 2 x 48 MB and more
    limit = 58 if os.environ.get("ASAN_OPTIONS") else 50
    print("    peak RSS: %.1f MiB (10 rows), %.1f MiB (48 MB)" % (runs["small"], runs["big"]))
    if os.environ.get("TSAN_OPTIONS"):
        # ThreadSanitizer's shadow memory grows with every byte touched: the
        # bound is checked by the plain and ASan stages
        print("   NOTE %s: under ThreadSanitizer, memory not checked" % case)
        return
    T.check(case, grew < limit, "peak RSS %.1f MiB for the 48 MB file, %.1f MiB for 10 rows: "
            "%.1f MiB more, want under %d" % (runs["big"], runs["small"], grew, limit))


def main():
    T = rptest.Tester("cli_robustness")
    rptest.binary()
    with tempfile.TemporaryDirectory(prefix="rp_rob_") as tmp:
        E = Env(tmp)
        for name, fn in [
            ("1 unclosed quote", case_unclosed_quote),
            ("2 column name clash", case_name_clash),
            ("3 FlatGeobuf keeps every good row in order, says it drops bad ones", case_fgb_rows),
            ("4 multi-file formats", case_multifile),
            ("5 -o folder / missing folder", case_output_folder),
            ("6a SIGINT while reading an open pipe", case_sigint_pipe),
            ("6b SIGINT during a job writing a file", case_sigint_file),
            ("7 Float32 nodata 1e300 and +inf pixel", case_inf_pixel),
            ("8 every point off the raster", case_all_outside),
            ("9 1e400 / nan / inf coordinates", case_special_coords),
            ("10 --plan over more than 2^32 blocks", case_huge_plan),
            ("11 -j bounds", case_threads_bounds),
            ("12 row longer than the header", case_long_row),
            ("13 row shorter than the header", case_short_row),
            ("17.7a SIGINT in the write phase at -j 1", case_17_7_sigint_write_j1),
            ("17.7b SIGINT while opening a FIFO", case_17_7_sigint_fifo),
            ("17.12 missing VRT source: no such file", case_17_12_missing_vrt_source),
            ("17.11 the stdin spool honours TMPDIR", case_17_11_spool_tmpdir),
            ("17.11 long rows at -j 1: bounded memory", case_17_11_long_rows_j1),
        ]:
            T.run_case(name, fn, E, T)
    T.finish()


if __name__ == "__main__":
    main()
