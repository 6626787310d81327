#!/usr/bin/python3
"""cli_remote_reads — issue 16: how remote runs are fetched, and the CRS read
only when it is needed.

Files are served by tests/support/httpserver.py on 127.0.0.1, which logs
every request (method and Range header). Values are checked against GDAL's
own read of the same files on disk (the numpy oracle of rptest.py) and the
remote output against the same job on the local file, byte for byte.

  - header_once: GDAL's /vsicurl/ chunk cache shrunk to 256 KiB
    (CPL_VSIL_CURL_CACHE_SIZE) and 4 I/O workers, so 256 runs of two tiles
    go in 64 rounds while the header's chunks would be evicted many times
    over: the header is fetched once (one GET at byte 0) and every other
    GET is one run's (a run's data no longer goes through that cache);
  - scattered_tiles: a tiled GeoTIFF whose tiles are stored column by
    column (a run's tiles are not adjacent in the file): no request ever
    asks for several ranges at once (the single-GET mode is only used for a
    run stored in one range), and the values are right;
  - no_proj_db: with PROJ's data files out of reach, a CSV-to-CSV job whose
    points have no CRS says nothing about PROJ (the raster's CRS is not
    read at all) and its values are right;
  - crs_transformed_remote: lon/lat points with --points-crs EPSG:4326 on a
    UTM COG over HTTP are still transformed (values of the oracle's own
    transformation), and reading the CRS later sends no request (one HEAD,
    one GET at byte 0);
  - crs_unreachable_remote: a remote raster whose CRS the points' cannot
    reach is still an error (exit 3, "cannot transform");
  - in_place: a 3-band pixel-interleaved Float32 COG with overviews, nodata
    and partial edge tiles: every run (blocks alone included) is read from
    GDAL's block cache in place (-v: "runs: N runs of blocks read, N from
    GDAL's block cache in place"; the runs counted by hand), one GET a run
    plus the header (so no overview was read instead), values equal to
    GDAL's own read; a COG with a per-dataset mask is read the copying way
    (0 in place) and its masked points are nodata; with GDAL_CACHEMAX=0
    (a cache that cannot hold the runs) runs are copied, not read in place,
    and no block is fetched twice (one GET a run).
Run: RASTERPOOL=/path/to/rasterpool /usr/bin/python3 cli_remote_reads.py [CASE ...]
"""
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
sys.path.insert(0, os.path.join(HERE, "..", "support"))

import numpy as np  # noqa: E402

import rptest  # noqa: E402
from httpserver import HttpServer  # noqa: E402
from rptest import gdal, osr  # noqa: E402

T = rptest.Tester("cli_remote_reads")
TMP = tempfile.mkdtemp(prefix="rp_cli_remote_reads_")
UTM_GT = (495000.0, 30.0, 0.0, 4990000.0, 0.0, -30.0)  # EPSG:32633, near 15E 45N


def noise(size, dtype, seed):
    return np.random.default_rng(seed).integers(-30000, 30000, (size, size)).astype(dtype)


def make_cog(path, data, block, srs=None, compress="NONE"):
    mem = gdal.GetDriverByName("MEM").Create("", data.shape[1], data.shape[0], 1,
                                             gdal.GDT_Int16)
    mem.SetGeoTransform(list(UTM_GT))
    if srs:
        mem.SetProjection(srs)
    mem.GetRasterBand(1).WriteArray(data)
    gdal.PushErrorHandler("CPLQuietErrorHandler")  # COG warns of blocks under 128
    try:
        gdal.Translate(path, mem, format="COG",
                       creationOptions=["BLOCKSIZE=%d" % block, "COMPRESS=%s" % compress,
                                        "OVERVIEWS=NONE"])
    finally:
        gdal.PopErrorHandler()
    return path


def read_log(log):
    """[(method, range)] of the logged requests."""
    return [tuple(line.split()[2:4]) for line in open(log)]


def points_in_tiles(tiles, block, per_tile=2, seed=5):
    """per_tile points in each (tx, ty) tile, in world coordinates."""
    rng = np.random.default_rng(seed)
    cols, rows = [], []
    for tx, ty in tiles:
        cols += list(tx * block + rng.uniform(0.5, block - 0.5, per_tile))
        rows += list(ty * block + rng.uniform(0.5, block - 0.5, per_tile))
    return rptest.pixel_to_world(UTM_GT, cols, rows)


def same_as_local(case, run, local, pts):
    here = rptest.extract([local, "--points", pts, "--status"])
    T.check(case, run.code == 0 and here.code == 0 and run.out == here.out,
            "remote output should be byte-identical to the local file's: %s / %s" % (
                run.describe(), here.describe()))


def case_header_once(case):
    local = make_cog(os.path.join(TMP, "small_tiles.tif"), noise(2048, np.int16, 1), 64)
    # runs of two tiles: (4k, 4k + 1) in every tile row, 8 runs a row
    tiles = [(4 * k + d, ty) for ty in range(32) for k in range(8) for d in (0, 1)]
    runs = 32 * 8
    xs, ys = points_in_tiles(tiles, 64)
    pts = os.path.join(TMP, case + ".csv")
    lines = rptest.write_points_csv(pts, xs, ys)
    log = os.path.join(TMP, case + ".log")
    with HttpServer(TMP, log=log) as srv:
        run = rptest.extract([srv.url("small_tiles.tif"), "--points", pts, "--status", "-v",
                              "--io-threads", "4"],
                             env={"CPL_VSIL_CURL_CACHE_SIZE": str(256 * 1024)})
    requests = read_log(log)
    oracle = rptest.ArrayOracle(local, bands=[1])
    rptest.compare_extract(T, case, run, xs, ys, oracle, [1], lines, use_gli=False)
    same_as_local(case, run, local, pts)
    gets = [r for r in requests if r[0] == "GET"]
    at_zero = [r for r in gets if r[1].startswith("bytes=0-")]
    T.check(case, len(at_zero) == 1,
            "the header should be fetched once (one GET at byte 0), got %d: %s" % (
                len(at_zero), at_zero[:5]))
    T.check(case, len(gets) == runs + 1,
            "%d GETs, want %d (one a run, and the header)" % (len(gets), runs + 1))
    T.check(case, all("," not in r[1] for r in gets), "a multi-range request: %s" % gets)


def case_scattered_tiles(case):
    """Tiles written column by column: a run's tiles lie apart in the file."""
    data = noise(512, np.int16, 2)
    path = os.path.join(TMP, "scattered.tif")
    ds = gdal.GetDriverByName("GTiff").Create(path, 512, 512, 1, gdal.GDT_Int16,
                                              ["TILED=YES", "BLOCKXSIZE=64", "BLOCKYSIZE=64"])
    ds.SetGeoTransform(list(UTM_GT))
    band = ds.GetRasterBand(1)
    for tx in range(8):
        for ty in range(8):
            band.WriteArray(data[ty * 64:(ty + 1) * 64, tx * 64:(tx + 1) * 64], tx * 64, ty * 64)
        ds.FlushCache()
    band = ds = None
    ds = gdal.Open(path)  # kept open while its band is used
    offsets = [int(ds.GetRasterBand(1).GetMetadataItem("BLOCK_OFFSET_%d_0" % tx, "TIFF"))
               for tx in range(2)]
    ds = None
    T.check(case, offsets[1] - offsets[0] > 64 * 64 * 2,
            "the fixture's tiles should not be adjacent in the file: %s" % offsets)
    tiles = [(tx, ty) for ty in (1, 4) for tx in range(1, 7)]
    xs, ys = points_in_tiles(tiles, 64, per_tile=3)
    pts = os.path.join(TMP, case + ".csv")
    lines = rptest.write_points_csv(pts, xs, ys)
    log = os.path.join(TMP, case + ".log")
    with HttpServer(TMP, log=log, latency_ms=60) as srv:
        run = rptest.extract([srv.url("scattered.tif"), "--points", pts, "--status", "-v"])
        stats = srv.stats()
    requests = read_log(log)
    rptest.compare_extract(T, case, run, xs, ys, rptest.ArrayOracle(path, bands=[1]), [1],
                           lines, use_gli=False)
    same_as_local(case, run, path, pts)
    multi = [r for r in requests if r[0] == "GET" and "," in r[1]]
    T.check(case, not multi, "multi-range requests were sent: %s" % multi)
    T.check(case, stats["bytes"] < os.path.getsize(path),
            "the whole file was sent (%d bytes): %s" % (stats["bytes"], requests))


def case_no_proj_db(case):
    local = make_cog(os.path.join(TMP, "utm.tif"), noise(300, np.int16, 3), 64,
                     srs="EPSG:32633", compress="DEFLATE")
    xs, ys = rptest.random_points(UTM_GT, 300, 300, n_inside=300, n_outside=20, n_edge=20,
                                  seed=4)
    pts = os.path.join(TMP, case + ".csv")
    lines = rptest.write_points_csv(pts, xs, ys)
    nowhere = os.path.join(TMP, "no_proj_data")
    os.makedirs(nowhere, exist_ok=True)
    run = rptest.extract([local, "--points", pts, "--status"],
                         env={"PROJ_DATA": nowhere, "PROJ_LIB": nowhere})
    rptest.compare_extract(T, case, run, xs, ys, rptest.ArrayOracle(local, bands=[1]), [1],
                           lines, use_gli=False)
    T.check(case, "PROJ" not in run.err and "proj.db" not in run.err,
            "the raster's CRS should not have been read: %s" % run.describe())
    # asked for a CRS, the points do need PROJ: it is not skipped
    run = rptest.extract([local, "--points", pts, "--points-crs", "EPSG:4326"],
                         env={"PROJ_DATA": nowhere, "PROJ_LIB": nowhere})
    T.check(case, run.code != 0, "--points-crs without PROJ's data should fail: %s" %
            run.describe())


def lonlat(xs, ys):
    """UTM 33N -> lon/lat (the oracle's own transformation, x = lon)."""
    a, b = osr.SpatialReference(), osr.SpatialReference()
    a.ImportFromEPSG(32633)
    b.ImportFromEPSG(4326)
    for s in (a, b):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    out = osr.CoordinateTransformation(a, b).TransformPoints(list(zip(xs, ys)))
    return [p[0] for p in out], [p[1] for p in out]


def case_crs_transformed_remote(case):
    local = os.path.join(TMP, "utm.tif")
    if not os.path.exists(local):
        make_cog(local, noise(300, np.int16, 3), 64, srs="EPSG:32633", compress="DEFLATE")
    # points well inside cells, so that the round trip through lon/lat keeps their cell
    rng = np.random.default_rng(6)
    cols, rows = rng.integers(0, 300, 400) + 0.5, rng.integers(0, 300, 400) + 0.5
    ux, uy = rptest.pixel_to_world(UTM_GT, cols, rows)
    lon, lat = lonlat(ux, uy)
    pts = os.path.join(TMP, case + ".csv")
    rptest.write_points_csv(pts, lon, lat, header=("id", "lon", "lat"))
    log = os.path.join(TMP, case + ".log")
    with HttpServer(TMP, log=log) as srv:
        run = rptest.extract([srv.url("utm.tif"), "--points", pts, "--points-crs", "EPSG:4326",
                              "--status"])
    requests = read_log(log)
    T.check(case, run.code == 0, "exit %s: %s" % (run.code, run.describe()))
    header, rows_out = rptest.parse_csv(run.text)
    ds = gdal.Open(local)  # kept open while its band is read
    data = ds.GetRasterBand(1).ReadAsArray()
    ds = None
    lim = rptest.Limited(T, case)
    for i, r in enumerate(rows_out):
        want = str(int(data[int(rows[i]), int(cols[i])]))
        if r[-2:] != [want, "ok"]:
            lim.add("point %d (col %d row %d): %r, want %r" % (i, cols[i], rows[i], r[-2:],
                                                               [want, "ok"]))
    lim.flush()
    T.check(case, len(rows_out) == 400, "%d rows, want 400" % len(rows_out))
    heads = [r for r in requests if r[0] == "HEAD"]
    at_zero = [r for r in requests if r[0] == "GET" and r[1].startswith("bytes=0-")]
    T.check(case, len(heads) == 1 and len(at_zero) == 1,
            "reading the CRS again should send no request: %s" % requests)


ENGCRS = ('ENGCRS["Site grid",EDATUM["local"],CS[Cartesian,2],'
          'AXIS["x",east,ORDER[1],LENGTHUNIT["metre",1]],'
          'AXIS["y",north,ORDER[2],LENGTHUNIT["metre",1]]]')


def case_crs_unreachable_remote(case):
    make_cog(os.path.join(TMP, "site.tif"), noise(128, np.int16, 7), 64, srs=ENGCRS)
    with HttpServer(TMP) as srv:
        run = rptest.extract([srv.url("site.tif"), "--points-crs", "EPSG:4326"],
                             stdin="lon,lat\n15.0,45.0\n")
    T.check(case, run.code == 3 and not run.out and "cannot transform" in run.err,
            "a CRS the points cannot reach should be an error (exit 3): %s" % run.describe())


def edge_cog(path, size, bands, seed, mask=False):
    """A DEFLATE COG of `bands` Float32 bands (pixel-interleaved), 64x64
    tiles (partial at the right and bottom edges), overviews, nodata -9999
    on a few pixels; with `mask`, a per-dataset mask hiding a stripe."""
    w, h = size
    mem = gdal.GetDriverByName("MEM").Create("", w, h, bands, gdal.GDT_Float32)
    mem.SetGeoTransform(list(UTM_GT))
    rng = np.random.default_rng(seed)
    for b in range(1, bands + 1):
        data = rng.uniform(-1000, 1000, (h, w)).astype(np.float32)
        data[rng.random((h, w)) < 0.05] = -9999
        mem.GetRasterBand(b).WriteArray(data)
        mem.GetRasterBand(b).SetNoDataValue(-9999)
    if mask:
        mem.CreateMaskBand(gdal.GMF_PER_DATASET)
        m = np.full((h, w), 255, np.uint8)
        m[:, ::3] = 0
        mem.GetRasterBand(1).GetMaskBand().WriteArray(m)
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        gdal.Translate(path, mem, format="COG",
                       creationOptions=["BLOCKSIZE=64", "COMPRESS=DEFLATE", "OVERVIEWS=AUTO"])
    finally:
        gdal.PopErrorHandler()
    return path


def points_in_edge_tiles(tiles, size, per_tile=3, seed=8):
    """per_tile points in each (tx, ty) 64x64 tile, inside the raster."""
    rng = np.random.default_rng(seed)
    cols, rows = [], []
    for tx, ty in tiles:
        tw, th = min(64, size[0] - 64 * tx), min(64, size[1] - 64 * ty)
        cols += list(tx * 64 + rng.uniform(0.25, tw - 0.25, per_tile))
        rows += list(ty * 64 + rng.uniform(0.25, th - 0.25, per_tile))
    return rptest.pixel_to_world(UTM_GT, cols, rows)


def case_in_place(case):
    size = (1000, 700)  # 16 x 11 tiles, the last column 40 wide, the last row 60 high
    ds_path = edge_cog(os.path.join(TMP, "edges.tif"), size, 3, 9)
    masked = edge_cog(os.path.join(TMP, "edges_mask.tif"), size, 1, 10, mask=True)
    check = gdal.Open(ds_path)
    T.check(case, check.GetRasterBand(1).GetOverviewCount() > 0,
            "the fixture should have overviews")
    check = None
    # runs: (0-2, 0), (5, 0), (15, 0) the partial column, (7-8, 4), (13-15, 10) the partial row
    tiles = [(0, 0), (1, 0), (2, 0), (5, 0), (15, 0), (7, 4), (8, 4), (13, 10), (14, 10),
             (15, 10)]
    runs = 5
    xs, ys = points_in_edge_tiles(tiles, size)
    pts = os.path.join(TMP, case + ".csv")
    lines = rptest.write_points_csv(pts, xs, ys)
    log = os.path.join(TMP, case + ".log")
    with HttpServer(TMP, log=log, latency_ms=60) as srv:
        run = rptest.extract([srv.url("edges.tif"), "--points", pts, "--status", "-v"])
        first = len(read_log(log))
        run_mask = rptest.extract([srv.url("edges_mask.tif"), "--points", pts, "--status",
                                   "-v"])
        second = len(read_log(log))
        # no block cache to speak of: a run read in place would lose its
        # blocks before their scatter and fetch them again; runs are copied
        # (band 1 alone: with GDAL_CACHEMAX=0 GDAL drops the other bands'
        # blocks of a pixel-interleaved tile it decoded, and fetches the tile
        # again for band 2, whichever way the runs are read)
        run_nocache = rptest.extract([srv.url("edges.tif"), "--points", pts, "--status", "-v",
                                      "-b", "1"], env={"GDAL_CACHEMAX": "0"})
    requests = read_log(log)
    rptest.compare_extract(T, case, run, xs, ys, rptest.ArrayOracle(ds_path), [1, 2, 3], lines,
                           use_gli=False)
    same_as_local(case, run, ds_path, pts)
    want = "runs: %d runs of blocks read, %d from GDAL's block cache in place" % (runs, runs)
    T.check(case, want in run.err, "-v should say %r: %s" % (want, run.describe()))
    gets = [r for r in requests[:first] if r[0] == "GET"]
    T.check(case, len(gets) == runs + 1,
            "%d GETs, want %d (one a run, and the header): %s" % (len(gets), runs + 1, gets))
    rows = rptest.compare_extract(T, case, run_mask, xs, ys, rptest.ArrayOracle(masked), [1],
                                  lines, use_gli=False)
    same_as_local(case, run_mask, masked, pts)
    want = "runs: %d runs of blocks read, 0 from GDAL's block cache in place" % runs
    T.check(case, want in run_mask.err, "-v should say %r: %s" % (want, run_mask.describe()))
    T.check(case, rows is not None and any(r[-1] == "nodata" for r in rows),
            "some points of the masked COG should be nodata")
    rptest.compare_extract(T, case, run_nocache, xs, ys, rptest.ArrayOracle(ds_path, bands=[1]),
                           [1], lines, use_gli=False)
    want = "runs: %d runs of blocks read, 0 from GDAL's block cache in place" % runs
    T.check(case, want in run_nocache.err,
            "GDAL_CACHEMAX=0: -v should say %r: %s" % (want, run_nocache.describe()))
    gets = [r for r in requests[second:] if r[0] == "GET"]
    T.check(case, len(gets) == runs + 1,
            "GDAL_CACHEMAX=0: %d GETs, want %d (one a run, and the header): %s" % (
                len(gets), runs + 1, gets))


CASES = [("header_once", case_header_once), ("scattered_tiles", case_scattered_tiles),
         ("no_proj_db", case_no_proj_db), ("crs_transformed_remote", case_crs_transformed_remote),
         ("crs_unreachable_remote", case_crs_unreachable_remote), ("in_place", case_in_place)]
for name, fn in CASES:  # cases named on the command line, or all
    if len(sys.argv) < 2 or name in sys.argv[1:]:
        T.run_case(name, fn)
T.finish()
