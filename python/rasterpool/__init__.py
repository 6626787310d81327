"""rasterpool — raster values at points, block-wise raster math and batches
of GDAL jobs, in parallel, from Python (cffi over librasterpool).

    import rasterpool
    v = rasterpool.extract_points("dem.tif", xs, ys)       # float64 (n, bands), NaN where no value
    df = rasterpool.extract(["a.tif", "b.tif"], points_gdf)  # same index, value columns added
    rasterpool.calc({"A": "nir.tif", "B": "red.tif"}, "(A-B)/(A+B)", "ndvi.tif", ot="Float32")
    report = rasterpool.batch("warp", ["a.tif", "b.tif"], out_dir="out", options=["-t_srs", "EPSG:3857"])
    stats = rasterpool.zonal_stats("dem.tif", "basins.gpkg", stats=["mean", "p90=quantile(q=0.9)"])

Every call runs the library's job with the GIL released; Ctrl-C stops it
cleanly (KeyboardInterrupt); errors are rasterpool.Error subclasses carrying
the library's status and message. docs/python.md has the whole API.
"""
from ._lib import (CRSError, Error, OpenError, PartialError, ReadError, UsageError,  # noqa: F401
                   WriteError, ffi, lib)
from ._extract import STATUS_NAMES, extract_points  # noqa: F401

try:
    from ._frames import extract  # noqa: F401
except ImportError:  # pandas missing: extract_points still works
    def extract(*args, **kwargs):
        raise ImportError("rasterpool.extract needs pandas (Debian: python3-pandas)")

from ._jobs import BatchReport, CalcReport, batch, calc  # noqa: F401,E402

try:
    from ._zonal import zonal_stats  # noqa: F401
except ImportError:  # pandas missing
    def zonal_stats(*args, **kwargs):
        raise ImportError("rasterpool.zonal_stats needs pandas (Debian: python3-pandas)")

__version__ = ffi.string(lib.rp_version()).decode()
gdal_version = ffi.string(lib.rp_gdal_version()).decode()


__all__ = ["extract_points", "extract", "calc", "batch", "zonal_stats", "Error", "UsageError",
           "OpenError", "ReadError", "WriteError", "CRSError", "PartialError", "CalcReport",
           "BatchReport", "STATUS_NAMES", "__version__", "gdal_version"]
