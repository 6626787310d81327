#!/usr/bin/python3
"""cli_remote — extract over HTTP, from a real server with latency and faults.

The files are served by tests/support/httpserver.py on 127.0.0.1 (a child
process that dies with this test). Values are checked against GDAL's own
read of the same files on disk (the numpy oracle; gdallocationinfo too where
it applies). Cases: a COG by bare URL with 20 ms per request (32 I/O threads
by default; --io-threads), a VRT of COGs over HTTP with relative sources and
one with absolute URL sources (read from the sources directly; --plan says
so), 10% of requests answered 503 (GDAL's retries, set by rasterpool, make
every value right), 10% of connections reset (rasterpool's own retries), a
tile whose data always fails (only its points fail, status error, with the
URL and the HTTP status on stderr, exit 1), the user's --config
overriding rasterpool's retry default, and sampling (--method cubic,
bilinear, --window 3) over HTTP against the numpy oracle of samplelib.py,
on the COG and on the VRT of COGs (kernels straddling remote sources);
coalesced reads: clustered points on a COG of incompressible 64 KiB tiles
take fewer GETs than the tiles they touch (the server counts them, and -v
reports the same count from GDAL), and a dead byte in the middle of one
tile of a merged range fails only that tile's points; the I/O pool sized
from the plan (one worker a run: all GETs in one round, the header fetched
once, output byte-identical to the local file's).
Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 cli_remote.py
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import rptest  # noqa: E402
from httpserver import HttpServer  # noqa: E402
from rptest import gdal  # noqa: E402

T = rptest.Tester("cli_remote")
TMP = tempfile.mkdtemp(prefix="rp_cli_remote_")
FAST_RETRY = ["--config", "GDAL_HTTP_RETRY_DELAY", "0.01"]
GT = (300000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0)


def make_cog(path, width, height, base, gt, nodata_every=None, compress="DEFLATE"):
    rows, cols = np.mgrid[0:height, 0:width]
    a = (base + (rows * 13 + cols * 7) % 20000).astype(np.int16)
    if nodata_every:
        a[(rows % nodata_every == 0) & (cols % nodata_every == 0)] = -999
    mem = gdal.GetDriverByName("MEM").Create("", width, height, 1, gdal.GDT_Int16)
    mem.SetGeoTransform(list(gt))
    mem.GetRasterBand(1).WriteArray(a)
    gdal.Translate(path, mem, format="COG",
                   creationOptions=["BLOCKSIZE=128", "COMPRESS=%s" % compress,
                                    "OVERVIEWS=NONE"])
    return path


def setup():
    make_cog(os.path.join(TMP, "big.tif"), 1000, 800, 0, GT)
    names = []
    for ty in range(3):
        for tx in range(3):
            name = "t_%d_%d.tif" % (tx, ty)
            # tiles overlap by 40 pixels; every 9th pixel is the source nodata
            gt = (GT[0] + tx * 360 * 10.0, 10.0, 0.0, GT[3] - ty * 360 * 10.0, 0.0, -10.0)
            make_cog(os.path.join(TMP, name), 400, 400, 1000 * (1 + tx + 3 * ty), gt,
                     nodata_every=9, compress="NONE")
            names.append(name)
    cwd = os.getcwd()
    os.chdir(TMP)
    try:
        rptest.build_vrt("mosaic.vrt", names, {"srcNodata": -999, "VRTNodata": -32768})
    finally:
        os.chdir(cwd)
    return names


NAMES = setup()


def points(gt, width, height, seed, n=1500):
    return rptest.random_points(gt, width, height, n_inside=n, n_outside=50, n_edge=50,
                                seed=seed)


def compare(case, run, local, xs, ys, lines, expect_code=0, gli=True):
    oracle = rptest.ArrayOracle(local, bands=[1])
    rptest.compare_extract(T, case, run, xs, ys, oracle, [1], lines, use_gli=gli,
                           expect_code=expect_code)


def pts_file(case, gt, width, height, seed):
    xs, ys = points(gt, width, height, seed)
    path = os.path.join(TMP, case + ".csv")
    return xs, ys, path, rptest.write_points_csv(path, xs, ys)


def case_cog_latency(case):
    xs, ys, pts, lines = pts_file(case, GT, 1000, 800, 1)
    with HttpServer(TMP, latency_ms=20) as srv:
        run = rptest.extract([srv.url("big.tif"), "--points", pts, "--status", "-v"])
        compare(case, run, os.path.join(TMP, "big.tif"), xs, ys, lines)
        T.check(case, "32 threads" in run.err, "remote default should be 32 I/O threads: %s"
                % run.describe())
        run4 = rptest.extract([srv.url("big.tif"), "--points", pts, "--status", "-v",
                               "--io-threads", "4"])
        T.check(case, "4 threads" in run4.err and run4.out == run.out,
                "--io-threads 4: same output on 4 threads: %s" % run4.describe())
        T.check(case, srv.stats()["get"] > 0, "the server should have been asked")


def vrt_case(case, vrt_name, srv, seed, extra=(), expect_code=0):
    xs, ys, pts, lines = pts_file(case, GT, 1120, 1120, seed)
    plan = rptest.extract([srv.url(vrt_name), "--points", pts, "--plan"])
    T.check(case, "band 1: read from its sources directly" in plan.text and
            "9 files touched" in plan.text,
            "--plan should read the 9 COGs directly:\n%s\n%s" % (plan.text, plan.describe()))
    run = rptest.extract([srv.url(vrt_name), "--points", pts, "--status"] + list(extra))
    compare(case, run, os.path.join(TMP, vrt_name), xs, ys, lines, expect_code=expect_code,
            gli=False)  # per-source NODATA: see cli_vrt.py for gdallocationinfo
    return run


def case_vrt_relative(case):
    with HttpServer(TMP, latency_ms=5) as srv:
        vrt_case(case, "mosaic.vrt", srv, 2)


def case_vrt_absolute_urls(case):
    with HttpServer(TMP, latency_ms=5) as srv:
        text = open(os.path.join(TMP, "mosaic.vrt")).read()
        local = text.replace('relativeToVRT="1">', 'relativeToVRT="1">%s/' % TMP)
        remote = text.replace('relativeToVRT="1">', 'relativeToVRT="0">%s' % srv.url(""))
        # the oracle reads the same files from disk; rasterpool reads URLs
        with open(os.path.join(TMP, "abs_urls.vrt"), "w") as f:
            f.write(remote)
        with open(os.path.join(TMP, "abs_local.vrt"), "w") as f:
            f.write(local)
        xs, ys, pts, lines = pts_file(case, GT, 1120, 1120, 3)
        run = rptest.extract([os.path.join(TMP, "abs_urls.vrt"), "--points", pts, "--status",
                              "-v"])
        compare(case, run, os.path.join(TMP, "abs_local.vrt"), xs, ys, lines, gli=False)
        T.check(case, "32 threads" in run.err,
                "a local VRT of remote sources is a remote job: %s" % run.describe())


def case_faults_503(case):
    with HttpServer(TMP, fail_503=0.1, seed=7) as srv:
        vrt_case(case, "mosaic.vrt", srv, 4, extra=FAST_RETRY)
        xs, ys, pts, lines = pts_file(case + "_cog", GT, 1000, 800, 5)
        run = rptest.extract([srv.url("big.tif"), "--points", pts, "--status"] + FAST_RETRY)
        compare(case, run, os.path.join(TMP, "big.tif"), xs, ys, lines)
        T.check(case, srv.stats()["injected_503"] > 5, "503s should have been injected: %s"
                % srv.stats())


def case_resets(case):
    with HttpServer(TMP, drop=0.1, seed=11) as srv:
        vrt_case(case, "mosaic.vrt", srv, 6, extra=FAST_RETRY)
        xs, ys, pts, lines = pts_file(case + "_cog", GT, 1000, 800, 8)
        run = rptest.extract([srv.url("big.tif"), "--points", pts, "--status"] + FAST_RETRY)
        compare(case, run, os.path.join(TMP, "big.tif"), xs, ys, lines)
        T.check(case, srv.stats()["injected_drop"] > 3, "resets should have been injected: %s"
                % srv.stats())


def case_dead_tile(case):
    """Every data request to t_1_1.tif past its first 16 KiB (what GDAL reads
    on open) is a 503: its points fail, the others are right."""
    xs, ys, pts, lines = pts_file(case, GT, 1120, 1120, 9)
    with HttpServer(TMP, fail_path=r"t_1_1\.tif", fail_from_byte=16384) as srv:
        run = rptest.extract([srv.url("mosaic.vrt"), "--points", pts, "--status"] + FAST_RETRY)
        url = srv.url("t_1_1.tif")
        stats = srv.stats()
    T.check(case, run.code == 1, "exit %s, want 1: %s" % (run.code, run.describe()))
    T.check(case, url in run.err and "503" in run.err,
            "stderr should name %s and HTTP 503: %s" % (url, run.describe()))
    T.check(case, stats["path_503"] >= 6, "the tile's requests should fail, with retries: %s"
            % stats)
    oracle = rptest.ArrayOracle(os.path.join(TMP, "mosaic.vrt"), bands=[1])
    st, pix, col, row = oracle.expect(xs, ys, 1)
    header, rows = rptest.parse_csv(run.text)
    lim = rptest.Limited(T, case)
    nerr = 0
    for i, r in enumerate(rows):
        want = str(int(pix[i])) if st[i] == "ok" else ""
        if r[-1] == "error":
            nerr += 1
            # only points t_1_1 paints may fail: inside its 400x400 at (360, 360),
            # and not under t_2_1 / t_1_2 (later, on top) where they overlap
            on_tile = 360 <= col[i] < 760 and 360 <= row[i] < 760
            if not on_tile or r[-2] != "":
                lim.add("point %d (col %d row %d): error, but it is not t_1_1's" % (i, col[i],
                                                                                    row[i]))
        elif r[-1] != st[i] or r[-2] != want:
            lim.add("point %d: %r, want (%r, %r)" % (i, r[-2:], want, st[i]))
    lim.flush()
    T.check(case, nerr > 10, "some points should fail (%d)" % nerr)


def case_user_config_wins(case):
    """--config GDAL_HTTP_MAX_RETRY 0: no retries, so 503s fail blocks."""
    xs, ys, pts, lines = pts_file(case, GT, 1000, 800, 10)
    with HttpServer(TMP, fail_503=0.5, seed=3) as srv:
        run = rptest.extract([srv.url("big.tif"), "--points", pts, "--status", "--config",
                              "GDAL_HTTP_MAX_RETRY", "0"])
    T.check(case, run.code in (1, 3) and "503" in run.err,
            "without retries some reads must fail with 503: %s" % run.describe())


def check_sampled(case, run, vals, valid, xs, ys, what):
    """A --method run against the numpy oracle (samplelib) of the file on disk."""
    from samplelib import interp, pixel_of, window_oracle
    T.check(case, run.code == 0, "exit %s: %s" % (run.code, run.describe()))
    header, rows = rptest.parse_csv(run.text)
    lim = rptest.Limited(T, case)
    for i, r in enumerate(rows):
        px, py = pixel_of(GT, xs[i], ys[i])
        if what == "window":
            st, stats, _ = window_oracle(vals, valid, px, py, 3)
            want = (st, stats.get("mean") if st == "ok" else None)
            if st == "ok" and "mean" not in stats:
                want = ("nodata", None)
        else:
            want = interp(vals, valid, what, "gdal", px, py)
        got = (r[-1], float(r[-2]) if r[-2] else None)
        ok = got[0] == want[0] and (want[1] is None or
                                    abs(got[1] - want[1]) <= 1e-12 * max(1, abs(want[1])))
        if not ok:
            lim.add("point %d (px %r, py %r): %r, oracle %r" % (i, px, py, got, want))
    lim.flush()


def case_sampling(case):
    """--method cubic and --window 3 over HTTP: the COG, and the VRT of COGs
    whose kernels straddle the remote source files (points along the
    seams), against the numpy oracle of the files on disk."""
    with HttpServer(TMP, latency_ms=5) as srv:
        for name, nodata in (("big.tif", None), ("mosaic.vrt", -32768)):
            ds = gdal.Open(os.path.join(TMP, name))
            vals = ds.GetRasterBand(1).ReadAsArray().astype(np.float64)
            H, W = vals.shape
            valid = np.ones(vals.shape, bool) if nodata is None else vals != nodata
            xs, ys = points(GT, W, H, 12, n=600)
            seams = [v + d for v in (360, 400, 720, 760) for d in (-1.2, -0.5, 0.0, 0.3, 1.5)]
            rng = np.random.default_rng(4)
            sx, sy = rptest.pixel_to_world(GT, np.array(seams * 3),
                                           rng.uniform(0, H, len(seams) * 3))
            tx, ty = rptest.pixel_to_world(GT, rng.uniform(0, W, len(seams) * 3),
                                           np.array(seams * 3))
            xs, ys = np.concatenate([xs, sx, tx]), np.concatenate([ys, sy, ty])
            pts = os.path.join(TMP, case + name + ".csv")
            rptest.write_points_csv(pts, xs, ys)
            for what, args in (("cubic", ["--method", "cubic"]), ("bilinear", ["--method",
                                                                              "bilinear"]),
                               ("window", ["--window", "3", "--window-stat", "mean"])):
                run = rptest.extract([srv.url(name), "--points", pts, "--status"] + args +
                                     FAST_RETRY)
                check_sampled("%s/%s/%s" % (case, name, what), run, vals, valid, xs, ys, what)
            if name == "mosaic.vrt":
                plan = rptest.extract([srv.url(name), "--points", pts, "--plan", "--method",
                                       "cubic"])
                T.check(case, "read from its sources directly" in plan.text and
                        "blocks touched by the kernels" in plan.text, "--plan:\n" + plan.text)


def make_noise_cog(path, size=1024, block=128):
    """Float32 noise, uncompressed: every tile is 64 KiB, more than the 16 KiB
    GDAL's /vsicurl/ fetches at least, so a tile read alone is a GET of its own."""
    a = np.random.default_rng(21).normal(100, 30, (size, size)).astype(np.float32)
    mem = gdal.GetDriverByName("MEM").Create("", size, size, 1, gdal.GDT_Float32)
    mem.SetGeoTransform(list(GT))
    mem.GetRasterBand(1).WriteArray(a)
    gdal.Translate(path, mem, format="COG",
                   creationOptions=["BLOCKSIZE=%d" % block, "COMPRESS=NONE", "OVERVIEWS=NONE"])
    return path


def clustered_points(n=400):
    rng = np.random.default_rng(22)
    cols = np.concatenate([rng.uniform(100, 600, n // 2), rng.uniform(550, 1000, n // 2)])
    rows = np.concatenate([rng.uniform(130, 500, n // 2), rng.uniform(600, 1000, n // 2)])
    return rptest.pixel_to_world(GT, cols, rows)


def case_coalesced(case):
    """Runs of adjacent tiles are read with one RasterIO, which GDAL sends as
    one merged range request: fewer GETs than touched tiles, same values."""
    local = make_noise_cog(os.path.join(TMP, "noise.tif"))
    xs, ys = clustered_points()
    pts = os.path.join(TMP, case + ".csv")
    lines = rptest.write_points_csv(pts, xs, ys)
    oracle = rptest.ArrayOracle(local, bands=[1])
    st, pix, col, row = oracle.expect(xs, ys, 1)
    inside = [s != "outside" for s in st]
    tiles = {(int(c) // 128, int(r) // 128) for c, r, i in zip(col, row, inside) if i}
    with HttpServer(TMP) as srv:
        plan = rptest.extract([srv.url("noise.tif"), "--points", pts, "--plan"])
        before = srv.stats()["get"]
        run = rptest.extract([srv.url("noise.tif"), "--points", pts, "--status", "-v"])
        stats = srv.stats()
        stats["get"] -= before
        stats["head"] -= 1  # the plan's
    compare(case, run, local, xs, ys, lines, gli=False)
    m = re.search(r"estimated requests: (\d+) a band", plan.text)
    T.check(case, m is not None, "--plan should estimate the requests:\n" + plan.text)
    # the estimate counts the data; the header takes one GET or two more
    T.check(case, m is not None and int(m.group(1)) <= stats["get"] <= int(m.group(1)) + 2,
            "--plan estimated %s requests, the server saw %d GETs" % (
                m.group(1) if m else "no", stats["get"]))
    T.check(case, len(tiles) >= 20, "the points should touch many tiles (%d)" % len(tiles))
    # the header takes a GET or two; the data far fewer than one a tile
    T.check(case, stats["get"] < len(tiles) * 0.6,
            "%d GETs for %d touched tiles: reads are not merged (%s)" % (stats["get"], len(tiles),
                                                                       stats))
    want = "http: %d GET requests" % stats["get"]
    T.check(case, want in run.err and ", %d HEAD requests" % stats["head"] in run.err,
            "-v should count the server's requests (%s): %s" % (want, run.describe()))
    return local, xs, ys, pts, tiles


def case_coalesced_dead_tile(case):
    """A byte in the middle of one tile answers 503 to every GET over it: the
    merged range holding it fails, is read again tile by tile, and only the
    dead tile's points fail (status error, exit 1); its neighbours in the
    same run are right."""
    local, xs, ys, pts, tiles = case_coalesced(case + "_setup")
    oracle = rptest.ArrayOracle(local, bands=[1])
    st, pix, col, row = oracle.expect(xs, ys, 1)
    # a touched tile with touched neighbours left and right: inside a run
    dead = sorted(t for t in tiles if (t[0] - 1, t[1]) in tiles and (t[0] + 1, t[1]) in tiles)[0]
    ds = gdal.Open(local)  # kept: a band outlives no dataset
    offset = int(ds.GetRasterBand(1).GetMetadataItem("BLOCK_OFFSET_%d_%d" % dead, "TIFF"))
    ds = None
    with HttpServer(TMP, fail_byte=offset + 32768) as srv:
        run = rptest.extract([srv.url("noise.tif"), "--points", pts, "--status"] + FAST_RETRY)
        stats = srv.stats()
    T.check(case, run.code == 1, "exit %s, want 1: %s" % (run.code, run.describe()))
    T.check(case, stats["byte_503"] >= 2, "the dead byte should have been asked for: %s" % stats)
    T.check(case, "block x=%d y=%d" % dead in run.err,
            "stderr should name block %s: %s" % (dead, run.describe()))
    header, rows = rptest.parse_csv(run.text)
    lim = rptest.Limited(T, case)
    nerr = 0
    for i, r in enumerate(rows):
        on_dead = st[i] != "outside" and (int(col[i]) // 128, int(row[i]) // 128) == dead
        if on_dead:
            nerr += 1
            if r[-1] != "error" or r[-2] != "":
                lim.add("point %d on the dead tile: %r, want error" % (i, r[-2:]))
            continue
        want = repr(float(pix[i])) if st[i] == "ok" else ""
        if r[-1] != st[i] or (st[i] == "ok" and np.float32(r[-2]) != pix[i]):
            lim.add("point %d (tile %s): %r, want (%r, %r)" % (
                i, (int(col[i]) // 128, int(row[i]) // 128), r[-2:], want, st[i]))
    lim.flush()
    T.check(case, nerr > 0, "some points should be on the dead tile %s" % (dead,))


def case_one_round(case):
    """Issue 16: the I/O pool is sized from the plan. 49 runs of touched
    tiles (48 lone tiles and one run of 3) are more than the default 32
    workers: without --io-threads the pool grows to 49 so every GET goes
    out at once (-v and --plan say so); the header is fetched once (one
    HEAD, one GET at byte 0) and every other GET is one run's; the values
    are byte for byte those of the same job on the local file.
    --io-threads 8 wins over the sizing, with the same output. The server
    adds 60 ms a request: the pool grows only for round trips of 50 ms or
    more (the raster's open, a HEAD and a GET, takes at least 120 ms)."""
    local = make_noise_cog(os.path.join(TMP, "noise2k.tif"), size=2048)
    cols, rows = [], []
    for i in range(8):
        for j in range(6):
            cols.append(128 * 2 * i + 40.5)
            rows.append(128 * j + 60.5)
    for t in range(3):  # a run of three adjacent tiles in tile row 10
        cols += [128 * t + 5.5, 128 * t + 120.5]
        rows += [128 * 10 + 7.5, 128 * 10 + 99.5]
    xs, ys = rptest.pixel_to_world(GT, cols, rows)
    pts = os.path.join(TMP, case + ".csv")
    lines = rptest.write_points_csv(pts, xs, ys)
    runs = 49
    log = os.path.join(TMP, case + ".log")
    with HttpServer(TMP, latency_ms=60, log=log) as srv:
        plan = rptest.extract([srv.url("noise2k.tif"), "--points", pts, "--plan"])
        open(log, "w").close()  # the plan's requests are not the run's
        run = rptest.extract([srv.url("noise2k.tif"), "--points", pts, "--status", "-v"])
        requests = [line.split()[2:] for line in open(log)]
        run8 = rptest.extract([srv.url("noise2k.tif"), "--points", pts, "--status", "-v",
                               "--io-threads", "8"])
    compare(case, run, local, xs, ys, lines, gli=False)
    here = rptest.extract([local, "--points", pts, "--status"])
    T.check(case, here.code == 0 and run.out == here.out,
            "remote output should be byte-identical to the local file's: %s / %s" % (
                run.describe(), here.describe()))
    T.check(case, "estimated requests: %d a band" % runs in plan.text and
            "estimated round trips: 3 a band" in plan.text and
            "1 round of up to %d requests" % runs in plan.text,
            "--plan should estimate %d requests in one round:\n%s" % (runs, plan.text))
    T.check(case, "%d threads" % runs in run.err,
            "the pool should grow to one worker a run (%d): %s" % (runs, run.describe()))
    heads = [r for r in requests if r[0] == "HEAD"]
    gets = [r for r in requests if r[0] == "GET"]
    at_zero = [r for r in gets if r[1].startswith("bytes=0-")]
    T.check(case, len(heads) == 1 and len(at_zero) == 1,
            "the header should be fetched once (one HEAD, one GET at byte 0): %s" % requests)
    T.check(case, len(gets) <= runs + 1,
            "%d GETs for %d runs and the header: %s" % (len(gets), runs, requests))
    T.check(case, "http: %d GET requests" % len(gets) in run.err,
            "-v should count the server's GETs (%d): %s" % (len(gets), run.describe()))
    T.check(case, "8 threads" in run8.err and run8.out == run.out,
            "--io-threads 8 should keep 8 workers and the output: %s" % run8.describe())


T.run_case("cog_latency", case_cog_latency)
T.run_case("vrt_relative", case_vrt_relative)
T.run_case("vrt_absolute_urls", case_vrt_absolute_urls)
T.run_case("faults_503", case_faults_503)
T.run_case("resets", case_resets)
T.run_case("dead_tile", case_dead_tile)
T.run_case("user_config_wins", case_user_config_wins)
T.run_case("sampling", case_sampling)

def case_17_6_stalled_tile(case):
    """Issue 17 item 6: a server that accepts the tile's data requests and
    never answers (stall) or sends a byte every 20 s (drip). With the
    default settings the job ends (bounded wait; it used to run for many
    minutes): exit 1, the tile's points fail, the others are right, and
    stderr names the tile's URL and says the request timed out."""
    xs, ys, pts, lines = pts_file(case, GT, 1120, 1120, 12)
    for fault in ("stall", "drip"):
        with HttpServer(TMP, fail_path=r"t_1_1\.tif", fail_from_byte=16384, fault=fault) as srv:
            p = subprocess.Popen([rptest.binary(), "extract", srv.url("mosaic.vrt"), "--points",
                                  pts, "--status", "-q"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            try:
                out, err = p.communicate(timeout=240)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
                T.fail(case, "%s: still running after 240 s" % fault)
                continue
            url = srv.url("t_1_1.tif")
            stalled = srv.stats()["stalled"]
        err = err.decode("utf-8", "replace")
        T.check(case, p.returncode == 1, "%s: exit %s, want 1: %r" % (fault, p.returncode, err[-500:]))
        T.check(case, url in err and ("timed out" in err or "too slow" in err),
                "%s: stderr should name %s and a timeout: %r" % (fault, url, err[-800:]))
        T.check(case, stalled >= 1, "%s: no request was stalled" % fault)
        header, rows = rptest.parse_csv(out.decode())
        nerr = sum(1 for r in rows if r[-1] == "error")
        T.check(case, nerr > 10 and len(rows) == len(xs), "%s: %d error rows of %d" % (
            fault, nerr, len(rows)))


def case_17_6_sigint_while_stalled(case):
    """Issue 17 item 6: Ctrl-C while block reads hang on a stalled server:
    the job ends with exit 130 (bounded wait) and writes no output."""
    xs, ys, pts, lines = pts_file(case, GT, 1120, 1120, 13)
    out = os.path.join(TMP, case + "_out.csv")
    with HttpServer(TMP, fail_path=r"t_1_1\.tif", fail_from_byte=16384, fault="stall") as srv:
        p = subprocess.Popen([rptest.binary(), "extract", srv.url("mosaic.vrt"), "--points", pts,
                              "-o", out, "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        end = time.time() + 120
        while time.time() < end and p.poll() is None and srv.stats()["stalled"] < 1:
            time.sleep(0.05)
        if p.poll() is not None or srv.stats()["stalled"] < 1:
            p.kill()
            p.communicate()
            return T.fail(case, "no read stalled (exit %s)" % p.returncode)
        p.send_signal(signal.SIGINT)
        try:
            _, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            return T.fail(case, "still running 30 s after SIGINT")
    T.check(case, p.returncode == 130, "exit %s, want 130: %r" % (p.returncode, err[-300:]))
    T.check(case, not os.path.exists(out), "an output was written")


def case_17_14_reset_reason(case):
    """Issue 17 item 14: every data request to t_1_1.tif past its first
    16 KiB is reset (RST, no HTTP status): exit 1, the tile's points fail,
    and stderr names the tile's URL with the reason 'connection reset'."""
    xs, ys, pts, lines = pts_file(case, GT, 1120, 1120, 14)
    with HttpServer(TMP, fail_path=r"t_1_1\.tif", fail_from_byte=16384, fault="reset") as srv:
        run = rptest.extract([srv.url("mosaic.vrt"), "--points", pts, "--status", "-q"]
                             + FAST_RETRY, timeout=240)
        url = srv.url("t_1_1.tif")
        resets = srv.stats()["path_reset"]
    T.check(case, run.code == 1, "exit %s, want 1: %s" % (run.code, run.describe()))
    T.check(case, resets >= 1, "no request was reset")
    T.check(case, url in run.err and "connection reset" in run.err,
            "stderr should name %s and 'connection reset': %r" % (url, run.err[-800:]))
    header, rows = rptest.parse_csv(run.text)
    nerr = sum(1 for r in rows if r[-1] == "error")
    T.check(case, nerr > 10 and len(rows) == len(xs), "%d error rows of %d" % (nerr, len(rows)))


def case_17_14_dns_reason(case):
    """Issue 17 item 14: a host name that cannot be resolved (.invalid is
    reserved, RFC 6761: resolution fails locally, no network needed) is
    reported as a DNS failure naming the URL, not as an unreadable raster."""
    url = "http://nonexistent.invalid/x.tif"
    pts = os.path.join(TMP, case + ".csv")
    rptest.write_points_csv(pts, [GT[0] + 5.0], [GT[3] - 5.0])
    run = rptest.extract([url, "--points", pts, "-q"] + FAST_RETRY, timeout=120)
    T.check(case, run.code not in (0, 2) and run.code is not None,
            "exit %s: %s" % (run.code, run.describe()))
    T.check(case, url in run.err and "DNS" in run.err and "resolved" in run.err,
            "stderr should name %s and a DNS failure: %r" % (url, run.err[-800:]))


T.run_case("17.6 stalled and dripping tile", case_17_6_stalled_tile)
T.run_case("17.6 SIGINT while reads stall", case_17_6_sigint_while_stalled)
T.run_case("coalesced", case_coalesced)
T.run_case("coalesced_dead_tile", case_coalesced_dead_tile)
T.run_case("16 one round", case_one_round)
T.run_case("17.14 connection reset: the reason", case_17_14_reset_reason)
T.run_case("17.14 unresolvable host: DNS", case_17_14_dns_reason)
T.finish()
