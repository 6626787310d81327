"""_frames.py — extract with pandas and geopandas: a DataFrame, a
GeoDataFrame or a points file in, the same table out with value (and
status) columns added, the input's index, columns, dtypes and CRS kept.

The x/y columns of a DataFrame are found by name as the CLI finds them
(x/y, lon/lat, longitude/latitude, easting/northing, any case) unless
x_col/y_col name them. A GeoDataFrame's points are its geometry, and its
CRS is the points' CRS (crs= overrides it). Value columns are named as the
CLI names them (b1 for one raster, <stem>_b<N> for several; a name the
table already uses gets _2, _3, ...). Integer bands give pandas' nullable
integer columns (exact, <NA> where no value), float bands float columns
with NaN; status columns are categoricals of ok/nodata/outside/error.
"""
import warnings

import numpy as np
import pandas as pd

from . import _lib
from ._extract import STATUS_NAMES, extract_argv, run_arrays, to_float64

XY_NAMES = (("x", "y"), ("lon", "lat"), ("longitude", "latitude"), ("easting", "northing"))
VECTOR_TEXT = (".csv", ".txt", ".tsv")


def find_xy(columns, x_col=None, y_col=None):
    """The (x, y) column labels of a table, found by name like the CLI."""
    cols = list(columns)
    if x_col is not None or y_col is not None:
        missing = [c for c in (x_col, y_col) if c is None or c not in cols]
        if missing:
            raise _lib.UsageError("rasterpool: no column %r among %s" % (missing[0], cols), "USAGE")
        return x_col, y_col
    lower = {}
    for c in cols:
        lower.setdefault(str(c).lower(), c)
    for xn, yn in XY_NAMES:
        if xn in lower and yn in lower:
            return lower[xn], lower[yn]
    raise _lib.UsageError("rasterpool: no x/y columns found among %s (looked for x/y, lon/lat, "
                          "longitude/latitude, easting/northing in any case; name them with "
                          "x_col= and y_col=)" % cols, "USAGE")


def _numeric(series, label):
    """Coordinates as float64; text that is not a number becomes NaN, and
    those rows are reported (their status is error)."""
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.isnan(values) & series.notna().to_numpy()
    return values, bad


def read_points(path, layer=None):
    """A points file as a (Geo)DataFrame: CSV (delimiter , ; or tab, from
    the header line) with pandas, anything else with geopandas."""
    path = _lib.fspath(path)
    if path.lower().endswith(VECTOR_TEXT):
        with open(path, encoding="utf-8", newline="") as f:
            header = f.readline()
        sep = max((",", ";", "\t"), key=header.count)
        return pd.read_csv(path, sep=sep, keep_default_na=False, na_values=[""],
                           dtype=str).apply(_maybe_numeric)
    import geopandas
    return geopandas.read_file(path, layer=layer) if layer else geopandas.read_file(path)


def _maybe_numeric(col):
    converted = pd.to_numeric(col, errors="coerce")
    return converted if converted.notna().sum() == col.notna().sum() else col


def _geometry_xy(gdf):
    """x, y of point geometries; rows with no geometry, an empty one or one
    that is not a point are bad rows (as the CLI reads vector points)."""
    geom = gdf.geometry
    missing = geom.isna().to_numpy()
    empty = missing.copy()
    empty[~missing] = geom[~missing].is_empty.to_numpy()
    kinds = geom.geom_type.to_numpy()
    bad = empty | (kinds != "Point")
    x = np.full(len(gdf), np.nan)
    y = np.full(len(gdf), np.nan)
    ok = ~bad
    if ok.any():
        x[ok] = geom[ok].x.to_numpy()
        y[ok] = geom[ok].y.to_numpy()
    return x, y, bad


def _unique(name, taken):
    if name not in taken:
        return name
    k = 2
    while "%s_%d" % (name, k) in taken:
        k += 1
    return "%s_%d" % (name, k)


def _value_series(col, bad_rows, index):
    """A value column as pandas data: nullable integers for integer bands,
    floats with NaN otherwise."""
    no_value = (col.status != 0) | bad_rows
    if col.dtype.kind in "iu":
        arr = pd.array(col.raw.copy(), dtype=pd.api.types.pandas_dtype(col.dtype.name.capitalize()
                                                                       .replace("Uint", "UInt")))
        arr[no_value] = pd.NA
        return pd.Series(arr, index=index)
    if col.dtype.kind == "f":
        out = col.raw.copy()
        out[no_value] = np.nan
        return pd.Series(out, index=index)
    out = np.empty(col.raw.size, dtype=np.float64)
    to_float64(col.raw, col.status, out)
    out[bad_rows] = np.nan
    return pd.Series(out, index=index)


def _status_series(col, bad_rows, index):
    codes = col.status.astype(np.int8)
    codes[bad_rows] = 3
    return pd.Series(pd.Categorical.from_codes(codes, categories=list(STATUS_NAMES)), index=index)


def extract(rasters, points, bands=None, crs=None, threads=None, method=None, status=False,
            x_col=None, y_col=None, layer=None, progress=None, config=None, window=None,
            window_stats=None):
    """Values of rasters at the points of a table, added as columns.

    points: a pandas DataFrame (x/y columns found by name, or x_col/y_col),
      a GeoDataFrame (point geometries; its CRS is the points' CRS), or a
      path (CSV, or any vector file GDAL reads; layer= picks a layer).
    Returns a copy of the table (a GeoDataFrame stays one, index kept)
    with one column per (raster, band), named as the CLI names them, and
    with status=True a status column after each (`status` for a single
    column, `<column>_status` otherwise). Other arguments as for
    extract_points (window=, window_stats= too: columns b1_mean, ...).
    Rows whose coordinates are not numbers get no value and
    status error, with a warning naming them.
    """
    if isinstance(points, (str, bytes)) or hasattr(points, "__fspath__"):
        points = read_points(points, layer)
    if not isinstance(points, pd.DataFrame):
        raise _lib.UsageError("rasterpool: points must be a DataFrame, a GeoDataFrame or a "
                              "path, not %s" % type(points).__name__, "USAGE")
    is_geo = hasattr(points, "geometry") and getattr(points, "_geometry_column_name", None) \
        in points.columns
    if is_geo and x_col is None and y_col is None:
        x, y, bad = _geometry_xy(points)
        if crs is None and points.crs is not None:
            crs = points.crs
        what = "no point geometry (none, empty, or another type)"
    else:
        xc, yc = find_xy(points.columns, x_col, y_col)
        x, bx = _numeric(points[xc], xc)
        y, by = _numeric(points[yc], yc)
        bad = bx | by
        what = "coordinates that are not numbers"
    if bad.any():
        rows = list(points.index[bad][:5])
        warnings.warn("rasterpool: %d row(s) have %s (first: %s); their values are empty, "
                      "status error" % (bad.sum(), what, rows), RuntimeWarning, stacklevel=2)
        x = np.where(bad, np.nan, x)
        y = np.where(bad, np.nan, y)
    argv = extract_argv(rasters, bands=bands, crs=crs, threads=threads, method=method,
                        config=config, window=window, window_stats=window_stats)
    index = points.index

    def collect(cols):
        return [(c.name, _value_series(c, bad, index), _status_series(c, bad, index))
                for c in cols]

    columns, rc, message = run_arrays(argv, x, y, progress, collect)
    if rc == _lib.lib.RP_PARTIAL:
        warnings.warn("rasterpool: %s" % message, RuntimeWarning, stacklevel=2)
    out = points.copy()
    taken = set(map(str, out.columns))
    for name, values, st in columns:
        vname = _unique(name, taken)
        if vname != name:
            warnings.warn("rasterpool: the table has a column %r already; the values are %r"
                          % (name, vname), UserWarning, stacklevel=2)
        taken.add(vname)
        out[vname] = values
        if status:
            sname = _unique("status" if len(columns) == 1 else vname + "_status", taken)
            taken.add(sname)
            out[sname] = st
    return out


__all__ = ["extract", "find_xy", "read_points"]
