"""_extract.py — extract_points: raster values at numpy arrays of points.

One call is one rp_extract_run_arrays job: the options come from the same
argv parser as the CLI (so every option means what it means there), the
coordinates are handed to C without a copy when they are float64 arrays
with a common stride (columns of an (n, 2) array included), otherwise
converted once. The result's columns are read in each band's own type
(values_raw, exact) and converted to float64 here, or kept as they are with
dtype="native".

Threads: the C call runs without the GIL; the job's own threads read the
blocks. Memory: the C library's bytes per point (README "Bounds"), plus the
returned arrays (8 bytes a value, 1 a status) and the coordinates when they
had to be converted.
"""
import numpy as np

from . import _lib
from ._lib import ffi, lib

# GDALDataType values (gdal.h, GDAL 3.6; Int8 from 3.7) -> numpy dtypes.
GDAL_DTYPES = {
    1: np.uint8, 2: np.uint16, 3: np.int16, 4: np.uint32, 5: np.int32,
    6: np.float32, 7: np.float64,
    8: np.dtype([("re", np.int16), ("im", np.int16)]),
    9: np.dtype([("re", np.int32), ("im", np.int32)]),
    10: np.complex64, 11: np.complex128, 12: np.uint64, 13: np.int64, 14: np.int8,
}

STATUS_NAMES = ("ok", "nodata", "outside", "error")


def _paths(rasters):
    if isinstance(rasters, (str, bytes)) or hasattr(rasters, "__fspath__"):
        rasters = [rasters]
    out = [_lib.fspath(r) for r in rasters]
    if not out:
        raise _lib.UsageError("rasterpool: no raster given", "USAGE")
    return out


def extract_argv(rasters, bands=None, crs=None, threads=None, method=None, config=None,
                 max_open=None, io_threads=None, window=None, window_stats=None):
    argv = ["extract"] + _paths(rasters)
    if window is not None:
        argv += ["--window", str(int(window))]
    for s in ([window_stats] if isinstance(window_stats, str) else window_stats or []):
        argv += ["--window-stat", str(s)]
    for b in ([bands] if isinstance(bands, (int, np.integer)) else bands or []):
        argv += ["-b", str(int(b))]
    if crs is not None:
        argv += ["--points-crs", crs_text(crs)]
    if threads is not None:
        argv += ["-j", str(int(threads))]
    if method is not None:
        argv += ["--method", str(method)]
    if max_open is not None:
        argv += ["--max-open", str(int(max_open))]
    if io_threads is not None:
        argv += ["--io-threads", str(int(io_threads))]
    return argv + _lib.config_args(config)


def crs_text(crs):
    """A CRS as text for --points-crs: a string as it is, or anything with
    to_wkt() (pyproj.CRS, rasterio.crs.CRS, osr.SpatialReference as
    ExportToWkt), or an EPSG code as int."""
    if isinstance(crs, str):
        return crs
    if isinstance(crs, (int, np.integer)):
        return "EPSG:%d" % crs
    for attr in ("to_wkt", "ExportToWkt"):
        if hasattr(crs, attr):
            return getattr(crs, attr)()
    raise _lib.UsageError("rasterpool: cannot read the CRS %r (give text such as "
                          "'EPSG:4326', an int EPSG code or a pyproj CRS)" % (crs,), "USAGE")


def _coords(xs, ys):
    """(x array, y array, stride) as C can take them, converting once when
    needed. Both must be 1-D float64 with one common positive stride."""
    x = np.asarray(xs)
    y = np.asarray(ys)
    if x.ndim != 1 or y.ndim != 1:
        x, y = x.reshape(-1), y.reshape(-1)
    if x.shape != y.shape:
        raise _lib.UsageError("rasterpool: xs and ys differ in length (%d and %d)"
                              % (x.size, y.size), "USAGE")
    ok = (x.dtype == np.float64 and y.dtype == np.float64 and x.strides == y.strides
          and x.strides[0] > 0 and x.strides[0] % 8 == 0
          and x.dtype.isnative and y.dtype.isnative)
    if not ok:
        x = np.ascontiguousarray(x, dtype=np.float64)
        y = np.ascontiguousarray(y, dtype=np.float64)
    return x, y, (x.strides[0] if x.size else 8)


def _ptr(a):
    """A const double * to a (maybe strided, maybe read-only) array's first
    element, without a copy; keeps no reference (the caller holds a)."""
    if a.size == 0:
        return ffi.NULL
    return ffi.cast("const double *", a.__array_interface__["data"][0])


def run_arrays(argv, xs, ys, progress=None, collect=None):
    """Runs one in-memory extract; returns (collect(columns), rc, message)
    where columns is a list of Column views into the C result (valid only
    during collect: it copies what it keeps). Default collect: copies."""
    _lib.init()
    x, y, stride = _coords(xs, ys)
    args = _lib.Argv(argv)
    err = _lib.new_error()
    opts = lib.rp_extract_options_new(args.argc, args.argv, ffi.NULL, err)
    if opts == ffi.NULL:
        if err.code == lib.RP_OK:
            raise _lib.UsageError("rasterpool: --help is not a job", "USAGE")
        raise _lib.error_from(err.code, err)
    job = _lib.Job(progress, "extract")
    res_p = ffi.new("rp_extract_result **")
    try:
        job.attach(lib.rp_extract_options_set_progress, lib.rp_extract_options_set_log, opts)
        rc = lib.rp_extract_run_arrays(opts, _ptr(x), _ptr(y), x.size, stride, res_p, err)
    finally:
        lib.rp_extract_options_free(opts)
        job.close()
    res = res_p[0]
    try:
        job.reraise()
        if rc == lib.RP_INTERRUPTED:
            raise KeyboardInterrupt("rasterpool: extract interrupted")
        if rc not in (lib.RP_OK, lib.RP_PARTIAL):
            raise _lib.error_from(rc, err)
        cols = _columns(res, x.size)
        kept = collect(cols) if collect else [c.copy() for c in cols]
        return kept, rc, ffi.string(err.message).decode("utf-8", "replace")
    finally:
        lib.rp_extract_result_free(res)


class Column:
    """One value column of a result: name, numpy dtype, raw values in the
    band's own type and the status codes (views or copies)."""

    def __init__(self, name, dtype, raw, status):
        self.name, self.dtype, self.raw, self.status = name, dtype, raw, status

    def copy(self):
        return Column(self.name, self.dtype, self.raw.copy(), self.status.copy())


def _columns(res, n):
    """Views into the C result's columns (valid until it is freed)."""
    cols = []
    for c in range(lib.rp_extract_result_ncols(res)):
        name = ffi.string(lib.rp_extract_result_name(res, c)).decode()
        gtype = lib.rp_extract_result_type(res, c)
        size = lib.rp_extract_result_type_size(res, c)
        if gtype not in GDAL_DTYPES or np.dtype(GDAL_DTYPES[gtype]).itemsize != size:
            raise _lib.Error("rasterpool: column %s has GDAL type %d, unknown to the binding"
                             % (name, gtype), "INTERNAL")
        dtype = np.dtype(GDAL_DTYPES[gtype])
        if n == 0:
            raw, st = np.empty(0, dtype), np.empty(0, np.uint8)
        else:
            raw = np.frombuffer(ffi.buffer(lib.rp_extract_result_values_raw(res, c), n * size),
                                dtype=dtype)
            st = np.frombuffer(ffi.buffer(lib.rp_extract_result_status(res, c), n), dtype=np.uint8)
        cols.append(Column(name, dtype, raw, st))
    return cols


def to_float64(raw, status, out):
    """Fills out (float64, n) from a column's raw values: NaN wherever the
    status is not ok (nodata, outside, error); complex types give their real
    part."""
    if raw.dtype.names:
        raw = raw["re"]
    elif raw.dtype.kind == "c":
        raw = raw.real
    out[...] = raw
    out[status != lib.RP_POINT_OK] = np.nan


def extract_points(rasters, xs, ys, bands=None, crs=None, threads=None, method=None,
                   return_status=False, dtype="float64", progress=None, config=None,
                   return_names=False, window=None, window_stats=None):
    """Values of one or more rasters at points, as a numpy array.

    rasters: a path (or URL, /vsi path, VRT) or a list of them.
    xs, ys: 1-D arrays of coordinates (any real dtype, any strides), in
      `crs` when given, else in each raster's own CRS.
    bands: 1-based band numbers, applied to every raster (default: all).
    crs: the points' CRS ("EPSG:4326", WKT, a pyproj CRS, an int EPSG code).
    threads: worker threads (default: the CPUs this process may use).
    method: the interpolation (passed as --method; None: nearest cell).
    window: N (odd, 1 to 101): statistics of the N x N cells centred on
      the point's cell instead of its value (--window); cells off the
      raster, nodata, masked or NaN are left out. window_stats: "mean"
      (default), "min", "max", "sum", "count", "stdev", "median", or
      "values" (the N*N values, row-major), one or a list (--window-stat);
      columns b1_mean, b1_count, ... b1_w3_1 ... b1_w3_9 (return_names=True
      gives them). NaN where the window has no valid cell.
    dtype: "float64" (default): an (n, ncols) float64 array with NaN where
      there is no value (nodata, masked, outside, unreadable); "native": the
      bands' own type (all columns must share it; 64-bit integers exact),
      values where the status is not ok are the nodata value (nodata) or 0.
    return_status: also return an (n, ncols) uint8 array of rp_point_status
      (0 ok, 1 nodata, 2 outside, 3 error; rasterpool.STATUS_NAMES).
    return_names: also return the column names (as the CLI names them).
    progress: True for a bar (tqdm when installed), or a callable
      progress(fraction, message); an exception it raises stops the job and
      is raised here.
    config: GDAL configuration options for this job, a dict.

    Columns are (raster, band) in order. Raises rasterpool.Error subclasses
    (UsageError, OpenError, ...); KeyboardInterrupt stops the job. Blocks
    that could not be read leave their points at status error (NaN), with a
    RuntimeWarning.
    """
    argv = extract_argv(rasters, bands=bands, crs=crs, threads=threads, method=method,
                        config=config, window=window, window_stats=window_stats)
    native = dtype in ("native", None)
    if not native and np.dtype(dtype) != np.float64:
        raise _lib.UsageError("rasterpool: dtype must be 'float64' or 'native'", "USAGE")
    n = np.asarray(xs).size

    def collect(cols):
        types = [c.dtype for c in cols]
        if native and len(set(types)) > 1:
            raise _lib.UsageError("rasterpool: dtype='native' needs one type for all columns; "
                                  "these have %s" % ", ".join(str(t) for t in types), "USAGE")
        out_type = types[0] if native and types else np.float64
        values = np.empty((n, len(cols)), dtype=out_type)
        status = np.empty((n, len(cols)), dtype=np.uint8) if return_status else None
        for i, col in enumerate(cols):
            if native:
                values[:, i] = col.raw
            else:
                to_float64(col.raw, col.status, values[:, i])
            if status is not None:
                status[:, i] = col.status
        return values, status, [c.name for c in cols]

    (values, status, names), rc, message = run_arrays(argv, xs, ys, progress, collect)
    if rc == lib.RP_PARTIAL:
        import warnings
        warnings.warn("rasterpool: %s" % (message or "some blocks could not be read; "
                                          "their points have status error"), RuntimeWarning,
                      stacklevel=2)
    out = [values]
    if return_status:
        out.append(status)
    if return_names:
        out.append(names)
    return out[0] if len(out) == 1 else tuple(out)
