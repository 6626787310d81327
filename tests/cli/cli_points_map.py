#!/usr/bin/python3
"""cli_points_map — the program maps a CSV points file for both passes
instead of copying it (rasterpool.h: rp_map_points_files), and guards the
mapping against the file changing underneath.

- Mapped and copied (RASTERPOOL_MAP_POINTS=0: pread, as library callers
  read by default) give the same bytes, row by row (-j 1) and in parallel
  pieces (-j 2, a file over 1 MiB), and the values are the raster's own
  (value = 1000 * row + col, computed here from the coordinates).
- The file truncated between pass 1 and pass 2 (the test hook
  RASTERPOOL_TEST_TRUNCATE_POINTS=pass1 truncates it to half its size just
  after pass 1): the size check fails the job with exit 3 and a message
  naming the file; the old output stays, no staging folder is left.
- Truncated inside pass 2, after its checks (=pass2): reading the mapped
  pages past the new end raises SIGBUS; the program's handler names the
  file, removes the staged output and exits 3; the old output stays. The
  same truncation with pread fails cleanly ("changed while being read").
- Standard input is never mapped (spooled and read back with pread).
- A record over 64 MiB (an unclosed quote) is the same error mapped or
  read, row by row (-j 1) or in parallel pieces (-j 2).

Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 cli_points_map.py
"""
import os
import random
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle"))
import rptest  # noqa: E402

W, H = 400, 300
N = 60_000  # about 1.6 MB: over the 1 MiB of the parallel pieces


def make_raster(path):
    data = (np.arange(H)[:, None] * 1000 + np.arange(W)[None, :]).astype(np.int32)
    rptest.create_raster(path, data, dtype="Int32", gt=(0, 1, 0, 0, 0, -1),
                         options=["TILED=YES", "BLOCKXSIZE=64", "BLOCKYSIZE=64"])


def make_points(path, rng):
    rows = ["id,x,y,name"]
    want = ["id,x,y,name,b1"]
    for i in range(N):
        col, row = rng.randrange(W), rng.randrange(H)
        x, y = "%.4f" % (col + rng.random() * 0.99), "%.4f" % -(row + rng.random() * 0.99)
        rows.append("%d,%s,%s,name%d" % (i, x, y, i))
        want.append("%s,%d" % (rows[-1], row * 1000 + col))
    with open(path, "w", newline="") as f:
        f.write("\n".join(rows) + "\n")
    return ("\n".join(want) + "\n").encode()


def leftovers(folder, keep):
    return sorted(n for n in os.listdir(folder) if n not in keep)


def main():
    t = rptest.Tester("cli_points_map")
    with tempfile.TemporaryDirectory() as tmp:
        raster = os.path.join(tmp, "r.tif")
        pts = os.path.join(tmp, "pts.csv")
        make_raster(raster)
        want = make_points(pts, random.Random(16))

        def case_same(case, threads, env):
            run = rptest.extract([raster, "--points", pts, "-j", threads, "-q"], env=env)
            if t.check(case, run.code == 0, "exit %s\n    %s" % (run.code, run.describe())):
                t.check(case, run.out == want, "output differs from the raster's values "
                        "(%d bytes, want %d)" % (len(run.out), len(want)))

        for threads in (1, 2):
            t.run_case("mapped -j %d" % threads, case_same, threads, None)
            t.run_case("pread -j %d" % threads, case_same, threads,
                       {"RASTERPOOL_MAP_POINTS": "0"})

        outdir = os.path.join(tmp, "out")
        os.mkdir(outdir)
        out = os.path.join(outdir, "values.csv")

        def case_truncated(case, threads, stage, mapped, message):
            victim = os.path.join(tmp, "victim.csv")
            with open(pts, "rb") as f, open(victim, "wb") as g:
                g.write(f.read())
            with open(out, "w") as f:
                f.write("old output\n")
            env = {"RASTERPOOL_TEST_TRUNCATE_POINTS": stage}
            if not mapped:
                env["RASTERPOOL_MAP_POINTS"] = "0"
            run = rptest.extract([raster, "--points", victim, "-o", out, "-j", threads, "-q"],
                                 env=env)
            t.check(case, os.path.getsize(victim) < os.path.getsize(pts),
                    "the test hook did not truncate the file")
            t.check(case, run.code == 3, "exit %s, want 3 (RP_READ)\n    %s" % (
                run.code, run.describe()))
            t.check(case, message in run.err and victim in run.err,
                    "no message %r naming %s in:\n%s" % (message, victim, run.err[-1500:]))
            with open(out) as f:
                t.check(case, f.read() == "old output\n", "the old output was not kept")
            t.check(case, leftovers(outdir, {"values.csv"}) == [],
                    "left behind: %s" % leftovers(outdir, {"values.csv"}))

        for threads in (1, 2):
            t.run_case("truncated after pass 1 -j %d" % threads, case_truncated, threads,
                       "pass1", True, "the points file changed while being read")
            t.run_case("truncated in pass 2 (SIGBUS) -j %d" % threads, case_truncated, threads,
                       "pass2", True, "changed while being read (it was truncated: SIGBUS)")
            t.run_case("truncated in pass 2, pread -j %d" % threads, case_truncated, threads,
                       "pass2", False, "the points changed while being read")

        def case_stdin(case):
            with open(pts, "rb") as f:
                run = rptest.extract([raster, "-j", 2, "-q"], stdin=f.read())
            t.check(case, run.code == 0 and run.out == want,
                    "standard input (never mapped): exit %s, %d bytes, want %d" % (
                        run.code, len(run.out), len(want)))

        t.run_case("stdin", case_stdin)

        # An unclosed quote: the rest of a 65 MiB file is one record, over
        # the 64 MiB a record may hold: the same error mapped or read, row
        # by row (-j 1) or in parallel pieces (-j 2), no output.
        unclosed = os.path.join(tmp, "unclosed.csv")
        with open(unclosed, "w") as f:
            f.write('id,x,y\n1,2,3\n2,"4,5\n')
            f.write(("3,4,5," + "z" * 1017 + "\n") * (65 * 1024))

        def case_unclosed(case, jobs, env):
            run = rptest.extract([raster, "--points", unclosed, "-j", jobs, "-q"], env=env)
            t.check(case, run.code == 3 and "longer than 64 MiB" in run.err and not run.out,
                    "exit %s, want 3 and 'longer than 64 MiB': %s" % (run.code, run.err[-500:]))

        for jobs in (1, 2):
            t.run_case("unclosed quote, mapped -j %d" % jobs, case_unclosed, jobs, None)
            t.run_case("unclosed quote, pread -j %d" % jobs, case_unclosed, jobs,
                       {"RASTERPOOL_MAP_POINTS": "0"})
    t.finish()


main()
