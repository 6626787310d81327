#!/usr/bin/python3
"""cli_shard — `--shard I/N` (job arrays without MPI): shards 0..N-1
together equal the whole run.

Oracles: gdal_translate run alone on each input (pixels, size, CRS via
numpy); the expected output names come from the inputs' stems; which task
lands in which shard is recomputed here from the documented rule (inputs
sorted by path, position k goes to shard k % N).

Cases:
  1. batch translate over 11 inputs, --shard I/4 for I = 0..3 (inputs given
     in a shuffled order): every output made by exactly one shard, the one the
     rule names; each equal to gdal_translate's; each shard's journal
     (rasterpool-batch.shard-I-of-4.jsonl) lists exactly its tasks;
  2. the same shard twice with the inputs in another order: same task set;
     --resume of a shard skips all its tasks;
  3. a shard with no task (--shard 5/20 of 11 inputs): exit 0, nothing made;
  4. usage errors (exit 2): 4/4, -1/3, 1/0, a/b, 1/2/3, empty.
  5. extract of 1003 CSV points (2 unparsable rows, some off the raster) with
     --status, as N = 1, 4 and 7 shards, from a file and from standard input:
     the parts, concatenated with every header after the first dropped, are
     the whole run's output byte for byte; the whole run's values are the
     raster's (numpy) at the points' cells; a part's exit status is 1 exactly
     when it holds an unparsable row; each part has the rows the documented
     formula floor(I*n/N) gives.
  6. extract of 200,003 points (pass 2 reads them in slices of 65,536 rows,
     some of which a part skips whole) as 3 and 5 parts: concatenated, they
     are the whole run's output byte for byte.
  7. zonal of 61 polygons (rectangles on cell edges checked against numpy's
     count and mean; a bow-tie repaired: exit 1) as N = 1, 3 and 7 parts: each
     part has floor((I+1)*n/N) - floor(I*n/N) rows, and the parts
     concatenated (headers after the first dropped) are the whole output;
     --shard 3/3 is a usage error.
Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 cli_shard.py
"""
import json
import os
import random
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
import numpy as np  # noqa: E402

import rptest  # noqa: E402
from zonal_fixture import ZONAL_STATS, check_zonal_numpy, zonal_data  # noqa: E402
from rptest import gdal  # noqa: E402


def make_inputs(folder, n=11):
    rng = np.random.default_rng(13)
    paths = []
    for i in range(n):
        p = os.path.join(folder, "in_%02d_%s.tif" % (i, "abcdefghijk"[(i * 7) % 11]))
        data = rng.integers(0, 30000, size=(20 + i, 17)).astype(np.int16)
        rptest.create_raster(p, data, dtype="Int16", nodata=-1 if i % 2 else None)
        paths.append(p)
    return paths


def read(path):
    ds = gdal.Open(path)
    a = ds.ReadAsArray()
    return a, ds.GetGeoTransform(), ds.RasterXSize, ds.RasterYSize


def stem_out(out_dir, inp):
    return os.path.join(out_dir, os.path.splitext(os.path.basename(inp))[0] + ".tif")


def journal_outputs(path):
    outs = []
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("outcome") == "done":
                outs.append(rec["output"])
    return outs


def case_batch_union(case, inputs, tmp):
    n = 4
    out_dir = os.path.join(tmp, "union")
    order = list(inputs)
    random.Random(3).shuffle(order)
    ranked = sorted(inputs)
    seen = {}
    for i in range(n):
        r = rptest.rp(["batch", "translate"] + order + ["--out-dir", out_dir, "--shard",
                                                       "%d/%d" % (i, n), "-q", "--", "-of", "GTiff"])
        if not T.check(case, r.code == 0, "shard %d/%d: %s" % (i, n, r.describe())):
            continue
        jpath = os.path.join(out_dir, "rasterpool-batch.shard-%d-of-%d.jsonl" % (i, n))
        want = sorted(stem_out(out_dir, ranked[k]) for k in range(len(ranked)) if k % n == i)
        got = sorted(journal_outputs(jpath)) if os.path.exists(jpath) else []
        T.check(case, got == want, "shard %d journal lists %s, rule says %s" % (i, got, want))
        for o in got:
            seen[o] = seen.get(o, 0) + 1
    want_all = sorted(stem_out(out_dir, p) for p in inputs)
    T.check(case, sorted(seen) == want_all, "union of shards %s != whole %s" % (sorted(seen), want_all))
    T.check(case, all(c == 1 for c in seen.values()), "an output made twice: %s" % seen)
    made = sorted(os.path.join(out_dir, f) for f in os.listdir(out_dir) if f.endswith(".tif"))
    T.check(case, made == want_all, "files in out-dir %s != %s" % (made, want_all))
    for p in inputs:
        oracle = os.path.join(tmp, "oracle_" + os.path.basename(p))
        gdal.Translate(oracle, p, format="GTiff")
        a, gt_a, w_a, h_a = read(oracle)
        o = stem_out(out_dir, p)
        if not os.path.exists(o):
            continue
        b, gt_b, w_b, h_b = read(o)
        T.check(case, (w_a, h_a, gt_a) == (w_b, h_b, gt_b) and np.array_equal(a, b),
                "%s differs from gdal_translate's" % o)


def case_order_and_resume(case, inputs, tmp):
    out_a, out_b = os.path.join(tmp, "order_a"), os.path.join(tmp, "order_b")
    for out, order in ((out_a, inputs), (out_b, list(reversed(inputs)))):
        r = rptest.rp(["batch", "translate"] + order + ["--out-dir", out, "--shard", "2/3", "-q"])
        T.check(case, r.code == 0, r.describe())
    names = [sorted(f for f in os.listdir(d) if f.endswith(".tif")) for d in (out_a, out_b)]
    T.check(case, names[0] == names[1] and names[0], "shard 2/3 depends on input order: %s" % names)
    r = rptest.rp(["batch", "translate"] + inputs + ["--out-dir", out_a, "--shard", "2/3",
                                                    "--resume"])
    T.check(case, r.code == 0 and "skipped" in r.err and " 0 done" in r.err,
            "resume of a finished shard redid work: %s" % r.describe())


def case_empty_shard(case, inputs, tmp):
    out = os.path.join(tmp, "empty")
    r = rptest.rp(["batch", "translate"] + inputs + ["--out-dir", out, "--shard", "15/20", "-q"])
    T.check(case, r.code == 0, r.describe())
    made = [f for f in os.listdir(out) if f.endswith(".tif")] if os.path.isdir(out) else []
    T.check(case, made == [], "an empty shard made %s" % made)


def case_usage(case, inputs, tmp):
    for bad in ("4/4", "-1/3", "1/0", "a/b", "1/2/3", "", "1/", "/3"):
        r = rptest.rp(["batch", "translate", inputs[0], "--out-dir", os.path.join(tmp, "u"),
                       "--shard", bad])
        T.check(case, r.code == 2 and "--shard" in r.err, "--shard %r: %s" % (bad, r.describe()))


T = None


def make_points(tmp):
    rng = np.random.default_rng(7)
    data = rng.integers(0, 1000, size=(40, 50)).astype(np.int32)
    raster = os.path.join(tmp, "r.tif")
    gt = (100.0, 2.0, 0.0, 500.0, 0.0, -2.0)
    rptest.create_raster(raster, data, dtype="Int32", gt=gt)
    n = 1003
    cols = rng.integers(-3, 53, size=n)
    rows = rng.integers(-3, 43, size=n)
    lines = ["id,x,y"]
    bad_rows = {17, 640}
    for i in range(n):
        if i in bad_rows:
            lines.append("%d,oops,%d" % (i, i))
        else:
            lines.append("%d,%s,%s" % (i, 100.0 + 2.0 * cols[i] + 1.0, 500.0 - 2.0 * rows[i] - 1.0))
    pts = os.path.join(tmp, "pts.csv")
    with open(pts, "w") as f:
        f.write("\n".join(lines) + "\n")
    return raster, pts, data, cols, rows, bad_rows, n


def case_extract_parts(case, tmp):
    raster, pts, data, cols, rows, bad_rows, n = make_points(tmp)
    whole = rptest.extract([raster, "--points", pts, "--status", "-q"])
    if not T.check(case, whole.code == 1, "whole run (2 bad rows): %s" % whole.describe()):
        return
    lines = whole.text.splitlines()
    T.check(case, len(lines) == n + 1, "whole run has %d lines" % len(lines))
    lim = rptest.Limited(T, case)
    for i, line in enumerate(lines[1:]):
        f = line.split(",")
        if i in bad_rows:
            want = ["", "error"]
        elif 0 <= cols[i] < 50 and 0 <= rows[i] < 40:
            want = [str(data[rows[i], cols[i]]), "ok"]
        else:
            want = ["", "outside"]
        if f[3:] != want:
            lim.add("row %d: %s, numpy says %s" % (i, f[3:], want))
    lim.flush("whole run vs numpy: ")
    stdin_text = open(pts).read()
    for parts in (1, 4, 7):
        for source in ("file", "stdin"):
            merged = b""
            for i in range(parts):
                args = [raster, "--status", "-q", "--shard", "%d/%d" % (i, parts)]
                if source == "file":
                    r = rptest.extract(args + ["--points", pts])
                else:
                    r = rptest.extract(args, stdin=stdin_text)
                lo, hi = i * n // parts, (i + 1) * n // parts
                want_code = 1 if any(lo <= b < hi for b in bad_rows) else 0
                T.check(case, r.code == want_code, "part %d/%d (%s) exit %s, want %d: %s" % (
                    i, parts, source, r.code, want_code, r.describe()))
                out = r.out.split(b"\n", 1)
                T.check(case, out[0] == lines[0].encode(), "part %d/%d header %r" % (i, parts, out[0]))
                body = out[1] if len(out) > 1 else b""
                T.check(case, body.count(b"\n") == hi - lo,
                        "part %d/%d has %d rows, formula says %d" % (i, parts, body.count(b"\n"), hi - lo))
                merged += r.out if i == 0 else body
            T.check(case, merged == whole.out,
                    "%d parts (%s) concatenated differ from the whole run" % (parts, source))


def case_extract_slices(case, tmp):
    raster = os.path.join(tmp, "big.tif")
    rng = np.random.default_rng(3)
    rptest.create_raster(raster, rng.normal(0, 100, (64, 64)).astype(np.float32), "Float32",
                         gt=(0.0, 1.0, 0.0, 64.0, 0.0, -1.0))
    n = 200003
    xs, ys = rng.uniform(-2, 66, n), rng.uniform(-2, 66, n)
    pts = os.path.join(tmp, "big.csv")
    with open(pts, "w") as f:
        f.write("x,y,tag\n")
        f.writelines("%.3f,%.3f,t%d\n" % (xs[i], ys[i], i) for i in range(n))
    whole = rptest.extract([raster, "--points", pts, "-q", "-j", "2"])
    if not T.check(case, whole.code == 0 and whole.out.count(b"\n") == n + 1, whole.describe()):
        return
    for parts in (3, 5):
        merged = b""
        for i in range(parts):
            r = rptest.extract([raster, "--points", pts, "-q", "-j", "2", "--shard",
                                "%d/%d" % (i, parts)])
            T.check(case, r.code == 0, r.describe())
            merged += r.out if i == 0 else r.out.split(b"\n", 1)[1]
        T.check(case, merged == whole.out, "%d parts concatenated differ from the whole" % parts)


def case_zonal_parts(case, tmp):
    data, raster, polys, windows = zonal_data(tmp, "shard")
    args = ["zonal", raster, "--polygons", polys] + ZONAL_STATS + ["-q"]
    whole = rptest.rp(args)
    if not T.check(case, whole.code == 1, "whole run: " + whole.describe()):
        return
    check_zonal_numpy(T, case, whole.text, data, windows)
    n = 61
    for parts in (1, 3, 7):
        merged = b""
        for i in range(parts):
            r = rptest.rp(args + ["--shard", "%d/%d" % (i, parts)])
            T.check(case, r.code in (0, 1), "part %d/%d: %s" % (i, parts, r.describe()))
            lines = r.out.split(b"\n")
            want_rows = (i + 1) * n // parts - i * n // parts
            T.check(case, len(lines) - 2 == want_rows,
                    "part %d/%d: %d rows, want %d" % (i, parts, len(lines) - 2, want_rows))
            merged += r.out if i == 0 else r.out.split(b"\n", 1)[1]
        T.check(case, merged == whole.out, "%d parts concatenated differ from the whole" % parts)
    r = rptest.rp(args + ["--shard", "3/3"])
    T.check(case, r.code == 2 and "--shard" in r.err, "--shard 3/3: " + r.describe())


def main():
    global T
    T = rptest.Tester("cli_shard")
    with tempfile.TemporaryDirectory() as tmp:
        inputs = make_inputs(tmp)
        T.run_case("batch_union", case_batch_union, inputs, tmp)
        T.run_case("batch_order_resume", case_order_and_resume, inputs, tmp)
        T.run_case("batch_empty_shard", case_empty_shard, inputs, tmp)
        T.run_case("batch_usage", case_usage, inputs, tmp)
        T.run_case("extract_parts", case_extract_parts, tmp)
        T.run_case("extract_slices", case_extract_slices, tmp)
        T.run_case("zonal_parts", case_zonal_parts, tmp)
    T.finish()


if __name__ == "__main__":
    main()
