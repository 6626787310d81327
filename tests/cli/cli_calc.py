#!/usr/bin/python3
"""cli_calc — `rasterpool calc` end to end, against numpy.

Every expected raster is computed here with numpy from the inputs as GDAL
reads them (ReadAsArray), with the documented rules written out
independently: arithmetic in float64; nodata in, nodata out unless the
expression calls isnodata(); integers round half away from zero and clamp
to the type's range; NaN is nodata (or 0) in integer outputs. Outputs are
read back with GDAL. Also: georeferencing and metadata copied, tiling and
COG layout, the output's mode under the caller's umask, byte-identical
output at -j 1/2/7, kernels (the shipped example and test kernels), and bad
input: bad expressions (position and caret),
missing inputs, mismatched grids, unwritable outputs, a missing kernel
symbol, a failing kernel, Ctrl-C — none of which may leave a file behind.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle"))
import numpy as np  # noqa: E402
from osgeo import gdal, osr  # noqa: E402

from rptest import Tester, binary, create_raster, rp  # noqa: E402

T = Tester("cli_calc")
TMP = tempfile.mkdtemp(prefix="rp_calc_")
KERNELS = os.environ.get("RP_TEST_KERNELS")
REVERSE = os.environ.get("RP_REVERSE_KERNEL")
H, W = 301, 517  # odd: partial edge blocks and windows
GT = (500000.0, 10.0, 0.0, 4100000.0, 0.0, -10.0)
SRS = "EPSG:32633"


def path(name):
    return os.path.join(TMP, name)


def calc(args, **kw):
    return rp(["calc"] + [str(a) for a in args], **kw)


def read(p):
    ds = gdal.Open(p)
    return ds.ReadAsArray(), ds


def files_in(folder):
    return sorted(os.listdir(folder))


def round_away(x):
    return np.where(x >= 0, np.floor(x + 0.5), np.ceil(x - 0.5))


def to_type(x, np_type, nan_value=0):
    """The documented conversion of float64 results to an output type."""
    if np.issubdtype(np_type, np.integer):
        info = np.iinfo(np_type)
        nan = np.isnan(x)
        with np.errstate(invalid="ignore"):
            y = np.clip(round_away(np.where(nan, 0, x)), info.min, info.max)
        y = np.where(nan, nan_value, y)
        return y.astype(np_type)
    with np.errstate(over="ignore"):
        return x.astype(np_type)


def same(case, got, want, what="values"):
    got = np.asarray(got)
    want = np.asarray(want)
    if got.shape != want.shape:
        return T.fail(case, "%s: shape %s, expected %s" % (what, got.shape, want.shape))
    if got.dtype != want.dtype:
        return T.fail(case, "%s: type %s, expected %s" % (what, got.dtype, want.dtype))
    eq = (got == want)
    if np.issubdtype(got.dtype, np.floating):
        eq |= np.isnan(got) & np.isnan(want)
    if not eq.all():
        bad = np.argwhere(~eq)
        first = [tuple(int(v) for v in b) for b in bad[:5]]
        T.fail(case, "%s: %d of %d differ; first at %s: got %s, expected %s" % (
            what, len(bad), eq.size, first, [got[b] for b in first], [want[b] for b in first]))


def ok_run(case, r):
    if r.code != 0:
        T.fail(case, "exit %s, expected 0\n    %s" % (r.code, r.describe()))
        return False
    return True


# ----------------------------------------------------------------------------
# inputs
# ----------------------------------------------------------------------------
rng = np.random.default_rng(5)
nir = rng.uniform(0, 1000, (H, W)).astype(np.float32)
red = rng.uniform(0, 1000, (H, W)).astype(np.float32)
red[rng.random((H, W)) < 0.05] = -9999  # red's nodata
red[0, :7] = -9999
nir[5, 5] = red[5, 5] = 0  # 0/0 -> NaN
create_raster(path("nir.tif"), nir, "Float32", gt=GT, srs=SRS, block=(64, 64),
              metadata={"SENSOR": "test-nir"})
create_raster(path("red.tif"), red, "Float32", gt=GT, srs=SRS, block=(64, 64), nodata=-9999)
rgb = rng.integers(0, 256, (3, H, W)).astype(np.uint8)
create_raster(path("rgb.tif"), rgb, "Byte", gt=GT, srs=SRS, block=(32, 32))
dem = rng.integers(-200, 3000, (H, W)).astype(np.int16)
dem[rng.random((H, W)) < 0.03] = -32768
create_raster(path("dem.tif"), dem, "Int16", gt=GT, srs=SRS, block=(128, 128), nodata=-32768)
b1 = rng.integers(0, 256, (H, W)).astype(np.uint8)
b2 = rng.integers(0, 256, (H, W)).astype(np.uint8)
b2[::7, ::3] = 0  # division by zero
create_raster(path("b1.tif"), b1, "Byte", gt=GT, srs=SRS, block=(64, 64))
create_raster(path("b2.tif"), b2, "Byte", gt=GT, srs=SRS, block=16)  # striped
nir64 = nir.astype(np.float64)
# gdal_calc.py's default output nodata per type (its DefaultNDVLookup;
# 3.402823466e38 is FLT_MAX once stored as Float32)
DEFAULT_NODATA = {"Byte": 255, "UInt16": 65535, "Int16": -32768, "UInt32": 4294967293,
                  "Int32": -2147483647, "Float32": float(np.float32(3.402823466e38)),
                  "Float64": 1.7976931348623158e308}
F32_NODATA = DEFAULT_NODATA["Float32"]
red64 = red.astype(np.float64)


def case_ndvi(case):
    out = path("ndvi.tif")
    r = calc(["-i", "A=" + path("nir.tif"), "-i", "B=" + path("red.tif"), "-e", "(A-B)/(A+B)",
              "-o", out, "--ot", "Float32", "--co", "COMPRESS=DEFLATE", "-j", "3"])
    if not ok_run(case, r):
        return
    got, ds = read(out)
    with np.errstate(divide="ignore", invalid="ignore"):
        want = (nir64 - red64) / (nir64 + red64)
    want[red == -9999] = F32_NODATA  # gdal_calc.py's default for Float32, not red's -9999
    same(case, got, want.astype(np.float32))
    band = ds.GetRasterBand(1)
    T.check(case, band.GetNoDataValue() == F32_NODATA, "nodata %r" % band.GetNoDataValue())
    T.check(case, ds.GetGeoTransform() == GT, "geotransform %r" % (ds.GetGeoTransform(),))
    srs = osr.SpatialReference(wkt=ds.GetProjection())
    T.check(case, srs.GetAuthorityCode(None) == "32633", "CRS %r" % srs.GetAuthorityCode(None))
    T.check(case, ds.GetMetadataItem("SENSOR") == "test-nir", "metadata not copied")
    T.check(case, band.GetBlockSize() == [256, 256], "blocks %r" % band.GetBlockSize())
    T.check(case, ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") == "DEFLATE",
            "compression %r" % ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE"))
    T.check(case, band.GetDescription() == "(A-B)/(A+B)", "description %r" % band.GetDescription())
    T.check(case, files_in(TMP).count("ndvi.tif") == 1 and
            not any(".rasterpool-" in f or "rp-tmp" in f for f in files_in(TMP)), "temporary files left")


def case_default_type_and_bands(case):
    out = path("bgr.tif")
    r = calc(["-i", "A=" + path("rgb.tif"), "-e", "A[3]", "-e", "A[2]", "-e", "A[1]", "-o", out])
    if not ok_run(case, r):
        return
    got, ds = read(out)
    same(case, got, rgb[::-1].astype(np.float32))  # default Float32
    T.check(case, ds.RasterCount == 3, "bands %d" % ds.RasterCount)
    T.check(case, ds.GetRasterBand(1).GetNoDataValue() is None, "unexpected nodata")
    out2 = path("bgr_byte.tif")
    r = calc(["-i", "A=" + path("rgb.tif"), "-e", "A[3]", "-e", "A[2]", "-e", "A[1]", "-o", out2,
              "--ot", "Byte"])
    if ok_run(case, r):
        same(case, read(out2)[0], rgb[::-1])


def case_nodata_keyword_cog(case):
    out = path("high.tif")
    r = calc(["-i", "A=" + path("dem.tif"), "-e", "A > 1000 ? A : nodata", "--nodata", "-9999",
              "-o", out, "--of", "COG", "--co", "COMPRESS=DEFLATE", "-j", "2"])
    if not ok_run(case, r):
        return
    got, ds = read(out)
    d = dem.astype(np.float64)
    want = np.where(d > 1000, d, -9999)
    want[dem == -32768] = -9999  # nodata in, nodata out
    same(case, got, want.astype(np.float32))
    T.check(case, ds.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE") == "COG",
            "layout %r" % ds.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE"))
    T.check(case, ds.GetRasterBand(1).GetNoDataValue() == -9999, "nodata")
    T.check(case, not any(".rasterpool-" in f or "rp-tmp" in f for f in files_in(TMP)), "temporary files left")


def case_mode_follows_umask(case):
    """The output gets the mode a new file gets under the caller's umask
    (the kernel applies it; no umask() juggling in the library), for the
    GTiff and for the COG copy."""
    for fmt in ("GTiff", "COG"):
        out = path("masked_%s.tif" % fmt)
        old = os.umask(0o027)
        try:
            r = calc(["-i", "A=" + path("dem.tif"), "-e", "A", "-o", out, "--of", fmt])
        finally:
            os.umask(old)
        if ok_run(case, r):
            mode = os.stat(out).st_mode & 0o777
            T.check(case, mode == 0o640, "%s: mode %o under umask 027" % (fmt, mode))
    T.check(case, not any("rp-tmp" in f for f in files_in(TMP)), "temporary files left")


def case_isnodata(case):
    out = path("filled.tif")
    r = calc(["-i", "A=" + path("dem.tif"), "-e", "isnodata(A) ? 0 : A * 2", "-o", out,
              "--ot", "Int16"])
    if not ok_run(case, r):
        return
    got, ds = read(out)
    d = dem.astype(np.float64)
    want = to_type(np.where(dem == -32768, 0, d * 2), np.int16)
    same(case, got, want)
    # Int16's default nodata is gdal_calc.py's -32768 (here also dem's)
    T.check(case, ds.GetRasterBand(1).GetNoDataValue() == -32768, "nodata %r" %
            ds.GetRasterBand(1).GetNoDataValue())


def case_integer_casting(case):
    a, b = b1.astype(np.float64), b2.astype(np.float64)
    runs = [("A+B", "Byte", np.uint8, a + b), ("A-B", "Byte", np.uint8, a - b),
            ("A/2", "Int16", np.int16, a / 2), ("-A/2", "Int16", np.int16, -a / 2),
            ("A*B*1000", "Int32", np.int32, a * b * 1000), ("A*300", "UInt16", np.uint16, a * 300),
            ("A-300", "UInt32", np.uint32, a - 300)]
    for i, (expr, ot, npt, want) in enumerate(runs):
        out = path("cast%d.tif" % i)
        r = calc(["-i", "A=" + path("b1.tif"), "-i", "B=" + path("b2.tif"), "-e", expr, "-o", out,
                  "--ot", ot])
        if ok_run(case, r):
            same(case, read(out)[0], to_type(want, npt), "%s as %s" % (expr, ot))


def case_division_by_zero(case):
    a, b = b1.astype(np.float64), b2.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = a / b
    out = path("div.tif")
    r = calc(["-i", "A=" + path("b1.tif"), "-i", "B=" + path("b2.tif"), "-e", "A/B", "-o", out])
    if ok_run(case, r):
        same(case, read(out)[0], q.astype(np.float32), "float")  # inf, nan kept
    out = path("div_int.tif")
    r = calc(["-i", "A=" + path("b1.tif"), "-i", "B=" + path("b2.tif"), "-e", "A/B", "-o", out,
              "--ot", "Int16", "--nodata", "-1"])
    if ok_run(case, r):
        got, ds = read(out)
        same(case, got, to_type(q, np.int16, nan_value=-1), "Int16 with --nodata -1")


def case_threads_identical(case):
    for label, extra in (("gtiff", ["--co", "COMPRESS=DEFLATE", "--co", "BLOCKXSIZE=128",
                                    "--co", "BLOCKYSIZE=64"]),
                         ("cog", ["--of", "COG", "--co", "COMPRESS=LZW"])):
        blobs = []
        for j in (1, 2, 7):
            out = path("thr_%s_%d.tif" % (label, j))
            r = calc(["-i", "A=" + path("nir.tif"), "-i", "B=" + path("red.tif"),
                      "-e", "(A-B)/(A+B)", "-e", "A*2+1", "-o", out, "-j", j] + extra)
            if not ok_run(case, r):
                return
            with open(out, "rb") as f:
                blobs.append(f.read())
        T.check(case, blobs[0] == blobs[1] == blobs[2],
                "%s: outputs differ between -j 1, 2 and 7 (sizes %s)" % (
                    label, [len(b) for b in blobs]))
    got = read(path("thr_gtiff_1.tif"))[0]
    want = (nir64 * 2 + 1).astype(np.float32)
    same(case, got[1], want, "band 2")


def case_striped_output(case):
    """--co TILED=NO: strips of one row; windows of whole strips."""
    blobs = []
    for j in (1, 3):
        out = path("strips_%d.tif" % j)
        r = calc(["-i", "A=" + path("b2.tif"), "-e", "A*3", "-o", out, "--ot", "UInt16",
                  "--co", "TILED=NO", "--co", "COMPRESS=LZW", "-j", j])
        if not ok_run(case, r):
            return
        got, ds = read(out)
        same(case, got, to_type(b2.astype(np.float64) * 3, np.uint16))
        T.check(case, ds.GetRasterBand(1).GetBlockSize()[0] == W, "not striped: %r" % (
            ds.GetRasterBand(1).GetBlockSize(),))
        with open(out, "rb") as f:
            blobs.append(f.read())
    T.check(case, blobs[0] == blobs[1], "striped output differs between -j 1 and 3")


def case_kernel_reverse(case):
    if not REVERSE:
        return T.fail(case, "RP_REVERSE_KERNEL not set")
    out = path("rev.tif")
    r = calc(["-i", "A=" + path("rgb.tif"), "--kernel", REVERSE + ":reverse_bands",
              "--kernel-arg", "20", "-o", out, "-j", "3"])
    if ok_run(case, r):
        got, ds = read(out)
        same(case, got, rgb[::-1])
        T.check(case, ds.GetGeoTransform() == GT, "geotransform")


def case_kernel_windows(case):
    if not KERNELS:
        return T.fail(case, "RP_TEST_KERNELS not set")
    out = path("ids.tif")
    r = calc(["-i", "A=" + path("nir.tif"), "--kernel", KERNELS + ":window_ids", "--ot", "Float64",
              "--bands", "3", "-o", out, "--co", "BLOCKXSIZE=128", "--co", "BLOCKYSIZE=32"])
    if not ok_run(case, r):
        return
    got, ds = read(out)
    cols, rows = np.meshgrid(np.arange(W, dtype=np.float64), np.arange(H, dtype=np.float64))
    same(case, got[0], cols, "column")
    same(case, got[1], rows, "row")
    same(case, got[2], GT[0] + (cols + 0.5) * GT[1] + (rows + 0.5) * GT[2], "x coordinate")


def case_default_nodata_no_collision(case):
    """Issue 15 item 1: the output's default nodata is the output type's
    (gdal_calc.py's), not the input's: a 0/1 mask of a Byte raster whose
    nodata is 0 keeps its valid zeros, and so does a normalized difference
    of UInt16 bands with nodata 0 (valid 0.0 where the bands are equal)."""
    rgbn = rng.integers(0, 256, (3, H, W)).astype(np.uint8)
    rgbn[:, :40, :60] = 0  # a nodata corner, as a scene's collar
    create_raster(path("rgb_nd0.tif"), rgbn, "Byte", gt=GT, srs=SRS, block=(64, 64), nodata=0)
    src = gdal.Open(path("rgb_nd0.tif"))
    a1 = src.GetRasterBand(1).ReadAsArray().astype(np.float64)
    out = path("mask_byte.tif")
    r = calc(["-i", "A=" + path("rgb_nd0.tif"), "-e", "A[1] > 100 ? 1 : 0", "--ot", "Byte",
              "-o", out])
    if ok_run(case, r):
        got, ds = read(out)
        nd = ds.GetRasterBand(1).GetNoDataValue()
        T.check(case, nd == 255, "Byte output nodata %r, expected gdal_calc.py's 255" % nd)
        want = np.where(a1 > 100, 1, 0)
        want[a1 == 0] = 255  # nodata in, nodata out
        same(case, got, want.astype(np.uint8), "mask")
        valid_zeros = int(((got == 0) & (got != nd)).sum())
        T.check(case, valid_zeros == int(((a1 <= 100) & (a1 != 0)).sum()) and valid_zeros > 0,
                "valid zeros lost: %d" % valid_zeros)
        T.check(case, "warning" not in r.err, "unexpected warning: %r" % r.err)
    nirx = rng.integers(0, 4000, (H, W)).astype(np.uint16)
    redx = rng.integers(0, 4000, (H, W)).astype(np.uint16)
    redx[::5, ::5] = nirx[::5, ::5]  # equal bands: a valid 0.0
    nirx[3, :] = 0  # nodata
    create_raster(path("nir_u16.tif"), nirx, "UInt16", gt=GT, srs=SRS, nodata=0)
    create_raster(path("red_u16.tif"), redx, "UInt16", gt=GT, srs=SRS, nodata=0)
    out = path("nd_u16.tif")
    r = calc(["-i", "A=" + path("nir_u16.tif"), "-i", "B=" + path("red_u16.tif"),
              "-e", "(A-B)/(A+B)", "-o", out])
    if ok_run(case, r):
        got, ds = read(out)
        nd = ds.GetRasterBand(1).GetNoDataValue()
        T.check(case, nd == F32_NODATA, "Float32 output nodata %r, expected %r" % (nd, F32_NODATA))
        a, b = nirx.astype(np.float64), redx.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            want = (a - b) / (a + b)
        want[(nirx == 0) | (redx == 0)] = F32_NODATA
        same(case, got, want.astype(np.float32), "normalized difference")
        zeros = (got == 0) & (got != nd)
        T.check(case, int(zeros.sum()) == int(((a == b) & (a != 0)).sum()) and zeros.any(),
                "valid 0.0 lost: %d left" % int(zeros.sum()))
    # with no nodata in any band read and no `nodata` keyword: none, as before
    out = path("plain.tif")
    r = calc(["-i", "A=" + path("b1.tif"), "-e", "A", "-o", out])
    if ok_run(case, r):
        ds = read(out)[1]
        T.check(case, ds.GetRasterBand(1).GetNoDataValue() is None, "nodata set without a reason")
    # the `nodata` keyword without any: the type's default
    out = path("kw_default.tif")
    r = calc(["-i", "A=" + path("b1.tif"), "-e", "A > 100 ? A : nodata", "--ot", "Int16",
              "-o", out])
    if ok_run(case, r):
        got, ds = read(out)
        T.check(case, ds.GetRasterBand(1).GetNoDataValue() == -32768, "keyword nodata")
        same(case, got, np.where(b1 > 100, b1, -32768).astype(np.int16), "keyword")


def case_nodata_collision_warned(case):
    """Issue 15 item 1: a --nodata that valid results also take is warned
    about, per band, with the count (numpy's); masked pixels, and the
    `nodata` keyword's own writes, are not collisions."""
    out = path("mask_nd0.tif")
    r = calc(["-i", "A=" + path("rgb_nd0.tif"), "-e", "A[1] > 100 ? 1 : 0", "-e", "A[2] + 1000",
              "--ot", "Byte", "--nodata", "0", "-o", out])
    if not ok_run(case, r):
        return
    src = gdal.Open(path("rgb_nd0.tif"))
    a1 = src.GetRasterBand(1).ReadAsArray()
    n = int(((a1 <= 100) & (a1 != 0)).sum())
    T.check(case, ("band 1 (A[1] > 100 ? 1 : 0): %d valid pixels equal the output's nodata "
                   "value 0" % n) in r.err, "no collision warning with %d: %r" % (n, r.err))
    T.check(case, "band 2" not in r.err, "band 2 never yields 0: %r" % r.err)
    # clamped results collide too: 300 in Byte is 255
    r = calc(["-i", "A=" + path("b1.tif"), "-e", "A + 100", "--ot", "Byte", "--nodata", "255",
              "-o", path("clamp.tif")])
    if ok_run(case, r):
        n = int((b1.astype(int) + 100 >= 255).sum())
        T.check(case, "%d valid pixels equal" % n in r.err, "clamp collision %d: %r" % (n, r.err))
    r = calc(["-i", "A=" + path("dem.tif"), "-e", "A > 1000 ? A : nodata", "--nodata", "5",
              "-o", path("kw.tif")])
    if ok_run(case, r):
        T.check(case, "warning" not in r.err, "the keyword's nodata warned: %r" % r.err)


def case_signed_byte(case):
    """Issue 15 item 3: a Byte band with PIXELTYPE=SIGNEDBYTE (GDAL 3.6's
    Int8) reads as signed: -20, not 236; its nodata -128 is honoured. The
    oracle is GDAL's own Python read, which gives int8."""
    v = rng.integers(-128, 128, (H, W)).astype(np.int8)
    v[::9, ::4] = -128
    v[0, :4] = [-20, -1, 127, 0]
    p = path("int8.tif")
    ds = gdal.GetDriverByName("GTiff").Create(p, W, H, 1, gdal.GDT_Byte,
                                              ["PIXELTYPE=SIGNEDBYTE", "TILED=YES"])
    ds.SetGeoTransform(GT)
    b = ds.GetRasterBand(1)
    b.SetNoDataValue(-128)
    b.WriteArray(v.view(np.uint8))
    ds = None
    src = gdal.Open(p)
    a = src.GetRasterBand(1).ReadAsArray()
    if not T.check(case, a.dtype == np.int8 and a[0, 0] == -20, "oracle reads %s %r" % (
            a.dtype, a[0, :4])):
        return
    out = path("int8_x2.tif")
    r = calc(["-i", "A=" + p, "-e", "A * 2", "-e", "isnodata(A) ? 999 : A", "-o", out])
    if ok_run(case, r):
        got, ds = read(out)
        d = a.astype(np.float64)
        want1 = np.where(a == -128, F32_NODATA, d * 2).astype(np.float32)
        want2 = np.where(a == -128, 999, d).astype(np.float32)
        same(case, got[0], want1, "A * 2")
        same(case, got[1], want2, "isnodata(A) ? 999 : A")
    # a kernel is told Int8 (14); with no --ot its output type would be a guess
    if KERNELS:
        expect_failure(case, ["-i", "A=" + p, "--kernel", KERNELS + ":window_ids",
                              "-o", path("int8_k.tif")], 2, ["signed bytes", "--ot"],
                       path("int8_k.tif"))


RPC = {"LINE_OFF": "150", "SAMP_OFF": "250", "LAT_OFF": "45.1", "LONG_OFF": "10.2",
       "HEIGHT_OFF": "100", "LINE_SCALE": "150", "SAMP_SCALE": "250", "LAT_SCALE": "0.05",
       "LONG_SCALE": "0.07", "HEIGHT_SCALE": "500",
       "LINE_NUM_COEFF": " ".join(["0.001"] * 3 + ["-1"] + ["0"] * 16),
       "LINE_DEN_COEFF": " ".join(["1"] + ["0"] * 19),
       "SAMP_NUM_COEFF": " ".join(["0.002", "1"] + ["0"] * 18),
       "SAMP_DEN_COEFF": " ".join(["1"] + ["0"] * 19)}


def georef_raster(p, data, gcps=None, rpc=None, palette=False):
    """A Byte raster without a geotransform: GCP-only, RPC-only or neither;
    optionally with a colour table on band 1."""
    ds = gdal.GetDriverByName("GTiff").Create(p, W, H, 1, gdal.GDT_Byte, ["TILED=YES"])
    if gcps:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(4326)
        ds.SetGCPs(gcps, srs.ExportToWkt())
    if rpc:
        ds.SetMetadata(rpc, "RPC")
    b = ds.GetRasterBand(1)
    b.WriteArray(data)
    if palette:
        ct = gdal.ColorTable()
        for i in range(256):
            ct.SetColorEntry(i, (i, 255 - i, (7 * i) % 256, 255))
        b.SetRasterColorTable(ct)
    ds = None
    return p


def make_gcps(shift=0.0):
    return [gdal.GCP(10.0 + 0.01 * c + shift, 45.0 - 0.01 * r, 0, c, r)
            for r, c in ((0, 0), (0, W), (H, 0), (H, W), (150, 250))]


def case_keeps_gcps_rpcs_colors(case):
    """Issue 15 item 2 (calc): the first input's GCPs (and their CRS), RPCs
    and colour table are kept, as GDAL reads them from the input; inputs
    without a geotransform are combined only when they share their GCPs or
    RPCs (else they would combine different places): exit 2."""
    data = rng.integers(0, 256, (H, W)).astype(np.uint8)
    g = georef_raster(path("gcps.tif"), data, gcps=make_gcps(), palette=True)
    src = gdal.Open(g)
    for fmt in ("GTiff", "COG"):
        out = path("gcps_out_%s.tif" % fmt)
        r = calc(["-i", "A=" + g, "-e", "A", "--ot", "Byte", "--of", fmt, "-o", out])
        if not ok_run(case, r):
            continue
        got, ds = read(out)
        same(case, got, data, "values")
        want = [(p.GCPPixel, p.GCPLine, p.GCPX, p.GCPY, p.GCPZ) for p in src.GetGCPs()]
        have = [(p.GCPPixel, p.GCPLine, p.GCPX, p.GCPY, p.GCPZ) for p in ds.GetGCPs()]
        T.check(case, have == want, "%s: GCPs %s, expected %s" % (fmt, have[:2], want[:2]))
        a, b = osr.SpatialReference(), osr.SpatialReference()
        a.ImportFromWkt(src.GetGCPProjection())
        T.check(case, ds.GetGCPProjection() != "" and
                b.ImportFromWkt(ds.GetGCPProjection()) == 0 and a.IsSame(b),
                "%s: GCP CRS %r" % (fmt, ds.GetGCPProjection()[:60]))
        ct, want_ct = ds.GetRasterBand(1).GetColorTable(), src.GetRasterBand(1).GetColorTable()
        T.check(case, ct is not None and ct.GetCount() == want_ct.GetCount() and
                all(ct.GetColorEntry(i) == want_ct.GetColorEntry(i) for i in range(256)),
                "%s: colour table not kept" % fmt)
    # a Float32 band cannot hold a colour table: none, and no error
    out = path("gcps_f32.tif")
    r = calc(["-i", "A=" + g, "-e", "A / 2", "-o", out])
    if ok_run(case, r):
        ds = read(out)[1]
        T.check(case, ds.GetRasterBand(1).GetColorTable() is None and ds.GetGCPCount() == 5,
                "Float32: colour table or GCPs")
    rp_ = georef_raster(path("rpc.tif"), data, rpc=RPC)
    out = path("rpc_out.tif")
    r = calc(["-i", "A=" + rp_, "-i", "B=" + rp_, "-e", "A + B", "-o", out])
    if ok_run(case, r):
        ds = read(out)[1]
        got_rpc = ds.GetMetadata("RPC") or {}
        want_rpc = gdal.Open(rp_).GetMetadata("RPC")
        T.check(case, want_rpc and all(float(got_rpc.get(k, "nan").split()[0]) ==
                                       float(v.split()[0]) for k, v in want_rpc.items()),
                "RPCs not kept: %s" % sorted(got_rpc)[:5])
    # different GCPs, different RPCs, a geotransform with none: refused
    g2 = georef_raster(path("gcps2.tif"), data, gcps=make_gcps(shift=0.5))
    expect_failure(case, ["-i", "A=" + g, "-i", "B=" + g2, "-e", "A+B", "-o", path("x.tif")],
                   2, ["ground control points", "B=" + g2], path("x.tif"))
    rpc2 = dict(RPC, LAT_OFF="46.1")
    r2 = georef_raster(path("rpc2.tif"), data, rpc=rpc2)
    expect_failure(case, ["-i", "A=" + rp_, "-i", "B=" + r2, "-e", "A+B", "-o", path("x.tif")],
                   2, ["RPCs"], path("x.tif"))
    create_raster(path("gt_byte.tif"), data, "Byte", gt=GT, srs=SRS)
    expect_failure(case, ["-i", "A=" + g, "-i", "B=" + path("gt_byte.tif"), "-e", "A+B",
                          "-o", path("x.tif")], 2, ["has a geotransform"], path("x.tif"))
    # no georeferencing at all: combined by position, and said
    n1 = georef_raster(path("plain1.tif"), data)
    r = calc(["-i", "A=" + n1, "-i", "B=" + n1, "-e", "A+B", "-o", path("plain_sum.tif")])
    if ok_run(case, r):
        T.check(case, "combined by position" in r.err, "no note: %r" % r.err)


def case_example_kernel_named_right(case):
    """Issue 15 item 15: calc --help, the README and the demo name the
    example kernel the build makes (RP_REVERSE_KERNEL is the build's file),
    and the demo builds it; the named LIB:SYMBOL runs."""
    import re
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    built = os.path.basename(REVERSE or "reverse_bands.so")
    r = rp(["calc", "--help"])
    def examples(text):  # LIB.so:SYMBOL is the syntax, not an example
        return [m for m in re.findall(r"--kernel (\S+):(\w+)", text) if m[1] != "SYMBOL"]
    named = examples(r.text + r.err)
    T.check(case, named and all(os.path.basename(p) == built and s == "reverse_bands"
                                for p, s in named), "calc --help names %s; the build makes %s" %
            (named, built))
    with open(os.path.join(root, "README.md")) as f:
        readme = f.read()
    in_readme = examples(readme)
    T.check(case, in_readme and all(os.path.basename(p) == built for p, _ in in_readme),
            "README names %s" % in_readme)
    T.check(case, named and in_readme and named[0][0] == in_readme[0][0],
            "help %s and README %s differ" % (named[:1], in_readme[:1]))
    with open(os.path.join(root, "scripts", "demo.sh")) as f:
        demo = f.read()
    T.check(case, re.search(r"--target [^\n]*\breverse_bands\b", demo) and
            ("build-release/" + built) in demo, "demo.sh does not build and run %s" % built)
    if REVERSE and named:
        out = path("example_kernel.tif")
        r = calc(["-i", "A=" + path("rgb.tif"), "--kernel", REVERSE + ":" + named[0][1],
                  "--kernel-arg", "3", "-o", out])
        if ok_run(case, r):
            same(case, read(out)[0], rgb[::-1], "reversed bands")


def case_summary_plurals(case):
    """Issue 15 item 17: -v's summary says "1 window", "1 compute thread"."""
    create_raster(path("tiny.tif"), np.arange(12, dtype=np.float32).reshape(3, 4), "Float32",
                  gt=GT, srs=SRS)
    r = calc(["-i", "A=" + path("tiny.tif"), "-e", "A", "-o", path("tiny_out.tif"), "-j", "1",
              "-v"])
    if ok_run(case, r):
        T.check(case, "1 band of Float32, 1 window of" in r.err and
                "1 compute thread + 1 writer" in r.err, "summary: %r" % r.err)


def expect_failure(case, args, code, needles, out):
    """A run that must fail with `code`, say each needle, and leave the
    output folder exactly as it was."""
    folder = os.path.dirname(out) if os.path.isdir(os.path.dirname(out)) else TMP
    before = files_in(folder)
    r = calc(args)
    T.check(case, r.code == code, "exit %s, expected %s\n    %s" % (r.code, code, r.describe()))
    for n in needles:
        T.check(case, n in r.err, "stderr lacks %r: %r" % (n, r.err))
    T.check(case, files_in(folder) == before, "files changed: %s -> %s" % (before, files_in(folder)))
    return r


def case_bad_expressions(case):
    out = path("bad.tif")
    a = ["-i", "A=" + path("nir.tif"), "-o", out]
    r = expect_failure(case, a + ["-e", "(A - B) / 2"], 2,
                       ["expression 1", "unknown name 'B'", "at character 6"], out)
    T.check(case, "\n  (A - B) / 2\n       ^" in r.err, "no caret under B: %r" % r.err)
    expect_failure(case, a + ["-e", "A", "-e", "A +* 2"], 2,
                   ["expression 2", "at character 4"], out)
    expect_failure(case, a + ["-e", "(A + 1"], 2, ["expression 1", "arenthes"], out)
    expect_failure(case, a + ["-e", "A[2]"], 2, ["A[2]", "has 1 band"], out)
    expect_failure(case, a + ["-e", "A[0]"], 2, ["numbered from 1"], out)
    expect_failure(case, a + ["-e", "A", "--ot", "CInt16"], 2, ["--ot"], out)
    expect_failure(case, a + ["-e", "A", "--kernel", "x.so:f"], 2, ["not both"], out)
    expect_failure(case, ["-i", "A=" + path("nir.tif"), "-e", "A"], 2, ["-o"], out)
    expect_failure(case, ["-i", "sin=" + path("nir.tif"), "-e", "sin", "-o", out], 2,
                   ["pick another input name"], out)
    expect_failure(case, a + ["-e", "A", "--ot", "Byte", "--nodata", "-5"], 2,
                   ["cannot be stored as Byte"], out)


def case_bad_inputs(case):
    out = path("bad.tif")
    missing = path("no_such.tif")
    expect_failure(case, ["-i", "A=" + missing, "-e", "A", "-o", out], 3,
                   ["A=" + missing, "cannot open"], out)
    # grids: size, geotransform, CRS
    create_raster(path("small.tif"), nir[:-1], "Float32", gt=GT, srs=SRS)
    expect_failure(case, ["-i", "A=" + path("nir.tif"), "-i", "B=" + path("small.tif"),
                          "-e", "A+B", "-o", out], 2, ["517x300", "517x301", "share one grid"], out)
    shifted = (GT[0] + 5,) + GT[1:]
    create_raster(path("shifted.tif"), nir, "Float32", gt=shifted, srs=SRS)
    expect_failure(case, ["-i", "A=" + path("nir.tif"), "-i", "B=" + path("shifted.tif"),
                          "-e", "A+B", "-o", out], 2, ["geotransform", "500005"], out)
    create_raster(path("other_crs.tif"), nir, "Float32", gt=GT, srs="EPSG:32634")
    expect_failure(case, ["-i", "A=" + path("nir.tif"), "-i", "B=" + path("other_crs.tif"),
                          "-e", "A+B", "-o", out], 2, ["CRS", "EPSG:32634", "EPSG:32633"], out)


def case_bad_outputs(case):
    a = ["-i", "A=" + path("nir.tif"), "-e", "A"]
    r = calc(a + ["-o", "/nonexistent_rp_dir/out.tif"])
    T.check(case, r.code == 3 and "/nonexistent_rp_dir" in r.err, "missing folder: %s" % r.describe())
    blocker = path("a_file")
    with open(blocker, "w") as f:
        f.write("x")
    r = calc(a + ["-o", os.path.join(blocker, "out.tif")])
    T.check(case, r.code == 3 and "cannot write" in r.err, "folder is a file: %s" % r.describe())
    r = calc(a + ["-o", TMP])
    T.check(case, r.code == 3 and "not a regular file" in r.err, "output is a folder: %s" % r.describe())


def case_kernel_errors(case):
    out = path("kout.tif")
    if not KERNELS:
        return T.fail(case, "RP_TEST_KERNELS not set")
    a = ["-i", "A=" + path("rgb.tif"), "-o", out]
    expect_failure(case, a + ["--kernel", KERNELS + ":no_such_symbol"], 2,
                   ["no function 'no_such_symbol'"], out)
    expect_failure(case, a + ["--kernel", path("no_such.so") + ":f"], 3, ["cannot load"], out)
    # a failing kernel: the old output stays as it was
    with open(out, "wb") as f:
        f.write(b"previous output")
    expect_failure(case, a + ["--kernel", KERNELS + ":fail_at_window", "--kernel-arg", "290",
                              "-j", "2"], 1, ["test kernel refuses row 290", "no output"], out)
    with open(out, "rb") as f:
        T.check(case, f.read() == b"previous output", "the old output was touched")
    os.remove(out)


def case_interrupt(case):
    """Ctrl-C while a slow kernel runs: exit 130 and no file left behind."""
    if not REVERSE:
        return T.fail(case, "RP_REVERSE_KERNEL not set")
    big = path("big_rgb.tif")
    create_raster(big, np.zeros((3, 1024, 1024), np.uint8), "Byte", block=(256, 256))
    folder = tempfile.mkdtemp(prefix="int_", dir=TMP)
    out = os.path.join(folder, "out.tif")
    p = subprocess.Popen([binary(), "calc", "-i", "A=" + big, "--kernel",
                          REVERSE + ":reverse_bands", "--kernel-arg", "100000", "-o", out,
                          "-j", "2", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # wait until the job is running: its temporary output exists
    for _ in range(600):
        if os.listdir(folder) or p.poll() is not None:
            break
        time.sleep(0.05)
    T.check(case, p.poll() is None and os.listdir(folder), "the job did not start: %s" % (
        os.listdir(folder),))
    p.send_signal(signal.SIGINT)
    try:
        _, err = p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return T.fail(case, "did not stop within 120 s of Ctrl-C")
    T.check(case, p.returncode == 130, "exit %s, expected 130: %r" % (p.returncode, err))
    T.check(case, os.listdir(folder) == [], "left behind: %s" % os.listdir(folder))


T.run_case("ndvi_float32_nodata_georef", case_ndvi)
T.run_case("bands_and_default_type", case_default_type_and_bands)
T.run_case("nodata_keyword_cog", case_nodata_keyword_cog)
T.run_case("mode_follows_umask", case_mode_follows_umask)
T.run_case("isnodata_handles_nodata", case_isnodata)
T.run_case("default_nodata_no_collision", case_default_nodata_no_collision)
T.run_case("nodata_collision_warned", case_nodata_collision_warned)
T.run_case("signed_byte_is_int8", case_signed_byte)
T.run_case("keeps_gcps_rpcs_colors", case_keeps_gcps_rpcs_colors)
T.run_case("example_kernel_named_right", case_example_kernel_named_right)
T.run_case("summary_plurals", case_summary_plurals)
T.run_case("integer_casting", case_integer_casting)
T.run_case("division_by_zero", case_division_by_zero)
T.run_case("threads_identical_bytes", case_threads_identical)
T.run_case("striped_output", case_striped_output)
T.run_case("kernel_reverse_bands", case_kernel_reverse)
T.run_case("kernel_windows_geotransform", case_kernel_windows)
T.run_case("bad_expressions", case_bad_expressions)
T.run_case("bad_inputs", case_bad_inputs)
T.run_case("bad_outputs", case_bad_outputs)
T.run_case("kernel_errors", case_kernel_errors)
T.run_case("interrupt", case_interrupt)

def case_17_9_kernel_leaves_pixels(case):
    """Issue 17 item 9: a kernel that fills only the windows at x_off 0
    leaves the others to rasterpool's zero fill: 0 there (not stale memory)
    and the same file at -j 1 and -j 3."""
    if not KERNELS:
        return T.fail(case, "RP_TEST_KERNELS not set")
    outs = []
    for j in (1, 3):
        out = path("fill_left_%d.tif" % j)
        r = calc(["-i", "A=" + path("rgb.tif"), "--kernel", KERNELS + ":fill_left", "-o", out,
                  "-j", j, "--co", "BLOCKXSIZE=128", "--co", "BLOCKYSIZE=16"])
        if not ok_run(case, r):
            return
        outs.append(out)
        got, _ = read(out)
        # the windows at x_off 0 are 77, every other pixel 0; a window is whole
        # blocks, so column 0 is 77 and the last column (another window) 0
        T.check(case, (got[:, :, 0] == 77).all(), "-j %d: column 0 is not 77" % j)
        T.check(case, set(np.unique(got).tolist()) <= {0, 77}, "-j %d: values other than 0 and 77: %s"
                % (j, np.unique(got)[:10]))
        T.check(case, (got[:, :, -1] == 0).all(), "-j %d: an unfilled window is not 0" % j)
    with open(outs[0], "rb") as a, open(outs[1], "rb") as b:
        T.check(case, a.read() == b.read(), "-j 1 and -j 3 differ")


def case_17_9_kernel_exit(case):
    """Issue 17 item 9: a kernel that calls exit(0) does not end the job with
    exit 0: exit 1, a message naming the kernel and exit(), no output."""
    if not KERNELS:
        return T.fail(case, "RP_TEST_KERNELS not set")
    folder = tempfile.mkdtemp(prefix="exit_", dir=TMP)
    out = os.path.join(folder, "out.tif")
    for j in (1, 2):
        r = calc(["-i", "A=" + path("rgb.tif"), "--kernel", KERNELS + ":call_exit",
                  "--kernel-arg", "200", "-o", out, "-j", j])
        T.check(case, r.code == 1, "-j %d: exit %s, expected 1: %s" % (j, r.code, r.describe()))
        T.check(case, "call_exit called exit()" in r.err and "no output" in r.err,
                "-j %d: stderr: %r" % (j, r.err))
        T.check(case, not os.path.exists(out), "-j %d: an output exists" % j)


def case_17_12_real_cause(case):
    """Issue 17 item 12: 60 inputs read by one expression under ulimit -n 32:
    the failure says "Too many open files", not "not a raster GDAL can
    read"; a missing input says "No such file or directory"."""
    import resource
    folder = tempfile.mkdtemp(prefix="many_", dir=TMP)
    args, terms = [], []
    for i in range(60):
        name = os.path.join(folder, "m%02d.tif" % i)
        create_raster(name, np.full((16, 16), i, np.uint8), "Byte", gt=GT, srs=SRS)
        args += ["-i", "A%02d=%s" % (i, name)]
        terms.append("A%02d" % i)
    out = os.path.join(folder, "out.tif")

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))
    p = subprocess.run([binary(), "calc"] + args + ["-e", "+".join(terms), "-o", out, "-j", "1"],
                       capture_output=True, preexec_fn=limit)
    err = p.stderr.decode("utf-8", "replace")
    T.check(case, p.returncode == 3 and "Too many open files" in err
            and "not a raster GDAL can read" not in err,
            "ulimit -n 32: exit %s, %r" % (p.returncode, err[-400:]))
    r = calc(["-i", "A=" + os.path.join(folder, "missing.tif"), "-e", "A", "-o", out])
    T.check(case, r.code == 3 and "No such file or directory" in r.err, "missing: %s" % r.describe())


T.run_case("17.9 kernel leaves pixels: zero-filled", case_17_9_kernel_leaves_pixels)
T.run_case("17.9 kernel calls exit(0)", case_17_9_kernel_exit)
T.run_case("17.12 the real cause of an open failure", case_17_12_real_cause)
T.finish()
