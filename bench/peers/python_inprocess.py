#!/usr/bin/python3
"""python_inprocess — extraction inside one Python process, arrays in and
arrays out (no CSV, no subprocess per call): rasterpool.extract_points, the
same job through the bare C calls (the binding's overhead), the pixtract-
style tile-grouped numpy extractor with a ThreadPoolExecutor, and rasterio's
sample() (on a subset: it reads point by point).

Usage: python_inprocess.py PKG_DIR RASTER POINTS.csv THREADS RUNS SUBSET
PKG_DIR holds the compiled rasterpool package. Each tool runs once to warm
up, then RUNS timed times; prints one JSON object: {tool: [seconds...]},
plus "check": the tools whose values differ from rasterpool's (as float32,
NaN where there is no value; rasterio on its subset)."""
import json
import sys
import time

import numpy as np

import numpy_tiles  # this folder (the script's own) is on sys.path


def tiles_extract(raster, xs, ys, threads):
    """numpy_tiles.py's extractor, nodata turned into NaN."""
    values, nodata = numpy_tiles.tiles_extract(raster, xs, ys, threads)
    if nodata is not None:
        values[values == nodata] = np.nan
    return values


def c_only(rasterpool, raster, xs, ys, threads):
    """The same job through the C calls alone: options parsed, arrays run,
    result freed; no conversion to numpy. Returns a function to time."""
    ffi, lib = rasterpool.ffi, rasterpool.lib
    words = [ffi.new("char[]", w.encode()) for w in ("extract", raster, "-j", str(threads))]
    argv = ffi.new("char *[]", words + [ffi.NULL])
    err = ffi.new("rp_error *")
    out = ffi.new("rp_extract_result **")
    px = ffi.cast("const double *", xs.ctypes.data)
    py = ffi.cast("const double *", ys.ctypes.data)

    def run():
        opts = lib.rp_extract_options_new(len(words), argv, ffi.NULL, err)
        rc = lib.rp_extract_run_arrays(opts, px, py, len(xs), 8, out, err)
        assert rc == lib.RP_OK, ffi.string(err.message)
        lib.rp_extract_result_free(out[0])
        lib.rp_extract_options_free(opts)

    return run


def timed(fn, runs):
    fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def timed_pair(fa, fb, runs):
    fa()
    fb()
    a, b = [], []
    for _ in range(runs):
        for f, out in ((fa, a), (fb, b)):
            t0 = time.perf_counter()
            f()
            out.append(time.perf_counter() - t0)
    return a, b


def same(a, b):
    return len(a) == len(b) and np.array_equal(np.asarray(a, np.float32),
                                                np.asarray(b, np.float32), equal_nan=True)


def main():
    pkg, raster, points, threads, runs, subset = sys.argv[1:7]
    threads, runs, subset = int(threads), int(runs), int(subset)
    sys.path.insert(0, pkg)
    import rasterpool
    data = np.loadtxt(points, delimiter=",", skiprows=1, usecols=(1, 2))
    xs, ys = np.ascontiguousarray(data[:, 0]), np.ascontiguousarray(data[:, 1])
    times, bad = {}, []
    ref = rasterpool.extract_points(raster, xs, ys, threads=threads)[:, 0]
    # The binding and the bare C calls alternate, run by run, so that the
    # machine's other load falls on both alike (the overhead is a few %).
    times["rasterpool"], times["c_only"] = timed_pair(
        lambda: rasterpool.extract_points(raster, xs, ys, threads=threads),
        c_only(rasterpool, raster, xs, ys, threads), runs)
    for t in sorted({threads, 8}):
        if not same(tiles_extract(raster, xs, ys, t), ref):
            bad.append("tiles_%d" % t)
        times["tiles_%d" % t] = timed(lambda t=t: tiles_extract(raster, xs, ys, t), runs)
    try:
        import rasterio
    except ImportError:
        rasterio = None
    if rasterio is not None:
        sx, sy = xs[:subset], ys[:subset]

        def sample():
            with rasterio.open(raster) as src:
                v = np.array([s[0] for s in src.sample(zip(sx, sy), indexes=1)], np.float64)
                if src.nodata is not None:
                    v[v == src.nodata] = np.nan
            return v
        if not same(sample(), ref[:subset]):
            bad.append("rasterio")
        times["rasterio_subset"] = timed(sample, max(1, runs // 2))
    print(json.dumps({"times": times, "check": bad, "n": len(xs), "subset": subset}))


main()
