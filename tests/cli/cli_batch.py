#!/usr/bin/python3
"""cli_batch — `rasterpool batch`, the acceptance test of crash-isolated batches.

Oracles: every good output is compared with what gdalwarp / gdal_translate
(the GDAL command-line tools, run alone on the same input with the same
options) produce: size, band count, data type, geotransform, CRS and every
pixel (numpy, NaN-aware). Reasons and attempts come from the journal
(JSON lines) and stderr; nothing is compared with rasterpool's own earlier
output.

Bad inputs: a text file that is not a raster, a truncated GeoTIFF, a VRT
whose Python pixel function dereferences NULL (a real SIGSEGV in the worker),
one that sleeps for an hour (killed by --timeout), and "slow" VRTs that touch
a marker file and sleep, so that the test knows when a task is in flight and
can SIGKILL its worker or send Ctrl-C to the batch at that moment. (GDAL runs
VRT Python pixel functions only with GDAL_VRT_ENABLE_PYTHON=YES, passed to
the workers with --config.)

Cases:
  1. warp: 8 rasters (3 types, nodata, 2 CRSs) + the 4 bad inputs, -j 3,
     --timeout: exit 1; exactly the bad ones failed, each with its reason
     and attempt count (crash and hang retried once, GDAL errors not);
     good outputs equal gdalwarp's; no temporary files; no worker left;
  2. translate --inputs LIST --suffix _cog -- -of COG -co COMPRESS=ZSTD:
     outputs named <stem>_cog.tif, equal to gdal_translate's;
  3. a worker SIGKILLed from the test mid-task: reaped (no zombie), replaced,
     the task retried and done; journal shows signal 9 then done;
  4. Ctrl-C mid-run: running task finishes and is kept, no new task starts,
     exit 130, no temporaries; --resume redoes exactly the missing ones
     (journal), and everything equals the oracle;
  5. Ctrl-C twice: the running task is killed, exit 130, nothing at its
     final path, no temporaries, journal says interrupted;
     17.6: one SIGTERM while a task hangs for a day: the same at once
     (the old output at the hung task's path unchanged);
  6. --resume redoes an output that was deleted and one whose last record
     failed, and skips the rest;
  7. usage errors (exit 2, before any output): a gdalwarp typo, a pattern
     that matches nothing, two inputs writing one output, an unknown kind,
     a missing --out-dir, a bad calc expression, -o given to calc; a folder
     that cannot be made: exit 3;
  8. calc -e "A*0.1": each output equals numpy's A*0.1 (float64 math, cast
     to float32; nodata kept) on the input's grid and CRS;
  9. calc --kernel: a C kernel that dereferences NULL on one input (its
     worker dies of SIGSEGV) and sleeps on another (killed by --timeout):
     exactly those two fail, the others equal their input pixel for pixel.
     The kernel library's path comes in RP_BATCH_KERNELS.
 10. translate -co TFW=YES under umask 027, over an old output with a stale
     .aux.xml: the world file (a sidecar that replaces the extension) is in
     place and equals gdal_translate's, the stale .aux.xml is gone, files
     have mode 0640 (the umask applied, not 0600 or 0666), no temporaries.
Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 cli_batch.py
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
import numpy as np  # noqa: E402

import rptest  # noqa: E402
from rptest import gdal, osr  # noqa: E402

PY = ["--config", "GDAL_VRT_ENABLE_PYTHON", "YES"]
WARP_OPTS = ["-t_srs", "EPSG:4326", "-r", "bilinear", "-co", "COMPRESS=DEFLATE"]


# ---------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------

def good_rasters(folder, n=8, size=96):
    """n real rasters: Float32 (UTM 33N), Byte with nodata, 2-band Int16
    (UTM 32N), each with different values and origins."""
    rng = np.random.default_rng(5)
    paths = []
    for i in range(n):
        kind = i % 3
        gt = (400000.0 + 1000 * i, 30.0, 0.0, 5000000.0 - 500 * i, 0.0, -30.0)
        p = os.path.join(folder, "r%02d.tif" % i)
        if kind == 0:
            data = rng.random((size, size)).astype(np.float32) * 1000
            rptest.create_raster(p, data, "Float32", gt=gt, srs="EPSG:32633")
        elif kind == 1:
            data = rng.integers(0, 255, (size, size)).astype(np.uint8)
            data[:10, :10] = 0
            rptest.create_raster(p, data, "Byte", gt=gt, srs="EPSG:32633", nodata=0)
        else:
            data = rng.integers(-3000, 3000, (2, size, size)).astype(np.int16)
            rptest.create_raster(p, data, "Int16", gt=gt, srs="EPSG:32632")
        paths.append(p)
    return paths


def truncated_tiff(path):
    rng = np.random.default_rng(9)
    data = rng.random((256, 256)).astype(np.float32)
    rptest.create_raster(path + ".full", data, "Float32", block=(64, 64),
                         gt=(400000.0, 30.0, 0.0, 5000000.0, 0.0, -30.0), srs="EPSG:32633")
    with open(path + ".full", "rb") as f:
        whole = f.read()
    os.unlink(path + ".full")
    with open(path, "wb") as f:
        f.write(whole[: len(whole) // 2])
    return path


def python_vrt(path, body, base="vrtbase/base.tif"):
    """A 32x32 VRT in UTM 33N whose one band runs `body` (Python) in a pixel
    function; out_ar is then filled with the base raster's values (kept in a
    subfolder, out of the way of the test's *.tif patterns)."""
    folder = os.path.dirname(path)
    bp = os.path.join(folder, base)
    os.makedirs(os.path.dirname(bp), exist_ok=True)
    if not os.path.exists(bp):
        data = (np.arange(32 * 32).reshape(32, 32) % 200).astype(np.uint8)
        rptest.create_raster(bp, data, "Byte", gt=(450000.0, 30.0, 0.0, 5000000.0, 0.0, -30.0),
                             srs="EPSG:32633")
    code = "\n".join([
        "import ctypes, os, time",
        "def f(in_ar, out_ar, xoff, yoff, xsize, ysize, raster_xsize, raster_ysize,"
        " buf_radius, gt, **kwargs):",
        "    " + body,
        "    out_ar[:] = in_ar[0]",
    ])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    return rptest.python_pixel_vrt(path, base, code, 32, 32, "Byte",
                                   gt=(450000, 30, 0, 5000000, 0, -30), srs_wkt=srs.ExportToWkt())


def slow_vrt(path, marker, seconds):
    """Touches `marker` (one line per start), sleeps, then gives real pixels."""
    return python_vrt(path, "open(%r, 'a').write('x\\n'); time.sleep(%r)" % (marker, seconds))


# ---------------------------------------------------------------------------
# oracles and checks
# ---------------------------------------------------------------------------

def gdal_tool(tool, src, dst, opts):
    cmd = [tool, "-q"] + list(opts) + [src, dst]
    env = dict(os.environ, GDAL_VRT_ENABLE_PYTHON="YES")
    p = subprocess.run(cmd, capture_output=True, timeout=300, env=env)
    if p.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), p.stderr.decode()))
    return dst


def same_raster(T, case, got_path, want_path):
    """Compares everything a user sees of two rasters."""
    g = gdal.Open(got_path)
    w = gdal.Open(want_path)
    name = os.path.basename(got_path)
    if not T.check(case, (g.RasterXSize, g.RasterYSize, g.RasterCount) ==
                   (w.RasterXSize, w.RasterYSize, w.RasterCount),
                   "%s: size %s, gdal tool made %s" % (
                       name, (g.RasterXSize, g.RasterYSize, g.RasterCount),
                       (w.RasterXSize, w.RasterYSize, w.RasterCount))):
        return False
    ok = T.check(case, np.allclose(g.GetGeoTransform(), w.GetGeoTransform(), rtol=0, atol=1e-12),
                 "%s: geotransform %s, gdal tool made %s" % (
                     name, g.GetGeoTransform(), w.GetGeoTransform()))
    gs, ws = osr.SpatialReference(), osr.SpatialReference()
    gs.ImportFromWkt(g.GetProjection())
    ws.ImportFromWkt(w.GetProjection())
    ok &= T.check(case, gs.IsSame(ws) == 1, "%s: CRS differs from the gdal tool's" % name)
    for b in range(1, g.RasterCount + 1):
        gb, wb = g.GetRasterBand(b), w.GetRasterBand(b)
        ok &= T.check(case, gb.DataType == wb.DataType and gb.GetNoDataValue() == wb.GetNoDataValue(),
                      "%s band %d: type/nodata %s/%s, gdal tool %s/%s" % (
                          name, b, gb.DataType, gb.GetNoDataValue(), wb.DataType, wb.GetNoDataValue()))
        ga, wa = gb.ReadAsArray(), wb.ReadAsArray()
        ok &= T.check(case, np.array_equal(ga, wa, equal_nan=ga.dtype.kind == "f"),
                      "%s band %d: %d pixels differ from the gdal tool's" % (
                          name, b, int(np.count_nonzero(~((ga == wa) | (np.isnan(ga) & np.isnan(wa))
                                                          if ga.dtype.kind == "f" else ga == wa)))))
    return ok


def journal(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def leftovers(folder):
    """Temporary or partial files: anything hidden (our temporaries start with
    a dot) or named like a temporary."""
    return sorted(n for n in os.listdir(folder) if n.startswith(".") or "rp-tmp" in n)


def workers_of(ppid):
    """Live worker processes started by rasterpool pid ppid (argv carries it)."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if len(args) > 2 and args[1] == b"__batch-worker" and args[2] == str(ppid).encode():
            found.append(int(d))
    return found


def zombies_of(ppid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if fields[0] == "Z" and int(fields[1]) == ppid:
            out.append(int(d))
    return out


def wait_for(cond, timeout=120, step=0.02):
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return None


def start(args, env=None):
    return subprocess.Popen([rptest.binary(), "batch"] + [str(a) for a in args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def no_leak_check_env():
    """Some of GDAL 3.6's drivers leak a coordinate transformation inside
    GDALDriver::CreateCopy (seen under ASan in the every-driver case, with no
    rasterpool code on the stack below CreateCopy). Leak checking is turned
    off for that case's runs only; every other check of the sanitizers
    stays."""
    env = dict(os.environ)
    old = env.get("ASAN_OPTIONS")
    env["ASAN_OPTIONS"] = (old + ":" if old else "") + "detect_leaks=0"
    return env


def real_segv_env():
    """Under AddressSanitizer a SIGSEGV is caught, reported and turned into
    exit code 1; the crash case wants the real signal, as in a plain build
    (a crash of any good input still fails the case: its output is checked)."""
    env = dict(os.environ)
    old = env.get("ASAN_OPTIONS")
    env["ASAN_OPTIONS"] = (old + ":" if old else "") + "handle_segv=0"
    return env


def finish(p, timeout=300):
    out, err = p.communicate(timeout=timeout)
    err = err.decode("utf-8", "replace")
    for mark in rptest._SANITIZER_MARKS:
        k = err.find(mark)
        if k >= 0:
            rptest.SANITIZER_REPORTS.append(("batch", err[max(0, k - 200):k + 1500]))
            break
    return p.returncode, err


def lines_of(path):
    try:
        with open(path) as f:
            return len(f.read().splitlines())
    except OSError:
        return 0


# ---------------------------------------------------------------------------
# cases
# ---------------------------------------------------------------------------

def case_warp_with_bad_inputs(T, case, tmp):
    src = os.path.join(tmp, "scenes")
    os.mkdir(src)
    good = good_rasters(src)
    with open(os.path.join(src, "notes.tif"), "w") as f:
        f.write("this is not a raster\n")
    truncated_tiff(os.path.join(src, "truncated.tif"))
    python_vrt(os.path.join(src, "crash.vrt"), "ctypes.string_at(0)")
    python_vrt(os.path.join(src, "hang.vrt"), "time.sleep(3600)")
    out = os.path.join(tmp, "warped")
    args = ["warp", os.path.join(src, "*.tif"), os.path.join(src, "*.vrt"), "--out-dir", out,
            "-j", "3", "--timeout", "5"] + PY + ["--"] + WARP_OPTS
    p = start(args, env=real_segv_env())
    code, err = finish(p)
    T.check(case, code == 1, "exit %s, want 1; stderr: %s" % (code, err[-2000:]))
    recs = journal(os.path.join(out, "rasterpool-batch.jsonl"))
    final = {}
    attempts = {}
    for r in recs:
        name = os.path.basename(r["input"])
        final[name] = r
        attempts[name] = attempts.get(name, 0) + 1
    bad = {"notes.tif", "truncated.tif", "crash.vrt", "hang.vrt"}
    failed = {n for n, r in final.items() if r["outcome"] != "done"}
    T.check(case, failed == bad, "failed %s, want exactly %s" % (sorted(failed), sorted(bad)))
    T.check(case, len(final) == len(good) + len(bad),
            "journal names %d inputs, want %d" % (len(final), len(good) + len(bad)))
    r = final.get("notes.tif", {})
    T.check(case, r.get("outcome") == "error" and "not recognized" in (r.get("error") or ""),
            "notes.tif: %r" % r)
    r = final.get("truncated.tif", {})
    T.check(case, r.get("outcome") == "error" and r.get("error"), "truncated.tif: %r" % r)
    r = final.get("crash.vrt", {})
    T.check(case, r.get("outcome") == "crashed" and r.get("signal") == signal.SIGSEGV,
            "crash.vrt: %r" % r)
    r = final.get("hang.vrt", {})
    T.check(case, r.get("outcome") == "timeout" and 4.5 < r.get("seconds", 0),
            "hang.vrt: %r" % r)
    T.check(case, attempts.get("crash.vrt") == 2 and attempts.get("hang.vrt") == 2,
            "crash/hang attempts %s/%s, want 2 each (--retries 1)" % (
                attempts.get("crash.vrt"), attempts.get("hang.vrt")))
    T.check(case, attempts.get("notes.tif") == 1 and attempts.get("truncated.tif") == 1,
            "GDAL errors must not be retried: %s/%s attempts" % (
                attempts.get("notes.tif"), attempts.get("truncated.tif")))
    for n in bad:
        T.check(case, n in err, "stderr does not list %s: %s" % (n, err[-1500:]))
        stem = os.path.splitext(n)[0]
        T.check(case, not os.path.exists(os.path.join(out, stem + ".tif")),
                "an output exists for failed input %s" % n)
    want_dir = os.path.join(tmp, "warp-oracle")
    os.mkdir(want_dir)
    for g in good:
        name = os.path.basename(g)
        want = gdal_tool("gdalwarp", g, os.path.join(want_dir, name), WARP_OPTS)
        got = os.path.join(out, name)
        if T.check(case, os.path.exists(got), "no output for %s" % name):
            same_raster(T, case, got, want)
    T.check(case, leftovers(out) == [], "temporary files left: %s" % leftovers(out))
    T.check(case, sorted(os.listdir(out)) ==
            sorted([os.path.basename(g) for g in good] + ["rasterpool-batch.jsonl"]),
            "output folder holds %s" % sorted(os.listdir(out)))
    T.check(case, workers_of(p.pid) == [], "workers outlived the batch: %s" % workers_of(p.pid))


def case_translate_list(T, case, tmp):
    src = os.path.join(tmp, "tr-in")
    os.mkdir(src)
    good = good_rasters(src, n=4, size=300)
    lst = os.path.join(tmp, "list.txt")
    with open(lst, "w") as f:
        f.write("# inputs\n\n" + "\n".join(good) + "\n")
    out = os.path.join(tmp, "cogs")
    opts = ["-of", "COG", "-co", "COMPRESS=ZSTD"]
    p = start(["translate", "--inputs", lst, "--out-dir", out, "--suffix", "_cog", "-q", "--"] + opts)
    code, err = finish(p)
    T.check(case, code == 0, "exit %s; stderr %s" % (code, err[-1500:]))
    want_dir = os.path.join(tmp, "tr-oracle")
    os.mkdir(want_dir)
    for g in good:
        stem = os.path.splitext(os.path.basename(g))[0]
        got = os.path.join(out, stem + "_cog.tif")
        want = gdal_tool("gdal_translate", g, os.path.join(want_dir, stem + ".tif"), opts)
        if T.check(case, os.path.exists(got), "no %s" % got):
            same_raster(T, case, got, want)
            ds = gdal.Open(got)
            T.check(case, ds.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE") == "COG" and
                    ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") == "ZSTD",
                    "%s is not a ZSTD COG: %s" % (got, ds.GetMetadata("IMAGE_STRUCTURE")))
    T.check(case, leftovers(out) == [], "temporary files left: %s" % leftovers(out))


def case_worker_killed(T, case, tmp):
    src = os.path.join(tmp, "kill-in")
    os.mkdir(src)
    good = good_rasters(src, n=3)
    marker = os.path.join(tmp, "kill-marker")
    slow = slow_vrt(os.path.join(src, "a_slow.vrt"), marker, 2.0)
    out = os.path.join(tmp, "kill-out")
    p = start(["translate", os.path.join(src, "*.vrt"), os.path.join(src, "*.tif"),
               "--out-dir", out, "-j", "1", "-q"] + PY)
    try:
        T.check(case, wait_for(lambda: lines_of(marker) >= 1), "the slow task never started")
        victims = workers_of(p.pid)
        T.check(case, len(victims) == 1, "want 1 worker, found %s" % victims)
        for v in victims:
            os.kill(v, signal.SIGKILL)
        # reaped at once: no zombie stays behind
        time.sleep(0.5)
        z1 = set(zombies_of(p.pid))
        time.sleep(0.5)
        z2 = set(zombies_of(p.pid))
        T.check(case, not (z1 & z2), "zombie worker(s) %s not reaped" % sorted(z1 & z2))
    finally:
        code, err = finish(p)
    T.check(case, code == 0, "exit %s, want 0 (the retry succeeds); %s" % (code, err[-1500:]))
    recs = [r for r in journal(os.path.join(out, "rasterpool-batch.jsonl"))
            if os.path.basename(r["input"]) == "a_slow.vrt"]
    T.check(case, [(r["attempt"], r["outcome"], r["signal"]) for r in recs] ==
            [(1, "crashed", signal.SIGKILL), (2, "done", None)],
            "a_slow.vrt attempts: %s" % recs)
    T.check(case, recs and recs[0]["pid"] != recs[-1]["pid"], "the retry ran in the same pid")
    want_dir = os.path.join(tmp, "kill-oracle")
    os.mkdir(want_dir)
    for g in good + [slow]:
        stem = os.path.splitext(os.path.basename(g))[0]
        want = gdal_tool("gdal_translate", g, os.path.join(want_dir, stem + ".tif"), [])
        got = os.path.join(out, stem + ".tif")
        if T.check(case, os.path.exists(got), "no %s" % got):
            same_raster(T, case, got, want)
    T.check(case, leftovers(out) == [], "temporary files left: %s" % leftovers(out))
    T.check(case, workers_of(p.pid) == [], "workers outlived the batch")


def interrupt_setup(tmp, tag, sleep_s):
    src = os.path.join(tmp, tag + "-in")
    os.mkdir(src)
    good = good_rasters(src, n=6)
    marker = os.path.join(tmp, tag + "-marker")
    # sorted order: r00..r02, r03_slow.vrt, r03..r05 -> the slow one is 4th
    slow = slow_vrt(os.path.join(src, "r02_slow.vrt"), marker, sleep_s)
    inputs = sorted(good + [slow])
    lst = os.path.join(tmp, tag + "-list.txt")
    with open(lst, "w") as f:
        f.write("\n".join(inputs) + "\n")
    return inputs, lst, marker, os.path.join(tmp, tag + "-out")


def case_interrupt_then_resume(T, case, tmp):
    inputs, lst, marker, out = interrupt_setup(tmp, "int", 2.0)
    args = ["warp", "--inputs", lst, "--out-dir", out, "-j", "1", "-q"] + PY + ["--"] + WARP_OPTS
    p = start(args)
    try:
        T.check(case, wait_for(lambda: lines_of(marker) >= 1), "the slow task never started")
        p.send_signal(signal.SIGINT)
    finally:
        code, err = finish(p)
    T.check(case, code == 130, "exit %s, want 130; %s" % (code, err[-1500:]))
    names = [os.path.splitext(os.path.basename(i))[0] + ".tif" for i in inputs]
    k = next(i for i, n in enumerate(names) if "slow" in n)
    want_done = set(names[: k + 1])  # everything before, and the one running
    have = set(n for n in os.listdir(out) if n.endswith(".tif"))
    T.check(case, have == want_done, "after Ctrl-C outputs %s, want %s" % (sorted(have), sorted(want_done)))
    T.check(case, leftovers(out) == [], "temporary files left: %s" % leftovers(out))
    T.check(case, "not started" in err, "summary does not say what was not started: %s" % err[-800:])
    before = len(journal(os.path.join(out, "rasterpool-batch.jsonl")))
    p = start(["warp", "--inputs", lst, "--out-dir", out, "-j", "2", "-q", "--resume"] + PY +
              ["--"] + WARP_OPTS)
    code, err = finish(p)
    T.check(case, code == 0, "resume exit %s; %s" % (code, err[-1500:]))
    new = journal(os.path.join(out, "rasterpool-batch.jsonl"))[before:]
    redone = sorted(os.path.basename(r["output"]) for r in new)
    T.check(case, redone == sorted(set(names) - want_done),
            "resume ran %s, want exactly %s" % (redone, sorted(set(names) - want_done)))
    T.check(case, lines_of(marker) == 1, "the slow task ran again on resume")
    want_dir = os.path.join(tmp, "int-oracle")
    os.mkdir(want_dir)
    for i, n in zip(inputs, names):
        want = gdal_tool("gdalwarp", i, os.path.join(want_dir, n), WARP_OPTS)
        if T.check(case, os.path.exists(os.path.join(out, n)), "no output %s" % n):
            same_raster(T, case, os.path.join(out, n), want)
    T.check(case, leftovers(out) == [], "temporary files left: %s" % leftovers(out))


def case_interrupt_twice(T, case, tmp):
    inputs, lst, marker, out = interrupt_setup(tmp, "int2", 30.0)
    p = start(["warp", "--inputs", lst, "--out-dir", out, "-j", "1", "-q"] + PY + ["--"] + WARP_OPTS)
    t0 = time.time()
    try:
        T.check(case, wait_for(lambda: lines_of(marker) >= 1), "the slow task never started")
        p.send_signal(signal.SIGINT)
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
    finally:
        code, err = finish(p)
    T.check(case, code == 130, "exit %s, want 130; %s" % (code, err[-1500:]))
    T.check(case, time.time() - t0 < 25, "the second Ctrl-C did not kill the 30 s task")
    T.check(case, not os.path.exists(os.path.join(out, "r02_slow.tif")),
            "the killed task left an output")
    T.check(case, leftovers(out) == [], "temporary files left: %s" % leftovers(out))
    recs = journal(os.path.join(out, "rasterpool-batch.jsonl"))
    T.check(case, recs and recs[-1]["outcome"] == "interrupted" and
            recs[-1]["input"].endswith("r02_slow.vrt"), "last record %s" % (recs[-1:],))
    T.check(case, wait_for(lambda: workers_of(p.pid) == [], timeout=5),
            "workers outlived the batch: %s" % workers_of(p.pid))


def case_17_6_sigterm_hung_worker(T, case, tmp):
    """SIGTERM (a supervisor's stop: systemd, timeout, Slurm) while a task
    hangs for a day in its worker (a VRT pixel function that sleeps): the
    running task is stopped at once, not waited for (a first SIGTERM used to
    let it finish, so the batch never ended): exit 130, the worker gone,
    the hung task journaled interrupted, its old output unchanged, no
    temporaries."""
    inputs, lst, marker, out = interrupt_setup(tmp, "term", 86400.0)
    os.mkdir(out)
    old = os.path.join(out, "r02_slow.tif")
    with open(old, "wb") as f:
        f.write(b"the old output, to be kept\n")
    p = start(["warp", "--inputs", lst, "--out-dir", out, "-j", "2", "-q"] + PY + ["--"] +
              WARP_OPTS)
    code, err = None, ""
    try:
        T.check(case, wait_for(lambda: lines_of(marker) >= 1), "the hung task never started")
        p.send_signal(signal.SIGTERM)
        code, err = finish(p, timeout=30)
    except subprocess.TimeoutExpired:
        T.fail(case, "still running 30 s after SIGTERM")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        for w in workers_of(p.pid):
            os.kill(w, signal.SIGKILL)
    T.check(case, code == 130, "exit %s, want 130; %s" % (code, err[-1500:]))
    with open(old, "rb") as f:
        T.check(case, f.read() == b"the old output, to be kept\n", "the old output changed")
    T.check(case, leftovers(out) == [], "temporary files left: %s" % leftovers(out))
    recs = [r for r in journal(os.path.join(out, "rasterpool-batch.jsonl"))
            if r["input"].endswith("r02_slow.vrt")]
    T.check(case, recs and recs[-1]["outcome"] == "interrupted", "hung task's records %s" % recs)
    T.check(case, wait_for(lambda: workers_of(p.pid) == [], timeout=5),
            "workers outlived the batch: %s" % workers_of(p.pid))


def case_resume_redoes_missing_and_failed(T, case, tmp):
    src = os.path.join(tmp, "res-in")
    os.mkdir(src)
    good = good_rasters(src, n=4)
    out = os.path.join(tmp, "res-out")
    base = ["warp", os.path.join(src, "*.tif"), "--out-dir", out, "-q"]
    code, err = finish(start(base + ["--"] + WARP_OPTS))
    T.check(case, code == 0, "first run exit %s: %s" % (code, err[-800:]))
    log = os.path.join(out, "rasterpool-batch.jsonl")
    os.unlink(os.path.join(out, "r01.tif"))  # output lost
    with open(log, "a") as f:                # a later failed record for r02
        f.write(json.dumps({"input": good[2], "output": os.path.join(out, "r02.tif"),
                            "outcome": "error", "error": "test"}) + "\n")
        f.write("garbage line\n")
    n0 = len(open(log).read().splitlines())
    # temporaries of a batch killed outright (its pid is gone) are swept;
    # those of a live process are not
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = os.path.join(out, ".r03.rp-tmp-%d-3-1.tif" % gone.pid)
    stale_calc = os.path.join(out, "..r03.rp-tmp-%d-3-1.tif.rasterpool-AbC123.tif" % gone.pid)
    live = os.path.join(out, ".r03.rp-tmp-%d-3-1.tif" % os.getpid())
    for f in (stale, stale_calc, live):
        open(f, "w").close()
    # no -q: the summary of a run where everything is done is wanted here
    code, err = finish(start(base[:-1] + ["--resume", "--"] + WARP_OPTS))
    T.check(case, not os.path.exists(stale) and not os.path.exists(stale_calc),
            "stale temporaries not removed: %s" % leftovers(out))
    T.check(case, os.path.exists(live), "a live process's temporary was removed")
    if os.path.exists(live):
        os.unlink(live)
    T.check(case, code == 0, "resume exit %s: %s" % (code, err[-800:]))
    new = [json.loads(x) for x in open(log).read().splitlines()[n0:]]
    T.check(case, sorted(os.path.basename(r["output"]) for r in new) == ["r01.tif", "r02.tif"],
            "resume ran %s" % [r["output"] for r in new])
    T.check(case, "2 skipped" in err, "summary: %s" % err[-500:])
    T.check(case, "1 line(s)" in err, "the garbage journal line is not reported: %s" % err[-500:])


def case_resume_redoes_changed(T, case, tmp):
    """Issue 15 item 4: --resume redoes a task whose recorded options, kind
    or input (size, modification time) changed, says how many and why, and
    records it; an unchanged one is skipped. Outputs equal gdalwarp's with
    the options of the latest run."""
    src = os.path.join(tmp, "chg-in")
    os.mkdir(src)
    good = good_rasters(src, n=3)
    out = os.path.join(tmp, "chg-out")
    log = os.path.join(out, "rasterpool-batch.jsonl")
    base = ["warp", os.path.join(src, "*.tif"), "--out-dir", out]
    code, err = finish(start(base + ["--", "-t_srs", "EPSG:4326"]))
    T.check(case, code == 0, "first run exit %s: %s" % (code, err[-800:]))
    first = journal(log)
    T.check(case, all(r.get("kind") == "warp" and r.get("options") == ["-t_srs", "EPSG:4326"] and
                      r.get("input_size") == os.stat(r["input"]).st_size and
                      r.get("input_mtime_ns") == os.stat(r["input"]).st_mtime_ns and
                      r.get("redo") is None for r in first),
            "records lack kind/options/fingerprint: %s" % first[:1])
    # the same options again: all skipped
    n0 = len(first)
    code, err = finish(start(base + ["--resume", "--", "-t_srs", "EPSG:4326"]))
    T.check(case, code == 0 and len(journal(log)) == n0, "an unchanged resume ran tasks: %s" % err)
    # other options: every task is redone, and outputs are in EPSG:3857
    new_opts = ["-t_srs", "EPSG:3857"]
    code, err = finish(start(base + ["--resume", "--"] + new_opts))
    T.check(case, code == 0, "resume exit %s: %s" % (code, err[-800:]))
    new = journal(log)[n0:]
    T.check(case, sorted(os.path.basename(r["output"]) for r in new) ==
            ["r00.tif", "r01.tif", "r02.tif"], "resume with new options ran %s" %
            [r["output"] for r in new])
    T.check(case, all("made with options" in (r.get("redo") or "") and r["options"] == new_opts
                      for r in new), "redo reason not journaled: %s" % new[:1])
    T.check(case, "3 redone: 3 made with other options" in err, "no redo count: %r" % err[-600:])
    for g in good:
        name = os.path.basename(g)
        want = gdal_tool("gdalwarp", g, os.path.join(tmp, "chg-want-" + name), new_opts)
        same_raster(T, case, os.path.join(out, name), want)
    # a changed input (new content, new size and mtime) is redone, alone
    n1 = len(journal(log))
    data = np.full((50, 60), 7, np.float32)
    rptest.create_raster(good[1], data, "Float32", gt=(400000.0, 30.0, 0.0, 5000000.0, 0.0, -30.0),
                         srs="EPSG:32633")
    code, err = finish(start(base + ["--resume", "--"] + new_opts))
    new = journal(log)[n1:]
    T.check(case, code == 0 and [os.path.basename(r["output"]) for r in new] == ["r01.tif"],
            "changed input: ran %s: %s" % ([r["output"] for r in new], err[-600:]))
    T.check(case, "1 redone: 1 input changed since" in err, "no input-changed count: %r" % err)
    T.check(case, new and "input changed since" in (new[0].get("redo") or ""), "reason %s" % new)
    want = gdal_tool("gdalwarp", good[1], os.path.join(tmp, "chg-want2.tif"), new_opts)
    same_raster(T, case, os.path.join(out, "r01.tif"), want)
    # another kind over the same outputs: redone
    n2 = len(journal(log))
    code, err = finish(start(["translate", os.path.join(src, "*.tif"), "--out-dir", out,
                              "--resume", "--"] + new_opts[:0]))
    new = journal(log)[n2:]
    T.check(case, code == 0 and len(new) == 3 and "3 made by another kind of job" in err,
            "another kind: ran %d: %s" % (len(new), err[-600:]))
    # a record of an older rasterpool (no kind, no options): redone
    n3 = len(journal(log))
    with open(log, "a") as f:
        f.write(json.dumps({"input": good[0], "output": os.path.join(out, "r00.tif"),
                            "outcome": "done"}) + "\n")
    code, err = finish(start(["translate", os.path.join(src, "*.tif"), "--out-dir", out,
                              "--resume"]))
    new = journal(log)[n3 + 1:]
    T.check(case, code == 0 and [os.path.basename(r["output"]) for r in new] == ["r00.tif"] and
            "1 recorded without its options" in err, "old record: ran %s: %s" % (
                [r["output"] for r in new], err[-600:]))


def case_quiet_and_plurals(T, case, tmp):
    """Issue 15 item 17: -q prints no summary when every task is done (a
    failure is still listed, with the summary); counts of one are singular;
    the top-level help lists calc among batch's kinds."""
    src = os.path.join(tmp, "q-in")
    os.mkdir(src)
    good = good_rasters(src, n=1)
    out = os.path.join(tmp, "q-out")
    code, err = finish(start(["translate", good[0], "--out-dir", out, "-j", "1"]))
    T.check(case, code == 0 and "1 done, 0 failed of 1; 1 attempt (0 retries), 1 worker," in err,
            "summary: %r" % err)
    code, err = finish(start(["translate", good[0], "--out-dir", out, "-j", "1", "-q"]))
    T.check(case, code == 0 and err == "", "-q printed: %r" % err)
    bad = os.path.join(src, "bad.tif")
    with open(bad, "w") as f:
        f.write("not a raster\n")
    code, err = finish(start(["translate", good[0], bad, "--out-dir", out, "-j", "2", "-q"]))
    T.check(case, code == 1 and "bad.tif" in err and "1 failed" in err and
            "2 attempts (0 retries), 2 workers," in err, "-q with a failure: %r" % err)
    p = subprocess.run([rptest.binary(), "--help"], capture_output=True, text=True)
    line = [x for x in (p.stdout + p.stderr).splitlines() if x.strip().startswith("batch")]
    T.check(case, line and all(k in line[0] for k in ("warp", "translate", "calc")),
            "top-level help's batch line: %s" % line)


def case_usage(T, case, tmp):
    src = os.path.join(tmp, "use-in")
    os.mkdir(src)
    good_rasters(src, n=2)
    os.mkdir(os.path.join(src, "sub"))
    good_rasters(os.path.join(src, "sub"), n=1)
    out = os.path.join(tmp, "use-out")
    cases = [
        (["warp", os.path.join(src, "*.tif"), "--out-dir", out, "--", "-t_srs"], "-t_srs"),
        (["warp", os.path.join(src, "*.tif"), "--out-dir", out, "--", "-frobnicate"], "frobnicate"),
        (["warp", os.path.join(src, "*.nothing"), "--out-dir", out], "no file matches"),
        (["warp", os.path.join(src, "r00.tif"), os.path.join(src, "sub", "r00.tif"), "--out-dir", out],
         "would both write"),
        (["frob", os.path.join(src, "r00.tif"), "--out-dir", out], "unknown batch kind"),
        (["warp", os.path.join(src, "r00.tif")], "--out-dir"),
        (["warp", os.path.join(src, "r00.tif"), "--out-dir", out, "-j", "0"], "-j"),
        (["warp", os.path.join(src, "r00.tif"), "--out-dir", out, "--timeout", "-1"], "--timeout"),
        (["calc", os.path.join(src, "r00.tif"), "--out-dir", out, "--", "-e", "A*("], "expression"),
        (["calc", os.path.join(src, "r00.tif"), "--out-dir", out, "--", "-e", "A", "-o", "x.tif"],
         "leave out -o"),
    ]
    for args, needle in cases:
        code, err = finish(start(args))
        T.check(case, code == 2 and needle in err, "%s: exit %s, stderr %r (want 2, %r)" % (
            args[-3:], code, err[-300:], needle))
    T.check(case, not os.path.exists(out), "a usage error created the output folder")
    blocker = os.path.join(tmp, "a-file")
    open(blocker, "w").close()
    code, err = finish(start(["warp", os.path.join(src, "r00.tif"), "--out-dir",
                              os.path.join(blocker, "sub")]))
    T.check(case, code == 3, "out-dir under a file: exit %s, want 3: %s" % (code, err[-300:]))
    # an output that would replace its own input (same folder, no suffix)
    r00 = os.path.join(src, "r00.tif")
    before = open(r00, "rb").read()
    code, err = finish(start(["translate", r00, "--out-dir", src]))
    T.check(case, code == 2 and "replaced by its own output" in err,
            "in place: exit %s: %s" % (code, err[-300:]))
    T.check(case, open(r00, "rb").read() == before, "the input was modified")
    p = subprocess.run([rptest.binary(), "batch", "--help"], capture_output=True)
    T.check(case, p.returncode == 0 and b"--resume" in p.stdout, "batch --help")


def case_calc_expression(T, case, tmp):
    src = os.path.join(tmp, "calc-in")
    os.mkdir(src)
    good = good_rasters(src, n=6)
    out = os.path.join(tmp, "scaled")
    code, err = finish(start(["calc", os.path.join(src, "*.tif"), "--out-dir", out, "-q",
                              "--", "-e", "A*0.1"]))
    T.check(case, code == 0, "exit %s: %s" % (code, err[-1500:]))
    for g in good:
        got_path = os.path.join(out, os.path.basename(g))
        if not T.check(case, os.path.exists(got_path), "no %s" % got_path):
            continue
        src_ds, got = gdal.Open(g), gdal.Open(got_path)
        band = src_ds.GetRasterBand(1)
        a = band.ReadAsArray().astype(np.float64)
        want = (a * 0.1).astype(np.float32)
        nd = band.GetNoDataValue()
        gb = got.GetRasterBand(1)
        # the output's nodata is gdal_calc.py's Float32 default (FLT_MAX), not
        # the input's: A*0.1 of a valid pixel may equal the input's nodata
        want_nd = None if nd is None else float(np.finfo(np.float32).max)
        if nd is not None:
            want[a == nd] = np.float32(want_nd)
        T.check(case, gb.GetNoDataValue() == want_nd, "%s: nodata %s, want %s" % (
            got_path, gb.GetNoDataValue(), want_nd))
        ga = gb.ReadAsArray()
        T.check(case, got.RasterCount == 1 and ga.dtype == np.float32,
                "%s: %d bands of %s, want 1 Float32" % (got_path, got.RasterCount, ga.dtype))
        T.check(case, np.array_equal(ga, want),
                "%s: %d pixels differ from numpy's A*0.1" % (got_path, int(np.count_nonzero(ga != want))))
        T.check(case, got.GetGeoTransform() == src_ds.GetGeoTransform(), "%s: geotransform" % got_path)
        gs, ws = osr.SpatialReference(), osr.SpatialReference()
        gs.ImportFromWkt(got.GetProjection())
        ws.ImportFromWkt(src_ds.GetProjection())
        T.check(case, gs.IsSame(ws) == 1, "%s: CRS differs from the input's" % got_path)
    T.check(case, leftovers(out) == [], "temporary files left: %s" % leftovers(out))


def case_calc_kernel_crash_hang(T, case, tmp):
    kernels = os.environ.get("RP_BATCH_KERNELS")
    if not T.check(case, kernels and os.path.exists(kernels),
                   "RP_BATCH_KERNELS=%r: the test kernel library is missing" % kernels):
        return
    src = os.path.join(tmp, "k-in")
    os.mkdir(src)
    rng = np.random.default_rng(3)
    gt = (450000.0, 30.0, 0.0, 5000000.0, 0.0, -30.0)
    names = {"k0": 7, "k1": 100, "k2": 250, "crash": 251, "hang": 252}
    for name, first in names.items():
        data = rng.integers(0, 250, (70, 90)).astype(np.uint8)
        data[0, 0] = first
        rptest.create_raster(os.path.join(src, name + ".tif"), data, "Byte", gt=gt,
                             srs="EPSG:32633", block=(32, 32))
    out = os.path.join(tmp, "k-out")
    p = start(["calc", os.path.join(src, "*.tif"), "--out-dir", out, "-j", "2", "--timeout", "3",
               "-q", "--", "--kernel", kernels + ":crash_or_sleep"], env=real_segv_env())
    code, err = finish(p)
    T.check(case, code == 1, "exit %s, want 1: %s" % (code, err[-1500:]))
    final = {}
    for r in journal(os.path.join(out, "rasterpool-batch.jsonl")):
        final[os.path.basename(r["input"])] = r
    r = final.get("crash.tif", {})
    T.check(case, r.get("outcome") == "crashed" and r.get("signal") == signal.SIGSEGV and
            r.get("attempt") == 2, "crash.tif: %r" % r)
    r = final.get("hang.tif", {})
    T.check(case, r.get("outcome") == "timeout" and r.get("attempt") == 2, "hang.tif: %r" % r)
    failed = sorted(n for n, r in final.items() if r["outcome"] != "done")
    T.check(case, failed == ["crash.tif", "hang.tif"], "failed: %s" % failed)
    for name in ("k0", "k1", "k2"):
        got = os.path.join(out, name + ".tif")
        if T.check(case, os.path.exists(got), "no %s" % got):
            a = gdal.Open(os.path.join(src, name + ".tif")).ReadAsArray()
            b = gdal.Open(got).ReadAsArray()
            T.check(case, np.array_equal(a, b), "%s differs from its input" % got)
    for name in ("crash", "hang"):
        T.check(case, not os.path.exists(os.path.join(out, name + ".tif")), "output for " + name)
    T.check(case, leftovers(out) == [], "temporary files left: %s" % leftovers(out))
    T.check(case, workers_of(p.pid) == [], "workers outlived the batch")


def case_sidecars_and_mode(T, case, tmp):
    src = os.path.join(tmp, "side-in")
    os.mkdir(src)
    good = good_rasters(src, n=2)
    out = os.path.join(tmp, "side-out")
    os.mkdir(out)
    stem = os.path.splitext(os.path.basename(good[0]))[0]
    with open(os.path.join(out, stem + ".tif"), "w") as f:
        f.write("old output")
    stale = os.path.join(out, stem + ".tif.aux.xml")
    with open(stale, "w") as f:
        f.write("<PAMDataset/>")
    opts = ["-co", "TFW=YES"]
    old_mask = os.umask(0o027)
    try:
        p = start(["translate", os.path.join(src, "*.tif"), "--out-dir", out, "-q", "--"] + opts)
    finally:
        os.umask(old_mask)
    code, err = finish(p)
    T.check(case, code == 0, "exit %s; stderr %s" % (code, err[-1500:]))
    want_dir = os.path.join(tmp, "side-oracle")
    os.mkdir(want_dir)
    for g in good:
        name = os.path.splitext(os.path.basename(g))[0]
        got = os.path.join(out, name + ".tif")
        want = gdal_tool("gdal_translate", g, os.path.join(want_dir, name + ".tif"), opts)
        if T.check(case, os.path.exists(got), "no %s" % got):
            same_raster(T, case, got, want)
        tfw = os.path.join(out, name + ".tfw")
        if T.check(case, os.path.exists(tfw), "no world file %s: %s" % (tfw, os.listdir(out))):
            with open(tfw) as a, open(os.path.splitext(want)[0] + ".tfw") as b:
                same_text = a.read() == b.read()
            T.check(case, same_text,
                    "%s differs from gdal_translate's" % tfw)
            for f in (got, tfw):
                mode = os.stat(f).st_mode & 0o777
                T.check(case, mode == 0o640, "%s has mode %o under umask 027" % (f, mode))
    T.check(case, not os.path.exists(stale), "the old output's .aux.xml was kept")
    T.check(case, leftovers(out) == [], "temporary files left: %s" % leftovers(out))


def driver_extension(d):
    """The README's naming rule: the driver's extension, else the first of
    its extensions, else tif."""
    ext = d.GetMetadataItem("DMD_EXTENSION") or ""
    if not ext:
        ext = (d.GetMetadataItem("DMD_EXTENSIONS") or "").split(" ")[0]
    return ext or "tif"


def driver_type(d):
    """A type the driver can create, so that most drivers get a real try."""
    types = (d.GetMetadataItem("DMD_CREATIONDATATYPES") or "Byte").split()
    for t in ("Byte", "Int16", "Float32"):
        if t in types:
            return t
    return types[0]


def open_or_none(path):
    try:
        return gdal.Open(path)
    except RuntimeError:
        return None


def listing(folder):
    return sorted(f for f in os.listdir(folder) if f != "rasterpool-batch.jsonl")


def case_17_13_every_driver(T, case, tmp):
    """Issue 17 item 13: batch translate -of DRIVER for every raster driver
    of this GDAL that creates files. Oracle: gdal_translate alone with the
    same options, into a fresh folder. Where it succeeds, batch succeeds
    and its output folder holds the same files (sidecars that replace the
    extension included: .rdc, .hdr, .prj) and opens with the same values;
    where it fails, the task fails with a reason (not a bare "GDAL failed")
    and leaves nothing."""
    src_dir = os.path.join(tmp, "drv-in")
    os.mkdir(src_dir)
    src = os.path.join(src_dir, "a.tif")
    ds = gdal.GetDriverByName("GTiff").Create(src, 32, 24, 1, gdal.GDT_Byte)
    ds.SetGeoTransform((500000, 10, 0, 4100000, 0, -10))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    ds.GetRasterBand(1).WriteArray((np.arange(32 * 24).reshape(24, 32) % 200).astype(np.uint8))
    ds = None
    tried = 0
    for i in range(gdal.GetDriverCount()):
        d = gdal.GetDriver(i)
        md = d.GetMetadata() or {}
        if md.get("DCAP_RASTER") != "YES" or d.ShortName == "MEM" or not (
                md.get("DCAP_CREATE") == "YES" or md.get("DCAP_CREATECOPY") == "YES"):
            continue
        name, ext = d.ShortName, driver_extension(d)
        opts = ["-of", name, "-ot", driver_type(d)]
        tag = name.replace("/", "_")
        want_dir = os.path.join(tmp, "drv-want-" + tag)
        out = os.path.join(tmp, "drv-out-" + tag)
        os.mkdir(want_dir)
        want = os.path.join(want_dir, "a." + ext)
        oracle = subprocess.run(["gdal_translate", "-q"] + opts + [src, want], capture_output=True,
                                timeout=300)
        want_files = listing(want_dir)
        p = start(["translate", src, "--out-dir", out, "--ext", ext, "-q", "--"] + opts,
                  env=no_leak_check_env())
        code, err = finish(p)
        tried += 1
        got = os.path.join(out, "a." + ext)
        if oracle.returncode != 0 or not want_files:
            T.check(case, code == 1 and "GDAL failed" not in err and not os.path.exists(got),
                    "-of %s: gdal_translate fails (%s), batch: exit %s, %r" % (
                        name, oracle.stderr.decode().strip()[:200], code, err[-300:]))
            continue
        if not T.check(case, code == 0, "-of %s: exit %s: %s" % (name, code, err[-400:])):
            continue
        T.check(case, listing(out) == want_files, "-of %s: files %s, gdal_translate made %s" % (
            name, listing(out), want_files))
        w = open_or_none(want)
        if w is None:  # GDAL cannot read back its own output (KMLSUPEROVERLAY): files only
            continue
        g = open_or_none(got)
        if not T.check(case, g is not None, "-of %s: the output does not open" % name):
            continue
        T.check(case, np.array_equal(g.ReadAsArray(), w.ReadAsArray()),
                "-of %s: values differ from gdal_translate's" % name)
        T.check(case, g.GetGeoTransform() == w.GetGeoTransform(),
                "-of %s: geotransform %s, gdal_translate's %s" % (
                    name, g.GetGeoTransform(), w.GetGeoTransform()))
        T.check(case, leftovers(out) == [], "-of %s: temporaries left: %s" % (name, leftovers(out)))
    T.check(case, tried > 40, "only %d drivers tried" % tried)


def case_17_13_bad_format(T, case, tmp):
    """Issue 17 item 13: -of naming no driver, a vector-only driver or MEM
    (no file) is a usage error up front: exit 2, no task run."""
    src_dir = os.path.join(tmp, "badfmt-in")
    os.mkdir(src_dir)
    good = good_rasters(src_dir, n=2)
    for fmt, needle in (("NOPE", "no such GDAL driver"), ("CSV", "does not write rasters"),
                        ("MEM", "writes no file")):
        for kind in ("translate", "warp"):
            out = os.path.join(tmp, "badfmt-out-%s-%s" % (fmt, kind))
            p = start([kind] + good + ["--out-dir", out, "-q", "--", "-of", fmt])
            code, err = finish(p)
            T.check(case, code == 2 and needle in err and "-of " + fmt in err,
                    "%s -of %s: exit %s, %r" % (kind, fmt, code, err[-300:]))
            T.check(case, not os.path.exists(os.path.join(out, "rasterpool-batch.jsonl")),
                    "%s -of %s: tasks were run" % (kind, fmt))


def real_worker():
    return os.path.join(os.path.dirname(rptest.binary()), "rasterpool-worker")


def flaky_worker(tmp, tag, kills, how="kill -9 $$"):
    """A worker program that, for its first `kills` starts, dies before it
    is ready (`how`), then runs the real worker."""
    counter = os.path.join(tmp, tag + ".count")
    script = os.path.join(tmp, tag + ".sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\nn=$(cat '%s' 2>/dev/null || echo 0)\necho $((n+1)) > '%s'\n"
                "if [ \"$n\" -lt %d ]; then %s; fi\nexec '%s' \"$@\"\n"
                % (counter, counter, kills, how, real_worker()))
    os.chmod(script, 0o755)
    return dict(os.environ, RASTERPOOL_WORKER=script)


def case_17_10_workers_killed_at_start(T, case, tmp):
    """Issue 17 item 10: workers killed before they say READY are replaced
    after a backoff with a warning, and the batch completes (5 kills: the
    old limit was 3 in a row); workers that always die are given up with a
    message that names the signal, not "is ... the rasterpool program?";
    a program that exits before READY is named as perhaps not the worker."""
    src = os.path.join(tmp, "k17-in")
    os.mkdir(src)
    good = good_rasters(src, n=2)
    out = os.path.join(tmp, "k17-out")
    p = start(["translate"] + good + ["--out-dir", out, "-j", "1", "-q"],
              env=flaky_worker(tmp, "kill5", 5))
    code, err = finish(p)
    T.check(case, code == 0, "5 kills: exit %s: %s" % (code, err[-600:]))
    T.check(case, err.count("died before it was ready") == 5 and "signal 9" in err,
            "5 kills: warnings: %r" % err[-600:])
    for g in good:
        name = os.path.join(out, os.path.basename(g))
        T.check(case, os.path.exists(name), "5 kills: no %s" % name)
    out2 = os.path.join(tmp, "k17-out-always")
    p = start(["translate"] + good + ["--out-dir", out2, "-j", "1", "-q"],
              env=flaky_worker(tmp, "killall", 1000))
    code, err = finish(p)
    T.check(case, code not in (0, 130) and "killed before they were ready" in err
            and "signal 9" in err and "rasterpool worker program" not in err,
            "always killed: exit %s: %r" % (code, err[-600:]))
    T.check(case, not any(os.path.exists(os.path.join(out2, os.path.basename(g))) for g in good),
            "always killed: an output exists")
    out3 = os.path.join(tmp, "k17-out-exit")
    p = start(["translate"] + good + ["--out-dir", out3, "-j", "1", "-q"],
              env=flaky_worker(tmp, "exit2", 1000, "exit 2"))
    code, err = finish(p)
    T.check(case, code not in (0, 130) and "exit code 2" in err
            and "rasterpool worker program" in err,
            "always exit 2: exit %s: %r" % (code, err[-600:]))


def case_17_10_open_file_limit(T, case, tmp):
    """Issue 17 item 10: -j 200 under ulimit -n 32 with 40 tasks: the worker
    count is lowered to what the limit allows (a note says so), every task
    is done, none is journaled interrupted."""
    import resource
    src = os.path.join(tmp, "nofile-in")
    os.mkdir(src)
    for i in range(40):
        rptest.create_raster(os.path.join(src, "n%02d.tif" % i),
                             np.full((8, 8), i, np.uint8), "Byte")
    out = os.path.join(tmp, "nofile-out")

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))
    p = subprocess.Popen([rptest.binary(), "batch", "translate", os.path.join(src, "*.tif"),
                          "--out-dir", out, "-j", "200", "-q"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, preexec_fn=limit)
    code, err = finish(p)
    T.check(case, code == 0, "exit %s: %s" % (code, err[-600:]))
    T.check(case, "lowered to" in err and "ulimit -n 32" in err, "no note: %r" % err[-600:])
    recs = journal(os.path.join(out, "rasterpool-batch.jsonl"))
    T.check(case, len(recs) == 40 and all(r["outcome"] == "done" for r in recs),
            "journal: %s" % sorted(set(r["outcome"] for r in recs)))
    for i in range(40):
        name = os.path.join(out, "n%02d.tif" % i)
        if T.check(case, os.path.exists(name), "no %s" % name):
            T.check(case, (gdal.Open(name).ReadAsArray() == i).all(), "%s: wrong values" % name)


def case_17_10_cut_journal(T, case, tmp):
    """Issue 17 item 10: a journal whose last line was cut (no newline):
    --resume redoes only that task (its record is lost), the next record
    starts on a line of its own (every line is JSON), and a second --resume
    redoes nothing."""
    src = os.path.join(tmp, "cut-in")
    os.mkdir(src)
    good = good_rasters(src, n=3)
    out = os.path.join(tmp, "cut-out")
    code, err = finish(start(["translate"] + good + ["--out-dir", out, "-j", "1", "-q"]))
    T.check(case, code == 0, "first run: exit %s: %s" % (code, err[-400:]))
    log = os.path.join(out, "rasterpool-batch.jsonl")
    with open(log, "rb") as f:
        text = f.read()
    lines = text.split(b"\n")
    cut_input = json.loads(lines[-2])["input"]
    with open(log, "wb") as f:
        f.write(text[:-15])  # the last record, cut: no newline
    code, err = finish(start(["translate"] + good + ["--out-dir", out, "-j", "1", "-v",
                                                     "--resume"]))
    T.check(case, code == 0, "resume: exit %s: %s" % (code, err[-400:]))
    redone = [ln for ln in err.splitlines() if "done:" in ln]
    T.check(case, len(redone) == 1 and cut_input in redone[0],
            "resume redid %s, expected only %s" % (redone, cut_input))
    with open(log) as f:
        for k, ln in enumerate(f):
            try:
                json.loads(ln)
            except ValueError:
                T.fail(case, "journal line %d is not JSON: %r" % (k + 1, ln[:200]))
    code, err = finish(start(["translate"] + good + ["--out-dir", out, "-j", "1", "-v",
                                                     "--resume"]))
    T.check(case, code == 0 and "done:" not in err, "second resume: exit %s: %r" % (code, err))


def case_17_10_log_is_output(T, case, tmp):
    """Issue 17 item 10: --log naming an output (also through a symlinked
    folder) or an input is refused up front (exit 2): the journal would be
    replaced by the output, or appended to a raster."""
    src = os.path.join(tmp, "logout-in")
    os.mkdir(src)
    good = good_rasters(src, n=2)
    out = os.path.join(tmp, "logout-out")
    os.mkdir(out)
    link = os.path.join(tmp, "logout-link")
    os.symlink(out, link)
    before = open(good[0], "rb").read()
    for log, needle in ((os.path.join(out, "r01.tif"), "is the output of"),
                        (os.path.join(link, "r00.tif"), "is the output of"),
                        (good[0], "is an input")):
        code, err = finish(start(["translate"] + good + ["--out-dir", out, "--log", log, "-q"]))
        T.check(case, code == 2 and needle in err, "--log %s: exit %s, %r" % (log, code, err[-300:]))
        T.check(case, os.listdir(out) == [], "--log %s: files written: %s" % (log, os.listdir(out)))
    T.check(case, open(good[0], "rb").read() == before, "the input was changed")


def case_17_14_empty_log(T, case, tmp):
    """Issue 17 item 14: --log "" is a usage error (exit 2, naming --log),
    as -o "" is for extract, and nothing is written."""
    src = os.path.join(tmp, "emptylog-in")
    os.mkdir(src)
    good = good_rasters(src, n=1)
    out = os.path.join(tmp, "emptylog-out")
    os.mkdir(out)
    code, err = finish(start(["translate"] + good + ["--out-dir", out, "--log", "", "-q"]))
    T.check(case, code == 2 and "--log" in err and "empty" in err, "exit %s, %r" % (code, err[-300:]))
    T.check(case, os.listdir(out) == [], "files written: %s" % os.listdir(out))


def main():
    T = rptest.Tester("cli_batch")
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in [("warp_with_bad_inputs", case_warp_with_bad_inputs),
                         ("translate_list_cog", case_translate_list),
                         ("worker_killed", case_worker_killed),
                         ("interrupt_then_resume", case_interrupt_then_resume),
                         ("interrupt_twice", case_interrupt_twice),
                         ("17.6 SIGTERM stops a hung task at once", case_17_6_sigterm_hung_worker),
                         ("resume_redoes_missing_and_failed", case_resume_redoes_missing_and_failed),
                         ("resume_redoes_changed", case_resume_redoes_changed),
                         ("quiet_and_plurals", case_quiet_and_plurals),
                         ("usage", case_usage),
                         ("calc_expression", case_calc_expression),
                         ("calc_kernel_crash_hang", case_calc_kernel_crash_hang),
                         ("sidecars_and_mode", case_sidecars_and_mode),
                         ("17.13 every GDAL raster driver", case_17_13_every_driver),
                         ("17.13 -of NOPE / CSV / MEM up front", case_17_13_bad_format),
                         ("17.10 workers killed before READY", case_17_10_workers_killed_at_start),
                         ("17.10 -j 200 under ulimit -n 32", case_17_10_open_file_limit),
                         ("17.10 journal with a cut last line", case_17_10_cut_journal),
                         ("17.10 --log naming an output or input", case_17_10_log_is_output),
                         ('17.14 --log ""', case_17_14_empty_log)]:
            T.run_case(name, lambda c, f=fn: f(T, c, tmp))
    T.finish()


if __name__ == "__main__":
    main()
