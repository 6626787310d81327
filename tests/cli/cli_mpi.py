#!/usr/bin/python3
"""cli_mpi — `mpirun rasterpool batch/extract/zonal`: the jobs over MPI ranks.

Oracles: gdal_translate run alone on each input (pixels via numpy); the plain
run (no launcher) for byte identity; the journal's JSON lines for what was
done where. The ranks run with --oversubscribe (this machine may have fewer
cores than ranks); as root, Open MPI needs OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM),
set here for the launcher only.

Cases:
  1. batch translate of 24 rasters, plain and under mpirun -n 1 and -n 3
     (-j 2 workers a rank): exit 0; every output file byte-identical to the
     plain run's and pixel-equal to gdal_translate's; one journal with exactly
     one done record per output; with -n 3, records from workers of more than
     one rank (the workers' OMPI_COMM_WORLD_RANK, seen by a VRT pixel
     function) — the tasks really were farmed out;
  2. rank 1 SIGKILLed while it has a task in flight: the job ends (exit not
     0); a rerun with --resume on another rank count (-n 2) exits 0, and every
     output is there once, pixel-equal to gdal_translate's, with exactly one
     done record in the journal, and no temporary left;
  3. a usage error under mpirun -n 3 (a gdal_translate typo): every rank
     exits 2, one message;
  4. a failing input under mpirun -n 3: exit 1 (a non-root rank's failure
     reaches the exit status), the failure named once in the summary.
  5. extract of 5001 CSV points (one unparsable row on a non-root rank's part,
     some off the raster) with --status, plain and under mpirun -n 1 and -n 3,
     to a file and to standard output: exit 1 everywhere; the outputs are byte
     for byte the plain run's, whose values are the raster's (numpy) at the
     points' cells; no temporary left beside the output;
  6. extract with points on standard input under -n 3: farmed (no note), and
     equal to the plain run.
  7. extract farm (tasks of points grouped by block, dynamic): 30,000 points
     in random and in spatial order, a VRT mosaic with a GeoTIFF (bilinear,
     --unscale), windows (--window 3 mean/count), at -n 1 and -n 3: byte for
     byte the plain run's (whose values are numpy's at the points' cells);
     with -n 3, -v shows every rank read tasks;
  8. extract to a GeoPackage at -n 1 and -n 3: the same features as the plain
     run's;
  9. rank 2 cannot open GeoTIFFs (GDAL_SKIP=GTiff in its environment, Open
     MPI's MPMD form): a warning names it, its tasks go to the other ranks,
     and the output is still the plain run's;
  10. zonal of 61 polygons (rectangles on cell edges checked against numpy's
     count and mean; triangles, off-raster, no geometry, a bow-tie repaired:
     exit 1) at -n 1 and -n 3, to a file and to standard output: byte for
     byte the plain run's; a GeoPackage output at -n 3 is farmed too (no
     "rank 0 alone" note) and has the plain run's features.
  11. zonal farm (the plan's blocks handed out dynamically, accumulators sent
     back to rank 0): 150 rectangles on cell edges in random order over a
     300x240 Int16 raster (32x16 tiles: 150 blocks), with a class raster on
     its grid and a weights raster: count, mean, stdev, min, max, median,
     quantile, frac, weighted_frac, weighted_mean, values; and two rasters on two grids (a
     second, coarser grid); to CSV and to a GeoPackage, at -n 1 and -n 3:
     byte for byte (GeoPackage: feature for feature) the plain run's, whose
     count and mean are numpy's; with -n 3, -v shows ranks 1 and 2 decoded
     blocks and the ranks' blocks add up to the plan's; --shard 1/3 and --plan
     under -n 3 print the plain run's;
  12. zonal with rank 2 unable to open GeoTIFFs (GDAL_SKIP=GTiff, Open MPI's
     MPMD form): a warning names it, its tasks go to the other ranks, the
     output is still the plain run's; with the only other rank failing, rank
     0 reads every block and the output is still the plain run's; corrupt
     blocks under -n 3: the plain run's read_error rows, byte for byte.
Run: RASTERPOOL=/path/to/rasterpool MPIRUN=mpirun /usr/bin/python3 cli_mpi.py
(MPICH: RP_MPIEXEC=mpiexec.mpich with a rasterpool built against MPICH.)
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
import numpy as np  # noqa: E402

import mpilaunch  # noqa: E402
import rptest  # noqa: E402
from zonal_fixture import ZONAL_STATS, check_zonal_numpy, zonal_data  # noqa: E402
from rptest import gdal  # noqa: E402

# The launcher (RP_MPIEXEC, else MPIRUN, else mpirun), its flags and its
# environment, Open MPI or MPICH (tests/oracle/mpilaunch.py): LAUNCH.argv(n) is
# the command line up to the program, MPI_ENV what the launcher needs (run as
# root; leak checking off for the ranks under ASan), LAUNCH.rank_var the
# variable that holds a rank's number in its child processes.
LAUNCH = mpilaunch.Launcher()
MPI_ENV = LAUNCH.env
MPIRUN = LAUNCH.path  # the launcher alone; new code: LAUNCH.argv(n) (its flags too)
PY = ["--config", "GDAL_VRT_ENABLE_PYTHON", "YES"]
T = None


def mpirun(n, args, timeout=300):
    cmd = LAUNCH.argv(n) + [rptest.binary()] + [str(a) for a in args]
    env = dict(os.environ, **MPI_ENV)
    p = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env)
    run = rptest.Run(cmd, p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"))
    for mark in rptest._SANITIZER_MARKS:
        k = run.err.find(mark)
        if k >= 0:
            rptest.SANITIZER_REPORTS.append((run.cmd, run.err[max(0, k - 200):k + 1500]))
            break
    return run


def rank_vrt(folder, i, marker, sleep_s):
    """A 24x16 VRT whose pixel function notes the rank that runs it (the
    workers inherit OMPI_COMM_WORLD_RANK) in `marker`, sleeps (sleep_s
    seconds, or (seconds, {rank text: seconds})), and gives i + row index
    as Int16."""
    default, per_rank = sleep_s if isinstance(sleep_s, tuple) else (sleep_s, {})
    base = os.path.join(folder, "base_%02d.tif" % i)
    data = (np.arange(16 * 24).reshape(16, 24) % 97 + i).astype(np.int16)
    rptest.create_raster(base, data, "Int16", gt=(1000.0 + i, 10.0, 0.0, 2000.0, 0.0, -10.0),
                         srs="EPSG:32633")
    code = "\n".join([
        "import os, time",
        "def f(in_ar, out_ar, xoff, yoff, xsize, ysize, raster_xsize, raster_ysize,"
        " buf_radius, gt, **kwargs):",
        "    open(%r, 'a').write(os.environ.get(%r, '-') + '\\n')" % (marker, LAUNCH.rank_var),
        "    time.sleep(%r.get(os.environ.get(%r, '-'), %r))" % (per_rank, LAUNCH.rank_var,
                                                                 default),
        "    out_ar[:] = in_ar[0]",
    ])
    ds = gdal.Open(base)
    srs_wkt = ds.GetProjection()
    ds = None
    return rptest.python_pixel_vrt(os.path.join(folder, "r%02d.vrt" % i), os.path.basename(base),
                                   code, 24, 16, "Int16", gt=(1000.0 + i, 10, 0, 2000, 0, -10),
                                   srs_wkt=srs_wkt)


def make_inputs(tmp, tag, n, sleep_s):
    folder = os.path.join(tmp, tag)
    os.makedirs(folder)
    marker = os.path.join(tmp, tag + ".ranks")
    return [rank_vrt(folder, i, marker, sleep_s) for i in range(n)], marker


def done_records(journal):
    outs = []
    with open(journal) as f:
        for line in f:
            rec = json.loads(line)
            if rec["outcome"] == "done":
                outs.append(rec["output"])
    return outs


def out_path(out_dir, inp):
    return os.path.join(out_dir, os.path.splitext(os.path.basename(inp))[0] + ".tif")


def check_against_gdal(case, inputs, out_dir):
    gdal.SetConfigOption("GDAL_VRT_ENABLE_PYTHON", "YES")  # the inputs' pixel functions
    lim = rptest.Limited(T, case)
    for p in inputs:
        o = out_path(out_dir, p)
        if not os.path.exists(o):
            lim.add("missing %s" % o)
            continue
        want = gdal.Translate("/vsimem/oracle.tif", p, format="GTiff").ReadAsArray()
        got = gdal.Open(o).ReadAsArray()
        if not np.array_equal(want, got):
            lim.add("%s differs from gdal_translate's" % o)
    gdal.Unlink("/vsimem/oracle.tif")
    leftovers = [f for f in os.listdir(out_dir) if ".rp-tmp" in f]
    if leftovers:
        lim.add("temporaries left: %s" % leftovers)
    return lim.flush()


def check_journal_once(case, inputs, out_dir):
    done = done_records(os.path.join(out_dir, "rasterpool-batch.jsonl"))
    want = sorted(out_path(out_dir, p) for p in inputs)
    T.check(case, sorted(done) == want,
            "journal done records %d (distinct %d), want each of %d once" % (
                len(done), len(set(done)), len(want)))


def case_identical(case, tmp):
    inputs, marker = make_inputs(tmp, "same", 24, 0.05)
    gdal.SetConfigOption("GDAL_VRT_ENABLE_PYTHON", "YES")
    plain = os.path.join(tmp, "plain")
    # the workers run Python pixel functions: libpython's allocations live to
    # exit, so leak checking is off here as for the ranks
    r = rptest.rp(["batch", "translate"] + inputs + ["--out-dir", plain, "-j", "2", "-q"] + PY,
                  env={"ASAN_OPTIONS": MPI_ENV["ASAN_OPTIONS"]})
    if not T.check(case, r.code == 0, "plain run: " + r.describe()):
        return
    check_against_gdal(case, inputs, plain)
    for n in (1, 3):
        open(marker, "w").close()
        out = os.path.join(tmp, "mpi%d" % n)
        r = mpirun(n, ["batch", "translate"] + inputs + ["--out-dir", out, "-j", "2", "-q"] + PY)
        if not T.check(case, r.code == 0, "-n %d: %s" % (n, r.describe())):
            continue
        for p in inputs:
            a, b = out_path(plain, p), out_path(out, p)
            if not (os.path.exists(b) and open(a, "rb").read() == open(b, "rb").read()):
                T.fail(case, "-n %d: %s is not byte-identical to the plain run's" % (n, b))
                break
        check_against_gdal(case, inputs, out)
        check_journal_once(case, inputs, out)
        ranks = set(open(marker).read().split())
        if n == 3:
            T.check(case, len(ranks - {"-"}) >= 2, "-n 3: tasks ran on ranks %s only" % ranks)
        T.check(case, r.err.count("rasterpool: batch translate:") <= 1,
                "-n %d: more than one summary: %r" % (n, r.err))


def descends_from(pid, root):
    """Is process pid root or one of its descendants (its parents' chain)?"""
    while pid > 1:
        if pid == root:
            return True
        try:
            with open("/proc/%d/stat" % pid) as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])  # field 4: the parent
        except (OSError, ValueError, IndexError):
            return False
    return False


def rank_pid(rank, launcher):
    """The pid of the rasterpool batch process of that MPI rank started by
    the launcher process (another test may run the same binary meanwhile)."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            cmd = open("/proc/%s/cmdline" % d, "rb").read().split(b"\0")
            env = open("/proc/%s/environ" % d, "rb").read().split(b"\0")
        except OSError:
            continue
        if (len(cmd) > 1 and cmd[0] == rptest.binary().encode() and cmd[1] == b"batch"
                and ("%s=%d" % (LAUNCH.rank_var, rank)).encode() in env
                and descends_from(int(d), launcher)):
            return int(d)
    return None


def wait_for(cond, timeout=120, step=0.02):
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return None


def case_kill_resume(case, tmp):
    # rank 1's tasks are quick, the others' slow: when rank 1 has done 3,
    # work is surely left (however late rank 1 started), so the kill always
    # lands mid-run
    inputs, marker = make_inputs(tmp, "kill", 30, (1.5, {"1": 0.1}))
    out = os.path.join(tmp, "killed")
    open(marker, "w").close()
    cmd = LAUNCH.argv(3) + [rptest.binary(), "batch", "translate"] + inputs + [
        "--out-dir", out, "-j", "2", "-q"] + PY
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=dict(os.environ, **MPI_ENV))
    try:
        ok = wait_for(lambda: open(marker).read().split().count("1") >= 3)
        T.check(case, ok, "rank 1 never ran 3 tasks")
        pid = rank_pid(1, p.pid)
        if T.check(case, pid, "no process of rank 1 found"):
            os.kill(pid, signal.SIGKILL)
        p.wait(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    T.check(case, p.returncode != 0, "mpirun exited 0 after a rank was killed")
    journal = os.path.join(out, "rasterpool-batch.jsonl")
    before = len(done_records(journal)) if os.path.exists(journal) else 0
    T.check(case, before < len(inputs), "every task was done before the kill: test too fast")
    # no -q: the summary ("N skipped") is what is checked
    r = mpirun(2, ["batch", "translate"] + inputs + ["--out-dir", out, "-j", "2",
                                                    "--resume"] + PY)
    T.check(case, r.code == 0, "resume at -n 2: " + r.describe())
    T.check(case, ("%d skipped" % before) in r.err, "resume did not skip the %d done: %r" % (
        before, r.err))
    check_against_gdal(case, inputs, out)
    check_journal_once(case, inputs, out)


def case_usage(case, tmp):
    src = os.path.join(tmp, "u.tif")
    rptest.create_raster(src, np.zeros((4, 4), np.uint8), "Byte")
    r = mpirun(3, ["batch", "translate", src, "--out-dir", os.path.join(tmp, "u"), "--",
                   "-bogusopt"])
    T.check(case, r.code == 2, "usage error under mpirun: " + r.describe())
    T.check(case, r.err.count("bogusopt") == 1, "not one message: %r" % r.err)


def case_failure_exit(case, tmp):
    folder = os.path.join(tmp, "fail")
    os.makedirs(folder)
    inputs = []
    for i in range(12):
        p = os.path.join(folder, "g%02d.tif" % i)
        rptest.create_raster(p, np.full((8, 8), i, np.uint8), "Byte")
        inputs.append(p)
    bad = os.path.join(folder, "g05_bad.tif")
    open(bad, "w").write("not a raster\n")
    r = mpirun(3, ["batch", "translate"] + inputs + [bad, "--out-dir", os.path.join(tmp, "fo"),
                                                    "-j", "1", "-q"])
    T.check(case, r.code == 1, "one failed task under -n 3: " + r.describe())
    T.check(case, "12 done, 1 failed" in r.err and r.err.count("g05_bad.tif:") == 1,
            "summary: %r" % r.err)


def case_extract(case, tmp):
    rng = np.random.default_rng(11)
    data = rng.integers(-500, 500, size=(300, 200)).astype(np.int16)
    raster = os.path.join(tmp, "ex.tif")
    rptest.create_raster(raster, data, "Int16", gt=(0.0, 1.0, 0.0, 300.0, 0.0, -1.0),
                         options=["TILED=YES", "BLOCKXSIZE=32", "BLOCKYSIZE=32"])
    n, bad = 5001, 4000
    cols, rows = rng.integers(-5, 205, size=n), rng.integers(-5, 305, size=n)
    lines = ["id,x,y"] + ["%d,%s,%s" % (i, "zz" if i == bad else cols[i] + 0.5, 300 - rows[i] - 0.5)
                          for i in range(n)]
    pts = os.path.join(tmp, "ex.csv")
    open(pts, "w").write("\n".join(lines) + "\n")
    plain = rptest.extract([raster, "--points", pts, "--status", "-q"])
    if not T.check(case, plain.code == 1, "plain: " + plain.describe()):
        return
    lim = rptest.Limited(T, case)
    for i, line in enumerate(plain.text.splitlines()[1:]):
        f = line.split(",")[3:]
        if i == bad:
            want = ["", "error"]
        elif 0 <= cols[i] < 200 and 0 <= rows[i] < 300:
            want = [str(data[rows[i], cols[i]]), "ok"]
        else:
            want = ["", "outside"]
        if f != want:
            lim.add("row %d: %s, numpy %s" % (i, f, want))
    lim.flush("plain vs numpy: ")
    for ranks in (1, 3):
        out = os.path.join(tmp, "ex_n%d.csv" % ranks)
        r = mpirun(ranks, ["extract", raster, "--points", pts, "--status", "-q", "-o", out, "-j", "1"])
        T.check(case, r.code == 1, "-n %d to a file: %s" % (ranks, r.describe()))
        T.check(case, os.path.exists(out) and open(out, "rb").read() == plain.out,
                "-n %d: the file differs from the plain run's" % ranks)
        r = mpirun(ranks, ["extract", raster, "--points", pts, "--status", "-q", "-j", "1"])
        T.check(case, r.code == 1 and r.out == plain.out,
                "-n %d to stdout: exit %s, same bytes %s" % (ranks, r.code, r.out == plain.out))
    left = [f for f in os.listdir(tmp) if ".rp-tmp" in f]
    T.check(case, not left, "temporaries left: %s" % left)


def case_extract_stdin(case, tmp):
    raster = os.path.join(tmp, "st.tif")
    rptest.create_raster(raster, np.arange(100, dtype=np.float32).reshape(10, 10), "Float32",
                         gt=(0.0, 1.0, 0.0, 10.0, 0.0, -1.0))
    text = "x,y\n" + "".join("%s,%s\n" % (i % 10 + 0.5, 9.5 - i % 7) for i in range(50))
    plain = rptest.extract([raster, "-q"], stdin=text)
    cmd = LAUNCH.argv(3) + [rptest.binary(), "extract", raster, "-q"]
    p = subprocess.run(cmd, input=text.encode(), capture_output=True, timeout=300,
                       env=dict(os.environ, **MPI_ENV))
    for mark in rptest._SANITIZER_MARKS:
        T.check(case, mark.encode() not in p.stderr, "sanitizer report: %r" % p.stderr[:2000])
    T.check(case, p.returncode == 0 and p.stdout == plain.out and plain.code == 0,
            "stdin under -n 3: exit %s, same %s; %r" % (p.returncode, p.stdout == plain.out,
                                                        p.stderr[:400]))
    T.check(case, b"rank 0 alone" not in p.stderr, "stdin did not farm: %r" % p.stderr[:400])


def farm_data(tmp):
    """A 600x400 raster of two Float32 bands (32x32 tiles, nodata -9999, band
    2 scaled), the same as a VRT mosaic of four files, and 30,000 points in
    random order (some off the raster, one bad row) and the same points in
    spatial order."""
    rng = np.random.default_rng(5)
    data = (rng.random((2, 400, 600)) * 1000).astype(np.float32)
    data[:, :20, :20] = -9999
    gt = (1000.0, 2.0, 0.0, 5000.0, 0.0, -2.0)
    raster = rptest.create_raster(os.path.join(tmp, "farm.tif"), data, "Float32", gt=gt,
                                  nodata=-9999, block=(32, 32), srs="EPSG:32633")
    ds = gdal.Open(raster, gdal.GA_Update)
    ds.GetRasterBand(2).SetScale(0.5)
    ds.GetRasterBand(2).SetOffset(3.0)
    ds = None
    quarters = []
    for qy in range(2):
        for qx in range(2):
            part = data[:, qy * 200:(qy + 1) * 200, qx * 300:(qx + 1) * 300]
            qgt = (gt[0] + qx * 600.0, 2.0, 0.0, gt[3] - qy * 400.0, 0.0, -2.0)
            quarters.append(rptest.create_raster(os.path.join(tmp, "farm_q%d%d.tif" % (qy, qx)),
                                                 part, "Float32", gt=qgt, nodata=-9999,
                                                 block=(64, 64), srs="EPSG:32633"))
    vrt = os.path.join(tmp, "farm.vrt")
    gdal.BuildVRT(vrt, quarters)
    n = 30000
    cols, rows = rng.uniform(-20, 620, n), rng.uniform(-20, 420, n)
    xs, ys = gt[0] + cols * 2.0, gt[3] - rows * 2.0
    lines = ["%d,%.3f,%.3f" % (i, xs[i], ys[i]) for i in range(n)]
    # the cells of the coordinates as written
    cols = (np.array([float("%.3f" % v) for v in xs]) - gt[0]) / 2.0
    rows = (gt[3] - np.array([float("%.3f" % v) for v in ys])) / 2.0
    lines[1234] = "1234,oops,1"
    rand = os.path.join(tmp, "farm_random.csv")
    open(rand, "w").write("id,x,y\n" + "\n".join(lines) + "\n")
    order = np.lexsort((cols // 32, rows // 32))
    spatial = os.path.join(tmp, "farm_spatial.csv")
    open(spatial, "w").write("id,x,y\n" + "\n".join(lines[i] for i in order) + "\n")
    return data, raster, vrt, cols, rows, rand, spatial


def check_plain_numpy(case, plain, data, cols, rows):
    """The plain run's values are the raster's at the points' cells."""
    lim = rptest.Limited(T, case)
    for i, line in enumerate(plain.text.splitlines()[1:]):
        f = line.split(",")
        c, r = int(np.floor(cols[i])), int(np.floor(rows[i]))
        c, r = (599 if cols[i] == 600 else c), (399 if rows[i] == 400 else r)  # outer edges inside
        if i == 1234:
            want = ["", "error"]
        elif not (0 <= c < 600 and 0 <= r < 400):
            want = ["", "outside"]
        elif data[0, r, c] == -9999:
            want = ["", "nodata"]
        else:
            want = [repr(float(data[0, r, c])), "ok"]
        got = [f[3], f[4]]
        if got[1] == "ok":
            got[0] = repr(float(np.float32(float(got[0]))))
        if got != want:
            lim.add("row %d: %s, numpy %s" % (i, got, want))
    lim.flush("plain vs numpy: ")


def case_extract_farm(case, tmp):
    data, raster, vrt, cols, rows, rand, spatial = farm_data(tmp)
    runs = [("random", [raster, "--points", rand, "--status"]),
            ("spatial", [raster, "--points", spatial, "--status"]),
            ("vrt+tif bilinear unscale", [vrt, raster, "--points", rand, "--method", "bilinear",
                                          "--unscale", "--status"]),
            ("vrt window", [vrt, "--points", spatial, "--window", "3", "--window-stat", "mean",
                            "--window-stat", "count"])]
    for k, (label, args) in enumerate(runs):
        out = os.path.join(tmp, "farm_plain_%d.csv" % k)
        plain = rptest.extract(args + ["-q", "-o", out])
        if not T.check(case, plain.code == 1, "%s plain: %s" % (label, plain.describe())):
            continue
        want = open(out, "rb").read()
        if k == 0:
            check_plain_numpy(case, rptest.Run([], 1, want, ""), data, cols, rows)
        for ranks in (1, 3):
            got = os.path.join(tmp, "farm_n%d_%d.csv" % (ranks, k))
            r = mpirun(ranks, ["extract"] + args + ["-q", "-v", "-j", "1", "-o", got])
            T.check(case, r.code == 1, "%s -n %d: %s" % (label, ranks, r.describe()))
            T.check(case, os.path.exists(got) and open(got, "rb").read() == want,
                    "%s -n %d: not byte-identical to the plain run" % (label, ranks))
            if ranks == 3:  # -v: every rank read tasks
                line = [x for x in r.err.splitlines() if "MPI:" in x]
                counts = line[0].split("read by rank:")[1].split() if line else []
                T.check(case, len(counts) == 3 and all(int(c.split(":")[1]) > 0 for c in counts),
                        "%s -n 3: tasks not spread over the ranks: %s" % (label, line))


def ogr_rows(path):
    ds = gdal.OpenEx(path, gdal.OF_VECTOR)
    lyr = ds.GetLayer(0)
    return [(f.GetGeometryRef().ExportToWkt() if f.GetGeometryRef() else None,
             [f.GetField(i) for i in range(f.GetFieldCount())]) for f in lyr]


def case_extract_farm_vector(case, tmp):
    data, raster, vrt, cols, rows, rand, spatial = farm_data(tmp)
    plain = os.path.join(tmp, "fv_plain.gpkg")
    r = rptest.extract([raster, "--points", rand, "--status", "-q", "-o", plain])
    if not T.check(case, r.code == 1, "plain: " + r.describe()):
        return
    want = ogr_rows(plain)
    T.check(case, len(want) == 30000, "plain: %d features" % len(want))
    for ranks in (1, 3):
        out = os.path.join(tmp, "fv_n%d.gpkg" % ranks)
        r = mpirun(ranks, ["extract", raster, "--points", rand, "--status", "-q", "-j", "1",
                           "-o", out])
        T.check(case, r.code == 1, "-n %d: %s" % (ranks, r.describe()))
        T.check(case, os.path.exists(out) and ogr_rows(out) == want,
                "-n %d: the features differ from the plain run's" % ranks)


def case_extract_rank_fails(case, tmp):
    """Rank 2 cannot open GeoTIFFs (GDAL_SKIP): its tasks fail, go to the
    other ranks, and the output is still the plain run's."""
    data, raster, vrt, cols, rows, rand, spatial = farm_data(tmp)
    args = ["extract", raster, "--points", rand, "--status", "-q", "-j", "1"]
    plain = rptest.rp(args[:1] + args[1:])
    cmd = LAUNCH.argv(2) + [rptest.binary()] + args + [
        ":", "-n", "1", "env", "GDAL_SKIP=GTiff", rptest.binary()] + args
    p = subprocess.run(cmd, capture_output=True, timeout=300, env=dict(os.environ, **MPI_ENV))
    err = p.stderr.decode("utf-8", "replace")
    for mark in rptest._SANITIZER_MARKS:
        T.check(case, mark not in err, "sanitizer report: %r" % err[:2000])
    T.check(case, p.returncode == 1 and plain.code == 1 and p.stdout == plain.out,
            "exit %s (plain %s), same output %s; %r" % (p.returncode, plain.code,
                                                        p.stdout == plain.out, err[:600]))
    T.check(case, "MPI rank 2:" in err and "other ranks" in err, "no warning: %r" % err[:600])


def case_zonal(case, tmp):
    data, raster, polys, windows = zonal_data(tmp, "mpi")
    args = [raster, "--polygons", polys] + ZONAL_STATS + ["-q"]
    out = os.path.join(tmp, "z_plain.csv")
    plain = rptest.rp(["zonal"] + args + ["-o", out])
    if not T.check(case, plain.code == 1, "plain: " + plain.describe()):
        return
    want = open(out, "rb").read()
    check_zonal_numpy(T, case, want.decode(), data, windows)
    for ranks in (1, 3):
        got = os.path.join(tmp, "z_n%d.csv" % ranks)
        r = mpirun(ranks, ["zonal"] + args + ["-j", "1", "-o", got])
        T.check(case, r.code == 1, "-n %d to a file: %s" % (ranks, r.describe()))
        T.check(case, os.path.exists(got) and open(got, "rb").read() == want,
                "-n %d: not byte-identical to the plain run" % ranks)
        T.check(case, "rank 0 alone" not in r.err, "-n %d: not split: %r" % (ranks, r.err[:300]))
        r = mpirun(ranks, ["zonal"] + args + ["-j", "1"])
        T.check(case, r.code == 1 and r.out == want,
                "-n %d to stdout: exit %s, same bytes %s" % (ranks, r.code, r.out == want))
    # a vector output is farmed too, and equals the plain run
    plain_v = os.path.join(tmp, "z_plain.gpkg")
    rptest.rp(["zonal"] + args + ["-o", plain_v])
    got = os.path.join(tmp, "z_n3.gpkg")
    r = mpirun(3, ["zonal"] + args + ["-j", "1", "-o", got])
    T.check(case, r.code == 1 and "rank 0 alone" not in r.err, "-n 3 vector: " + r.describe())
    T.check(case, os.path.exists(got) and ogr_rows(got) == ogr_rows(plain_v),
            "-n 3 vector: features differ from the plain run's")
    left = [f for f in os.listdir(tmp) if ".rp-tmp" in f]
    T.check(case, not left, "temporaries left: %s" % left)


def farm_zonal_data(tmp):
    """A 300x240 Int16 raster (values 0..40, nodata -1 in a corner; 32x16
    tiles), a class raster (0..4) and a weights raster on its grid, a raster
    on a coarser grid (cells of 3 x 3 units), and 150 rectangles on cell
    edges (overlapping, in random order). Returns the data, the paths and
    the rectangles' cell windows."""
    from osgeo import ogr, osr
    rng = np.random.default_rng(13)
    h, w = 240, 300
    data = rng.integers(0, 41, (h, w)).astype(np.int16)
    data[:20, :30] = -1
    gt = (0.0, 1.0, 0.0, float(h), 0.0, -1.0)
    mk = rptest.create_raster
    paths = {
        "a": mk(os.path.join(tmp, "zf_a.tif"), data, "Int16", gt=gt, nodata=-1, block=(32, 16),
                srs="EPSG:32633"),
        "cls": mk(os.path.join(tmp, "zf_cls.tif"), rng.integers(0, 5, (h, w)).astype(np.uint8),
                  "Byte", gt=gt, block=(32, 16), srs="EPSG:32633"),
        "wt": mk(os.path.join(tmp, "zf_wt.tif"), rng.random((h, w)).astype(np.float32),
                 "Float32", gt=gt, block=(32, 16), srs="EPSG:32633"),
        "coarse": mk(os.path.join(tmp, "zf_coarse.tif"),
                     (rng.random((h // 3, w // 3)) * 10).astype(np.float32), "Float32",
                     gt=(0.0, 3.0, 0.0, float(h), 0.0, -3.0), block=(16, 16), srs="EPSG:32633"),
    }
    path = os.path.join(tmp, "zf_polys.gpkg")
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    lyr = ds.CreateLayer("polys", srs, ogr.wkbPolygon)
    lyr.CreateField(ogr.FieldDefn("name", ogr.OFTString))
    windows = []
    for i in range(150):
        c0, r0 = int(rng.integers(0, w - 5)), int(rng.integers(0, h - 5))
        c1 = min(w, c0 + int(rng.integers(1, 60)))
        r1 = min(h, r0 + int(rng.integers(1, 50)))
        windows.append((c0, c1, r0, r1))
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetField("name", "rect %d" % i)
        f.SetGeometry(ogr.CreateGeometryFromWkt("POLYGON((%d %d,%d %d,%d %d,%d %d,%d %d))" % (
            c0, h - r0, c1, h - r0, c1, h - r1, c0, h - r1, c0, h - r0)))
        lyr.CreateFeature(f)
    ds = None
    return data, paths, path, windows


def check_farm_numpy(case, text, data, windows):
    """Count and mean of the first raster (columns zf_a_count, zf_a_mean)
    are numpy's over each rectangle's cells."""
    lim = rptest.Limited(T, case)
    rows = text.splitlines()
    head = rows[0].split(",")
    ci, mi = head.index("zf_a_count"), head.index("zf_a_mean")
    T.check(case, len(rows) == 1 + len(windows), "rows: %d" % len(rows))
    for i, (c0, c1, r0, r1) in enumerate(windows[:len(rows) - 1]):
        f = rows[1 + i].split(",")
        win = data[r0:r1, c0:c1].astype(np.float64)
        win = win[win != -1]
        want = (win.size, win.mean() if win.size else None)
        got = (int(f[ci]), float(f[mi]) if f[mi] else None)
        if got[0] != want[0] or (want[1] is not None and abs(got[1] - want[1]) > 1e-9 * 40):
            lim.add("polygon %d: count, mean %s, numpy %s" % (i, got, want))
    lim.flush("plain vs numpy: ")


def ranks_blocks(err):
    """-v's "blocks decoded by rank:" counts as {rank: blocks} and the
    plan's blocks."""
    line = [x for x in err.splitlines() if "blocks decoded by rank:" in x]
    if not line:
        return {}, -1
    by = dict(tuple(int(v) for v in x.split(":")) for x in line[0].split("rank:")[1].split())
    return by, int(line[0].split("(")[1].split()[0])


def case_zonal_farm(case, tmp):
    data, rs, polys, windows = farm_zonal_data(tmp)
    # every field of an accumulator: cells, w and sum (count, mean), m2 (stdev),
    # min, max, wsum and wcov (weighted_mean), the value lists (median, ...)
    stats = ["-s", "count", "-s", "mean", "-s", "stdev", "-s", "min", "-s", "max", "-s", "median",
             "-s", "p90=quantile(q=0.9)", "-s", "frac", "-s", "weighted_frac", "-s",
             "weighted_mean", "-s", "values", "--status"]
    jobs = [("one grid, weights, frac",
             [rs["a"], rs["cls"], "--weights", rs["wt"], "--polygons", polys] + stats),
            ("two grids", [rs["a"], rs["coarse"], "--polygons", polys, "-s", "count", "-s",
                           "mean", "-s", "median", "-s", "quantile(q=0.25)", "-s", "values"])]
    for k, (label, args) in enumerate(jobs):
        for ext in ("csv", "gpkg"):
            plain = os.path.join(tmp, "zf_plain_%d.%s" % (k, ext))
            r = rptest.rp(["zonal"] + args + ["-q", "-o", plain])
            if not T.check(case, r.code == 0, "%s plain %s: %s" % (label, ext, r.describe())):
                continue
            if ext == "csv":
                want = open(plain, "rb").read()
                check_farm_numpy(case, want.decode(), data, windows)
            else:
                want = ogr_rows(plain)
            for ranks in (1, 3):
                got = os.path.join(tmp, "zf_n%d_%d.%s" % (ranks, k, ext))
                r = mpirun(ranks, ["zonal"] + args + ["-q", "-v", "-j", "1", "-o", got])
                T.check(case, r.code == 0, "%s -n %d %s: %s" % (label, ranks, ext, r.describe()))
                same = os.path.exists(got) and (open(got, "rb").read() == want if ext == "csv"
                                                else ogr_rows(got) == want)
                T.check(case, same, "%s -n %d %s: not the plain run's" % (label, ranks, ext))
                if ranks == 3:
                    by, total = ranks_blocks(r.err)
                    T.check(case, by.get(1, 0) > 0 and by.get(2, 0) > 0 and
                            sum(by.values()) == total and total > 0,
                            "%s -n 3 %s: blocks by rank %s of %s: %r" % (label, ext, by, total,
                                                                        r.err[-600:]))
    # --shard under mpirun: the same part as the plain run's; --plan: rank 0's
    args = jobs[1][1]
    for extra in (["--shard", "1/3"], ["--plan"]):
        plain = rptest.rp(["zonal"] + args + extra + ["-q"])
        r = mpirun(3, ["zonal"] + args + extra + ["-q", "-j", "1"])
        T.check(case, plain.code == 0 and r.code == 0 and r.out == plain.out and plain.out,
                "%s -n 3: exit %s (plain %s), same output %s" % (extra, r.code, plain.code,
                                                                 r.out == plain.out))


def case_zonal_rank_fails(case, tmp):
    """Rank 2 (then rank 1, the only other one) cannot open GeoTIFFs: a
    warning names it, its tasks go to the other ranks (rank 0 at last), the
    output is still the plain run's."""
    data, rs, polys, windows = farm_zonal_data(tmp)
    args = ["zonal", rs["a"], "--polygons", polys, "-s", "mean", "-s", "median", "-s",
            "p90=quantile(q=0.9)", "--status", "-q", "-j", "1"]
    plain = rptest.rp(args)
    env = dict(os.environ, **MPI_ENV)
    for good in (2, 1):
        cmd = LAUNCH.argv(good) + [rptest.binary()] + args + [
            ":", "-n", "1", "env", "GDAL_SKIP=GTiff", rptest.binary()] + args
        p = subprocess.run(cmd, capture_output=True, timeout=300, env=env)
        err = p.stderr.decode("utf-8", "replace")
        for mark in rptest._SANITIZER_MARKS:
            T.check(case, mark not in err, "sanitizer report: %r" % err[:2000])
        T.check(case, p.returncode == 0 and plain.code == 0 and p.stdout == plain.out,
                "%d good ranks: exit %s (plain %s), same output %s; %r" % (
                    good, p.returncode, plain.code, p.stdout == plain.out, err[:600]))
        T.check(case, ("MPI rank %d:" % good) in err and "other ranks" in err,
                "%d good ranks: no warning: %r" % (good, err[:600]))
    # unreadable blocks are no failure of a rank: their polygons get read_error
    # (exit 1) exactly as in the plain run, whichever rank read them
    bad = os.path.join(tmp, "zf_corrupt.tif")
    shutil.copy(rs["a"], bad)
    rptest.corrupt_blocks(bad, [(1, 1), (5, 7), (8, 12)])
    args = ["zonal", bad] + args[2:]
    plain = rptest.rp(args)
    r = mpirun(3, args)
    T.check(case, plain.code == 1 and "read_error" in plain.out.decode() and r.code == 1 and
            r.out == plain.out, "corrupt blocks -n 3: exit %s (plain %s), same output %s; %r" % (
                r.code, plain.code, r.out == plain.out, r.err[:400]))


def max_memory_data(tmp):
    """A 2048x2048 Float32 raster (256x256 tiles), the same area at 2 units
    a cell, 16 squares of 500x500 cells and one of 100x100."""
    from osgeo import ogr, osr
    rng = np.random.default_rng(29)
    fine = rptest.create_raster(os.path.join(tmp, "mm_fine.tif"),
                                rng.random((2048, 2048)).astype(np.float32), "Float32",
                                gt=(0.0, 1.0, 0.0, 2048.0, 0.0, -1.0), block=(256, 256),
                                srs="EPSG:32633")
    coarse = rptest.create_raster(os.path.join(tmp, "mm_coarse.tif"),
                                  rng.random((1024, 1024)).astype(np.float32), "Float32",
                                  gt=(0.0, 2.0, 0.0, 2048.0, 0.0, -2.0), block=(256, 256),
                                  srs="EPSG:32633")
    path = os.path.join(tmp, "mm_polys.gpkg")
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    lyr = ds.CreateLayer("polys", srs, ogr.wkbPolygon)
    squares = [(1 + 512 * i, 1 + 512 * j, 500) for i in range(4) for j in range(4)]
    for x, y, d in squares + [(1300, 1300, 100)]:
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetGeometry(ogr.CreateGeometryFromWkt("POLYGON((%d %d,%d %d,%d %d,%d %d,%d %d))" % (
            x, y, x + d, y, x + d, y + d, x, y + d, x, y)))
        lyr.CreateFeature(f)
    ds = None
    return fine, coarse, path


def case_zonal_max_memory(case, tmp):
    """--max-memory under -n 3 as in the plain run: (1) value lists over
    the cap end the job with the plain run's exit code and message (not an
    MPI_Abort); (2) with two grids, the second grid's plan leaves out the
    polygons the lists held from the first do not leave room for, on every
    rank alike: the output is the plain run's, no rank's plan differs, and
    other ranks than 0 read blocks of the second grid."""
    fine, coarse, polys = max_memory_data(tmp)
    args = ["zonal", fine, "--polygons", polys, "-s", "median", "-q", "-j", "1",
            "--max-memory", "16M"]
    plain = rptest.rp(args + ["-o", os.path.join(tmp, "mm_plain.csv")])
    r = mpirun(3, args + ["-o", os.path.join(tmp, "mm_mpi.csv")])
    msg = "raise --max-memory"
    T.check(case, plain.code == 3 and msg in plain.err, "plain: exit %s %r" % (
        plain.code, plain.err[-300:]))
    T.check(case, r.code == plain.code and msg in r.err and "MPI_ABORT" not in r.err,
            "-n 3: exit %s, %r" % (r.code, r.err[-800:]))
    args = ["zonal", fine, coarse, "--polygons", polys, "-s", "median", "--status", "-q", "-j",
            "1", "--max-memory", "67960000"]
    plain = rptest.rp(args)
    text = plain.out.decode()
    # the case holds only if the cap fails polygons on the second grid alone
    T.check(case, plain.code == 1 and "over_memory" in text and
            text.count("over_memory") < text.count("\n") - 1,
            "plain: exit %s; the cap no longer splits the grids: %r" % (plain.code, text[:400]))
    r = mpirun(3, args + ["-v"])
    by, _ = ranks_blocks(r.err)
    T.check(case, r.code == plain.code and r.out == plain.out,
            "two grids -n 3: exit %s, same output %s" % (r.code, r.out == plain.out))
    T.check(case, "differs" not in r.err and sum(v for k, v in by.items() if k) > 0,
            "two grids -n 3: blocks by rank %s; %r" % (by, r.err[-600:]))


def main():
    global T
    T = rptest.Tester("cli_mpi")
    only = sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in (("identical_n1_n3", case_identical), ("kill_rank_resume", case_kill_resume),
                         ("usage_error", case_usage), ("failure_exit", case_failure_exit),
                         ("extract", case_extract), ("extract_stdin", case_extract_stdin),
                         ("extract_farm", case_extract_farm),
                         ("extract_farm_vector", case_extract_farm_vector),
                         ("extract_rank_fails", case_extract_rank_fails),
                         ("zonal", case_zonal), ("zonal_farm", case_zonal_farm),
                         ("zonal_rank_fails", case_zonal_rank_fails),
                         ("zonal_max_memory", case_zonal_max_memory)):
            if not only or name in only:
                T.run_case(name, fn, tmp)
    T.finish()


if __name__ == "__main__":
    main()
