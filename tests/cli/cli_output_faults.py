#!/usr/bin/python3
"""cli_output_faults — outputs under faults (issue 17): every failure ends in
a clear error, and nothing already there is lost.

Cases are numbered after the issue's items. A full file system is made
without privileges: RLIMIT_FSIZE with SIGXFSZ ignored makes every write past
the limit fail with EFBIG, deterministically. Expected values come from GDAL
(OGR reads of the outputs) and from the raster's own construction (value =
row*1000 + col); nothing is taken from rasterpool.
  1. a write that fails part-way (GeoJSON, GML, MIF, JML, ODS, XLSX, and CSV,
     GPKG, SHP, FGB, TAB): exit 3 naming the output and the cause; the old
     output is byte-for-byte unchanged; no staging folder is left. A run
     without the limit writes every feature (the ODS/XLSX writers once lost
     their content inside the staging folder).
     17.1 on a real full file system (a small tmpfs in a user namespace):
     GPKG says "No space left on device" naming the output (SQLite said
     "database or disk is full" or "database disk image is malformed");
     batch tasks (GTiff, ENVI, XYZ) fail naming their outputs and the
     reason, journaled error, no partial output, no temporaries;
  2. batch: an output that is another task's input (a.tif -> a_s.tif with
     a_s.tif among the inputs; also when that input is given through a
     symbolic link): exit 2 up front, every input unchanged, no journal;
  3. -o naming an input, directly or through a symbolic link: extract with
     its points GeoPackage (which has another layer) and calc with an
     input: exit 2 before any work, "is also an input", the file unchanged.
  4. a Shapefile replaced as a set: with the old set's NAME.prj turned into
     a non-empty folder, moving the new .prj in fails: exit 3, and the old
     .shp, .shx and .dbf are byte-for-byte the same (not a mix, not
     deleted), for several names (the members move in directory order);
  5. -o a link to /proc/self/fd/1 (what /dev/stdout is) with standard
     output redirected to a regular file, for extract (CSV) and calc
     (GeoTIFF), and -o a FIFO: written in place (the values read back by
     the csv module and GDAL), the link still a link, the FIFO still a FIFO,
     nothing staged. (A link of our own stands for /dev/stdout, so that a
     failure of this test cannot replace the machine's /dev/stdout.)
  8. the staging folder of a calc killed with SIGKILL while its output is
     staged (a kernel tells the test when, through a FIFO) is removed by the
     next calc writing to that folder; extract does the same for a stage of
     a SIGKILLed process (one the test started and killed); a live
     process's stage is left alone;
  17.6 SIGINT and SIGTERM within a second in every phase, shown by hangs
     that never end on their own: calc with a kernel that never returns
     (its output staged), zonal reading a VRT whose pixel function never
     returns, and the writer blocked on a FIFO whose reader reads nothing
     (extract's CSV at -j 1 and -j 3 while writing; calc's GeoTIFF, sent
     to a pipe at close): exit 130, the old output byte-for-byte the same,
     no staging folder. Under ThreadSanitizer (TSAN_OPTIONS set, a TSan
     build) two mechanisms of TSan itself are kept out, and said so (see
     TSAN_NOTE): its thread-leak check at the watchdog's _exit, and
     extract -j 1, whose one thread never reaches the point where TSan
     runs a deferred signal handler;
  14. -o "" is a usage error (exit 2) for extract and calc; a reader that
     closes standard output early (`| head -1`) ends extract by SIGPIPE
     with nothing on stderr (the README's choice: as cat and grep do), and
     with SIGPIPE ignored by the parent, exit 3 "Broken pipe"; batch journal
     lines for a file name that is not UTF-8 are valid JSON (Python's
     strict json module over UTF-8 text) that give back the exact bytes
     (os.fsencode), and --resume still finds that task done.
Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 cli_output_faults.py
"""
import json
import os
import resource
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
import numpy as np  # noqa: E402

import rptest  # noqa: E402
from rptest import ogr  # noqa: E402

W, H = 60, 50
GT = (1000.0, 1.0, 0.0, 2000.0, 0.0, -1.0)
NPTS = 3000


def index_raster(path):
    rows, cols = np.mgrid[0:H, 0:W]
    return rptest.create_raster(path, (rows * 1000 + cols).astype(np.int32), "Int32", gt=GT,
                                srs="EPSG:32633")


def points_csv(path, n=NPTS):
    """Cell centres, cycling over the raster; returns the expected b1 values."""
    want = []
    with open(path, "w") as f:
        f.write("id,x,y\n")
        for i in range(n):
            c, r = (i * 7) % W, (i * 3) % H
            f.write("%d,%r,%r\n" % (i, GT[0] + c + 0.5, GT[3] - r - 0.5))
            want.append(r * 1000 + c)
    return want


def leftovers(folder):
    return sorted(n for n in os.listdir(folder) if "rp-tmp" in n)


def snapshot(folder):
    """Every visible file of folder: name -> bytes."""
    out = {}
    for n in sorted(os.listdir(folder)):
        p = os.path.join(folder, n)
        if os.path.isfile(p) and not n.startswith("."):
            with open(p, "rb") as f:
                out[n] = f.read()
    return out


def run_limited(args, fsize, cwd=None, sigxfsz=signal.SIG_IGN):
    """rasterpool with RLIMIT_FSIZE = fsize bytes and SIGXFSZ ignored (or
    as sigxfsz says)."""
    def limit():
        signal.signal(signal.SIGXFSZ, sigxfsz)
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    cmd = [rptest.binary()] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, preexec_fn=limit, cwd=cwd, timeout=300)
    return rptest.Run(cmd, p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"))


def ogr_b1(path):
    ds = ogr.Open(path)
    if ds is None:
        return None
    lyr = ds.GetLayer(0)
    return [int(float(f.GetField("b1"))) for f in lyr]


class Env:
    def __init__(self, tmp):
        self.tmp = tmp
        self.r = index_raster(self.p("idx.tif"))
        self.pts = self.p("pts.csv")
        self.want = points_csv(self.pts)

    def p(self, *names):
        return os.path.join(self.tmp, *names)

    def folder(self, name):
        path = self.p(name)
        os.makedirs(path, exist_ok=True)
        return path


# ---------------------------------------------------------------------------
# 1. full file system


def case_ulimit_default_signal(case, E, T):
    """ulimit -f as a shell sets it: SIGXFSZ with its default action (which
    kills the process). The program ignores it, so a write past the limit
    fails with EFBIG wherever it happens (the 4 MiB chunks on the direct
    writer's thread, or the last bytes on the caller's): exit 3, the cause
    named, the old output kept, no staging folder left, at every limit."""
    big = E.p("ulimit_pts.csv")
    with open(E.pts) as f:
        lines = f.read().splitlines()
    with open(big, "w") as f:
        f.write(lines[0] + "\n")
        for k in range(60):
            f.write("\n".join(lines[1:]) + "\n")
    d = E.folder("ulimit")
    out = os.path.join(d, "o.csv")
    full = rptest.extract([E.r, "--points", big, "-o", out, "-q"])
    if not T.check(case, full.code == 0, "unlimited run failed: %s" % full.describe()):
        return
    size = os.path.getsize(out)  # a 4 MiB chunk or more, then the last bytes
    with open(out, "w") as f:
        f.write("old output\n")
    for fsize in (size // 3, size - 100):  # in a full chunk; in the last bytes
        r = run_limited(["extract", E.r, "--points", big, "-o", out, "-j", 2, "-q"], fsize,
                        sigxfsz=signal.SIG_DFL)
        T.check(case, r.code == 3 and "File too large" in r.err and "o.csv" in r.err,
                "limit %d: want exit 3 naming o.csv and 'File too large': %s" % (
                    fsize, r.describe()))
        T.check(case, open(out).read() == "old output\n", "limit %d: the old output changed"
                % fsize)
        T.check(case, sorted(os.listdir(d)) == ["o.csv"], "limit %d: left behind: %s" % (
            fsize, sorted(os.listdir(d))))


def case_full_fs(case, E, T):
    for ext in ["geojson", "gml", "mif", "jml", "ods", "xlsx", "csv", "gpkg", "shp", "fgb", "tab"]:
        d = E.folder("full_" + ext)
        out = os.path.join(d, "o." + ext)
        good = rptest.extract([E.r, "--points", E.pts, "-o", out, "-q"])
        if not T.check(case, good.code == 0, "%s: unlimited run failed: %s" % (ext, good.describe())):
            continue
        if ext == "csv":
            got = [int(row[3]) for row in rptest.parse_csv(open(out).read())[1]]
        else:
            got = ogr_b1(out)
        T.check(case, got == E.want, "%s: the complete output does not hold the %d values "
                "(GDAL reads %s)" % (ext, len(E.want), None if got is None else len(got)))
        before = snapshot(d)
        biggest = max(len(b) for b in before.values())
        r = run_limited(["extract", E.r, "--points", E.pts, "-o", out, "-q"], biggest // 2)
        T.check(case, r.code == 3, "%s: a failed write must exit 3: %s" % (ext, r.describe()))
        # SQLite (GPKG) says only "disk I/O error": the file system's reason
        # is found and said first (17.1)
        cause = "File too large"
        T.check(case, "o." + ext in r.err and cause in r.err,
                "%s: the message must name the output and the cause: %r" % (ext, r.err))
        T.check(case, snapshot(d) == before, "%s: the old output changed: %s -> %s" % (
            ext, {k: len(v) for k, v in before.items()},
            {k: len(v) for k, v in snapshot(d).items()}))
        T.check(case, not leftovers(d), "%s: staging left: %s" % (ext, leftovers(d)))


# A real full file system: a small tmpfs mounted in a user and mount
# namespace of its own (unshare -r -m: no privileges needed where the kernel
# allows user namespaces). The job runs there; the script reports its exit,
# stderr and every name left in the folder (with the bytes of small files),
# since the mount goes away with the namespace.
FULL_FS_SCRIPT = r"""
import json, os, subprocess, sys
folder, size, old_name, cmd = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", folder], check=True)
if old_name:
    with open(os.path.join(folder, old_name), "wb") as f:
        f.write(b"the old output, to be kept\n")
p = subprocess.run(cmd, capture_output=True)
files = {}
for n in sorted(os.listdir(folder)):
    path = os.path.join(folder, n)
    small = os.path.isfile(path) and os.path.getsize(path) < 65536
    files[n] = open(path, "rb").read().decode("latin-1") if small else None
print(json.dumps({"code": p.returncode, "err": p.stderr.decode("utf-8", "replace"),
                  "files": files}))
"""


def run_on_full_fs(folder, size, old_name, cmd):
    """cmd run with folder a fresh tmpfs of size (holding old_name, when
    given): {"code", "err", "files"}, or None where no namespace can be made."""
    try:
        p = subprocess.run(["unshare", "-r", "-m", sys.executable, "-c", FULL_FS_SCRIPT, folder,
                            size, old_name or "", json.dumps([str(c) for c in cmd])],
                           capture_output=True, timeout=600)
    except OSError:
        return None
    if p.returncode != 0:
        print("   NOTE: no tmpfs in a user namespace here (%r): case skipped" % p.stderr[-300:])
        return None
    return json.loads(p.stdout)


OLD = "the old output, to be kept\n"


def case_17_1_gpkg_full_disk(case, E, T):
    """GPKG on a full file system (SQLite says "database or disk is full",
    or, seen when the spatial index is built at close, "database disk image
    is malformed"):
    exit 3, the message names the output and says "No space left on
    device", the old output unchanged, no staging folder. Sizes: the disk
    fills while the rows are inserted, and at the commit."""
    pts = os.path.join(E.tmp, "full_gpkg_pts.csv")
    points_csv(pts, 60000)
    for size in ("256k", "1m", "3m"):
        d = E.folder("full_gpkg_" + size)
        r = run_on_full_fs(d, size, "o.gpkg",
                           [rptest.binary(), "extract", E.r, "--points", pts, "-o",
                            os.path.join(d, "o.gpkg"), "-q"])
        if r is None:
            return
        T.check(case, r["code"] == 3, "%s: exit %s, want 3: %r" % (size, r["code"], r["err"]))
        T.check(case, "o.gpkg: No space left on device" in r["err"],
                "%s: the message must name the output and say the disk is full: %r" % (
                    size, r["err"]))
        T.check(case, r["files"] == {"o.gpkg": OLD}, "%s: the folder holds %s" % (
            size, {k: (v if v is None else len(v)) for k, v in r["files"].items()}))


def case_17_1_batch_full_disk(case, E, T):
    """batch on a full file system (GTiff, ENVI, XYZ outputs of three
    incompressible 3.9 MB rasters into a 3 MiB tmpfs): every task fails,
    its reason names the output and says "No space left on device" (GDAL's
    own words were "_tiffWriteProc:...", "Failed to write scanline 561 to
    file.; I/O error", "Write failed, disk full?"), the journal says error
    for each (never done), the old output at one task's path is unchanged,
    nothing else and no temporary is left."""
    src = E.folder("full_batch_in")
    rng = np.random.default_rng(5)
    for i in range(3):
        rptest.create_raster(os.path.join(src, "r%d.tif" % i), rng.random((700, 700)),
                             "Float64", gt=GT)
    # -j 1: each task fills the disk by itself, so the disk is still full
    # when its failure is examined; with two workers the other task's
    # removed temporary can free room first, and the reason is then GDAL's
    # words alone (the reason is asked of the file system: best effort)
    for of, ext in (("GTiff", "tif"), ("ENVI", "tif"), ("XYZ", "xyz")):
        d = E.folder("full_batch_" + of)
        r = run_on_full_fs(d, "3m", "r1." + ext,
                           [rptest.binary(), "batch", "translate", os.path.join(src, "*.tif"),
                            "--out-dir", d, "-q", "-j", "1", "--", "-of", of])
        if r is None:
            return
        T.check(case, r["code"] == 1, "%s: exit %s, want 1: %r" % (of, r["code"], r["err"]))
        for i in range(3):
            out = os.path.join(d, "r%d.%s" % (i, ext))
            T.check(case, "%s: No space left on device" % out in r["err"],
                    "%s: the reason must name %s and say the disk is full: %r" % (
                        of, out, r["err"]))
        lines = [json.loads(l) for l in (r["files"].get("rasterpool-batch.jsonl") or "").splitlines()]
        T.check(case, len(lines) == 3 and all(l["outcome"] == "error" and
                                              "No space left on device" in l["error"]
                                              for l in lines),
                "%s: journal %s" % (of, [(l["outcome"], l["error"][:80]) for l in lines]))
        rest = {k: v for k, v in r["files"].items() if k != "rasterpool-batch.jsonl"}
        T.check(case, rest == {"r1." + ext: OLD}, "%s: the folder holds %s" % (
            of, {k: (v if v is None else len(v)) for k, v in rest.items()}))


# ---------------------------------------------------------------------------
# 2. a batch output that is an input of the batch


def case_batch_output_is_input(case, E, T):
    d = E.folder("chain")
    index_raster(os.path.join(d, "a.tif"))
    other = rptest.create_raster(os.path.join(d, "a_s.tif"), np.full((4, 5), 7, np.int32), "Int32")
    keep = {n: open(os.path.join(d, n), "rb").read() for n in os.listdir(d)}
    r = rptest.rp(["batch", "translate", os.path.join(d, "*.tif"), "--out-dir", d,
                   "--suffix", "_s", "-q"])
    T.check(case, r.code == 2 and "is also an input" in r.err and "a_s.tif" in r.err,
            "batch whose output a_s.tif is an input: want exit 2: %s" % r.describe())
    # the same input through a link in another folder
    elsewhere = E.folder("chain_links")
    os.symlink(other, os.path.join(elsewhere, "b.tif"))
    r = rptest.rp(["batch", "translate", os.path.join(d, "a.tif"),
                   os.path.join(elsewhere, "b.tif"), "--out-dir", d, "--suffix", "_s", "-q"])
    T.check(case, r.code == 2 and "is also an input" in r.err,
            "batch whose output is an input behind a link: want exit 2: %s" % r.describe())
    now = {n: open(os.path.join(d, n), "rb").read() for n in os.listdir(d)}
    T.check(case, now == keep, "the folder changed: %s -> %s" % (sorted(keep), sorted(now)))


# ---------------------------------------------------------------------------
# 3. -o is an input


def two_layer_gpkg(path, E):
    """The points as layer 'pts' and a second layer 'other' (kept by GDAL)."""
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    srs = rptest.osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    lyr = ds.CreateLayer("pts", srs, ogr.wkbPoint)
    for i in range(5):
        f = ogr.Feature(lyr.GetLayerDefn())
        g = ogr.Geometry(ogr.wkbPoint)
        g.AddPoint_2D(GT[0] + i + 0.5, GT[3] - i - 0.5)
        f.SetGeometry(g)
        lyr.CreateFeature(f)
    other = ds.CreateLayer("other", srs, ogr.wkbPoint)
    other.CreateFeature(ogr.Feature(other.GetLayerDefn()))
    ds = None


def case_output_is_input(case, E, T):
    d = E.folder("same")
    gpkg = os.path.join(d, "pts.gpkg")
    two_layer_gpkg(gpkg, E)
    link = os.path.join(d, "link.gpkg")
    os.symlink("pts.gpkg", link)
    before = open(gpkg, "rb").read()
    for out in (gpkg, link, os.path.join(d, ".", "pts.gpkg")):
        r = rptest.extract([E.r, "--points", gpkg, "--layer", "pts", "-o", out, "-q"])
        T.check(case, r.code == 2 and "is also an input" in r.err,
                "extract -o the points file (%s): want exit 2: %s" % (out, r.describe()))
        T.check(case, open(gpkg, "rb").read() == before, "extract: the points GPKG changed")
    ds = ogr.Open(gpkg)
    T.check(case, ds is not None and ds.GetLayerCount() == 2, "the GPKG lost a layer")
    ds = None
    # the raster itself as the output (a GeoPackage can hold both)
    r = rptest.extract([E.r, "--points", E.pts, "-o", E.r, "-q"])
    T.check(case, r.code == 2, "extract -o the raster: want exit 2: %s" % r.describe())
    # calc: an input as -o, directly and through a link
    tif = os.path.join(d, "a.tif")
    index_raster(tif)
    tlink = os.path.join(d, "a_link.tif")
    os.symlink(tif, tlink)
    tbefore = open(tif, "rb").read()
    for out in (tif, tlink):
        r = rptest.rp(["calc", "-i", "A=" + tif, "-e", "A+1", "-o", out, "-q"])
        T.check(case, r.code == 2 and "is also an input" in r.err,
                "calc -o an input (%s): want exit 2: %s" % (out, r.describe()))
    T.check(case, open(tif, "rb").read() == tbefore, "calc: the input changed")
    T.check(case, os.path.islink(tlink), "calc: the link was replaced")
    T.check(case, not leftovers(d), "staging left: %s" % leftovers(d))


# ---------------------------------------------------------------------------
# 4. multi-file outputs replaced as a set


def case_multifile_set(case, E, T):
    for name in ["v", "w", "pts_a", "zz", "m1", "q"]:
        d = E.folder("set_" + name)
        out = os.path.join(d, name + ".shp")
        r = rptest.extract([E.r, "--points", E.pts, "-o", out, "-q"])
        if not T.check(case, r.code == 0, "first run: %s" % r.describe()):
            continue
        prj = os.path.join(d, name + ".prj")
        os.unlink(prj)
        os.mkdir(prj)
        open(os.path.join(prj, "keep"), "w").close()
        before = snapshot(d)
        T.check(case, sorted(before) == sorted(name + e for e in (".dbf", ".shp", ".shx")),
                "old set: %s" % sorted(before))
        r = rptest.extract([E.r, "--points", E.pts, "-o", out, "-q", "--status"])
        T.check(case, r.code == 3, "%s: a failed move must exit 3: %s" % (name, r.describe()))
        T.check(case, snapshot(d) == before, "%s: the old set changed: %s -> %s" % (
            name, sorted(before), sorted(snapshot(d))))
        T.check(case, os.path.isdir(prj), "%s: the folder in the way went" % name)
        T.check(case, not leftovers(d), "%s: staging left: %s" % (name, leftovers(d)))


# ---------------------------------------------------------------------------
# 5. devices, FIFOs and /dev/stdout are written in place


def run_to_file(args, path):
    """rasterpool with standard output redirected to the regular file path."""
    cmd = [rptest.binary()] + [str(a) for a in args]
    with open(path, "wb") as f:
        p = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE, timeout=300)
    return rptest.Run(cmd, p.returncode, b"", p.stderr.decode("utf-8", "replace"))


def case_devices(case, E, T):
    d = E.folder("dev")
    link = os.path.join(d, "stdout_link")
    os.symlink("/proc/self/fd/1", link)
    got_file = os.path.join(d, "got.csv")
    r = run_to_file(["extract", E.r, "--points", E.pts, "-o", link, "-q"], got_file)
    T.check(case, r.code == 0, "extract -o a link to fd 1: %s" % r.describe())
    T.check(case, os.path.islink(link), "extract replaced the link with a file")
    rows = rptest.parse_csv(open(got_file).read())[1]
    T.check(case, [int(row[3]) for row in rows] == E.want,
            "extract -o a link to fd 1: the redirected file lacks the values")
    tif = os.path.join(d, "got.tif")
    src = os.path.join(d, "a.tif")
    index_raster(src)
    r = run_to_file(["calc", "-i", "A=" + src, "-e", "A+1", "-o", link, "-q"], tif)
    T.check(case, r.code == 0, "calc -o a link to fd 1: %s" % r.describe())
    T.check(case, os.path.islink(link), "calc replaced the link with a file")
    ds = rptest.gdal.Open(tif)
    want = np.mgrid[0:H, 0:W][0] * 1000 + np.mgrid[0:H, 0:W][1] + 1
    T.check(case, ds is not None and np.array_equal(ds.GetRasterBand(1).ReadAsArray(), want),
            "calc -o a link to fd 1: GDAL does not read A+1 from the redirected file")
    ds = None
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", fifo], stdout=subprocess.PIPE)
    r = rptest.extract([E.r, "--points", E.pts, "-o", fifo, "-q"], timeout=120)
    text = reader.communicate(timeout=120)[0].decode()
    T.check(case, r.code == 0, "extract -o a FIFO: %s" % r.describe())
    T.check(case, [int(row[3]) for row in rptest.parse_csv(text)[1]] == E.want,
            "extract -o a FIFO: the reader did not get the values")
    T.check(case, stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced")
    T.check(case, not leftovers(d), "staging left: %s" % leftovers(d))


# ---------------------------------------------------------------------------
# 17.6 SIGINT/SIGTERM within a second in every phase: a job that cannot stop
# by itself (a kernel that never returns, a read that never ends, a write
# or close blocked on a FIFO nobody reads) still ends with exit 130, leaves
# no staging folder and the old output as it was. Each hang would never end
# on its own, so an exit at all shows the bound (no clock is read).

FAULT_KERNELS = os.environ.get("RP_FAULT_KERNELS")

# ThreadSanitizer changes two things these cases rest on (stage c of
# scripts/test.sh runs them with TSAN_OPTIONS set); each is kept out under
# TSan only, and said so:
# - TSan's _exit runs its thread-leak check: a thread that has returned but
#   was not joined is reported (and the exit status becomes 66). When a
#   kernel never returns, the watchdog ends the process with _exit(130)
#   while calc's writer thread has already returned (the job was aborted)
#   and the caller still waits for the pool's worker stuck in the kernel,
#   before the join it would do next: the process ends on purpose with that
#   thread unjoined. 17.6a runs with report_thread_leaks=0; races are still
#   reported.
# - TSan runs an asynchronous signal's handler at once only on a thread
#   inside one of its blocking interceptors (pthread_cond_wait, join, ...);
#   otherwise it queues it until the thread next leaves an intercepted
#   call. extract -j 1 has one thread, blocked in the write(2) that glibc's
#   fwrite issues from inside libc: SIGINT arrives after part of the buffer
#   went into the pipe, the write returns that count, and fwrite writes the
#   rest at once (no interceptor in between), blocked for good. The handler
#   never runs, so the watchdog is never armed (strace: no setitimer after
#   the SIGINT; the plain build arms it inside the signal and its SIGALRM
#   ends the process a second later). The -j 3 and calc jobs, whose main
#   thread waits in pthread_cond_wait or pthread_join, still run.


def under_tsan():
    """Whether the program runs under ThreadSanitizer: TSAN_OPTIONS set (as
    stage c sets it) and a program built with it (its __tsan_init, linked
    in by GCC and Clang alike), so that a TSAN_OPTIONS left in the
    environment of the plain and ASan stages keeps every check there."""
    if not os.environ.get("TSAN_OPTIONS"):
        return False
    with open(rptest.binary(), "rb") as f:
        return b"__tsan_init" in f.read()


TSAN_NOTE = "under ThreadSanitizer (see the note above FAULT_KERNELS)"


def wait_exit(p, timeout):
    try:
        p.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        return False


def signal_and_check(case, T, p, sig, folder, before, what, times=1):
    """Sends sig to p (times times), then: exit 130 within 30 s (the hang is
    endless otherwise), the folder's files as before, no staging folder."""
    for _ in range(times):
        p.send_signal(sig)
    if not wait_exit(p, 30):
        p.kill()
        p.wait()
        p.stderr.close()
        return T.fail(case, "%s: still running 30 s after %s" % (what, sig.name))
    err = p.stderr.read().decode("utf-8", "replace")
    p.stderr.close()
    T.check(case, p.returncode == 130, "%s: exit %s after %s, want 130; stderr %r" % (
        what, p.returncode, sig.name, err[-400:]))
    T.check(case, snapshot(folder) == before, "%s: the old output changed: %s" % (
        what, sorted(snapshot(folder))))
    T.check(case, not leftovers(folder), "%s: staging left: %s" % (what, leftovers(folder)))


def old_output(folder, name):
    path = os.path.join(folder, name)
    with open(path, "wb") as f:
        f.write(b"the old output, to be kept\n")
    return path


def case_17_6_calc_kernel_hangs(case, E, T):
    """calc with a kernel that never returns (it tells the test through a
    FIFO when it runs, with the output staged): SIGINT, then SIGTERM."""
    if not FAULT_KERNELS:
        return T.fail(case, "RP_FAULT_KERNELS not set")
    env = None
    if under_tsan():
        print("   NOTE %s: %s, TSan's thread-leak check is off" % (case, TSAN_NOTE))
        env = dict(os.environ, TSAN_OPTIONS=os.environ["TSAN_OPTIONS"] + ":report_thread_leaks=0")
    for sig, times in ((signal.SIGINT, 1), (signal.SIGTERM, 1)):
        tag = "%s_%d" % (sig.name, times)
        d = E.folder("sig_calc_" + tag)
        out = old_output(d, "o.tif")
        fifo = os.path.join(E.tmp, "sig_calc_%s.fifo" % tag)
        os.mkfifo(fifo)
        before = snapshot(d)
        p = subprocess.Popen([rptest.binary(), "calc", "-i", "A=" + E.r, "--kernel",
                              FAULT_KERNELS + ":announce_and_wait", "--kernel-arg", fifo,
                              "--ot", "Int32", "-o", out, "-j", "2", "-q"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=env)
        if read_line_bounded(fifo, 60) != b"ready\n":
            p.kill()
            p.wait()
            p.stderr.close()
            T.fail(case, "%s: the kernel never ran" % sig.name)
            continue
        T.check(case, len(leftovers(d)) == 1, "%s: the output is not staged: %s" % (
            sig.name, os.listdir(d)))
        signal_and_check(case, T, p, sig, d, before,
                         "calc, kernel never returns, %s x %d" % (sig.name, times), times)


def hanging_vrt(path, marker, source):
    """A VRT over the index raster whose Python pixel function appends a line
    to marker and then sleeps for a day: any read of it never ends."""
    code = "\n".join([
        "import time",
        "def f(in_ar, out_ar, xoff, yoff, xsize, ysize, raster_xsize, raster_ysize,"
        " buf_radius, gt, **kwargs):",
        "    open(%r, 'a').write('x\\n')" % marker,
        "    time.sleep(86400)",
        "    out_ar[:] = in_ar[0]",
    ])
    return rptest.python_pixel_vrt(path, source, code, W, H, "Int32", gt=GT, relative=False)


def marker_lines(path):
    try:
        with open(path) as f:
            return len(f.read().splitlines())
    except OSError:
        return 0


def case_17_6_zonal_read_hangs(case, E, T):
    """zonal reading a raster whose every read never ends: SIGINT, then
    SIGTERM (zonal had no watchdog: it waited for the read forever)."""
    polys = os.path.join(E.tmp, "sig_polys.geojson")
    with open(polys, "w") as f:
        x0, y1 = GT[0], GT[3]
        ring = [[x0 + 5, y1 - 5], [x0 + 40, y1 - 5], [x0 + 40, y1 - 30], [x0 + 5, y1 - 30],
                [x0 + 5, y1 - 5]]
        json.dump({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"id": 1},
             "geometry": {"type": "Polygon", "coordinates": [ring]}}]}, f)
    env = dict(os.environ, GDAL_VRT_ENABLE_PYTHON="YES")
    for sig in (signal.SIGINT, signal.SIGTERM):
        d = E.folder("sig_zonal_" + sig.name)
        out = old_output(d, "z.csv")
        marker = os.path.join(E.tmp, "sig_zonal_%s.marker" % sig.name)
        vrt = hanging_vrt(os.path.join(E.tmp, "sig_zonal_%s.vrt" % sig.name), marker, E.r)
        before = snapshot(d)
        p = subprocess.Popen([rptest.binary(), "zonal", vrt, "--polygons", polys, "-s", "sum",
                              "-o", out, "-q"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        end = time.time() + 60
        while time.time() < end and p.poll() is None and marker_lines(marker) == 0:
            time.sleep(0.02)
        if marker_lines(marker) == 0:
            p.kill()
            p.wait()
            T.fail(case, "%s: the read never started (exit %s): %r" % (
                sig.name, p.returncode, p.stderr.read()[-400:]))
            p.stderr.close()
            continue
        signal_and_check(case, T, p, sig, d, before, "zonal, read never ends, " + sig.name)


def fifo_left_full(fifo, p, timeout=60):
    """Opens FIFO fifo for reading (once p opens it for writing) and reads
    nothing: returns the read end once the pipe is full, so that p's writer
    is blocked (its output is much larger than the pipe), or None."""
    import fcntl
    import termios
    import threading
    fds = []
    t = threading.Thread(target=lambda: fds.append(os.open(fifo, os.O_RDONLY)), daemon=True)
    t.start()
    t.join(timeout)
    if not fds:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # release the opener
        t.join(5)
        return None
    fd = fds[0]
    cap = fcntl.fcntl(fd, 1032)  # F_GETPIPE_SZ
    end = time.time() + timeout
    while time.time() < end and p.poll() is None:
        queued = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
        if queued >= cap - 4096:
            return fd
        time.sleep(0.01)
    os.close(fd)
    return None


def case_17_6_writer_blocked(case, E, T):
    """The writer blocked on a FIFO whose reader reads nothing: extract's CSV
    writer (writing phase; the points file is much larger than the pipe)
    and calc's GeoTIFF, which goes to a pipe when the dataset is closed
    (closing phase): SIGINT/SIGTERM end each with exit 130 (the writer
    waited forever: extract's watchdog was off while it wrote, calc had
    none)."""
    pts = os.path.join(E.tmp, "sig_many.csv")
    points_csv(pts, 40000)
    big = os.path.join(E.tmp, "sig_big.tif")
    rptest.create_raster(big, np.arange(400 * 300, dtype=np.float64).reshape(300, 400),
                         "Float64", gt=GT)
    jobs = [("extract -j 1", ["extract", E.r, "--points", pts, "-j", "1"]),
            ("extract -j 3", ["extract", E.r, "--points", pts, "-j", "3"]),
            ("calc", ["calc", "-i", "A=" + big, "-e", "A*2"])]
    tsan = under_tsan()
    for (what, args), sig in zip(jobs + jobs, [signal.SIGINT] * 3 + [signal.SIGTERM] * 3):
        if tsan and what == "extract -j 1":
            print("   NOTE %s: %s, %s not run" % (case, TSAN_NOTE, what))
            continue
        what = "%s to a FIFO nobody reads, %s" % (what, sig.name)
        d = E.folder("sig_fifo_%s_%s" % (args[0], sig.name))
        fifo = os.path.join(d, "out_%d" % len(os.listdir(d)))
        os.mkfifo(fifo)
        before = snapshot(d)
        p = subprocess.Popen([rptest.binary()] + args + ["-o", fifo, "-q"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        fd = fifo_left_full(fifo, p)
        if fd is None:
            p.kill()
            p.wait()
            T.fail(case, "%s: the writer never filled the pipe (exit %s): %r" % (
                what, p.returncode, p.stderr.read()[-400:]))
            p.stderr.close()
            continue
        try:
            signal_and_check(case, T, p, sig, d, before, what)
        finally:
            os.close(fd)
        T.check(case, stat.S_ISFIFO(os.lstat(fifo).st_mode), "%s: the FIFO was replaced" % what)


# ---------------------------------------------------------------------------
# 8. stale stages of SIGKILLed jobs


def read_line_bounded(path, timeout):
    """The first line written to FIFO path, or None after timeout seconds
    (the open blocks until a writer comes; a thread bounds the wait)."""
    import threading
    got = []

    def reader():
        with open(path, "rb") as f:
            got.append(f.readline())
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():  # release the reader
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        t.join(5)
        return None
    return got[0] if got else None


def dead_pid():
    p = subprocess.Popen(["sleep", "1000"])
    p.kill()
    p.wait()
    return p.pid


def case_stale_stages(case, E, T):
    kernels = os.environ.get("RP_FAULT_KERNELS")
    if not T.check(case, kernels, "RP_FAULT_KERNELS not set"):
        return
    d = E.folder("stale")
    src = os.path.join(d, "..", "stale_src.tif")
    index_raster(src)
    fifo = os.path.join(E.tmp, "ready.fifo")
    os.mkfifo(fifo)
    p = subprocess.Popen([rptest.binary(), "calc", "-i", "A=" + src, "--kernel",
                          kernels + ":announce_and_wait", "--kernel-arg", fifo,
                          "-o", os.path.join(d, "out.tif"), "-j", "2", "-q"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    line = read_line_bounded(fifo, 120)
    p.kill()
    p.wait(timeout=60)
    if not T.check(case, line == b"ready\n", "the kernel never announced: %r" % p.stderr.read()):
        return
    stale = leftovers(d)
    T.check(case, len(stale) == 1 and ".rp-tmp-%d-" % p.pid in stale[0],
            "want the killed calc's stage in the folder, found %s" % stale)
    # a live process's stage must stay
    live = os.path.join(d, ".keep_tif.rp-tmp-%d-abcdef" % os.getpid())
    os.mkdir(live)
    r = rptest.rp(["calc", "-i", "A=" + src, "-e", "A*2", "-o", os.path.join(d, "next.tif"), "-q"])
    T.check(case, r.code == 0, "the next calc: %s" % r.describe())
    T.check(case, leftovers(d) == [os.path.basename(live)],
            "after the next calc, want only the live stage, found %s" % leftovers(d))
    os.rmdir(live)
    # extract: a stage (with a 1 MB member) of a process killed with SIGKILL
    d2 = E.folder("stale_extract")
    gone = os.path.join(d2, ".o_csv.rp-tmp-%d-abcdef" % dead_pid())
    os.mkdir(gone)
    with open(os.path.join(gone, "o.csv"), "wb") as f:
        f.write(b"x" * (1 << 20))
    r = rptest.extract([E.r, "--points", E.pts, "-o", os.path.join(d2, "other.csv"), "-q"])
    T.check(case, r.code == 0, "extract: %s" % r.describe())
    T.check(case, not leftovers(d2), "extract left the dead process's stage: %s" % leftovers(d2))


# ---------------------------------------------------------------------------
# 14. -o "", SIGPIPE, non-UTF-8 names in the journal


def case_small(case, E, T):
    r = rptest.extract([E.r, "--points", E.pts, "-o", ""])
    T.check(case, r.code == 2 and "empty" in r.err, "extract -o '': %s" % r.describe())
    r = rptest.rp(["calc", "-i", "A=" + E.r, "-e", "A", "-o", ""])
    T.check(case, r.code == 2 and "empty" in r.err, "calc -o '': %s" % r.describe())
    # a reader that stops after one line
    for ignore in (False, True):
        def pre(ignore=ignore):
            if ignore:
                signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        p = subprocess.Popen([rptest.binary(), "extract", E.r, "--points", E.pts, "-q"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=pre,
                             cwd=E.tmp)
        first = p.stdout.readline()
        p.stdout.close()  # the rest (far more than a pipe holds) has nowhere to go
        err = p.stderr.read().decode()
        code = p.wait(timeout=120)
        T.check(case, first == b"id,x,y,b1\n", "first line %r" % first)
        if ignore:
            T.check(case, code == 3 and "Broken pipe" in err,
                    "SIGPIPE ignored: want exit 3 'Broken pipe', got %s %r" % (code, err))
        else:
            T.check(case, code == -signal.SIGPIPE and err == "",
                    "closed stdout: want death by SIGPIPE and no message, got %s %r" % (code, err))
    # a name that is not UTF-8
    d = E.folder("odd").encode()
    name = d + b"/caf\xe9-\xff.tif"
    plain = os.path.join(d.decode(), "plain.tif")
    rptest.create_raster(plain, np.full((4, 5), 3, np.int32), "Int32")
    os.rename(plain.encode(), name)
    out = E.folder("odd_out")
    args = ["batch", "translate", name.decode("utf-8", "surrogateescape"), "--out-dir", out, "-q"]
    cmd = [rptest.binary().encode()] + [a.encode("utf-8", "surrogateescape") for a in args]
    p = subprocess.run(cmd, capture_output=True, timeout=300)
    T.check(case, p.returncode == 0, "batch of a non-UTF-8 name: %s %r" % (p.returncode, p.stderr))
    journal = os.path.join(out, "rasterpool-batch.jsonl")
    raw = open(journal, "rb").read()
    try:
        recs = [json.loads(line) for line in raw.decode("utf-8").splitlines()]
    except (UnicodeDecodeError, ValueError) as ex:
        T.fail(case, "the journal is not valid JSON in UTF-8: %s: %r" % (ex, raw[:300]))
        return
    T.check(case, len(recs) == 1 and os.fsencode(recs[0]["input"]) == name,
            "the journal's input does not give back the bytes: %r" % recs)
    T.check(case, os.path.exists(os.fsencode(recs[0]["output"])), "output named wrong: %r" % recs)
    p = subprocess.run(cmd + [b"--resume"], capture_output=True, timeout=300)
    lines = open(journal, "rb").read().decode("utf-8").splitlines()
    T.check(case, p.returncode == 0 and len(lines) == 1,
            "--resume redid the done task (records: %d): %r" % (len(lines), p.stderr))


def main():
    T = rptest.Tester("cli_output_faults")
    rptest.binary()
    with tempfile.TemporaryDirectory(prefix="rp_outf_") as tmp:
        E = Env(tmp)
        for name, fn in [
            ("1 full file system: exit 3, old output kept", case_full_fs),
            ("1b ulimit -f with SIGXFSZ's default action: exit 3, not killed",
             case_ulimit_default_signal),
            ("17.1 GPKG on a full disk: No space left on device", case_17_1_gpkg_full_disk),
            ("17.1 batch on a full disk: failed, named, journaled", case_17_1_batch_full_disk),
            ("2 batch output that is an input: refused", case_batch_output_is_input),
            ("3 -o is an input: refused", case_output_is_input),
            ("4 a Shapefile is replaced as a set", case_multifile_set),
            ("5 devices, FIFOs, /dev/stdout written in place", case_devices),
            ("8 stale stages of SIGKILLed jobs are swept", case_stale_stages),
            ("17.6a calc: SIGINT/SIGTERM while a kernel never returns", case_17_6_calc_kernel_hangs),
            ("17.6b zonal: SIGINT/SIGTERM while a read never ends", case_17_6_zonal_read_hangs),
            ("17.6c extract, calc: SIGINT/SIGTERM while the writer is blocked",
             case_17_6_writer_blocked),
            ("14 -o '', SIGPIPE, non-UTF-8 names in the journal", case_small),
        ]:
            T.run_case(name, fn, E, T)
    T.finish()


if __name__ == "__main__":
    main()
