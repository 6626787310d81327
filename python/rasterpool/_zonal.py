"""_zonal.py — zonal_stats: statistics of rasters over polygons, through
the library's zonal job (rp_zonal_run, exact coverage fractions).

There is no in-memory zonal API in the C library: the job reads polygons
from a file and writes its table to a file. So a GeoDataFrame is written to
a temporary GeoPackage (its geometry, CRS and a row number only), the job
writes a temporary CSV (the CLI's own table, shortest round-trip numbers,
so values are exact), and pandas reads it back. Both temporary files live
in one temporary folder removed when the call returns, whatever happens.

Threads: the C call runs without the GIL, on the job's own threads.
Ctrl-C stops the job (KeyboardInterrupt), as for every rasterpool call.
"""
import os
import re
import shutil
import tempfile
import warnings

import numpy as np
import pandas as pd

from . import _lib
from ._extract import _paths, crs_text
from ._jobs import _run, _words

ROW_COL = "rasterpool_row__"


def zonal_argv(rasters, polygons_path, output, stats, bands=None, include_cols=None,
               weights=None, layer=None, threads=None, status=False, config=None,
               max_memory=None):
    argv = ["zonal"] + _paths(rasters) + ["--polygons", polygons_path, "-o", output]
    if layer is not None:
        argv += ["--layer", str(layer)]
    for s in _words(stats):
        argv += ["-s", s]
    for b in ([bands] if isinstance(bands, (int, np.integer)) else bands or []):
        argv += ["-b", str(int(b))]
    for c in _words(include_cols):
        argv += ["--include-col", c]
    if weights is not None:
        argv += ["--weights", _lib.fspath(weights)]
    if threads is not None:
        argv += ["-j", str(int(threads))]
    if status:
        argv.append("--status")
    if max_memory is not None:
        argv += ["--max-memory", str(max_memory)]
    return argv + _lib.config_args(config)


INT_TEXT = re.compile(r"^[+-]?[0-9]+$")


def _exact_floats(texts):
    """Text numbers as float64 with Python's correctly rounded float() (the
    CLI writes the shortest text that reads back exact; pandas' own fast
    parser may be one ulp off); None if a value is not a number."""
    out = np.full(len(texts), np.nan)
    for i, t in enumerate(texts):
        if t is not None and t == t:
            try:
                out[i] = float(t)
            except ValueError:
                return None
    return out


def _attribute(col):
    """An attribute column: integers (nullable when some are empty), floats
    or text, as its values allow."""
    present = col.dropna()
    if len(present) and present.map(lambda t: bool(INT_TEXT.match(t))).all():
        try:
            values = pd.array([None if t != t else int(t) for t in col], dtype="Int64")
            return values.astype(np.int64) if not col.isna().any() else values
        except OverflowError:
            pass
    floats = _exact_floats(col.tolist()) if len(present) else None
    return floats if floats is not None else col


def _layer_fields(path, layer):
    """The attribute names of a polygons file (None when unknown)."""
    try:
        from osgeo import ogr
    except ImportError:
        return None
    ds = ogr.Open(path)
    if ds is None:
        return None
    lyr = ds.GetLayerByName(layer) if layer is not None else ds.GetLayer(0)
    if lyr is None:
        return None
    defn = lyr.GetLayerDefn()
    return {defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())}


def _read_table(path, attributes):
    """The job's CSV: read as text (so an attribute such as "007" or "NA"
    stays what it is); statistic columns become float64 (NaN where empty),
    exactly; the attributes (names in `attributes`, or every column whose
    values are all numbers when None) numbers where all their values are."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    for c in table.columns:
        if c == ROW_COL or (attributes is not None and c in attributes):
            table[c] = _attribute(table[c])
            continue
        floats = _exact_floats(table[c].tolist())
        if floats is not None:
            table[c] = floats
        elif attributes is not None:
            raise _lib.Error("rasterpool: the zonal table's column %r is not numbers"
                             % c, "INTERNAL")
    return table


def _write_polygons(gdf, folder, crs):
    """A GeoDataFrame's geometry (and a row number) as a GeoPackage the job
    reads; returns its path."""
    import geopandas
    geo = geopandas.GeoDataFrame({ROW_COL: np.arange(len(gdf), dtype=np.int64)},
                                 geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    if crs is not None:
        if geo.crs is not None:
            raise _lib.UsageError("rasterpool: crs= is for polygons without a CRS; this "
                                  "GeoDataFrame has one (%s): use to_crs() to change it"
                                  % geo.crs.to_string(), "USAGE")
        geo = geo.set_crs(crs_text(crs))
    path = os.path.join(folder, "polygons.gpkg")
    try:
        with warnings.catch_warnings():  # "an empty DataFrame": GPKG takes it
            warnings.simplefilter("ignore", UserWarning)
            geo.to_file(path, driver="GPKG", layer="polygons")
    except Exception as e:  # noqa: BLE001 - fiona's errors have many types
        raise _lib.WriteError("rasterpool: cannot write the polygons to the temporary "
                              "GeoPackage %s: %s" % (path, e), "WRITE") from e
    return path


def _is_geodataframe(obj):
    return isinstance(obj, pd.DataFrame) and hasattr(obj, "geometry") and \
        getattr(obj, "_geometry_column_name", None) in obj.columns


def zonal_stats(rasters, polygons, stats=("mean",), bands=None, include_cols=None, weights=None,
                crs=None, layer=None, threads=None, status=False, progress=None, config=None,
                max_memory=None):
    """Statistics of rasters over polygons with exact coverage fractions,
    as `rasterpool zonal` (exactextract's statistic names and meanings).

    rasters: a path, or several (those on one grid share a pass and one
      coverage; each grid in turn).
    polygons: a path (any vector GDAL reads; layer= picks a layer) or a
      GeoDataFrame (its CRS is the polygons' CRS; crs= gives one to a frame
      that has none). Polygons are transformed to the raster's CRS.
    stats: e.g. ["mean", "max", "p90=quantile(q=0.9)", "frac"] (-s of the CLI).
    bands: 1-based bands (default: all); weights: a weights raster on the
      same grid (weighted_sum, weighted_mean, ...); include_cols: attributes
      of a polygons file to carry (default: all; ignored for a GeoDataFrame,
      whose columns are all kept); status=True adds the status column;
      max_memory: the CLI's --max-memory (bytes, or "512M", "2G"): over it
      UsageError before any pixel, MemoryError while reading, or a polygon
      alone with status over_memory (NaN, RuntimeWarning).
    Returns, for a path, a pandas DataFrame as the CLI's table (attributes,
    then the statistic columns named as the CLI names them: <name>,
    b<N>_<name>, <stem>_<name>); for a GeoDataFrame, a copy of it (same
    index, CRS and columns) with the statistic columns added. A polygon with
    no valid cell has NaN. Raises rasterpool.Error subclasses naming the
    file; polygons that failed (invalid geometry, unreadable blocks) give a
    RuntimeWarning and NaN.
    """
    is_geo = _is_geodataframe(polygons)
    if not is_geo and not (isinstance(polygons, (str, bytes)) or hasattr(polygons, "__fspath__")):
        raise _lib.UsageError("rasterpool: polygons must be a path or a GeoDataFrame, not %s"
                              % type(polygons).__name__, "USAGE")
    if crs is not None and not is_geo:
        raise _lib.UsageError("rasterpool: crs= is for a GeoDataFrame without a CRS; a "
                              "polygons file carries its own", "USAGE")
    folder = tempfile.mkdtemp(prefix="rasterpool-zonal-")
    try:
        output = os.path.join(folder, "zonal.csv")
        if is_geo:
            path = _write_polygons(polygons, folder, crs)
            argv = zonal_argv(rasters, path, output, stats, bands, [ROW_COL], weights, None,
                              threads, status, config, max_memory)
        else:
            argv = zonal_argv(rasters, _lib.fspath(polygons), output, stats, bands, include_cols,
                              weights, layer, threads, status, config, max_memory)
        rc, _report, err = _run(_lib.lib.rp_zonal_options_new, _lib.lib.rp_zonal_options_free,
                                _lib.lib.rp_zonal_options_set_progress,
                                _lib.lib.rp_zonal_options_set_log, _lib.lib.rp_zonal_run,
                                "rp_zonal_report *", argv, progress, "zonal")
        if rc not in (_lib.lib.RP_OK, _lib.lib.RP_PARTIAL):
            raise _lib.error_from(rc, err)
        if rc == _lib.lib.RP_PARTIAL:
            warnings.warn("rasterpool: %s" % _lib.ffi.string(err.message).decode("utf-8",
                                                                                   "replace"),
                          RuntimeWarning, stacklevel=2)
        if is_geo:
            attributes = {ROW_COL}
        elif include_cols is not None:
            attributes = set(_words(include_cols))
        else:
            attributes = _layer_fields(_lib.fspath(polygons), layer)
        if status and attributes is not None:
            attributes = attributes | {"status"}
        table = _read_table(output, attributes)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if not is_geo:
        return table
    return _join(polygons, table)


def _join(gdf, table):
    """The statistic columns added to a copy of the GeoDataFrame, matched
    by the row number the job carried (never by position alone)."""
    rows = table.pop(ROW_COL).to_numpy()
    if len(rows) != len(gdf) or not np.array_equal(rows, np.arange(len(gdf))):
        raise _lib.Error("rasterpool: the zonal table's rows do not match the %d polygons "
                         "given (%d rows)" % (len(gdf), len(rows)), "INTERNAL")
    out = gdf.copy()
    taken = set(map(str, out.columns))
    for name in table.columns:
        col = name
        k = 2
        while col in taken:
            col = "%s_%d" % (name, k)
            k += 1
        if col != name:
            warnings.warn("rasterpool: the GeoDataFrame has a column %r already; the "
                          "statistic is %r" % (name, col), UserWarning, stacklevel=3)
        taken.add(col)
        out[col] = table[name].to_numpy()
    return out


__all__ = ["zonal_stats", "zonal_argv"]
