#!/usr/bin/python3
"""cli_raster_map — the program reads local GeoTIFFs through a memory map
of the file (libtiff decodes the tiles in place; rasterpool.h:
rp_map_raster_files), and keeps every answer, message and bound it had
reading them with pread.

- Values: a DEFLATE raster, pixel- and band-interleaved, 3 bands, value =
  1000 * row + col + 10^6 * band (computed here from the coordinates):
  mapped (-v says so) and with RASTERPOOL_MAP_RASTERS=0 (pread; -v says
  nothing) give these values, byte-identical, at -j 1 and -j 2.
- Sidecar files are part of the answer, and a map is read without them:
  a GeoTIFF without georeferencing beside a world file (.tfw), and one
  whose .aux.xml declares a nodata value, are not mapped, and their
  answers follow the sidecar (the world file's grid; nodata status where
  the .aux.xml's value lies).
- Memory: every block of a 48 MB uncompressed raster read through the map:
  the peak resident set stays within 12 MB of pread's (the map's pages
  leave it after each block), far under the file's size.
- A corrupt tile's message names the file, not the map's /vsimem/ name.
- The file truncated underneath the map (test hook
  RASTERPOOL_TEST_TRUNCATE_RASTER=1, just after mapping): SIGBUS; the
  program names the raster, removes its staged output, keeps the old one
  and exits 3.

Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 cli_raster_map.py
"""
import os
import random
import subprocess
import sys
import tempfile

import numpy as np
from osgeo import gdal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle"))
import rptest  # noqa: E402

W, H = 700, 500
MAPPED = "through a map of the file"
PREAD = {"RASTERPOOL_MAP_RASTERS": "0"}


def grid_values(bands=1):
    base = np.arange(H)[:, None] * 1000 + np.arange(W)[None, :]
    return [(base + 1_000_000 * b).astype(np.int32) for b in range(bands)]


def make_points(rng, n=5000):
    """Points inside the 700 x 500 grid at (0, 0) with 1 m pixels, north up,
    and the values they must get (row, col)."""
    pts = []
    for _ in range(n):
        col, row = rng.randrange(W), rng.randrange(H)
        pts.append((col + 0.25 + rng.random() * 0.5, -(row + 0.25 + rng.random() * 0.5), row, col))
    return pts


def write_points(path, pts):
    with open(path, "w") as f:
        f.write("id,x,y\n")
        for i, (x, y, _, _) in enumerate(pts):
            f.write("%d,%.4f,%.4f\n" % (i, x, y))


def peak_rss_kb(args, env=None):
    """The peak resident set of one rasterpool run, in KiB (GNU time)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    p = subprocess.run(["/usr/bin/time", "-f", "RSS %M", rptest.binary()] + args, env=full_env,
                       capture_output=True, text=True)
    line = [x for x in p.stderr.splitlines() if x.startswith("RSS ")]
    return p.returncode, int(line[-1].split()[1]) if line else None, p.stderr


def main():
    t = rptest.Tester("cli_raster_map")
    rng = random.Random(22)
    with tempfile.TemporaryDirectory() as tmp:
        pts = make_points(rng)
        pts_csv = os.path.join(tmp, "pts.csv")
        write_points(pts_csv, pts)
        gt = (0, 1, 0, 0, 0, -1)

        def case_values(case, interleave, threads):
            raster = os.path.join(tmp, "v_%s.tif" % interleave)
            rptest.create_raster(raster, grid_values(3), dtype="Int32", gt=gt, block=(128, 128),
                                 interleave=interleave)
            want = ["id,x,y,b1,b2,b3"]
            for i, (x, y, row, col) in enumerate(pts):
                v = row * 1000 + col
                want.append("%d,%.4f,%.4f,%d,%d,%d" % (i, x, y, v, v + 1_000_000, v + 2_000_000))
            want = ("\n".join(want) + "\n").encode()
            mapped = rptest.extract([raster, "--points", pts_csv, "-j", threads, "-v"])
            pread = rptest.extract([raster, "--points", pts_csv, "-j", threads, "-v"], env=PREAD)
            for label, run, says in (("mapped", mapped, True), ("pread", pread, False)):
                if not t.check(case, run.code == 0, "%s: exit %s\n    %s" % (
                        label, run.code, run.describe())):
                    return
                t.check(case, (MAPPED in run.err) == says, "%s: -v %s say %r:\n%s" % (
                    label, "does not" if says else "does", MAPPED, run.err[-800:]))
                t.check(case, run.out == want, "%s: values differ from 1000 * row + col + "
                        "10^6 * band (%d bytes, want %d)" % (label, len(run.out), len(want)))

        for interleave in ("PIXEL", "BAND"):
            for threads in (1, 2):
                t.run_case("values %s -j %d" % (interleave.lower(), threads), case_values,
                           interleave, threads)

        def case_world_file(case):
            # no geotransform in the file: the .tfw places it at (5000, 9000)
            raster = os.path.join(tmp, "world.tif")
            ds = gdal.GetDriverByName("GTiff").Create(raster, W, H, 1, gdal.GDT_Int32,
                                                      ["TILED=YES", "COMPRESS=DEFLATE"])
            ds.GetRasterBand(1).WriteArray(grid_values(1)[0])
            ds = None  # no geotransform, no CRS: the .tfw alone places it
            with open(os.path.join(tmp, "world.tfw"), "w") as f:
                f.write("1\n0\n0\n-1\n5000.5\n8999.5\n")  # centre of the top-left pixel
            shifted = os.path.join(tmp, "world_pts.csv")
            write_points(shifted, [(x + 5000, y + 9000, r, c) for x, y, r, c in pts[:500]])
            run = rptest.extract([raster, "--points", shifted, "-v"])
            if not t.check(case, run.code == 0, "exit %s\n    %s" % (run.code, run.describe())):
                return
            t.check(case, MAPPED not in run.err, "a raster with a world file was mapped "
                    "(its georeferencing would be lost):\n%s" % run.err[-800:])
            rows = run.out.decode().splitlines()[1:]
            bad = [r for r, (_, _, row, col) in zip(rows, pts[:500])
                   if r.split(",")[-1] != str(row * 1000 + col)]
            t.check(case, len(rows) == 500 and not bad,
                    "%d rows, %d not at the world file's grid: %s" % (len(rows), len(bad), bad[:3]))

        t.run_case("world file: not mapped", case_world_file)

        def case_aux_nodata(case):
            raster = os.path.join(tmp, "aux.tif")
            rptest.create_raster(raster, grid_values(1), dtype="Int32", gt=gt, block=(128, 128))
            nodata_value = 120 * 1000 + 77  # the pixel at row 120, col 77
            with open(raster + ".aux.xml", "w") as f:
                f.write('<PAMDataset><PAMRasterBand band="1"><NoDataValue>%d</NoDataValue>'
                        '</PAMRasterBand></PAMDataset>\n' % nodata_value)
            one = os.path.join(tmp, "aux_pts.csv")
            write_points(one, [(77.5, -120.5, 120, 77), (78.5, -120.5, 120, 78)])
            run = rptest.extract([raster, "--points", one, "--status", "-v"])
            if not t.check(case, run.code == 0, "exit %s\n    %s" % (run.code, run.describe())):
                return
            t.check(case, MAPPED not in run.err, "a raster with an .aux.xml was mapped:\n%s"
                    % run.err[-800:])
            rows = [r.split(",") for r in run.out.decode().splitlines()[1:]]
            t.check(case, len(rows) == 2 and rows[0][-1] == "nodata" and rows[1][-1] == "ok"
                    and rows[1][-2] == str(120 * 1000 + 78),
                    "want the .aux.xml's nodata at (120, 77) and 120078 beside it: %s" % rows)

        t.run_case("aux.xml nodata: not mapped", case_aux_nodata)

        def case_memory(case):
            big_w, big_h = 3200, 3800  # 48.6 MB of Float32, uncompressed
            raster = os.path.join(tmp, "big.tif")
            data = np.arange(big_w * big_h, dtype=np.float32).reshape(big_h, big_w)
            rptest.create_raster(raster, data, dtype="Float32", gt=gt, block=(256, 256),
                                 compress=None)
            every = os.path.join(tmp, "every_block.csv")
            write_points(every, [(bx * 256 + 3.5, -(by * 256 + 5.5), 0, 0)
                                 for by in range(15) for bx in range(13)])
            args = ["extract", raster, "--points", every, "-o", os.path.join(tmp, "m.csv"),
                    "-j", "2", "-v"]
            code_m, rss_m, err_m = peak_rss_kb(args)
            code_p, rss_p, err_p = peak_rss_kb(args, PREAD)
            if not t.check(case, code_m == 0 and code_p == 0 and rss_m and rss_p,
                           "exits %s %s:\n%s\n%s" % (code_m, code_p, err_m[-500:], err_p[-500:])):
                return
            t.check(case, MAPPED in err_m, "not mapped:\n%s" % err_m[-500:])
            if os.environ.get("TSAN_OPTIONS"):
                # TSan's shadow of every mapped page read stays, whatever the
                # pages do: its peak RSS says nothing about the map's
                print("   (TSan build: peak RSS %d KiB mapped, %d KiB pread; not compared)"
                      % (rss_m, rss_p))
                return
            t.check(case, rss_m <= rss_p + 12 * 1024,
                    "peak RSS mapped %d KiB, pread %d KiB: the map's pages stayed resident "
                    "(file %d KiB)" % (rss_m, rss_p, os.path.getsize(raster) // 1024))

        t.run_case("memory: pages leave the resident set", case_memory)

        def case_corrupt(case):
            raster = os.path.join(tmp, "corrupt.tif")
            rptest.create_raster(raster, grid_values(1), dtype="Int32", gt=gt, block=(128, 128))
            rptest.corrupt_blocks(raster, [(1, 1)])
            one = os.path.join(tmp, "corrupt_pts.csv")
            write_points(one, [(130.5, -130.5, 130, 130), (10.5, -10.5, 10, 10)])
            run = rptest.extract([raster, "--points", one, "--status", "-v"])
            t.check(case, run.code == 1, "exit %s, want 1 (partial)\n    %s" % (
                run.code, run.describe()))
            t.check(case, MAPPED in run.err, "not mapped:\n%s" % run.err[-500:])
            t.check(case, raster in run.err or os.path.realpath(raster) in run.err,
                    "the message does not name the file:\n%s" % run.err[-800:])
            t.check(case, "/vsimem/" not in run.err, "the map's name leaked:\n%s"
                    % run.err[-800:])

        t.run_case("corrupt tile: message names the file", case_corrupt)

        def case_truncated(case):
            victim = os.path.join(tmp, "victim.tif")
            rptest.create_raster(victim, grid_values(1), dtype="Int32", gt=gt, block=(128, 128))
            size = os.path.getsize(victim)
            outdir = os.path.join(tmp, "out")
            os.makedirs(outdir, exist_ok=True)
            out = os.path.join(outdir, "values.csv")
            with open(out, "w") as f:
                f.write("old output\n")
            run = rptest.extract([victim, "--points", pts_csv, "-o", out, "-q"],
                                 env={"RASTERPOOL_TEST_TRUNCATE_RASTER": "1"})
            t.check(case, os.path.getsize(victim) < size, "the test hook did not truncate it")
            t.check(case, run.code == 3, "exit %s, want 3 (RP_READ)\n    %s" % (
                run.code, run.describe()))
            t.check(case, "rasterpool: raster %s could not be read from its map (truncated while "
                    "being read, or an I/O error: SIGBUS)" % victim in run.err,
                    "no message naming the raster:\n%s" % run.err[-800:])
            with open(out) as f:
                t.check(case, f.read() == "old output\n", "the old output was not kept")
            t.check(case, sorted(os.listdir(outdir)) == ["values.csv"],
                    "left behind: %s" % os.listdir(outdir))

        t.run_case("truncated underneath: SIGBUS named", case_truncated)
    t.finish()


main()
